//! `bpf()` commands. Struct layouts are the kernel uapi's (`linux/bpf.h`):
//! each command has its own `#[repr(C)]` slice of `union bpf_attr`, passed
//! with its exact size (the kernel zero-extends what is shorter than its own),
//! and each size is checked at compile time against the uapi.

use super::{check, owned, Errno, SysResult};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// `enum bpf_cmd` values used by bpfl.
pub(super) mod cmd {
    pub const MAP_CREATE: u32 = 0;
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const MAP_GET_NEXT_KEY: u32 = 4;
    pub const PROG_LOAD: u32 = 5;
    pub const OBJ_PIN: u32 = 6;
    pub const OBJ_GET: u32 = 7;
    pub const PROG_GET_NEXT_ID: u32 = 11;
    pub const PROG_GET_FD_BY_ID: u32 = 13;
    pub const MAP_GET_NEXT_ID: u32 = 12;
    pub const PROG_ATTACH: u32 = 8;
    pub const PROG_DETACH: u32 = 9;
    pub const PROG_QUERY: u32 = 16;
    pub const OBJ_GET_INFO_BY_FD: u32 = 15;
    pub const BTF_GET_FD_BY_ID: u32 = 19;
    pub const MAP_GET_FD_BY_ID: u32 = 14;
    pub const LINK_GET_FD_BY_ID: u32 = 30;
    pub const LINK_GET_NEXT_ID: u32 = 31;
    pub const RAW_TRACEPOINT_OPEN: u32 = 17;
    pub const BTF_LOAD: u32 = 18;
    pub const MAP_FREEZE: u32 = 22;
    pub const MAP_LOOKUP_BATCH: u32 = 24;
    pub const MAP_LOOKUP_AND_DELETE_BATCH: u32 = 25;
    pub const MAP_UPDATE_BATCH: u32 = 26;
    pub const MAP_DELETE_BATCH: u32 = 27;
    pub const LINK_CREATE: u32 = 28;
}

/// The kernel-internal `ENOTSUPP` some bpf() commands leak to user space.
pub(crate) const ENOTSUPP: i32 = 524;

/// Compile-time check that an attr struct is the size of its uapi slice.
macro_rules! uapi_size {
    ($t:ty, $n:expr) => {
        const _: () = assert!(std::mem::size_of::<$t>() == $n);
    };
}

/// `BPF_MAP_CREATE`, up to `map_extra` (Linux 5.16).
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
}
uapi_size!(MapCreateAttr, 72); // offsetofend(union bpf_attr, map_extra)

/// `BPF_MAP_{LOOKUP,UPDATE,DELETE}_ELEM` and `BPF_MAP_GET_NEXT_KEY`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}
uapi_size!(MapElemAttr, 32); // offsetofend(union bpf_attr, flags)

/// `BPF_MAP_*_BATCH`.
#[repr(C)]
#[derive(Default)]
struct MapBatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}
uapi_size!(MapBatchAttr, 56); // sizeof(((union bpf_attr *)0)->batch)

/// `BPF_MAP_FREEZE`.
#[repr(C)]
#[derive(Default)]
struct MapFdAttr {
    map_fd: u32,
}
uapi_size!(MapFdAttr, 4); // offsetofend(union bpf_attr, map_fd)

/// `BPF_PROG_LOAD`, up to `log_true_size` (Linux 6.4).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    log_true_size: u32,
}
uapi_size!(ProgLoadAttr, 144); // offsetofend(union bpf_attr, log_true_size)

/// `BPF_OBJ_PIN` and `BPF_OBJ_GET`, up to `file_flags`.
#[repr(C)]
#[derive(Default)]
struct ObjAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}
uapi_size!(ObjAttr, 16); // offsetofend(union bpf_attr, file_flags)

/// `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
pub(super) struct InfoAttr {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}
uapi_size!(InfoAttr, 16); // sizeof(((union bpf_attr *)0)->info)

/// `BPF_BTF_LOAD`, up to `btf_log_true_size` (Linux 6.4).
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    btf_log_true_size: u32,
}
uapi_size!(BtfLoadAttr, 32); // offsetofend(union bpf_attr, btf_log_true_size)

