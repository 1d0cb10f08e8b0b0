//! The first pass over an object: the ELF header, the sections (what each one
//! is for), the symbols (functions, map and data variables, externs), and the
//! programs the functions of known sections are.

use std::collections::hash_map::Entry;

use crate::elf::{self, Elf, Shdr};
use crate::error::{Error, ErrorKind, Result};
use crate::insn;
use crate::section;
use crate::{CodeSection, FastMap, ObjectSpec, ProgramSpec, EM_BPF};

/// Where the sections that matter are, by index.
#[derive(Default)]
pub(crate) struct Sections<'a> {
    /// Every section's name, looked up once; UTF-8 is checked only where a name is kept.
    pub names: Vec<&'a [u8]>,
    /// `maps` (legacy map definitions).
    pub legacy_maps: Option<usize>,
    /// `.maps` (BTF-defined maps).
    pub btf_maps: Option<usize>,
    pub btf: Option<&'a [u8]>,
    pub btf_ext: Option<&'a [u8]>,
    /// Non-empty global data sections.
    pub data: Vec<usize>,
}

/// The symbols that are not functions, sorted by what they name.
#[derive(Default)]
pub(crate) struct Symbols<'a> {
    /// Legacy map definitions: (offset in `maps`, name, `st_size`).
    pub legacy_maps: Vec<(u64, String, u64)>,
    /// BTF-defined maps: name to offset in `.maps`.
    pub btf_maps: FastMap<&'a str, u64>,
    /// Symbols outside code sections by (section, name), for the DATASEC
    /// fix-ups; the first wins.
    pub vars: FastMap<(usize, &'a [u8]), u32>,
    /// Undefined global or weak symbols: externs, (name, weak).
    pub undefined: Vec<(String, bool)>,
    /// Functions that are hidden or weak: their BTF becomes static (see
    /// [`crate::btf::Btf::make_funcs_static`]).
    pub static_funcs: Vec<&'a [u8]>,
}

pub(crate) fn is_data_section(name: &str) -> bool {
    let pfx = |p: &str| name == p || name.strip_prefix(p).is_some_and(|r| r.starts_with('.'));
    pfx(".data") || pfx(".rodata") || pfx(".bss")
}

pub(crate) fn section_bytes<'a>(data: &'a [u8], s: &Shdr, what: &str) -> Result<&'a [u8]> {
    if s.sh_type == elf::SHT_NOBITS {
        return Ok(&[]);
    }
    let start = usize::try_from(s.sh_offset).map_err(|_| Error::malformed(format!("section '{what}': offset out of range")))?;
    let len = usize::try_from(s.sh_size).map_err(|_| Error::malformed(format!("section '{what}': size out of range")))?;
    start
        .checked_add(len)
        .and_then(|end| data.get(start..end))
        .ok_or_else(|| Error::malformed(format!("section '{what}': offset {start:#x} + size {len:#x} is past the end of the file ({:#x} bytes)", data.len())))
}

pub(crate) fn read_u32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// A NUL-terminated string, up to its first NUL (or the whole buffer), invalid UTF-8 replaced.
pub(crate) fn cstr_lossy(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The name of an ELF machine, for the message refusing it.
fn machine_name(m: u16) -> &'static str {
    match m {
        3 => "386",
        8 => "MIPS",
        20 => "PPC",
        21 => "PPC64",
        22 => "S390",
        40 => "ARM",
        43 => "SPARCV9",
        62 => "X86_64",
        183 => "AARCH64",
        243 => "RISCV",
        247 => "BPF",
        258 => "LOONGARCH",
        _ => "unknown machine",
    }
}

/// Checks what the ELF header says, before reading further.
pub(crate) fn parse_header(data: &[u8]) -> Result<Elf<'_>> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err(Error::new(ErrorKind::NotBpfObject, "not an ELF file"));
    }
    if data[4] != 2 {
        return Err(Error::malformed("not a 64-bit ELF file (BPF objects are ELF64)"));
    }
    if data[5] != 1 {
        return Err(Error::new(ErrorKind::ForeignByteOrder, "big-endian BPF object (bpfeb): this host runs little-endian BPF"));
    }
    let elf = Elf::parse(data).map_err(|e| e.context("malformed ELF"))?;
    if elf.e_machine != EM_BPF {
        return Err(Error::new(ErrorKind::NotBpfObject, format!("ELF machine is {} ({}), not BPF (247)", elf.e_machine, machine_name(elf.e_machine))));
    }
    if elf.e_type != elf::ET_REL {
        return Err(Error::malformed(format!("ELF type {} is not a relocatable object (ET_REL)", elf.e_type)));
    }
    Ok(elf)
}

