//! Programs in the kernel and their attach calls.

use crate::attach::{self, KprobeOptions, UprobeOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::obj::core_relo::Poisoned;
use crate::obj::{AssembledProgram, ProgramSpec};
use crate::sys;
use std::ffi::CStr;
use crate::link::Link;
use crate::obj::section::{prog_type as pt, AutoAttach};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use parking_lot::RwLock;

/// A program: what its section says, and once loaded, its file descriptor.
#[derive(Debug)]
pub struct Program {
    name: String,
    section: String,
    prog_type: u32,
    expected_attach_type: u32,
    auto: AutoAttach,
    insn_cnt: AtomicU32,
    fd: RwLock<Option<OwnedFd>>,
}

/// What loading a program needs besides the program itself.
pub(crate) struct LoadArgs<'a> {
    pub license: &'a CStr,
    pub kern_version: u32,
    /// The object's BTF in the kernel, for func and line info.
    pub btf: Option<BorrowedFd<'a>>,
    /// Whether the kernel takes func info (BTF `FUNC`, Linux 5.0); line info goes with it.
    pub func_info: bool,
    /// Verifier log level (0: a log only when the verifier refuses the program).
    pub log_level: u32,
}

const BPF_F_SLEEPABLE: u32 = 1 << 4;
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// Refuse, before anything is created, a program bpfl cannot load.
pub(crate) fn check_loadable(p: &ProgramSpec) -> Result<()> {
    match p.def {
        None => Err(Error::unsupported(format!("program '{}': {}", p.name, crate::obj::section::unknown_message(&p.section)))),
        Some(d) if d.needs_btf_target && crate::obj::section::btf_attach_target(d, &p.section).is_none() => {
            let why = if d.prog_type == crate::obj::ProgramType::EXT {
                "freplace needs a BPF program to replace, which bpfl does not support yet"
            } else {
                "it names no kernel function or tracepoint to attach to (setting one before load is not supported yet)"
            };
            Err(Error::unsupported(format!("program '{}': section '{}': {why}", p.name, p.section)))
        }
        _ => Ok(()),
    }
}

impl Program {
    pub(crate) fn from_spec(s: &ProgramSpec) -> Program {
        Program {
            name: s.name.clone(),
            section: s.section.clone(),
            prog_type: s.prog_type().as_u32(),
            expected_attach_type: s.expected_attach_type().as_u32(),
            auto: s.def.map_or(AutoAttach::None, |d| d.auto),
            insn_cnt: AtomicU32::new(s.insn_count() as u32),
            fd: RwLock::new(None),
        }
    }
    pub(crate) fn set_loaded(&self, fd: OwnedFd, insn_cnt: usize) {
        self.insn_cnt.store(insn_cnt as u32, Ordering::Relaxed);
        *self.fd.write() = Some(fd);
    }
    /// Load `prog` (this program, assembled and patched) into the kernel.
    /// Returns the verifier log when a log level was asked for. A kernel that
    /// refuses the func/line info gets the program without it.
    pub(crate) fn load(&self, spec: &ProgramSpec, prog: &AssembledProgram, poisoned: &[Poisoned], args: &LoadArgs<'_>) -> Result<String> {
        let def = spec.def.ok_or_else(|| Error::unsupported(crate::obj::section::unknown_message(&spec.section)))?;
        let mut flags = if def.sleepable { BPF_F_SLEEPABLE } else { 0 };
        if spec.section.starts_with("xdp.frags") {
            flags |= BPF_F_XDP_HAS_FRAGS;
        }
        let attach_btf_id = match crate::obj::section::btf_attach_target(def, &spec.section).filter(|_| def.needs_btf_target) {
            Some((name, is_typedef)) => btf_attach_id(&name, is_typedef)?,
            None => 0,
        };
        let func_info: Vec<u8> = prog.func_info.iter().filter(|_| args.func_info).flat_map(|(o, t)| o.to_le_bytes().into_iter().chain(t.to_le_bytes())).collect();
        let line_info: Vec<u8> = prog.line_info.iter().filter(|_| args.func_info).flat_map(|r| r.iter().flat_map(|v| v.to_le_bytes())).collect();
        let mut p = sys::ProgLoad {
            prog_type: def.prog_type.as_u32(),
            expected_attach_type: def.expected_attach_type.as_u32(),
            name: &spec.name,
            insns: &prog.insns,
            license: args.license,
            kern_version: args.kern_version,
            prog_flags: flags,
            btf_fd: args.btf,
            func_info: &func_info,
            func_info_rec_size: 8,
            line_info: &line_info,
            line_info_rec_size: 16,
            attach_btf_id,
        };
        let (fd, log_text) = match load_prog(&p, args.log_level).map_err(|e| explain_poison(e, poisoned)) {
            Ok(r) => r,
            Err(first) if p.btf_fd.is_some() && first.kind() != ErrorKind::Verifier => {
                // BTF func/line info the kernel did not take: try without it.
                p.btf_fd = None;
                let r = load_prog(&p, args.log_level)?;
                crate::log::warn(&format!("program '{}' (section '{}'): loaded without BTF line info ({first})", spec.name, spec.section));
                r
            }
            Err(e) => return Err(e),
        };
        self.set_loaded(fd, prog.insns.len() / 8);
        Ok(log_text)
    }