/// `BPF_RAW_TRACEPOINT_OPEN`, without the 6.10 cookie.
#[repr(C)]
#[derive(Default)]
struct RawTpAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}
uapi_size!(RawTpAttr, 16); // offsetofend(raw_tracepoint.prog_fd) = 12, padded to 8

/// `BPF_LINK_CREATE` with the `perf_event` member of its union.
#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    bpf_cookie: u64,
}
uapi_size!(LinkCreateAttr, 24); // offsetofend(union bpf_attr, link_create.perf_event)

/// `BPF_PROG_ATTACH` and `BPF_PROG_DETACH`, up to `replace_bpf_fd` (Linux 5.6).
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}
uapi_size!(ProgAttachAttr, 20); // offsetofend(union bpf_attr, replace_bpf_fd)

/// `BPF_PROG_QUERY`, up to `prog_cnt`.
#[repr(C)]
#[derive(Default)]
struct ProgQueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}
uapi_size!(ProgQueryAttr, 32); // offsetofend(query.prog_cnt) = 28, padded to 8

/// `BPF_LINK_CREATE` with the `netfilter` member of its union (Linux 6.4).
#[repr(C)]
#[derive(Default)]
struct LinkCreateNetfilterAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    pf: u32,
    hooknum: u32,
    priority: i32,
    nf_flags: u32,
}
uapi_size!(LinkCreateNetfilterAttr, 32); // offsetofend(union bpf_attr, link_create.netfilter.flags)

/// `struct bpf_map_info` (the part bpfl reads), up to `map_extra`.
#[repr(C)]
#[derive(Default, Debug, Clone)]
pub(crate) struct MapInfo {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; 16],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    _pad: u32,
    pub map_extra: u64,
}
uapi_size!(MapInfo, 88); // offsetofend(struct bpf_map_info, map_extra)

/// `bpf(cmd, attr, sizeof(*attr))`.
///
/// # Safety
/// `T` is the uapi layout of `cmd`'s attr slice, and every pointer inside
/// `attr` points to memory that stays live during the call and is at least
/// as large as the kernel will read or write there for this command.
#[inline]
pub(super) unsafe fn bpf<T>(cmd: u32, attr: &mut T) -> SysResult<libc::c_long> {
    // SAFETY: the caller's contract.
    check(unsafe { libc::syscall(libc::SYS_bpf, cmd as libc::c_long, attr as *mut T as *mut libc::c_void, std::mem::size_of::<T>() as libc::c_uint) })
}

/// [`bpf`] for a command that returns a new fd.
///
/// # Safety
/// As for [`bpf`].
pub(super) unsafe fn bpf_fd<T>(cmd: u32, attr: &mut T) -> SysResult<OwnedFd> {
    // SAFETY: the caller's contract; a successful command returned a fresh fd.
    unsafe { bpf(cmd, attr).map(|fd| owned(fd)) }
}

