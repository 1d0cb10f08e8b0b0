//! The pure side of bpfl: a BPF ELF object parsed into programs, maps and
//! relocations, with no system call. Everything here is bytes in, structures
//! out, and can be tested (and fuzzed) without a kernel.

pub mod core;
mod elf;
pub mod externs;
pub mod insn;
pub mod section;

use crate::btf::{Btf, BtfExt, BtfMapDef};
use crate::error::{Error, Result};
use elf::{Elf, Shdr};
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

/// `enum bpf_map_type` values bpfl names.
#[allow(missing_docs)]
pub mod map_type {
    pub const HASH: u32 = 1;
    pub const ARRAY: u32 = 2;
    pub const PROG_ARRAY: u32 = 3;
    pub const PERF_EVENT_ARRAY: u32 = 4;
    pub const PERCPU_HASH: u32 = 5;
    pub const PERCPU_ARRAY: u32 = 6;
    pub const LRU_HASH: u32 = 9;
    pub const LRU_PERCPU_HASH: u32 = 10;
    pub const ARRAY_OF_MAPS: u32 = 12;
    pub const HASH_OF_MAPS: u32 = 13;
    pub const PERCPU_CGROUP_STORAGE: u32 = 21;
    pub const RINGBUF: u32 = 27;
}

/// Map flags bpfl sets itself.
#[allow(missing_docs)]
pub mod map_flags {
    pub const NUMA_NODE: u32 = 1 << 2;
    pub const RDONLY_PROG: u32 = 1 << 7;
    pub const MMAPABLE: u32 = 1 << 10;
}

/// Where a map definition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapOrigin {
    /// `SEC("maps") struct bpf_map_def` (the seed's format; libbpf 1.x dropped it).
    Legacy,
    /// A BTF-defined map in `SEC(".maps")`.
    Btf,
    /// Global data: the ELF section it holds (`.data`, `.rodata`, `.bss`, ...).
    Data(String),
    /// The inner-map template of a map-in-map definition.
    Inner,
}

/// A map as the object describes it.
#[derive(Debug, Clone)]
pub struct MapSpec {
    /// The name users look it up by (the C variable name, or the data section name).
    pub name: String,
    /// The name given to the kernel (15 characters at most).
    pub kernel_name: String,
    /// Where it came from.
    pub origin: MapOrigin,
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// NUMA node (with `BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// `map_extra` (bloom filter hashes, arena address).
    pub map_extra: u64,
    /// 1 = `LIBBPF_PIN_BY_NAME`.
    pub pinning: u32,
    /// Index in [`ObjectFile::maps`] of the inner-map template (map-in-map).
    pub inner: Option<usize>,
    /// BTF type ids of key and value, where the object's BTF describes them.
    pub btf_key_type_id: u32,
    /// See `btf_key_type_id`.
    pub btf_value_type_id: u32,
    /// Initial contents (global data), written after creation.
    pub data: Option<Vec<u8>>,
    /// Section index and offset the relocations refer to.
    pub(crate) shndx: usize,
    pub(crate) sym_offset: u64,
}

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
    pub fn prog_type(&self) -> u32 {
        self.def.map_or(0, |d| d.prog_type)
    }
    /// Expected attach type passed at load.
    pub fn expected_attach_type(&self) -> u32 {
        self.def.map_or(0, |d| d.expected_attach_type)
    }
    /// Instructions in the program's own function (before subprograms are linked in).
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
    /// `ld_imm64` of an extern ([`ObjectFile::externs`] index) plus an addend.
    Extern(usize, i32),
    /// A call of a kfunc extern ([`ObjectFile::externs`] index).
    Kfunc(usize),
}

/// An instruction of a linked program that refers to a `__ksym` extern,
/// patched at load once the kernel has said what the symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KsymRef {
    /// Instruction index in the linked program.
    pub insn: usize,
    /// Index in [`ObjectFile::externs`].
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

/// A program with its subprograms linked in, ready for the kernel but for map fds.
#[derive(Debug, Clone)]
pub struct LinkedProgram {
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
    /// CO-RE relocations, by instruction of the linked program (not applied:
    /// they need the target kernel's BTF, see [`core::relocate`]).
    pub core_relos: Vec<core::Relo>,
}

/// Open options for the pure parse.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Object name (defaults to the file name without `.o`).
    pub name: Option<String>,
}

/// A parsed BPF ELF object.
#[derive(Debug, Clone)]
pub struct ObjectFile {
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
    code: FastMap<usize, CodeSection>,
    /// Symbols of data sections: (section index, name, offset, size), in symbol table order.
    data_syms: Vec<(usize, String, u64, u64)>,
}

