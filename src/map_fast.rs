//! The hot path of the single-key map operations, for the C ABI: the same
//! checks as [`Map::lookup`] and friends (key and value sizes, the fd held
//! in a read section), straight-line, with nothing built for the outcomes
//! that need no message. A kernel error comes back as its errno
//! ([`Fast::Failed`]), for the caller to word as the general path words it
//! (`Map::lookup_error` and friends), never issued twice; anything else (a
//! wrong size, a map not created) answers [`Fast::Slow`], and the caller
//! takes the general path, which words the error.
//!
//! Measured with bpf() stubbed out (user-space work only): the general path
//! costs 60-85 ns a call; this path 3-4 ns over the raw syscall wrapper,
//! as libbpf's `bpf_map_*_elem` (docs/benchmarks.md, section 3).

use crate::map::Map;
use crate::sys::{self, Errno};
use std::os::fd::BorrowedFd;
use std::sync::atomic::Ordering;

/// What a fast operation did. Small (no message): it stays in registers.
#[derive(Debug)]
pub(crate) enum Fast {
    /// Done (lookup: found; next key: written).
    Done,
    /// The key is absent (lookup, delete), or no key follows (next key).
    Absent,
    /// The kernel refused it with this errno (to be worded by the caller).
    Failed(Errno),
    /// Not checked here (a wrong size, a map not created): take the general path.
    Slow,
}

impl Map {
    /// Whether `value_len` is this map's value buffer size (a per-CPU map
    /// whose number of possible CPUs is unknown matches no length).
    #[inline(always)]
    fn fast_value_ok(&self, value_len: usize) -> bool {
        value_len == self.value_buf.load(Ordering::Relaxed)
    }

    #[inline(always)]
    fn fast_key_ok(&self, key_len: usize) -> bool {
        key_len == self.key_size() as usize
    }

    #[inline(always)]
    fn fast_run(&self, f: impl FnOnce(BorrowedFd<'_>) -> sys::SysResult<()>, absent_ok: bool) -> Fast {
        match self.with_fd_fast(f) {
            Some(Ok(())) => Fast::Done,
            Some(Err(Errno(libc::ENOENT))) if absent_ok => Fast::Absent,
            Some(Err(e)) => Fast::Failed(e),
            None => Fast::Slow,
        }
    }

    /// [`Map::lookup`], fast; a failure is worded by [`Map::lookup_error`].
    #[inline(always)]
    pub(crate) fn lookup_fast(&self, key: &[u8], value: &mut [u8]) -> Fast {
        if !self.fast_key_ok(key.len()) || !self.fast_value_ok(value.len()) {
            return Fast::Slow;
        }
        // SAFETY: `value` is the map's value buffer size (checked above).
        self.fast_run(move |fd| unsafe { sys::map_lookup(fd, key, value, 0) }, true)
    }

    /// [`Map::update`], fast; a failure is worded by [`Map::update_error`].
    #[inline(always)]
    pub(crate) fn update_fast(&self, key: &[u8], value: &[u8], flags: u64) -> Fast {
        if !self.fast_key_ok(key.len()) || !self.fast_value_ok(value.len()) {
            return Fast::Slow;
        }
        self.fast_run(move |fd| sys::map_update(fd, key, value, flags), false)
    }

    /// [`Map::delete`], fast; a failure is worded by [`Map::delete_error`].
    #[inline(always)]
    pub(crate) fn delete_fast(&self, key: &[u8]) -> Fast {
        if !self.fast_key_ok(key.len()) {
            return Fast::Slow;
        }
        self.fast_run(move |fd| sys::map_delete(fd, key), true)
    }

    /// [`Map::next_key`], fast; a failure is worded by [`Map::next_key_error`].
    #[inline(always)]
    pub(crate) fn next_key_fast(&self, key: Option<&[u8]>, next: &mut [u8]) -> Fast {
        if !self.fast_key_ok(next.len()) || key.is_some_and(|k| !self.fast_key_ok(k.len())) {
            return Fast::Slow;
        }
        // SAFETY: `next` is the map's key size (checked above).
        self.fast_run(move |fd| unsafe { sys::map_next_key(fd, key, next) }, true)
    }
}
