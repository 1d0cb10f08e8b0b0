//! bpfl-obj, the pure side of bpfl: a BPF ELF object parsed into programs,
//! maps and relocations, with BTF, CO-RE and extern resolution against a
//! given BTF. Bytes in, structures out: no system call, no file, no C library
//! (the crate has no dependency, and forbids `unsafe`), so everything here
//! can be tested and fuzzed without a kernel.
//!
//! - [`ObjectSpec::parse`] reads an object: sections and symbols, [`btf`],
//!   [`maps`] of every kind, relocations (the steps are in `parse.rs`);
//! - [`ObjectSpec::assemble`] gives one program with the functions it calls;
//! - [`core_relo::relocate`] applies CO-RE relocations against a target BTF;
//! - [`externs`] lays out `.kconfig` and describes `__ksym` externs.

#![forbid(unsafe_code)]

mod assemble;
mod data_vars;
pub mod btf;
pub mod core_relo;
mod elf;
pub mod error;
pub mod externs;
#[doc(hidden)]
pub mod fuzz;
pub mod insn;
pub mod maps;
mod parse;
pub mod patch;
mod relocs;
pub mod section;
mod sections;
pub mod struct_ops;
pub mod types;
pub mod usdt;

use btf::{Btf, BtfExt};
pub use error::{Error, ErrorKind, Result};
pub use maps::{map_flags, MapOrigin, MapSpec};
pub use data_vars::GlobalVar;
pub use types::{attach_type, map_type, prog_type, AttachType, MapType, ProgramType};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiplicative hasher for the parser's small keys (section indices, short
/// names), far cheaper than SipHash; the keys come from the object, and a
/// crafted object can at worst slow its own parse.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let mut last = 0u64;
        for (i, &b) in chunks.remainder().iter().enumerate() {
            last |= (b as u64) << (8 * i);
        }
        self.write_u64(last ^ bytes.len() as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64);
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

pub use section::{AutoAttach, SectionDef};

