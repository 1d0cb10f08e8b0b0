//! What a user sets on a program between open and load, as libbpf's
//! `bpf_program__set_*` do: whether it loads at all, its type and expected
//! attach type, its BTF attach target (a kernel function, or a function of
//! another loaded BPF program for freplace), its load flags and its verifier
//! log level. Every setter refuses (EBUSY) once its object is loading or loaded.

use crate::error::{Error, ErrorKind, Result};
use crate::obj::section::{attach_type as at, prog_type as pt};
use crate::obj::ProgramSpec;
use crate::program::Program;
use crate::sys;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;

/// A program's set-up before load.
#[derive(Debug)]
pub(crate) struct ProgSetup {
    pub autoload: bool,
    /// `prog_flags` at load (the section's by default).
    pub flags: u32,
    pub attach: Option<AttachTarget>,
    /// Verifier log level for this program; None: the object's.
    pub log_level: Option<u32>,
    /// The verifier log of the last load (with a log level, or of a refusal).
    pub log: String,
}

/// An attach target set with [`Program::set_attach_target`].
#[derive(Debug)]
pub(crate) struct AttachTarget {
    /// A loaded BPF program whose function is the target (freplace, fentry on BPF).
    pub prog: Option<OwnedFd>,
    /// The function (or tracepoint, LSM hook, iterator) name; None: the section's.
    pub func: Option<String>,
}

impl ProgSetup {
    pub fn new(flags: u32) -> ProgSetup {
        ProgSetup { autoload: true, flags, attach: None, log_level: None, log: String::new() }
    }
}

/// Types whose load needs a BTF attach target.
fn needs_target(prog_type: u32) -> bool {
    matches!(prog_type, pt::TRACING | pt::LSM | pt::EXT)
}

