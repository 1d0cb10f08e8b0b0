//! Attaching programs, by kind: `probe` (kprobes through the perf PMU or
//! tracefs `kprobe_events`, uprobes) and `tracepoint` (tracepoints, raw
//! tracepoints, BTF-targeted programs), `cgroup` (cgroup links and
//! `BPF_PROG_ATTACH`) and `socket` (socket filters, reuseport, sockmaps,
//! network namespaces). Each returns a [`crate::Link`] that
//! owns what keeps the program attached. What the host offers (PMUs,
//! tracefs) is asked of [`crate::host`]. The public way in is
//! [`crate::Program`]'s attach methods; this module's public items are the
//! options and the pure target parsers.

pub(crate) mod cgroup;
pub(crate) mod iter;
pub(crate) mod perf;
pub(crate) mod multi;
pub(crate) mod probe;
pub(crate) mod socket;
pub(crate) mod tracepoint;
pub mod netkit;
pub mod query;
pub mod tc;
pub mod xdp;
pub(crate) mod usdt;

pub use cgroup::{query_cgroup_path, query_programs, AttachVia, CgroupOptions, BPF_F_ALLOW_MULTI, BPF_F_ALLOW_OVERRIDE, BPF_F_REPLACE};
pub use iter::{Iter, IterOptions};
pub use perf::{open_perf_event, PerfEventOptions, PerfEventSpec};
pub use probe::elf_func_offset;
pub use socket::{NetfilterOptions, SockmapOptions};
pub(crate) use probe::{kprobe, uprobe};
pub use netkit::{NetkitOptions, NetkitSide};
pub use query::{query_programs_ifindex, IfindexQuery};
pub use tc::{TcDirection, TcOptions, TcxOptions};
pub use xdp::{XdpAttached, XdpInfo, XdpMode, XdpOptions};
pub(crate) use tracepoint::{btf_traced, btf_traced_cookie, raw_tracepoint, tracepoint};
pub use multi::{glob_match, ksyscall_function, KprobeMultiOptions, UprobeMultiOptions};
pub use usdt::{parse_usdt_target, UsdtOptions};
pub use multi::elf_funcs_matching;

use crate::error::{Error, Result};
use crate::sys;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Which kprobe mechanism to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeMode {
    /// The perf kprobe PMU, else tracefs `kprobe_events`.
    #[default]
    Auto,
    /// Only the perf kprobe PMU.
    Pmu,
    /// Only tracefs `kprobe_events` (the path kernels before 4.17 have).
    Legacy,
}

/// Options of a kprobe attach.
#[derive(Debug, Clone, Default)]
pub struct KprobeOptions {
    /// Offset into the function.
    pub offset: u64,
    /// Attach at function return.
    pub retprobe: bool,
    /// Mechanism.
    pub mode: ProbeMode,
    /// What `bpf_get_attach_cookie()` gives the program (needs Linux 5.15+ when not 0).
    pub cookie: u64,
}

/// Options of a uprobe attach.
#[derive(Debug, Clone)]
pub struct UprobeOptions {
    /// Offset added to the function's address (or the file offset when no function is named).
    pub offset: u64,
    /// Attach at function return.
    pub retprobe: bool,
    /// Only this process (-1: every process that runs the binary).
    pub pid: i32,
    /// What `bpf_get_attach_cookie()` gives the program (needs Linux 5.15+ when not 0).
    pub cookie: u64,
}

impl Default for UprobeOptions {
    fn default() -> Self {
        UprobeOptions { offset: 0, retprobe: false, pid: -1, cookie: 0 }
    }
}

/// Attach `prog` to perf event `event`: a BPF link where the kernel has them
/// for perf events (5.15+), else `PERF_EVENT_IOC_SET_BPF`.
#[allow(dead_code)] // kept for attach kinds without a cookie
pub(crate) fn attach_perf_event(prog: BorrowedFd<'_>, event: &OwnedFd, what: &str) -> Result<Option<OwnedFd>> {
    attach_perf_event_cookie(prog, event, what, 0)
}

