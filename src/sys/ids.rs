//! What is loaded in the kernel, system-wide: `BPF_{PROG,MAP,LINK}_GET_NEXT_ID`,
//! `..._GET_FD_BY_ID` and the start of their `BPF_OBJ_GET_INFO_BY_FD` records
//! (the kernel copies no more than the length we give, so a prefix is enough).
use super::bpf::{bpf, bpf_fd, cmd, raw, IdAttr, InfoAttr, MapInfo};
use super::SysResult;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// `struct bpf_prog_info` up to `name`.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct ProgInfo {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    map_ids: u64,
    pub name: [u8; 16],
}
const _: () = assert!(std::mem::size_of::<ProgInfo>() == 80); // offsetofend(struct bpf_prog_info, name)

/// `struct bpf_link_info` up to `prog_id`, padded to its union's alignment.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct LinkInfo {
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    _pad: u32,
}

/// The id after `id` (0: the first), None at the end.
fn next_id(cmd: u32, id: u32) -> SysResult<Option<u32>> {
    let mut a = IdAttr { id, ..Default::default() };
    // SAFETY: the attr holds only numbers.
    match unsafe { bpf(cmd, &mut a) } {
        Ok(_) => Ok(Some(a.next_id)),
        Err(e) if e.0 == libc::ENOENT => Ok(None),
        Err(e) => Err(e),
    }
}

fn fd_by_id(cmd: u32, id: u32) -> SysResult<OwnedFd> {
    let mut a = IdAttr { id, ..Default::default() };
    // SAFETY: the attr holds only numbers; success returns a fresh fd.
    unsafe { bpf_fd(cmd, &mut a) }
}

fn info<T: Default>(fd: BorrowedFd<'_>) -> SysResult<T> {
    let mut v = T::default();
    let mut a = InfoAttr { bpf_fd: raw(fd), info_len: std::mem::size_of::<T>() as u32, info: &mut v as *mut T as u64 };
    // SAFETY: the kernel writes at most `info_len` bytes, the size of `v`, a plain record.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut a)? };
    Ok(v)
}

/// Every program loaded in the kernel. One that goes away between its id
/// and its fd (ENOENT) is skipped.
pub(crate) fn programs() -> SysResult<Vec<ProgInfo>> {
    walk(cmd::PROG_GET_NEXT_ID, cmd::PROG_GET_FD_BY_ID)
}

/// Every map in the kernel.
pub(crate) fn maps() -> SysResult<Vec<MapInfo>> {
    walk(cmd::MAP_GET_NEXT_ID, cmd::MAP_GET_FD_BY_ID)
}

/// Which of programs, maps and links an id call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Program,
    Map,
    Link,
}

impl Kind {
    fn cmds(self) -> (u32, u32) {
        match self {
            Kind::Program => (cmd::PROG_GET_NEXT_ID, cmd::PROG_GET_FD_BY_ID),
            Kind::Map => (cmd::MAP_GET_NEXT_ID, cmd::MAP_GET_FD_BY_ID),
            Kind::Link => (cmd::LINK_GET_NEXT_ID, cmd::LINK_GET_FD_BY_ID),
        }
    }
}

/// The id of `kind` after `id` (0: the first), None after the last.
pub(crate) fn next(kind: Kind, id: u32) -> SysResult<Option<u32>> {
    next_id(kind.cmds().0, id)
}

/// The info record of the object of `kind` with `id` (ENOENT: no such id).
pub(crate) fn info_by_id<T: Default>(kind: Kind, id: u32) -> SysResult<T> {
    let fd = fd_by_id(kind.cmds().1, id)?;
    info(fd.as_fd())
}

/// The info record of a program fd we hold.
pub(crate) fn program_info(fd: BorrowedFd<'_>) -> SysResult<ProgInfo> {
    info(fd)
}

/// Every link in the kernel.
pub(crate) fn links() -> SysResult<Vec<LinkInfo>> {
    walk(cmd::LINK_GET_NEXT_ID, cmd::LINK_GET_FD_BY_ID)
}

fn walk<T: Default>(next: u32, by_id: u32) -> SysResult<Vec<T>> {
    let mut out = Vec::new();
    let mut id = 0;
    while let Some(n) = next_id(next, id)? {
        id = n;
        match fd_by_id(by_id, n) {
            Ok(fd) => out.push(info(fd.as_fd())?),
            Err(e) if e.0 == libc::ENOENT => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
