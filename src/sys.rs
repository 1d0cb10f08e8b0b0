//! The syscall layer: every `bpf()`, `perf_event_open()` and `ioctl()` bpfl
//! makes goes through this file, and nothing else in the crate is `unsafe`
//! about the kernel. Struct layouts are the kernel uapi's (`linux/bpf.h`,
//! `linux/perf_event.h`); each command has its own `#[repr(C)]` slice of
//! `union bpf_attr`, passed with its exact size (the kernel zero-extends).

use crate::error::{Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `enum bpf_cmd` values used by bpfl.
#[allow(missing_docs)]
pub mod cmd {
    pub const MAP_CREATE: u32 = 0;
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const MAP_GET_NEXT_KEY: u32 = 4;
    pub const PROG_LOAD: u32 = 5;
    pub const OBJ_PIN: u32 = 6;
    pub const OBJ_GET: u32 = 7;
    pub const OBJ_GET_INFO_BY_FD: u32 = 15;
    pub const RAW_TRACEPOINT_OPEN: u32 = 17;
    pub const BTF_LOAD: u32 = 18;
    pub const MAP_FREEZE: u32 = 22;
    pub const MAP_LOOKUP_BATCH: u32 = 24;
    pub const MAP_UPDATE_BATCH: u32 = 26;
    pub const MAP_DELETE_BATCH: u32 = 27;
    pub const LINK_CREATE: u32 = 28;
}

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

#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

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

#[repr(C)]
#[derive(Default)]
struct ObjAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}

#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

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

#[repr(C)]
#[derive(Default)]
struct RawTpAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    bpf_cookie: u64,
}

/// `struct bpf_map_info` (the part bpfl reads).
#[repr(C)]
#[derive(Default, Debug, Clone)]
pub struct MapInfo {
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

fn bpf<T>(cmd: u32, attr: &mut T) -> std::result::Result<i64, i32> {
    // SAFETY: attr is a live, properly sized #[repr(C)] struct matching the
    // kernel's layout for `cmd`; any pointers inside it were set by the caller
    // from live buffers that outlive this call.
    let r = unsafe {
        libc::syscall(libc::SYS_bpf, cmd as libc::c_long, attr as *mut T as *mut libc::c_void, std::mem::size_of::<T>() as libc::c_uint)
    };
    if r < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
    } else {
        Ok(r)
    }
}

fn bpf_fd<T>(cmd: u32, attr: &mut T) -> std::result::Result<OwnedFd, i32> {
    let fd = bpf(cmd, attr)?;
    // SAFETY: the kernel returned a new file descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
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
pub struct MapCreate<'a> {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: Option<RawFd>,
    pub numa_node: u32,
    pub name: &'a str,
    pub btf_fd: Option<RawFd>,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub map_extra: u64,
}

/// `BPF_MAP_CREATE`; returns the errno on failure.
pub fn map_create(p: &MapCreate<'_>) -> std::result::Result<OwnedFd, i32> {
    let mut a = MapCreateAttr {
        map_type: p.map_type,
        key_size: p.key_size,
        value_size: p.value_size,
        max_entries: p.max_entries,
        map_flags: p.map_flags,
        inner_map_fd: p.inner_map_fd.unwrap_or(0) as u32,
        numa_node: p.numa_node,
        map_name: name16(p.name),
        btf_fd: p.btf_fd.unwrap_or(0) as u32,
        btf_key_type_id: p.btf_key_type_id,
        btf_value_type_id: p.btf_value_type_id,
        map_extra: p.map_extra,
        ..Default::default()
    };
    bpf_fd(cmd::MAP_CREATE, &mut a)
}

/// `BPF_MAP_LOOKUP_ELEM`. The caller guarantees the buffer sizes match the map.
pub fn map_lookup(fd: RawFd, key: &[u8], value: &mut [u8], flags: u64) -> std::result::Result<(), i32> {
    let mut a = MapElemAttr { map_fd: fd as u32, key: key.as_ptr() as u64, value: value.as_mut_ptr() as u64, flags, ..Default::default() };
    bpf(cmd::MAP_LOOKUP_ELEM, &mut a).map(|_| ())
}

/// `BPF_MAP_UPDATE_ELEM`.
pub fn map_update(fd: RawFd, key: &[u8], value: &[u8], flags: u64) -> std::result::Result<(), i32> {
    let mut a = MapElemAttr { map_fd: fd as u32, key: key.as_ptr() as u64, value: value.as_ptr() as u64, flags, ..Default::default() };
    bpf(cmd::MAP_UPDATE_ELEM, &mut a).map(|_| ())
}

/// `BPF_MAP_DELETE_ELEM`.
pub fn map_delete(fd: RawFd, key: &[u8]) -> std::result::Result<(), i32> {
    let mut a = MapElemAttr { map_fd: fd as u32, key: key.as_ptr() as u64, ..Default::default() };
    bpf(cmd::MAP_DELETE_ELEM, &mut a).map(|_| ())
}

