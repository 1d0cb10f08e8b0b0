//! Global variables and mmapable arrays read and written in place, with no
//! syscall per access (see `src/globals.rs`).

use super::args::{out, str_arg};
use super::errors::guard;
use super::handles;
use super::types::{bpfl_map, bpfl_object};
use std::ffi::{c_char, c_int, c_void};

/// Global variable `name` of the object (in `.data`, `.bss`, `.rodata`, or
/// a `.data.*`/`.bss.*`/`.rodata.*` section): `*ptr` gets the address of its
/// bytes, `*size` its size.
///
/// The address is stable from the first call until the object closes.
/// Before load it points into the section's image: what is written there
/// is the initial value (`.rodata` included). At load the map (created
/// `BPF_F_MMAPABLE`) is mapped over that same address, so afterwards it
/// reads and writes the live map with no syscall; `.rodata` is then mapped
/// read-only (writing faults). BPF programs change it concurrently: read and
/// write it with volatile or atomic accesses. A failed load leaves the image
/// as it was. After `bpfl_object_close` the address is invalid.
///
/// If at load the map cannot be mmap'd (a reused or pinned map created
/// without `BPF_F_MMAPABLE`, or a kernel before 5.5), addresses given before
/// load are revoked (accessing them faults rather than reading stale data)
/// and a call after load returns -EOPNOTSUPP saying why: use `bpfl_map_lookup`.
///
/// Returns 0, -ENOENT for an unknown name, -EINVAL for a NULL argument,
/// -EBADF for a stale handle.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `ptr` and `size` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_find_variable(obj: bpfl_object, name: *const c_char, ptr: *mut *mut c_void, size: *mut usize) -> c_int {
    guard(|| {
        let name = str_arg(name, "name")?;
        let ptr = out(ptr, "ptr")?;
        let size = out(size, "size")?;
        let cell = handles::object(obj.id)?;
        let ob = cell.lock()?;
        let v = ob.find_variable(name)?;
        *ptr = v.as_ptr() as *mut c_void;
        *size = v.len();
        Ok(0)
    })
}

/// The values of a `BPF_MAP_TYPE_ARRAY` created with `BPF_F_MMAPABLE` (global
/// data maps are), mapped into memory, after load: `*ptr` gets the address,
/// `*len` is `round_up(value_size, 8) * max_entries` (value `i` is at
/// `i * round_up(value_size, 8)`; the mapping itself is page-rounded). The
/// same mapping each call; it lives until the object (or the handle from
/// `bpfl_map_open_pinned`) closes. Read-only for `.rodata` and frozen or
/// `BPF_F_RDONLY` maps (writing faults). -EINVAL for a map that is not
/// mmapable (the message says why) or not created yet.
///
/// # Safety
/// `ptr` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_mmap(map: bpfl_map, ptr: *mut *mut c_void, len: *mut usize) -> c_int {
    guard(|| {
        let ptr = out(ptr, "ptr")?;
        let len = out(len, "len")?;
        let (p, n) = handles::with_map(map.id, |m| m.mmap().map(|s| (s.as_ptr(), s.len())))?;
        *ptr = p as *mut c_void;
        *len = n;
        Ok(0)
    })
}
