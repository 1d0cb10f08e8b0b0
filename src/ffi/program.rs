//! Programs: describe them, get their fd, attach them (by section, kprobe,
//! uprobe, tracepoint, raw tracepoint). Each attach makes a `bpfl_link`
//! owned by the program's object.

use super::args::{out, read_opts, str_arg, write_info};
use super::errors::guard;
use super::handles::{self, Entry, Kind};
use super::link::add_link;
use super::types::{bpfl_kprobe_opts, bpfl_link, bpfl_probe_mode, bpfl_program, bpfl_program_info, bpfl_uprobe_opts};
use crate::attach::{KprobeOptions, ProbeMode, UprobeOptions};
use crate::error::{Error, Result};
use std::ffi::{c_char, c_int};

/// Describe a program.
///
/// # Safety
/// `info` is NULL or a writable `struct bpfl_program_info` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_get_info(prog: bpfl_program, info: *mut bpfl_program_info) -> c_int {
    guard(|| {
        let h = prog.id;
        let v = handles::with(h, Kind::Program, |e| match e {
            Entry::Program { prog, name, section, .. } => Ok(bpfl_program_info {
                sz: 0,
                name: name.as_ptr(),
                section: section.as_ptr(),
                prog_type: prog.prog_type(),
                expected_attach_type: prog.expected_attach_type(),
                fd: prog.fd().unwrap_or(-1),
                insn_cnt: prog.insn_count(),
            }),
            _ => Err(handles::stale(h, Kind::Program)),
        })?;
        write_info(info, v, "bpfl_program_info")?;
        Ok(0)
    })
}

/// The program's file descriptor (owned by bpfl); -EINVAL before load.
///
/// # Safety
/// `out_fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_fd(prog: bpfl_program, out_fd: *mut c_int) -> c_int {
    guard(|| {
        let o = out(out_fd, "out_fd")?;
        let (_, p) = handles::program(prog.id)?;
        *o = p.fd()?;
        Ok(0)
    })
}

/// Attach with `f` and give the link a handle owned by the program's object.
///
/// # Safety
/// `out_link` is NULL or a writable `bpfl_link`.
pub(super) unsafe fn attach_with(prog: bpfl_program, out_link: *mut bpfl_link, f: impl FnOnce(&crate::Program) -> Result<crate::Link>) -> c_int {
    guard(|| {
        let o = out(out_link, "out_link")?;
        let (owner, p) = handles::program(prog.id)?;
        let l = f(&p)?;
        o.id = add_link(Some(owner), l)?;
        Ok(0)
    })
}

/// Attach where the program's section says (`kprobe/FUNC[+OFF]`, `kretprobe/FUNC`,
/// `tracepoint/CAT/NAME`, `tp/CAT/NAME`, `raw_tracepoint/NAME`).
///
/// # Safety
/// `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach(prog: bpfl_program, out_link: *mut bpfl_link) -> c_int {
    attach_with(prog, out_link, |p| p.attach())
}

pub(super) fn probe_mode(mode: u32) -> Result<ProbeMode> {
    use bpfl_probe_mode::*;
    [(BPFL_PROBE_AUTO, ProbeMode::Auto), (BPFL_PROBE_PMU, ProbeMode::Pmu), (BPFL_PROBE_LEGACY, ProbeMode::Legacy)]
        .into_iter()
        .find(|&(c, _)| c as u32 == mode)
        .map(|(_, m)| m)
        .ok_or_else(|| Error::inval(format!("bpfl_kprobe_opts.mode {mode} is not a bpfl_probe_mode")))
}

/// Attach a kprobe program to kernel function `func` (`opts` may be NULL).
/// Uses the perf kprobe PMU, or tracefs `kprobe_events` where the PMU is missing.
///
/// # Safety
/// `func` is NULL or a NUL-terminated string; `opts` is NULL or a
/// `struct bpfl_kprobe_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_kprobe(prog: bpfl_program, func: *const c_char, opts: *const bpfl_kprobe_opts, out_link: *mut bpfl_link) -> c_int {
    let r = read_opts(opts, bpfl_kprobe_opts { sz: 0, offset: 0, retprobe: false, mode: 0, cookie: 0 }, "bpfl_kprobe_opts")
        .and_then(|o| Ok(KprobeOptions { offset: o.offset, retprobe: o.retprobe, mode: probe_mode(o.mode)?, cookie: o.cookie }));
    let func = str_arg(func, "func");
    attach_with(prog, out_link, |p| {
        let ko = r?;
        p.attach_kprobe(func?, &ko)
    })
}

/// Attach a kprobe-type program (section `uprobe`/`uretprobe`) to a user
/// function: `func` in the ELF file `binary` (executable or shared library;
/// a bare name is searched in PATH or the library directories), plus
/// `opts->offset`. With `func` NULL, `opts->offset` is the file offset.
/// `opts` may be NULL. Uses the perf uprobe PMU.
///
/// # Safety
/// `binary` and `func` are NULL or NUL-terminated strings; `opts` is NULL or
/// a `struct bpfl_uprobe_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_uprobe(
    prog: bpfl_program,
    binary: *const c_char,
    func: *const c_char,
    opts: *const bpfl_uprobe_opts,
    out_link: *mut bpfl_link,
) -> c_int {
    let o = read_opts(opts, bpfl_uprobe_opts { sz: 0, offset: 0, retprobe: false, pid: -1, cookie: 0 }, "bpfl_uprobe_opts");
    let bin = str_arg(binary, "binary");
    let func = if func.is_null() { Ok(None) } else { str_arg(func, "func").map(Some) };
    attach_with(prog, out_link, |p| {
        let o = o?;
        let uo = UprobeOptions { offset: o.offset, retprobe: o.retprobe, pid: if o.pid == 0 { -1 } else { o.pid }, cookie: o.cookie };
        p.attach_uprobe(bin?, func?, &uo)
    })
}

/// Attach a tracepoint program to `category/name` (as in tracefs `events/`).
///
/// # Safety
/// `category` and `name` are NULL or NUL-terminated strings; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_tracepoint(prog: bpfl_program, category: *const c_char, name: *const c_char, out_link: *mut bpfl_link) -> c_int {
    let (c, n) = (str_arg(category, "category"), str_arg(name, "name"));
    attach_with(prog, out_link, |p| p.attach_tracepoint(c?, n?))
}

/// Attach a raw tracepoint program to `name` (e.g. "sys_enter").
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_raw_tracepoint(prog: bpfl_program, name: *const c_char, out_link: *mut bpfl_link) -> c_int {
    let n = str_arg(name, "name");
    attach_with(prog, out_link, |p| p.attach_raw_tracepoint(n?))
}
