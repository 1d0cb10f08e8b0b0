//! The hot path of the single-key map operations, for the C ABI: the same
//! checks as [`Map::lookup`] and friends (key and value sizes, the fd held
//! in a read section), straight-line, with nothing built for the outcomes
//! that need no message. A kernel error is worded as the general path words
//! it ([`Fast::Failed`]), never issued twice; anything else (a wrong size, a
//! map not created) answers [`Fast::Slow`], and the caller takes the general
//! path, which words the error.
//!
//! Measured with bpf() stubbed out (user-space work only): the general path
//! cost 60-85 ns a call, libbpf's `bpf_map_*_elem` 10-20 ns.

use crate::error::Error;
use crate::map::Map;
use crate::sys::{self, Errno};

/// What a fast operation did.
#[derive(Debug)]
pub(crate) enum Fast {
    /// Done (lookup: found; next key: written).
    Done,
    /// The key is absent (lookup, delete), or no key follows (next key).
    Absent,
    /// The kernel refused it: the error, worded.
    Failed(Error),
    /// Not checked here (a wrong size, a map not created): take the general path.
    Slow,
}

impl Map {
    /// Whether `value_len` is this map's value buffer size (and, for per-CPU
    /// maps, the number of possible CPUs is known).
    #[inline]
    fn fast_value_ok(&self, value_len: usize) -> bool {
        value_len == self.value_buf_size() && self.check_cpus_known().is_ok()
    }

    #[inline]
    fn fast_run(&self, f: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> sys::SysResult<()>, absent_ok: bool, word: impl FnOnce(&Map, Errno) -> Error) -> Fast {
        match self.with_fd(|fd| Ok(f(fd))) {
            Ok(Ok(())) => Fast::Done,
            Ok(Err(Errno(libc::ENOENT))) if absent_ok => Fast::Absent,
            Ok(Err(e)) => Fast::Failed(word(self, e)),
            Err(_) => Fast::Slow,
        }
    }

    /// [`Map::lookup`], fast.
    #[inline]
    pub(crate) fn lookup_fast(&self, key: &[u8], value: &mut [u8]) -> Fast {
        if key.len() != self.key_size() as usize || !self.fast_value_ok(value.len()) {
            return Fast::Slow;
        }
        // SAFETY: `value` is the map's value buffer size (checked above).
        self.fast_run(|fd| unsafe { sys::map_lookup(fd, key, value, 0) }, true, Map::lookup_error)
    }

    /// [`Map::update`], fast.
    #[inline]
    pub(crate) fn update_fast(&self, key: &[u8], value: &[u8], flags: u64) -> Fast {
        if key.len() != self.key_size() as usize || !self.fast_value_ok(value.len()) {
            return Fast::Slow;
        }
        self.fast_run(|fd| sys::map_update(fd, key, value, flags), false, Map::update_error)
    }

    /// [`Map::delete`], fast.
    #[inline]
    pub(crate) fn delete_fast(&self, key: &[u8]) -> Fast {
        if key.len() != self.key_size() as usize {
            return Fast::Slow;
        }
        self.fast_run(|fd| sys::map_delete(fd, key), true, Map::delete_error)
    }

    /// [`Map::next_key`], fast.
    #[inline]
    pub(crate) fn next_key_fast(&self, key: Option<&[u8]>, next: &mut [u8]) -> Fast {
        let ks = self.key_size() as usize;
        if next.len() != ks || key.is_some_and(|k| k.len() != ks) {
            return Fast::Slow;
        }
        // SAFETY: `next` is the map's key size (checked above).
        self.fast_run(|fd| unsafe { sys::map_next_key(fd, key, next) }, true, Map::next_key_error)
    }
}
