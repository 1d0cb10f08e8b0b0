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
    /// What undoes an attachment made by netlink.
    guard: Option<Box<dyn Detach>>,
}

impl Link {
    pub(crate) fn new(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, perf_fd: Option<OwnedFd>, probe_event: Option<ProbeEvent>) -> Link {
        Link { kind, target, link_fd, perf_fd, probe_event, guard: None }
    }
    /// An attachment a BPF link keeps, or (without one) that `guard` undoes.
    pub(crate) fn net(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, guard: Option<Box<dyn Detach>>) -> Link {
        Link { kind, target, link_fd, perf_fd: None, probe_event: None, guard }
    }
    /// How it is attached.
    pub fn kind(&self) -> &LinkKind {
        &self.kind
    }
    /// What it is attached to (function, tracepoint).
    pub fn target(&self) -> &str {
        &self.target
    }
    /// The fd that represents the attachment (BPF link, or else the perf event).
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
        if let Some(ev) = self.probe_event.take() {
            ev.remove()?;
        }
        if let Some(mut g) = self.guard.take() {
            g.detach()?;
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
