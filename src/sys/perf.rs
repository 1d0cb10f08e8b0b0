//! `perf_event_open()` and the perf event ioctls (`linux/perf_event.h`).

use super::{check, owned, SysResult};
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// `struct perf_event_attr` up to `PERF_ATTR_SIZE_VER5`.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    _reserved2: u16,
}
const _: () = assert!(std::mem::size_of::<PerfEventAttr>() == 112); // PERF_ATTR_SIZE_VER5

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
const PERF_SAMPLE_RAW: u64 = 1 << 10;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// `perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)`.
///
/// # Safety
/// Any pointer in `attr` (`config1`) points to a NUL-terminated string that
/// outlives the call.
unsafe fn open(attr: &mut PerfEventAttr, pid: i32, cpu: i32) -> SysResult<OwnedFd> {
    attr.size = std::mem::size_of::<PerfEventAttr>() as u32;
    // SAFETY: attr is a valid perf_event_attr of the size it declares; the caller vouches for its pointer.
    let fd = check(unsafe { libc::syscall(libc::SYS_perf_event_open, attr as *mut PerfEventAttr, pid, cpu, -1 as libc::c_int, PERF_FLAG_FD_CLOEXEC) })?;
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { owned(fd) })
}

/// The CPU a probe event is opened on: `pid` -1 with cpu 0 traces every task
/// (the kernel fans probe events out), a given pid is followed on every CPU.
fn probe_cpu(pid: i32) -> i32 {
    if pid == -1 {
        0
    } else {
        -1
    }
}

/// `perf_event_open()` of a kprobe or uprobe through its PMU (`pmu_type` from
/// sysfs): `target` is the function (kprobe) or the binary's path (uprobe),
/// `offset` the offset into it, `config` the retprobe bit if any.
pub(crate) fn perf_event_open_probe(pmu_type: u32, config: u64, target: &CStr, offset: u64, pid: i32) -> SysResult<OwnedFd> {
    let mut attr = PerfEventAttr { type_: pmu_type, config, sample_period: 1, wakeup_events: 1, config1: target.as_ptr() as u64, config2: offset, ..Default::default() };
    // SAFETY: config1 points to `target`, NUL-terminated and borrowed for the call.
    unsafe { open(&mut attr, pid, probe_cpu(pid)) }
}

/// `perf_event_open()` of a uprobe (PMU `pmu_type`) at file offset `offset`
/// of `path`, whose USDT semaphore at file offset `ref_ctr` (0: none) the
/// kernel increments while the probe exists (`config` bits 32-63, Linux 4.20).
pub(crate) fn perf_event_open_uprobe_ref(pmu_type: u32, config: u64, path: &CStr, offset: u64, ref_ctr: u64, pid: i32) -> SysResult<OwnedFd> {
    let mut attr = PerfEventAttr { type_: pmu_type, config: config | (ref_ctr << 32), sample_period: 1, wakeup_events: 1, config1: path.as_ptr() as u64, config2: offset, ..Default::default() };
    // SAFETY: config1 points to `path`, NUL-terminated and borrowed for the call.
    unsafe { open(&mut attr, pid, probe_cpu(pid)) }
}

/// `perf_event_open()` of tracepoint `id` (from tracefs) for every task.
pub(crate) fn perf_event_open_tracepoint(id: u64) -> SysResult<OwnedFd> {
    let mut attr = PerfEventAttr { type_: PERF_TYPE_TRACEPOINT, config: id, sample_period: 1, wakeup_events: 1, ..Default::default() };
    // SAFETY: no pointers.
    unsafe { open(&mut attr, -1, probe_cpu(-1)) }
}

/// `perf_event_open()` of a `PERF_COUNT_SW_BPF_OUTPUT` event on `cpu` (every
/// task), sampling raw data, waking readers at every sample; enabled.
pub(crate) fn perf_event_open_bpf_output(cpu: i32) -> SysResult<OwnedFd> {
    let mut attr = PerfEventAttr {
        type_: PERF_TYPE_SOFTWARE,
        config: PERF_COUNT_SW_BPF_OUTPUT,
        sample_period: 1,
        sample_type: PERF_SAMPLE_RAW,
        wakeup_events: 1,
        ..Default::default()
    };
    // SAFETY: no pointers.
    let fd = unsafe { open(&mut attr, -1, cpu) }?;
    ioctl(fd.as_fd(), PERF_EVENT_IOC_ENABLE, 0)?;
    Ok(fd)
}

/// A perf ioctl with an integer argument.
fn ioctl(fd: BorrowedFd<'_>, req: libc::c_ulong, arg: libc::c_ulong) -> SysResult<()> {
    // SAFETY: the perf ioctls used here take an integer, not a pointer.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), req, arg) } as libc::c_long).map(drop)
}

/// Attach a program to a perf event the old way (`PERF_EVENT_IOC_SET_BPF`) and enable it.
pub(crate) fn perf_event_set_bpf(event: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> SysResult<()> {
    ioctl(event, PERF_EVENT_IOC_SET_BPF, prog.as_raw_fd() as libc::c_ulong)?;
    ioctl(event, PERF_EVENT_IOC_ENABLE, 0)
}

/// Stop a perf event before it is closed.
pub(crate) fn perf_event_disable(event: BorrowedFd<'_>) {
    let _ = ioctl(event, PERF_EVENT_IOC_DISABLE, 0);
}

/// `perf_event_attr.freq`: `sample_period` is a frequency in Hz.
const PERF_ATTR_FREQ: u64 = 1 << 10;

/// `perf_event_open()` of a sampling event (`type_`/`config` as in
/// `linux/perf_event.h`) on `cpu` (-1: every CPU of `pid`) for `pid` (-1:
/// every task), sampling every `period` events or, with `freq`, `period`
/// times a second; enabled.
pub(crate) fn perf_event_open_sampling(type_: u32, config: u64, period: u64, freq: bool, pid: i32, cpu: i32) -> SysResult<OwnedFd> {
    let mut attr = PerfEventAttr { type_, config, sample_period: period, flags: if freq { PERF_ATTR_FREQ } else { 0 }, ..Default::default() };
    // SAFETY: no pointers.
    unsafe { open(&mut attr, pid, cpu) }
}
