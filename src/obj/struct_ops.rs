//! `SEC(".struct_ops")` and `SEC(".struct_ops.link")` variables: each is a
//! struct of function pointers (a kernel "ops" type such as
//! `tcp_congestion_ops`, by name) whose pointers the section's relocations
//! aim at programs of `SEC("struct_ops/NAME")`, and whose other members
//! (a name, flags) are data. Each becomes a [`StructOpsSpec`] and a
//! `BPF_MAP_TYPE_STRUCT_OPS` map; matching it to the kernel's type (member
//! offsets, the programs' attach ids) needs the kernel's BTF and is done at
//! load, outside this crate.

use crate::btf::{Btf, BtfKind};
use crate::elf::{self, Elf};
use crate::error::{Error, Result};
use crate::maps::{new_map, MapOrigin};
use crate::sections::section_bytes;
use crate::types::MapType;
use crate::ObjectSpec;

/// `BPF_F_LINK`: a struct_ops map registered through a link (Linux 6.4+).
pub const BPF_F_LINK: u32 = 1 << 13;

/// One member of a struct_ops variable's type, as the object declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsMember {
    pub name: String,
    /// Byte offset and size in the object's struct.
    pub offset: u32,
    pub size: u32,
    /// A function pointer (else data, copied as is).
    pub func: bool,
    /// The program the pointer is set to (index in [`ObjectSpec::programs`]).
    pub prog: Option<usize>,
}

/// A struct_ops variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsSpec {
    /// The variable's name, also its map's.
    pub name: String,
    /// The struct type's name: the kernel type it implements.
    pub type_name: String,
    /// In `.struct_ops.link`: registered through a BPF link.
    pub link: bool,
    /// Index of its map in [`ObjectSpec::maps`].
    pub map: usize,
    /// The variable's bytes (data members' initial values).
    pub data: Vec<u8>,
    pub members: Vec<StructOpsMember>,
}

/// Collect the struct_ops variables of the object (after its BTF, programs
/// and maps are known) and add a map for each.
pub(crate) fn collect(obj: &mut ObjectSpec, data: &[u8], elf: &Elf) -> Result<()> {
    for (si, s) in elf.shdrs.iter().enumerate() {
        let sname = elf.shname(s);
        let link = match sname {
            ".struct_ops" => false,
            ".struct_ops.link" => true,
            _ => continue,
        };
        let bytes = section_bytes(data, s, sname)?;
        let btf = obj.btf.as_ref().ok_or_else(|| Error::malformed(format!("section '{sname}' needs the object's BTF ('.BTF'), which is missing")))?;
        let relocs = section_relocs(elf, si)?;
        let ds = btf.find_by_name_kind(sname, BtfKind::Datasec).ok_or_else(|| Error::malformed(format!("section '{sname}' has no DATASEC in '.BTF'")))?;
        let vars: Vec<_> = btf.type_by_id(ds).map(|t| t.secinfos().collect()).unwrap_or_default();
        let mut specs = Vec::new();
        for v in vars {
            let spec = one_var(obj, btf, sname, link, bytes, &relocs, v.type_id, v.offset)?;
            specs.push(spec);
        }
        for mut spec in specs {
            let flags = if link { BPF_F_LINK } else { 0 };
            // The value size is the kernel's, known at load.
            let kname: String = spec.name.chars().take(15).collect();
            obj.maps.push(new_map(spec.name.clone(), kname, MapOrigin::StructOps, MapType::STRUCT_OPS, 4, 0, 1, flags));
            spec.map = obj.maps.len() - 1;
            obj.struct_ops.push(spec);
        }
    }
    Ok(())
}

/// The relocations of section `si`: (offset, symbol name).
fn section_relocs(elf: &Elf, si: usize) -> Result<Vec<(u64, String)>> {
    let mut out = Vec::new();
    for (ri, r) in elf.shdrs.iter().enumerate() {
        if !matches!(r.sh_type, elf::SHT_REL | elf::SHT_RELA) || r.sh_info as usize != si {
            continue;
        }
        for rel in elf.rels(ri).map_err(|e| e.context("malformed ELF"))? {
            let sym = elf.sym(rel.r_sym).ok_or_else(|| Error::malformed(format!("struct_ops relocation: symbol #{} does not exist", rel.r_sym)))?;
            out.push((rel.r_offset, elf.sym_name(&sym).to_string()));
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn one_var(obj: &ObjectSpec, btf: &Btf, sname: &str, link: bool, bytes: &[u8], relocs: &[(u64, String)], var_id: u32, off: u32) -> Result<StructOpsSpec> {
    let name = btf.name_of(var_id).to_string();
    let var = btf.type_by_id(var_id).filter(|t| t.kind() == BtfKind::Var).ok_or_else(|| Error::malformed(format!("'{sname}': entry {var_id} is not a variable")))?;
    let sid = btf.skip_mods(var.size_or_type);
    let st = btf.type_by_id(sid).filter(|t| t.kind() == BtfKind::Struct).ok_or_else(|| Error::malformed(format!("'{sname}': variable '{name}' is not a struct")))?;
    let type_name = btf.name_of(sid).to_string();
    let size = st.size_or_type as usize;
    let data = bytes.get(off as usize..off as usize + size).ok_or_else(|| Error::malformed(format!("'{sname}': variable '{name}' lies outside the section")))?.to_vec();
    let mut members = Vec::new();
    for m in st.members() {
        let mname = btf.str_at(m.name_off).unwrap_or("").to_string();
        if st.info & (1 << 31) != 0 && m.offset >> 24 != 0 || m.offset % 8 != 0 {
            return Err(Error::unsupported(format!("struct_ops '{name}': member '{mname}' is a bitfield")));
        }
        let moff = m.offset / 8;
        let mt = btf.skip_mods(m.type_id);
        let func = btf.type_by_id(mt).is_some_and(|t| t.kind() == BtfKind::Ptr && btf.type_by_id(btf.skip_mods(t.size_or_type)).is_some_and(|p| p.kind() == BtfKind::FuncProto));
        let msize = btf.size_of(m.type_id)?;
        let prog = if func {
            match relocs.iter().find(|(o, _)| *o == (off + moff) as u64) {
                Some((_, sym)) => Some(obj.program_index(sym).ok_or_else(|| {
                    Error::malformed(format!("struct_ops '{name}': member '{mname}' points to '{sym}', which is not a program of a struct_ops/ section"))
                })?),
                None => None,
            }
        } else {
            None
        };
        if let Some(p) = prog {
            let sec = &obj.programs[p].section;
            if !sec.starts_with("struct_ops") {
                return Err(Error::malformed(format!("struct_ops '{name}': member '{mname}' points to program '{sym}' of section '{sec}', not struct_ops/", sym = obj.programs[p].name)));
            }
        }
        members.push(StructOpsMember { name: mname, offset: moff, size: msize, func, prog });
    }
    Ok(StructOpsSpec { name, type_name, link, map: usize::MAX, data, members })
}