pub(super) fn raw(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

fn name16(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    // The kernel accepts [A-Za-z0-9_.] in object names, 15 characters at most.
    for (o, c) in out.iter_mut().zip(name.bytes().filter(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.').take(15)) {
        *o = c;
    }
    out
}

/// Parameters of `BPF_MAP_CREATE`.
#[derive(Debug, Clone, Default)]
pub(crate) struct MapCreate<'a> {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: Option<BorrowedFd<'a>>,
    pub numa_node: u32,
    pub name: &'a str,
    pub btf_fd: Option<BorrowedFd<'a>>,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub map_extra: u64,
    /// struct_ops maps: the kernel's `bpf_struct_ops_NAME` type id.
    pub btf_vmlinux_value_type_id: u32,
}

/// `BPF_MAP_CREATE`.
pub(crate) fn map_create(p: &MapCreate<'_>) -> SysResult<OwnedFd> {
    let mut a = MapCreateAttr {
        map_type: p.map_type,
        key_size: p.key_size,
        value_size: p.value_size,
        max_entries: p.max_entries,
        map_flags: p.map_flags,
        inner_map_fd: p.inner_map_fd.map_or(0, raw),
        numa_node: p.numa_node,
        map_name: name16(p.name),
        btf_fd: p.btf_fd.map_or(0, raw),
        btf_key_type_id: p.btf_key_type_id,
        btf_value_type_id: p.btf_value_type_id,
        map_extra: p.map_extra,
        btf_vmlinux_value_type_id: p.btf_vmlinux_value_type_id,
        ..Default::default()
    };
    // SAFETY: only the name (copied in) and no pointers.
    unsafe { bpf_fd(cmd::MAP_CREATE, &mut a) }
}

/// `BPF_MAP_LOOKUP_ELEM`: the value of `key` into `value`.
///
/// # Safety
/// The kernel writes the map's whole value into `value`: it must be at least
/// that long (the value size, or for per-CPU maps `round_up(value_size, 8)`
/// times the possible CPUs) for the map `fd` is.
#[inline]
pub(crate) unsafe fn map_lookup(fd: BorrowedFd<'_>, key: &[u8], value: &mut [u8], flags: u64) -> SysResult<()> {
    let mut a = MapElemAttr { map_fd: raw(fd), key: key.as_ptr() as u64, value: value.as_mut_ptr() as u64, flags, ..Default::default() };
    // SAFETY: the key is only read (a short one reads as a wrong key or
    // EFAULT); the value is as long as the kernel writes, by our contract.
    unsafe { bpf(cmd::MAP_LOOKUP_ELEM, &mut a).map(drop) }
}

/// `BPF_MAP_UPDATE_ELEM`. The kernel only reads `key` and `value`.
#[inline]
pub(crate) fn map_update(fd: BorrowedFd<'_>, key: &[u8], value: &[u8], flags: u64) -> SysResult<()> {
    let mut a = MapElemAttr { map_fd: raw(fd), key: key.as_ptr() as u64, value: value.as_ptr() as u64, flags, ..Default::default() };
    // SAFETY: both buffers are only read; short ones fail (EFAULT) or write a wrong entry, never our memory.
    unsafe { bpf(cmd::MAP_UPDATE_ELEM, &mut a).map(drop) }
}

/// `BPF_MAP_DELETE_ELEM`. The kernel only reads `key`.
#[inline]
pub(crate) fn map_delete(fd: BorrowedFd<'_>, key: &[u8]) -> SysResult<()> {
    let mut a = MapElemAttr { map_fd: raw(fd), key: key.as_ptr() as u64, ..Default::default() };
    // SAFETY: the key is only read.
    unsafe { bpf(cmd::MAP_DELETE_ELEM, &mut a).map(drop) }
}

/// `BPF_MAP_GET_NEXT_KEY`; `key` None asks for the first key.
///
/// # Safety
/// The kernel writes a whole key into `next`: it must be at least the key
/// size of the map `fd` is.
#[inline]
pub(crate) unsafe fn map_next_key(fd: BorrowedFd<'_>, key: Option<&[u8]>, next: &mut [u8]) -> SysResult<()> {
    let mut a = MapElemAttr { map_fd: raw(fd), key: key.map_or(0, |k| k.as_ptr() as u64), value: next.as_mut_ptr() as u64, ..Default::default() };
    // SAFETY: `key` is only read; `next` is a key long, by our contract.
    unsafe { bpf(cmd::MAP_GET_NEXT_KEY, &mut a).map(drop) }
}

/// What a `BPF_MAP_LOOKUP_BATCH` call did: it may read elements and still
/// fail (`ENOENT` marks the end of the map).
#[derive(Debug)]
pub(crate) struct Batch {
    /// Elements read.
    pub count: u32,
    /// How the call ended.
    pub status: SysResult<()>,
}

/// `BPF_MAP_LOOKUP_BATCH` of up to `count` elements: `in_batch` None starts
/// from the beginning; `out_batch` receives the resume token.
///
/// # Safety
/// For the map `fd` is: `keys` holds `count` keys and `values` `count` values
/// (sizes as for [`map_lookup`] and [`map_next_key`]), and `in_batch` and
/// `out_batch` are at least as long as the map's resume token (a `u32` for
/// the hash and array maps the kernel batches; the key size covers others).
pub(crate) unsafe fn map_lookup_batch(fd: BorrowedFd<'_>, in_batch: Option<&[u8]>, out_batch: &mut [u8], keys: &mut [u8], values: &mut [u8], count: u32) -> Batch {
    let b = BatchBufs { in_batch: in_batch.map_or(std::ptr::null(), |b| b.as_ptr()), out_batch: out_batch.as_mut_ptr(), keys: keys.as_mut_ptr(), values: values.as_mut_ptr() };
    // SAFETY: every buffer is as long as the kernel writes, by our contract.
    unsafe { map_batch(BatchCmd::Lookup, fd, &b, count, 0, 0) }
}

/// Which `BPF_MAP_*_BATCH` command [`map_batch`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BatchCmd {
    /// `BPF_MAP_LOOKUP_BATCH`: the kernel writes keys, values and `out_batch`.
    Lookup,
    /// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: as `Lookup`, deleting what it read.
    LookupAndDelete,
    /// `BPF_MAP_UPDATE_BATCH`: the kernel only reads keys and values.
    Update,
    /// `BPF_MAP_DELETE_BATCH`: the kernel only reads keys.
    Delete,
}

