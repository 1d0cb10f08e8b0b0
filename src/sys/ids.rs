//! What is loaded in the kernel, system-wide: `BPF_{PROG,LINK}_GET_NEXT_ID`,
//! `..._GET_FD_BY_ID` and the start of their `BPF_OBJ_GET_INFO_BY_FD` records
//! (the kernel copies no more than the length we give, so a prefix is enough).
use super::bpf::{bpf, bpf_fd, cmd, raw, IdAttr, InfoAttr};
use super::SysResult;
use std::os::fd::{AsFd, OwnedFd};

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
    nr_map_ids: u32,
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

fn info<T: Default>(fd: &OwnedFd) -> SysResult<T> {
    let mut v = T::default();
    let mut a = InfoAttr { bpf_fd: raw(fd.as_fd()), info_len: std::mem::size_of::<T>() as u32, info: &mut v as *mut T as u64 };
    // SAFETY: the kernel writes at most `info_len` bytes, the size of `v`, a plain record.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut a)? };
    Ok(v)
}

/// Every program loaded in the kernel. One that goes away between its id
/// and its fd (ENOENT) is skipped.
pub(crate) fn programs() -> SysResult<Vec<ProgInfo>> {
    walk(cmd::PROG_GET_NEXT_ID, cmd::PROG_GET_FD_BY_ID)
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
            Ok(fd) => out.push(info(&fd)?),
            Err(e) if e.0 == libc::ENOENT => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
