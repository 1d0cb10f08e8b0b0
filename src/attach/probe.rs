//! kprobes (through the perf kprobe PMU, or a tracefs `kprobe_events`
//! entry that the link owns) and uprobes (through the perf uprobe PMU).

use super::{attach_perf_event_cookie, no_kprobes, KprobeOptions, ProbeMode, UprobeOptions};
use crate::error::{Error, Result};
use crate::host::{pmu, tracefs};
use crate::link::{Link, LinkKind};
use crate::sys::file::RegularFile;
use crate::sys::{self, Errno};
use std::ffi::CString;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// Attach `prog` to a kprobe on `func`.
pub(crate) fn kprobe(prog: BorrowedFd<'_>, prog_name: &str, func: &str, opts: &KprobeOptions) -> Result<Link> {
    let at = if opts.offset != 0 { format!("{func}+{:#x}", opts.offset) } else { func.to_string() };
    let what = format!("program '{prog_name}': {} on '{at}'", if opts.retprobe { "kretprobe" } else { "kprobe" });
    if func.is_empty() || func.contains(|c: char| c.is_whitespace() || c == '\0') {
        return Err(Error::inval(format!("{what}: bad function name")));
    }
    if opts.retprobe && opts.offset != 0 {
        return Err(Error::inval(format!("{what}: a kretprobe takes no offset (it fires at the function's return)")));
    }
    let (pmu, legacy) = pmu::kprobe_support();
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
        kprobe_pmu(prog, func, opts, &what)
    } else {
        kprobe_legacy(prog, func, opts, &what)
    }
}

fn kprobe_pmu(prog: BorrowedFd<'_>, func: &str, opts: &KprobeOptions, what: &str) -> Result<Link> {
    let (ty, bit) = pmu::probe_pmu("kprobe").expect("checked");
    let cfunc = CString::new(func).expect("checked for NUL");
    let config = if opts.retprobe { 1u64 << bit } else { 0 };
    let pfd = sys::perf_event_open_probe(ty, config, &cfunc, opts.offset, -1).map_err(|e| probe_error(e, what))?;
    let link_fd = attach_perf_event_cookie(prog, &pfd, what, opts.cookie)?;
    Ok(Link::new(LinkKind::KprobePmu, func.to_string(), link_fd, Some(pfd), None))
}

fn kprobe_legacy(prog: BorrowedFd<'_>, func: &str, opts: &KprobeOptions, what: &str) -> Result<Link> {
    let root = tracefs::root().expect("checked");
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
    // From here on, an early return drops the event, which removes it.
    let event = tracefs::ProbeEvent::add(root, ev, &def).map_err(|e| probe_error(e, what).context("kprobe_events"))?;
    let id = event.id().ok_or_else(|| Error::not_found(format!("{what}: tracefs event {} has no id", event.name())))?;
    let pfd = sys::perf_event_open_tracepoint(id).map_err(|e| e.error(format!("{what}: perf_event_open")))?;
    let link_fd = attach_perf_event_cookie(prog, &pfd, what, opts.cookie)?;
    Ok(Link::new(LinkKind::KprobeLegacy, func.to_string(), link_fd, Some(pfd), Some(event)))
}

/// Where a uprobe goes: the file offset of function `func` in the ELF image
/// `data` (an executable or shared library). Pure: bytes in, offset out.
pub fn elf_func_offset(data: &[u8], func: &str) -> Result<u64> {
    let read = |off: u64, len: u64| {
        let r = usize::try_from(off).ok().and_then(|o| Some(o..o.checked_add(usize::try_from(len).ok()?)?));
        r.and_then(|r| data.get(r)).map(<[u8]>::to_vec).ok_or_else(|| Error::parse(format!("not a valid ELF file ({len} bytes at offset {off} run past its end)")))
    };
    func_offset_with(data.len() as u64, &read, func)
}

/// [`elf_func_offset`] on a file: reads the ELF header, the program and
/// section headers and the symbol and string tables only, not the code.
fn file_func_offset(f: &RegularFile, path: &str, func: &str) -> Result<u64> {
    let read = |off: u64, len: u64| f.read_at(off, len, path);
    func_offset_with(f.size, &read, func)
}

