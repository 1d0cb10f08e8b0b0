//! Attachments: a [`Link`] holds what keeps a program attached (a BPF link,
//! a perf event, a tracefs probe event) and undoes it when dropped.

use crate::error::{Error, Result};
use crate::sys;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

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
    /// tracefs probe event to remove: (tracefs root, "group/name").
    legacy_event: Option<(String, String)>,
}

impl Link {
    pub(crate) fn new(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, perf_fd: Option<OwnedFd>, legacy_event: Option<(String, String)>) -> Link {
        Link { kind, target, link_fd, perf_fd, legacy_event }
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
                sys::perf_event_disable(p);
            }
        }
        self.link_fd.take();
        self.perf_fd.take();
        if let Some((root, ev)) = self.legacy_event.take() {
            crate::attach::remove_probe_event(&root, &ev)?;
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

/// Attach `prog_fd` to perf event `pfd`: a BPF link where the kernel has them
/// for perf events (5.15+), else `PERF_EVENT_IOC_SET_BPF`.
pub(crate) fn attach_perf_event(prog_fd: RawFd, pfd: &OwnedFd, what: &str) -> Result<Option<OwnedFd>> {
    const BPF_PERF_EVENT: u32 = crate::obj::section::attach_type::PERF_EVENT;
    match sys::link_create(prog_fd, pfd.as_raw_fd(), BPF_PERF_EVENT, 0) {
        Ok(l) => Ok(Some(l)),
        Err(e) if matches!(e, libc::EINVAL | libc::EOPNOTSUPP | crate::sys::ENOTSUPP | libc::E2BIG) => {
            sys::perf_event_set_bpf(pfd, prog_fd).map_err(|e| sys::err(e, format!("{what}: attach (PERF_EVENT_IOC_SET_BPF)")))?;
            Ok(None)
        }
        Err(e) => Err(sys::err(e, format!("{what}: attach (BPF_LINK_CREATE)"))),
    }
}

/// Errors for probes that cannot exist on this kernel.
pub(crate) fn no_kprobes() -> Error {
    Error::unsupported("kprobes are not supported by this kernel (no kprobe PMU, no kprobe_events)")
}
