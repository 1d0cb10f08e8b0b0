//! Raw BPF instructions: 8 bytes each, `ld_imm64` takes two.

/// Size of one instruction.
pub const INSN_SIZE: usize = 8;
/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 64-bit immediate load.
pub const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
pub const CALL: u8 = 0x85;
/// `src_reg` of a `call` to a BPF function (bpf-to-bpf call).
pub const PSEUDO_CALL: u8 = 1;
/// `src_reg` of a `call` to a kernel function (kfunc).
pub const PSEUDO_KFUNC_CALL: u8 = 2;
/// `src_reg` of `ld_imm64`: imm is a map fd.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `src_reg` of `ld_imm64`: imm is a map fd, next imm an offset into its value.
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `src_reg` of `ld_imm64`: imm is a kernel BTF id of a variable or function, next imm its BTF object fd (0: vmlinux).
pub const PSEUDO_BTF_ID: u8 = 3;
/// `src_reg` of `ld_imm64`: imm is a BPF function (callback address).
pub const PSEUDO_FUNC: u8 = 4;

/// `BPF_LD`: instruction classes are the low 3 bits of the opcode.
pub const CLASS_LD: u8 = 0;
/// `BPF_LDX`: load from memory into a register.
pub const CLASS_LDX: u8 = 1;
/// `BPF_ST`: store an immediate.
pub const CLASS_ST: u8 = 2;
/// `BPF_STX`: store a register.
pub const CLASS_STX: u8 = 3;
/// `BPF_ALU`: 32-bit arithmetic.
pub const CLASS_ALU: u8 = 4;
/// `BPF_ALU64`: 64-bit arithmetic.
pub const CLASS_ALU64: u8 = 7;

/// Opcode of instruction `i`.
pub fn code(insns: &[u8], i: usize) -> u8 {
    insns[i * INSN_SIZE]
}
/// Set the opcode of instruction `i`.
pub fn set_code(insns: &mut [u8], i: usize, code: u8) {
    insns[i * INSN_SIZE] = code;
}
/// Class of an opcode.
pub fn class(code: u8) -> u8 {
    code & 7
}
/// Source register of instruction `i`.
pub fn src_reg(insns: &[u8], i: usize) -> u8 {
    insns[i * INSN_SIZE + 1] >> 4
}
/// Set the source register of instruction `i`.
pub fn set_src_reg(insns: &mut [u8], i: usize, src: u8) {
    let b = &mut insns[i * INSN_SIZE + 1];
    *b = (*b & 0x0f) | (src << 4);
}
/// Immediate of instruction `i`.
pub fn imm(insns: &[u8], i: usize) -> i32 {
    let o = i * INSN_SIZE + 4;
    i32::from_le_bytes([insns[o], insns[o + 1], insns[o + 2], insns[o + 3]])
}
/// Set the immediate of instruction `i`.
pub fn set_imm(insns: &mut [u8], i: usize, v: i32) {
    let o = i * INSN_SIZE + 4;
    insns[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
/// Offset field of instruction `i`.
pub fn off(insns: &[u8], i: usize) -> i16 {
    let o = i * INSN_SIZE + 2;
    i16::from_le_bytes([insns[o], insns[o + 1]])
}
/// Set the offset field of instruction `i`.
pub fn set_off(insns: &mut [u8], i: usize, v: i16) {
    let o = i * INSN_SIZE + 2;
    insns[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
