//! Programs on sockets: socket filters (`SO_ATTACH_BPF`), `sk_reuseport`
//! programs (`SO_ATTACH_REUSEPORT_EBPF`), sockmap/sockhash programs (a BPF
//! link on Linux 6.10+, else `BPF_PROG_ATTACH` to the map) and network
//! namespace programs (`sk_lookup`, `flow_dissector`: netns links, 5.7+/5.9+),
//! and netfilter programs (netfilter links, 6.4+).

use super::cgroup::AttachVia;
use crate::error::{Error, Result};
use crate::link::{Link, LinkKind, Undo};
use crate::obj::AttachType;
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Options of a sockmap attach.
#[derive(Debug, Clone, Copy, Default)]
pub struct SockmapOptions {
    /// `enum bpf_attach_type` (`BPF_SK_MSG_VERDICT`, `BPF_SK_SKB_STREAM_PARSER`,
    /// `BPF_SK_SKB_STREAM_VERDICT`, `BPF_SK_SKB_VERDICT`); None: the program's
    /// expected attach type (its section's).
    pub attach_type: Option<u32>,
    /// Link (Linux 6.10+) or `BPF_PROG_ATTACH`.
    pub via: AttachVia,
}

/// Attach a socket filter (`reuseport` false) or `sk_reuseport` program to
/// `sock`. The link does not keep the socket open: it detaches only while
/// the same socket is still behind that fd number.
pub(crate) fn socket(prog: BorrowedFd<'_>, prog_name: &str, sock: BorrowedFd<'_>, reuseport: bool) -> Result<Link> {
    let (attach, detach, kind, name) = if reuseport {
        (sys::SO_ATTACH_REUSEPORT_EBPF, sys::SO_DETACH_REUSEPORT_BPF, LinkKind::Reuseport, "SO_ATTACH_REUSEPORT_EBPF")
    } else {
        (sys::SO_ATTACH_BPF, sys::SO_DETACH_BPF, LinkKind::SocketFilter, "SO_ATTACH_BPF")
    };
    let fd = sock.as_raw_fd();
    let what = format!("program '{prog_name}': attach to socket fd {fd} ({name})");
    let identity = sys::fd_identity(fd).map_err(|e| e.error(&what))?;
    sys::sock_attach_prog(sock, attach, prog).map_err(|e| match e.0 {
        libc::ENOTSOCK => Error::inval(format!("{what}: fd {fd} is not a socket")),
        libc::EINVAL if reuseport => Error::inval(format!("{what}: the socket must have SO_REUSEPORT set and be bound (errno {e})")),
        _ => e.error(&what),
    })?;
    Ok(Link::undone_by(kind, format!("socket fd {fd}"), Undo::SockOpt { fd, identity, opt: detach }))
}

/// Attach a sockmap/sockhash program to `map` (an fd of the caller's, held by the link).
pub(crate) fn sockmap(prog: BorrowedFd<'_>, prog_name: &str, map: OwnedFd, map_name: &str, attach_type: u32, opts: &SockmapOptions) -> Result<Link> {
    let what = format!("program '{prog_name}': attach to map '{map_name}' as {}", AttachType(attach_type));
    if opts.via != AttachVia::ProgAttach {
        match sys::link_create(prog, map.as_fd(), attach_type, 0) {
            Ok(fd) => return Ok(Link::new(LinkKind::Sockmap, map_name.to_string(), Some(fd), None, None)),
            Err(e) if opts.via == AttachVia::Auto && e.0 == libc::EINVAL => {
                crate::log::debug(&format!("{what}: no sockmap BPF link ({e}); using BPF_PROG_ATTACH"));
            }
            Err(e) if e.0 == libc::EINVAL => {
                return Err(Error::unsupported(format!("{what}: the kernel refused a sockmap BPF link (BPF_LINK_CREATE, Linux 6.10+; errno {e})")))
            }
            Err(e) => return Err(e.error(format!("{what} (BPF_LINK_CREATE)"))),
        }
    }
    sys::prog_attach(prog, map.as_fd(), attach_type, 0, None).map_err(|e| e.error(format!("{what} (BPF_PROG_ATTACH)")))?;
    match sys::dup_fd(prog) {
        Ok(p) => Ok(Link::undone_by(LinkKind::SockmapProgAttach, map_name.to_string(), Undo::ProgDetach { target: map, prog: p, attach_type })),
        Err(e) => {
            let _ = sys::prog_detach(prog, map.as_fd(), attach_type);
            Err(e.error(format!("{what}: dup fd")))
        }
    }
}

