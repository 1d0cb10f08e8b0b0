//! BTF-defined maps: the `SEC(".maps")` variables, whose struct type says
//! what the map is (`__uint(type, ...)`, `__type(key, ...)`, `__array(values,
//! ...)`), read from the object's BTF.

use super::{new_map, MapOrigin, MapSpec};
use crate::btf::{Btf, BtfKind, VarSecinfo};
use crate::error::{Error, Result};
use crate::types::MapType;

fn malformed<T>(msg: String) -> Result<T> {
    Err(Error::malformed(msg))
}

/// A map definition read from `.maps`; `None` where the field is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BtfMapDef {
    pub name: String,
    pub map_type: Option<MapType>,
    pub key_size: Option<u32>,
    pub value_size: Option<u32>,
    pub key_type_id: Option<u32>,
    pub value_type_id: Option<u32>,
    pub max_entries: Option<u32>,
    pub map_flags: Option<u32>,
    pub numa_node: Option<u32>,
    pub pinning: Option<u32>,
    pub map_extra: Option<u64>,
    /// The inner map of a map-in-map (`__array(values, struct inner)`).
    pub inner: Option<Box<BtfMapDef>>,
    /// Byte offset of `__array(values, ...)` in the definition: where the
    /// relocations of statically initialised slots point.
    pub values_offset: Option<u32>,
    /// Field names bpfl does not know (a definition using them is refused).
    pub unknown_fields: Vec<String>,
}

/// The map definitions of `.maps`, in section order.
pub fn map_defs(btf: &Btf) -> Result<Vec<BtfMapDef>> {
    let Some(sec) = btf.find_by_name_kind(".maps", BtfKind::Datasec) else {
        return malformed("no DATASEC '.maps' in .BTF".into());
    };
    let mut vars: Vec<VarSecinfo> = btf.type_by_id(sec).expect("found by id").secinfos().collect();
    vars.sort_by_key(|v| v.offset);
    let mut out = Vec::with_capacity(vars.len());
    for v in vars {
        let Some(var) = btf.type_by_id(v.type_id).filter(|t| t.kind() == BtfKind::Var) else {
            return malformed(format!("'.maps' entry [{}] is not a variable", v.type_id));
        };
        let name = btf.str_at(var.name_off).unwrap_or("").to_string();
        out.push(map_def(btf, &name, var.size_or_type, 0)?);
    }
    Ok(out)
}

/// The integer of `__uint(name, n)`: `int (*name)[n]`.
fn uint_field(btf: &Btf, map: &str, field: &str, id: u32) -> Result<u32> {
    let bad = || Error::malformed(format!("map '{map}': field '{field}' is not __uint(...)"));
    let p = btf.type_by_id(btf.skip_mods(id)).filter(|t| t.kind() == BtfKind::Ptr).ok_or_else(bad)?;
    match btf.type_by_id(btf.skip_mods(p.size_or_type)).and_then(|t| t.array()) {
        Some((_, _, nelems)) => Ok(nelems),
        None => Err(bad()),
    }
}

/// The type of `__type(name, T)`: `T *name`.
fn type_field(btf: &Btf, map: &str, field: &str, id: u32) -> Result<u32> {
    btf.type_by_id(btf.skip_mods(id)).filter(|t| t.kind() == BtfKind::Ptr).map(|t| t.size_or_type).ok_or_else(|| Error::malformed(format!("map '{map}': field '{field}' is not __type(...)")))
}