/// `BPF_MAP_GET_NEXT_KEY`; `key` None asks for the first key.
pub fn map_next_key(fd: RawFd, key: Option<&[u8]>, next: &mut [u8]) -> std::result::Result<(), i32> {
    let mut a = MapElemAttr { map_fd: fd as u32, key: key.map_or(0, |k| k.as_ptr() as u64), value: next.as_mut_ptr() as u64, ..Default::default() };
    bpf(cmd::MAP_GET_NEXT_KEY, &mut a).map(|_| ())
}

/// `BPF_MAP_LOOKUP_BATCH`: `in_batch` None starts from the beginning; `out_batch`
/// receives the resume token. Returns the number of elements read (also on ENOENT, which marks the end).
pub fn map_lookup_batch(
    fd: RawFd,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    count: u32,
) -> (u32, std::result::Result<(), i32>) {
    let mut a = MapBatchAttr {
        in_batch: in_batch.map_or(0, |b| b.as_ptr() as u64),
        out_batch: out_batch.as_mut_ptr() as u64,
        keys: keys.as_mut_ptr() as u64,
        values: values.as_mut_ptr() as u64,
        count,
        map_fd: fd as u32,
        ..Default::default()
    };
    let r = bpf(cmd::MAP_LOOKUP_BATCH, &mut a).map(|_| ());
    (a.count, r)
}

/// `BPF_MAP_DELETE_BATCH` of `count` keys packed in `keys`.
pub fn map_delete_batch(fd: RawFd, keys: &[u8], count: u32) -> (u32, std::result::Result<(), i32>) {
    let mut a = MapBatchAttr { keys: keys.as_ptr() as u64, count, map_fd: fd as u32, ..Default::default() };
    let r = bpf(cmd::MAP_DELETE_BATCH, &mut a).map(|_| ());
    (a.count, r)
}

/// `BPF_MAP_FREEZE`.
pub fn map_freeze(fd: RawFd) -> std::result::Result<(), i32> {
    let mut a = InfoAttr { bpf_fd: fd as u32, ..Default::default() };
    bpf(cmd::MAP_FREEZE, &mut a).map(|_| ())
}

/// `BPF_OBJ_PIN` of `fd` at `path` on a bpffs.
pub fn obj_pin(fd: RawFd, path: &std::ffi::CStr) -> std::result::Result<(), i32> {
    let mut a = ObjAttr { pathname: path.as_ptr() as u64, bpf_fd: fd as u32, file_flags: 0 };
    bpf(cmd::OBJ_PIN, &mut a).map(|_| ())
}

/// `BPF_OBJ_GET` of a pinned object.
pub fn obj_get(path: &std::ffi::CStr) -> std::result::Result<OwnedFd, i32> {
    let mut a = ObjAttr { pathname: path.as_ptr() as u64, bpf_fd: 0, file_flags: 0 };
    bpf_fd(cmd::OBJ_GET, &mut a)
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a map.
pub fn map_info(fd: RawFd) -> std::result::Result<MapInfo, i32> {
    let mut info = MapInfo::default();
    let mut a = InfoAttr { bpf_fd: fd as u32, info_len: std::mem::size_of::<MapInfo>() as u32, info: &mut info as *mut MapInfo as u64 };
    bpf(cmd::OBJ_GET_INFO_BY_FD, &mut a)?;
    Ok(info)
}

/// Parameters of `BPF_PROG_LOAD`.
#[derive(Debug, Default)]
pub struct ProgLoad<'a> {
    pub prog_type: u32,
    pub expected_attach_type: u32,
    pub name: &'a str,
    pub insns: &'a [u8],
    pub license: &'a std::ffi::CStr,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub btf_fd: Option<RawFd>,
    /// Raw `bpf_func_info` records (insn offsets in instructions).
    pub func_info: &'a [u8],
    pub func_info_rec_size: u32,
    /// Raw `bpf_line_info` records (insn offsets in instructions).
    pub line_info: &'a [u8],
    pub line_info_rec_size: u32,
    pub attach_btf_id: u32,
}

/// `BPF_PROG_LOAD`. `log` is the verifier log buffer (empty: no log) and
/// `log_level` its level. On failure returns the errno and, where the kernel
/// reports it (6.4+), the log size it needed.
pub fn prog_load(p: &ProgLoad<'_>, log: &mut [u8], log_level: u32) -> std::result::Result<OwnedFd, (i32, u32)> {
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
        prog_btf_fd: p.btf_fd.unwrap_or(0) as u32,
        attach_btf_id: p.attach_btf_id,
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
    bpf_fd(cmd::PROG_LOAD, &mut a).map_err(|e| (e, a.log_true_size))
}

