//! Links beyond attach and destroy (pin, open from a pin, update, info,
//! BPF_LINK_DETACH), perf events for `perf_event` programs, and BPF
//! iterators (issue 12): thin exports over `crate::Link`,
//! `crate::attach::{open_perf_event, Iter}` and the program's attach calls.

use super::args::{out, read_opts, str_arg, write_info};
use super::errors::guard;
use super::handles::{self, Entry, Kind};
use super::link::add_link;
use super::types::{bpfl_link, bpfl_map, bpfl_program};
use crate::attach::{IterOptions, PerfEventOptions, PerfEventSpec};
use crate::error::{Error, Result};
use std::ffi::{c_char, c_int};
use std::os::fd::{BorrowedFd, IntoRawFd};

/// Options of `bpfl_link_update`. Set `sz` to `sizeof(struct bpfl_link_update_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_link_update_opts {
    pub sz: usize,
    /// When set (non-null), update only if the link runs this program now (`BPF_F_REPLACE`).
    pub old_prog: bpfl_program,
}

/// What `bpfl_link_get_info` reports (`struct bpf_link_info`). Set `sz`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_link_info {
    pub sz: usize,
    /// `enum bpf_link_type` (1 raw_tracepoint, 2 tracing, 3 cgroup, 4 iter, 5 netns, 6 xdp, 7 perf_event, 8 kprobe_multi, 9 struct_ops ...).
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    /// Tracing, cgroup and netns links.
    pub attach_type: u32,
    /// cgroup links and cgroup iterators.
    pub cgroup_id: u64,
    /// Map iterators; struct_ops links.
    pub map_id: u32,
    /// Tracing links: the target's BTF object and type ids.
    pub target_obj_id: u32,
    pub target_btf_id: u32,
    /// XDP links.
    pub ifindex: u32,
    /// netns links.
    pub netns_ino: u32,
    /// Perf event links (Linux 6.6+): `enum bpf_perf_event_type`.
    pub perf_event_type: u32,
    /// Task iterators of one thread or process.
    pub task_tid: u32,
    pub task_pid: u32,
    /// Raw tracepoint name, iterator target, perf event function/file/tracepoint; NUL-terminated.
    pub name: [c_char; 128],
}

/// A sampling perf event for `bpfl_perf_event_open`. Set `sz`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_perf_event_spec {
    pub sz: usize,
    /// `PERF_TYPE_*` (0 hardware, 1 software ...).
    pub perf_type: u32,
    /// Sample `period` times a second (`period` is a frequency) instead of every `period` events.
    pub freq: bool,
    /// The event of that type (`PERF_COUNT_SW_CPU_CLOCK` 0, `PERF_COUNT_HW_CPU_CYCLES` 0 ...).
    pub config: u64,
    pub period: u64,
    /// Only this process; 0 or -1: every task.
    pub pid: i32,
}

/// Options of `bpfl_program_attach_perf_event`. Set `sz`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_perf_event_opts {
    pub sz: usize,
    /// `bpf_get_attach_cookie()` value (needs the BPF link path, Linux 5.15+).
    pub cookie: u64,
}

/// Parameters of `bpfl_program_attach_iter` (`union bpf_iter_link_info`):
/// set those of the iterator's target, or none. Fds <= 0 mean none. Set `sz`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_iter_opts {
    pub sz: usize,
    /// `bpf_map_elem`, `bpf_sk_storage_map`, `sockmap`: the map to walk.
    pub map_fd: c_int,
    /// `cgroup`: start (fd or id) and `enum bpf_cgroup_iter_order`.
    pub cgroup_fd: c_int,
    pub cgroup_id: u64,
    pub cgroup_order: u32,
    /// `task`, `task_file`, `task_vma`: one thread, one process, or a pidfd's process (Linux 6.1+).
    pub tid: u32,
    pub pid: u32,
    pub pid_fd: c_int,
}

/// Run `f` on the link behind `link`.
fn with_link<T>(link: bpfl_link, f: impl FnOnce(&crate::Link) -> Result<T>) -> Result<T> {
    handles::with(link.id, Kind::Link, |e| match e {
        Entry::Link { link: l, .. } => match l.lock().as_ref() {
            Some(l) => f(l),
            None => Err(handles::stale(link.id, Kind::Link)),
        },
        _ => Err(handles::stale(link.id, Kind::Link)),
    })
}

