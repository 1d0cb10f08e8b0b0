//! The door to the kernel: every `bpf()`, `perf_event_open()`, `ioctl()`,
//! `mmap()`, `epoll_*()`, `membarrier()`, `statfs()` and `uname()` bpfl makes
//! goes through this module; nothing else in the crate calls libc for the
//! kernel. It is private to the crate.
//!
//! Every function here is sound to call from safe code, except the few whose
//! buffers the kernel fills to a size only the kernel knows (a map's key and
//! value sizes): those are `unsafe fn` and say what the caller must check.
//! Failures come back as an [`Errno`]; callers turn it into a
//! [`crate::Error`] with their own context.

pub(crate) mod bpf;
pub(crate) mod ids;
pub(crate) mod epoll;
pub(crate) mod file;
pub(crate) mod link;
pub(crate) mod misc;
pub(crate) mod mmap;
pub(crate) mod netlink;
pub(crate) mod perf;
pub(crate) mod sock;
pub(crate) mod probe;
pub(crate) mod region;

pub(crate) use bpf::*;
pub(crate) use epoll::*;
pub(crate) use link::*;
pub(crate) use misc::*;
pub(crate) use mmap::Mmap;
pub(crate) use perf::*;
pub(crate) use sock::*;
pub(crate) use probe::*;

use crate::error::Error;
use std::fmt;

/// A positive errno from a failed system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Errno(pub i32);

impl Errno {
    /// The errno of the last failed libc call on this thread.
    pub(crate) fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
    }
    /// The errno an I/O error carries (`EIO` when it has none).
    pub(crate) fn of_io(e: &std::io::Error) -> Errno {
        Errno(e.raw_os_error().unwrap_or(libc::EIO))
    }
    /// An [`Error`] of kind `Os` that says `what` failed.
    pub(crate) fn error(self, what: impl Into<String>) -> Error {
        Error::os(self.0, what)
    }
}

impl fmt::Display for Errno {
    // The bare number: what the messages built from it have always shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a system call gives back: its value, or the errno it failed with.
pub(crate) type SysResult<T> = std::result::Result<T, Errno>;

/// The NUL-terminated prefix of a buffer, as text.
pub(crate) fn cstr_lossy(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// A syscall's return: negative means failure with `errno` set.
#[inline]
fn check(r: libc::c_long) -> SysResult<libc::c_long> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// Take ownership of a descriptor the kernel just returned.
///
/// # Safety
/// `fd` is a fresh descriptor that nothing else owns.
unsafe fn owned(fd: libc::c_long) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: the caller's contract.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as std::os::fd::RawFd) }
}

#[cfg(test)]
mod tests {
    /// The door is the only one: no other source file calls libc for the kernel.
    #[test]
    fn only_sys_makes_system_calls() {
        const CALLS: &[&str] = &[
            "libc::syscall", "libc::SYS_", "libc::ioctl", "libc::mmap", "libc::munmap", "libc::epoll_", "libc::uname", "libc::statfs", "libc::fcntl",
            "libc::sysconf", "libc::setsockopt", "libc::open", "libc::close", "libc::read(", "libc::write(",
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let sys = root.join("sys");
        let mut stack = vec![root];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path != sys {
                        stack.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    offenders.extend(CALLS.iter().filter(|c| text.contains(*c)).map(|c| format!("{}: {c}", path.display())));
                }
            }
        }
        assert!(offenders.is_empty(), "system calls outside src/sys: {offenders:?}");
    }
}
