//! Reading the arguments C hands us: strings, byte buffers, out-pointers and
//! `sz`-prefixed option/info structs. A NULL where one is required becomes
//! -EINVAL with the argument's name. Everything else about a pointer (that it
//! points to what it says, for as long as the call) is the C caller's
//! promise, so each of these is `unsafe` and says which promise it relies on.

use crate::error::{Error, ErrorKind, Result};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::os::fd::BorrowedFd;
use std::mem::size_of;

/// The string at `p`, borrowed; -EINVAL if `p` is NULL or not UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(super) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    CStr::from_ptr(p).to_str().map_err(|_| Error::inval(format!("{what} is not valid UTF-8")))
}

/// The string at `p`, copied; `None` for NULL.
///
/// # Safety
/// As [`str_arg`], for the duration of the call.
pub(super) unsafe fn opt_str(p: *const c_char, what: &str) -> Result<Option<String>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, what).map(|s| Some(s.to_string()))
    }
}

/// The out-parameter at `p`; -EINVAL if it is NULL.
///
/// # Safety
/// `p` is NULL or points to a `T`, aligned, writable and used by nothing
/// else for `'a`.
pub(super) unsafe fn out<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    p.as_mut().ok_or_else(|| Error::inval(format!("{what} is NULL")))
}

/// A buffer length no object can have (over `isize::MAX`) is refused before
/// a slice is made of it: such a slice is undefined behaviour even unread.
fn check_len(len: usize, what: &str) -> Result<()> {
    if len > isize::MAX as usize {
        return Err(Error::inval(format!("{what}: size {len} is larger than any buffer can be")));
    }
    Ok(())
}

/// `len` bytes at `p`; -EINVAL if `p` is NULL or `len` impossible.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that nothing writes for `'a`.
pub(super) unsafe fn bytes_arg<'a>(p: *const c_void, len: usize, what: &str) -> Result<&'a [u8]> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    check_len(len, what)?;
    Ok(std::slice::from_raw_parts(p as *const u8, len))
}

/// `len` writable bytes at `p`; -EINVAL if `p` is NULL or `len` impossible.
///
/// # Safety
/// `p` is NULL or points to `len` writable bytes that nothing else uses for `'a`.
pub(super) unsafe fn bytes_mut<'a>(p: *mut c_void, len: usize, what: &str) -> Result<&'a mut [u8]> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    check_len(len, what)?;
    Ok(std::slice::from_raw_parts_mut(p as *mut u8, len))
}

/// Read an options struct whose first field is its size: fields the caller
/// does not know of stay at their defaults; fields we do not know of must be zero.
/// NULL gives `default`.
///
/// # Safety
/// `p` is NULL or points to a readable struct of at least `p->sz` bytes
/// (whatever `sz` says; at least the `sz` field itself), aligned for `usize`.
pub(super) unsafe fn read_opts<T: Copy>(p: *const T, default: T, what: &str) -> Result<T> {
    if p.is_null() {
        return Ok(default);
    }
    let sz = *(p as *const usize);
    let ours = size_of::<T>();
    if sz < size_of::<usize>() {
        return Err(Error::inval(format!("{what}.sz is {sz}: set it to sizeof(struct {what})")));
    }
    if sz > ours {
        check_len(sz, &format!("{what}.sz"))?;
        let extra = std::slice::from_raw_parts((p as *const u8).add(ours), sz - ours);
        if extra.iter().any(|&b| b != 0) {
            return Err(Error::new(ErrorKind::InvalidArgument, libc::E2BIG, format!("{what} sets fields this bpfl does not know ({sz} > {ours} bytes)")));
        }
    }
    let mut v = default;
    std::ptr::copy_nonoverlapping(p as *const u8, &mut v as *mut T as *mut u8, sz.min(ours));
    Ok(v)
}

/// Write an info struct the caller sized with `sz`: as many bytes of `v` as
/// both sides know; -EINVAL if `p` is NULL.
///
/// # Safety
/// `p` is NULL or points to a writable struct of at least `p->sz` bytes
/// whose `sz` is set, aligned for `usize`.
pub(super) unsafe fn write_info<T: Copy>(p: *mut T, v: T, what: &str) -> Result<()> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    let sz = *(p as *const usize);
    if sz < size_of::<usize>() {
        return Err(Error::inval(format!("{what}.sz is {sz}: set it to sizeof(struct {what})")));
    }
    let n = sz.min(size_of::<T>());
    std::ptr::copy_nonoverlapping(&v as *const T as *const u8, p as *mut u8, n);
    *(p as *mut usize) = sz;
    Ok(())
}

/// A file descriptor the C caller passes, borrowed for the call; refused
/// (EBADF) when negative.
///
/// # Safety
/// `fd` is negative or open for the duration of the call.
pub(super) unsafe fn fd_arg<'a>(fd: c_int, what: &str) -> Result<BorrowedFd<'a>> {
    if fd < 0 {
        return Err(Error::new(ErrorKind::InvalidArgument, libc::EBADF, format!("{what} is {fd}, not a file descriptor")));
    }
    // SAFETY: the caller's promise.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}
