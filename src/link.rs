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
    /// USDT probe sites: one uprobe per site, with their argument specs.
    Usdt,
    /// A multi-probe link (`BPF_TRACE_KPROBE_MULTI`, `BPF_TRACE_UPROBE_MULTI`).
    Multi,
    /// Several single-probe links standing in for a multi-probe link the kernel lacks.
    MultiFallback,
}

/// What a grouped attachment undoes after its parts are detached (USDT spec slots).
pub(crate) struct Cleanup(pub Box<dyn FnOnce() + Send + Sync>);

impl std::fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cleanup")
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
    /// The attachments a grouped link is made of (USDT sites, fallback probes).
    parts: Vec<Link>,
    cleanup: Option<Cleanup>,
}

impl Link {
    pub(crate) fn new(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, perf_fd: Option<OwnedFd>, probe_event: Option<ProbeEvent>) -> Link {
        Link { kind, target, link_fd, perf_fd, probe_event, parts: Vec::new(), cleanup: None }
    }
    /// One link made of several (detached together, then `cleanup` runs).
    pub(crate) fn group(kind: LinkKind, target: String, parts: Vec<Link>, cleanup: Option<Cleanup>) -> Link {
        Link { kind, target, link_fd: None, perf_fd: None, probe_event: None, parts, cleanup }
    }
    pub(crate) fn set_parts(&mut self, parts: Vec<Link>) {
        self.parts = parts;
    }
    /// How many kernel attachments it holds (a grouped link: its parts).
    pub fn part_count(&self) -> usize {
        if self.parts.is_empty() {
            1
        } else {
            self.parts.len()
        }
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
        match self.parts.first() {
            Some(p) if self.link_fd.is_none() => p.fd(),
            _ => self.link_fd.as_ref().or(self.perf_fd.as_ref()).map_or(-1, |f| f.as_raw_fd()),
        }
    }
    /// Detach now (dropping does the same) and report a failure to clean up.
    pub fn detach(mut self) -> Result<()> {
        self.detach_inner()
    }
    fn detach_inner(&mut self) -> Result<()> {
        let mut first_err = None;
        for mut p in self.parts.drain(..) {
            if let Err(e) = p.detach_inner() {
                first_err.get_or_insert(e);
            }
        }
        if let Some(c) = self.cleanup.take() {
            (c.0)();
        }
        if let Some(e) = first_err {
            return Err(e);
        }
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
