//! What is loaded in the kernel system-wide (every process's programs and
//! links), for `bpfl prog list` and `bpfl link list`. Needs CAP_SYS_ADMIN.
use crate::error::Result;
use crate::sys;

/// A program loaded in the kernel.
#[derive(Debug, Clone)]
pub struct LoadedProgram {
    pub id: u32,
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// The name given at load (at most 15 bytes).
    pub name: String,
    /// The kernel's tag (a hash of the instructions), hex.
    pub tag: String,
    /// Instructions after the verifier's rewrites, in bytes.
    pub xlated_len: u32,
    pub created_by_uid: u32,
}

/// A link in the kernel.
#[derive(Debug, Clone)]
pub struct LoadedLink {
    pub id: u32,
    /// `enum bpf_link_type`.
    pub link_type: u32,
    pub prog_id: u32,
}

/// Every program loaded in the kernel, by id.
pub fn programs() -> Result<Vec<LoadedProgram>> {
    let list = sys::ids::programs().map_err(|e| e.error("listing the kernel's BPF programs"))?;
    Ok(list
        .into_iter()
        .map(|p| LoadedProgram {
            id: p.id,
            prog_type: p.prog_type,
            name: String::from_utf8_lossy(p.name.split(|&b| b == 0).next().unwrap_or(&[])).into_owned(),
            tag: p.tag.iter().map(|b| format!("{b:02x}")).collect(),
            xlated_len: p.xlated_prog_len,
            created_by_uid: p.created_by_uid,
        })
        .collect())
}

/// Every link in the kernel, by id.
pub fn links() -> Result<Vec<LoadedLink>> {
    let list = sys::ids::links().map_err(|e| e.error("listing the kernel's BPF links"))?;
    Ok(list.into_iter().map(|l| LoadedLink { id: l.id, link_type: l.link_type, prog_id: l.prog_id }).collect())
}


/// The BTF types of a map's keys and values, as the kernel recorded them.
#[derive(Debug)]
pub struct MapBtf {
    pub btf: crate::btf::Btf,
    /// 0 when the map has no key type (e.g. a legacy `maps` definition).
    pub key_type: u32,
    pub value_type: u32,
}

/// The BTF of `map`'s key and value, None when the kernel has none for it.
pub fn map_btf(map: &crate::Map) -> Result<Option<MapBtf>> {
    use std::os::fd::AsFd;
    let fd = map.dup_fd()?;
    let info = sys::map_info(fd.as_fd()).map_err(|e| e.error(format!("map '{}': info", map.name())))?;
    if info.btf_id == 0 || info.btf_value_type_id == 0 {
        return Ok(None);
    }
    let data = sys::btf_bytes_by_id(info.btf_id).map_err(|e| e.error(format!("map '{}': BTF {}", map.name(), info.btf_id)))?;
    let btf = crate::btf::Btf::parse(&data)?;
    Ok(Some(MapBtf { btf, key_type: info.btf_key_type_id, value_type: info.btf_value_type_id }))
}
