//! USDT probes (SystemTap `sys/sdt.h` format), the pure part: the
//! `.note.stapsdt` notes of an executable or shared library, their argument
//! specs (x86-64 AT&T operands such as `-4@%edi`, `8@-8(%rbp)`, `-4@$5`), and
//! the spec record the BPF side (`bpfl/usdt.bpf.h`) reads from its map.
//!
//! The note format (SystemTap's "UserSpaceProbeImplementation"): an ELF note
//! named `stapsdt`, type 3, whose descriptor is three addresses (probe pc,
//! the link-time address of `.stapsdt.base`, the semaphore or 0) and three
//! NUL-terminated strings (provider, name, arguments). When the file was
//! prelinked, `.stapsdt.base` has moved: the pc and semaphore move with it.

use crate::elf::Elf;
use crate::error::{Error, Result};

const SHT_NOTE: u32 = 7;
const NT_STAPSDT: u32 = 3;
/// At most this many arguments per probe (sys/sdt.h allows 12).
pub const MAX_ARGS: usize = 12;
/// Size of one spec record in the spec map (`struct __bpf_usdt_spec`).
pub const SPEC_SIZE: usize = 208;

/// One probe site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtNote {
    /// Provider, e.g. `myapp`.
    pub provider: String,
    /// Probe name, e.g. `request_start`.
    pub name: String,
    /// Virtual address of the probe's instruction (adjusted for prelink).
    pub pc: u64,
    /// File offset of that instruction: where the uprobe goes.
    pub pc_offset: u64,
    /// Virtual address of the semaphore (adjusted), 0 when there is none.
    pub semaphore: u64,
    /// File offset of the semaphore, for the kernel's uprobe reference counter.
    pub semaphore_offset: Option<u64>,
    /// The argument string, e.g. `-4@%edi 8@-8(%rbp)`.
    pub args: String,
}

/// How the BPF side gets one argument's value (`enum __bpf_usdt_arg_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum UsdtArgKind {
    /// The value is `val_off` itself.
    Const = 0,
    /// The value is in the register at `reg_off` of `struct pt_regs`.
    Reg = 1,
    /// The value is in user memory at register + `val_off`.
    RegDeref = 2,
}

/// One parsed argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsdtArg {
    pub kind: UsdtArgKind,
    /// Constant value, or memory offset from the register.
    pub val_off: u64,
    /// Offset of the register in x86-64 `struct pt_regs` (unused for constants).
    pub reg_off: i16,
    /// Sign-extend the value.
    pub signed: bool,
    /// Size in bytes (1, 2, 4 or 8).
    pub size: u8,
}

fn u32_le(d: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(o..o + 4)?.try_into().ok()?))
}
fn u64_le(d: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(o..o + 8)?.try_into().ok()?))
}
fn align4(v: usize) -> usize {
    (v + 3) & !3
}

/// The file offset of virtual address `addr`: through the allocated section
/// (with file contents) that holds it.
fn file_offset(elf: &Elf<'_>, addr: u64) -> Option<u64> {
    const SHF_ALLOC: u64 = 2;
    const SHT_NOBITS: u32 = 8;
    elf.shdrs
        .iter()
        .find(|s| s.sh_flags & SHF_ALLOC != 0 && s.sh_type != SHT_NOBITS && addr >= s.sh_addr && addr - s.sh_addr < s.sh_size)
        .map(|s| addr - s.sh_addr + s.sh_offset)
}

/// Every USDT probe site of an ELF64 little-endian executable or shared library.
/// A file without `.note.stapsdt` has none (an empty list, not an error).
pub fn usdt_notes(data: &[u8]) -> Result<Vec<UsdtNote>> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return Err(Error::malformed("not an ELF64 little-endian file"));
    }
    let elf = Elf::parse(data)?;
    let base_addr = elf.shdrs.iter().find(|s| elf.shname(s) == ".stapsdt.base").map(|s| s.sh_addr);
    let mut out = Vec::new();
    for (i, s) in elf.shdrs.iter().enumerate() {
        if s.sh_type != SHT_NOTE || elf.shname(s) != ".note.stapsdt" {
            continue;
        }
        let notes = elf.section_data(i)?;
        let mut off = 0;
        while off + 12 <= notes.len() {
            let bad = |what: &str| Error::malformed(format!(".note.stapsdt: note at {off:#x}: {what}"));
            let (namesz, descsz, ty) = (u32_le(notes, off).unwrap() as usize, u32_le(notes, off + 4).unwrap() as usize, u32_le(notes, off + 8).unwrap());
            let name_at = off + 12;
            let desc_at = name_at.checked_add(align4(namesz)).ok_or_else(|| bad("name size overflows"))?;
            let next = desc_at.checked_add(align4(descsz)).ok_or_else(|| bad("descriptor size overflows"))?;
            if next > notes.len() + 3 || desc_at + descsz > notes.len() {
                return Err(bad("runs past the end of the section"));
            }
            if ty == NT_STAPSDT && notes.get(name_at..name_at + namesz) == Some(b"stapsdt\0") {
                let desc = &notes[desc_at..desc_at + descsz];
                out.push(parse_desc(&elf, desc, base_addr).map_err(|e| e.context(format!(".note.stapsdt: note at {off:#x}")))?);
            }
            off = next;
        }
    }
    Ok(out)
}