/// `R_BPF_64_64`: a 64-bit immediate load (`ld_imm64`) of a map or global data address.
pub const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_32`: a call to a BPF function.
pub const R_BPF_64_32: u32 = 10;
/// `EM_BPF`.
pub const EM_BPF: u16 = 247;
/// The `version` value that means "fill in the running kernel's version".
pub const KVER_MAGIC: u32 = 0xFFFF_FFFE;

/// A program as the object describes it.
#[derive(Debug, Clone)]
pub struct ProgramSpec {
    /// The C function name.
    pub name: String,
    /// The ELF section it lives in (`kprobe/do_sys_open`).
    pub section: String,
    /// What the section name means, or None for a section bpfl does not know.
    pub def: Option<&'static SectionDef>,
    /// The section matched only by a pre-libbpf-1.0 prefix (`socket1`).
    pub legacy_section: bool,
    pub(crate) sec: usize,
    pub(crate) start: usize,
    pub(crate) len: usize,
}

impl ProgramSpec {
    /// `enum bpf_prog_type`, 0 when the section is unknown.
    pub fn prog_type(&self) -> ProgramType {
        self.def.map_or(ProgramType::UNSPEC, |d| d.prog_type)
    }
    /// Expected attach type passed at load.
    pub fn expected_attach_type(&self) -> AttachType {
        self.def.map_or(AttachType(0), |d| d.expected_attach_type)
    }
    /// Instructions in the program's own function (before its callees are appended).
    pub fn insn_count(&self) -> usize {
        self.len
    }
}

/// One relocation inside a code section, resolved to what it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelocTarget {
    /// The address of a map: `ld_imm64` of the map fd.
    Map(usize),
    /// An address inside a global-data map's value.
    MapValue(usize, u32),
    /// A call or function address in a code section: section index, instruction index.
    Code(usize, usize),
    /// `ld_imm64` of an extern ([`ObjectSpec::externs`] index) plus an addend.
    Extern(usize, i32),
    /// A call of a kfunc extern ([`ObjectSpec::externs`] index).
    Kfunc(usize),
}

/// An instruction of an assembled program that refers to a `__ksym` extern,
/// patched at load once the kernel has said what the symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KsymRef {
    /// Instruction index in the assembled program.
    pub insn: usize,
    /// Index in [`ObjectSpec::externs`].
    pub ext: usize,
    /// A kfunc call (else an `ld_imm64`).
    pub call: bool,
}

/// An executable section.
#[derive(Debug, Clone)]
pub(crate) struct CodeSection {
    name: String,
    insns: Vec<u8>,
    /// Functions: (start insn, len insns, name).
    funcs: Vec<(usize, usize, String)>,
    /// Relocations, sorted by instruction index (one per instruction).
    relocs: Vec<(usize, RelocTarget)>,
}

/// A map reference the loader must patch with a file descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapRef {
    /// `ld_imm64` at this instruction gets the map's fd.
    Fd(usize, usize),
    /// `ld_imm64` at this instruction gets the map's fd and value offset.
    Value(usize, usize, u32),
}

/// A program with the functions it calls appended (BPF-to-BPF calls
/// resolved), ready for the kernel but for map fds and ksyms.
#[derive(Debug, Clone)]
pub struct AssembledProgram {
    /// Raw instructions.
    pub insns: Vec<u8>,
    /// Map references to patch.
    pub map_refs: Vec<MapRef>,
    /// `__ksym` references to patch.
    pub ksym_refs: Vec<KsymRef>,
    /// `bpf_func_info` records (insn offset in instructions, type id).
    pub func_info: Vec<(u32, u32)>,
    /// `bpf_line_info` records (insn offset in instructions, file, line, col).
    pub line_info: Vec<[u32; 4]>,
    /// CO-RE relocations, by instruction of the assembled program (not
    /// applied: they need the target kernel's BTF, see [`core_relo::relocate`]).
    pub core_relos: Vec<core_relo::Relo>,
}

/// Open options for the pure parse.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Object name (defaults to the file name without `.o`).
    pub name: Option<String>,
}

/// A parsed BPF ELF object.
#[derive(Debug, Clone)]
pub struct ObjectSpec {
    /// Object name: prefix of data map names.
    pub name: String,
    /// `license` section, NUL-terminated, "" when absent.
    pub license: String,
    /// `version` section, when present.
    pub kern_version: Option<u32>,
    /// Programs, in section then offset order.
    pub programs: Vec<ProgramSpec>,
    /// Maps: legacy, BTF-defined, inner templates, then global data.
    pub maps: Vec<MapSpec>,
    /// `.BTF`, fixed up for the kernel.
    pub btf: Option<Btf>,
    /// `.BTF.ext`.
    pub btf_ext: Option<BtfExt>,
    /// Warnings found while parsing (unknown sections, ignored features).
    pub warnings: Vec<String>,
    /// Extern symbols (`__kconfig`, `__ksym`): `.kconfig` ones first.
    pub externs: Vec<externs::Extern>,
    /// Index in `maps` of the `.kconfig` map, when there are `__kconfig` externs.
    pub kconfig_map: Option<usize>,
    /// `.struct_ops` / `.struct_ops.link` variables (each with a map in `maps`).
    pub struct_ops: Vec<struct_ops::StructOpsSpec>,
    code: FastMap<usize, CodeSection>,
    /// Why `.BTF` was dropped, when it was: said again when something later
    /// needs it, instead of "missing".
    btf_dropped: Option<String>,
    /// Symbols of data sections: (section index, name, offset, size), in symbol table order.
    data_syms: Vec<(usize, String, u64, u64)>,
}

impl ObjectSpec {
    /// "'.BTF' is missing", or why it was dropped: for errors of what needs it.
    pub(crate) fn btf_missing(&self) -> String {
        match &self.btf_dropped {
            Some(why) => format!("'.BTF' is present but unusable: {why}"),
            None => "'.BTF' is missing".to_string(),
        }
    }

    /// Parse an object from its bytes.
    pub fn parse(data: &[u8], opts: &ParseOptions) -> Result<ObjectSpec> {
        let name = opts.name.clone().unwrap_or_else(|| "bpf".into());
        parse::parse(data, name)
    }

    /// Find a map by name.
    pub fn map_index(&self, name: &str) -> Option<usize> {
        self.maps.iter().position(|m| m.name == name)
    }

    /// Find a program by name.
    pub fn program_index(&self, name: &str) -> Option<usize> {
        self.programs.iter().position(|p| p.name == name)
    }

    /// Set a `const volatile` global in `.rodata*` (or any data section) before load.
    pub fn set_global(&mut self, var: &str, value: &[u8]) -> Result<()> {
        let hit = self.data_syms.iter().find(|(_, n, _, _)| n == var).map(|&(s, _, off, size)| (s, (off, size)));
        let (shndx, (off, size)) = hit.ok_or_else(|| Error::not_found(format!("global variable '{var}' not found in the object's data sections")))?;
        if size != value.len() as u64 {
            return Err(Error::invalid(format!("global variable '{var}' is {size} bytes, got {} bytes", value.len())));
        }
        let m = self
            .maps
            .iter_mut()
            .find(|m| matches!(m.origin, MapOrigin::Data(_)) && m.shndx == shndx)
            .ok_or_else(|| Error::not_found(format!("no data map holds '{var}'")))?;
        let buf = m.data.get_or_insert_with(|| vec![0; m.value_size as usize]);
        let off = off as usize;
        buf.get_mut(off..off + value.len())
            .ok_or_else(|| Error::malformed(format!("global variable '{var}' lies outside its section")))?
            .copy_from_slice(value);
        Ok(())
    }

    /// Program `idx` with every function it calls appended and its
    /// relocations resolved, still without file descriptors.
    pub fn assemble(&self, idx: usize) -> Result<AssembledProgram> {
        let p = self.programs.get(idx).ok_or_else(|| Error::invalid(format!("no program #{idx}")))?;
        assemble::assemble(self, p).map_err(|e| e.context(format!("program '{}' (section '{}')", p.name, p.section)))
    }

    /// Executable sections that hold no program bpfl knows how to load.
    pub fn code_section_names(&self) -> Vec<&str> {
        self.code.values().map(|c| c.name.as_str()).collect()
    }
}
