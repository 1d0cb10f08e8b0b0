//! Probe attachments beyond one function: USDT, uprobe.multi, kprobe.multi,
//! ksyscall, and tracepoints with an attach cookie.

use super::args::{read_opts, str_arg};
use super::program::{attach_with, probe_mode};
use super::types::{bpfl_link, bpfl_program};
use crate::attach::{KprobeMultiOptions, KprobeOptions, UprobeMultiOptions, UsdtOptions};
use crate::error::{Error, Result};
use std::ffi::{c_char, c_int};

/// Options of `bpfl_program_attach_usdt`. Set `sz` to `sizeof(struct bpfl_usdt_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_usdt_opts {
    pub sz: usize,
    /// What `bpf_usdt_cookie()` gives the program.
    pub cookie: u64,
}

/// Options of `bpfl_program_attach_uprobe_multi`. Set `sz` to `sizeof(struct bpfl_uprobe_multi_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_uprobe_multi_opts {
    pub sz: usize,
    /// `cnt` function names to probe (resolved in the binary), or NULL.
    pub syms: *const *const c_char,
    /// `cnt` file offsets to probe, or NULL (exactly one of `syms`/`offsets` with `cnt`).
    pub offsets: *const u64,
    /// `cnt` cookies (one per probe), or NULL.
    pub cookies: *const u64,
    /// How many entries `syms`/`offsets` and `cookies` have.
    pub cnt: usize,
    /// At function return (uretprobe.multi).
    pub retprobe: bool,
}

/// Options of `bpfl_program_attach_kprobe_multi`. Set `sz` to `sizeof(struct bpfl_kprobe_multi_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_kprobe_multi_opts {
    pub sz: usize,
    /// `cnt` kernel function names, or NULL.
    pub syms: *const *const c_char,
    /// `cnt` kernel addresses, or NULL.
    pub addrs: *const u64,
    /// `cnt` cookies (one per function; with a pattern, in sorted name order), or NULL.
    pub cookies: *const u64,
    /// How many entries `syms`/`addrs`/`cookies` have.
    pub cnt: usize,
    /// At function return (kretprobe.multi).
    pub retprobe: bool,
    /// A session probe (kprobe.session, Linux 6.10+).
    pub session: bool,
}

/// Options of `bpfl_program_attach_ksyscall`. Set `sz` to `sizeof(struct bpfl_ksyscall_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_ksyscall_opts {
    pub sz: usize,
    /// What `bpf_get_attach_cookie()` gives the program.
    pub cookie: u64,
    /// At the syscall's return (kretsyscall).
    pub retprobe: bool,
    /// A `bpfl_probe_mode`.
    pub mode: u32,
}

/// Options of `bpfl_program_attach_tracepoint_opts`. Set `sz` to `sizeof(struct bpfl_tracepoint_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_tracepoint_opts {
    pub sz: usize,
    /// What `bpf_get_attach_cookie()` gives the program (Linux 5.15+ when not 0).
    pub cookie: u64,
}

/// Options of `bpfl_program_attach_trace_opts`. Set `sz` to `sizeof(struct bpfl_trace_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_trace_opts {
    pub sz: usize,
    /// What `bpf_get_attach_cookie()` gives the program (Linux 5.19+ when not 0).
    pub cookie: u64,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(std::mem::size_of::<bpfl_trace_opts>() == 16);
    use std::mem::size_of;
    assert!(size_of::<bpfl_usdt_opts>() == 16 && size_of::<bpfl_tracepoint_opts>() == 16 && size_of::<bpfl_ksyscall_opts>() == 24);
    assert!(size_of::<bpfl_uprobe_multi_opts>() == 48 && size_of::<bpfl_kprobe_multi_opts>() == 48);
};

/// `cnt` values at `p` (NULL: none).
///
/// # Safety
/// `p` is NULL or points to `cnt` readable `T`s.
unsafe fn array<T: Copy>(p: *const T, cnt: usize, what: &str) -> Result<Vec<T>> {
    if p.is_null() {
        return Ok(Vec::new());
    }
    if cnt > (1 << 20) {
        return Err(Error::inval(format!("{what}: cnt {cnt} is more probes than bpfl attaches at once (1M)")));
    }
    Ok(std::slice::from_raw_parts(p, cnt).to_vec())
}

