//! Batch map operations (`BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH`,
//! Linux 5.6): many entries per system call. Keys and values are packed:
//! `key_size` bytes per key, [`Map::value_buf_size`] bytes per value (for
//! per-CPU maps every possible CPU's value, each rounded up to 8 bytes).
//! Every size is checked before the system call; the kernel says how many
//! entries it did, also when it stops part-way, and so do we ([`BatchError`]).

use crate::error::{Error, ErrorKind};
use crate::map::Map;
use crate::obj::MapType;
use crate::sys::{self, BatchBufs, BatchCmd, Errno};
use std::fmt;

/// Options of a batch call (`struct bpfl_map_batch_opts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOptions {
    /// Per element: 0, or `BPF_F_LOCK` (4) for maps whose values hold a spin lock
    /// (the kernel refuses `BPF_NOEXIST`/`BPF_EXIST` in batches: EINVAL).
    pub elem_flags: u64,
    /// For the whole call (the kernel takes none yet: 0).
    pub flags: u64,
}

/// A batch call that failed, maybe after doing part of its work: `done`
/// entries were read, written or deleted (in order, from the first) before
/// the kernel stopped.
#[derive(Debug)]
pub struct BatchError {
    /// Entries done before the failure.
    pub done: usize,
    /// Why it stopped.
    pub error: Error,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (after {} entries)", self.error, self.done)
    }
}

impl std::error::Error for BatchError {}

impl From<BatchError> for Error {
    fn from(e: BatchError) -> Error {
        e.error
    }
}

/// What a batch call returns: the entries done, or how far it got and why it stopped.
pub type BatchResult<T> = std::result::Result<T, BatchError>;

/// Where a [`Map::lookup_batch`] walk stands: the kernel's resume token
/// (a `u32` bucket for hash maps, a key for others), kept between calls.
#[derive(Debug, Default, Clone)]
pub struct BatchCursor {
    token: Vec<u8>,
    next: Vec<u8>,
    started: bool,
    done: bool,
}

impl BatchCursor {
    /// A cursor at the start of the map.
    pub fn new() -> BatchCursor {
        BatchCursor::default()
    }
    /// Whether the walk has reached the end of the map.
    pub fn is_done(&self) -> bool {
        self.done
    }
    /// Back to the start of the map.
    pub fn reset(&mut self) {
        *self = BatchCursor::default();
    }
}

/// The arguments of one batch call, checked against the map by [`Map::batch`].
pub(crate) struct BatchCall<'a> {
    pub cmd: BatchCmd,
    /// Null: from the start (lookup commands). Raw, as it may be `out_cursor` itself.
    pub in_cursor: *const u8,
    /// Written by the lookup commands; null for the others.
    pub out_cursor: *mut u8,
    /// The length of each cursor.
    pub cursor_len: usize,
    pub _life: std::marker::PhantomData<&'a mut [u8]>,
    pub keys: *mut u8,
    pub keys_len: usize,
    /// Null for delete.
    pub values: *mut u8,
    pub values_len: usize,
    pub count: usize,
    pub opts: BatchOptions,
}

fn fail(done: usize, error: Error) -> BatchError {
    BatchError { done, error }
}

impl Map {
    /// The size of a lookup batch cursor for this map: `max(key_size, 4)`
    /// bytes (the kernel resumes a hash map at a `u32` bucket, others at a key).
    pub fn batch_cursor_size(&self) -> usize {
        (self.key_size() as usize).max(4)
    }

    /// Create or update `keys.len() / key_size` entries from packed `keys`
    /// and `values`. Returns how many were written. (The kernel's batch
    /// update is always `BPF_ANY`: `opts.elem_flags` takes only `BPF_F_LOCK`.)
    pub fn update_batch(&self, keys: &[u8], values: &[u8], opts: &BatchOptions) -> BatchResult<usize> {
        let count = self.batch_count(keys.len()).map_err(|e| fail(0, e))?;
        let call = BatchCall { cmd: BatchCmd::Update, in_cursor: std::ptr::null(), out_cursor: std::ptr::null_mut(), cursor_len: 0, _life: std::marker::PhantomData, keys: keys.as_ptr() as *mut u8, keys_len: keys.len(), values: values.as_ptr() as *mut u8, values_len: values.len(), count, opts: *opts };
        // SAFETY: both pointers carry their slices' lengths; an update only reads them.
        unsafe { self.batch(call) }.map(|(n, _)| n)
    }