fn parse_desc(elf: &Elf<'_>, desc: &[u8], base_addr: Option<u64>) -> Result<UsdtNote> {
    let (pc, base, sem) = match (u64_le(desc, 0), u64_le(desc, 8), u64_le(desc, 16)) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err(Error::malformed(format!("descriptor of {} bytes is too short for three addresses", desc.len()))),
    };
    let mut strs = desc[24..].split(|&b| b == 0).map(|s| String::from_utf8_lossy(s).into_owned());
    let (provider, name, args) = (strs.next().unwrap_or_default(), strs.next().unwrap_or_default(), strs.next().unwrap_or_default());
    if provider.is_empty() || name.is_empty() {
        return Err(Error::malformed("no provider or probe name"));
    }
    // Prelink moved the file: shift by how far .stapsdt.base moved.
    let delta = match base_addr {
        Some(real) if base != 0 => real.wrapping_sub(base),
        _ => 0,
    };
    let pc = pc.wrapping_add(delta);
    let semaphore = if sem != 0 { sem.wrapping_add(delta) } else { 0 };
    let what = format!("probe {provider}:{name}");
    let pc_offset = file_offset(elf, pc).ok_or_else(|| Error::malformed(format!("{what}: pc {pc:#x} is in no section of the file")))?;
    let semaphore_offset = match semaphore {
        0 => None,
        s => Some(file_offset(elf, s).ok_or_else(|| Error::malformed(format!("{what}: semaphore {s:#x} is in no section of the file")))?),
    };
    Ok(UsdtNote { provider, name, pc, pc_offset, semaphore, semaphore_offset, args })
}