fn is_data_section(name: &str) -> bool {
    let pfx = |p: &str| name == p || name.strip_prefix(p).is_some_and(|r| r.starts_with('.'));
    pfx(".data") || pfx(".rodata") || pfx(".bss")
}

fn section_bytes<'a>(data: &'a [u8], s: &Shdr, what: &str) -> Result<&'a [u8]> {
    if s.sh_type == elf::SHT_NOBITS {
        return Ok(&[]);
    }
    let start = usize::try_from(s.sh_offset).map_err(|_| Error::parse(format!("section '{what}': offset out of range")))?;
    let len = usize::try_from(s.sh_size).map_err(|_| Error::parse(format!("section '{what}': size out of range")))?;
    start
        .checked_add(len)
        .and_then(|end| data.get(start..end))
        .ok_or_else(|| Error::parse(format!("section '{what}': offset {start:#x} + size {len:#x} is past the end of the file ({:#x} bytes)", data.len())))
}

fn read_u32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl ObjectFile {
    /// Parse an object from its bytes.
    pub fn parse(data: &[u8], opts: &ParseOptions) -> Result<ObjectFile> {
        let name = opts.name.clone().unwrap_or_else(|| "bpf".into());
        parse(data, name).map_err(|e| e.context(format!("object '{}'", opts.name.as_deref().unwrap_or("<memory>"))))
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
            return Err(Error::inval(format!("global variable '{var}' is {size} bytes, got {} bytes", value.len())));
        }
        let m = self
            .maps
            .iter_mut()
            .find(|m| matches!(m.origin, MapOrigin::Data(_)) && m.shndx == shndx)
            .ok_or_else(|| Error::not_found(format!("no data map holds '{var}'")))?;
        let buf = m.data.get_or_insert_with(|| vec![0; m.value_size as usize]);
        let off = off as usize;
        buf.get_mut(off..off + value.len())
            .ok_or_else(|| Error::parse(format!("global variable '{var}' lies outside its section")))?
            .copy_from_slice(value);
        Ok(())
    }

    /// Link program `idx` with every subprogram it calls and resolve its
    /// relocations, still without file descriptors.
    pub fn link(&self, idx: usize) -> Result<LinkedProgram> {
        let p = self.programs.get(idx).ok_or_else(|| Error::inval(format!("no program #{idx}")))?;
        link(self, p).map_err(|e| e.context(format!("program '{}' (section '{}')", p.name, p.section)))
    }

    /// Executable sections that hold no program bpfl knows how to load.
    pub fn code_section_names(&self) -> Vec<&str> {
        self.code.values().map(|c| c.name.as_str()).collect()
    }
}