/// `cnt` strings at `p` (NULL: none).
///
/// # Safety
/// `p` is NULL or points to `cnt` pointers to NUL-terminated strings.
unsafe fn strings(p: *const *const c_char, cnt: usize, what: &str) -> Result<Vec<String>> {
    array(p, cnt, what)?.into_iter().map(|s| str_arg(s, what).map(String::from)).collect()
}

/// Attach a kprobe-type program (section `usdt`) to every site of USDT probe
/// `provider:name` in `binary` (executable or shared library; a bare name is
/// looked up among the files process `pid` maps, then in PATH or the library
/// directories): one uprobe per site, the
/// probe's semaphore counted by the kernel, its arguments described for
/// `bpfl/usdt.bpf.h` (`bpf_usdt_arg()`). `pid` > 0: only that process.
///
/// # Safety
/// `binary`, `provider` and `name` are NULL or NUL-terminated strings; `opts`
/// is NULL or a `struct bpfl_usdt_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_usdt(
    prog: bpfl_program,
    pid: c_int,
    binary: *const c_char,
    provider: *const c_char,
    name: *const c_char,
    opts: *const bpfl_usdt_opts,
    out_link: *mut bpfl_link,
) -> c_int {
    let o = read_opts(opts, bpfl_usdt_opts { sz: 0, cookie: 0 }, "bpfl_usdt_opts");
    let (b, pr, n) = (str_arg(binary, "binary"), str_arg(provider, "provider"), str_arg(name, "name"));
    attach_with(prog, out_link, |p| {
        let uo = UsdtOptions { pid: if pid <= 0 { -1 } else { pid }, cookie: o?.cookie };
        p.attach_usdt(b?, pr?, n?, &uo)
    })
}

/// Attach a kprobe-type program to many places of one binary: the
/// functions matching glob `func_pattern` (may be NULL), or `opts->syms`,
/// or file offsets `opts->offsets`, with `opts->cookies`. One
/// `BPF_TRACE_UPROBE_MULTI` link (Linux 6.6+, a program from a `uprobe.multi`
/// section), else one uprobe per place (the choice is logged). `pid` > 0:
/// only that process.
///
/// # Safety
/// `binary` and `func_pattern` are NULL or NUL-terminated strings; `opts` is
/// NULL or a `struct bpfl_uprobe_multi_opts` with `sz` set whose arrays hold
/// `cnt` entries; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_uprobe_multi(
    prog: bpfl_program,
    pid: c_int,
    binary: *const c_char,
    func_pattern: *const c_char,
    opts: *const bpfl_uprobe_multi_opts,
    out_link: *mut bpfl_link,
) -> c_int {
    let null = bpfl_uprobe_multi_opts { sz: 0, syms: std::ptr::null(), offsets: std::ptr::null(), cookies: std::ptr::null(), cnt: 0, retprobe: false };
    let args = read_opts(opts, null, "bpfl_uprobe_multi_opts").and_then(|o| {
        let syms = strings(o.syms, o.cnt, "bpfl_uprobe_multi_opts.syms")?;
        let offs = array(o.offsets, o.cnt, "bpfl_uprobe_multi_opts.offsets")?;
        let cookies = array(o.cookies, o.cnt, "bpfl_uprobe_multi_opts.cookies")?;
        Ok((syms, offs, UprobeMultiOptions { retprobe: o.retprobe, pid: if pid <= 0 { -1 } else { pid }, cookies }))
    });
    let b = str_arg(binary, "binary");
    let pat = if func_pattern.is_null() { Ok(None) } else { str_arg(func_pattern, "func_pattern").map(Some) };
    attach_with(prog, out_link, |p| {
        let (mut syms, offs, o) = args?;
        let b = b?;
        if let Some(pat) = pat? {
            if !syms.is_empty() || !offs.is_empty() {
                return Err(Error::inval("bpfl_program_attach_uprobe_multi: give func_pattern or opts->syms/offsets, not both"));
            }
            syms = crate::attach::multi::elf_funcs_matching(b, pat)?;
        }
        p.attach_uprobe_multi(b, &syms, &offs, &o)
    })
}