/// The lookup, through `read(offset, len)` on an image of `size` bytes.
fn func_offset_with(size: u64, read: &dyn Fn(u64, u64) -> Result<Vec<u8>>, func: &str) -> Result<u64> {
    use goblin::container::Ctx;
    use goblin::elf::{program_header::ProgramHeader, program_header::PT_LOAD, section_header::SectionHeader, section_header::SHT_DYNSYM, section_header::SHT_SYMTAB, sym::Sym, sym::Symtab, sym::STT_FUNC, sym::STT_GNU_IFUNC, Elf};
    use goblin::strtab::Strtab;
    let bad = |e: goblin::error::Error| Error::parse(format!("not a valid ELF file ({e})"));
    let hdr = read(0, size.min(64))?;
    let h = Elf::parse_header(&hdr).map_err(bad)?;
    let ctx = Ctx::new(h.container().map_err(bad)?, h.endianness().map_err(bad)?);
    // No section headers (or more than e_shnum can count): no symbols.
    let shdrs = if h.e_shoff == 0 || h.e_shnum == 0 {
        Vec::new()
    } else {
        let raw = read(h.e_shoff, h.e_shnum as u64 * SectionHeader::size(ctx) as u64)?;
        SectionHeader::parse_from(&raw, 0, h.e_shnum as usize, ctx).map_err(bad)?
    };
    let mut found = None;
    let mut budget = crate::sys::file::MAX_FILE_READ;
    for sh in shdrs.iter().filter(|s| s.sh_type == SHT_SYMTAB || s.sh_type == SHT_DYNSYM) {
        let strs = shdrs.get(sh.sh_link as usize).ok_or_else(|| Error::parse("not a valid ELF file (a symbol table links to no string table)"))?;
        // Each table is read once, within one bound for the whole lookup.
        budget = budget.checked_sub(sh.sh_size.saturating_add(strs.sh_size)).ok_or_else(|| Error::parse(format!("symbol tables larger than {} bytes: refused", crate::sys::file::MAX_FILE_READ)))?;
        let (syms_raw, strs_raw) = (read(sh.sh_offset, sh.sh_size)?, read(strs.sh_offset, strs.sh_size)?);
        let syms = Symtab::parse(&syms_raw, 0, syms_raw.len() / Sym::size(ctx.container), ctx).map_err(bad)?;
        let strtab = Strtab::parse(&strs_raw, 0, strs_raw.len(), 0).map_err(bad)?;
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
    let phdrs_raw = read(h.e_phoff, h.e_phnum as u64 * ProgramHeader::size(ctx) as u64)?;
    let phdrs = ProgramHeader::parse(&phdrs_raw, 0, h.e_phnum as usize, ctx).map_err(bad)?;
    phdrs
        .iter()
        .find(|p| p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_memsz)
        .map(|p| vaddr - p.p_vaddr + p.p_offset)
        .ok_or_else(|| Error::parse(format!("'{func}' at {vaddr:#x} is in no loadable segment")))
}

/// A binary named without a '/' is looked up in `PATH` (executables) or the
/// library directories (names with ".so"), as libbpf does.
pub(crate) fn resolve_binary(binary: &str) -> Result<String> {
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

/// Attach `prog` to a uprobe in `binary` at `func`+`opts.offset` (or at
/// file offset `opts.offset` when `func` is None), through the uprobe PMU.
pub(crate) fn uprobe(prog: BorrowedFd<'_>, prog_name: &str, binary: &str, func: Option<&str>, opts: &UprobeOptions) -> Result<Link> {
    let kind = if opts.retprobe { "uretprobe" } else { "uprobe" };
    let what = format!("program '{prog_name}': {kind} on '{binary}:{}'", func.unwrap_or("<offset>"));
    let path = resolve_binary(binary).map_err(|e| e.context(&what))?;
    let offset = match func {
        Some(f) => {
            // A regular file only (not /dev/zero, not a FIFO), and only its tables are read.
            let file = RegularFile::open(&path, "binary").map_err(|e| e.context(&what))?;
            file_func_offset(&file, &path, f).map_err(|e| e.context(format!("{what}: '{path}'")))? + opts.offset
        }
        None => opts.offset,
    };
    let (ty, bit) = pmu::probe_pmu("uprobe").ok_or_else(|| Error::unsupported(format!("{what}: uprobes are not supported by this kernel (no uprobe PMU)")))?;
    let cpath = CString::new(path.as_str()).map_err(|_| Error::inval(format!("{what}: path contains a NUL byte")))?;
    let config = if opts.retprobe { 1u64 << bit } else { 0 };
    let pfd = sys::perf_event_open_probe(ty, config, &cpath, offset, opts.pid).map_err(|e| e.error(format!("{what}: perf_event_open (file offset {offset:#x})")))?;
    let link_fd = attach_perf_event_cookie(prog, &pfd, &what, opts.cookie)?;
    Ok(Link::new(LinkKind::UprobePmu, format!("{path}:{offset:#x}"), link_fd, Some(pfd), None))
}

fn probe_error(e: Errno, what: &str) -> Error {
    match e.0 {
        libc::EILSEQ => Error::os(e.0, format!("{what}: the offset is not an instruction boundary of the function")),
        libc::ENOENT | libc::EINVAL | libc::EADDRNOTAVAIL => {
            Error::new(crate::error::ErrorKind::NotFound, e.0, format!("{what}: no such kernel function, or it cannot be probed ({})", std::io::Error::from_raw_os_error(e.0)))
        }
        _ => e.error(what),
    }
}

#[cfg(test)]
mod tests {
    #[no_mangle]
    #[inline(never)]
    pub extern "C" fn bpfl_unit_test_symbol(x: u64) -> u64 {
        std::hint::black_box(x.wrapping_mul(3))
    }

    #[test]
    fn function_offsets_in_elf_files() {
        let me = std::fs::read("/proc/self/exe").unwrap();
        let off = super::elf_func_offset(&me, "bpfl_unit_test_symbol").unwrap_or_else(|e| panic!("{e}"));
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