fn parse(data: &[u8], obj_name: String) -> Result<ObjectFile> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err(Error::new(crate::error::ErrorKind::Parse, libc::ENOEXEC, "not an ELF file"));
    }
    if data[4] != 2 {
        return Err(Error::parse("not a 64-bit ELF file (BPF objects are ELF64)"));
    }
    if data[5] != 1 {
        return Err(Error::new(crate::error::ErrorKind::Unsupported, libc::ENOEXEC, "big-endian BPF object (bpfeb): this host runs little-endian BPF"));
    }
    let elf = Elf::parse(data).map_err(|e| Error::parse(format!("malformed ELF: {e}")))?;
    if elf.e_machine != EM_BPF {
        return Err(Error::new(
            crate::error::ErrorKind::Parse,
            libc::ENOEXEC,
            format!("ELF machine is {} ({}), not BPF (247)", elf.e_machine, goblin::elf::header::machine_to_str(elf.e_machine)),
        ));
    }
    if elf.e_type != elf::ET_REL {
        return Err(Error::parse(format!("ELF type {} is not a relocatable object (ET_REL)", elf.e_type)));
    }
    let shname = |s: &Shdr| elf.shname(s);
    let sec_name_at = |i: usize| elf.sec_name(i);

    let mut obj = ObjectFile {
        name: obj_name,
        license: String::new(),
        kern_version: None,
        programs: Vec::new(),
        maps: Vec::new(),
        btf: None,
        btf_ext: None,
        warnings: Vec::new(),
        externs: Vec::new(),
        kconfig_map: None,
        code: FastMap::default(),
        data_syms: Vec::new(),
    };

    let mut legacy_maps_idx = None;
    let mut btf_maps_idx = None;
    let mut btf_bytes = None;
    let mut btf_ext_bytes = None;
    let mut data_secs = Vec::new();
    // Section names, looked up once; UTF-8 is checked only where a name is kept.
    let shnames: Vec<&[u8]> = elf.shdrs.iter().map(|s| elf.shname_bytes(s)).collect();
    for (i, s) in elf.shdrs.iter().enumerate() {
        let name = shnames[i];
        match name {
            b"license" => obj.license = crate::sys::cstr_lossy(section_bytes(data, s, "license")?),
            b"version" => {
                let b = section_bytes(data, s, "version")?;
                if b.len() != 4 {
                    return Err(Error::parse(format!("section 'version' is {} bytes, expected 4", b.len())));
                }
                obj.kern_version = Some(read_u32(b, 0));
            }
            b"maps" => legacy_maps_idx = Some(i),
            b".maps" => btf_maps_idx = Some(i),
            b".BTF" => btf_bytes = Some(section_bytes(data, s, ".BTF")?),
            b".BTF.ext" => btf_ext_bytes = Some(section_bytes(data, s, ".BTF.ext")?),
            _ if s.sh_type == elf::SHT_PROGBITS && s.sh_flags & elf::SHF_EXECINSTR != 0 => {
                let name = shname(s);
                let insns = section_bytes(data, s, name)?;
                if insns.len() % insn::INSN_SIZE != 0 {
                    return Err(Error::parse(format!("code section '{name}' is {} bytes, not a whole number of instructions", insns.len())));
                }
                obj.code.insert(i, CodeSection { name: name.to_string(), insns: insns.to_vec(), funcs: Vec::new(), relocs: Vec::new() });
            }
            _ if (s.sh_type == elf::SHT_PROGBITS || s.sh_type == elf::SHT_NOBITS) && is_data_section(shname(s)) => {
                if s.sh_size > 0 {
                    data_secs.push(i);
                }
            }
            _ => {}
        }
    }

    // Symbols: functions per code section, maps, data variables.
    let mut legacy_syms: Vec<(u64, String)> = Vec::new();
    let mut btf_map_syms: FastMap<&str, u64> = FastMap::default();
    // Symbols outside code sections by (section, name), for the DATASEC fix-ups; the first wins.
    let mut var_syms: FastMap<(usize, &[u8]), u32> = FastMap::with_capacity_and_hasher(elf.nsyms(), Default::default());
    // Undefined global or weak symbols: externs, (name, weak).
    let mut undefined: Vec<(String, bool)> = Vec::new();
    for s in elf.syms() {
        let shndx = s.st_shndx;
        let name_bytes = elf.sym_name_bytes(&s);
        if name_bytes.is_empty() {
            continue;
        }
        // Names are checked for UTF-8 only where they are kept.
        let name = || elf.sym_name(&s);
        let ty = s.st_type();
        if shndx == 0 {
            let bind = s.st_info >> 4;
            if (bind == elf::STB_GLOBAL || bind == elf::STB_WEAK) && !undefined.iter().any(|u| u.0.as_bytes() == name_bytes) {
                undefined.push((name().to_string(), bind == elf::STB_WEAK));
            }
            continue;
        }
        if let Some(code) = obj.code.get_mut(&shndx) {
            if ty != elf::STT_FUNC {
                continue;
            }
            let name = name();
            if !name.is_empty() {
                if s.st_value % 8 != 0 {
                    return Err(Error::parse(format!("function '{name}' in '{}' is not instruction-aligned", code.name)));
                }
                code.funcs.push(((s.st_value / 8) as usize, (s.st_size / 8) as usize, name.to_string()));
            }
            continue;
        }
        var_syms.entry((shndx, name_bytes)).or_insert(s.st_value as u32);
        if Some(shndx) == legacy_maps_idx {
            let name = name();
            if (ty == elf::STT_OBJECT || ty == elf::STT_NOTYPE) && !name.is_empty() {
                legacy_syms.push((s.st_value, name.to_string()));
            }
        } else if Some(shndx) == btf_maps_idx {
            let name = name();
            if ty == elf::STT_OBJECT && !name.is_empty() {
                btf_map_syms.insert(name, s.st_value);
            }
        } else if ty == elf::STT_OBJECT && data_secs.contains(&shndx) && !name().is_empty() {
            let name = name();
            // Keys were unique (section, name): keep the last, as the map did.
            match obj.data_syms.iter_mut().find(|d| d.0 == shndx && d.1 == name) {
                Some(d) => (d.2, d.3) = (s.st_value, s.st_size),
                None => obj.data_syms.push((shndx, name.to_string(), s.st_value, s.st_size)),
            }
        }
    }

    // Function extents and programs.
    let mut code_idx: Vec<usize> = obj.code.keys().copied().collect();
    code_idx.sort_unstable();
    for &i in &code_idx {
        let code = obj.code.get_mut(&i).expect("present");
        let total = code.insns.len() / 8;
        code.funcs.sort_by_key(|f| f.0);
        code.funcs.dedup_by_key(|f| f.0);
        for k in 0..code.funcs.len() {
            let next = code.funcs.get(k + 1).map_or(total, |f| f.0);
            let f = &mut code.funcs[k];
            if f.0 >= total {
                return Err(Error::parse(format!("function '{}' starts past the end of section '{}'", f.2, code.name)));
            }
            if f.1 == 0 || f.0 + f.1 > next {
                f.1 = next - f.0;
            }
        }
        if code.funcs.is_empty() && total > 0 {
            // Old compilers emitted no function symbols: the section is one program.
            let n: String = code.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            code.funcs.push((0, total, n));
        }
        if code.name == ".text" {
            continue;
        }
        let found = section::lookup(&code.name);
        if found.is_none() {
            obj.warnings.push(format!("section '{}' is not a program type bpfl knows; its programs cannot be loaded", code.name));
        }
        // The programs own the names from here on (only .text's are kept).
        for (start, len, fname) in code.funcs.iter_mut() {
            obj.programs.push(ProgramSpec {
                name: std::mem::take(fname),
                section: code.name.clone(),
                def: found.map(|f| f.0),
                legacy_section: found.is_some_and(|f| f.1),
                sec: i,
                start: *start,
                len: *len,
            });
        }
    }

    // BTF.
    if let Some(b) = btf_bytes {
        match Btf::parse(b) {
            Ok(mut btf) => {
                let mut kconfig_size = 0;
                if !undefined.is_empty() {
                    let (ex, size) = externs::collect(&btf, &undefined)?;
                    obj.externs = ex;
                    kconfig_size = size;
                }
                // `.kconfig` has no ELF section: its size and offsets are bpfl's layout.
                const KCONFIG: usize = usize::MAX;
                let exts = &obj.externs;
                let section = |n: &[u8]| match n {
                    b".kconfig" if kconfig_size > 0 => Some((kconfig_size, KCONFIG)),
                    _ => shnames.iter().position(|s| *s == n).map(|i| (elf.shdrs[i].sh_size as u32, i)),
                };
                let sym_off = |i: usize, _: &[u8], var: &[u8]| {
                    if i == KCONFIG {
                        exts.iter().find(|e| e.name.as_bytes() == var).and_then(|e| e.kconfig()).map(|k| k.offset)
                    } else {
                        var_syms.get(&(i, var)).copied()
                    }
                };
                match btf.fixup_datasecs_with(section, sym_off) {
                    Ok(()) => {
                        btf.sanitize_for_kernel();
                        if let Some(e) = btf_ext_bytes {
                            match BtfExt::parse(e, &btf) {
                                Ok(x) => obj.btf_ext = Some(x),
                                Err(e) => obj.warnings.push(format!(".BTF.ext ignored: {e}")),
                            }
                        }
                        obj.btf = Some(btf);
                    }
                    Err(e) => obj.warnings.push(format!(".BTF ignored: {e}")),
                }
            }
            Err(e) => {
                if btf_maps_idx.is_some() {
                    return Err(Error::parse(format!("section '.BTF' is malformed and '.maps' needs it: {e}")));
                }
                obj.warnings.push(format!(".BTF ignored: {e}"));
            }
        }
    }

    // Legacy maps.
    if let Some(mi) = legacy_maps_idx {
        let s = &elf.shdrs[mi];
        let bytes = section_bytes(data, s, "maps")?;
        legacy_syms.sort();
        if legacy_syms.is_empty() {
            if !bytes.is_empty() {
                return Err(Error::parse("section 'maps' has data but no map symbols"));
            }
        } else {
            let n = legacy_syms.len();
            if bytes.len() % n != 0 {
                return Err(Error::parse(format!("section 'maps' is {} bytes, not a multiple of its {n} map definitions", bytes.len())));
            }
            let def_size = bytes.len() / n;
            if def_size < 16 || def_size % 4 != 0 {
                return Err(Error::parse(format!("section 'maps': definitions of {def_size} bytes are too small or misaligned (need 16+ and a multiple of 4)")));
            }
            for (off, name) in &legacy_syms {
                let off = *off as usize;
                if off % def_size != 0 || off + def_size > bytes.len() {
                    return Err(Error::parse(format!("map '{name}': offset {off} in section 'maps' is not a definition boundary ({def_size}-byte definitions)")));
                }
                let d = &bytes[off..off + def_size];
                const KNOWN: usize = 28; // type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node
                if let Some(p) = d.iter().skip(KNOWN).position(|&b| b != 0) {
                    return Err(Error::parse(format!(
                        "map '{name}': its {def_size}-byte definition has non-zero data at byte {} past the 7 fields bpfl knows (type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node)",
                        KNOWN + p
                    )));
                }
                let f = |k: usize| read_u32(d, k * 4);
                let inner_idx = f(5);
                let (mt, ks, vs, me, fl, numa) = (f(0), f(1), f(2), f(3), f(4), f(6));
                let mut spec = new_map(name.clone(), name.clone(), MapOrigin::Legacy, mt, ks, vs, me, fl);
                spec.numa_node = numa;
                spec.shndx = mi;
                spec.sym_offset = off as u64;
                if mt == map_type::ARRAY_OF_MAPS || mt == map_type::HASH_OF_MAPS {
                    spec.inner = Some(inner_idx as usize); // index among legacy maps; checked below
                }
                obj.maps.push(spec);
            }
            let nlegacy = obj.maps.len();
            for m in &obj.maps {
                if let Some(i) = m.inner {
                    if i >= nlegacy {
                        return Err(Error::parse(format!("map '{}': inner_map_idx {i} names no map (there are {nlegacy})", m.name)));
                    }
                }
            }
        }
    }

    // BTF-defined maps.
    if let Some(mi) = btf_maps_idx {
        let btf = obj.btf.as_ref().ok_or_else(|| Error::parse("section '.maps' needs '.BTF', which is missing"))?;
        let defs = btf.map_defs().map_err(|e| Error::parse(format!("'.maps': {e}")))?;
        for d in defs {
            let off = *btf_map_syms.get(d.name.as_str()).ok_or_else(|| Error::parse(format!("map '{}' in '.maps' has no ELF symbol", d.name)))?;
            let inner = match &d.inner {
                Some(inner) => {
                    let mut def = (**inner).clone();
                    def.name = format!("{}.inner", d.name);
                    let spec = btf_map_spec(&def, MapOrigin::Inner)?;
                    obj.maps.push(spec);
                    Some(obj.maps.len() - 1)
                }
                None => None,
            };
            let mut spec = btf_map_spec(&d, MapOrigin::Btf)?;
            spec.inner = inner;
            spec.shndx = mi;
            spec.sym_offset = off;
            obj.maps.push(spec);
        }
        if elf.shdrs.iter().any(|s| matches!(s.sh_type, elf::SHT_REL | elf::SHT_RELA) && s.sh_info as usize == mi) {
            obj.warnings.push("initial values of map-in-map slots ('.rel.maps') are not applied yet".into());
        }
    }

    // Global data.
    for &di in &data_secs {
        let s = &elf.shdrs[di];
        let name = shname(s).to_string();
        let bytes = section_bytes(data, s, &name)?;
        let size = u32::try_from(s.sh_size).map_err(|_| Error::parse(format!("section '{name}' is too large")))?;
        let mut flags = map_flags::MMAPABLE;
        if name.starts_with(".rodata") {
            flags |= map_flags::RDONLY_PROG;
        }
        let kname = data_map_kernel_name(&obj.name, &name);
        let mut spec = new_map(name.clone(), kname, MapOrigin::Data(name.clone()), map_type::ARRAY, 4, size, 1, flags);
        spec.data = if s.sh_type == elf::SHT_NOBITS { None } else { Some(bytes.to_vec()) };
        spec.shndx = di;
        if let Some(id) = obj.btf.as_ref().and_then(|btf| btf.find_by_name_kind(&name, crate::btf::BtfKind::Datasec)) {
            spec.btf_value_type_id = id;
        }
        obj.maps.push(spec);
    }
    // `.kconfig`: read-only global data whose contents are computed at load.
    let kconfig_size: u32 = obj.externs.iter().filter_map(|e| e.kconfig()).map(|k| k.offset + k.size).max().unwrap_or(0);
    if kconfig_size > 0 {
        let name = ".kconfig".to_string();
        let kname = data_map_kernel_name(&obj.name, &name);
        let mut spec = new_map(name.clone(), kname, MapOrigin::Data(name.clone()), map_type::ARRAY, 4, kconfig_size, 1, map_flags::MMAPABLE | map_flags::RDONLY_PROG);
        spec.shndx = usize::MAX; // no ELF section
        if let Some(id) = obj.btf.as_ref().and_then(|btf| btf.find_by_name_kind(&name, crate::btf::BtfKind::Datasec)) {
            spec.btf_value_type_id = id;
        }
        obj.maps.push(spec);
        obj.kconfig_map = Some(obj.maps.len() - 1);
    }

    // Relocations of code sections.
    for (reloc_shndx, rsh) in elf.shdrs.iter().enumerate() {
        if !matches!(rsh.sh_type, elf::SHT_REL | elf::SHT_RELA) {
            continue;
        }
        let target = rsh.sh_info as usize;
        let Some(code) = obj.code.get(&target) else { continue };
        let code_name = code.name.as_str();
        let ninsns = code.insns.len() / 8;
        let rs = elf.rels(reloc_shndx).map_err(|e| Error::parse(format!("malformed ELF: {e}")))?;
        let mut resolved = Vec::with_capacity(rs.len());
        for r in rs {
            // Only an error pays for formatting where the relocation is.
            let at = || format!("relocation at offset {:#x} in '{code_name}'", r.r_offset);
            if r.r_offset % 8 != 0 || (r.r_offset / 8) as usize >= ninsns {
                return Err(Error::parse(format!("{}: not an instruction of the section", at())));
            }
            let idx = (r.r_offset / 8) as usize;
            let s = elf.sym(r.r_sym).ok_or_else(|| Error::parse(format!("{}: symbol #{} does not exist", at(), r.r_sym)))?;
            let sname = || elf.sym_name(&s);
            let shndx = s.st_shndx;
            let code_ref = &obj.code[&target];
            let op = insn::code(&code_ref.insns, idx);
            let t = if shndx == 0 {
                let name = sname();
                let Some(e) = obj.externs.iter().position(|e| e.name == name) else {
                    return Err(Error::parse(format!(
                        "{}: extern symbol '{name}': {}",
                        at(),
                        if obj.btf.is_none() { "externs need the object's BTF (.BTF) to say what they are, and it is missing or unusable" } else { "not a __kconfig or __ksym extern" }
                    )));
                };
                let is_kfunc = matches!(obj.externs[e].kind, externs::ExternKind::Kfunc { .. });
                if op == insn::CALL {
                    if !is_kfunc {
                        return Err(Error::parse(format!("{}: call of extern '{name}', which is not a function", at())));
                    }
                    RelocTarget::Kfunc(e)
                } else if op == insn::LD_IMM64 && idx + 1 < ninsns {
                    RelocTarget::Extern(e, insn::imm(&code_ref.insns, idx))
                } else {
                    return Err(Error::parse(format!("{}: reference to extern '{name}' on an instruction (opcode {op:#x}) that is neither call nor ld_imm64", at())));
                }
            } else if obj.code.contains_key(&shndx) {
                let sub = (s.st_value / 8) as i64;
                let imm = insn::imm(&code_ref.insns, idx) as i64;
                let dest = if op == insn::CALL {
                    if r.r_type != R_BPF_64_32 && r.r_type != R_BPF_64_64 {
                        return Err(Error::parse(format!("{}: call with relocation type {}", at(), r.r_type)));
                    }
                    sub + imm + 1
                } else if op == insn::LD_IMM64 {
                    (s.st_value as i64 + imm) / 8
                } else {
                    return Err(Error::parse(format!("{}: code reference on an instruction (opcode {op:#x}) that is neither call nor ld_imm64", at())));
                };
                let n = obj.code[&shndx].insns.len() as i64 / 8;
                if dest < 0 || dest >= n {
                    return Err(Error::parse(format!("{}: call target {dest} is outside '{}'", at(), sec_name_at(shndx))));
                }
                RelocTarget::Code(shndx, dest as usize)
            } else {
                if op != insn::LD_IMM64 || idx + 1 >= ninsns {
                    return Err(Error::parse(format!("{}: reference to '{}' on an instruction (opcode {op:#x}) that is not ld_imm64", at(), sname())));
                }
                if r.r_type != R_BPF_64_64 {
                    return Err(Error::parse(format!("{}: unexpected relocation type {} for '{}'", at(), r.r_type, sname())));
                }
                if Some(shndx) == legacy_maps_idx || Some(shndx) == btf_maps_idx {
                    let m = obj
                        .maps
                        .iter()
                        .position(|m| m.shndx == shndx && m.origin != MapOrigin::Inner && m.sym_offset == s.st_value)
                        .ok_or_else(|| Error::parse(format!("{}: '{}' is no map definition", at(), sname())))?;
                    RelocTarget::Map(m)
                } else if let Some(m) = obj.maps.iter().position(|m| matches!(m.origin, MapOrigin::Data(_)) && m.shndx == shndx) {
                    let off = s.st_value as i64 + insn::imm(&code_ref.insns, idx) as i64;
                    if off < 0 || off >= obj.maps[m].value_size as i64 {
                        return Err(Error::parse(format!("{}: offset {off} is outside '{}'", at(), obj.maps[m].name)));
                    }
                    RelocTarget::MapValue(m, off as u32)
                } else {
                    return Err(Error::parse(format!(
                        "{}: '{}' is in section '{}', which is neither a map nor a data section", at(), sname(),
                        sec_name_at(shndx)
                    )));
                }
            };
            resolved.push((idx, t));
        }
        let code = obj.code.get_mut(&target).expect("present");
        if code.relocs.is_empty() {
            code.relocs = resolved;
        } else {
            code.relocs.extend(resolved);
        }
    }
    for code in obj.code.values_mut() {
        // By instruction; where two relocations name one instruction, the last wins.
        if !code.relocs.is_sorted_by(|a, b| a.0 < b.0) {
            code.relocs.sort_by_key(|r| r.0);
            code.relocs.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
    }
    Ok(obj)
}

