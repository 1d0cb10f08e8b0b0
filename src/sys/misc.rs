//! The small calls: fd duplication, page size, uname, membarrier, statfs.

use super::{check, Errno, SysResult};
use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};

/// `fcntl(F_DUPFD_CLOEXEC)`: an fd of our own for the same open file.
pub(crate) fn dup_fd(fd: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    fd.try_clone_to_owned().map_err(|e| Errno::of_io(&e))
}

/// The page size.
pub(crate) fn page_size() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *N.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    })
}

/// What `uname()` says about the kernel.
#[derive(Debug, Clone, Default)]
pub(crate) struct Uname {
    /// `uname -r`: "6.18.44-fc-v669".
    pub release: String,
    /// `uname -v`: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)".
    pub version: String,
}

/// `uname()`.
pub(crate) fn uname() -> SysResult<Uname> {
    // SAFETY: utsname is plain bytes; all-zero is a valid value.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname fills the struct it is given.
    check(unsafe { libc::uname(&mut u) } as libc::c_long)?;
    let field = |f: &[libc::c_char]| {
        let b: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&b).into_owned()
    };
    Ok(Uname { release: field(&u.release), version: field(&u.version) })
}

/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED`.
pub(crate) const MEMBARRIER_CMD_PRIVATE_EXPEDITED: i32 = 1 << 3;
/// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`.
pub(crate) const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;

/// `membarrier(cmd, 0, 0)`.
pub(crate) fn membarrier(cmd: i32) -> SysResult<()> {
    // SAFETY: membarrier takes integer arguments only.
    check(unsafe { libc::syscall(libc::SYS_membarrier, cmd as libc::c_int, 0 as libc::c_uint, 0 as libc::c_int) }).map(drop)
}

/// `statfs(path).f_type`: the magic number of the filesystem `path` is on.
pub(crate) fn fs_magic(path: &CStr) -> SysResult<i64> {
    // SAFETY: statfs is plain data; all-zero is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a statfs buffer of the right type.
    check(unsafe { libc::statfs(path.as_ptr(), &mut st) } as libc::c_long)?;
    Ok(st.f_type as i64)
}

/// What kind of BPF object an fd is, from its anonymous inode's name (the
/// target of `/proc/self/fd/N`: `anon_inode:bpf-map`, `anon_inode:bpf-prog`,
/// `anon_inode:bpf_link`, ...); `BPF_OBJ_GET_INFO_BY_FD` alone cannot tell,
/// as it answers for programs and links too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BpfFdKind {
    Map,
    Program,
    Link,
    Btf,
    Other,
}

impl BpfFdKind {
    /// "a map", "a program", ...: for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            BpfFdKind::Map => "a map",
            BpfFdKind::Program => "a program",
            BpfFdKind::Link => "a link",
            BpfFdKind::Btf => "a BTF object",
            BpfFdKind::Other => "not a BPF object",
        }
    }
}

/// The kind of BPF object behind `fd`.
pub(crate) fn bpf_fd_kind(fd: BorrowedFd<'_>) -> SysResult<BpfFdKind> {
    use std::os::fd::AsRawFd;
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(|e| Errno::of_io(&e))?;
    Ok(match target.to_string_lossy().strip_prefix("anon_inode:") {
        Some("bpf-map") => BpfFdKind::Map,
        Some("bpf-prog") => BpfFdKind::Program,
        Some("bpf_link" | "bpf-link") => BpfFdKind::Link,
        Some("btf") => BpfFdKind::Btf,
        _ => BpfFdKind::Other,
    })
}