/// Sorts the sections: license, version, maps, BTF, code (into `obj.code`), data.
pub(crate) fn scan_sections<'a>(obj: &mut ObjectSpec, data: &'a [u8], elf: &Elf<'a>) -> Result<Sections<'a>> {
    let mut secs = Sections { names: elf.shdrs.iter().map(|s| elf.shname_bytes(s)).collect(), ..Default::default() };
    for (i, s) in elf.shdrs.iter().enumerate() {
        match secs.names[i] {
            b"license" => obj.license = cstr_lossy(section_bytes(data, s, "license")?),
            b"version" => {
                let b = section_bytes(data, s, "version")?;
                if b.len() != 4 {
                    return Err(Error::malformed(format!("section 'version' is {} bytes, expected 4", b.len())));
                }
                obj.kern_version = Some(read_u32(b, 0));
            }
            b"maps" => secs.legacy_maps = Some(i),
            b".maps" => secs.btf_maps = Some(i),
            b".BTF" => secs.btf = Some(section_bytes(data, s, ".BTF")?),
            b".BTF.ext" => secs.btf_ext = Some(section_bytes(data, s, ".BTF.ext")?),
            _ if s.sh_type == elf::SHT_PROGBITS && s.sh_flags & elf::SHF_EXECINSTR != 0 => {
                let name = elf.shname(s);
                let insns = section_bytes(data, s, name)?;
                if insns.len() % insn::INSN_SIZE != 0 {
                    return Err(Error::malformed(format!("code section '{name}' is {} bytes, not a whole number of instructions", insns.len())));
                }
                obj.code.insert(i, CodeSection { name: name.to_string(), insns: insns.to_vec(), funcs: Vec::new(), relocs: Vec::new() });
            }
            _ if (s.sh_type == elf::SHT_PROGBITS || s.sh_type == elf::SHT_NOBITS) && is_data_section(elf.shname(s)) => {
                if s.sh_size > 0 {
                    secs.data.push(i);
                }
            }
            _ => {}
        }
    }
    Ok(secs)
}

/// Reads the symbol table: functions go to their code section, the rest to
/// the returned [`Symbols`] (and data variables to `obj.data_syms`).
pub(crate) fn scan_symbols<'a>(obj: &mut ObjectSpec, elf: &Elf<'a>, secs: &Sections) -> Result<Symbols<'a>> {
    let mut syms = Symbols { vars: FastMap::with_capacity_and_hasher(elf.nsyms(), Default::default()), ..Default::default() };
    // Where each (section, name) is in `obj.data_syms`: a scan of that list per
    // variable made parsing quadratic in the number of globals.
    let mut data_at: FastMap<(usize, &'a str), usize> = FastMap::default();
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
            if (bind == elf::STB_GLOBAL || bind == elf::STB_WEAK) && !syms.undefined.iter().any(|u| u.0.as_bytes() == name_bytes) {
                syms.undefined.push((name().to_string(), bind == elf::STB_WEAK));
            }
            continue;
        }
        if let Some(code) = obj.code.get_mut(&shndx) {
            if ty != elf::STT_FUNC {
                continue;
            }
            let bind = s.st_info >> 4;
            if bind == elf::STB_WEAK || (bind == elf::STB_GLOBAL && s.st_other & 3 == elf::STV_HIDDEN) {
                syms.static_funcs.push(name_bytes);
            }
            let name = name();
            if !name.is_empty() {
                if s.st_value % 8 != 0 {
                    return Err(Error::malformed(format!("function '{name}' in '{}' is not instruction-aligned", code.name)));
                }
                code.funcs.push(((s.st_value / 8) as usize, (s.st_size / 8) as usize, name.to_string()));
            }
            continue;
        }
        syms.vars.entry((shndx, name_bytes)).or_insert(s.st_value as u32);
        if Some(shndx) == secs.legacy_maps {
            let name = name();
            if (ty == elf::STT_OBJECT || ty == elf::STT_NOTYPE) && !name.is_empty() {
                syms.legacy_maps.push((s.st_value, name.to_string(), s.st_size));
            }
        } else if Some(shndx) == secs.btf_maps {
            let name = name();
            if ty == elf::STT_OBJECT && !name.is_empty() {
                syms.btf_maps.insert(name, s.st_value);
            }
        } else if ty == elf::STT_OBJECT && secs.data.contains(&shndx) && !name().is_empty() {
            let name = name();
            // Keys were unique (section, name): keep the last, as the map did.
            match data_at.entry((shndx, name)) {
                Entry::Occupied(e) => {
                    let d = &mut obj.data_syms[*e.get()];
                    (d.2, d.3) = (s.st_value, s.st_size);
                }
                Entry::Vacant(e) => {
                    e.insert(obj.data_syms.len());
                    obj.data_syms.push((shndx, name.to_string(), s.st_value, s.st_size));
                }
            }
        }
    }
    Ok(syms)
}

/// Gives each function its extent and makes the functions of every code
/// section but `.text` programs.
pub(crate) fn add_programs(obj: &mut ObjectSpec) -> Result<()> {
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
                return Err(Error::malformed(format!("function '{}' starts past the end of section '{}'", f.2, code.name)));
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
            obj.warnings.push(format!("{}; its programs cannot be loaded", section::unknown_message(&code.name)));
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
    Ok(())
}