/// Pin a link at `path` on a bpffs: the attachment outlives the handle and
/// the process until the pin is removed. Destroying the handle then releases
/// only its fd (it does not unpin). -EOPNOTSUPP, with the reason, for an
/// attachment that is no BPF link (a perf event on a kernel before 5.15).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bpfl_link_pin(link: bpfl_link, path: *const c_char) -> c_int {
    let p = str_arg(path, "path");
    guard(|| {
        let p = p?;
        with_link(link, |l| l.pin(p))?;
        Ok(0)
    })
}

/// Open a link pinned at `path`. The new handle owns a new fd of it and
/// belongs to no object; `bpfl_link_destroy` closes that fd (no unpin, no detach).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_link_open_pinned(path: *const c_char, out_link: *mut bpfl_link) -> c_int {
    let p = str_arg(path, "path");
    guard(|| {
        let o = out(out_link, "out_link")?;
        let l = crate::Link::open_pinned(p?)?;
        o.id = add_link(None, l)?;
        Ok(0)
    })
}

/// Run `new_prog` in the link instead of its program (`BPF_LINK_UPDATE`);
/// with `opts->old_prog` set, only if that is the program it runs now
/// (-EPERM otherwise). `opts` may be NULL.
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_link_update_opts` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_link_update(link: bpfl_link, new_prog: bpfl_program, opts: *const bpfl_link_update_opts) -> c_int {
    let o = read_opts(opts, bpfl_link_update_opts { sz: 0, old_prog: bpfl_program { id: 0 } }, "bpfl_link_update_opts");
    guard(|| {
        let o = o?;
        let (_, new) = handles::program(new_prog.id)?;
        let old = if o.old_prog.id == 0 { None } else { Some(handles::program(o.old_prog.id)?.1) };
        with_link(link, |l| l.update_program(&new, old.as_deref()))?;
        Ok(0)
    })
}

/// Describe a link (`BPF_OBJ_GET_INFO_BY_FD`, Linux 5.8+).
///
/// # Safety
/// `info` is NULL or a writable `struct bpfl_link_info` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_link_get_info(link: bpfl_link, info: *mut bpfl_link_info) -> c_int {
    guard(|| {
        let i = with_link(link, |l| l.info())?;
        let mut name = [0 as c_char; 128];
        for (d, s) in name.iter_mut().zip(i.name.bytes().take(127)) {
            *d = s as c_char;
        }
        let v = bpfl_link_info {
            sz: 0,
            link_type: i.link_type,
            id: i.id,
            prog_id: i.prog_id,
            attach_type: i.attach_type,
            cgroup_id: i.cgroup_id,
            map_id: i.map_id,
            target_obj_id: i.target_obj_id,
            target_btf_id: i.target_btf_id,
            ifindex: i.ifindex,
            netns_ino: i.netns_ino,
            perf_event_type: i.perf_event_type,
            task_tid: i.task_tid,
            task_pid: i.task_pid,
            name,
        };
        write_info(info, v, "bpfl_link_info")?;
        Ok(0)
    })
}

/// End the attachment now (`BPF_LINK_DETACH`), for every holder of the link
/// and its pins; the handle stays valid (its link defunct) until destroyed.
/// -EOPNOTSUPP, saying which links take it, for other link types.
#[no_mangle]
pub extern "C" fn bpfl_link_detach(link: bpfl_link) -> c_int {
    guard(|| {
        with_link(link, |l| l.force_detach())?;
        Ok(0)
    })
}

/// Open a sampling perf event on `cpu` (-1 with a pid: that process on every
/// CPU). `*out_fd` is the caller's, to close. A machine without a hardware
/// PMU gives -EOPNOTSUPP/-ENOENT with the reason for hardware events.
///
/// # Safety
/// `spec` is NULL or a `struct bpfl_perf_event_spec` with `sz` set; `out_fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_perf_event_open(spec: *const bpfl_perf_event_spec, cpu: c_int, out_fd: *mut c_int) -> c_int {
    let s = if spec.is_null() {
        Err(Error::inval("spec is NULL"))
    } else {
        read_opts(spec, bpfl_perf_event_spec { sz: 0, perf_type: 0, freq: false, config: 0, period: 0, pid: -1 }, "bpfl_perf_event_spec")
    };
    guard(|| {
        let o = out(out_fd, "out_fd")?;
        let s = s?;
        let spec = PerfEventSpec { type_: s.perf_type, config: s.config, period: s.period, freq: s.freq, pid: if s.pid == 0 { -1 } else { s.pid } };
        *o = crate::attach::open_perf_event(&spec, cpu)?.into_raw_fd();
        Ok(0)
    })
}

