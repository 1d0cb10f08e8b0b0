//! epoll, for consumers that wait on several rings at once.

use super::{check, owned, SysResult};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// `epoll_create1(EPOLL_CLOEXEC)`.
pub(crate) fn epoll_create() -> SysResult<OwnedFd> {
    // SAFETY: no pointers.
    let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) } as libc::c_long)?;
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { owned(fd) })
}

/// Watch `fd` for input on epoll instance `ep`, tagged with `data`.
pub(crate) fn epoll_add(ep: BorrowedFd<'_>, fd: BorrowedFd<'_>, data: u64) -> SysResult<()> {
    let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: data };
    // SAFETY: a valid epoll_event the kernel copies.
    check(unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) } as libc::c_long).map(drop)
}

/// `epoll_wait`: the tags of ready fds are written to `out`; returns how many.
pub(crate) fn epoll_wait(ep: BorrowedFd<'_>, out: &mut [u64], timeout_ms: i32) -> SysResult<usize> {
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; out.len().max(1)];
    // SAFETY: evs holds evs.len() events for the kernel to fill.
    let n = check(unsafe { libc::epoll_wait(ep.as_raw_fd(), evs.as_mut_ptr(), evs.len() as libc::c_int, timeout_ms) } as libc::c_long)?;
    let n = (n as usize).min(out.len());
    for (o, e) in out.iter_mut().zip(&evs[..n]) {
        *o = e.u64;
    }
    Ok(n)
}