impl BatchCmd {
    /// The command's uapi name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BatchCmd::Lookup => "BPF_MAP_LOOKUP_BATCH",
            BatchCmd::LookupAndDelete => "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
            BatchCmd::Update => "BPF_MAP_UPDATE_BATCH",
            BatchCmd::Delete => "BPF_MAP_DELETE_BATCH",
        }
    }
}

/// The buffers of one batch command: raw pointers, because the kernel
/// writes some of them (lookups) and only reads others (updates, deletes).
pub(crate) struct BatchBufs {
    pub in_batch: *const u8,
    pub out_batch: *mut u8,
    pub keys: *mut u8,
    pub values: *mut u8,
}

/// One `BPF_MAP_*_BATCH` command of up to `count` elements. The kernel
/// reports how many it did, also when it fails part-way.
///
/// # Safety
/// For the map `fd` is: `keys` holds `count` keys and `values` (unless the
/// command is `Delete`, which ignores it) `count` values of the kernel's
/// value size (per-CPU: `round_up(value_size, 8)` times the possible CPUs),
/// writable for the lookup commands; `in_batch` is NULL or, like `out_batch`
/// (lookup commands only), at least `max(key size, 4)` bytes, the largest
/// resume token the kernel uses (a `u32` bucket for hash maps, a key for others).
pub(crate) unsafe fn map_batch(c: BatchCmd, fd: BorrowedFd<'_>, b: &BatchBufs, count: u32, elem_flags: u64, flags: u64) -> Batch {
    let mut a = MapBatchAttr {
        in_batch: b.in_batch as u64,
        out_batch: b.out_batch as u64,
        keys: b.keys as u64,
        values: b.values as u64,
        count,
        map_fd: raw(fd),
        elem_flags,
        flags,
    };
    let n = match c {
        BatchCmd::Lookup => cmd::MAP_LOOKUP_BATCH,
        BatchCmd::LookupAndDelete => cmd::MAP_LOOKUP_AND_DELETE_BATCH,
        BatchCmd::Update => cmd::MAP_UPDATE_BATCH,
        BatchCmd::Delete => cmd::MAP_DELETE_BATCH,
    };
    // SAFETY: every buffer is as long as the kernel reads or writes, by our contract.
    let status = unsafe { bpf(n, &mut a).map(drop) };
    Batch { count: a.count, status }
}

/// `BPF_MAP_FREEZE`.
pub(crate) fn map_freeze(fd: BorrowedFd<'_>) -> SysResult<()> {
    let mut a = MapFdAttr { map_fd: raw(fd) };
    // SAFETY: no pointers.
    unsafe { bpf(cmd::MAP_FREEZE, &mut a).map(drop) }
}

/// `BPF_OBJ_PIN` of `fd` at `path` on a bpffs.
pub(crate) fn obj_pin(fd: BorrowedFd<'_>, path: &CStr) -> SysResult<()> {
    let mut a = ObjAttr { pathname: path.as_ptr() as u64, bpf_fd: raw(fd), file_flags: 0 };
    // SAFETY: a NUL-terminated path, only read.
    unsafe { bpf(cmd::OBJ_PIN, &mut a).map(drop) }
}