    /// Delete the `keys.len() / key_size` packed `keys`; returns how many were deleted
    /// (a key that is absent stops the batch: `BatchError` with ENOENT).
    pub fn delete_batch(&self, keys: &[u8], opts: &BatchOptions) -> BatchResult<usize> {
        let count = self.batch_count(keys.len()).map_err(|e| fail(0, e))?;
        let call = BatchCall { cmd: BatchCmd::Delete, in_cursor: std::ptr::null(), out_cursor: std::ptr::null_mut(), cursor_len: 0, _life: std::marker::PhantomData, keys: keys.as_ptr() as *mut u8, keys_len: keys.len(), values: std::ptr::null_mut(), values_len: 0, count, opts: *opts };
        // SAFETY: the keys pointer carries its slice's length; a delete only reads it.
        unsafe { self.batch(call) }.map(|(n, _)| n)
    }

    /// Read the next entries of a walk through the map into `keys` (room for
    /// `keys.len() / key_size` of them) and `values` (as many values);
    /// returns how many were read. At the end of the map `cursor.is_done()`.
    pub fn lookup_batch(&self, cursor: &mut BatchCursor, keys: &mut [u8], values: &mut [u8], opts: &BatchOptions) -> BatchResult<usize> {
        self.lookup_batch_cmd(BatchCmd::Lookup, cursor, keys, values, opts)
    }

    /// As [`Map::lookup_batch`], deleting the entries it reads.
    pub fn lookup_and_delete_batch(&self, cursor: &mut BatchCursor, keys: &mut [u8], values: &mut [u8], opts: &BatchOptions) -> BatchResult<usize> {
        self.lookup_batch_cmd(BatchCmd::LookupAndDelete, cursor, keys, values, opts)
    }

    fn lookup_batch_cmd(&self, cmd: BatchCmd, cursor: &mut BatchCursor, keys: &mut [u8], values: &mut [u8], opts: &BatchOptions) -> BatchResult<usize> {
        if cursor.done {
            return Ok(0);
        }
        let count = self.batch_count(keys.len()).map_err(|e| fail(0, e))?;
        let tok = self.batch_cursor_size();
        if cursor.token.len() < tok {
            cursor.token.resize(tok, 0);
            cursor.next.resize(tok, 0);
        }
        let call = BatchCall {
            cmd,
            in_cursor: if cursor.started { cursor.token.as_ptr() } else { std::ptr::null() },
            out_cursor: cursor.next.as_mut_ptr(),
            cursor_len: tok,
            _life: std::marker::PhantomData,
            keys: keys.as_mut_ptr(),
            keys_len: keys.len(),
            values: values.as_mut_ptr(),
            values_len: values.len(),
            count,
            opts: *opts,
        };
        // SAFETY: the pointers carry their (mutable) slices' lengths.
        let (n, end) = unsafe { self.batch(call) }?;
        std::mem::swap(&mut cursor.token, &mut cursor.next);
        cursor.started = true;
        cursor.done = end;
        Ok(n)
    }

    /// How many keys a packed buffer of `len` bytes holds (it must be whole keys).
    fn batch_count(&self, len: usize) -> crate::Result<usize> {
        let ks = self.key_size() as usize;
        if ks == 0 {
            return Err(self.not_batched("batch operations"));
        }
        if len % ks != 0 {
            return Err(Error::inval(format!("map '{}': the keys buffer is {len} bytes, not a whole number of {ks}-byte keys", self.name())));
        }
        Ok(len / ks)
    }

    fn not_batched(&self, what: &str) -> Error {
        Error::unsupported(format!("map '{}': the kernel has no {what} for {} maps", self.name(), MapType(self.map_type())))
    }

