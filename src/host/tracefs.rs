//! tracefs: where tracepoints have their ids and where kprobe events are
//! created on kernels (or in modes) without the kprobe PMU.

use super::read_trimmed;
use crate::error::{Error, Result};
use crate::sys::Errno;
use std::io::Write;

/// The tracefs mount point, if mounted.
pub fn root() -> Option<&'static str> {
    ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].into_iter().find(|p| std::path::Path::new(&format!("{p}/events")).is_dir())
}

/// The tracefs id of tracepoint `category/name`.
pub fn tracepoint_id(category: &str, name: &str) -> Result<u64> {
    let bad = |s: &str| s.is_empty() || s.contains(['/', '\0']) || s == "." || s == "..";
    if bad(category) || bad(name) {
        return Err(Error::inval(format!("bad tracepoint name '{category}/{name}'")));
    }
    let root = root().ok_or_else(|| Error::not_found("tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)"))?;
    let path = format!("{root}/events/{category}/{name}/id");
    read_trimmed(&path)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::not_found(format!("tracepoint '{category}/{name}' does not exist (no {path})")))
}

fn write_kprobe_events(root: &str, line: &str) -> std::result::Result<(), Errno> {
    let mut f = std::fs::OpenOptions::new().append(true).open(format!("{root}/kprobe_events")).map_err(|e| Errno::of_io(&e))?;
    f.write_all(format!("{line}\n").as_bytes()).map_err(|e| Errno::of_io(&e))
}

/// A kprobe event this process added to tracefs `kprobe_events`; dropping
/// it (or [`ProbeEvent::remove`]) removes the event again. Whoever attached
/// a program to the event (a [`crate::Link`]) owns it, and closes the perf
/// event first: the kernel refuses to remove an event in use.
#[derive(Debug)]
pub(crate) struct ProbeEvent {
    root: &'static str,
    /// "group/name".
    name: String,
    removed: bool,
}

impl ProbeEvent {
    /// Add event `name` ("group/name") defined by `def` (e.g. "p:group/name func+16").
    pub(crate) fn add(root: &'static str, name: String, def: &str) -> std::result::Result<ProbeEvent, Errno> {
        write_kprobe_events(root, def)?;
        Ok(ProbeEvent { root, name, removed: false })
    }

    /// The event's name, "group/name".
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The event's perf tracepoint id, once tracefs lists it.
    pub(crate) fn id(&self) -> Option<u64> {
        read_trimmed(&format!("{}/events/{}/id", self.root, self.name)).and_then(|s| s.parse().ok())
    }

    /// Remove the event now, and say whether that failed.
    pub(crate) fn remove(mut self) -> Result<()> {
        self.removed = true;
        self.remove_inner()
    }

    /// Leave the event in tracefs: a pinned link still uses it.
    pub(crate) fn keep(mut self) {
        self.removed = true;
        crate::log::debug(&format!("kprobe event {} stays: its link is pinned", self.name));
    }

    fn remove_inner(&self) -> Result<()> {
        write_kprobe_events(self.root, &format!("-:{}", self.name)).map_err(|e| e.error(format!("remove kprobe event {}", self.name)))
    }
}

impl Drop for ProbeEvent {
    fn drop(&mut self) {
        if !self.removed {
            if let Err(e) = self.remove_inner() {
                crate::log::debug(&e.to_string());
            }
        }
    }
}
