//! The `bpf()` commands of networking: `BPF_PROG_TEST_RUN`, `BPF_LINK_CREATE`
//! for an interface (XDP, TCX), and a program's id. A
//! submodule of `bpf.rs`, whose private `bpf()` door it uses.

use super::{bpf, bpf_fd, raw, InfoAttr};
use crate::sys::SysResult;
use std::os::fd::{BorrowedFd, OwnedFd};

const PROG_TEST_RUN: u32 = 10;
const OBJ_GET_INFO_BY_FD: u32 = 15;
const LINK_CREATE: u32 = 28;

/// `BPF_PROG_TEST_RUN`, up to `batch_size` (Linux 5.18).
#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}
uapi_size!(TestRunAttr, 80); // offsetofend(test.batch_size) = 76, padded to 8

/// Parameters of `BPF_PROG_TEST_RUN`.
#[derive(Debug, Default)]
pub(crate) struct TestRun<'a> {
    pub data_in: &'a [u8],
    pub data_out: Option<&'a mut [u8]>,
    pub ctx_in: &'a [u8],
    pub ctx_out: Option<&'a mut [u8]>,
    pub repeat: u32,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
}

/// What `BPF_PROG_TEST_RUN` reports (also on `ENOSPC`, where the sizes say
/// how much output there was).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestRunOut {
    pub retval: u32,
    pub duration: u32,
    pub data_size_out: u32,
    pub ctx_size_out: u32,
}

fn len32(b: &[u8]) -> u32 {
    b.len().min(u32::MAX as usize) as u32
}

/// `BPF_PROG_TEST_RUN`.
///
/// # Safety
/// Kernels before 5.0 ignore `data_size_out` and write the whole output
/// packet into `data_out`: on those, `data_out` must be None or hold the
/// largest packet the program can make.
pub(crate) unsafe fn prog_test_run(prog: BorrowedFd<'_>, t: &mut TestRun<'_>) -> (SysResult<()>, TestRunOut) {
    let (dout, dlen) = t.data_out.as_deref_mut().map_or((0, 0), |b| (b.as_mut_ptr() as u64, len32(b)));
    let (cout, clen) = t.ctx_out.as_deref_mut().map_or((0, 0), |b| (b.as_mut_ptr() as u64, len32(b)));
    let mut a = TestRunAttr {
        prog_fd: raw(prog),
        data_size_in: len32(t.data_in),
        data_size_out: dlen,
        data_in: if t.data_in.is_empty() { 0 } else { t.data_in.as_ptr() as u64 },
        data_out: dout,
        repeat: t.repeat,
        ctx_size_in: len32(t.ctx_in),
        ctx_size_out: clen,
        ctx_in: if t.ctx_in.is_empty() { 0 } else { t.ctx_in.as_ptr() as u64 },
        ctx_out: cout,
        flags: t.flags,
        cpu: t.cpu,
        batch_size: t.batch_size,
        ..Default::default()
    };
    // SAFETY: inputs are only read within their lengths; the kernel (5.0+)
    // writes at most `*_size_out` bytes of output; older kernels are the
    // caller's contract.
    let r = unsafe { bpf(PROG_TEST_RUN, &mut a) }.map(drop);
    (r, TestRunOut { retval: a.retval, duration: a.duration, data_size_out: a.data_size_out, ctx_size_out: a.ctx_size_out })
}

/// `BPF_LINK_CREATE` of an interface or cgroup target with the `tcx` /
/// `netkit` member of its union (`relative_fd`/`relative_id`,
/// `expected_revision`); zero there is what XDP and plain targets send.
#[repr(C)]
#[derive(Default)]
struct LinkCreateRelAttr {
    prog_fd: u32,
    target: u32,
    attach_type: u32,
    flags: u32,
    relative: u32,
    _pad: u32,
    expected_revision: u64,
}
uapi_size!(LinkCreateRelAttr, 32); // offsetofend(link_create.tcx.expected_revision)

/// `BPF_LINK_CREATE` on interface `ifindex` (XDP: `relative` 0; TCX:
/// `relative` is a program/link fd or id as `flags` say).
pub(crate) fn link_create_ifindex(prog: BorrowedFd<'_>, ifindex: u32, attach_type: u32, flags: u32, relative: u32, expected_revision: u64) -> SysResult<OwnedFd> {
    let mut a = LinkCreateRelAttr { prog_fd: raw(prog), target: ifindex, attach_type, flags, relative, _pad: 0, expected_revision };
    // SAFETY: no pointers.
    unsafe { bpf_fd(LINK_CREATE, &mut a) }
}

/// The first fields of `struct bpf_prog_info`: the kernel copies as much as we ask.
#[repr(C)]
#[derive(Default)]
struct ProgInfoHead {
    prog_type: u32,
    id: u32,
}

/// A loaded program's id (what netlink and the kernel's queries report).
pub(crate) fn prog_id(prog: BorrowedFd<'_>) -> SysResult<u32> {
    let mut info = ProgInfoHead::default();
    let mut a = InfoAttr { bpf_fd: raw(prog), info_len: std::mem::size_of::<ProgInfoHead>() as u32, info: &mut info as *mut ProgInfoHead as u64 };
    // SAFETY: the kernel writes at most `info_len` bytes, the size of `info`.
    unsafe { bpf(OBJ_GET_INFO_BY_FD, &mut a)? };
    Ok(info.id)
}

const PROG_QUERY: u32 = 16;

/// `BPF_PROG_QUERY` up to `revision` (Linux 6.6): the multi-program form
/// that TCX and netkit answer, by interface index.
#[repr(C)]
#[derive(Default)]
struct ProgQueryMprogAttr {
    target_ifindex: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    count: u32,
    _pad: u32,
    prog_attach_flags: u64,
    link_ids: u64,
    link_attach_flags: u64,
    revision: u64,
}
uapi_size!(ProgQueryMprogAttr, 64); // offsetofend(query.revision) = 64

/// `BPF_PROG_QUERY` of interface `ifindex` for `attach_type`: fills up to
/// `prog_ids.len()` program ids and as many link ids (0 where attached
/// without a link; `link_ids` is as long as `prog_ids`), and returns how
/// many there are in all and the list's revision.
pub(crate) fn prog_query_ifindex(ifindex: u32, attach_type: u32, prog_ids: &mut [u32], link_ids: &mut [u32]) -> SysResult<(u32, u64)> {
    assert_eq!(prog_ids.len(), link_ids.len());
    let room = prog_ids.len().min(u32::MAX as usize) as u32;
    let (p, l) = if room == 0 { (0, 0) } else { (prog_ids.as_mut_ptr() as u64, link_ids.as_mut_ptr() as u64) };
    let mut a = ProgQueryMprogAttr { target_ifindex: ifindex, attach_type, prog_ids: p, link_ids: l, count: room, ..Default::default() };
    // SAFETY: the kernel writes at most `count` ids to each array, both that long.
    match unsafe { bpf(PROG_QUERY, &mut a) } {
        // More programs than room: the kernel still says how many.
        Ok(_) | Err(crate::sys::Errno(libc::ENOSPC)) => Ok((a.count, a.revision)),
        Err(e) => Err(e),
    }
}