/// `BPF_OBJ_GET` of a pinned object.
pub(crate) fn obj_get(path: &CStr) -> SysResult<OwnedFd> {
    let mut a = ObjAttr { pathname: path.as_ptr() as u64, bpf_fd: 0, file_flags: 0 };
    // SAFETY: a NUL-terminated path, only read.
    unsafe { bpf_fd(cmd::OBJ_GET, &mut a) }
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a map.
pub(crate) fn map_info(fd: BorrowedFd<'_>) -> SysResult<MapInfo> {
    let mut info = MapInfo::default();
    let mut a = InfoAttr { bpf_fd: raw(fd), info_len: std::mem::size_of::<MapInfo>() as u32, info: &mut info as *mut MapInfo as u64 };
    // SAFETY: the kernel writes at most `info_len` bytes, the size of `info`.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut a)? };
    Ok(info)
}

/// Parameters of `BPF_PROG_LOAD`.
#[derive(Debug, Default)]
pub(crate) struct ProgLoad<'a> {
    pub prog_type: u32,
    pub expected_attach_type: u32,
    pub name: &'a str,
    pub insns: &'a [u8],
    pub license: &'a CStr,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub btf_fd: Option<BorrowedFd<'a>>,
    /// Raw `bpf_func_info` records (insn offsets in instructions).
    pub func_info: &'a [u8],
    pub func_info_rec_size: u32,
    /// Raw `bpf_line_info` records (insn offsets in instructions).
    pub line_info: &'a [u8],
    pub line_info_rec_size: u32,
    pub attach_btf_id: u32,
    /// The BPF program an freplace (or fentry on BPF) program attaches to.
    pub attach_prog_fd: Option<BorrowedFd<'a>>,
}

/// A refused `BPF_PROG_LOAD`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProgLoadError {
    pub errno: Errno,
    /// The log size the kernel needed (Linux 6.4+; 0 where it does not say).
    pub log_true_size: u32,
}

/// `BPF_PROG_LOAD`. `log` is the verifier log buffer (empty: no log) and
/// `log_level` its level.
pub(crate) fn prog_load(p: &ProgLoad<'_>, log: &mut [u8], log_level: u32) -> Result<OwnedFd, ProgLoadError> {
    // Record counts never exceed what the slices hold, so the kernel reads inside them.
    let rec = |n: usize, sz: u32| if sz == 0 { 0 } else { (n / sz as usize) as u32 };
    let mut a = ProgLoadAttr {
        prog_type: p.prog_type,
        insn_cnt: (p.insns.len() / 8) as u32,
        insns: p.insns.as_ptr() as u64,
        license: p.license.as_ptr() as u64,
        kern_version: p.kern_version,
        prog_flags: p.prog_flags,
        prog_name: name16(p.name),
        expected_attach_type: p.expected_attach_type,
        prog_btf_fd: p.btf_fd.map_or(0, raw),
        attach_btf_id: p.attach_btf_id,
        attach_prog_fd: p.attach_prog_fd.map_or(0, raw),
        ..Default::default()
    };
    if p.btf_fd.is_some() && !p.func_info.is_empty() {
        a.func_info = p.func_info.as_ptr() as u64;
        a.func_info_rec_size = p.func_info_rec_size;
        a.func_info_cnt = rec(p.func_info.len(), p.func_info_rec_size);
    }
    if p.btf_fd.is_some() && !p.line_info.is_empty() {
        a.line_info = p.line_info.as_ptr() as u64;
        a.line_info_rec_size = p.line_info_rec_size;
        a.line_info_cnt = rec(p.line_info.len(), p.line_info_rec_size);
    }
    if !log.is_empty() && log_level > 0 {
        a.log_level = log_level;
        a.log_size = log.len().min(u32::MAX as usize >> 2) as u32;
        a.log_buf = log.as_mut_ptr() as u64;
    }
    // SAFETY: instructions, license and records are only read, within their
    // slices; the kernel writes at most `log_size` <= `log.len()` bytes of log.
    unsafe { bpf_fd(cmd::PROG_LOAD, &mut a) }.map_err(|errno| ProgLoadError { errno, log_true_size: a.log_true_size })
}

/// A refused `BPF_BTF_LOAD`.
#[derive(Debug, Clone)]
pub(crate) struct BtfLoadError {
    pub errno: Errno,
    /// The kernel's BTF log of a second, logged attempt.
    pub log: String,
}