/// The calling thread's network namespace (the process's, unless the thread
/// entered another one: as `bpf()` itself sees it).
pub(crate) const CURRENT_NETNS: &str = "/proc/thread-self/ns/net";

/// Open a network namespace file (`/proc/PID/ns/net`, `/run/netns/NAME`).
pub(crate) fn open_netns(path: &str) -> Result<OwnedFd> {
    std::fs::File::open(path).map(OwnedFd::from).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found(format!("network namespace '{path}' does not exist")),
        _ => sys::Errno::of_io(&e).error(format!("open network namespace '{path}'")),
    })
}

/// Attach an `sk_lookup` or `flow_dissector` program to network namespace `ns` with a netns link.
pub(crate) fn netns(prog: BorrowedFd<'_>, prog_name: &str, attach_type: u32, ns: BorrowedFd<'_>, target: &str) -> Result<Link> {
    let what = format!("program '{prog_name}': attach to network namespace '{target}' as {}", AttachType(attach_type));
    let fd = sys::link_create(prog, ns, attach_type, 0).map_err(|e| match e.0 {
        libc::EINVAL if attach_type == AttachType::SK_LOOKUP.as_u32() => {
            Error::unsupported(format!("{what}: the kernel refused the netns link (sk_lookup needs Linux 5.9+; errno {e})"))
        }
        libc::EINVAL => Error::unsupported(format!("{what}: the kernel refused the netns link (Linux 5.7+; errno {e}); or the fd is not a network namespace")),
        // One flow dissector per namespace: E2BIG for a second link, EEXIST beside BPF_PROG_ATTACH.
        libc::E2BIG | libc::EEXIST => Error::new(crate::error::ErrorKind::Os, e.0, format!("{what}: a flow dissector is already attached there")),
        _ => e.error(&what),
    })?;
    Ok(Link::new(LinkKind::Netns, target.to_string(), Some(fd), None, None))
}

/// Where a netfilter program hooks in (`BPF_LINK_CREATE`, Linux 6.4+).
#[derive(Debug, Clone, Copy, Default)]
pub struct NetfilterOptions {
    /// `BPF_F_NETFILTER_IP_DEFRAG` (1, Linux 6.6): see reassembled packets.
    pub flags: u32,
}

/// Attach a netfilter program at `hooknum` (`NF_INET_LOCAL_OUT`, ...) of
/// family `pf` (`NFPROTO_IPV4` 2, `NFPROTO_IPV6` 10) with `priority`, in the
/// calling thread's network namespace.
pub(crate) fn netfilter(prog: BorrowedFd<'_>, prog_name: &str, pf: u32, hooknum: u32, priority: i32, opts: &NetfilterOptions) -> Result<Link> {
    let target = format!("netfilter pf {pf} hook {hooknum} priority {priority}");
    let what = format!("program '{prog_name}': attach to {target}");
    let fd = sys::link_create_netfilter(prog, AttachType::NETFILTER.as_u32(), pf, hooknum, priority, opts.flags).map_err(|e| match e.0 {
        libc::EINVAL if (1..crate::host::kver::kernel_version(6, 4, 0)).contains(&crate::host::kver::running()) => {
            Error::unsupported(format!("{what}: netfilter links need Linux 6.4+"))
        }
        libc::EINVAL => Error::inval(format!("{what}: the kernel refused it (family, hook, priority or flags; errno {e})")),
        libc::EBUSY => Error::new(crate::error::ErrorKind::Os, e.0, format!("{what}: another program holds that priority exclusively")),
        _ => e.error(&what),
    })?;
    Ok(Link::new(LinkKind::Netfilter, target, Some(fd), None, None))
}