/// `BPF_BTF_LOAD`; on failure returns the errno and the kernel's BTF log.
pub fn btf_load(data: &[u8]) -> std::result::Result<OwnedFd, (i32, String)> {
    let mut a = BtfLoadAttr { btf: data.as_ptr() as u64, btf_size: data.len() as u32, ..Default::default() };
    match bpf_fd(cmd::BTF_LOAD, &mut a) {
        Ok(fd) => Ok(fd),
        Err(_) => {
            let mut log = vec![0u8; 1 << 20];
            let mut a = BtfLoadAttr {
                btf: data.as_ptr() as u64,
                btf_size: data.len() as u32,
                btf_log_buf: log.as_mut_ptr() as u64,
                btf_log_size: log.len() as u32,
                btf_log_level: 1,
                ..Default::default()
            };
            match bpf_fd(cmd::BTF_LOAD, &mut a) {
                Ok(fd) => Ok(fd),
                Err(e) => Err((e, cstr_lossy(&log))),
            }
        }
    }
}

/// `BPF_RAW_TRACEPOINT_OPEN`; without a name, the program's own BTF attach
/// point (tp_btf, fentry/fexit/fmod_ret, lsm).
pub fn raw_tracepoint_open(name: Option<&std::ffi::CStr>, prog_fd: RawFd) -> std::result::Result<OwnedFd, i32> {
    let mut a = RawTpAttr { name: name.map_or(0, |n| n.as_ptr() as u64), prog_fd: prog_fd as u32, _pad: 0 };
    bpf_fd(cmd::RAW_TRACEPOINT_OPEN, &mut a)
}

/// `BPF_LINK_CREATE` (perf_event and other fd-target attach types).
pub fn link_create(prog_fd: RawFd, target_fd: RawFd, attach_type: u32, cookie: u64) -> std::result::Result<OwnedFd, i32> {
    let mut a = LinkCreateAttr { prog_fd: prog_fd as u32, target_fd: target_fd as u32, attach_type, flags: 0, bpf_cookie: cookie };
    bpf_fd(cmd::LINK_CREATE, &mut a)
}

/// The NUL-terminated prefix of a buffer, as text.
pub fn cstr_lossy(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `struct perf_event_attr` up to `PERF_ATTR_SIZE_VER5` (112 bytes).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    _reserved2: u16,
}

/// The kernel-internal `ENOTSUPP` some bpf() commands leak to user space.
pub const ENOTSUPP: i32 = 524;

/// `PERF_TYPE_TRACEPOINT`.
pub const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// Whether `path` (or its directory, if it does not exist) is on a bpffs.
pub fn on_bpffs(path: &str) -> bool {
    const BPF_FS_MAGIC: i64 = 0xcafe4a11;
    let p = std::path::Path::new(path);
    let dir = if p.exists() { p } else { p.parent().unwrap_or(p) };
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else { return false };
    // SAFETY: a NUL-terminated path and a statfs buffer of the right type.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    unsafe { libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == BPF_FS_MAGIC }
}

/// `perf_event_open()` for a probe or tracepoint event: `config1`/`config2`
/// carry the kprobe/uprobe function name pointer (or path) and offset.
/// `pid` -1 with cpu 0 traces every task (the kernel fans probe events out).
pub fn perf_event_open_probe(type_: u32, config: u64, config1: u64, config2: u64, pid: i32) -> std::result::Result<OwnedFd, i32> {
    let mut attr = PerfEventAttr {
        type_,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config,
        sample_period: 1,
        wakeup_events: 1,
        config1,
        config2,
        ..Default::default()
    };
    let cpu = if pid == -1 { 0 } else { -1 };
    // SAFETY: attr is a valid perf_event_attr of the size it declares; the
    // pointers in config1 (if any) point to NUL-terminated strings the caller keeps alive.
    let fd = unsafe {
        libc::syscall(libc::SYS_perf_event_open, &mut attr as *mut PerfEventAttr, pid, cpu, -1 as libc::c_int, PERF_FLAG_FD_CLOEXEC)
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO));
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn ioctl(fd: RawFd, req: libc::c_ulong, arg: libc::c_ulong) -> std::result::Result<(), i32> {
    // SAFETY: perf ioctls with integer arguments on a perf event fd.
    let r = unsafe { libc::ioctl(fd, req, arg) };
    if r < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
    } else {
        Ok(())
    }
}

/// Attach a program to a perf event the old way (`PERF_EVENT_IOC_SET_BPF`) and enable it.
pub fn perf_event_set_bpf(pfd: &OwnedFd, prog_fd: RawFd) -> std::result::Result<(), i32> {
    ioctl(pfd.as_raw_fd(), PERF_EVENT_IOC_SET_BPF, prog_fd as libc::c_ulong)?;
    ioctl(pfd.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0)
}

