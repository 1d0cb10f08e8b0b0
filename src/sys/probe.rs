//! The `bpf()` commands the probe attachments need beyond the basics: the
//! maps a loaded program uses (USDT finds its spec maps this way), and the
//! multi-probe links (`BPF_TRACE_KPROBE_MULTI`, `BPF_TRACE_UPROBE_MULTI`).

use super::bpf::{bpf, bpf_fd, cmd, raw, IdAttr, InfoAttr};
use super::SysResult;
use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};


/// `struct bpf_prog_info` up to `map_ids`.
#[repr(C)]
#[derive(Default)]
struct ProgInfoHead {
    prog_type: u32,
    id: u32,
    tag: [u8; 8],
    jited_prog_len: u32,
    xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    load_time: u64,
    created_by_uid: u32,
    nr_map_ids: u32,
    map_ids: u64,
}
const _: () = assert!(std::mem::size_of::<ProgInfoHead>() == 64);

/// The ids of the maps program `prog` uses.
pub(crate) fn prog_map_ids(prog: BorrowedFd<'_>) -> SysResult<Vec<u32>> {
    let mut info = ProgInfoHead::default();
    let mut a = InfoAttr { bpf_fd: raw(prog), info_len: 64, info: &mut info as *mut ProgInfoHead as u64 };
    // SAFETY: the kernel writes at most info_len bytes, the size of `info`; map_ids is 0 (not written).
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut a)? };
    let mut ids = vec![0u32; info.nr_map_ids as usize];
    let n = info.nr_map_ids;
    info = ProgInfoHead { nr_map_ids: n, map_ids: ids.as_mut_ptr() as u64, ..Default::default() };
    let mut a = InfoAttr { bpf_fd: raw(prog), info_len: 64, info: &mut info as *mut ProgInfoHead as u64 };
    // SAFETY: as above; the kernel writes at most nr_map_ids u32s to map_ids, which has room for them.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut a)? };
    ids.truncate(info.nr_map_ids.min(n) as usize);
    Ok(ids)
}

/// `BPF_MAP_GET_FD_BY_ID`.
pub(crate) fn map_fd_by_id(id: u32) -> SysResult<OwnedFd> {
    let mut a = IdAttr { id, ..Default::default() };
    // SAFETY: no pointers.
    unsafe { bpf_fd(cmd::MAP_GET_FD_BY_ID, &mut a) }
}

/// `link_create` with the `kprobe_multi` or `uprobe_multi` tail.
#[repr(C)]
struct LinkMultiAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    // From here: the union member.
    a: [u64; 6],
}
const _: () = assert!(std::mem::size_of::<LinkMultiAttr>() == 64);

/// `BPF_LINK_CREATE` of a `BPF_TRACE_KPROBE_MULTI`/`KPROBE_SESSION` link: by
/// symbol names (`syms`) or addresses (`addrs`), one of them empty; `cookies`
/// empty or one per probe; `flags` `BPF_F_KPROBE_MULTI_RETURN`.
pub(crate) fn link_create_kprobe_multi(prog: BorrowedFd<'_>, attach_type: u32, flags: u32, syms: &[&CStr], addrs: &[u64], cookies: &[u64]) -> SysResult<OwnedFd> {
    let ptrs: Vec<u64> = syms.iter().map(|s| s.as_ptr() as u64).collect();
    let cnt = ptrs.len().max(addrs.len());
    assert!((syms.is_empty() || addrs.is_empty()) && (cookies.is_empty() || cookies.len() == cnt));
    let p = |v: &[u64]| if v.is_empty() { 0 } else { v.as_ptr() as u64 };
    let mut a = LinkMultiAttr { prog_fd: raw(prog), target_fd: 0, attach_type, flags: 0, a: [0; 6] };
    a.a[0] = flags as u64 | (cnt as u64) << 32;
    a.a[1] = p(&ptrs);
    a.a[2] = p(addrs);
    a.a[3] = p(cookies);
    // SAFETY: syms/addrs/cookies hold `cnt` entries (or are NULL) and outlive the call; each sym is NUL-terminated.
    unsafe { bpf_fd(cmd::LINK_CREATE, &mut a) }
}

/// `BPF_LINK_CREATE` of a `BPF_TRACE_UPROBE_MULTI` link: `offsets` in file
/// `path`, with optional `ref_ctr_offsets` and `cookies` (empty or one per
/// offset), `flags` `BPF_F_UPROBE_MULTI_RETURN`, `pid` 0 for every process.
pub(crate) fn link_create_uprobe_multi(prog: BorrowedFd<'_>, attach_type: u32, path: &CStr, offsets: &[u64], ref_ctrs: &[u64], cookies: &[u64], flags: u32, pid: u32) -> SysResult<OwnedFd> {
    let cnt = offsets.len();
    assert!((ref_ctrs.is_empty() || ref_ctrs.len() == cnt) && (cookies.is_empty() || cookies.len() == cnt));
    let p = |v: &[u64]| if v.is_empty() { 0 } else { v.as_ptr() as u64 };
    let mut a = LinkMultiAttr { prog_fd: raw(prog), target_fd: 0, attach_type, flags: 0, a: [0; 6] };
    a.a[0] = path.as_ptr() as u64;
    a.a[1] = p(offsets);
    a.a[2] = p(ref_ctrs);
    a.a[3] = p(cookies);
    a.a[4] = cnt as u64 | (flags as u64) << 32;
    a.a[5] = pid as u64;
    // SAFETY: the arrays hold `cnt` entries (or are NULL), `path` is NUL-terminated, all outlive the call.
    unsafe { bpf_fd(cmd::LINK_CREATE, &mut a) }
}

/// `BPF_LINK_CREATE` of a tracing link (fentry/fexit/fmod_ret/lsm, loaded
/// with their BTF target) carrying `cookie` (`link_create.tracing`, 5.19+).
pub(crate) fn link_create_tracing(prog: BorrowedFd<'_>, attach_type: u32, cookie: u64) -> SysResult<OwnedFd> {
    let mut a = LinkMultiAttr { prog_fd: raw(prog), target_fd: 0, attach_type, flags: 0, a: [0; 6] };
    a.a[1] = cookie; // tracing.target_btf_id (0: the one given at load), then tracing.cookie
    // SAFETY: no pointers.
    unsafe { bpf_fd(cmd::LINK_CREATE, &mut a) }
}
