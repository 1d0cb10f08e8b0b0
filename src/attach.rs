//! Attaching programs: kprobes (perf PMU, or tracefs `kprobe_events`),
//! tracepoints, raw tracepoints. Discovery of tracefs and PMUs lives here.

use crate::error::{Error, Result};
use crate::link::{attach_perf_event, no_kprobes, Link, LinkKind};
use crate::sys;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which kprobe mechanism to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeMode {
    /// The perf kprobe PMU, else tracefs `kprobe_events`.
    #[default]
    Auto,
    /// Only the perf kprobe PMU.
    Pmu,
    /// Only tracefs `kprobe_events` (the path kernels before 4.17 have).
    Legacy,
}

/// Options of a kprobe attach.
#[derive(Debug, Clone, Default)]
pub struct KprobeOptions {
    /// Offset into the function.
    pub offset: u64,
    /// Attach at function return.
    pub retprobe: bool,
    /// Mechanism.
    pub mode: ProbeMode,
}

/// Options of a uprobe attach.
#[derive(Debug, Clone)]
pub struct UprobeOptions {
    /// Offset added to the function's address (or the file offset when no function is named).
    pub offset: u64,
    /// Attach at function return.
    pub retprobe: bool,
    /// Only this process (-1: every process that runs the binary).
    pub pid: i32,
}

impl Default for UprobeOptions {
    fn default() -> Self {
        UprobeOptions { offset: 0, retprobe: false, pid: -1 }
    }
}

/// The tracefs mount point, if mounted.
pub fn tracefs_root() -> Option<&'static str> {
    ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].into_iter().find(|p| std::path::Path::new(&format!("{p}/events")).is_dir())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The perf PMU type of `kprobe` or `uprobe`, and its retprobe bit.
fn probe_pmu(kind: &str) -> Option<(u32, u32)> {
    let t = read_trimmed(&format!("/sys/bus/event_source/devices/{kind}/type"))?.parse().ok()?;
    let bit = read_trimmed(&format!("/sys/bus/event_source/devices/{kind}/format/retprobe"))
        .and_then(|s| s.strip_prefix("config:").and_then(|b| b.parse().ok()))
        .unwrap_or(0);
    Some((t, bit))
}

/// Whether this kernel can attach kprobes at all, and how.
pub fn kprobe_support() -> (bool, bool) {
    let pmu = probe_pmu("kprobe").is_some();
    let legacy = tracefs_root().is_some_and(|r| std::path::Path::new(&format!("{r}/kprobe_events")).exists());
    (pmu, legacy)
}

/// Attach `prog_fd` to a kprobe on `func`.
pub fn kprobe(prog_fd: RawFd, prog_name: &str, func: &str, opts: &KprobeOptions) -> Result<Link> {
    let at = if opts.offset != 0 { format!("{func}+{:#x}", opts.offset) } else { func.to_string() };
    let what = format!("program '{prog_name}': {} on '{at}'", if opts.retprobe { "kretprobe" } else { "kprobe" });
    if func.is_empty() || func.contains(|c: char| c.is_whitespace() || c == '\0') {
        return Err(Error::inval(format!("{what}: bad function name")));
    }
    if opts.retprobe && opts.offset != 0 {
        return Err(Error::inval(format!("{what}: a kretprobe takes no offset (it fires at the function's return)")));
    }
    let (pmu, legacy) = kprobe_support();
    let use_pmu = match opts.mode {
        ProbeMode::Pmu if !pmu => return Err(Error::unsupported(format!("{what}: this kernel has no kprobe PMU"))),
        ProbeMode::Legacy if !legacy => {
            return Err(Error::unsupported(format!("{what}: no tracefs kprobe_events (kprobes missing, or tracefs not mounted)")))
        }
        ProbeMode::Auto if !pmu && !legacy => return Err(no_kprobes().context(&what)),
        ProbeMode::Legacy => false,
        ProbeMode::Pmu => true,
        ProbeMode::Auto => pmu,
    };
    if use_pmu {
        let (ty, bit) = probe_pmu("kprobe").expect("checked");
        let cfunc = CString::new(func).expect("checked for NUL");
        let config = if opts.retprobe { 1u64 << bit } else { 0 };
        let pfd = sys::perf_event_open_probe(ty, config, cfunc.as_ptr() as u64, opts.offset, -1).map_err(|e| probe_error(e, &what))?;
        let link_fd = attach_perf_event(prog_fd, &pfd, &what)?;
        let kind = LinkKind::KprobePmu;
        return Ok(Link::new(kind, func.to_string(), link_fd, Some(pfd), None));
    }
    let root = tracefs_root().expect("checked");
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let clean: String = func.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).take(40).collect();
    let ev = format!("bpfl/{}_{}_{}_{}", if opts.retprobe { "r" } else { "p" }, clean, std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
    let def = if opts.retprobe {
        format!("r:{ev} {func}")
    } else if opts.offset != 0 {
        format!("p:{ev} {func}+{}", opts.offset)
    } else {
        format!("p:{ev} {func}")
    };
    write_probe_event(root, &def).map_err(|e| probe_error(e, &what).context("kprobe_events"))?;
    let result = (|| {
        let id: u64 = read_trimmed(&format!("{root}/events/{ev}/id"))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::not_found(format!("{what}: tracefs event {ev} has no id")))?;
        let pfd = sys::perf_event_open_probe(sys::PERF_TYPE_TRACEPOINT, id, 0, 0, -1).map_err(|e| sys::err(e, format!("{what}: perf_event_open")))?;
        let link_fd = attach_perf_event(prog_fd, &pfd, &what)?;
        Ok((link_fd, pfd))
    })();
    match result {
        Ok((link_fd, pfd)) => Ok(Link::new(LinkKind::KprobeLegacy, func.to_string(), link_fd, Some(pfd), Some((root.to_string(), ev)))),
        Err(e) => {
            let _ = remove_probe_event(root, &ev);
            Err(e)
        }
    }
}

