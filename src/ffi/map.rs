//! Maps: describe, look up, update, delete, iterate, read in batches, pin,
//! open from a pin, set a global data map's initial value, close.

use super::args::{bytes_arg, bytes_mut, out, str_arg, write_info};
use super::errors::{fail, guard, missing, set_last_error};
use super::handles::{self, Entry, Kind};
use super::types::{bpfl_map, bpfl_map_info, bpfl_update_flags};
use crate::error::Error;
use crate::map::Map;
use crate::map_fast::Fast;
use crate::sys::Errno;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

// The header's flag values are the kernel's, passed through unchanged.
const _: () = assert!(
    bpfl_update_flags::BPFL_ANY as u64 == crate::map::BPF_ANY
        && bpfl_update_flags::BPFL_NOEXIST as u64 == crate::map::BPF_NOEXIST
        && bpfl_update_flags::BPFL_EXIST as u64 == crate::map::BPF_EXIST
);

/// Describe a map.
///
/// # Safety
/// `info` is NULL or a writable `struct bpfl_map_info` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_get_info(map: bpfl_map, info: *mut bpfl_map_info) -> c_int {
    guard(|| {
        let h = map.id;
        let v = handles::with(h, Kind::Map, |e| match e {
            Entry::Map { map, name, .. } => Ok(bpfl_map_info {
                sz: 0,
                name: name.as_ptr(),
                map_type: map.map_type(),
                key_size: map.key_size(),
                value_size: map.value_size(),
                max_entries: map.max_entries(),
                map_flags: map.map_flags(),
                fd: map.fd().unwrap_or(-1),
            }),
            _ => Err(handles::stale(h, Kind::Map)),
        })?;
        write_info(info, v, "bpfl_map_info")?;
        Ok(0)
    })
}

/// The size of the value buffer lookup and update take: the value size, or
/// for per-CPU maps `round_up(value_size, 8) * possible CPUs`.
///
/// # Safety
/// `out_size` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_value_buf_size(map: bpfl_map, out_size: *mut usize) -> c_int {
    guard(|| {
        let o = out(out_size, "out_size")?;
        *o = handles::with_map(map.id, |m| Ok(m.value_buf_size()))?;
        Ok(0)
    })
}

/// [`fast`]'s answer for "take the general path".
const SLOW: c_int = c_int::MIN;
/// [`fast`]'s answer for an absent key (-ENOENT with a message made on demand).
const ABSENT: c_int = c_int::MIN + 1;

/// The hot path of the single-key operations (see `map_fast.rs`): the
/// result when the map is in this thread's handle cache and the operation
/// needs no message; None to take the general path. A kernel error is
/// worded by `word` (as the general path words it). A panic is -EIO here
/// as in [`guard`].
#[inline(always)]
fn fast(h: u64, what: &'static str, word: fn(&Map, Errno) -> Error, f: impl FnOnce(&Map) -> Fast) -> Option<c_int> {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `f` is one of map_fast's operations: checks and one
        // syscall, nothing that reaches the handle table.
        unsafe {
            handles::with_cached_map(h, |m| match f(m) {
                Fast::Done => 0,
                Fast::Absent => ABSENT,
                Fast::Failed(e) => failed(m, e, word),
                Fast::Slow => SLOW,
            })
        }
    }));
    match r {
        Ok(Some(SLOW) | None) => None,
        Ok(Some(ABSENT)) => missing(h, what).ok(),
        Ok(Some(rc)) => Some(rc),
        Err(_) => Some(panicked()),
    }
}

/// A kernel error on the fast path, worded (out of line: the hot path keeps its registers).
#[cold]
#[inline(never)]
fn failed(m: &Map, e: Errno, word: fn(&Map, Errno) -> Error) -> c_int {
    fail(word(m, e))
}

#[cold]
#[inline(never)]
fn panicked() -> c_int {
    set_last_error("internal error in bpfl (please report): panic in a map operation");
    -libc::EIO
}

/// `len` bytes at `p` for the fast path: None for NULL or an impossible
/// length (the general path then says which).
///
/// # Safety
/// As for [`bytes_arg`].
#[inline]
unsafe fn fast_bytes<'a>(p: *const c_void, len: usize) -> Option<&'a [u8]> {
    (!p.is_null() && len <= isize::MAX as usize).then(|| std::slice::from_raw_parts(p as *const u8, len))
}