    /// Run one batch command after checking every buffer against the map;
    /// returns the entries done and, for lookups, whether the walk reached the end.
    ///
    /// # Safety
    /// `keys` is `keys_len` bytes and `values` null or `values_len` bytes;
    /// `in_cursor` null or `cursor_len` bytes, `out_cursor` null or
    /// `cursor_len` bytes; all valid for the call, writable where the lookup
    /// commands write (`keys`, `values`, `out_cursor`).
    pub(crate) unsafe fn batch(&self, c: BatchCall<'_>) -> BatchResult<(usize, bool)> {
        let what = c.cmd.name();
        let ks = self.key_size() as usize;
        if ks == 0 {
            return Err(fail(0, self.not_batched(what)));
        }
        self.check_cpus_known().map_err(|e| fail(0, e))?;
        let vs = self.value_buf_size();
        let count = u32::try_from(c.count).map_err(|_| fail(0, Error::inval(format!("map '{}': {what}: count {} is over the kernel's limit of {}", self.name(), c.count, u32::MAX))))?;
        let need_k = c.count.checked_mul(ks);
        if need_k.is_none_or(|n| c.keys_len < n) {
            return Err(fail(0, Error::inval(format!("map '{}': {what}: the keys buffer is {} bytes, {} keys of {ks} bytes need {}", self.name(), c.keys_len, c.count, show(need_k)))));
        }
        if c.cmd != BatchCmd::Delete {
            let need_v = c.count.checked_mul(vs);
            if need_v.is_none_or(|n| c.values_len < n) || c.values.is_null() {
                let pc = if vs != self.value_size() as usize { format!(" (per-CPU: {} bytes rounded up to 8, times {} possible CPUs)", self.value_size(), crate::host::cpus::possible_cpus()) } else { String::new() };
                return Err(fail(0, Error::inval(format!("map '{}': {what}: the values buffer is {} bytes, {} values of {vs} bytes{pc} need {}", self.name(), c.values_len, c.count, show(need_v)))));
            }
        }
        let lookup = matches!(c.cmd, BatchCmd::Lookup | BatchCmd::LookupAndDelete);
        let tok = self.batch_cursor_size();
        if lookup && c.out_cursor.is_null() {
            return Err(fail(0, Error::inval(format!("map '{}': {what}: out_cursor is NULL", self.name()))));
        }
        if lookup && c.cursor_len < tok {
            return Err(fail(0, Error::inval(format!("map '{}': {what}: the cursor is {} bytes, this map's is {tok} (max(key size, 4): see batch_cursor_size)", self.name(), c.cursor_len))));
        }
        if count == 0 {
            return Ok((0, false));
        }
        let bufs = BatchBufs {
            in_batch: if lookup { c.in_cursor } else { std::ptr::null() },
            out_batch: if lookup { c.out_cursor } else { std::ptr::null_mut() },
            keys: c.keys,
            values: if c.cmd == BatchCmd::Delete { std::ptr::null_mut() } else { c.values },
        };
        let r = self.with_fd(|fd| {
            // SAFETY: checked above: `count` keys and values of the kernel's
            // sizes fit, and both cursors are the map's token size.
            Ok(unsafe { sys::map_batch(c.cmd, fd, &bufs, count, c.opts.elem_flags, c.opts.flags) })
        });
        let b = r.map_err(|e| fail(0, e))?;
        let done = (b.count as usize).min(c.count);
        match b.status {
            Ok(()) => Ok((done, false)),
            Err(Errno(libc::ENOENT)) if lookup => Ok((done, true)),
            // A command refused before it started leaves `count` as we set it;
            // one that failed part-way cannot have done every entry.
            Err(e) => {
                let done = if done == c.count { 0 } else { done };
                Err(fail(done, self.batch_error(&c, e, done)))
            }
        }
    }

    fn batch_error(&self, c: &BatchCall<'_>, e: Errno, done: usize) -> Error {
        let (what, count) = (c.cmd.name(), c.count);
        let name = self.name();
        let at = format!("stopped at entry {done} of {count}");
        match e.0 {
            sys::ENOTSUPP | libc::EOPNOTSUPP => self.not_batched(what),
            libc::EINVAL if done == 0 && c.cmd == BatchCmd::Update && c.opts.elem_flags & (crate::map::BPF_NOEXIST | crate::map::BPF_EXIST) != 0 => Error::inval(format!(
                "map '{name}': {what}: the kernel takes only BPF_F_LOCK in a batch's elem_flags, not BPF_NOEXIST or BPF_EXIST: update those keys one by one"
            )),
            libc::EINVAL if crate::host::kver::running() != 0 && crate::host::kver::running() < crate::host::kver::kernel_version(5, 6, 0) => Error::unsupported(format!(
                "map '{name}': {what}: batch map operations are in the kernel since Linux 5.6 (this kernel is older)"
            )),
            libc::EEXIST => Error::new(ErrorKind::Os, e.0, format!("map '{name}': {what}: {at}: key exists (BPF_NOEXIST)")),
            libc::ENOENT => Error::new(ErrorKind::NotFound, e.0, format!("map '{name}': {what}: {at}: no such key")),
            libc::E2BIG => Error::new(ErrorKind::Os, e.0, format!("map '{name}': {what}: {at}: the map is full ({} entries)", self.max_entries())),
            libc::ENOSPC => Error::new(
                ErrorKind::Os,
                e.0,
                format!("map '{name}': {what}: a hash bucket holds more entries than the {count} asked for: ask for more at once"),
            ),
            _ => e.error(format!("map '{name}': {what}: {at}")),
        }
    }
}

fn show(n: Option<usize>) -> String {
    n.map_or_else(|| "more than any buffer holds".to_string(), |n| n.to_string())
}
