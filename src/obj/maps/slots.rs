//! Static initial values of `.maps`: `.values = { [0] = &prog, [2] = &map }`
//! in a prog array or map-in-map definition. clang leaves the slots zero and
//! emits one relocation per initialised slot in the relocation section of
//! `.maps`, at the slot's place in the `values` array, against the symbol of
//! the program or map that goes there.

use super::{MapOrigin, MapSpec};
use crate::elf::{self, Elf};
use crate::error::{Error, Result};
use crate::types::MapType;
use crate::ObjectSpec;

/// What a statically initialised slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotTarget {
    /// Index in [`ObjectSpec::programs`] (prog arrays).
    Program(usize),
    /// Index in [`ObjectSpec::maps`] (map-in-map).
    Map(usize),
}

/// Reads the relocations of `.maps` (section `mi`) into each map's `init_slots`.
pub(crate) fn add_init_slots(obj: &mut ObjectSpec, elf: &Elf, mi: usize) -> Result<()> {
    for (ri, rsh) in elf.shdrs.iter().enumerate() {
        if !matches!(rsh.sh_type, elf::SHT_REL | elf::SHT_RELA) || rsh.sh_info as usize != mi {
            continue;
        }
        for rel in elf.rels(ri).map_err(|e| e.context("malformed ELF"))? {
            let sym = elf.sym(rel.r_sym).ok_or_else(|| Error::malformed(format!("'.maps' relocation at {:#x}: symbol #{} does not exist", rel.r_offset, rel.r_sym)))?;
            let name = elf.sym_name(&sym);
            let (m, slot) = slot_at(&obj.maps, mi, rel.r_offset)?;
            let target = slot_target(obj, mi, m, sym.st_shndx, sym.st_type(), sym.st_value, name)?;
            let map = &mut obj.maps[m];
            if map.max_entries != 0 && slot >= map.max_entries {
                return Err(Error::malformed(format!("map '{}': initial value in slot {slot}, past its {} entries", map.name, map.max_entries)));
            }
            map.init_slots.push((slot, target));
        }
    }
    Ok(())
}

/// The map (index) and slot a relocation at `off` in `.maps` fills: the last
/// definition starting at or before `off`, `values` being an array of 8-byte pointers.
fn slot_at(maps: &[MapSpec], mi: usize, off: u64) -> Result<(usize, u32)> {
    let m = maps
        .iter()
        .enumerate()
        .filter(|(_, m)| m.origin == MapOrigin::Btf && m.shndx == mi && m.sym_offset <= off)
        .max_by_key(|(_, m)| m.sym_offset)
        .map(|(i, _)| i)
        .ok_or_else(|| Error::malformed(format!("'.maps' relocation at {off:#x} is in no map definition")))?;
    let map = &maps[m];
    let Some(vo) = map.values_offset else {
        return Err(Error::malformed(format!("map '{}': relocation at {off:#x} but the map has no __array(values, ...)", map.name)));
    };
    let rel = off - map.sym_offset;
    if rel < vo as u64 || (rel - vo as u64) % 8 != 0 {
        return Err(Error::malformed(format!("map '{}': relocation at offset {rel} of its definition is not a slot of 'values' (at {vo})", map.name)));
    }
    let slot = u32::try_from((rel - vo as u64) / 8).map_err(|_| Error::malformed(format!("map '{}': slot out of range", map.name)))?;
    Ok((m, slot))
}

/// What the symbol of a slot's relocation names, checked against the map's type.
fn slot_target(obj: &ObjectSpec, mi: usize, m: usize, shndx: usize, st_type: u8, value: u64, name: &str) -> Result<SlotTarget> {
    let map = &obj.maps[m];
    match map.map_type {
        MapType::PROG_ARRAY => {
            let p = obj.programs.iter().position(|p| p.sec == shndx && st_type == elf::STT_FUNC && p.start as u64 * 8 == value);
            p.map(SlotTarget::Program).ok_or_else(|| Error::malformed(format!("map '{}': initial value '{name}' is not a program of this object (subprograms in .text cannot be tail-called)", map.name)))
        }
        MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS => {
            let t = (shndx == mi).then(|| obj.maps.iter().position(|x| x.origin == MapOrigin::Btf && x.name == name)).flatten();
            match t {
                Some(t) if t == m => Err(Error::malformed(format!("map '{}': a slot cannot hold the map itself", map.name))),
                Some(t) => Ok(SlotTarget::Map(t)),
                None => Err(Error::malformed(format!("map '{}': initial value '{name}' is not a map of '.maps'", map.name))),
            }
        }
        t => Err(Error::malformed(format!("map '{}': initial values in '.maps' are for prog arrays and map-in-map, not {t}", map.name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::new_map;

    fn map(name: &str, off: u64, values: Option<u32>) -> MapSpec {
        let mut m = new_map(name.into(), name.into(), MapOrigin::Btf, MapType::PROG_ARRAY, 4, 4, 4, 0);
        (m.shndx, m.sym_offset, m.values_offset) = (7, off, values);
        m
    }

    #[test]
    fn relocation_offsets_name_their_slot() {
        let maps = [map("a", 0, Some(24)), map("b", 48, Some(16)), map("plain", 96, None)];
        assert_eq!(slot_at(&maps, 7, 24).unwrap(), (0, 0));
        assert_eq!(slot_at(&maps, 7, 24 + 16).unwrap(), (0, 2));
        assert_eq!(slot_at(&maps, 7, 48 + 16 + 8).unwrap(), (1, 1));
        assert!(slot_at(&maps, 7, 48 + 8).unwrap_err().message().contains("not a slot of 'values'"));
        assert!(slot_at(&maps, 7, 48 + 20).unwrap_err().message().contains("not a slot"));
        assert!(slot_at(&maps, 7, 100).unwrap_err().message().contains("no __array(values"));
        assert!(slot_at(&maps, 8, 24).unwrap_err().message().contains("in no map definition"));
    }
}
