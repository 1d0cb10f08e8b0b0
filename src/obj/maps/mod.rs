//! Maps as the object describes them: legacy `SEC("maps")` definitions,
//! BTF-defined `.maps` (in [`btf_defs`]), and global data (`.data`, `.rodata`,
//! `.bss`, `.kconfig`), each turned into a [`MapSpec`].

pub mod btf_defs;
mod slots;

use crate::elf::{self, Elf};
use crate::error::{Error, Result};
use crate::sections::{read_u32, section_bytes, Sections, Symbols};
use crate::types::MapType;
use crate::ObjectSpec;
pub use btf_defs::{map_defs, BtfMapDef};
pub use slots::SlotTarget;

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
    pub map_type: MapType,
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
    /// Index in [`ObjectSpec::maps`] of the inner-map template (map-in-map).
    pub inner: Option<usize>,
    /// BTF type ids of key and value, where the object's BTF describes them.
    pub btf_key_type_id: u32,
    /// See `btf_key_type_id`.
    pub btf_value_type_id: u32,
    /// Initial contents (global data), written after creation.
    pub data: Option<Vec<u8>>,
    /// Statically initialised slots of a prog array or map-in-map
    /// (`.values = { [i] = &x }`): (index, what goes there), filled by the
    /// loader once the programs are loaded or the maps created.
    pub init_slots: Vec<(u32, SlotTarget)>,
    /// Byte offset of `values` in the `.maps` definition, where it has one.
    pub(crate) values_offset: Option<u32>,
    /// Section index and offset the relocations refer to.
    pub(crate) shndx: usize,
    pub(crate) sym_offset: u64,
}

/// The kernel's name of a global-data map: a prefix of the object's name and
/// the section name, 15 characters at most.
fn data_map_kernel_name(obj_name: &str, sec: &str) -> String {
    let prefix_len = 15usize.saturating_sub(sec.len());
    let prefix: String = obj_name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(prefix_len.min(8)).collect();
    prefix.chars().chain(sec.chars()).take(15).collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn new_map(name: String, kernel_name: String, origin: MapOrigin, map_type: MapType, key_size: u32, value_size: u32, max_entries: u32, map_flags: u32) -> MapSpec {
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
        init_slots: Vec::new(),
        values_offset: None,
        shndx: 0,
        sym_offset: 0,
    }
}

/// The 7 `u32` fields of `struct bpf_map_def` bpfl knows: type, key_size,
/// value_size, max_entries, map_flags, inner_map_idx, numa_node.
const LEGACY_KNOWN: usize = 28;

/// `SEC("maps")`: one `struct bpf_map_def` per symbol, each as long as its
/// symbol's `st_size` says: a section linked from several objects (`bpftool
/// gen object`) may mix definition sizes. Only when the symbols carry no size
/// is the section split evenly among them.
pub(crate) fn add_legacy(obj: &mut ObjectSpec, data: &[u8], elf: &Elf, secs: &Sections, syms: &mut Symbols) -> Result<()> {
    let Some(mi) = secs.legacy_maps else { return Ok(()) };
    let bytes = section_bytes(data, &elf.shdrs[mi], "maps")?;
    let legacy_syms = &mut syms.legacy_maps;
    legacy_syms.sort();
    if legacy_syms.is_empty() {
        if !bytes.is_empty() {
            return Err(Error::malformed("section 'maps' has data but no map symbols"));
        }
        return Ok(());
    }
    for (off, name, size) in legacy_def_extents(bytes.len(), legacy_syms)? {
        let d = &bytes[off..off + size];
        if let Some(p) = d.iter().skip(LEGACY_KNOWN).position(|&b| b != 0) {
            return Err(Error::malformed(format!(
                "map '{name}': its {size}-byte definition has non-zero data at byte {} past the 7 fields bpfl knows (type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node); bpfl does not know what that field means, so it refuses the map rather than ignore it",
                LEGACY_KNOWN + p
            )));
        }
        let f = |k: usize| read_u32(d, k * 4);
        let inner_idx = f(5);
        let mt = MapType(f(0));
        let mut spec = new_map(name.to_string(), name.to_string(), MapOrigin::Legacy, mt, f(1), f(2), f(3), f(4));
        spec.numa_node = f(6);
        spec.shndx = mi;
        spec.sym_offset = off as u64;
        if mt == MapType::ARRAY_OF_MAPS || mt == MapType::HASH_OF_MAPS {
            spec.inner = Some(inner_idx as usize); // index among legacy maps; checked below
        }
        obj.maps.push(spec);
    }
    let nlegacy = obj.maps.len();
    for m in &obj.maps {
        if let Some(i) = m.inner {
            if i >= nlegacy {
                return Err(Error::malformed(format!("map '{}': inner_map_idx {i} names no map (there are {nlegacy})", m.name)));
            }
        }
    }
    Ok(())
}

