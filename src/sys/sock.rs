//! Socket options that attach BPF programs to sockets.

use super::{check, SysResult};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// `SO_ATTACH_BPF`: a socket filter program.
pub(crate) const SO_ATTACH_BPF: i32 = 50;
/// `SO_DETACH_BPF` (= `SO_DETACH_FILTER`).
pub(crate) const SO_DETACH_BPF: i32 = 27;
/// `SO_ATTACH_REUSEPORT_EBPF`: an `sk_reuseport` program on a reuseport group.
pub(crate) const SO_ATTACH_REUSEPORT_EBPF: i32 = 52;
/// `SO_DETACH_REUSEPORT_BPF` (Linux 5.3).
pub(crate) const SO_DETACH_REUSEPORT_BPF: i32 = 68;

/// `setsockopt(sock, SOL_SOCKET, opt, &prog_fd)`: attach a program with `opt`.
pub(crate) fn sock_attach_prog(sock: BorrowedFd<'_>, opt: i32, prog: BorrowedFd<'_>) -> SysResult<()> {
    let v: libc::c_int = prog.as_raw_fd();
    // SAFETY: the kernel reads an int from `v`, which lives for the call.
    check(unsafe { libc::setsockopt(sock.as_raw_fd(), libc::SOL_SOCKET, opt, &v as *const libc::c_int as *const libc::c_void, std::mem::size_of::<libc::c_int>() as u32) } as libc::c_long).map(drop)
}

/// `setsockopt(sock, SOL_SOCKET, opt, ...)` for a detach option (it takes no
/// value of note). `sock` is a number the caller does not own: a link must not
/// keep the user's socket open, so it checks with [`fd_identity`] first; a
/// number closed meanwhile only fails with `EBADF`.
pub(crate) fn sock_detach_prog(sock: RawFd, opt: i32) -> SysResult<()> {
    let v: libc::c_int = 0;
    // SAFETY: as above; setsockopt on any number touches no memory of ours.
    check(unsafe { libc::setsockopt(sock, libc::SOL_SOCKET, opt, &v as *const libc::c_int as *const libc::c_void, std::mem::size_of::<libc::c_int>() as u32) } as libc::c_long).map(drop)
}

/// The (device, inode) of what fd number `fd` refers to now: whether a
/// number still names the same socket.
pub(crate) fn fd_identity(fd: RawFd) -> SysResult<(u64, u64)> {
    // SAFETY: a zeroed `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes one `struct stat` into `st`.
    check(unsafe { libc::fstat(fd, &mut st) } as libc::c_long)?;
    Ok((st.st_dev, st.st_ino))
}
