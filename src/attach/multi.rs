//! Multi-probe attachments: many kernel functions in one
//! `BPF_TRACE_KPROBE_MULTI` link (fprobe, Linux 5.18+), many offsets of one
//! binary in one `BPF_TRACE_UPROBE_MULTI` link (Linux 6.6+), each probe with
//! its own cookie; where the kernel has no multi-link, one single-probe link
//! per target, grouped, with the choice in the log. And `ksyscall`: a kprobe
//! on the syscall's entry function, whose name depends on the wrapper.

use super::{probe, KprobeOptions, UprobeOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::host::{kallsyms, pmu, tracefs};
use crate::link::{Link, LinkKind};
use crate::obj::section::attach_type as at;
use crate::sys;
use std::ffi::CString;

const BPF_TRACE_KPROBE_SESSION: u32 = 56;

/// Options of a kprobe.multi attach.
#[derive(Debug, Clone, Default)]
pub struct KprobeMultiOptions {
    /// At function return (kretprobe.multi).
    pub retprobe: bool,
    /// A session probe: entry and return in one program (Linux 6.10+).
    pub session: bool,
    /// One cookie per function (in the order given, or of the sorted matches of a pattern), or none.
    pub cookies: Vec<u64>,
}

/// Options of a uprobe.multi attach.
#[derive(Debug, Clone)]
pub struct UprobeMultiOptions {
    /// At function return (uretprobe.multi).
    pub retprobe: bool,
    /// Only this process (-1: every process).
    pub pid: i32,
    /// One cookie per offset, or none.
    pub cookies: Vec<u64>,
}

impl Default for UprobeMultiOptions {
    fn default() -> Self {
        UprobeMultiOptions { retprobe: false, pid: -1, cookies: Vec::new() }
    }
}

/// `*` and `?` glob matching (what libbpf's kprobe.multi patterns allow).
pub fn glob_match(pat: &str, s: &str) -> bool {
    let (p, t) = (pat.as_bytes(), s.as_bytes());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The traceable kernel functions matching `pattern`, sorted and
/// deduplicated: from tracefs `available_filter_functions`, or where that
/// cannot be read or gives no match (no tracefs, ftrace locked down), the
/// text symbols of `/proc/kallsyms`.
fn match_functions(pattern: &str) -> Result<Vec<String>> {
    let ftrace = tracefs::root().map(|r| format!("{r}/available_filter_functions"));
    let mut searched = Vec::new();
    if let Some(Ok(text)) = ftrace.as_ref().map(std::fs::read_to_string) {
        let v = matching(pattern, text.lines().filter_map(|l| l.split_whitespace().next()));
        searched.push(format!("{} ({} functions)", ftrace.as_deref().unwrap_or(""), text.lines().count()));
        if !v.is_empty() {
            return Ok(v);
        }
    }
    let text = std::fs::read_to_string("/proc/kallsyms").map_err(|e| Error::from_io(e, "kprobe.multi pattern: '/proc/kallsyms'"))?;
    let text_syms = text.lines().filter_map(|l| {
        let mut f = l.split_whitespace();
        let (_, ty, name) = (f.next()?, f.next()?, f.next()?);
        matches!(ty, "t" | "T").then_some(name)
    });
    let v = matching(pattern, text_syms);
    searched.push(format!("/proc/kallsyms ({} lines)", text.lines().count()));
    if v.is_empty() {
        return Err(Error::not_found(format!("kprobe.multi: no traceable kernel function matches '{pattern}' (searched {})", searched.join(", "))));
    }
    Ok(v)
}

fn matching<'a>(pattern: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = names.filter(|f| !f.starts_with("__ftrace_invalid_address") && glob_match(pattern, f)).map(String::from).collect();
    v.sort();
    v.dedup();
    v
}

fn check_cookies(n: usize, cookies: &[u64], what: &str) -> Result<()> {
    if !cookies.is_empty() && cookies.len() != n {
        return Err(Error::inval(format!("{what}: {} cookies for {n} probes: give one per probe, or none", cookies.len())));
    }
    Ok(())
}

fn no_multi(e: i32) -> bool {
    matches!(e, libc::EOPNOTSUPP | sys::ENOTSUPP | libc::EINVAL | libc::E2BIG | libc::ENOSYS)
}

/// Attach `prog` to kernel functions: those matching `pattern`, or `syms`,
/// or `addrs` (exactly one given). Falls back to one kprobe per function
/// where the kernel has no fprobe.
pub(crate) fn kprobe_multi(
    prog: std::os::fd::BorrowedFd<'_>,
    prog_name: &str,
    expected: u32,
    pattern: Option<&str>,
    syms: &[String],
    addrs: &[u64],
    opts: &KprobeMultiOptions,
) -> Result<Link> {
    let kind = if opts.session { "kprobe.session" } else if opts.retprobe { "kretprobe.multi" } else { "kprobe.multi" };
    let what = format!("program '{prog_name}': {kind}");
    let given = [pattern.is_some(), !syms.is_empty(), !addrs.is_empty()].iter().filter(|&&b| b).count();
    if given != 1 {
        return Err(Error::inval(format!("{what}: give exactly one of a pattern, a list of symbols or a list of addresses")));
    }
    if opts.session && opts.retprobe {
        return Err(Error::inval(format!("{what}: a session probe already runs at entry and return: do not also ask for retprobe")));
    }
    let names: Vec<String> = match pattern {
        Some(p) => match_functions(p).map_err(|e| e.context(&what))?,
        None => syms.to_vec(),
    };
    let n = if addrs.is_empty() { names.len() } else { addrs.len() };
    check_cookies(n, &opts.cookies, &what)?;
    let cnames: Vec<CString> = names.iter().map(|s| CString::new(s.as_str())).collect::<std::result::Result<_, _>>().map_err(|_| Error::inval(format!("{what}: a symbol contains a NUL byte")))?;
    let crefs: Vec<&std::ffi::CStr> = cnames.iter().map(|c| c.as_c_str()).collect();
    let attach_type = if opts.session { BPF_TRACE_KPROBE_SESSION } else { at::TRACE_KPROBE_MULTI };
    let err = match sys::link_create_kprobe_multi(prog, attach_type, opts.retprobe as u32, &crefs, addrs, &opts.cookies) {
        Ok(fd) => return Ok(Link::new(LinkKind::Multi, format!("{kind}: {n} functions"), Some(fd), None, None)),
        Err(e) => e,
    };
    let fprobe = "kprobe.multi needs CONFIG_FPROBE (Linux 5.18+)";
    if err.0 == libc::ESRCH || err.0 == libc::ENOENT {
        return Err(Error::new(ErrorKind::NotFound, err.0, format!("{what}: a function is not in kallsyms or cannot be traced ({})", std::io::Error::from_raw_os_error(err.0))));
    }
    if !no_multi(err.0) {
        return Err(err.error(format!("{what}: BPF_LINK_CREATE")));
    }
    if opts.session {
        return Err(Error::unsupported(format!("{what}: kprobe.session needs Linux 6.10+ with CONFIG_FPROBE ({})", std::io::Error::from_raw_os_error(err.0))));
    }
    if !addrs.is_empty() || expected == at::TRACE_KPROBE_MULTI {
        // A program loaded for kprobe.multi cannot take a single kprobe link on kernels that check (5.18+).
        return Err(Error::unsupported(format!("{what}: {fprobe} ({}); load the program from a 'kprobe' section to attach one kprobe per function instead", std::io::Error::from_raw_os_error(err.0))));
    }
    crate::log::info(&format!("{what}: no multi-kprobe link ({fprobe}): one kprobe per function for {n} functions"));
    let mut parts = Vec::with_capacity(n);
    for (i, f) in names.iter().enumerate() {
        let o = KprobeOptions { retprobe: opts.retprobe, cookie: opts.cookies.get(i).copied().unwrap_or(0), ..Default::default() };
        parts.push(probe::kprobe(prog, prog_name, f, &o).map_err(|e| e.context(format!("{what}: fallback ({fprobe})")))?);
    }
    Ok(Link::group(LinkKind::MultiFallback, format!("{kind}: {n} functions"), parts, None))
}

/// Attach `prog` to `offsets` (file offsets; or `funcs`, function names
/// resolved in the file) of `binary` in one uprobe.multi link, or one uprobe
/// per offset where the kernel has none (before 6.6) or the program was
/// loaded as a single uprobe.
pub(crate) fn uprobe_multi(
    prog: std::os::fd::BorrowedFd<'_>,
    prog_name: &str,
    expected: u32,
    binary: &str,
    funcs: &[String],
    offsets: &[u64],
    opts: &UprobeMultiOptions,
) -> Result<Link> {
    let kind = if opts.retprobe { "uretprobe.multi" } else { "uprobe.multi" };
    let what = format!("program '{prog_name}': {kind} on '{binary}'");
    let path = probe::resolve_binary(binary).map_err(|e| e.context(&what))?;
    let mut offs = offsets.to_vec();
    if !funcs.is_empty() {
        let data = std::fs::read(&path).map_err(|e| Error::from_io(e, format!("{what}: read '{path}'")))?;
        for f in funcs {
            offs.push(probe::elf_func_offset(&data, f).map_err(|e| e.context(format!("{what}: '{path}'")))?);
        }
    }
    if offs.is_empty() {
        return Err(Error::inval(format!("{what}: no offsets or functions given")));
    }
    check_cookies(offs.len(), &opts.cookies, &what)?;
    let cpath = CString::new(path.as_str()).map_err(|_| Error::inval(format!("{what}: path contains a NUL byte")))?;
    let target = format!("{path}: {} offsets", offs.len());
    let why = if expected == at::TRACE_UPROBE_MULTI {
        let pid = if opts.pid <= 0 { 0 } else { opts.pid as u32 };
        match sys::link_create_uprobe_multi(prog, at::TRACE_UPROBE_MULTI, &cpath, &offs, &[], &opts.cookies, opts.retprobe as u32, pid) {
            Ok(fd) => return Ok(Link::new(LinkKind::Multi, target, Some(fd), None, None)),
            Err(e) if no_multi(e.0) => format!("this kernel has no uprobe.multi links (Linux 6.6+): {}", std::io::Error::from_raw_os_error(e.0)),
            Err(e) => return Err(e.error(format!("{what}: BPF_LINK_CREATE (uprobe_multi)"))),
        }
    } else {
        "the program was loaded as a single uprobe (section 'uprobe', not 'uprobe.multi')".to_string()
    };
    crate::log::info(&format!("{what}: one uprobe per offset for {} offsets: {why}", offs.len()));
    pmu::probe_pmu("uprobe").ok_or_else(|| Error::unsupported(format!("{what}: uprobes are not supported by this kernel (no uprobe PMU)")))?;
    let mut parts = Vec::with_capacity(offs.len());
    for (i, &off) in offs.iter().enumerate() {
        let o = UprobeOptions { offset: off, retprobe: opts.retprobe, pid: opts.pid, cookie: opts.cookies.get(i).copied().unwrap_or(0) };
        parts.push(probe::uprobe(prog, prog_name, &path, None, &o).map_err(|e| e.context(format!("{what}: fallback ({why})")))?);
    }
    Ok(Link::group(LinkKind::MultiFallback, target, parts, None))
}

/// The defined functions of `binary` whose names match glob `pattern`
/// (a `uprobe.multi/BINARY:PATTERN` section), sorted.
pub fn elf_funcs_matching(binary: &str, pattern: &str) -> Result<Vec<String>> {
    use goblin::elf::{sym::STT_FUNC, Elf};
    let path = probe::resolve_binary(binary)?;
    let data = std::fs::read(&path).map_err(|e| Error::from_io(e, format!("read '{path}'")))?;
    let elf = Elf::parse(&data).map_err(|e| Error::parse(format!("'{path}' is not a valid ELF file ({e})")))?;
    let mut v: Vec<String> = Vec::new();
    for (syms, strtab) in [(&elf.syms, &elf.strtab), (&elf.dynsyms, &elf.dynstrtab)] {
        for s in syms.iter().filter(|s| s.st_type() == STT_FUNC && s.st_shndx != 0 && s.st_value != 0) {
            if let Some(n) = strtab.get_at(s.st_name).filter(|n| glob_match(pattern, n)) {
                v.push(n.to_string());
            }
        }
    }
    v.sort();
    v.dedup();
    if v.is_empty() {
        return Err(Error::not_found(format!("no function of '{path}' matches '{pattern}'")));
    }
    Ok(v)
}

/// The kernel function a `ksyscall/NAME` probe goes on: the arch wrapper
/// (`__x64_sys_NAME`) where syscalls enter through wrappers, else `sys_NAME`.
pub fn ksyscall_function(name: &str) -> Result<String> {
    let p = kallsyms::syscall_prefix();
    if !p.is_empty() && kallsyms::has_syscall_wrapper()? {
        Ok(format!("{p}sys_{name}"))
    } else {
        Ok(format!("sys_{name}"))
    }
}

/// Attach a kprobe on syscall `name`'s entry function.
pub(crate) fn ksyscall(prog: std::os::fd::BorrowedFd<'_>, prog_name: &str, name: &str, opts: &KprobeOptions) -> Result<Link> {
    let what = format!("program '{prog_name}': {} '{name}'", if opts.retprobe { "kretsyscall" } else { "ksyscall" });
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err(Error::inval(format!("{what}: not a syscall name")));
    }
    let (pmu, legacy) = pmu::kprobe_support();
    if !pmu && !legacy {
        return Err(super::no_kprobes().context(format!("{what}: ksyscall programs are kprobes")));
    }
    let func = ksyscall_function(name).map_err(|e| e.context(&what))?;
    probe::kprobe(prog, prog_name, &func, opts).map_err(|e| e.context(format!("{what}: on '{func}'")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn globs() {
        let g = super::glob_match;
        assert!(g("tcp_*", "tcp_sendmsg"));
        assert!(g("*sendmsg", "tcp_sendmsg"));
        assert!(g("t?p_*msg", "tcp_sendmsg"));
        assert!(!g("tcp_*", "udp_sendmsg"));
        assert!(g("*", ""));
        assert!(!g("a", "ab"));
    }
}
