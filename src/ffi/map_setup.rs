//! Setting up a map between open and load (libbpf's `bpf_map__set_*`):
//! sizes, flags, NUMA node, inner map, an existing map to reuse, pin path,
//! autocreate. Setters give -EBUSY once the object is loading or loaded, and
//! for a map opened from a pin.

use super::args::{fd_arg, out, str_arg};
use super::errors::guard;
use super::handles;
use super::types::bpfl_map;
use crate::error::Result;
use crate::map::Map;
use std::ffi::{c_char, c_int};

fn with_map(map: bpfl_map, f: impl FnOnce(&Map) -> Result<()>) -> c_int {
    guard(|| {
        handles::with_map(map.id, f)?;
        Ok(0)
    })
}

/// Create the map with `max_entries` entries.
#[no_mangle]
pub extern "C" fn bpfl_map_set_max_entries(map: bpfl_map, max_entries: u32) -> c_int {
    with_map(map, |m| m.set_max_entries(max_entries))
}

/// Create the map with values of `size` bytes. A global data map
/// (`.data`, `.bss`, `.rodata`, `.data.NAME`...) may grow or shrink as long
/// as every variable still fits: its data is kept and zero-extended, so an
/// array ending the section grows with it.
#[no_mangle]
pub extern "C" fn bpfl_map_set_value_size(map: bpfl_map, size: u32) -> c_int {
    with_map(map, |m| m.set_value_size(size))
}

/// Create the map with keys of `size` bytes.
#[no_mangle]
pub extern "C" fn bpfl_map_set_key_size(map: bpfl_map, size: u32) -> c_int {
    with_map(map, |m| m.set_key_size(size))
}

/// Create the map with `flags` (`map_flags`), replacing the definition's.
#[no_mangle]
pub extern "C" fn bpfl_map_set_map_flags(map: bpfl_map, flags: u32) -> c_int {
    with_map(map, |m| m.set_map_flags(flags))
}

/// Allocate the map on NUMA node `node` (adds BPF_F_NUMA_NODE to its flags).
#[no_mangle]
pub extern "C" fn bpfl_map_set_numa_node(map: bpfl_map, node: u32) -> c_int {
    with_map(map, |m| m.set_numa_node(node))
}

/// For a map-in-map: inner maps are shaped like the map `fd` (duplicated).
///
/// # Safety
/// `fd` is negative or an open file descriptor.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_set_inner_map_fd(map: bpfl_map, fd: c_int) -> c_int {
    with_map(map, |m| m.set_inner_map_fd(fd_arg(fd, "inner map fd")?))
}

/// Use the existing map `fd` (duplicated; e.g. another object's map's fd)
/// instead of creating one: both then share it. At load it must match the
/// map's type, key and value size and max_entries (-EINVAL naming both).
///
/// # Safety
/// `fd` is negative or an open file descriptor.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_reuse_fd(map: bpfl_map, fd: c_int) -> c_int {
    with_map(map, |m| m.reuse_fd(fd_arg(fd, "map fd")?))
}

/// Pin the map at `path` (on a bpffs) when the object loads; a map already
/// pinned there is used instead, if it matches.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_set_pin_path(map: bpfl_map, path: *const c_char) -> c_int {
    let p = str_arg(path, "path");
    with_map(map, |m| m.set_pin_path(p?))
}

/// Create the map at load (`true`, the default) or not: a program using a
/// map that is not created fails to load, naming the map.
#[no_mangle]
pub extern "C" fn bpfl_map_set_autocreate(map: bpfl_map, autocreate: bool) -> c_int {
    with_map(map, |m| m.set_autocreate(autocreate))
}

/// Whether the map is created at load.
///
/// # Safety
/// `out_autocreate` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_autocreate(map: bpfl_map, out_autocreate: *mut bool) -> c_int {
    guard(|| {
        let o = out(out_autocreate, "out_autocreate")?;
        *o = handles::with_map(map.id, |m| Ok(m.autocreate()))?;
        Ok(0)
    })
}
