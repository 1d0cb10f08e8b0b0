//! Batch map operations: many entries per system call (Linux 5.6).
//!
//! Every call takes `count` in/out: on entry how many entries to do, on
//! return how many were done, also when the call fails part-way (the kernel
//! says where it stopped) and 0 when it fails before the system call. Keys
//! and values are packed (key_size and `bpfl_map_value_buf_size` bytes
//! each); each buffer's size is given and checked against `count` first.

use super::args::{bytes_arg, bytes_mut, out, read_opts};
use super::errors::{guard, missing};
use super::handles;
use super::types::bpfl_map;
use crate::error::Result;
use crate::map_batch::{BatchCall, BatchOptions};
use crate::sys::BatchCmd;
use std::ffi::{c_int, c_void};

/// Options of the batch calls; NULL means all zero.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct bpfl_map_batch_opts {
    /// `sizeof(struct bpfl_map_batch_opts)`.
    pub sz: usize,
    /// Per element: 0, or `BPF_F_LOCK` (4) for values with a spin lock (the
    /// kernel refuses `BPFL_NOEXIST`/`BPFL_EXIST` in batches: -EINVAL).
    pub elem_flags: u64,
    /// For the whole call: 0 (the kernel defines none yet).
    pub flags: u64,
}

const NO_OPTS: bpfl_map_batch_opts = bpfl_map_batch_opts { sz: 0, elem_flags: 0, flags: 0 };

/// Read `count` and the options, run `f` on the map with them, and write
/// back the entries done (also on failure). `Ok(true)`: a lookup walk reached the end.
unsafe fn run(map: bpfl_map, count: *mut usize, opts: *const bpfl_map_batch_opts, f: impl FnOnce(&crate::Map, usize, BatchOptions) -> crate::map_batch::BatchResult<(usize, bool)>) -> Result<bool> {
    let n = out(count, "count")?;
    let want = *n;
    *n = 0;
    let o = read_opts(opts, NO_OPTS, "bpfl_map_batch_opts")?;
    let opts = BatchOptions { elem_flags: o.elem_flags, flags: o.flags };
    let mut done = 0;
    let r = handles::with_map(map.id, |m| {
        f(m, want, opts).map_err(|e| {
            done = e.done;
            e.error
        })
    });
    match r {
        Ok((d, end)) => {
            *n = d;
            Ok(end)
        }
        Err(e) => {
            *n = done;
            Err(e)
        }
    }
}

/// Create or update `*count` entries from packed `keys` (`keys_size` bytes,
/// at least `*count * key_size`) and `values` (`values_size` bytes, at least
/// `*count * bpfl_map_value_buf_size`), as `BPFL_ANY` does (the kernel takes
/// no `BPFL_NOEXIST`/`BPFL_EXIST` in batches). `*count` receives the entries
/// written, also on failure (e.g. -E2BIG when the map is full, -E2BIG for an
/// array index past its end: the entries before it are written).
///
/// # Safety
/// `keys` is NULL or `keys_size` readable bytes, `values` NULL or `values_size`
/// readable bytes; `count` is NULL or a writable `size_t`; `opts` is NULL or a
/// `struct bpfl_map_batch_opts` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_update_batch(map: bpfl_map, keys: *const c_void, keys_size: usize, values: *const c_void, values_size: usize, count: *mut usize, opts: *const bpfl_map_batch_opts) -> c_int {
    guard(|| {
        let k = bytes_arg(keys, keys_size, "keys");
        let v = bytes_arg(values, values_size, "values");
        run(map, count, opts, |m, n, opts| {
            let (k, v) = (k.map_err(none)?, v.map_err(none)?);
            let c = BatchCall { cmd: BatchCmd::Update, in_cursor: std::ptr::null(), out_cursor: std::ptr::null_mut(), cursor_len: 0, _life: std::marker::PhantomData, keys: k.as_ptr() as *mut u8, keys_len: k.len(), values: v.as_ptr() as *mut u8, values_len: v.len(), count: n, opts };
            // SAFETY: the slices' pointers with their lengths; an update only reads them.
            m.batch(c)
        })
        .map(|_| 0)
    })
}

/// Delete the `*count` packed `keys` (`keys_size` bytes, at least `*count *
/// key_size`). `*count` receives the entries deleted, also on failure
/// (-ENOENT at the first key that is absent).
///
/// # Safety
/// `keys` is NULL or `keys_size` readable bytes; `count` is NULL or a writable
/// `size_t`; `opts` is NULL or a `struct bpfl_map_batch_opts` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_delete_batch(map: bpfl_map, keys: *const c_void, keys_size: usize, count: *mut usize, opts: *const bpfl_map_batch_opts) -> c_int {
    guard(|| {
        let k = bytes_arg(keys, keys_size, "keys");
        run(map, count, opts, |m, n, opts| {
            let k = k.map_err(none)?;
            let c = BatchCall { cmd: BatchCmd::Delete, in_cursor: std::ptr::null(), out_cursor: std::ptr::null_mut(), cursor_len: 0, _life: std::marker::PhantomData, keys: k.as_ptr() as *mut u8, keys_len: k.len(), values: std::ptr::null_mut(), values_len: 0, count: n, opts };
            // SAFETY: the slice's pointer with its length; a delete only reads it.
            m.batch(c)
        })
        .map(|_| 0)
    })
}