/// Attach a `perf_event` program to the perf event `perf_fd` (a BPF link on
/// Linux 5.15+, else `PERF_EVENT_IOC_SET_BPF`). The link holds its own
/// duplicate of `perf_fd`: the caller may close it. `opts` may be NULL.
///
/// # Safety
/// `perf_fd` is an fd open for the duration of the call; `opts` is NULL or a
/// `struct bpfl_perf_event_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_perf_event(prog: bpfl_program, perf_fd: c_int, opts: *const bpfl_perf_event_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_perf_event_opts { sz: 0, cookie: 0 }, "bpfl_perf_event_opts");
    guard(|| {
        let ol = out(out_link, "out_link")?;
        let o = o?;
        if perf_fd < 0 {
            return Err(Error::inval(format!("perf_fd {perf_fd} is not a file descriptor")));
        }
        let (owner, p) = handles::program(prog.id)?;
        // SAFETY: the caller keeps `perf_fd` open during the call.
        let fd = unsafe { BorrowedFd::borrow_raw(perf_fd) };
        let l = p.attach_perf_event(fd, &PerfEventOptions { cookie: o.cookie })?;
        ol.id = add_link(Some(owner), l)?;
        Ok(0)
    })
}

/// Make an iterator link of an `iter/TARGET` program (Linux 5.8+); read its
/// output with `bpfl_iter_create` and read(). `opts` may be NULL.
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_iter_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_iter(prog: bpfl_program, opts: *const bpfl_iter_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_iter_opts { sz: 0, map_fd: 0, cgroup_fd: 0, cgroup_id: 0, cgroup_order: 0, tid: 0, pid: 0, pid_fd: 0 }, "bpfl_iter_opts");
    guard(|| {
        let ol = out(out_link, "out_link")?;
        let o = o?;
        let fd = |f: c_int| (f > 0).then_some(f);
        let io = IterOptions {
            map_fd: fd(o.map_fd),
            cgroup_fd: fd(o.cgroup_fd),
            cgroup_id: o.cgroup_id,
            cgroup_order: o.cgroup_order,
            tid: o.tid,
            pid: o.pid,
            pid_fd: fd(o.pid_fd),
        };
        let (owner, p) = handles::program(prog.id)?;
        let l = p.attach_iter(&io)?;
        ol.id = add_link(Some(owner), l)?;
        Ok(0)
    })
}

/// Start a pass of an iterator link (`BPF_ITER_CREATE`): `*out_fd` is the
/// caller's, to read() until it returns 0, then close.
///
/// # Safety
/// `out_fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_iter_create(link: bpfl_link, out_fd: *mut c_int) -> c_int {
    guard(|| {
        let o = out(out_fd, "out_fd")?;
        let it = with_link(link, crate::attach::Iter::new)?;
        *o = it.into_raw_fd();
        Ok(0)
    })
}

/// The owner object and the map behind a map handle.
fn map_and_owner(h: u64) -> Result<(Option<u64>, std::sync::Arc<crate::Map>)> {
    handles::with(h, Kind::Map, |e| match e {
        Entry::Map { owner, map, .. } => Ok((*owner, map.clone())),
        _ => Err(handles::stale(h, Kind::Map)),
    })
}

/// Register a loaded struct_ops map (a `SEC(".struct_ops.link")` or
/// `SEC(".struct_ops")` variable: a TCP congestion control, ...). The link
/// (a BPF link for `.struct_ops.link`, Linux 6.4+; a map update for
/// `.struct_ops`) unregisters it when destroyed, or when its object closes.
///
/// # Safety
/// `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_attach_struct_ops(map: bpfl_map, out_link: *mut bpfl_link) -> c_int {
    guard(|| {
        let o = out(out_link, "out_link")?;
        let (owner, m) = map_and_owner(map.id)?;
        let l = m.attach_struct_ops()?;
        o.id = add_link(owner, l)?;
        Ok(0)
    })
}

/// Switch a struct_ops link to another loaded `.struct_ops.link` map of the
/// same kernel type (`BPF_LINK_UPDATE`, Linux 6.4+).
#[no_mangle]
pub extern "C" fn bpfl_link_update_map(link: bpfl_link, map: bpfl_map) -> c_int {
    guard(|| {
        let (_, m) = map_and_owner(map.id)?;
        with_link(link, |l| l.update_map(&m))?;
        Ok(0)
    })
}