/// As [`fast_bytes`], writable.
///
/// # Safety
/// As for [`bytes_mut`].
#[inline]
unsafe fn fast_bytes_mut<'a>(p: *mut c_void, len: usize) -> Option<&'a mut [u8]> {
    (!p.is_null() && len <= isize::MAX as usize).then(|| std::slice::from_raw_parts_mut(p as *mut u8, len))
}

/// Look up `key`. `key_size` and `value_size` must be the map's (see
/// `bpfl_map_value_buf_size`); -ENOENT when the key is absent.
///
/// # Safety
/// `key` is NULL or `key_size` readable bytes; `value` is NULL or `value_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_lookup(map: bpfl_map, key: *const c_void, key_size: usize, value: *mut c_void, value_size: usize) -> c_int {
    if let (Some(k), Some(v)) = (fast_bytes(key, key_size), fast_bytes_mut(value, value_size)) {
        if let Some(rc) = fast(map.id, "no such key", Map::lookup_error, |m| m.lookup_fast(k, v)) {
            return rc;
        }
    }
    lookup_slow(map.id, key, key_size, value, value_size)
}

/// The general path of [`bpfl_map_lookup`]: out of line, so that the hot
/// path neither spills its arguments for it nor keeps its registers.
#[cold]
#[inline(never)]
unsafe fn lookup_slow(h: u64, key: *const c_void, key_size: usize, value: *mut c_void, value_size: usize) -> c_int {
    guard(|| {
        let k = bytes_arg(key, key_size, "key")?;
        let v = bytes_mut(value, value_size, "value")?;
        handles::with_map(h, |m| if m.lookup(k, v)? { Ok(0) } else { missing(h, "no such key") })
    })
}

/// Create or update `key` (`flags`: 0 BPF_ANY, 1 BPF_NOEXIST, 2 BPF_EXIST).
///
/// # Safety
/// `key` is NULL or `key_size` readable bytes; `value` is NULL or `value_size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_update(map: bpfl_map, key: *const c_void, key_size: usize, value: *const c_void, value_size: usize, flags: u64) -> c_int {
    if let (Some(k), Some(v)) = (fast_bytes(key, key_size), fast_bytes(value, value_size)) {
        if let Some(rc) = fast(map.id, "", Map::update_error, |m| m.update_fast(k, v, flags)) {
            return rc;
        }
    }
    update_slow(map.id, key, key_size, value, value_size, flags)
}

/// The general path of [`bpfl_map_update`] (out of line, as [`lookup_slow`]).
#[cold]
#[inline(never)]
unsafe fn update_slow(h: u64, key: *const c_void, key_size: usize, value: *const c_void, value_size: usize, flags: u64) -> c_int {
    guard(|| {
        let k = bytes_arg(key, key_size, "key")?;
        let v = bytes_arg(value, value_size, "value")?;
        handles::with_map(h, |m| m.update(k, v, flags).map(|_| 0))
    })
}

/// Delete `key`; -ENOENT when it is absent.
///
/// # Safety
/// `key` is NULL or `key_size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_delete(map: bpfl_map, key: *const c_void, key_size: usize) -> c_int {
    if let Some(k) = fast_bytes(key, key_size) {
        if let Some(rc) = fast(map.id, "no such key", Map::delete_error, |m| m.delete_fast(k)) {
            return rc;
        }
    }
    delete_slow(map.id, key, key_size)
}

/// The general path of [`bpfl_map_delete`] (out of line, as [`lookup_slow`]).
#[cold]
#[inline(never)]
unsafe fn delete_slow(h: u64, key: *const c_void, key_size: usize) -> c_int {
    guard(|| {
        let k = bytes_arg(key, key_size, "key")?;
        handles::with_map(h, |m| if m.delete(k)? { Ok(0) } else { missing(h, "no such key") })
    })
}

/// Write the key after `key` (the first key when `key` is NULL) to `next_key`;
/// -ENOENT after the last key. Both buffers are `key_size` bytes.
///
/// # Safety
/// `key` is NULL or `key_size` readable bytes; `next_key` is NULL or `key_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_next_key(map: bpfl_map, key: *const c_void, next_key: *mut c_void, key_size: usize) -> c_int {
    let k = if key.is_null() { Some(None) } else { fast_bytes(key, key_size).map(Some) };
    if let (Some(k), Some(n)) = (k, fast_bytes_mut(next_key, key_size)) {
        if let Some(rc) = fast(map.id, "no more keys", Map::next_key_error, |m| m.next_key_fast(k, n)) {
            return rc;
        }
    }
    next_key_slow(map.id, key, next_key, key_size)
}