fn map_def(btf: &Btf, name: &str, type_id: u32, depth: u32) -> Result<BtfMapDef> {
    let sid = btf.skip_mods(type_id);
    let t = btf.type_by_id(sid).filter(|t| t.kind() == BtfKind::Struct).ok_or_else(|| Error::malformed(format!("map '{name}': its definition is not a struct")))?;
    let mut d = BtfMapDef { name: name.to_string(), ..Default::default() };
    for m in t.members() {
        let field = btf.str_at(m.name_off).unwrap_or("");
        let u = |f: &str| uint_field(btf, name, f, m.type_id);
        match field {
            "type" => d.map_type = Some(MapType(u(field)?)),
            "max_entries" => d.max_entries = Some(u(field)?),
            "map_flags" => d.map_flags = Some(u(field)?),
            "numa_node" => d.numa_node = Some(u(field)?),
            "pinning" => d.pinning = Some(u(field)?),
            "map_extra" => d.map_extra = Some(u(field)? as u64),
            "key_size" | "value_size" => {
                let v = u(field)?;
                let slot = if field == "key_size" { &mut d.key_size } else { &mut d.value_size };
                if slot.is_some_and(|s| s != v) {
                    return malformed(format!("map '{name}': {field} {v} contradicts the size of its __type ({})", slot.unwrap()));
                }
                *slot = Some(v);
            }
            "key" | "value" => {
                let tid = type_field(btf, name, field, m.type_id)?;
                let size = btf.size_of(tid).map_err(|e| Error::malformed(format!("map '{name}': {field}: {e}")))?;
                let (slot, tslot) = if field == "key" { (&mut d.key_size, &mut d.key_type_id) } else { (&mut d.value_size, &mut d.value_type_id) };
                if slot.is_some_and(|s| s != size) {
                    return malformed(format!("map '{name}': __type({field}) is {size} bytes but {field}_size says {}", slot.unwrap()));
                }
                *slot = Some(size);
                *tslot = Some(tid);
            }
            "values" => {
                // __array(values, struct inner): `struct inner *values[]`.
                let arr = btf.type_by_id(btf.skip_mods(m.type_id)).and_then(|t| t.array());
                let Some((elem, _, _)) = arr else {
                    return malformed(format!("map '{name}': field 'values' is not __array(...)"));
                };
                let ptr = btf.type_by_id(btf.skip_mods(elem)).filter(|t| t.kind() == BtfKind::Ptr);
                let Some(ptr) = ptr else {
                    return malformed(format!("map '{name}': __array(values, ...) must name a struct"));
                };
                let target = btf.skip_mods(ptr.size_or_type);
                let is_map_in_map = matches!(d.map_type, Some(MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS)) || d.map_type.is_none();
                if is_map_in_map && btf.type_by_id(target).is_some_and(|t| t.kind() == BtfKind::Struct) && depth == 0 {
                    d.inner = Some(Box::new(map_def(btf, &format!("{name}.inner"), target, depth + 1)?));
                } else if !is_map_in_map {
                    // PROG_ARRAY of programs: the slots are filled from .rel.maps.
                } else {
                    return malformed(format!("map '{name}': nested map-in-map is not supported"));
                }
                // Map-in-map and prog-array values are fds (u32).
                d.value_size.get_or_insert(4);
                d.values_offset = Some(m.offset / 8);
            }
            other => d.unknown_fields.push(other.to_string()),
        }
    }
    Ok(d)
}

/// The spec of a map from its `.maps` definition.
pub(crate) fn btf_map_spec(d: &BtfMapDef, origin: MapOrigin) -> Result<MapSpec> {
    if !d.unknown_fields.is_empty() {
        return malformed(format!("map '{}': unknown fields in its definition: {}", d.name, d.unknown_fields.join(", ")));
    }
    let mt = d.map_type.ok_or_else(|| Error::malformed(format!("map '{}': no __uint(type, ...)", d.name)))?;
    let ks = d.key_size.unwrap_or(0);
    let vs = d.value_size.unwrap_or(0);
    let name: String = d.name.chars().take(15).collect();
    let mut m = new_map(d.name.clone(), name, origin, mt, ks, vs, d.max_entries.unwrap_or(0), d.map_flags.unwrap_or(0));
    m.numa_node = d.numa_node.unwrap_or(0);
    m.pinning = d.pinning.unwrap_or(0);
    m.map_extra = d.map_extra.unwrap_or(0);
    m.btf_key_type_id = d.key_type_id.unwrap_or(0);
    m.btf_value_type_id = d.value_type_id.unwrap_or(0);
    m.values_offset = d.values_offset;
    if m.pinning > 1 {
        return malformed(format!("map '{}': pinning {} is unknown (0 none, 1 by name)", d.name, m.pinning));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::tests::{maps_btf, B};

    #[test]
    fn parses_btf_map_definitions() {
        let btf = Btf::parse(&maps_btf()).unwrap();
        assert_eq!(btf.len(), 14);
        let defs = map_defs(&btf).unwrap();
        assert_eq!(defs.len(), 1);
        let d = &defs[0];
        assert_eq!(d.name, "counts");
        assert_eq!(d.map_type, Some(MapType::HASH));
        assert_eq!(d.max_entries, Some(16));
        assert_eq!((d.key_size, d.value_size), (Some(4), Some(8)));
        assert_eq!((d.key_type_id, d.value_type_id), (Some(7), Some(9)));
        assert!(d.unknown_fields.is_empty());
    }

    #[test]
    fn unknown_map_fields_are_reported() {
        let mut b = B::new();
        b.t("int", 1, 0, 4, &[32]); // [1]
        b.t("", 3, 0, 0, &[1, 1, 2]); // [2] int[2]
        b.t("", 2, 0, 2, &[]); // [3]
        let (ty, odd) = (b.s("type"), b.s("frobnicate"));
        b.t("", 4, 2, 16, &[ty, 3, 0, odd, 3, 64]); // [4]
        b.t("m", 14, 0, 4, &[1]); // [5]
        b.t(".maps", 15, 1, 0, &[5, 0, 16]); // [6]
        let defs = map_defs(&Btf::parse(&b.bytes()).unwrap()).unwrap();
        assert_eq!(defs[0].map_type, Some(MapType::ARRAY));
        assert_eq!(defs[0].unknown_fields, vec!["frobnicate".to_string()]);
    }
}