/// The kernel's name of a global-data map: a prefix of the object's name and
/// the section name, 15 characters at most.
fn data_map_kernel_name(obj_name: &str, sec: &str) -> String {
    let prefix_len = 15usize.saturating_sub(sec.len());
    let prefix: String = obj_name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(prefix_len.min(8)).collect();
    prefix.chars().chain(sec.chars()).take(15).collect()
}

#[allow(clippy::too_many_arguments)]
fn new_map(name: String, kernel_name: String, origin: MapOrigin, map_type: u32, key_size: u32, value_size: u32, max_entries: u32, map_flags: u32) -> MapSpec {
    MapSpec {
        name,
        kernel_name,
        origin,
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags,
        numa_node: 0,
        map_extra: 0,
        pinning: 0,
        inner: None,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
        data: None,
        shndx: 0,
        sym_offset: 0,
    }
}

fn btf_map_spec(d: &BtfMapDef, origin: MapOrigin) -> Result<MapSpec> {
    if !d.unknown_fields.is_empty() {
        return Err(Error::parse(format!("map '{}': unknown fields in its definition: {}", d.name, d.unknown_fields.join(", "))));
    }
    let mt = d.map_type.ok_or_else(|| Error::parse(format!("map '{}': no __uint(type, ...)", d.name)))?;
    let ks = d.key_size.unwrap_or(0);
    let vs = d.value_size.unwrap_or(0);
    let name: String = d.name.chars().take(15).collect();
    let mut m = new_map(d.name.clone(), name, origin, mt, ks, vs, d.max_entries.unwrap_or(0), d.map_flags.unwrap_or(0));
    m.numa_node = d.numa_node.unwrap_or(0);
    m.pinning = d.pinning.unwrap_or(0);
    m.map_extra = d.map_extra.unwrap_or(0);
    m.btf_key_type_id = d.key_type_id.unwrap_or(0);
    m.btf_value_type_id = d.value_type_id.unwrap_or(0);
    if m.pinning > 1 {
        return Err(Error::parse(format!("map '{}': pinning {} is unknown (0 none, 1 by name)", d.name, m.pinning)));
    }
    Ok(m)
}