/// The general path of [`bpfl_map_next_key`] (out of line, as [`lookup_slow`]).
#[cold]
#[inline(never)]
unsafe fn next_key_slow(h: u64, key: *const c_void, next_key: *mut c_void, key_size: usize) -> c_int {
    guard(|| {
        let k = if key.is_null() { None } else { Some(bytes_arg(key, key_size, "key")?) };
        let n = bytes_mut(next_key, key_size, "next_key")?;
        handles::with_map(h, |m| if m.next_key(k, n)? { Ok(0) } else { missing(h, "no more keys") })
    })
}

/// Remove every entry (hash-like maps), or zero every value (arrays).
#[no_mangle]
pub extern "C" fn bpfl_map_clear(map: bpfl_map) -> c_int {
    guard(|| handles::with_map(map.id, |m| m.clear().map(|_| 0)))
}

/// Read up to `capacity` entries: keys packed into `keys` (key_size each),
/// values into `values` (`bpfl_map_value_buf_size` each), using batch
/// syscalls where the kernel has them. `*out_count` receives the number read.
///
/// # Safety
/// `keys` is NULL or `capacity * key_size` writable bytes, `values` NULL or
/// `capacity * bpfl_map_value_buf_size` writable bytes; `out_count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_read_all(map: bpfl_map, keys: *mut c_void, values: *mut c_void, capacity: usize, out_count: *mut usize) -> c_int {
    guard(|| {
        let o = out(out_count, "out_count")?;
        let (ks, vs) = handles::with_map(map.id, |m| Ok((m.key_size() as usize, m.value_buf_size())))?;
        let kb = bytes_mut(keys, capacity.checked_mul(ks).ok_or_else(|| Error::inval("capacity overflows"))?, "keys")?;
        let vb = bytes_mut(values, capacity.checked_mul(vs).ok_or_else(|| Error::inval("capacity overflows"))?, "values")?;
        *o = handles::with_map(map.id, |m| m.read_all(kb, vb, capacity))?;
        Ok(0)
    })
}

/// Open a map pinned on a bpffs (e.g. "/sys/fs/bpf/my_map"). Close it with `bpfl_map_close`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out_map` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_open_pinned(path: *const c_char, out_map: *mut bpfl_map) -> c_int {
    guard(|| {
        let path = str_arg(path, "path")?;
        let o = out(out_map, "out_map")?;
        let m = Map::open_pinned(path)?;
        let name = CString::new(m.name()).unwrap_or_default();
        o.id = handles::insert(Entry::Map { owner: None, idx: 0, map: Arc::new(m), name })?;
        Ok(0)
    })
}

/// Pin a created map at `path` on a bpffs.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_pin(map: bpfl_map, path: *const c_char) -> c_int {
    guard(|| {
        let path = str_arg(path, "path")?;
        handles::with_map(map.id, |m| m.pin(path).map(|_| 0))
    })
}

/// Set the initial contents of a global data map (`.data`, `.rodata`, `.bss`)
/// before its object is loaded; `len` must be the map's value size.
///
/// # Safety
/// `data` is NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_set_initial_value(map: bpfl_map, data: *const c_void, len: usize) -> c_int {
    guard(|| {
        let d = bytes_arg(data, len, "data")?;
        let (owner, idx) = handles::with(map.id, Kind::Map, |e| match e {
            Entry::Map { owner, idx, .. } => Ok((*owner, *idx)),
            _ => Err(handles::stale(map.id, Kind::Map)),
        })?;
        let oh = owner.ok_or_else(|| Error::inval("a map opened from a pin has no initial value"))?;
        let cell = handles::object(oh)?;
        let mut ob = cell.lock()?;
        ob.set_map_initial_value(idx, d)?;
        Ok(0)
    })
}

/// Close a map opened with `bpfl_map_open_pinned`. Maps of an object are
/// closed with their object: for those this returns -EINVAL and does nothing.
#[no_mangle]
pub extern "C" fn bpfl_map_close(map: bpfl_map) -> c_int {
    guard(|| {
        let owned = handles::with(map.id, Kind::Map, |e| match e {
            Entry::Map { owner, .. } => Ok(owner.is_some()),
            _ => Err(handles::stale(map.id, Kind::Map)),
        })?;
        if owned {
            return Err(Error::inval("this map belongs to an object: close the object instead"));
        }
        handles::release([handles::remove(map.id, Kind::Map)?]);
        Ok(0)
    })
}