/// `BPF_BTF_LOAD`; on failure, loads again with a log to say why.
pub(crate) fn btf_load(data: &[u8]) -> Result<OwnedFd, BtfLoadError> {
    let mut a = BtfLoadAttr { btf: data.as_ptr() as u64, btf_size: data.len() as u32, ..Default::default() };
    // SAFETY: the BTF bytes are only read, within `btf_size`.
    if let Ok(fd) = unsafe { bpf_fd(cmd::BTF_LOAD, &mut a) } {
        return Ok(fd);
    }
    let mut log = vec![0u8; 1 << 20];
    let mut a = BtfLoadAttr {
        btf: data.as_ptr() as u64,
        btf_size: data.len() as u32,
        btf_log_buf: log.as_mut_ptr() as u64,
        btf_log_size: log.len() as u32,
        btf_log_level: 1,
        ..Default::default()
    };
    // SAFETY: as above, and the kernel writes at most `btf_log_size` bytes of log.
    unsafe { bpf_fd(cmd::BTF_LOAD, &mut a) }.map_err(|errno| BtfLoadError { errno, log: super::cstr_lossy(&log) })
}

/// `BPF_RAW_TRACEPOINT_OPEN`; without a name, the program's own BTF attach
/// point (tp_btf, fentry/fexit/fmod_ret, lsm).
pub(crate) fn raw_tracepoint_open(name: Option<&CStr>, prog: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    let mut a = RawTpAttr { name: name.map_or(0, |n| n.as_ptr() as u64), prog_fd: raw(prog), _pad: 0 };
    // SAFETY: a NUL-terminated name, only read.
    unsafe { bpf_fd(cmd::RAW_TRACEPOINT_OPEN, &mut a) }
}

/// `BPF_LINK_CREATE` (perf_event and other fd-target attach types).
pub(crate) fn link_create(prog: BorrowedFd<'_>, target: BorrowedFd<'_>, attach_type: u32, cookie: u64) -> SysResult<OwnedFd> {
    let mut a = LinkCreateAttr { prog_fd: raw(prog), target_fd: raw(target), attach_type, flags: 0, bpf_cookie: cookie };
    // SAFETY: no pointers.
    unsafe { bpf_fd(cmd::LINK_CREATE, &mut a) }
}

/// The `*_GET_NEXT_ID` / `*_GET_FD_BY_ID` slice of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
pub(super) struct IdAttr {
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
}
uapi_size!(IdAttr, 12); // offsetofend(union bpf_attr, open_flags)

/// `struct bpf_prog_info`, as raw bytes (the fields bpfl reads are at fixed
/// uapi offsets: type 0, id 4, name 64, btf_id 128).
#[derive(Clone)]
pub(crate) struct ProgInfo(pub [u8; 232]);

impl ProgInfo {
    fn u32_at(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.0[off..off + 4].try_into().expect("4 bytes"))
    }
    /// The kernel's id of the program.
    pub fn id(&self) -> u32 {
        self.u32_at(4)
    }
    /// The program's BTF object id (0: none).
    pub fn btf_id(&self) -> u32 {
        self.u32_at(128)
    }
    /// The name the program was loaded with.
    pub fn name(&self) -> String {
        super::cstr_lossy(&self.0[64..80])
    }
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a program.
pub(crate) fn prog_info(fd: BorrowedFd<'_>) -> SysResult<ProgInfo> {
    let mut info = ProgInfo([0; 232]);
    let mut a = InfoAttr { bpf_fd: raw(fd), info_len: info.0.len() as u32, info: info.0.as_mut_ptr() as u64 };
    // SAFETY: the kernel writes at most `info_len` bytes, the size of `info`;
    // every pointer field in it is zero, so it writes nothing else.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut a)? };
    Ok(info)
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Default)]
struct BtfInfo {
    btf: u64,
    btf_size: u32,
    id: u32,
    name: u64,
    name_len: u32,
    kernel_btf: u32,
}
uapi_size!(BtfInfo, 32);

