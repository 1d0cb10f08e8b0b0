//! `perf_event` programs: attached to a perf event fd (a BPF link where the
//! kernel has them for perf events, 5.15+, else `PERF_EVENT_IOC_SET_BPF`),
//! and the sampling events they usually hang on (cpu-clock per CPU,
//! hardware counters where the machine has a PMU).

use super::attach_perf_event_cookie;
use crate::error::{Error, ErrorKind, Result};
use crate::link::{Link, LinkKind};
use crate::sys;
use std::os::fd::{BorrowedFd, OwnedFd};

/// Options of [`crate::Program::attach_perf_event`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PerfEventOptions {
    /// `bpf_get_attach_cookie()` value (BPF link path only, Linux 5.15+).
    pub cookie: u64,
}

/// A sampling perf event to open ([`open_perf_event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfEventSpec {
    /// `PERF_TYPE_*`: 0 hardware, 1 software, 3 hw cache, 4 raw ...
    pub type_: u32,
    /// The event of that type (`PERF_COUNT_SW_CPU_CLOCK` = 0, `PERF_COUNT_HW_CPU_CYCLES` = 0 ...).
    pub config: u64,
    /// Sample every `period` events, or with `freq` that many times a second.
    pub period: u64,
    pub freq: bool,
    /// Only this process (-1: every task on the CPU).
    pub pid: i32,
}

impl PerfEventSpec {
    /// `PERF_TYPE_HARDWARE`.
    pub const HARDWARE: u32 = 0;
    /// `PERF_TYPE_SOFTWARE`.
    pub const SOFTWARE: u32 = 1;
    /// `PERF_COUNT_SW_CPU_CLOCK`.
    pub const SW_CPU_CLOCK: u64 = 0;
    /// `PERF_COUNT_HW_CPU_CYCLES`.
    pub const HW_CPU_CYCLES: u64 = 0;

    /// The cpu-clock software event sampled `hz` times a second on every task.
    pub fn cpu_clock(hz: u64) -> PerfEventSpec {
        PerfEventSpec { type_: Self::SOFTWARE, config: Self::SW_CPU_CLOCK, period: hz, freq: true, pid: -1 }
    }
    /// The CPU cycles hardware counter, sampled every `period` cycles.
    pub fn cpu_cycles(period: u64) -> PerfEventSpec {
        PerfEventSpec { type_: Self::HARDWARE, config: Self::HW_CPU_CYCLES, period, freq: false, pid: -1 }
    }
}

/// Open the sampling event `spec` on `cpu` (-1 with a pid: that process on
/// every CPU). The fd is the caller's; attach programs with
/// [`crate::Program::attach_perf_event`]. A machine without a hardware PMU
/// (most VMs) gives an `Unsupported` error for hardware events.
pub fn open_perf_event(spec: &PerfEventSpec, cpu: i32) -> Result<OwnedFd> {
    if spec.period == 0 {
        return Err(Error::inval("perf event: the sample period (or frequency) is 0"));
    }
    let what = format!("perf event type {} config {} on cpu {cpu}", spec.type_, spec.config);
    sys::perf_event_open_sampling(spec.type_, spec.config, spec.period, spec.freq, spec.pid, cpu).map_err(|e| match e.0 {
        libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV if spec.type_ == PerfEventSpec::HARDWARE => Error::new(
            ErrorKind::Unsupported,
            e.0,
            format!("{what}: this machine has no hardware PMU for it (hardware counters are often missing in VMs); use the cpu-clock software event"),
        ),
        libc::EINVAL if spec.freq => e.error(format!("{what}: frequency {} Hz refused (over kernel.perf_event_max_sample_rate?)", spec.period)),
        libc::EACCES | libc::EPERM => e.error(format!("{what}: not allowed (kernel.perf_event_paranoid, CAP_PERFMON)")),
        _ => e.error(format!("{what}: perf_event_open")),
    })
}

/// Attach a `perf_event` program to the perf event `event` (dup'd: the
/// caller keeps its fd).
pub(crate) fn perf_event(prog: BorrowedFd<'_>, prog_name: &str, event: BorrowedFd<'_>, opts: &PerfEventOptions) -> Result<Link> {
    let what = format!("program '{prog_name}': perf event fd {}", std::os::fd::AsRawFd::as_raw_fd(&event));
    let ev = sys::dup_fd(event).map_err(|e| e.error(format!("{what}: dup")))?;
    let link = attach_perf_event_cookie(prog, &ev, &what, opts.cookie)?;
    if link.is_none() && opts.cookie != 0 {
        return Err(Error::unsupported(format!("{what}: a cookie needs a BPF link for perf events (Linux 5.15+)")));
    }
    Ok(Link::new(LinkKind::PerfEvent, format!("perf_event fd {}", std::os::fd::AsRawFd::as_raw_fd(&event)), link, Some(ev), None))
}
