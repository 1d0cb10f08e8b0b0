//! Programs in the kernel and their attach calls.

use crate::attach::{self, KprobeOptions, UprobeOptions};
use crate::error::{Error, Result};
use crate::link::Link;
use crate::obj::section::{prog_type as pt, AutoAttach};
use crate::obj::ProgramSpec;
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