/// Offset in x86-64 `struct pt_regs` of a register named as in AT&T syntax
/// (without `%`), and the widest size the name allows.
fn x86_reg(name: &str) -> Option<(i16, u8)> {
    const REGS: [(&str, &str, &str, &str, i16); 17] = [
        ("rax", "eax", "ax", "al", 80),
        ("rbx", "ebx", "bx", "bl", 40),
        ("rcx", "ecx", "cx", "cl", 88),
        ("rdx", "edx", "dx", "dl", 96),
        ("rsi", "esi", "si", "sil", 104),
        ("rdi", "edi", "di", "dil", 112),
        ("rbp", "ebp", "bp", "bpl", 32),
        ("rsp", "esp", "sp", "spl", 152),
        ("r8", "r8d", "r8w", "r8b", 72),
        ("r9", "r9d", "r9w", "r9b", 64),
        ("r10", "r10d", "r10w", "r10b", 56),
        ("r11", "r11d", "r11w", "r11b", 48),
        ("r12", "r12d", "r12w", "r12b", 24),
        ("r13", "r13d", "r13w", "r13b", 16),
        ("r14", "r14d", "r14w", "r14b", 8),
        ("r15", "r15d", "r15w", "r15b", 0),
        ("rip", "eip", "ip", "", 128),
    ];
    REGS.iter().find_map(|&(q, d, w, b, off)| {
        if name == q {
            Some((off, 8))
        } else if name == d {
            Some((off, 4))
        } else if name == w {
            Some((off, 2))
        } else if !b.is_empty() && name == b {
            Some((off, 1))
        } else {
            None
        }
    })
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok()? as i64,
        None => s.parse::<u64>().ok()? as i64,
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// One operand: `[-]SIZE@OPERAND` (the size is optional in old notes: 8).
fn parse_arg(spec: &str) -> Result<UsdtArg> {
    let bad = |why: &str| Error::unsupported(format!("USDT argument '{spec}': {why}"));
    let (size, signed, op) = match spec.split_once('@') {
        Some((sz, op)) => {
            let n = parse_int(sz).ok_or_else(|| bad("bad size"))?;
            (n.unsigned_abs(), n < 0, op)
        }
        None => (8, false, spec),
    };
    let size = match size {
        1 | 2 | 4 | 8 => size as u8,
        _ => return Err(bad("size is not 1, 2, 4 or 8")),
    };
    let reg = |r: &str| -> Result<i16> {
        let name = r.strip_prefix('%').ok_or_else(|| bad("register without '%'"))?;
        x86_reg(name).map(|(off, _)| off).ok_or_else(|| bad(&format!("register '%{name}' is not one bpfl knows (x86-64)")))
    };
    if let Some(c) = op.strip_prefix('$') {
        let v = parse_int(c).ok_or_else(|| bad("constant is not a number (symbolic constants are not supported)"))?;
        return Ok(UsdtArg { kind: UsdtArgKind::Const, val_off: v as u64, reg_off: 0, signed, size });
    }
    if op.starts_with('%') {
        return Ok(UsdtArg { kind: UsdtArgKind::Reg, val_off: 0, reg_off: reg(op)?, signed, size });
    }
    if let Some((disp, rest)) = op.split_once('(') {
        let inner = rest.strip_suffix(')').ok_or_else(|| bad("no closing ')'"))?;
        if inner.contains(',') {
            return Err(bad("base+index*scale addressing is not supported"));
        }
        let off = if disp.is_empty() { 0 } else { parse_int(disp).ok_or_else(|| bad("displacement is not a number (a symbol such as a global variable is not supported)"))? };
        let r = reg(inner)?;
        if r == 128 {
            return Err(bad("%rip-relative operands (global variables) are not supported"));
        }
        return Ok(UsdtArg { kind: UsdtArgKind::RegDeref, val_off: off as u64, reg_off: r, signed, size });
    }
    Err(bad("operand is not $CONST, %REG or OFF(%REG)"))
}

/// The arguments of one probe, from its note's argument string.
pub fn parse_usdt_args(args: &str) -> Result<Vec<UsdtArg>> {
    let v: Vec<UsdtArg> = args.split_whitespace().map(parse_arg).collect::<Result<_>>()?;
    if v.len() > MAX_ARGS {
        return Err(Error::unsupported(format!("USDT arguments '{args}': {} arguments, at most {MAX_ARGS}", v.len())));
    }
    Ok(v)
}

/// The spec record for the spec map, laid out as `struct __bpf_usdt_spec` of
/// `bpfl/usdt.bpf.h`: 12 × `{u64 val_off; u32 arg_type; s16 reg_off; u8
/// arg_signed; s8 arg_bitshift}`, then `u64 usdt_cookie`, `s16 arg_cnt`.
/// The BPF side shifts left by `arg_bitshift` then right (arithmetically when
/// signed) to keep only the argument's bytes.
pub fn spec_bytes(args: &[UsdtArg], cookie: u64) -> Vec<u8> {
    let mut b = vec![0u8; SPEC_SIZE];
    for (i, a) in args.iter().take(MAX_ARGS).enumerate() {
        let r = &mut b[i * 16..i * 16 + 16];
        r[0..8].copy_from_slice(&a.val_off.to_le_bytes());
        r[8..12].copy_from_slice(&(a.kind as u32).to_le_bytes());
        r[12..14].copy_from_slice(&a.reg_off.to_le_bytes());
        r[14] = a.signed as u8;
        r[15] = 64 - a.size * 8;
    }
    b[192..200].copy_from_slice(&cookie.to_le_bytes());
    b[200..202].copy_from_slice(&(args.len().min(MAX_ARGS) as i16).to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_forms() {
        let a = parse_usdt_args("-4@%edi 8@-8(%rbp) -4@$5 8@%rax 2@16(%rsp) 1@$-3 8@(%r12) -8@0x10(%r15)").unwrap();
        assert_eq!(a[0], UsdtArg { kind: UsdtArgKind::Reg, val_off: 0, reg_off: 112, signed: true, size: 4 });
        assert_eq!(a[1], UsdtArg { kind: UsdtArgKind::RegDeref, val_off: (-8i64) as u64, reg_off: 32, signed: false, size: 8 });
        assert_eq!(a[2], UsdtArg { kind: UsdtArgKind::Const, val_off: 5, reg_off: 0, signed: true, size: 4 });
        assert_eq!(a[3].reg_off, 80);
        assert_eq!((a[4].kind, a[4].val_off, a[4].reg_off, a[4].size), (UsdtArgKind::RegDeref, 16, 152, 2));
        assert_eq!(a[5].val_off, (-3i64) as u64);
        assert_eq!((a[6].val_off, a[6].reg_off), (0, 24));
        assert_eq!((a[7].val_off, a[7].reg_off, a[7].signed), (16, 0, true));
        assert_eq!(parse_usdt_args("").unwrap(), vec![]);
        assert_eq!(parse_usdt_args("%rsi").unwrap()[0].size, 8);
        for bad in ["4@%xmm0", "3@%eax", "4@glob(%rip)", "4@8(%rax,%rbx,4)", "4@$sym", "4@-8(%rbp", "x@%eax"] {
            let e = parse_usdt_args(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
        assert!(parse_usdt_args(&"8@%rax ".repeat(13)).is_err());
    }

    #[test]
    fn spec_layout() {
        let a = parse_usdt_args("-4@%edi 8@$7").unwrap();
        let b = spec_bytes(&a, 0xabcd);
        assert_eq!(b.len(), SPEC_SIZE);
        assert_eq!(&b[8..12], &1u32.to_le_bytes());
        assert_eq!(i16::from_le_bytes([b[12], b[13]]), 112);
        assert_eq!((b[14], b[15]), (1, 32));
        assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), 7);
        assert_eq!((b[30], b[31]), (0, 0));
        assert_eq!(u64::from_le_bytes(b[192..200].try_into().unwrap()), 0xabcd);
        assert_eq!(i16::from_le_bytes([b[200], b[201]]), 2);
    }

    /// A hand-made ELF: a `.text` at 0x1000 (file 0x200), a `.probes` at
    /// 0x4000 (file 0x300), `.stapsdt.base` at 0x2000 recorded as 0x1f00 in
    /// the note (a prelink that moved the file by 0x100).
    fn elf_with_note() -> Vec<u8> {
        let mut desc = Vec::new();
        for v in [0x1010u64 - 0x100, 0x1f00, 0x4008 - 0x100] {
            desc.extend_from_slice(&v.to_le_bytes());
        }
        desc.extend_from_slice(b"prov\0site\0-4@%edi 8@$1\0");
        let mut note = Vec::new();
        note.extend_from_slice(&8u32.to_le_bytes());
        note.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        note.extend_from_slice(&3u32.to_le_bytes());
        note.extend_from_slice(b"stapsdt\0");
        note.extend_from_slice(&desc);
        while note.len() % 4 != 0 {
            note.push(0);
        }
        let shstr = b"\0.text\0.probes\0.stapsdt.base\0.note.stapsdt\0.shstrtab\0";
        let mut f = vec![0u8; 0x400];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        let note_off = 0x380usize;
        f.resize(note_off + note.len(), 0);
        f[note_off..].copy_from_slice(&note);
        let str_off = f.len();
        f.extend_from_slice(shstr);
        let shoff = (f.len() + 7) & !7;
        f.resize(shoff, 0);
        // (name, type, flags, addr, offset, size)
        let secs: [(u32, u32, u64, u64, u64, u64); 6] = [
            (0, 0, 0, 0, 0, 0),
            (1, 1, 6, 0x1000, 0x200, 0x100),
            (7, 1, 3, 0x4000, 0x300, 0x10),
            (15, 1, 2, 0x2000, 0x310, 1),
            (29, 7, 0, 0, note_off as u64, note.len() as u64),
            (43, 3, 0, 0, str_off as u64, shstr.len() as u64),
        ];
        for (n, t, fl, a, o, s) in secs {
            let mut h = [0u8; 64];
            h[0..4].copy_from_slice(&n.to_le_bytes());
            h[4..8].copy_from_slice(&t.to_le_bytes());
            h[8..16].copy_from_slice(&fl.to_le_bytes());
            h[16..24].copy_from_slice(&a.to_le_bytes());
            h[24..32].copy_from_slice(&o.to_le_bytes());
            h[32..40].copy_from_slice(&s.to_le_bytes());
            f.extend_from_slice(&h);
        }
        f[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
        f[58..60].copy_from_slice(&64u16.to_le_bytes());
        f[60..62].copy_from_slice(&6u16.to_le_bytes());
        f[62..64].copy_from_slice(&5u16.to_le_bytes());
        f
    }

    #[test]
    fn notes_with_prelink_adjustment() {
        let f = elf_with_note();
        let n = usdt_notes(&f).unwrap();
        assert_eq!(n.len(), 1);
        let n = &n[0];
        assert_eq!((n.provider.as_str(), n.name.as_str(), n.args.as_str()), ("prov", "site", "-4@%edi 8@$1"));
        assert_eq!((n.pc, n.pc_offset), (0x1010, 0x210));
        assert_eq!((n.semaphore, n.semaphore_offset), (0x4008, Some(0x308)));
        // Truncated input: an error, never a panic.
        for cut in [70, 0x390, f.len() - 10] {
            let _ = usdt_notes(&f[..cut]);
        }
        assert!(usdt_notes(b"not elf").is_err());
    }
}