/// Where a uprobe goes: the file offset of function `func` in the ELF image
/// `data` (an executable or shared library). Pure: bytes in, offset out.
pub fn elf_func_offset(data: &[u8], func: &str) -> Result<u64> {
    use goblin::elf::{program_header::PT_LOAD, sym::STT_FUNC, sym::STT_GNU_IFUNC, Elf};
    let elf = Elf::parse(data).map_err(|e| Error::parse(format!("not a valid ELF file ({e})")))?;
    let mut found = None;
    for (syms, strtab) in [(&elf.syms, &elf.strtab), (&elf.dynsyms, &elf.dynstrtab)] {
        for s in syms.iter() {
            if s.st_shndx == 0 || s.st_value == 0 || strtab.get_at(s.st_name) != Some(func) {
                continue;
            }
            match s.st_type() {
                STT_FUNC => {}
                STT_GNU_IFUNC => return Err(Error::unsupported(format!("'{func}' is an IFUNC resolver, not the function: name the implementation"))),
                _ => continue,
            }
            match found {
                Some(v) if v != s.st_value => return Err(Error::inval(format!("'{func}' names several functions: give a file offset instead"))),
                _ => found = Some(s.st_value),
            }
        }
    }
    let vaddr = found.ok_or_else(|| Error::not_found(format!("no function '{func}' in its symbol tables")))?;
    elf.program_headers
        .iter()
        .find(|p| p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr < p.p_vaddr + p.p_memsz)
        .map(|p| vaddr - p.p_vaddr + p.p_offset)
        .ok_or_else(|| Error::parse(format!("'{func}' at {vaddr:#x} is in no loadable segment")))
}

/// A binary named without a '/' is looked up in `PATH` (executables) or the
/// library directories (names with ".so"), as libbpf does.
fn resolve_binary(binary: &str) -> Result<String> {
    if binary.contains('/') {
        return Ok(binary.to_string());
    }
    let arch_lib = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    let dirs: Vec<String> = if binary.contains(".so") {
        [format!("/lib/{}-linux-gnu", std::env::consts::ARCH), arch_lib, "/lib64".into(), "/usr/lib64".into(), "/lib".into(), "/usr/lib".into()].into()
    } else {
        std::env::var("PATH").unwrap_or_default().split(':').filter(|d| !d.is_empty()).map(String::from).collect()
    };
    dirs.iter()
        .map(|d| format!("{d}/{binary}"))
        .find(|p| std::path::Path::new(p).is_file())
        .ok_or_else(|| Error::not_found(format!("binary '{binary}' not found in {}", dirs.join(":"))))
}