/// [`attach_perf_event`] with an attach cookie (`bpf_get_attach_cookie()`),
/// which only a BPF perf link carries (5.15+): a non-zero cookie refuses the
/// ioctl fallback rather than losing the cookie.
pub(crate) fn attach_perf_event_cookie(prog: BorrowedFd<'_>, event: &OwnedFd, what: &str, cookie: u64) -> Result<Option<OwnedFd>> {
    const BPF_PERF_EVENT: u32 = crate::obj::section::attach_type::PERF_EVENT;
    match sys::link_create(prog, event.as_fd(), BPF_PERF_EVENT, cookie) {
        Ok(l) => Ok(Some(l)),
        Err(e) if cookie != 0 && matches!(e.0, libc::EINVAL | libc::EOPNOTSUPP | sys::ENOTSUPP | libc::E2BIG) => Err(Error::unsupported(format!(
            "{what}: attach cookies need BPF perf event links (Linux 5.15+); this kernel refused one ({})",
            std::io::Error::from_raw_os_error(e.0)
        ))),
        Err(e) if matches!(e.0, libc::EINVAL | libc::EOPNOTSUPP | sys::ENOTSUPP | libc::E2BIG) => {
            sys::perf_event_set_bpf(event.as_fd(), prog).map_err(|e| e.error(format!("{what}: attach (PERF_EVENT_IOC_SET_BPF)")))?;
            Ok(None)
        }
        Err(e) => Err(e.error(format!("{what}: attach (BPF_LINK_CREATE)"))),
    }
}

/// Errors for probes that cannot exist on this kernel.
pub(crate) fn no_kprobes() -> Error {
    Error::unsupported("kprobes are not supported by this kernel (no kprobe PMU, no kprobe_events)")
}

/// Split a `kprobe/` section target "func+0x10" into the function and offset.
pub fn parse_kprobe_target(t: &str) -> Result<(String, u64)> {
    match t.split_once('+') {
        None => Ok((t.to_string(), 0)),
        Some((f, off)) => {
            let v = if let Some(h) = off.strip_prefix("0x") { u64::from_str_radix(h, 16) } else { off.parse() };
            let v = v.map_err(|_| Error::inval(format!("bad kprobe offset '{off}' in '{t}'")))?;
            Ok((f.to_string(), v))
        }
    }
}

/// Split a `uprobe/` section target "BINARY:FUNC[+OFF]" or "BINARY:OFFSET".
pub fn parse_uprobe_target(t: &str) -> Result<(String, Option<String>, u64)> {
    let (bin, rest) = t.rsplit_once(':').filter(|(b, r)| !b.is_empty() && !r.is_empty()).ok_or_else(|| Error::inval(format!("uprobe target '{t}' is not BINARY:FUNCTION[+OFFSET]")))?;
    let num = |s: &str| if let Some(h) = s.strip_prefix("0x") { u64::from_str_radix(h, 16).ok() } else { s.parse().ok() };
    if let Some(off) = num(rest) {
        return Ok((bin.to_string(), None, off));
    }
    let (func, off) = match rest.split_once('+') {
        None => (rest, 0),
        Some((f, o)) => (f, num(o).ok_or_else(|| Error::inval(format!("bad uprobe offset '{o}' in '{t}'")))?),
    };
    Ok((bin.to_string(), Some(func.to_string()), off))
}

#[cfg(test)]
mod tests {
    #[test]
    fn kprobe_targets() {
        assert_eq!(super::parse_kprobe_target("do_sys_open").unwrap(), ("do_sys_open".into(), 0));
        assert_eq!(super::parse_kprobe_target("f+0x10").unwrap(), ("f".into(), 16));
        assert_eq!(super::parse_kprobe_target("f+8").unwrap(), ("f".into(), 8));
        assert!(super::parse_kprobe_target("f+zz").is_err());
    }

    #[test]
    fn uprobe_targets() {
        let p = super::parse_uprobe_target;
        assert_eq!(p("/bin/bash:readline").unwrap(), ("/bin/bash".into(), Some("readline".into()), 0));
        assert_eq!(p("libc.so.6:malloc+0x4").unwrap(), ("libc.so.6".into(), Some("malloc".into()), 4));
        assert_eq!(p("/usr/bin/x:0x1234").unwrap(), ("/usr/bin/x".into(), None, 0x1234));
        assert!(p("/bin/bash").is_err());
        assert!(p("/bin/bash:f+q").is_err());
    }
}