impl Program {
    /// Run `f` on the set-up, unless the object is loading or loaded (EBUSY).
    fn configure<T>(&self, what: &str, f: impl FnOnce(&mut ProgSetup) -> Result<T>) -> Result<T> {
        let mut s = self.setup.lock();
        if self.sealed.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                libc::EBUSY,
                format!("program '{}': {what} can only be set before its object is loaded", self.name()),
            ));
        }
        f(&mut s)
    }

    pub(crate) fn seal(&self, on: bool) {
        let _s = self.setup.lock();
        self.sealed.store(on, Ordering::Release);
    }

    /// Load this program with its object (default), or leave it out: a
    /// program not loaded is skipped by load and attach-all; its handle
    /// stays valid and says it is not loaded.
    pub fn set_autoload(&self, on: bool) -> Result<()> {
        self.configure("autoload", |s| {
            s.autoload = on;
            Ok(())
        })
    }
    /// Whether the program loads with its object.
    pub fn autoload(&self) -> bool {
        self.setup.lock().autoload
    }

    /// The program type to load as (`enum bpf_prog_type`), instead of the section's.
    pub fn set_type(&self, prog_type: u32) -> Result<()> {
        if prog_type == 0 {
            return Err(Error::inval(format!("program '{}': program type 0 (BPF_PROG_TYPE_UNSPEC) cannot be loaded", self.name())));
        }
        self.configure("the program type", |_| {
            self.prog_type.store(prog_type, Ordering::Relaxed);
            Ok(())
        })
    }

    /// The expected attach type given at load (`enum bpf_attach_type`), instead of the section's.
    pub fn set_expected_attach_type(&self, attach_type: u32) -> Result<()> {
        self.configure("the expected attach type", |_| {
            self.expected_attach_type.store(attach_type, Ordering::Relaxed);
            Ok(())
        })
    }

    /// The BTF attach target: with `prog` None, a kernel function (fentry,
    /// fexit, fmod_ret), tracepoint (tp_btf), LSM hook or iterator by the
    /// name the section would give (`func` "do_unlinkat", "sched_switch",
    /// "file_open", "task"); with `prog`, function `func` of that loaded BPF
    /// program (freplace, or fentry/fexit on a BPF program). `func` None
    /// keeps the section's name. The fd is duplicated.
    pub fn set_attach_target(&self, prog: Option<BorrowedFd<'_>>, func: Option<&str>) -> Result<()> {
        if prog.is_none() && func.is_none_or(str::is_empty) {
            return Err(Error::inval(format!("program '{}': set_attach_target needs a function name or a target program", self.name())));
        }
        let dup = match prog {
            Some(fd) => {
                sys::prog_info(fd).map_err(|e| e.error(format!("program '{}': attach target fd is not a BPF program", self.name())))?;
                Some(sys::dup_fd(fd).map_err(|e| e.error("dup attach target fd"))?)
            }
            None => None,
        };
        self.configure("the attach target", |s| {
            s.attach = Some(AttachTarget { prog: dup, func: func.filter(|f| !f.is_empty()).map(str::to_string) });
            Ok(())
        })
    }

    /// `prog_flags` at load (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`, ...),
    /// replacing those the section implies.
    pub fn set_flags(&self, flags: u32) -> Result<()> {
        self.configure("the load flags", |s| {
            s.flags = flags;
            Ok(())
        })
    }
    /// `prog_flags` given at load.
    pub fn flags(&self) -> u32 {
        self.setup.lock().flags
    }

    /// The verifier log level for this program (overrides the object's):
    /// 1 or 2 keep the log of a successful load too, readable with [`Program::log`].
    pub fn set_log_level(&self, level: u32) -> Result<()> {
        self.configure("the log level", |s| {
            s.log_level = Some(level);
            Ok(())
        })
    }
    /// This program's verifier log level (0: the object's, which defaults to a log only on refusal).
    pub fn log_level(&self) -> u32 {
        self.setup.lock().log_level.unwrap_or(0)
    }
    /// The verifier log of the last load: of a load with a log level, or of a refusal.
    pub fn log(&self) -> String {
        self.setup.lock().log.clone()
    }

    /// What the kernel says of the loaded program (its id, type, name, tag, sizes).
    pub fn kernel_info(&self) -> Result<crate::host::loaded::LoadedProgram> {
        let fd = self.fd.read();
        let fd = fd.as_ref().ok_or_else(|| Error::inval(format!("program '{}' is not loaded", self.name())))?;
        let i = sys::ids::program_info(fd.as_fd()).map_err(|e| e.error(format!("program '{}': info", self.name())))?;
        Ok(i.into())
    }

    /// Refuse, before anything is created, a program that cannot be loaded
    /// as set up. Programs with autoload off are not checked.
    pub(crate) fn check_loadable(&self, spec: &ProgramSpec) -> Result<()> {
        let s = self.setup.lock();
        if !s.autoload {
            return Ok(());
        }
        let t = self.prog_type();
        if t == 0 {
            return Err(Error::unsupported(format!(
                "program '{}': {} (set one with set_type, or turn its autoload off)",
                spec.name,
                crate::obj::section::unknown_message(&spec.section)
            )));
        }
        if needs_target(t) && s.attach.is_none() && section_target(spec).is_none() {
            let why = if t == pt::EXT {
                "freplace needs the BPF program to replace: set it with set_attach_target(prog_fd, func)"
            } else {
                "it names no kernel function or tracepoint to attach to: set one with set_attach_target"
            };
            return Err(Error::unsupported(format!("program '{}': section '{}': {why}", spec.name, spec.section)));
        }
        Ok(())
    }

    /// The BTF attach target for load: the one set, else the section's.
    pub(crate) fn attach_target(&self, spec: &ProgramSpec) -> Result<Option<OwnedTarget>> {
        let t = self.prog_type();
        let s = self.setup.lock();
        match &s.attach {
            // A target only means something to the kernel for BTF-attached types.
            Some(a) if needs_target(t) => {
                let name = match &a.func {
                    Some(f) => f.clone(),
                    None => crate::obj::section::attach_target(&spec.section)
                        .ok_or_else(|| Error::inval(format!("program '{}': no function name set and section '{}' names none", spec.name, spec.section)))?
                        .to_string(),
                };
                match &a.prog {
                    Some(fd) => {
                        let id = func_in_prog(fd.as_fd(), &name)?;
                        let dup = sys::dup_fd(fd.as_fd()).map_err(|e| e.error("dup attach target fd"))?;
                        Ok(Some(OwnedTarget { btf_id: id, prog: Some(dup) }))
                    }
                    None => {
                        let (full, is_typedef) = kernel_name(t, self.expected_attach_type(), &name);
                        Ok(Some(OwnedTarget { btf_id: kernel_btf_id(&full, is_typedef)?, prog: None }))
                    }
                }
            }
            _ if needs_target(t) => match section_target(spec) {
                Some((name, is_typedef)) => Ok(Some(OwnedTarget { btf_id: kernel_btf_id(&name, is_typedef)?, prog: None })),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }
}

/// An attach target for one load, owning its program fd.
pub(crate) struct OwnedTarget {
    pub btf_id: u32,
    pub prog: Option<OwnedFd>,
}

fn section_target(spec: &ProgramSpec) -> Option<(String, bool)> {
    spec.def.filter(|d| d.needs_btf_target).and_then(|d| crate::obj::section::btf_attach_target(d, &spec.section))
}

/// The kernel BTF name libbpf gives a target of this type: `btf_trace_NAME`
/// (a typedef) for tp_btf, `bpf_lsm_NAME` for LSM, `bpf_iter_NAME` for iterators.
fn kernel_name(prog_type: u32, attach_type: u32, name: &str) -> (String, bool) {
    match (prog_type, attach_type) {
        (pt::TRACING, at::TRACE_RAW_TP) if !name.starts_with("btf_trace_") => (format!("btf_trace_{name}"), true),
        (pt::LSM, _) if !name.starts_with("bpf_lsm_") => (format!("bpf_lsm_{name}"), false),
        (pt::TRACING, at::TRACE_ITER) if !name.starts_with("bpf_iter_") => (format!("bpf_iter_{name}"), false),
        _ => (name.to_string(), prog_type == pt::TRACING && attach_type == at::TRACE_RAW_TP),
    }
}

/// The kernel BTF id of a BTF-targeted program's attach point. Always the
/// running kernel's BTF: the ids are the kernel's own numbering, so a custom
/// BTF file (`btf_custom_path`) serves CO-RE only, as in libbpf.
pub(crate) fn kernel_btf_id(name: &str, is_typedef: bool) -> Result<u32> {
    let (kind, what) = if is_typedef { (crate::btf::BtfKind::Typedef, "tracepoint type") } else { (crate::btf::BtfKind::Func, "function") };
    let k = crate::host::vmlinux::kernel_btf().map_err(|e| e.context(format!("its attach target '{name}' is looked up in the kernel's BTF")))?;
    k.find(name, kind).ok_or_else(|| {
        Error::not_found(format!("attach target: no {what} '{name}' in the kernel's BTF (vmlinux; module BTF is not searched)"))
    })
}

/// The BTF id of function `name` in the BTF of the loaded program `prog`.
fn func_in_prog(prog: BorrowedFd<'_>, name: &str) -> Result<u32> {
    let info = sys::prog_info(prog).map_err(|e| e.error("attach target program: info"))?;
    if info.btf_id() == 0 {
        return Err(Error::inval(format!(
            "attach target program '{}' (id {}) was loaded without BTF: its functions cannot be found",
            info.name(),
            info.id()
        )));
    }
    let raw = sys::btf_bytes_by_id(info.btf_id()).map_err(|e| e.error(format!("attach target program '{}': read its BTF", info.name())))?;
    let btf = crate::btf::Btf::parse(&raw).map_err(|e| Error::parse(format!("attach target program '{}': its BTF: {e}", info.name())))?;
    let idx = crate::btf::IndexedBtf::new(btf);
    idx.find(name, crate::btf::BtfKind::Func)
        .ok_or_else(|| Error::not_found(format!("attach target: program '{}' (id {}) has no function '{name}' in its BTF", info.name(), info.id())))
}

/// A BTF-attached program (fentry/fexit/fmod_ret, tp_btf, lsm, freplace)
/// refused with EPERM and no verifier log: the kernel would not even verify
/// it, which is the kernel's policy (lockdown, or BPF trampolines it
/// cannot make), not the program. Say so rather than a bare errno.
pub(crate) fn explain_refusal(e: Error, prog_type: u32) -> Error {
    if e.errno() == libc::EPERM && e.verifier_log().is_none() && needs_target(prog_type) {
        return e.note(
            "this kernel refuses BTF-attached programs (fentry/fexit/fmod_ret, lsm, freplace) before verifying them: \
             kernel lockdown or BPF trampolines it cannot make (libbpf gets the same EPERM)",
        );
    }
    e
}