/// The size of a lookup batch cursor for this map: `max(key_size, 4)` (the
/// kernel resumes a hash map at a 4-byte bucket number, others at a key).
///
/// # Safety
/// `out_size` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_batch_cursor_size(map: bpfl_map, out_size: *mut usize) -> c_int {
    guard(|| {
        let o = out(out_size, "out_size")?;
        *o = handles::with_map(map.id, |m| Ok(m.batch_cursor_size()))?;
        Ok(0)
    })
}

unsafe fn lookup(cmd: BatchCmd, map: bpfl_map, in_cursor: *const c_void, out_cursor: *mut c_void, cursor_size: usize, keys: *mut c_void, keys_size: usize, values: *mut c_void, values_size: usize, count: *mut usize, opts: *const bpfl_map_batch_opts) -> Result<c_int> {
    // The cursors stay raw pointers: they may be one buffer.
    let oc = if out_cursor.is_null() { Err(crate::Error::inval("out_cursor is NULL")) } else { Ok(out_cursor as *mut u8) };
    let k = bytes_mut(keys, keys_size, "keys");
    let v = bytes_mut(values, values_size, "values");
    let end = run(map, count, opts, |m, n, opts| {
        let (oc, k, v) = (oc.map_err(none)?, k.map_err(none)?, v.map_err(none)?);
        let c = BatchCall { cmd, in_cursor: in_cursor as *const u8, out_cursor: oc, cursor_len: cursor_size, _life: std::marker::PhantomData, keys: k.as_mut_ptr(), keys_len: k.len(), values: v.as_mut_ptr(), values_len: v.len(), count: n, opts };
        // SAFETY: the slices' pointers with their lengths, writable; the
        // cursors are `cursor_size` bytes by the caller's promise.
        m.batch(c)
    })?;
    if end {
        return missing(map.id, "no more entries (the batch walk is at the end of the map)");
    }
    Ok(0)
}

/// Read up to `*count` entries of a walk through the map into packed `keys`
/// (`keys_size` bytes, at least `*count * key_size`) and `values`
/// (`values_size`, at least `*count * bpfl_map_value_buf_size`).
/// `in_cursor` NULL starts at the beginning; else it is the `out_cursor` of
/// the previous call. Both cursors are `cursor_size` bytes, at least
/// `bpfl_map_batch_cursor_size` (`max(key_size, 4)`), and may be the same
/// buffer. `*count` receives the entries read. Returns 0, or -ENOENT when
/// the walk reached the end of the map (`*count` may still be > 0); a hash
/// map whose bucket holds more than `*count` entries gives -ENOSPC.
///
/// # Safety
/// `in_cursor` is NULL or `cursor_size` readable bytes; `out_cursor` NULL or
/// `cursor_size` writable bytes; `keys` and `values` NULL or that many
/// writable bytes; `count` NULL or a writable `size_t`; `opts` NULL or a
/// `struct bpfl_map_batch_opts` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_lookup_batch(
    map: bpfl_map,
    in_cursor: *const c_void,
    out_cursor: *mut c_void,
    cursor_size: usize,
    keys: *mut c_void,
    keys_size: usize,
    values: *mut c_void,
    values_size: usize,
    count: *mut usize,
    opts: *const bpfl_map_batch_opts,
) -> c_int {
    guard(|| lookup(BatchCmd::Lookup, map, in_cursor, out_cursor, cursor_size, keys, keys_size, values, values_size, count, opts))
}

/// As `bpfl_map_lookup_batch`, deleting the entries it reads (hash maps:
/// arrays cannot delete, and give -EOPNOTSUPP).
///
/// # Safety
/// As for `bpfl_map_lookup_batch`.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_lookup_and_delete_batch(
    map: bpfl_map,
    in_cursor: *const c_void,
    out_cursor: *mut c_void,
    cursor_size: usize,
    keys: *mut c_void,
    keys_size: usize,
    values: *mut c_void,
    values_size: usize,
    count: *mut usize,
    opts: *const bpfl_map_batch_opts,
) -> c_int {
    guard(|| lookup(BatchCmd::LookupAndDelete, map, in_cursor, out_cursor, cursor_size, keys, keys_size, values, values_size, count, opts))
}

/// A pointer argument refused before the call: nothing was done.
fn none(e: crate::Error) -> crate::map_batch::BatchError {
    crate::map_batch::BatchError { done: 0, error: e }
}