/// Attach a kprobe-type program to many kernel functions: those matching
/// glob `pattern` (tracefs available_filter_functions), or `opts->syms`, or
/// `opts->addrs`, with `opts->cookies`. One `BPF_TRACE_KPROBE_MULTI` link
/// (CONFIG_FPROBE, Linux 5.18+), else, for a program from a `kprobe`
/// section, one kprobe per function (the choice is logged).
///
/// # Safety
/// `pattern` is NULL or a NUL-terminated string; `opts` is NULL or a
/// `struct bpfl_kprobe_multi_opts` with `sz` set whose arrays hold `cnt`
/// entries; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_kprobe_multi(prog: bpfl_program, pattern: *const c_char, opts: *const bpfl_kprobe_multi_opts, out_link: *mut bpfl_link) -> c_int {
    let null = bpfl_kprobe_multi_opts { sz: 0, syms: std::ptr::null(), addrs: std::ptr::null(), cookies: std::ptr::null(), cnt: 0, retprobe: false, session: false };
    let args = read_opts(opts, null, "bpfl_kprobe_multi_opts").and_then(|o| {
        let syms = strings(o.syms, o.cnt, "bpfl_kprobe_multi_opts.syms")?;
        let addrs = array(o.addrs, o.cnt, "bpfl_kprobe_multi_opts.addrs")?;
        let cookies = array(o.cookies, o.cnt, "bpfl_kprobe_multi_opts.cookies")?;
        Ok((syms, addrs, KprobeMultiOptions { retprobe: o.retprobe, session: o.session, cookies }))
    });
    let pat = if pattern.is_null() { Ok(None) } else { str_arg(pattern, "pattern").map(Some) };
    attach_with(prog, out_link, |p| {
        let (syms, addrs, o) = args?;
        p.attach_kprobe_multi(pat?, &syms, &addrs, &o)
    })
}

/// Attach a kprobe-type program to syscall `name` ("openat"): a kprobe on
/// its entry function, named with the arch's wrapper prefix where syscalls
/// go through wrappers (`__x64_sys_openat`), else `sys_openat`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `opts` is NULL or a `struct
/// bpfl_ksyscall_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_ksyscall(prog: bpfl_program, name: *const c_char, opts: *const bpfl_ksyscall_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_ksyscall_opts { sz: 0, cookie: 0, retprobe: false, mode: 0 }, "bpfl_ksyscall_opts")
        .and_then(|o| Ok(KprobeOptions { offset: 0, retprobe: o.retprobe, mode: probe_mode(o.mode)?, cookie: o.cookie }));
    let n = str_arg(name, "name");
    attach_with(prog, out_link, |p| {
        let o = o?;
        p.attach_ksyscall(n?, &o)
    })
}

/// `bpfl_program_attach_tracepoint` with options: `opts->cookie` for
/// `bpf_get_attach_cookie()` (a BPF perf link, Linux 5.15+).
///
/// # Safety
/// `category` and `name` are NULL or NUL-terminated strings; `opts` is NULL
/// or a `struct bpfl_tracepoint_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_tracepoint_opts(
    prog: bpfl_program,
    category: *const c_char,
    name: *const c_char,
    opts: *const bpfl_tracepoint_opts,
    out_link: *mut bpfl_link,
) -> c_int {
    let o = read_opts(opts, bpfl_tracepoint_opts { sz: 0, cookie: 0 }, "bpfl_tracepoint_opts");
    let (c, n) = (str_arg(category, "category"), str_arg(name, "name"));
    attach_with(prog, out_link, |p| p.attach_tracepoint_cookie(c?, n?, o?.cookie))
}

/// Attach a BTF-traced program (section `fentry/`, `fexit/`, `fmod_ret/`,
/// `lsm/`) where its section says, through a tracing link carrying
/// `opts->cookie` for `bpf_get_attach_cookie()` (Linux 5.19+).
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_trace_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_trace_opts(prog: bpfl_program, opts: *const bpfl_trace_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_trace_opts { sz: 0, cookie: 0 }, "bpfl_trace_opts");
    attach_with(prog, out_link, |p| p.attach_trace_cookie(o?.cookie))
}
