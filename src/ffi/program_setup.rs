//! Setting up a program between open and load (libbpf's
//! `bpf_program__set_*`): autoload, type, expected attach type, BTF attach
//! target, load flags, verifier log level; and reading its last verifier
//! log. Setters give -EBUSY once the object is loading or loaded.

use super::args::{bytes_mut, out};
use super::errors::guard;
use super::handles;
use super::types::bpfl_program;
use crate::error::{Error, ErrorKind, Result};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::os::fd::BorrowedFd;

fn with_prog(prog: bpfl_program, f: impl FnOnce(&crate::Program) -> Result<()>) -> c_int {
    guard(|| {
        let (_, p) = handles::program(prog.id)?;
        f(&p)?;
        Ok(0)
    })
}

/// Load the program with its object (`true`, the default) or not: a program
/// with autoload off is skipped by `bpfl_object_load` and
/// `bpfl_object_attach_all`; its handle stays valid, its fd is -1 and
/// attaching it gives -EINVAL saying it is not loaded.
#[no_mangle]
pub extern "C" fn bpfl_program_set_autoload(prog: bpfl_program, autoload: bool) -> c_int {
    with_prog(prog, |p| p.set_autoload(autoload))
}

/// Whether the program loads with its object.
///
/// # Safety
/// `out_autoload` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_autoload(prog: bpfl_program, out_autoload: *mut bool) -> c_int {
    guard(|| {
        let o = out(out_autoload, "out_autoload")?;
        *o = handles::program(prog.id)?.1.autoload();
        Ok(0)
    })
}

/// Load the program as `prog_type` (`enum bpf_prog_type`) instead of what its section says.
#[no_mangle]
pub extern "C" fn bpfl_program_set_type(prog: bpfl_program, prog_type: u32) -> c_int {
    with_prog(prog, |p| p.set_type(prog_type))
}

/// Give the kernel `attach_type` (`enum bpf_attach_type`) as the expected attach type at load.
#[no_mangle]
pub extern "C" fn bpfl_program_set_expected_attach_type(prog: bpfl_program, attach_type: u32) -> c_int {
    with_prog(prog, |p| p.set_expected_attach_type(attach_type))
}

/// Set the BTF attach target. With `attach_prog_fd` <= 0: the kernel
/// function (fentry/fexit/fmod_ret), tracepoint (tp_btf: "sched_switch"),
/// LSM hook ("file_open") or iterator ("task") named `func`, as a section
/// would name it. With `attach_prog_fd` > 0: function `func` of that loaded
/// BPF program (freplace, or fentry/fexit on a BPF program; the fd is
/// duplicated); `func` NULL then keeps the section's name.
///
/// # Safety
/// `func` is NULL or a NUL-terminated string; `attach_prog_fd` is <= 0 or an open fd.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_set_attach_target(prog: bpfl_program, attach_prog_fd: c_int, func: *const c_char) -> c_int {
    with_prog(prog, |p| {
        let func = if func.is_null() { None } else { Some(CStr::from_ptr(func).to_str().map_err(|_| Error::inval("func is not valid UTF-8"))?) };
        // SAFETY: the caller's promise that a positive fd is open during the call.
        let fd = (attach_prog_fd > 0).then(|| unsafe { BorrowedFd::borrow_raw(attach_prog_fd) });
        p.set_attach_target(fd, func)
    })
}

/// Set `prog_flags` at load (e.g. BPF_F_SLEEPABLE = 1 << 4), replacing those the section implies.
#[no_mangle]
pub extern "C" fn bpfl_program_set_flags(prog: bpfl_program, flags: u32) -> c_int {
    with_prog(prog, |p| p.set_flags(flags))
}

/// The `prog_flags` given at load.
///
/// # Safety
/// `out_flags` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_flags(prog: bpfl_program, out_flags: *mut u32) -> c_int {
    guard(|| {
        let o = out(out_flags, "out_flags")?;
        *o = handles::program(prog.id)?.1.flags();
        Ok(0)
    })
}

/// The verifier log level for this program (overrides the object's
/// `kernel_log_level` and `bpfl_load_opts.log_level`): 1 or 2 keep the log
/// of a successful load, for `bpfl_program_log`.
#[no_mangle]
pub extern "C" fn bpfl_program_set_log_level(prog: bpfl_program, level: u32) -> c_int {
    with_prog(prog, |p| p.set_log_level(level))
}

/// Copy the verifier log of the program's last load (with a log level, or
/// of a refusal) into `buf`, NUL-terminated; `*out_len` receives its length
/// without the NUL. A `buf` too small (or NULL with `len` 0, to ask the
/// size) gives -ENOSPC with `*out_len` set.
///
/// # Safety
/// `buf` is NULL or `len` writable bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_log(prog: bpfl_program, buf: *mut c_char, len: usize, out_len: *mut usize) -> c_int {
    guard(|| {
        let o = out(out_len, "out_len")?;
        let log = handles::program(prog.id)?.1.log();
        *o = log.len();
        if buf.is_null() && len == 0 || len <= log.len() {
            return Err(Error::new(ErrorKind::InvalidArgument, libc::ENOSPC, format!("the log is {} bytes: give a buffer of at least {}", log.len(), log.len() + 1)));
        }
        let b = bytes_mut(buf as *mut c_void, len, "buf")?;
        b[..log.len()].copy_from_slice(log.as_bytes());
        b[log.len()] = 0;
        Ok(0)
    })
}
