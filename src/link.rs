//! Attachments: a [`Link`] holds what keeps a program attached (a BPF link,
//! a perf event, a tracefs probe event) and undoes it when dropped. Making
//! attachments is [`crate::attach`]'s business; this is only the handle.

use crate::error::Result;
use crate::host::tracefs::ProbeEvent;
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

/// How a program is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    /// kprobe/kretprobe through the perf kprobe PMU.
    KprobePmu,
    /// kprobe/kretprobe through a tracefs `kprobe_events` entry.
    KprobeLegacy,
    /// uprobe/uretprobe through the perf uprobe PMU.
    UprobePmu,
    /// A tracepoint perf event.
    Tracepoint,
    /// `BPF_RAW_TRACEPOINT_OPEN`.
    RawTracepoint,
    /// A BPF link to a cgroup.
    Cgroup,
    /// `BPF_PROG_ATTACH` to a cgroup (detached with `BPF_PROG_DETACH`).
    CgroupProgAttach,
    /// `SO_ATTACH_BPF` on a socket (detached with `SO_DETACH_BPF`).
    SocketFilter,
    /// `SO_ATTACH_REUSEPORT_EBPF` on a socket (detached with `SO_DETACH_REUSEPORT_BPF`).
    Reuseport,
    /// A BPF link to a sockmap or sockhash (Linux 6.10).
    Sockmap,
    /// `BPF_PROG_ATTACH` to a sockmap or sockhash (detached with `BPF_PROG_DETACH`).
    SockmapProgAttach,
    /// A BPF link to a network namespace (sk_lookup, flow_dissector).
    Netns,
    /// A netfilter BPF link (Linux 6.4).
    Netfilter,
    /// XDP through a BPF link (5.9+).
    Xdp,
    /// XDP through netlink (`IFLA_XDP`).
    XdpNetlink,
    /// tc through a TCX link (6.6+).
    Tcx,
    /// tc through netlink: a `cls_bpf` filter on a `clsact` qdisc.
    TcNetlink,
}

/// What undoes an attachment that no fd holds (netlink XDP, tc filters).
pub(crate) trait Detach: std::fmt::Debug + Send + Sync {
    fn detach(&mut self) -> Result<()>;
}

/// What undoes an attachment that is not a BPF link or perf event.
#[derive(Debug)]
pub(crate) enum Undo {
    /// `BPF_PROG_DETACH` of `prog` from `target` (both held open by the link).
    ProgDetach { target: OwnedFd, prog: OwnedFd, attach_type: u32 },
    /// A socket option that detaches from the socket the number `fd` named
    /// when it was attached (`identity`); the link does not keep the socket
    /// open, so a socket closed (or a number reused) meanwhile is left alone.
    SockOpt { fd: RawFd, identity: (u64, u64), opt: i32 },
}

impl Undo {
    fn run(self) -> Result<()> {
        match self {
            Undo::ProgDetach { target, prog, attach_type } => sys::prog_detach(prog.as_fd(), target.as_fd(), attach_type)
                .map_err(|e| e.error(format!("BPF_PROG_DETACH (attach type {})", crate::obj::AttachType(attach_type)))),
            Undo::SockOpt { fd, identity, opt } => match sys::fd_identity(fd) {
                Ok(now) if now == identity => sys::sock_detach_prog(fd, opt).map_err(|e| e.error(format!("detach from socket fd {fd}"))),
                // Closed, or another file now: the program went with the socket.
                _ => Ok(()),
            },
        }
    }
}

/// An attachment. Dropping it detaches the program.
#[derive(Debug)]
pub struct Link {
    kind: LinkKind,
    target: String,
    /// BPF link fd (LINK_CREATE or raw tracepoint), when there is one.
    link_fd: Option<OwnedFd>,
    /// The perf event the program hangs on, when there is one.
    perf_fd: Option<OwnedFd>,
    /// The tracefs probe event the perf event is of, when bpfl created one.
    probe_event: Option<ProbeEvent>,
    /// What else undoes the attachment.
    undo: Option<Undo>,
    /// What undoes an attachment made by netlink.
    guard: Option<Box<dyn Detach>>,
}

impl Link {
    pub(crate) fn new(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, perf_fd: Option<OwnedFd>, probe_event: Option<ProbeEvent>) -> Link {
        Link { kind, target, link_fd, perf_fd, probe_event, undo: None, guard: None }
    }
    /// An attachment undone by `undo` rather than by closing an fd.
    pub(crate) fn undone_by(kind: LinkKind, target: String, undo: Undo) -> Link {
        Link { kind, target, link_fd: None, perf_fd: None, probe_event: None, undo: Some(undo), guard: None }
    }
    /// An attachment a BPF link keeps, or (without one) that `guard` undoes.
    pub(crate) fn net(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, guard: Option<Box<dyn Detach>>) -> Link {
        Link { kind, target, link_fd, perf_fd: None, probe_event: None, undo: None, guard }
    }
    /// How it is attached.
    pub fn kind(&self) -> &LinkKind {
        &self.kind
    }
    /// What it is attached to (function, tracepoint).
    pub fn target(&self) -> &str {
        &self.target
    }
    /// The fd that represents the attachment (BPF link, or else the perf
    /// event); -1 for attachments that have none (`BPF_PROG_ATTACH`, socket options).
    pub fn fd(&self) -> RawFd {
        self.link_fd.as_ref().or(self.perf_fd.as_ref()).map_or(-1, |f| f.as_raw_fd())
    }
    /// Detach now (dropping does the same) and report a failure to clean up.
    pub fn detach(mut self) -> Result<()> {
        self.detach_inner()
    }
    fn detach_inner(&mut self) -> Result<()> {
        if let Some(p) = &self.perf_fd {
            if self.link_fd.is_none() {
                sys::perf_event_disable(p.as_fd());
            }
        }
        // The fds go first: the kernel refuses to remove a probe event in use.
        self.link_fd.take();
        self.perf_fd.take();
        if let Some(u) = self.undo.take() {
            u.run()?;
        }
        if let Some(mut g) = self.guard.take() {
            g.detach()?;
        }
        if let Some(ev) = self.probe_event.take() {
            ev.remove()?;
        }
        Ok(())
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Err(e) = self.detach_inner() {
            crate::log::warn(&format!("detaching {}: {e}", self.target));
        }
    }
}
