//! `bpf()` commands on links: `BPF_LINK_UPDATE`, `BPF_LINK_DETACH`,
//! `BPF_ITER_CREATE`, `BPF_LINK_CREATE` with iterator parameters, and
//! `BPF_OBJ_GET_INFO_BY_FD` of a link (`struct bpf_link_info`). Layouts are
//! the uapi's, sizes checked at compile time as in `bpf.rs`.

use super::{check, owned, SysResult};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
const BPF_LINK_CREATE: u32 = 28;
const BPF_LINK_UPDATE: u32 = 29;
const BPF_ITER_CREATE: u32 = 33;
const BPF_LINK_DETACH: u32 = 34;
/// `BPF_F_REPLACE`: the update only happens if the link runs `old_prog_fd`.
const BPF_F_REPLACE: u32 = 1 << 2;

/// `bpf(cmd, attr, sizeof(*attr))` for the attrs of this file.
///
/// # Safety
/// `T` is the uapi layout of `cmd`'s attr, and its pointers point to memory
/// live for the call, as large as the kernel reads or writes there.
unsafe fn bpf<T>(cmd: u32, attr: &mut T) -> SysResult<libc::c_long> {
    // SAFETY: the caller's contract.
    check(unsafe { libc::syscall(libc::SYS_bpf, cmd as libc::c_long, attr as *mut T as *mut libc::c_void, std::mem::size_of::<T>() as libc::c_uint) })
}

fn raw(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

/// `link_update`.
#[repr(C)]
struct LinkUpdateAttr {
    link_fd: u32,
    new_prog_fd: u32,
    flags: u32,
    old_prog_fd: u32,
}
const _: () = assert!(std::mem::size_of::<LinkUpdateAttr>() == 16);

/// `link_detach` and `iter_create` (`flags` unused by detach).
#[repr(C)]
struct LinkFdAttr {
    link_fd: u32,
    flags: u32,
}
const _: () = assert!(std::mem::size_of::<LinkFdAttr>() == 8);

/// `BPF_LINK_CREATE` with the `iter_info` member of its union.
#[repr(C)]
struct LinkCreateIterAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    iter_info: u64,
    iter_info_len: u32,
    _pad: u32,
}
const _: () = assert!(std::mem::size_of::<LinkCreateIterAttr>() == 32);

/// `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `struct bpf_link_info`: the common head and its union as raw bytes,
/// 48 of them (the largest member, `perf_event`, since Linux 6.6).
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub(crate) struct LinkInfoRaw {
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    _pad: u32,
    pub union: [u8; 48],
}
const _: () = assert!(std::mem::size_of::<LinkInfoRaw>() == 64);

/// `BPF_LINK_UPDATE`: run `new_prog` in the link; with `old_prog`, only if
/// that is the program it runs now (`BPF_F_REPLACE`).
pub(crate) fn link_update(link: BorrowedFd<'_>, new_prog: BorrowedFd<'_>, old_prog: Option<BorrowedFd<'_>>) -> SysResult<()> {
    let mut a = LinkUpdateAttr { link_fd: raw(link), new_prog_fd: raw(new_prog), flags: 0, old_prog_fd: 0 };
    if let Some(o) = old_prog {
        a.flags = BPF_F_REPLACE;
        a.old_prog_fd = raw(o);
    }
    // SAFETY: no pointers.
    unsafe { bpf(BPF_LINK_UPDATE, &mut a).map(drop) }
}

/// `BPF_LINK_DETACH`: the attachment goes, the link fd stays (defunct).
pub(crate) fn link_detach(link: BorrowedFd<'_>) -> SysResult<()> {
    let mut a = LinkFdAttr { link_fd: raw(link), flags: 0 };
    // SAFETY: no pointers.
    unsafe { bpf(BPF_LINK_DETACH, &mut a).map(drop) }
}

/// `BPF_ITER_CREATE`: a new readable fd of an iterator link's output.
pub(crate) fn iter_create(link: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    let mut a = LinkFdAttr { link_fd: raw(link), flags: 0 };
    // SAFETY: no pointers; a successful call returned a fresh fd.
    unsafe { bpf(BPF_ITER_CREATE, &mut a).map(|fd| owned(fd)) }
}

/// `BPF_LINK_CREATE` of an iterator (`BPF_TRACE_ITER`) with its
/// `union bpf_iter_link_info` bytes (empty: none).
pub(crate) fn link_create_iter(prog: BorrowedFd<'_>, attach_type: u32, iter_info: &[u8]) -> SysResult<OwnedFd> {
    let mut a = LinkCreateIterAttr { prog_fd: raw(prog), target_fd: 0, attach_type, flags: 0, iter_info: 0, iter_info_len: 0, _pad: 0 };
    if !iter_info.is_empty() {
        a.iter_info = iter_info.as_ptr() as u64;
        a.iter_info_len = iter_info.len() as u32;
    }
    // SAFETY: `iter_info` is only read, within its length.
    unsafe { bpf(BPF_LINK_CREATE, &mut a).map(|fd| owned(fd)) }
}

/// `BPF_LINK_CREATE` with a raw target (an fd or 0): struct_ops links name
/// their map in `prog_fd`.
pub(crate) fn link_create_raw(prog_or_map: BorrowedFd<'_>, target: u32, attach_type: u32) -> SysResult<OwnedFd> {
    let mut a = LinkCreateIterAttr { prog_fd: raw(prog_or_map), target_fd: target, attach_type, flags: 0, iter_info: 0, iter_info_len: 0, _pad: 0 };
    // SAFETY: no pointers.
    unsafe { bpf(BPF_LINK_CREATE, &mut a).map(|fd| owned(fd)) }
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a link. `name` (may be empty) receives the
/// name the link type reports (a raw tracepoint's, an iterator's target, a
/// perf event's function, file or tracepoint), NUL-terminated.
pub(crate) fn link_info(link: BorrowedFd<'_>, name: &mut [u8]) -> SysResult<LinkInfoRaw> {
    // The first call says the type; the second gives a name buffer where the
    // type has one (the union's layout depends on it).
    let mut info = LinkInfoRaw { link_type: 0, id: 0, prog_id: 0, _pad: 0, union: [0; 48] };
    let mut a = InfoAttr { bpf_fd: raw(link), info_len: 64, info: &mut info as *mut LinkInfoRaw as u64 };
    // SAFETY: the kernel writes at most `info_len` bytes, the size of `info`.
    unsafe { bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a)? };
    // raw_tracepoint (1) and iter (4) have {ptr, len} at 0; perf_event (7) at 8.
    let at = match info.link_type {
        1 | 4 => 0,
        7 => 8,
        _ => return Ok(info),
    };
    if name.is_empty() {
        return Ok(info);
    }
    let mut info2 = LinkInfoRaw { union: [0; 48], ..info };
    info2.union[at..at + 8].copy_from_slice(&(name.as_mut_ptr() as u64).to_ne_bytes());
    info2.union[at + 8..at + 12].copy_from_slice(&(name.len() as u32).to_ne_bytes());
    let mut a = InfoAttr { bpf_fd: raw(link), info_len: 64, info: &mut info2 as *mut LinkInfoRaw as u64 };
    // SAFETY: as above, and the kernel writes at most `name.len()` bytes of name.
    match unsafe { bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a) } {
        Ok(_) => Ok(info2),
        // A kernel that reports no name for this type: the first answer stands.
        Err(_) => Ok(info),
    }
}