/// Each legacy definition's (offset, name, size): the symbol's `st_size`,
/// or, when no symbol has one, an even split of the section.
fn legacy_def_extents(sec_len: usize, syms: &[(u64, String, u64)]) -> Result<Vec<(usize, &str, usize)>> {
    let sized = syms.iter().all(|s| s.2 > 0);
    let n = syms.len();
    let even = if sized {
        0
    } else {
        if sec_len % n != 0 {
            return Err(Error::malformed(format!("section 'maps' is {sec_len} bytes, not a multiple of its {n} map definitions (and its symbols give no sizes)")));
        }
        sec_len / n
    };
    let mut out = Vec::with_capacity(n);
    let mut end = 0usize;
    for (off, name, st_size) in syms {
        let size = if sized { *st_size as usize } else { even };
        if size < 16 || size % 4 != 0 {
            return Err(Error::malformed(format!("map '{name}': a definition of {size} bytes is too small or misaligned (need 16+ and a multiple of 4)")));
        }
        let off = usize::try_from(*off).unwrap_or(usize::MAX);
        if off < end || off.checked_add(size).map_or(true, |e| e > sec_len) || (!sized && off % size != 0) {
            return Err(Error::malformed(format!("map '{name}': a {size}-byte definition at offset {off} does not fit section 'maps' ({sec_len} bytes) or overlaps the one before")));
        }
        end = off + size;
        out.push((off, name.as_str(), size));
    }
    Ok(out)
}

/// `SEC(".maps")`: definitions read from BTF, each inner-map template first.
pub(crate) fn add_btf_defined(obj: &mut ObjectSpec, elf: &Elf, secs: &Sections, syms: &Symbols) -> Result<()> {
    let Some(mi) = secs.btf_maps else { return Ok(()) };
    let btf = obj.btf.as_ref().ok_or_else(|| Error::malformed("section '.maps' needs '.BTF', which is missing"))?;
    let defs = map_defs(btf).map_err(|e| e.context("'.maps'"))?;
    for d in defs {
        let off = *syms.btf_maps.get(d.name.as_str()).ok_or_else(|| Error::malformed(format!("map '{}' in '.maps' has no ELF symbol", d.name)))?;
        let inner = match &d.inner {
            Some(inner) => {
                let mut def = (**inner).clone();
                def.name = format!("{}.inner", d.name);
                let spec = btf_defs::btf_map_spec(&def, MapOrigin::Inner)?;
                obj.maps.push(spec);
                Some(obj.maps.len() - 1)
            }
            None => None,
        };
        let mut spec = btf_defs::btf_map_spec(&d, MapOrigin::Btf)?;
        spec.inner = inner;
        spec.shndx = mi;
        spec.sym_offset = off;
        obj.maps.push(spec);
    }
    slots::add_init_slots(obj, elf, mi)
}

/// Global data: one single-entry array per `.data*`, `.rodata*`, `.bss*`
/// section, and `.kconfig` when the object has `__kconfig` externs.
pub(crate) fn add_global_data(obj: &mut ObjectSpec, data: &[u8], elf: &Elf, secs: &Sections) -> Result<()> {
    for &di in &secs.data {
        let s = &elf.shdrs[di];
        let name = elf.shname(s).to_string();
        let bytes = section_bytes(data, s, &name)?;
        let size = u32::try_from(s.sh_size).map_err(|_| Error::malformed(format!("section '{name}' is too large")))?;
        let mut flags = map_flags::MMAPABLE;
        if name.starts_with(".rodata") {
            flags |= map_flags::RDONLY_PROG;
        }
        let mut spec = data_map(obj, name, size, flags);
        spec.data = if s.sh_type == elf::SHT_NOBITS { None } else { Some(bytes.to_vec()) };
        spec.shndx = di;
        obj.maps.push(spec);
    }
    // `.kconfig`: read-only global data whose contents are computed at load.
    let kconfig_size: u32 = obj.externs.iter().filter_map(|e| e.kconfig()).map(|k| k.offset + k.size).max().unwrap_or(0);
    if kconfig_size > 0 {
        let mut spec = data_map(obj, ".kconfig".to_string(), kconfig_size, map_flags::MMAPABLE | map_flags::RDONLY_PROG);
        spec.shndx = usize::MAX; // no ELF section
        obj.maps.push(spec);
        obj.kconfig_map = Some(obj.maps.len() - 1);
    }
    Ok(())
}

/// The array map holding data section `name`, typed by its `DATASEC` when the BTF has one.
fn data_map(obj: &ObjectSpec, name: String, size: u32, flags: u32) -> MapSpec {
    let kname = data_map_kernel_name(&obj.name, &name);
    let mut spec = new_map(name.clone(), kname, MapOrigin::Data(name.clone()), MapType::ARRAY, 4, size, 1, flags);
    if let Some(id) = obj.btf.as_ref().and_then(|btf| btf.find_by_name_kind(&name, crate::btf::BtfKind::Datasec)) {
        spec.btf_value_type_id = id;
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::legacy_def_extents;

    fn syms(v: &[(u64, &str, u64)]) -> Vec<(u64, String, u64)> {
        v.iter().map(|&(o, n, s)| (o, n.to_string(), s)).collect()
    }

    #[test]
    fn legacy_definitions_sized_by_their_symbols() {
        // A 28-byte and a 20-byte definition linked into one section.
        let s = syms(&[(0, "a", 28), (28, "b", 20)]);
        assert_eq!(legacy_def_extents(48, &s).unwrap(), vec![(0, "a", 28), (28, "b", 20)]);
        // Without sizes: an even split.
        let s = syms(&[(0, "a", 0), (24, "b", 0)]);
        assert_eq!(legacy_def_extents(48, &s).unwrap(), vec![(0, "a", 24), (24, "b", 24)]);
        // Overlap, past the end, too small.
        assert!(legacy_def_extents(48, &syms(&[(0, "a", 28), (20, "b", 20)])).is_err());
        assert!(legacy_def_extents(40, &syms(&[(0, "a", 28), (28, "b", 20)])).is_err());
        assert!(legacy_def_extents(8, &syms(&[(0, "a", 8)])).is_err());
    }
}
