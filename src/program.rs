//! Programs in the kernel and their attach calls.

use crate::attach::{self, IterOptions, KprobeMultiOptions, KprobeOptions, PerfEventOptions, UprobeMultiOptions, UprobeOptions, UsdtOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::obj::core_relo::Poisoned;
use crate::obj::{AssembledProgram, ProgramSpec};
use crate::sys;
use std::ffi::CStr;
use crate::link::Link;
use crate::obj::section::{prog_type as pt, AutoAttach};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use parking_lot::{Mutex, RwLock};
use crate::program_setup::ProgSetup;

mod cgroup_sock;
use cgroup_sock::explain_too_new;

/// A program: what its section says, and once loaded, its file descriptor.
#[derive(Debug)]
pub struct Program {
    name: String,
    section: String,
    pub(crate) prog_type: AtomicU32,
    pub(crate) expected_attach_type: AtomicU32,
    auto: AutoAttach,
    insn_cnt: AtomicU32,
    pub(crate) fd: RwLock<Option<OwnedFd>>,
    /// What the user set between open and load (see `program_setup.rs`).
    pub(crate) setup: Mutex<ProgSetup>,
    /// Set while the object loads and once it is loaded: setters refuse then.
    pub(crate) sealed: AtomicBool,
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
    /// A struct_ops program's (`attach_btf_id`, `expected_attach_type`):
    /// the kernel struct and the member it implements.
    pub struct_ops: Option<(u32, u32)>,
}

pub(crate) const BPF_F_SLEEPABLE: u32 = 1 << 4;
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// The load flags a section implies (`.s`: sleepable, `xdp.frags`).
fn section_flags(s: &ProgramSpec) -> u32 {
    let mut flags = if s.def.is_some_and(|d| d.sleepable) { BPF_F_SLEEPABLE } else { 0 };
    if s.section.starts_with("xdp.frags") {
        flags |= BPF_F_XDP_HAS_FRAGS;
    }
    flags
}

impl Program {
    pub(crate) fn from_spec(s: &ProgramSpec) -> Program {
        Program {
            name: s.name.clone(),
            section: s.section.clone(),
            prog_type: AtomicU32::new(s.prog_type().as_u32()),
            expected_attach_type: AtomicU32::new(s.expected_attach_type().as_u32()),
            auto: s.def.map_or(AutoAttach::None, |d| d.auto),
            insn_cnt: AtomicU32::new(s.insn_count() as u32),
            fd: RwLock::new(None),
            setup: Mutex::new(ProgSetup::new(section_flags(s))),
            sealed: AtomicBool::new(false),
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
        let r = self.load_inner(spec, prog, poisoned, args);
        let log = match &r {
            Ok(l) => l.clone(),
            Err(e) => e.verifier_log().unwrap_or_default().to_string(),
        };
        self.setup.lock().log = log;
        r
    }

    fn load_inner(&self, spec: &ProgramSpec, prog: &AssembledProgram, poisoned: &[Poisoned], args: &LoadArgs<'_>) -> Result<String> {
        let (flags, log_level) = {
            let s = self.setup.lock();
            (s.flags, s.log_level.unwrap_or(args.log_level))
        };
        let target = self.attach_target(spec)?;
        // A struct_ops program attaches to the kernel struct's member.
        let (attach_btf_id, expected_attach_type) = match args.struct_ops {
            Some(so) => so,
            None => (target.as_ref().map_or(0, |t| t.btf_id), self.expected_attach_type()),
        };
        // Sized up front and written a word at a time: collecting bytes through
        // nested iterators cost more than the rest of the program's preparation.
        let mut func_info: Vec<u8> = Vec::with_capacity(if args.func_info { prog.func_info.len() * 8 } else { 0 });
        let mut line_info: Vec<u8> = Vec::with_capacity(if args.func_info { prog.line_info.len() * 16 } else { 0 });
        if args.func_info {
            prog.func_info.iter().for_each(|(o, t)| [o, t].iter().for_each(|v| func_info.extend_from_slice(&v.to_le_bytes())));
            prog.line_info.iter().for_each(|r| r.iter().for_each(|v| line_info.extend_from_slice(&v.to_le_bytes())));
        }
        let mut p = sys::ProgLoad {
            prog_type: self.prog_type(),
            expected_attach_type,
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
            attach_prog_fd: target.as_ref().and_then(|t| t.prog.as_ref().map(|f| f.as_fd())),
        };
        let (fd, log_text) = match load_prog(&p, log_level).map_err(|e| explain_poison(e, poisoned)) {
            Ok(r) => r,
            // (EPERM is the kernel's policy, not the BTF: no retry.)
            Err(first) if p.btf_fd.is_some() && first.kind() != ErrorKind::Verifier && first.errno() != libc::EPERM => {
                // BTF func/line info the kernel did not take: try without it.
                p.btf_fd = None;
                let r = load_prog(&p, log_level).map_err(|e| explain_too_new(self.prog_type(), self.expected_attach_type(), e))?;
                crate::log::warn(&format!("program '{}' (section '{}'): loaded without BTF line info ({first})", spec.name, spec.section));
                r
            }
            Err(e) => return Err(explain_too_new(self.prog_type(), self.expected_attach_type(), crate::program_setup::explain_refusal(e, self.prog_type()))),
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
        self.prog_type.load(Ordering::Relaxed)
    }
    /// Expected attach type given at load.
    pub fn expected_attach_type(&self) -> u32 {
        self.expected_attach_type.load(Ordering::Relaxed)
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
        self.fd.read().as_ref().map(|f| f.as_raw_fd()).ok_or_else(|| self.not_loaded())
    }

    fn not_loaded(&self) -> Error {
        if !self.autoload() {
            return Error::inval(format!("program '{}' is not loaded: its autoload is off", self.name));
        }
        Error::inval(format!("program '{}' is not loaded: load the object first", self.name))
    }

    /// Run `f` with the program's fd, held open for the duration.
    pub(crate) fn with_fd<T>(&self, f: impl FnOnce(BorrowedFd<'_>) -> Result<T>) -> Result<T> {
        let fd = self.fd.read();
        let fd = fd.as_ref().ok_or_else(|| self.not_loaded())?;
        f(fd.as_fd())
    }

    /// [`Program::with_fd`] for an attach that only programs of the types `ok` take.
    fn attach_as<T>(&self, ok: &[u32], what: &str, f: impl FnOnce(BorrowedFd<'_>) -> Result<T>) -> Result<T> {
        if !ok.contains(&self.prog_type()) {
            return Err(Error::inval(format!(
                "program '{}' (section '{}', type {}) cannot be attached as a {what}",
                self.name, self.section, crate::obj::ProgramType(self.prog_type())
            )));
        }
        self.with_fd(f)
    }

    /// Run the program once (or `opts.repeat` times) on test input
    /// (`BPF_PROG_TEST_RUN`); see [`crate::test_run`].
    pub fn test_run(&self, opts: crate::TestRunOptions<'_>) -> Result<crate::TestRunResult> {
        self.with_fd(|fd| crate::test_run::test_run(fd, &self.name, opts))
    }

    /// Attach an XDP program to interface `ifindex` (see [`crate::attach::xdp`]):
    /// a BPF link (5.9+), else netlink.
    pub fn attach_xdp(&self, ifindex: u32, opts: &attach::XdpOptions) -> Result<Link> {
        self.attach_as(&[pt::XDP], "XDP program", |fd| attach::xdp::attach(fd, &self.name, ifindex, opts))
    }

    /// Attach a tc (sched_cls) program to interface `ifindex` with a TCX link (6.6+).
    pub fn attach_tcx(&self, ifindex: u32, opts: &attach::TcxOptions) -> Result<Link> {
        self.attach_as(&[pt::SCHED_CLS], "TCX program", |fd| attach::tc::attach_tcx(fd, &self.name, ifindex, opts))
    }

    /// Attach a tc (sched_cls) program to the netkit pair whose primary
    /// device is `ifindex` (a netkit link, Linux 6.7+ with `CONFIG_NETKIT`):
    /// for what the primary or the peer sends, as `opts.side` or the
    /// section (`netkit/primary`, `netkit/peer`) says.
    pub fn attach_netkit(&self, ifindex: u32, opts: &attach::NetkitOptions) -> Result<Link> {
        let t = attach::netkit::attach_type(opts.side, self.expected_attach_type());
        self.attach_as(&[pt::SCHED_CLS], "netkit program", |fd| attach::netkit::attach(fd, &self.name, ifindex, t, opts))
    }

    /// Attach a tc (sched_cls) program to interface `ifindex` as a netlink
    /// `cls_bpf` direct-action filter on a `clsact` qdisc (made if missing).
    pub fn attach_tc(&self, ifindex: u32, opts: &attach::TcOptions) -> Result<Link> {
        self.attach_as(&[pt::SCHED_CLS], "tc filter", |fd| attach::tc::attach_tc(fd, &self.name, ifindex, opts))
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
        self.attach_tracepoint_cookie(category, name, 0)
    }

    /// Attach to tracepoint `category/name` through a BPF perf link carrying
    /// `cookie` for `bpf_get_attach_cookie()` (Linux 5.15+ when not 0).
    pub fn attach_tracepoint_cookie(&self, category: &str, name: &str, cookie: u64) -> Result<Link> {
        self.attach_as(&[pt::TRACEPOINT], "tracepoint", |fd| attach::tracepoint(fd, &self.name, category, name, cookie))
    }

    /// Attach to every site of USDT probe `provider:name` in `binary`
    /// (executable or shared library; a bare name with `opts.pid` is first
    /// looked up among the files that process maps): one uprobe per site, its semaphore
    /// counted by the kernel, its arguments described for `bpfl/usdt.bpf.h`.
    pub fn attach_usdt(&self, binary: &str, provider: &str, name: &str, opts: &UsdtOptions) -> Result<Link> {
        self.attach_as(&[pt::KPROBE], "usdt probe", |fd| attach::usdt::usdt(fd, &self.name, binary, provider, name, opts))
    }

    /// Attach to many offsets of one binary: file `offsets`, and the
    /// functions `funcs` (resolved in the file), in one uprobe.multi link
    /// (Linux 6.6+, a program from a `uprobe.multi` section), else one uprobe each.
    pub fn attach_uprobe_multi(&self, binary: &str, funcs: &[String], offsets: &[u64], opts: &UprobeMultiOptions) -> Result<Link> {
        self.attach_as(&[pt::KPROBE], "uprobe.multi", |fd| attach::multi::uprobe_multi(fd, &self.name, self.expected_attach_type(), binary, funcs, offsets, opts))
    }

    /// Attach to many kernel functions: those matching glob `pattern`, or
    /// `syms`, or `addrs` (exactly one given), in one kprobe.multi link
    /// (`CONFIG_FPROBE`, Linux 5.18+), else one kprobe each (a program from a `kprobe` section).
    pub fn attach_kprobe_multi(&self, pattern: Option<&str>, syms: &[String], addrs: &[u64], opts: &KprobeMultiOptions) -> Result<Link> {
        self.attach_as(&[pt::KPROBE], "kprobe.multi", |fd| attach::multi::kprobe_multi(fd, &self.name, self.expected_attach_type(), pattern, syms, addrs, opts))
    }

    /// Attach a kprobe to syscall `name`'s entry (`opts.retprobe`: its return),
    /// through the arch's syscall wrapper where the kernel has them.
    pub fn attach_ksyscall(&self, name: &str, opts: &KprobeOptions) -> Result<Link> {
        self.attach_as(&[pt::KPROBE], "ksyscall", |fd| attach::multi::ksyscall(fd, &self.name, name, opts))
    }

    /// Attach a BTF-traced program (fentry/fexit/fmod_ret/lsm) where its
    /// section says, through a tracing link carrying `cookie` for
    /// `bpf_get_attach_cookie()` (Linux 5.19+ when not 0).
    pub fn attach_trace_cookie(&self, cookie: u64) -> Result<Link> {
        if !self.is_btf_traced() {
            return Err(Error::inval(format!("program '{}' (section '{}') is not a BTF-traced program (fentry, fexit, fmod_ret, lsm)", self.name, self.section)));
        }
        self.with_fd(|fd| attach::btf_traced_cookie(fd, &self.name, &self.section, self.expected_attach_type(), cookie))
    }

    /// The sections this crate attaches by prefix rather than by [`AutoAttach`]:
    /// `usdt/`, `uprobe.multi/`, `kprobe.multi/`, `ksyscall/` and their return forms.
    fn attach_by_prefix(&self) -> Option<Result<Link>> {
        let (kind, t) = self.section.split_once('/').filter(|(_, t)| !t.is_empty())?;
        let ctx = |e: Error| e.context(format!("program '{}': section '{}'", self.name, self.section));
        let r = match kind {
            "usdt" => attach::usdt::parse_usdt_target(t).and_then(|(b, p, n)| self.attach_usdt(&b, &p, &n, &UsdtOptions::default())),
            "kprobe.multi" | "kretprobe.multi" | "kprobe.session" => {
                let o = KprobeMultiOptions { retprobe: kind == "kretprobe.multi", session: kind == "kprobe.session", ..Default::default() };
                self.attach_kprobe_multi(Some(t), &[], &[], &o)
            }
            "uprobe.multi" | "uretprobe.multi" => attach::parse_uprobe_target(t).and_then(|(b, f, off)| {
                let o = UprobeMultiOptions { retprobe: kind == "uretprobe.multi", ..Default::default() };
                match f {
                    Some(pat) => attach::multi::elf_funcs_matching(&b, &pat).and_then(|fs| self.attach_uprobe_multi(&b, &fs, &[], &o)),
                    None => self.attach_uprobe_multi(&b, &[], &[off], &o),
                }
            }),
            "ksyscall" | "kretsyscall" => self.attach_ksyscall(t, &KprobeOptions { retprobe: kind == "kretsyscall", ..Default::default() }),
            _ => return None,
        };
        Some(r.map_err(ctx))
    }

    /// Attach to raw tracepoint `name`.
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link> {
        self.attach_as(&[pt::RAW_TRACEPOINT, pt::RAW_TRACEPOINT_WRITABLE], "raw tracepoint", |fd| attach::raw_tracepoint(fd, &self.name, name))
    }

    /// Attach a `perf_event` program to the perf event `event` (see
    /// [`crate::attach::open_perf_event`]); the link holds its own dup of it.
    pub fn attach_perf_event(&self, event: BorrowedFd<'_>, opts: &PerfEventOptions) -> Result<Link> {
        self.attach_as(&[pt::PERF_EVENT], "perf event program", |fd| attach::perf::perf_event(fd, &self.name, event, opts))
    }

    /// Make an iterator link of an `iter/TARGET` program; read its output
    /// with [`crate::attach::Iter`].
    pub fn attach_iter(&self, opts: &IterOptions) -> Result<Link> {
        if !self.is_iter() {
            return Err(Error::inval(format!("program '{}' (section '{}') is not an iterator (iter/TARGET)", self.name, self.section)));
        }
        self.with_fd(|fd| attach::iter::iter(fd, &self.name, &self.section, opts))
    }

    fn is_iter(&self) -> bool {
        self.prog_type() == pt::TRACING && self.expected_attach_type() == crate::obj::section::attach_type::TRACE_ITER
    }

    /// Loaded with a kernel BTF attach point that attaches without more
    /// arguments: tp_btf, fentry/fexit/fmod_ret, lsm (not iter).
    fn is_btf_traced(&self) -> bool {
        use crate::obj::section::attach_type as at;
        let t = self.prog_type();
        (t == pt::TRACING && [at::TRACE_RAW_TP, at::TRACE_FENTRY, at::TRACE_FEXIT, at::MODIFY_RETURN].contains(&self.expected_attach_type()))
            || t == pt::LSM
            || t == pt::EXT
    }

    /// Whether [`Program::attach`] knows where to attach this program.
    pub fn can_auto_attach(&self) -> bool {
        if self.prog_type() == pt::KPROBE && matches!(self.section.split_once('/'), Some((k, t)) if !t.is_empty() && ["usdt", "kprobe.multi", "kretprobe.multi", "kprobe.session", "uprobe.multi", "uretprobe.multi", "ksyscall", "kretsyscall"].contains(&k)) {
            return true;
        }
        if self.is_btf_traced() {
            return crate::obj::section::attach_target(&self.section).is_some() || self.setup.lock().attach.is_some();
        }
        if self.is_iter() {
            return crate::obj::section::attach_target(&self.section).is_some();
        }
        if self.auto_attach_net_kind() {
            return true;
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
        if !self.is_loaded() {
            return Err(self.not_loaded());
        }
        let target = crate::obj::section::attach_target(&self.section);
        let need = || target.ok_or_else(|| Error::inval(format!("program '{}': section '{}' names no attach target", self.name, self.section)));
        if self.prog_type() == pt::KPROBE {
            if let Some(r) = self.attach_by_prefix() {
                return r;
            }
        }
        if self.is_btf_traced() {
            if self.setup.lock().attach.is_none() {
                need()?;
            }
            return self.with_fd(|fd| attach::btf_traced(fd, &self.name, &self.section));
        }
        if let Some(r) = self.auto_attach_net() {
            return r;
        }
        if self.is_iter() {
            need()?;
            return self.attach_iter(&IterOptions::default());
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
            AutoAttach::None => {
                // Networking sections name no interface: say which call takes one.
                let hint = match self.prog_type() {
                    pt::XDP => Some("an XDP program needs an interface: attach_xdp"),
                    pt::SCHED_CLS => Some("a tc program needs an interface: attach_tcx, attach_tc or attach_netkit"),
                    _ => self.no_auto_attach_reason(),
                };
                Err(Error::unsupported(format!(
                    "program '{}': section '{}' cannot be attached automatically; attach it explicitly{}",
                    self.name,
                    self.section,
                    hint.map_or(String::new(), |r| format!(" ({r})"))
                )))
            }
        }
    }
}

// Here rather than in link.rs, which stays below program in the module order.
impl Link {
    /// Run `new` in this link instead of its program (`BPF_LINK_UPDATE`);
    /// with `old`, only if `old` is the program it runs now. The program
    /// must have the link's type and target; not every link type takes it.
    pub fn update_program(&self, new: &Program, old: Option<&Program>) -> Result<()> {
        new.with_fd(|n| match old {
            Some(o) => o.with_fd(|o| self.update_fds(n, Some(o), &new.name)),
            None => self.update_fds(n, None, &new.name),
        })
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
