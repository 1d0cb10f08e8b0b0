//! Memory mappings: of kernel objects (ring buffers, perf buffers, maps;
//! `region.rs` builds the globals' movable-backing region on them) and the
//! kernel's BTF kept for the process (`Forever`). The one `mmap` call is here.

use super::{Errno, SysResult};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

/// A mapping (shared of a file, or anonymous), unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; users synchronise through atomics.
unsafe impl Send for Mmap {}
unsafe impl Sync for Mmap {}

/// `mmap(addr, len, prot, flags, fd, offset)`, its failure as an `Errno`.
///
/// # Safety
/// With `MAP_FIXED`, `[addr, addr + len)` must be a mapping the caller owns
/// and that no reference points into: the kernel replaces it.
pub(super) unsafe fn mmap_raw(addr: *mut u8, len: usize, prot: libc::c_int, flags: libc::c_int, fd: libc::c_int, offset: usize) -> SysResult<NonNull<u8>> {
    // SAFETY: per the contract (without MAP_FIXED the kernel picks a free range).
    let p = unsafe { libc::mmap(addr as *mut libc::c_void, len, prot, flags, fd, offset as libc::off_t) };
    if p == libc::MAP_FAILED {
        return Err(Errno::last());
    }
    NonNull::new(p as *mut u8).ok_or(Errno(libc::ENOMEM))
}

/// `PROT_READ`, and `PROT_WRITE` when `writable`.
pub(super) fn prot(writable: bool) -> libc::c_int {
    libc::PROT_READ | if writable { libc::PROT_WRITE } else { 0 }
}

impl Mmap {
    /// `mmap(NULL, len, prot, MAP_SHARED, fd, offset)`; `writable` adds `PROT_WRITE`.
    pub(crate) fn shared(fd: BorrowedFd<'_>, len: usize, offset: usize, writable: bool) -> SysResult<Mmap> {
        // SAFETY: a fresh mapping at an address the kernel chooses; no existing memory is touched.
        let ptr = unsafe { mmap_raw(std::ptr::null_mut(), len, prot(writable), libc::MAP_SHARED, fd.as_raw_fd(), offset)? };
        Ok(Mmap { ptr, len })
    }
    /// Fresh zeroed private anonymous memory, readable and writable.
    pub(crate) fn anon(len: usize) -> SysResult<Mmap> {
        // SAFETY: a fresh mapping at an address the kernel chooses; no existing memory is touched.
        let ptr = unsafe { mmap_raw(std::ptr::null_mut(), len, prot(true), libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)? };
        Ok(Mmap { ptr, len })
    }
    /// The start of the mapping.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len) };
    }
}

/// Memory that stays, unchanged, for the rest of the process, as bytes and as
/// the same memory seen as native words (for a parser that reads `u32`s in
/// place): what the kernel's BTF is read into (`host::vmlinux`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forever {
    pub(crate) bytes: &'static [u8],
    pub(crate) words: &'static [u32],
}

impl Forever {
    /// `len` bytes at `p`, which is 4-aligned and never freed or written again.
    ///
    /// # Safety
    /// `p` must point to `len` readable bytes, 4-aligned, that live and do not
    /// change for the rest of the process.
    unsafe fn from_raw(p: *const u8, len: usize) -> Forever {
        // SAFETY: per the contract; any bit pattern is a valid u32.
        unsafe { Forever { bytes: std::slice::from_raw_parts(p, len), words: std::slice::from_raw_parts(p as *const u32, len / 4) } }
    }

    /// `mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)`, never unmapped: the
    /// kernel's BTF, which `/sys/kernel/btf/vmlinux` maps since Linux 6.16 (the
    /// kernel's own pages: nothing copied, nothing counted in this process's RSS).
    pub(crate) fn map(fd: BorrowedFd<'_>, len: usize) -> SysResult<Forever> {
        // SAFETY: a fresh mapping at an address the kernel chooses; no existing memory is touched.
        let p = unsafe { mmap_raw(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, fd.as_raw_fd(), 0)? };
        // SAFETY: `len` bytes, page-aligned, read-only, and never unmapped.
        Ok(unsafe { Forever::from_raw(p.as_ptr(), len) })
    }

    /// Up to `len` bytes read by `read` (called until it returns 0 or the
    /// buffer is full) into a buffer that is never freed.
    pub(crate) fn read(len: usize, mut read: impl FnMut(&mut [u8]) -> std::io::Result<usize>) -> std::io::Result<Forever> {
        let words: Box<[u32]> = vec![0u32; len.div_ceil(4)].into_boxed_slice();
        let p = Box::into_raw(words) as *mut u8;
        // SAFETY: the leaked box's bytes (any byte pattern is a valid u32), written only here.
        let buf = unsafe { std::slice::from_raw_parts_mut(p, len) };
        let mut n = 0;
        while n < len {
            match read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e), // the buffer is lost: a failure on the way to an error
            }
        }
        // SAFETY: the leaked buffer, 4-aligned (it was u32s), no longer written.
        Ok(unsafe { Forever::from_raw(p, n) })
    }
}