    /// Close the program's fd (a failed load undoes itself).
    pub(crate) fn reset(&self) {
        self.fd.write().take();
    }
    /// The C function name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The ELF section.
    pub fn section(&self) -> &str {
        &self.section
    }
    /// `enum bpf_prog_type` (0: unknown section).
    pub fn prog_type(&self) -> u32 {
        self.prog_type
    }
    /// Expected attach type given at load.
    pub fn expected_attach_type(&self) -> u32 {
        self.expected_attach_type
    }
    /// Instructions: the function's own before load, the linked program's after.
    pub fn insn_count(&self) -> u32 {
        self.insn_cnt.load(Ordering::Relaxed)
    }
    /// Whether it is loaded.
    pub fn is_loaded(&self) -> bool {
        self.fd.read().is_some()
    }
    /// The file descriptor, once loaded.
    pub fn fd(&self) -> Result<RawFd> {
        self.fd.read().as_ref().map(|f| f.as_raw_fd()).ok_or_else(|| Error::inval(format!("program '{}' is not loaded: load the object first", self.name)))
    }

    /// Run `f` with the program's fd, held open for the duration.
    fn with_fd<T>(&self, f: impl FnOnce(BorrowedFd<'_>) -> Result<T>) -> Result<T> {
        let fd = self.fd.read();
        let fd = fd.as_ref().ok_or_else(|| Error::inval(format!("program '{}' is not loaded: load the object first", self.name)))?;
        f(fd.as_fd())
    }

    /// [`Program::with_fd`] for an attach that only programs of the types `ok` take.
    fn attach_as<T>(&self, ok: &[u32], what: &str, f: impl FnOnce(BorrowedFd<'_>) -> Result<T>) -> Result<T> {
        if !ok.contains(&self.prog_type) {
            return Err(Error::inval(format!(
                "program '{}' (section '{}', type {}) cannot be attached as a {what}",
                self.name, self.section, crate::obj::ProgramType(self.prog_type)
            )));
        }
        self.with_fd(f)
    }

    /// Attach to a kprobe (or kretprobe with `opts.retprobe`) on kernel function `func`.
    pub fn attach_kprobe(&self, func: &str, opts: &KprobeOptions) -> Result<Link> {
        self.attach_as(&[pt::KPROBE], "kprobe", |fd| attach::kprobe(fd, &self.name, func, opts))
    }

    /// Attach to a uprobe (or uretprobe with `opts.retprobe`) in the ELF file
    /// `binary` (executable or shared library): at function `func` plus
    /// `opts.offset`, or with `func` None at file offset `opts.offset`.
    pub fn attach_uprobe(&self, binary: &str, func: Option<&str>, opts: &UprobeOptions) -> Result<Link> {
        self.attach_as(&[pt::KPROBE], "uprobe", |fd| attach::uprobe(fd, &self.name, binary, func, opts))
    }

    /// Attach to tracepoint `category/name`.
    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<Link> {
        self.attach_as(&[pt::TRACEPOINT], "tracepoint", |fd| attach::tracepoint(fd, &self.name, category, name))
    }

    /// Attach to raw tracepoint `name`.
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link> {
        self.attach_as(&[pt::RAW_TRACEPOINT, pt::RAW_TRACEPOINT_WRITABLE], "raw tracepoint", |fd| attach::raw_tracepoint(fd, &self.name, name))
    }

    /// Loaded with a kernel BTF attach point that attaches without more
    /// arguments: tp_btf, fentry/fexit/fmod_ret, lsm (not iter).
    fn is_btf_traced(&self) -> bool {
        use crate::obj::section::attach_type as at;
        (self.prog_type == pt::TRACING && [at::TRACE_RAW_TP, at::TRACE_FENTRY, at::TRACE_FEXIT, at::MODIFY_RETURN].contains(&self.expected_attach_type))
            || self.prog_type == pt::LSM
    }

    /// Whether [`Program::attach`] knows where to attach this program.
    pub fn can_auto_attach(&self) -> bool {
        if self.is_btf_traced() {
            return crate::obj::section::attach_target(&self.section).is_some();
        }
        match self.auto {
            AutoAttach::None => false,
            // A bare `uprobe` section leaves the target to the caller.
            AutoAttach::Uprobe | AutoAttach::Uretprobe => crate::obj::section::attach_target(&self.section).is_some(),
            _ => true,
        }
    }

    /// Attach where the section name says (`kprobe/FUNC[+OFF]`,
    /// `kretprobe/FUNC`, `tracepoint/CAT/NAME`, `raw_tracepoint/NAME`).
    pub fn attach(&self) -> Result<Link> {
        let target = crate::obj::section::attach_target(&self.section);
        let need = || target.ok_or_else(|| Error::inval(format!("program '{}': section '{}' names no attach target", self.name, self.section)));
        if self.is_btf_traced() {
            need()?;
            return self.with_fd(|fd| attach::btf_traced(fd, &self.name, &self.section));
        }
        match self.auto {
            AutoAttach::Kprobe | AutoAttach::Kretprobe => {
                let (func, offset) = attach::parse_kprobe_target(need()?)?;
                let opts = KprobeOptions { offset, retprobe: self.auto == AutoAttach::Kretprobe, ..Default::default() };
                self.attach_kprobe(&func, &opts)
            }
            AutoAttach::Tracepoint => {
                let t = need()?;
                let (cat, name) = t
                    .split_once('/')
                    .ok_or_else(|| Error::inval(format!("program '{}': tracepoint section '{}' is not CATEGORY/NAME", self.name, self.section)))?;
                self.attach_tracepoint(cat, name)
            }
            AutoAttach::RawTracepoint => self.attach_raw_tracepoint(need()?),
            AutoAttach::Uprobe | AutoAttach::Uretprobe => {
                let t = need()?;
                let (binary, func, offset) = attach::parse_uprobe_target(t)
                    .map_err(|e| e.context(format!("program '{}': section '{}'", self.name, self.section)))?;
                let opts = UprobeOptions { offset, retprobe: self.auto == AutoAttach::Uretprobe, ..Default::default() };
                self.attach_uprobe(&binary, func.as_deref(), &opts)
            }
            AutoAttach::None => Err(Error::unsupported(format!(
                "program '{}': section '{}' cannot be attached automatically; attach it explicitly",
                self.name, self.section
            ))),
        }
    }
}

/// Load a program; on failure, load again with a verifier log and return it in the error.
fn load_prog(p: &sys::ProgLoad<'_>, log_level: u32) -> Result<(OwnedFd, String)> {
    if log_level > 0 {
        let mut buf = vec![0u8; 16 << 20];
        return match sys::prog_load(p, &mut buf, log_level) {
            Ok(fd) => Ok((fd, sys::cstr_lossy(&buf))),
            Err(e) => Err(verifier_error(e.errno.0, &sys::cstr_lossy(&buf))),
        };
    }
    let errno = match sys::prog_load(p, &mut [], 0) {
        Ok(fd) => return Ok((fd, String::new())),
        Err(e) => e.errno,
    };
    // Retry with a log; grow the buffer until the log fits (the kernel says how much it needs on 6.4+).
    let mut size = 1usize << 20;
    loop {
        let mut buf = vec![0u8; size];
        match sys::prog_load(p, &mut buf, 1) {
            Ok(fd) => return Ok((fd, String::new())), // passed the second time: not ours to question
            Err(sys::ProgLoadError { errno: sys::Errno(libc::ENOSPC), log_true_size }) if size < (256 << 20) => {
                size = (log_true_size as usize + 1).max(size * 4);
            }
            Err(sys::ProgLoadError { errno: e, .. }) => {
                let text = sys::cstr_lossy(&buf);
                if text.is_empty() {
                    return Err((if e.0 == libc::ENOSPC { errno } else { e }).error("load"));
                }
                return Err(verifier_error(e.0, &text));
            }
        }
    }
}

/// The kernel BTF id of a BTF-targeted program's attach point.
fn btf_attach_id(name: &str, is_typedef: bool) -> Result<u32> {
    let (kind, what) = if is_typedef { (crate::btf::BtfKind::Typedef, "tracepoint type") } else { (crate::btf::BtfKind::Func, "function") };
    let k = crate::host::vmlinux::kernel_btf().map_err(|e| e.context(format!("its attach target '{name}' is looked up in the kernel's BTF")))?;
    k.find(name, kind).ok_or_else(|| {
        Error::not_found(format!("attach target: no {what} '{name}' in the kernel's BTF (vmlinux; module BTF is not searched)"))
    })
}

/// A verifier rejection that reached an instruction poisoned by an unresolved
/// CO-RE relocation (`call unknown#195896080`) says which relocation it was.
fn explain_poison(e: Error, poisoned: &[crate::obj::core_relo::Poisoned]) -> Error {
    let marker = format!("unknown#{}", crate::obj::core_relo::POISON_IMM);
    let reached = e.verifier_log().is_some_and(|log| log.contains(&marker));
    if !reached || poisoned.is_empty() {
        return e;
    }
    let list: Vec<String> = poisoned.iter().map(|p| format!("instruction {}: {}", p.insn, p.what)).collect();
    e.note(format!("it reached an instruction poisoned by an unresolved CO-RE relocation (call {marker}); poisoned: {}", list.join("; ")))
}

fn verifier_error(errno: i32, log_text: &str) -> Error {
    // The source line the verifier last printed, when BTF line info was given.
    let src = log_text.lines().rev().find(|l| l.starts_with("; ")).map(|l| l.trim_start_matches("; "));
    let reason = log_text.lines().rev().find(|l| !l.trim().is_empty() && !l.starts_with("processed ") && !l.starts_with("verification time")).unwrap_or("");
    Error::verifier(errno, reason, src, log_text)
}
