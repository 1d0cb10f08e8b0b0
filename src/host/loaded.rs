//! What is loaded in the kernel system-wide (every process's programs, maps
//! and links, by id, with their info): for `bpfl prog list`, tests that check
//! what a load did, and the C ABI's `bpfl_loaded_*` calls. Needs CAP_SYS_ADMIN.
use crate::error::{Error, Result};
use crate::sys::{self, ids::Kind};

/// A program loaded in the kernel (by any process), as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedProgram {
    /// The kernel's id.
    pub id: u32,
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// The name given at load (at most 15 bytes).
    pub name: String,
    /// The kernel's tag (a hash of the instructions), hex.
    pub tag: String,
    /// Instructions after the verifier's rewrites, in bytes.
    pub xlated_len: u32,
    /// JIT-compiled code, in bytes (0: not JITed).
    pub jited_len: u32,
    /// When it was loaded: nanoseconds since boot (CLOCK_BOOTTIME).
    pub load_time: u64,
    pub created_by_uid: u32,
    /// How many maps it uses.
    pub nr_map_ids: u32,
}

/// A map in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedMap {
    pub id: u32,
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// The name given at creation (at most 15 bytes).
    pub name: String,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// Its BTF object's id (0: none).
    pub btf_id: u32,
}

/// A link in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedLink {
    pub id: u32,
    /// `enum bpf_link_type`.
    pub link_type: u32,
    pub prog_id: u32,
}

impl From<sys::ids::ProgInfo> for LoadedProgram {
    fn from(p: sys::ids::ProgInfo) -> Self {
        LoadedProgram {
            id: p.id,
            prog_type: p.prog_type,
            name: sys::cstr_lossy(&p.name),
            tag: p.tag.iter().map(|b| format!("{b:02x}")).collect(),
            xlated_len: p.xlated_prog_len,
            jited_len: p.jited_prog_len,
            load_time: p.load_time,
            created_by_uid: p.created_by_uid,
            nr_map_ids: p.nr_map_ids,
        }
    }
}

impl From<sys::MapInfo> for LoadedMap {
    fn from(m: sys::MapInfo) -> Self {
        LoadedMap {
            id: m.id,
            map_type: m.map_type,
            name: sys::cstr_lossy(&m.name),
            key_size: m.key_size,
            value_size: m.value_size,
            max_entries: m.max_entries,
            map_flags: m.map_flags,
            btf_id: m.btf_id,
        }
    }
}

impl From<sys::ids::LinkInfo> for LoadedLink {
    fn from(l: sys::ids::LinkInfo) -> Self {
        LoadedLink { id: l.id, link_type: l.link_type, prog_id: l.prog_id }
    }
}

fn list_err(what: &str) -> impl Fn(sys::Errno) -> Error + '_ {
    move |e| e.error(format!("listing the kernel's BPF {what}"))
}

/// Every program loaded in the kernel, by id. Programs that go away while
/// they are listed are skipped.
pub fn programs() -> Result<Vec<LoadedProgram>> {
    Ok(sys::ids::programs().map_err(list_err("programs"))?.into_iter().map(Into::into).collect())
}

/// Every map in the kernel, by id.
pub fn maps() -> Result<Vec<LoadedMap>> {
    Ok(sys::ids::maps().map_err(list_err("maps"))?.into_iter().map(Into::into).collect())
}

/// Every link in the kernel, by id.
pub fn links() -> Result<Vec<LoadedLink>> {
    Ok(sys::ids::links().map_err(list_err("links"))?.into_iter().map(Into::into).collect())
}

fn next(kind: Kind, noun: &str, id: u32) -> Result<Option<u32>> {
    // Ids stay below INT_MAX; the kernel says EINVAL past it, where there is simply none.
    if id >= i32::MAX as u32 {
        return Ok(None);
    }
    sys::ids::next(kind, id).map_err(|e| e.error(format!("the next BPF {noun} id after {id}")))
}

fn by_id<T: Default>(kind: Kind, noun: &str, id: u32) -> Result<T> {
    sys::ids::info_by_id(kind, id).map_err(|e| match e.0 {
        libc::ENOENT => Error::not_found(format!("no BPF {noun} with id {id} (it may have gone away)")),
        _ => e.error(format!("BPF {noun} {id}: info")),
    })
}

/// The id of the program after `id` (0: the first), None after the last:
/// walking the ids one by one, as `bpfl_loaded_program_next_id` does.
pub fn program_next_id(id: u32) -> Result<Option<u32>> {
    next(Kind::Program, "program", id)
}
/// See [`program_next_id`].
pub fn map_next_id(id: u32) -> Result<Option<u32>> {
    next(Kind::Map, "map", id)
}
/// See [`program_next_id`].
pub fn link_next_id(id: u32) -> Result<Option<u32>> {
    next(Kind::Link, "link", id)
}

/// The program with kernel id `id` (NotFound when there is none).
pub fn program_info(id: u32) -> Result<LoadedProgram> {
    by_id::<sys::ids::ProgInfo>(Kind::Program, "program", id).map(Into::into)
}
/// The map with kernel id `id`.
pub fn map_info(id: u32) -> Result<LoadedMap> {
    by_id::<sys::MapInfo>(Kind::Map, "map", id).map(Into::into)
}
/// The link with kernel id `id`.
pub fn link_info(id: u32) -> Result<LoadedLink> {
    by_id::<sys::ids::LinkInfo>(Kind::Link, "link", id).map(Into::into)
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