/// Attach `prog_fd` to a uprobe in `binary` at `func`+`opts.offset` (or at
/// file offset `opts.offset` when `func` is None), through the uprobe PMU.
pub fn uprobe(prog_fd: RawFd, prog_name: &str, binary: &str, func: Option<&str>, opts: &UprobeOptions) -> Result<Link> {
    let kind = if opts.retprobe { "uretprobe" } else { "uprobe" };
    let what = format!("program '{prog_name}': {kind} on '{binary}:{}'", func.unwrap_or("<offset>"));
    let path = resolve_binary(binary).map_err(|e| e.context(&what))?;
    let offset = match func {
        Some(f) => {
            let data = std::fs::read(&path).map_err(|e| Error::from_io(e, format!("{what}: read '{path}'")))?;
            elf_func_offset(&data, f).map_err(|e| e.context(format!("{what}: '{path}'")))? + opts.offset
        }
        None => opts.offset,
    };
    let (ty, bit) = probe_pmu("uprobe").ok_or_else(|| Error::unsupported(format!("{what}: uprobes are not supported by this kernel (no uprobe PMU)")))?;
    let cpath = CString::new(path.as_str()).map_err(|_| Error::inval(format!("{what}: path contains a NUL byte")))?;
    let config = if opts.retprobe { 1u64 << bit } else { 0 };
    let pfd = sys::perf_event_open_probe(ty, config, cpath.as_ptr() as u64, offset, opts.pid).map_err(|e| sys::err(e, format!("{what}: perf_event_open (file offset {offset:#x})")))?;
    let link_fd = attach_perf_event(prog_fd, &pfd, &what)?;
    Ok(Link::new(LinkKind::UprobePmu, format!("{path}:{offset:#x}"), link_fd, Some(pfd), None))
}

/// Split a `uprobe/` section target "BINARY:FUNC[+OFF]" or "BINARY:OFFSET".
pub fn parse_uprobe_target(t: &str) -> Result<(String, Option<String>, u64)> {
    let (bin, rest) = t.rsplit_once(':').filter(|(b, r)| !b.is_empty() && !r.is_empty()).ok_or_else(|| Error::inval(format!("uprobe target '{t}' is not BINARY:FUNCTION[+OFFSET]")))?;
    let num = |s: &str| if let Some(h) = s.strip_prefix("0x") { u64::from_str_radix(h, 16).ok() } else { s.parse().ok() };
    if let Some(off) = num(rest) {
        return Ok((bin.to_string(), None, off));
    }
    let (func, off) = match rest.split_once('+') {
        None => (rest, 0),
        Some((f, o)) => (f, num(o).ok_or_else(|| Error::inval(format!("bad uprobe offset '{o}' in '{t}'")))?),
    };
    Ok((bin.to_string(), Some(func.to_string()), off))
}

fn probe_error(e: i32, what: &str) -> Error {
    match e {
        libc::EILSEQ => Error::os(e, format!("{what}: the offset is not an instruction boundary of the function")),
        libc::ENOENT | libc::EINVAL | libc::EADDRNOTAVAIL => {
            Error::new(crate::error::ErrorKind::NotFound, e, format!("{what}: no such kernel function, or it cannot be probed ({})", std::io::Error::from_raw_os_error(e)))
        }
        _ => sys::err(e, what.to_string()),
    }
}

fn write_probe_event(root: &str, line: &str) -> std::result::Result<(), i32> {
    let mut f = std::fs::OpenOptions::new().append(true).open(format!("{root}/kprobe_events")).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    f.write_all(format!("{line}\n").as_bytes()).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

/// Remove a tracefs probe event created by [`kprobe`].
pub(crate) fn remove_probe_event(root: &str, ev: &str) -> Result<()> {
    write_probe_event(root, &format!("-:{ev}")).map_err(|e| sys::err(e, format!("remove kprobe event {ev}")))
}

/// The tracefs id of tracepoint `category/name`.
pub fn tracepoint_id(category: &str, name: &str) -> Result<u64> {
    let bad = |s: &str| s.is_empty() || s.contains(['/', '\0']) || s == "." || s == "..";
    if bad(category) || bad(name) {
        return Err(Error::inval(format!("bad tracepoint name '{category}/{name}'")));
    }
    let root = tracefs_root().ok_or_else(|| Error::not_found("tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)"))?;
    let path = format!("{root}/events/{category}/{name}/id");
    read_trimmed(&path)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::not_found(format!("tracepoint '{category}/{name}' does not exist (no {path})")))
}

/// Attach `prog_fd` to tracepoint `category/name`.
pub fn tracepoint(prog_fd: RawFd, prog_name: &str, category: &str, name: &str) -> Result<Link> {
    let what = format!("program '{prog_name}': tracepoint '{category}/{name}'");
    let id = tracepoint_id(category, name).map_err(|e| e.context(format!("program '{prog_name}'")))?;
    let pfd = sys::perf_event_open_probe(sys::PERF_TYPE_TRACEPOINT, id, 0, 0, -1).map_err(|e| sys::err(e, format!("{what}: perf_event_open")))?;
    let link_fd = attach_perf_event(prog_fd, &pfd, &what)?;
    Ok(Link::new(LinkKind::Tracepoint, format!("{category}/{name}"), link_fd, Some(pfd), None))
}

