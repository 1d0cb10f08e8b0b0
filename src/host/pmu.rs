//! The perf PMUs for probes (`/sys/bus/event_source/devices/{kprobe,uprobe}`).

use super::{read_trimmed, tracefs};

/// The perf PMU type of `kind` (`kprobe` or `uprobe`), and its retprobe bit.
pub fn probe_pmu(kind: &str) -> Option<(u32, u32)> {
    let t = read_trimmed(&format!("/sys/bus/event_source/devices/{kind}/type"))?.parse().ok()?;
    let bit = read_trimmed(&format!("/sys/bus/event_source/devices/{kind}/format/retprobe"))
        .and_then(|s| s.strip_prefix("config:").and_then(|b| b.parse().ok()))
        .unwrap_or(0);
    Some((t, bit))
}

/// Whether this kernel can attach kprobes, and how: (through the kprobe
/// PMU, through tracefs `kprobe_events`).
pub fn kprobe_support() -> (bool, bool) {
    let pmu = probe_pmu("kprobe").is_some();
    let legacy = tracefs::root().is_some_and(|r| std::path::Path::new(&format!("{r}/kprobe_events")).exists());
    (pmu, legacy)
}