fn link(obj: &ObjectFile, p: &ProgramSpec) -> Result<LinkedProgram> {
    // Chunks: (section, start insn in section, len, offset in the linked program).
    let mut chunks: Vec<(usize, usize, usize, usize)> = vec![(p.sec, p.start, p.len, 0)];
    let main = &obj.code[&p.sec];
    let mut out = LinkedProgram { insns: main.insns[p.start * 8..(p.start + p.len) * 8].to_vec(), map_refs: Vec::new(), ksym_refs: Vec::new(), func_info: Vec::new(), line_info: Vec::new(), core_relos: Vec::new() };
    let mut ci = 0;
    while ci < chunks.len() {
        let (sec, start, len, new_off) = chunks[ci];
        let code = &obj.code[&sec];
        let mut i = 0;
        while i < len {
            let sec_idx = start + i;
            let at = new_off + i;
            let op = insn::code(&code.insns, sec_idx);
            let src = insn::src_reg(&code.insns, sec_idx);
            let reloc = code.relocs.binary_search_by_key(&sec_idx, |r| r.0).ok().map(|k| &code.relocs[k].1);
            let is_call = op == insn::CALL && src == insn::PSEUDO_CALL;
            let is_func_addr = op == insn::LD_IMM64 && src == insn::PSEUDO_FUNC;
            if op == insn::CALL && src == insn::PSEUDO_KFUNC_CALL && !matches!(reloc, Some(RelocTarget::Kfunc(_))) {
                return Err(Error::unsupported(format!("instruction {sec_idx} in '{}': a kfunc call with no extern symbol", code.name)));
            }
            match reloc {
                Some(RelocTarget::Map(m)) => out.map_refs.push(MapRef::Fd(at, *m)),
                Some(RelocTarget::MapValue(m, off)) => out.map_refs.push(MapRef::Value(at, *m, *off)),
                Some(&RelocTarget::Extern(e, addend)) => match (obj.externs[e].kconfig(), obj.kconfig_map) {
                    (Some(k), Some(m)) => {
                        let off = k.offset as i64 + addend as i64;
                        if off < 0 || off >= obj.maps[m].value_size as i64 {
                            return Err(Error::parse(format!("instruction {sec_idx} in '{}': offset {off} is outside '.kconfig'", code.name)));
                        }
                        out.map_refs.push(MapRef::Value(at, m, off as u32));
                    }
                    _ => out.ksym_refs.push(KsymRef { insn: at, ext: e, call: false }),
                },
                Some(&RelocTarget::Kfunc(e)) => out.ksym_refs.push(KsymRef { insn: at, ext: e, call: true }),
                _ => {}
            }
            let target = match reloc {
                Some(RelocTarget::Code(tsec, tidx)) => Some((*tsec, *tidx)),
                Some(RelocTarget::Kfunc(_)) => None,
                None if is_call => {
                    let t = sec_idx as i64 + insn::imm(&code.insns, sec_idx) as i64 + 1;
                    if t < 0 || t as usize >= code.insns.len() / 8 {
                        return Err(Error::parse(format!("instruction {sec_idx} in '{}': call target {t} outside the section", code.name)));
                    }
                    Some((sec, t as usize))
                }
                _ => None,
            };
            if let Some((tsec, tidx)) = target {
                if !(is_call || is_func_addr || reloc.is_some()) {
                    return Err(Error::parse(format!("instruction {sec_idx} in '{}': code relocation on a non-call", code.name)));
                }
                // Already linked?
                let dest = match chunks.iter().find(|c| c.0 == tsec && tidx >= c.1 && tidx < c.1 + c.2) {
                    Some(c) => c.3 + (tidx - c.1),
                    None => {
                        let tcode = &obj.code[&tsec];
                        let f = tcode
                            .funcs
                            .iter()
                            .find(|f| tidx >= f.0 && tidx < f.0 + f.1)
                            .ok_or_else(|| Error::parse(format!("call into '{}' at instruction {tidx}, which is in no function", tcode.name)))?;
                        let off = out.insns.len() / 8;
                        out.insns.extend_from_slice(&tcode.insns[f.0 * 8..(f.0 + f.1) * 8]);
                        chunks.push((tsec, f.0, f.1, off));
                        off + (tidx - f.0)
                    }
                };
                insn::set_imm(&mut out.insns, at, (dest as i64 - at as i64 - 1) as i32);
                if op == insn::CALL {
                    insn::set_src_reg(&mut out.insns, at, insn::PSEUDO_CALL);
                } else {
                    insn::set_src_reg(&mut out.insns, at, insn::PSEUDO_FUNC);
                }
            }
            i += if op == insn::LD_IMM64 { 2 } else { 1 };
        }
        ci += 1;
    }
    // func_info / line_info / CO-RE relocations, remapped chunk by chunk.
    if let Some(ext) = &obj.btf_ext {
        for &(sec, start, len, new_off) in &chunks {
            let sname = &obj.code[&sec].name;
            let remap = |byte_off: u32| {
                let i = byte_off as usize / 8;
                (i >= start && i < start + len).then(|| (new_off + i - start) as u32)
            };
            if let Some((_, recs)) = ext.func_info.iter().find(|(n, _)| n == sname) {
                out.func_info.extend(recs.iter().filter_map(|r| remap(r.insn_off).map(|o| (o, r.type_id))));
            }
            if let Some((_, recs)) = ext.line_info.iter().find(|(n, _)| n == sname) {
                out.line_info.extend(recs.iter().filter_map(|r| remap(r.insn_off).map(|o| [o, r.file_name_off, r.line_off, r.line_col])));
            }
            if let Some((_, recs)) = ext.core_relos.iter().find(|(n, _)| n == sname) {
                out.core_relos.extend(recs.iter().filter_map(|r| {
                    remap(r.insn_off).map(|o| core::Relo { insn: o as usize, type_id: r.type_id, access_str_off: r.access_str_off, kind: r.kind })
                }));
            }
        }
    }
    Ok(out)
}