/// The raw bytes of the BTF object `id` (`BPF_BTF_GET_FD_BY_ID`, then its info twice: size, then bytes).
pub(crate) fn btf_bytes_by_id(id: u32) -> SysResult<Vec<u8>> {
    let mut a = IdAttr { id, ..Default::default() };
    // SAFETY: no pointers.
    let fd = unsafe { bpf_fd(cmd::BTF_GET_FD_BY_ID, &mut a)? };
    let mut info = BtfInfo::default();
    let mut ia = InfoAttr { bpf_fd: fd.as_raw_fd() as u32, info_len: std::mem::size_of::<BtfInfo>() as u32, info: &mut info as *mut BtfInfo as u64 };
    // SAFETY: `info` is as long as `info_len`; its pointers are zero.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut ia)? };
    let mut buf = vec![0u8; info.btf_size as usize];
    let mut info = BtfInfo { btf: buf.as_mut_ptr() as u64, btf_size: buf.len() as u32, ..Default::default() };
    let mut ia = InfoAttr { bpf_fd: fd.as_raw_fd() as u32, info_len: std::mem::size_of::<BtfInfo>() as u32, info: &mut info as *mut BtfInfo as u64 };
    // SAFETY: the kernel writes at most `btf_size` bytes at `btf`, the buffer's length.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut ia)? };
    buf.truncate(info.btf_size as usize);
    Ok(buf)
}

/// `BPF_PROG_ATTACH` of `prog` to `target` (a cgroup, a sockmap, ...);
/// `replace` is the program `BPF_F_REPLACE` swaps out.
pub(crate) fn prog_attach(prog: BorrowedFd<'_>, target: BorrowedFd<'_>, attach_type: u32, flags: u32, replace: Option<BorrowedFd<'_>>) -> SysResult<()> {
    let mut a = ProgAttachAttr { target_fd: raw(target), attach_bpf_fd: raw(prog), attach_type, attach_flags: flags, replace_bpf_fd: replace.map_or(0, raw) };
    // SAFETY: no pointers.
    unsafe { bpf(cmd::PROG_ATTACH, &mut a).map(drop) }
}

/// `BPF_PROG_DETACH` of `prog` from `target`.
pub(crate) fn prog_detach(prog: BorrowedFd<'_>, target: BorrowedFd<'_>, attach_type: u32) -> SysResult<()> {
    let mut a = ProgAttachAttr { target_fd: raw(target), attach_bpf_fd: raw(prog), attach_type, ..Default::default() };
    // SAFETY: no pointers.
    unsafe { bpf(cmd::PROG_DETACH, &mut a).map(drop) }
}

/// `BPF_PROG_QUERY`: the ids of the programs attached to `target` for
/// `attach_type` (at most `ids.len()`), and how many there are in all.
pub(crate) fn prog_query(target: BorrowedFd<'_>, attach_type: u32, ids: &mut [u32]) -> SysResult<u32> {
    let mut a = ProgQueryAttr { target_fd: raw(target), attach_type, prog_ids: ids.as_mut_ptr() as u64, prog_cnt: ids.len().min(u32::MAX as usize) as u32, ..Default::default() };
    if ids.is_empty() {
        a.prog_ids = 0;
    }
    // SAFETY: the kernel writes at most `prog_cnt` <= `ids.len()` ids.
    match unsafe { bpf(cmd::PROG_QUERY, &mut a) } {
        // More programs than room: the kernel still says how many.
        Ok(_) | Err(Errno(libc::ENOSPC)) => Ok(a.prog_cnt),
        Err(e) => Err(e),
    }
}

/// `BPF_LINK_CREATE` of a netfilter program at hook `hooknum` of protocol
/// family `pf`, in the calling thread's network namespace.
pub(crate) fn link_create_netfilter(prog: BorrowedFd<'_>, attach_type: u32, pf: u32, hooknum: u32, priority: i32, flags: u32) -> SysResult<OwnedFd> {
    let mut a = LinkCreateNetfilterAttr { prog_fd: raw(prog), attach_type, pf, hooknum, priority, nf_flags: flags, ..Default::default() };
    // SAFETY: no pointers.
    unsafe { bpf_fd(cmd::LINK_CREATE, &mut a) }
}
// After the macros and the private door it uses.
mod net;
pub(crate) use net::*;