/// Attach a BTF-targeted program (tp_btf, fentry/fexit/fmod_ret, lsm) where
/// its load named (`attach_btf_id`).
pub fn btf_traced(prog_fd: RawFd, prog_name: &str, section: &str) -> Result<Link> {
    let fd = sys::raw_tracepoint_open(None, prog_fd).map_err(|e| sys::err(e, format!("program '{prog_name}': attach to '{section}'")))?;
    Ok(Link::new(LinkKind::RawTracepoint, section.to_string(), Some(fd), None, None))
}

/// Attach `prog_fd` to raw tracepoint `name`.
pub fn raw_tracepoint(prog_fd: RawFd, prog_name: &str, name: &str) -> Result<Link> {
    let c = CString::new(name).map_err(|_| Error::inval("raw tracepoint name contains a NUL byte"))?;
    let fd = sys::raw_tracepoint_open(Some(&c), prog_fd).map_err(|e| match e {
        libc::ENOENT => Error::not_found(format!("program '{prog_name}': raw tracepoint '{name}' does not exist")),
        _ => sys::err(e, format!("program '{prog_name}': raw tracepoint '{name}'")),
    })?;
    Ok(Link::new(LinkKind::RawTracepoint, name.to_string(), Some(fd), None, None))
}

/// Split a `kprobe/` section target "func+0x10" into the function and offset.
pub fn parse_kprobe_target(t: &str) -> Result<(String, u64)> {
    match t.split_once('+') {
        None => Ok((t.to_string(), 0)),
        Some((f, off)) => {
            let v = if let Some(h) = off.strip_prefix("0x") { u64::from_str_radix(h, 16) } else { off.parse() };
            let v = v.map_err(|_| Error::inval(format!("bad kprobe offset '{off}' in '{t}'")))?;
            Ok((f.to_string(), v))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn kprobe_targets() {
        assert_eq!(super::parse_kprobe_target("do_sys_open").unwrap(), ("do_sys_open".into(), 0));
        assert_eq!(super::parse_kprobe_target("f+0x10").unwrap(), ("f".into(), 16));
        assert_eq!(super::parse_kprobe_target("f+8").unwrap(), ("f".into(), 8));
        assert!(super::parse_kprobe_target("f+zz").is_err());
    }

    #[test]
    fn uprobe_targets() {
        let p = super::parse_uprobe_target;
        assert_eq!(p("/bin/bash:readline").unwrap(), ("/bin/bash".into(), Some("readline".into()), 0));
        assert_eq!(p("libc.so.6:malloc+0x4").unwrap(), ("libc.so.6".into(), Some("malloc".into()), 4));
        assert_eq!(p("/usr/bin/x:0x1234").unwrap(), ("/usr/bin/x".into(), None, 0x1234));
        assert!(p("/bin/bash").is_err());
        assert!(p("/bin/bash:f+q").is_err());
    }

    #[no_mangle]
    #[inline(never)]
    pub extern "C" fn bpfl_unit_test_symbol(x: u64) -> u64 {
        std::hint::black_box(x.wrapping_mul(3))
    }

    #[test]
    fn function_offsets_in_elf_files() {
        let me = std::fs::read("/proc/self/exe").unwrap();
        let off = super::elf_func_offset(&me, "bpfl_unit_test_symbol").unwrap();
        // The file offset holds the function's code: compare with memory.
        let addr = bpfl_unit_test_symbol as *const () as usize;
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let line = maps
            .lines()
            .find(|l| {
                let mut f = l.split_whitespace();
                let range = f.next().unwrap();
                let (a, b) = range.split_once('-').unwrap();
                let (a, b) = (usize::from_str_radix(a, 16).unwrap(), usize::from_str_radix(b, 16).unwrap());
                addr >= a && addr < b && l.ends_with(exe.to_str().unwrap())
            })
            .expect("mapping of the function");
        let mut f = line.split_whitespace();
        let start = usize::from_str_radix(f.next().unwrap().split('-').next().unwrap(), 16).unwrap();
        let map_off = u64::from_str_radix(f.nth(1).unwrap(), 16).unwrap();
        assert_eq!(off, (addr - start) as u64 + map_off);
        assert_eq!(super::elf_func_offset(&me, "no_such_function_xyz").unwrap_err().kind(), crate::ErrorKind::NotFound);
        assert_eq!(super::elf_func_offset(b"nope", "f").unwrap_err().kind(), crate::ErrorKind::Parse);
    }
}