/// Stop a perf event before it is closed.
pub fn perf_event_disable(pfd: &OwnedFd) {
    let _ = ioctl(pfd.as_raw_fd(), PERF_EVENT_IOC_DISABLE, 0);
}

/// Turn a raw errno from this module into an [`Error`] with context.
pub fn err(errno: i32, what: impl Into<String>) -> Error {
    Error::os(errno, what)
}

/// Whether this process may use `bpf()` at all (used by tests and probes).
pub fn bpf_available() -> Result<()> {
    let p = MapCreate { map_type: 2, key_size: 4, value_size: 4, max_entries: 1, name: "bpfl_probe", ..Default::default() };
    map_create(&p).map(drop).map_err(|e| err(e, "bpf(BPF_MAP_CREATE) probe"))
}

// ---- ring buffer and perf buffer consumers --------------------------------------

/// The page size.
pub fn page_size() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *N.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    })
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// A shared mapping of a file, unmapped on drop.
#[derive(Debug)]
pub struct Mmap {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; users synchronise through atomics.
unsafe impl Send for Mmap {}
unsafe impl Sync for Mmap {}

impl Mmap {
    /// `mmap(NULL, len, prot, MAP_SHARED, fd, offset)`; `writable` adds `PROT_WRITE`.
    pub fn shared(fd: RawFd, len: usize, offset: usize, writable: bool) -> std::result::Result<Mmap, i32> {
        let prot = libc::PROT_READ | if writable { libc::PROT_WRITE } else { 0 };
        // SAFETY: a fresh mapping chosen by the kernel; nothing else is touched.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, offset as libc::off_t) };
        if p == libc::MAP_FAILED {
            return Err(last_errno());
        }
        Ok(Mmap { ptr: std::ptr::NonNull::new(p as *mut u8).ok_or(libc::ENOMEM)?, len })
    }
    /// The start of the mapping.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether it is empty (never, for a successful mapping).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len) };
    }
}

/// `fcntl(F_DUPFD_CLOEXEC)`: an fd of our own for the same open file.
pub fn dup_fd(fd: RawFd) -> std::result::Result<OwnedFd, i32> {
    // SAFETY: fcntl on an fd number; the kernel checks it.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if r < 0 {
        return Err(last_errno());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// `epoll_create1(EPOLL_CLOEXEC)`.
pub fn epoll_create() -> std::result::Result<OwnedFd, i32> {
    // SAFETY: no pointers.
    let r = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if r < 0 {
        return Err(last_errno());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// Watch `fd` for input on epoll instance `ep`, tagged with `data`.
pub fn epoll_add(ep: RawFd, fd: RawFd, data: u64) -> std::result::Result<(), i32> {
    let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: data };
    // SAFETY: a valid epoll_event the kernel copies.
    if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
        return Err(last_errno());
    }
    Ok(())
}

/// `epoll_wait`: the tags of ready fds are written to `out`; returns how many.
pub fn epoll_wait(ep: RawFd, out: &mut [u64], timeout_ms: i32) -> std::result::Result<usize, i32> {
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; out.len().max(1)];
    // SAFETY: evs holds evs.len() events for the kernel to fill.
    let n = unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), evs.len() as libc::c_int, timeout_ms) };
    if n < 0 {
        return Err(last_errno());
    }
    let n = (n as usize).min(out.len());
    for (o, e) in out.iter_mut().zip(&evs[..n]) {
        *o = e.u64;
    }
    Ok(n)
}

/// `PERF_TYPE_SOFTWARE`.
const PERF_TYPE_SOFTWARE: u32 = 1;
/// `PERF_COUNT_SW_BPF_OUTPUT`.
const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
/// `PERF_SAMPLE_RAW`.
const PERF_SAMPLE_RAW: u64 = 1 << 10;

/// `perf_event_open()` of a `PERF_COUNT_SW_BPF_OUTPUT` event on `cpu` (every
/// task), sampling raw data, waking readers at every sample; enabled.
pub fn perf_event_open_bpf_output(cpu: i32) -> std::result::Result<OwnedFd, i32> {
    let mut attr = PerfEventAttr {
        type_: PERF_TYPE_SOFTWARE,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config: PERF_COUNT_SW_BPF_OUTPUT,
        sample_period: 1,
        sample_type: PERF_SAMPLE_RAW,
        wakeup_events: 1,
        ..Default::default()
    };
    // SAFETY: attr is a valid perf_event_attr of the size it declares, with no pointers.
    let fd = unsafe { libc::syscall(libc::SYS_perf_event_open, &mut attr as *mut PerfEventAttr, -1 as libc::c_int, cpu, -1 as libc::c_int, PERF_FLAG_FD_CLOEXEC) };
    if fd < 0 {
        return Err(last_errno());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    ioctl(fd.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0)?;
    Ok(fd)
}
