//! Relocations of code sections, resolved to what they refer to: a map, a
//! place in global data, a function, or an extern. Nothing is patched here;
//! [`crate::assemble`] does that per program.

use crate::elf::{self, Elf, Rel, Sym};
use crate::error::{Error, Result};
use crate::externs::ExternKind;
use crate::insn;
use crate::maps::MapOrigin;
use crate::sections::Sections;
use crate::{FastMap, ObjectSpec, RelocTarget, R_BPF_64_32, R_BPF_64_64};

/// One relocation being resolved: where it is and what its symbol is.
struct Site<'e, 'a> {
    elf: &'e Elf<'a>,
    /// The code section it patches, its instruction count, the instruction.
    code_name: &'e str,
    ninsns: usize,
    idx: usize,
    op: u8,
    imm: i32,
    rel: &'e Rel,
    sym: Sym,
}

impl Site<'_, '_> {
    fn sym_name(&self) -> &str {
        self.elf.sym_name(&self.sym)
    }
    /// An error saying where the relocation is (only an error pays for the formatting).
    fn fail<T>(&self, what: String) -> Result<T> {
        Err(Error::malformed(format!("relocation at offset {:#x} in '{}': {what}", self.rel.r_offset, self.code_name)))
    }
}

/// Resolves the relocations of every code section into `CodeSection::relocs`,
/// sorted by instruction.
pub(crate) fn resolve_all(obj: &mut ObjectSpec, elf: &Elf, secs: &Sections) -> Result<()> {
    let index = MapIndex::new(obj);
    for (reloc_shndx, rsh) in elf.shdrs.iter().enumerate() {
        if !matches!(rsh.sh_type, elf::SHT_REL | elf::SHT_RELA) {
            continue;
        }
        let target = rsh.sh_info as usize;
        let Some(code) = obj.code.get(&target) else { continue };
        let ninsns = code.insns.len() / 8;
        let rs = elf.rels(reloc_shndx).map_err(|e| e.context("malformed ELF"))?;
        let mut resolved = Vec::with_capacity(rs.len());
        for rel in rs {
            let at = || format!("relocation at offset {:#x} in '{}'", rel.r_offset, code.name);
            if rel.r_offset % 8 != 0 || (rel.r_offset / 8) as usize >= ninsns {
                return Err(Error::malformed(format!("{}: not an instruction of the section", at())));
            }
            let idx = (rel.r_offset / 8) as usize;
            let Some(sym) = elf.sym(rel.r_sym) else {
                return Err(Error::malformed(format!("{}: symbol #{} does not exist", at(), rel.r_sym)));
            };
            let (op, imm) = (insn::code(&code.insns, idx), insn::imm(&code.insns, idx));
            let site = Site { elf, code_name: &code.name, ninsns, idx, op, imm, rel: &rel, sym };
            resolved.push((idx, resolve(obj, secs, &index, &site)?));
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
    Ok(())
}

/// The maps a relocation may name, found by where they are defined: a scan of
/// every map per relocation made resolving quadratic (programs x maps).
struct MapIndex {
    /// (section, symbol offset) of a legacy or BTF-defined map: its index; the first wins.
    defs: FastMap<(usize, u64), usize>,
    /// A global data section: the index of its map.
    data: FastMap<usize, usize>,
}

impl MapIndex {
    fn new(obj: &ObjectSpec) -> MapIndex {
        let mut index = MapIndex { defs: FastMap::default(), data: FastMap::default() };
        for (i, m) in obj.maps.iter().enumerate() {
            match m.origin {
                MapOrigin::Data(_) => index.data.entry(m.shndx).or_insert(i),
                MapOrigin::Inner => continue,
                _ => index.defs.entry((m.shndx, m.sym_offset)).or_insert(i),
            };
        }
        index
    }
}

fn resolve(obj: &ObjectSpec, secs: &Sections, index: &MapIndex, site: &Site) -> Result<RelocTarget> {
    let shndx = site.sym.st_shndx;
    if shndx == 0 {
        to_extern(obj, site)
    } else if obj.code.contains_key(&shndx) {
        to_code(obj, site)
    } else {
        to_data(obj, secs, index, site)
    }
}

/// An undefined symbol: a `__kconfig`/`__ksym` variable or a kfunc.
fn to_extern(obj: &ObjectSpec, site: &Site) -> Result<RelocTarget> {
    let name = site.sym_name();
    let Some(e) = obj.externs.iter().position(|e| e.name == name) else {
        let why = if obj.btf.is_none() { format!("externs need the object's BTF to say what they are: {}", obj.btf_missing()) } else { "not a __kconfig or __ksym extern".to_string() };
        return site.fail(format!("extern symbol '{name}': {why}"));
    };
    let is_kfunc = matches!(obj.externs[e].kind, ExternKind::Kfunc { .. });
    if site.op == insn::CALL {
        if !is_kfunc {
            return site.fail(format!("call of extern '{name}', which is not a function"));
        }
        Ok(RelocTarget::Kfunc(e))
    } else if site.op == insn::LD_IMM64 && site.idx + 1 < site.ninsns {
        Ok(RelocTarget::Extern(e, site.imm))
    } else {
        site.fail(format!("reference to extern '{name}' on an instruction (opcode {:#x}) that is neither call nor ld_imm64", site.op))
    }
}

/// A call, or the address of a function (a callback), in a code section.
fn to_code(obj: &ObjectSpec, site: &Site) -> Result<RelocTarget> {
    let (s, op) = (&site.sym, site.op);
    let imm = site.imm as i64;
    let dest = if op == insn::CALL {
        if site.rel.r_type != R_BPF_64_32 && site.rel.r_type != R_BPF_64_64 {
            return site.fail(format!("call with relocation type {}", site.rel.r_type));
        }
        (s.st_value / 8) as i64 + imm + 1
    } else if op == insn::LD_IMM64 {
        (s.st_value as i64 + imm) / 8
    } else {
        return site.fail(format!("code reference on an instruction (opcode {op:#x}) that is neither call nor ld_imm64"));
    };
    let n = obj.code[&s.st_shndx].insns.len() as i64 / 8;
    if dest < 0 || dest >= n {
        return site.fail(format!("call target {dest} is outside '{}'", site.elf.sec_name(s.st_shndx)));
    }
    Ok(RelocTarget::Code(s.st_shndx, dest as usize))
}

/// `ld_imm64` of a map (legacy or BTF-defined) or of an address in global data.
fn to_data(obj: &ObjectSpec, secs: &Sections, index: &MapIndex, site: &Site) -> Result<RelocTarget> {
    let (s, op, shndx) = (&site.sym, site.op, site.sym.st_shndx);
    if op != insn::LD_IMM64 || site.idx + 1 >= site.ninsns {
        return site.fail(format!("reference to '{}' on an instruction (opcode {op:#x}) that is not ld_imm64", site.sym_name()));
    }
    if site.rel.r_type != R_BPF_64_64 {
        return site.fail(format!("unexpected relocation type {} for '{}'", site.rel.r_type, site.sym_name()));
    }
    if Some(shndx) == secs.legacy_maps || Some(shndx) == secs.btf_maps {
        return match index.defs.get(&(shndx, s.st_value)) {
            Some(&m) => Ok(RelocTarget::Map(m)),
            None => site.fail(format!("'{}' is no map definition", site.sym_name())),
        };
    }
    let Some(&m) = index.data.get(&shndx) else {
        return site.fail(format!("'{}' is in section '{}', which is neither a map nor a data section", site.sym_name(), site.elf.sec_name(shndx)));
    };
    let off = s.st_value as i64 + site.imm as i64;
    if off < 0 || off >= obj.maps[m].value_size as i64 {
        return site.fail(format!("offset {off} is outside '{}'", obj.maps[m].name));
    }
    Ok(RelocTarget::MapValue(m, off as u32))
}
