//! Attachments: a [`Link`] holds what keeps a program attached (a BPF link,
//! a perf event, a tracefs probe event) and undoes it when dropped. Making
//! attachments is [`crate::attach`]'s business; this is only the handle.

use crate::error::{Error, Result};
use crate::host::tracefs::ProbeEvent;
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// How a program is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    /// kprobe/kretprobe through the perf kprobe PMU.
    KprobePmu,
    /// kprobe/kretprobe through a tracefs `kprobe_events` entry.
    KprobeLegacy,
    /// uprobe/uretprobe through the perf uprobe PMU.
    UprobePmu,
    /// A tracepoint perf event.
    Tracepoint,
    /// `BPF_RAW_TRACEPOINT_OPEN`.
    RawTracepoint,
    /// A BPF link to a cgroup.
    Cgroup,
    /// `BPF_PROG_ATTACH` to a cgroup (detached with `BPF_PROG_DETACH`).
    CgroupProgAttach,
    /// `SO_ATTACH_BPF` on a socket (detached with `SO_DETACH_BPF`).
    SocketFilter,
    /// `SO_ATTACH_REUSEPORT_EBPF` on a socket (detached with `SO_DETACH_REUSEPORT_BPF`).
    Reuseport,
    /// A BPF link to a sockmap or sockhash (Linux 6.10).
    Sockmap,
    /// `BPF_PROG_ATTACH` to a sockmap or sockhash (detached with `BPF_PROG_DETACH`).
    SockmapProgAttach,
    /// A BPF link to a network namespace (sk_lookup, flow_dissector).
    Netns,
    /// A netfilter BPF link (Linux 6.4).
    Netfilter,
    /// XDP through a BPF link (5.9+).
    Xdp,
    /// XDP through netlink (`IFLA_XDP`).
    XdpNetlink,
    /// tc through a TCX link (6.6+).
    Tcx,
    /// tc through netlink: a `cls_bpf` filter on a `clsact` qdisc.
    TcNetlink,
    /// A netkit link (6.7+) on a netkit pair's primary device.
    Netkit,
    /// A `perf_event` program on a perf event (sampling, counters).
    PerfEvent,
    /// A BPF iterator (`BPF_TRACE_ITER`).
    Iter,
    /// A registered struct_ops map (a `.struct_ops.link` link, or a `.struct_ops` map update).
    StructOps,
    /// A link opened from its pin on a bpffs ([`Link::open_pinned`]).
    Pinned,
    /// USDT probe sites: one uprobe per site, with their argument specs.
    Usdt,
    /// A multi-probe link (`BPF_TRACE_KPROBE_MULTI`, `BPF_TRACE_UPROBE_MULTI`).
    Multi,
    /// Several single-probe links standing in for a multi-probe link the kernel lacks.
    MultiFallback,
}

/// What a grouped attachment undoes after its parts are detached (USDT spec slots).
pub(crate) struct Cleanup(pub Box<dyn FnOnce() + Send + Sync>);

impl std::fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cleanup")
    }
}

/// What undoes an attachment that no fd holds (netlink XDP, tc filters).
pub(crate) trait Detach: std::fmt::Debug + Send + Sync {
    fn detach(&mut self) -> Result<()>;
}

/// What undoes an attachment that is not a BPF link or perf event.
#[derive(Debug)]
pub(crate) enum Undo {
    /// `BPF_PROG_DETACH` of `prog` from `target` (both held open by the link).
    ProgDetach { target: OwnedFd, prog: OwnedFd, attach_type: u32 },
    /// A socket option that detaches from the socket the number `fd` named
    /// when it was attached (`identity`); the link does not keep the socket
    /// open, so a socket closed (or a number reused) meanwhile is left alone.
    SockOpt { fd: RawFd, identity: (u64, u64), opt: i32 },
}

impl Undo {
    fn run(self) -> Result<()> {
        match self {
            Undo::ProgDetach { target, prog, attach_type } => sys::prog_detach(prog.as_fd(), target.as_fd(), attach_type)
                .map_err(|e| e.error(format!("BPF_PROG_DETACH (attach type {})", crate::obj::AttachType(attach_type)))),
            Undo::SockOpt { fd, identity, opt } => match sys::fd_identity(fd) {
                Ok(now) if now == identity => sys::sock_detach_prog(fd, opt).map_err(|e| e.error(format!("detach from socket fd {fd}"))),
                // Closed, or another file now: the program went with the socket.
                _ => Ok(()),
            },
        }
    }
}

/// An attachment. Dropping it detaches the program.
pub struct Link {
    kind: LinkKind,
    target: String,
    /// BPF link fd (LINK_CREATE or raw tracepoint), when there is one.
    link_fd: Option<OwnedFd>,
    /// The perf event the program hangs on, when there is one.
    perf_fd: Option<OwnedFd>,
    /// The tracefs probe event the perf event is of, when bpfl created one.
    probe_event: Option<ProbeEvent>,
    /// What else undoes the attachment.
    undo: Option<Undo>,
    /// What undoes an attachment made by netlink.
    guard: Option<Box<dyn Detach>>,
    /// Pinned on a bpffs by [`Link::pin`]: the attachment outlives this
    /// handle, so dropping it must not remove the probe event.
    pinned: AtomicBool,
    /// What undoes a legacy `.struct_ops` registration (a map update has no link).
    unregister: Option<Box<dyn FnOnce() -> Result<()> + Send + Sync>>,
    /// The attachments a grouped link is made of (USDT sites, fallback probes).
    parts: Vec<Link>,
    cleanup: Option<Cleanup>,
}

impl Link {
    pub(crate) fn new(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, perf_fd: Option<OwnedFd>, probe_event: Option<ProbeEvent>) -> Link {
        Link { kind, target, link_fd, perf_fd, probe_event, undo: None, guard: None, pinned: AtomicBool::new(false), unregister: None, parts: Vec::new(), cleanup: None }
    }
    /// An attachment undone by `undo` rather than by closing an fd.
    pub(crate) fn undone_by(kind: LinkKind, target: String, undo: Undo) -> Link {
        Link { kind, target, link_fd: None, perf_fd: None, probe_event: None, undo: Some(undo), guard: None, pinned: AtomicBool::new(false), unregister: None, parts: Vec::new(), cleanup: None }
    }
    /// An attachment a BPF link keeps, or (without one) that `guard` undoes.
    pub(crate) fn net(kind: LinkKind, target: String, link_fd: Option<OwnedFd>, guard: Option<Box<dyn Detach>>) -> Link {
        Link { kind, target, link_fd, perf_fd: None, probe_event: None, undo: None, guard, pinned: AtomicBool::new(false), unregister: None, parts: Vec::new(), cleanup: None }
    }
    /// A link whose undoing is `unregister` (a legacy `.struct_ops` map).
    pub(crate) fn with_unregister(kind: LinkKind, target: String, unregister: Box<dyn FnOnce() -> Result<()> + Send + Sync>) -> Link {
        Link { kind, target, link_fd: None, perf_fd: None, probe_event: None, undo: None, guard: None, pinned: AtomicBool::new(false), unregister: Some(unregister), parts: Vec::new(), cleanup: None }
    }
    /// One link made of several (detached together, then `cleanup` runs).
    pub(crate) fn group(kind: LinkKind, target: String, parts: Vec<Link>, cleanup: Option<Cleanup>) -> Link {
        Link { kind, target, link_fd: None, perf_fd: None, probe_event: None, undo: None, guard: None, pinned: AtomicBool::new(false), unregister: None, parts, cleanup }
    }
    pub(crate) fn set_parts(&mut self, parts: Vec<Link>) {
        self.parts = parts;
    }
    /// How many kernel attachments it holds (a grouped link: its parts).
    pub fn part_count(&self) -> usize {
        if self.parts.is_empty() {
            1
        } else {
            self.parts.len()
        }
    }
    /// How it is attached.
    pub fn kind(&self) -> &LinkKind {
        &self.kind
    }
    /// What it is attached to (function, tracepoint).
    pub fn target(&self) -> &str {
        &self.target
    }
    /// The fd that represents the attachment (BPF link, or else the perf
    /// event); -1 for attachments that have none (`BPF_PROG_ATTACH`, socket options).
    pub fn fd(&self) -> RawFd {
        match self.parts.first() {
            Some(p) if self.link_fd.is_none() => p.fd(),
            _ => self.link_fd.as_ref().or(self.perf_fd.as_ref()).map_or(-1, |f| f.as_raw_fd()),
        }
    }
    /// Detach now (dropping does the same) and report a failure to clean up.
    pub fn detach(mut self) -> Result<()> {
        self.detach_inner()
    }
    fn detach_inner(&mut self) -> Result<()> {
        let mut first_err = None;
        for mut p in self.parts.drain(..) {
            if let Err(e) = p.detach_inner() {
                first_err.get_or_insert(e);
            }
        }
        if let Some(c) = self.cleanup.take() {
            (c.0)();
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        if let Some(p) = &self.perf_fd {
            if self.link_fd.is_none() {
                sys::perf_event_disable(p.as_fd());
            }
        }
        // The fds go first: the kernel refuses to remove a probe event in use.
        self.link_fd.take();
        self.perf_fd.take();
        if let Some(u) = self.undo.take() {
            u.run()?;
        }
        if let Some(mut g) = self.guard.take() {
            g.detach()?;
        }
        if let Some(ev) = self.probe_event.take() {
            if self.pinned.load(Ordering::Relaxed) {
                ev.keep(); // the pinned link still uses it
            } else {
                ev.remove()?;
            }
        }
        if let Some(f) = self.unregister.take() {
            f()?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").field("kind", &self.kind).field("target", &self.target).field("fd", &self.fd()).finish()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Err(e) = self.detach_inner() {
            crate::log::warn(&format!("detaching {}: {e}", self.target));
        }
    }
}

/// What the kernel says about a BPF link (`BPF_OBJ_GET_INFO_BY_FD`): the
/// common part, and the per-type fields that type has (others are 0/empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// `enum bpf_link_type` (1 raw_tracepoint, 2 tracing, 3 cgroup, 4 iter,
    /// 5 netns, 6 xdp, 7 perf_event, 8 kprobe_multi, 9 struct_ops, ...).
    pub link_type: u32,
    /// The link's kernel id.
    pub id: u32,
    /// The id of the program it runs (0 for struct_ops links).
    pub prog_id: u32,
    /// Attach type (tracing, cgroup, netns, tcx, netkit links).
    pub attach_type: u32,
    /// Raw tracepoint name, iterator target ("task", "bpf_map_elem"), or a
    /// perf event's function, file or tracepoint (Linux 6.6+).
    pub name: String,
    /// cgroup links, cgroup iterators.
    pub cgroup_id: u64,
    /// Iterators over a map; struct_ops links (Linux 6.4+).
    pub map_id: u32,
    /// Tracing links: the target's BTF object id and type id.
    pub target_obj_id: u32,
    pub target_btf_id: u32,
    /// XDP, tcx and netkit links.
    pub ifindex: u32,
    /// netns links.
    pub netns_ino: u32,
    /// Perf event links (Linux 6.6+): `enum bpf_perf_event_type`.
    pub perf_event_type: u32,
    /// Task iterators limited to one thread or process.
    pub task_tid: u32,
    pub task_pid: u32,
}

impl LinkInfo {
    /// The `enum bpf_link_type` name (`"perf_event"`), or "type N".
    pub fn type_name(&self) -> String {
        const NAMES: [&str; 15] = [
            "unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp", "perf_event", "kprobe_multi", "struct_ops", "netfilter", "tcx",
            "uprobe_multi", "netkit", "sockmap",
        ];
        NAMES.get(self.link_type as usize).map_or_else(|| format!("type {}", self.link_type), |s| s.to_string())
    }

    fn decode(raw: &sys::LinkInfoRaw, name: &[u8]) -> LinkInfo {
        let u = &raw.union;
        let u32_at = |o: usize| u32::from_ne_bytes(u[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_ne_bytes(u[o..o + 8].try_into().unwrap());
        let mut i = LinkInfo { link_type: raw.link_type, id: raw.id, prog_id: raw.prog_id, name: sys::cstr_lossy(name), ..Default::default() };
        match raw.link_type {
            2 => (i.attach_type, i.target_obj_id, i.target_btf_id) = (u32_at(0), u32_at(4), u32_at(8)),
            3 => (i.cgroup_id, i.attach_type) = (u64_at(0), u32_at(8)),
            4 => {
                i.map_id = u32_at(12);
                if i.name == "cgroup" {
                    i.cgroup_id = u64_at(16);
                } else if i.name.starts_with("task") {
                    (i.task_tid, i.task_pid) = (u32_at(16), u32_at(20));
                }
            }
            5 => (i.netns_ino, i.attach_type) = (u32_at(0), u32_at(4)),
            6 => i.ifindex = u32_at(0),
            // tcx and netkit: `{ ifindex, attach_type }`.
            11 | 13 => (i.ifindex, i.attach_type) = (u32_at(0), u32_at(4)),
            7 => i.perf_event_type = u32_at(0),
            9 => i.map_id = u32_at(0),
            _ => {}
        }
        i
    }
}

impl Link {
    /// The BPF link fd, or an error saying why this attachment has none.
    pub(crate) fn bpf_link_fd(&self, what: &str) -> Result<BorrowedFd<'_>> {
        self.link_fd.as_ref().map(|f| f.as_fd()).ok_or_else(|| {
            let how = match (&self.perf_fd, &self.unregister) {
                (Some(_), _) => "it is a perf event the program was attached to with PERF_EVENT_IOC_SET_BPF, because this kernel has no BPF link for perf events (Linux 5.15+)",
                (_, Some(_)) => "it is a struct_ops map registered by a map update (section `.struct_ops`; `.struct_ops.link`, Linux 6.4+, makes a link)",
                _ => "it has no BPF link",
            };
            Error::unsupported(format!("link '{}' ({:?}) cannot {what}: {how}", self.target, self.kind))
        })
    }

    /// Pin the link at `path` on a bpffs: the attachment then outlives this
    /// handle and the process, until the pin is removed (unlink the file) and
    /// every fd is closed. Dropping a pinned link releases only our fd.
    pub fn pin(&self, path: &str) -> Result<()> {
        let fd = self.bpf_link_fd("be pinned")?;
        let c = std::ffi::CString::new(path).map_err(|_| Error::inval("pin path contains a NUL byte"))?;
        sys::obj_pin(fd, &c).map_err(|e| match e.0 {
            libc::EEXIST => Error::new(crate::ErrorKind::Os, libc::EEXIST, format!("pin link '{}' at {path}: the path exists already", self.target)),
            libc::EPERM | libc::EINVAL if !crate::host::bpffs::on_bpffs(path) => {
                e.error(format!("pin link '{}' at {path}: the directory is not on a bpffs", self.target))
            }
            _ => e.error(format!("pin link '{}' at {path}", self.target)),
        })?;
        self.pinned.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Open a link pinned at `path` ([`Link::pin`], or by another program).
    /// The handle owns a new fd; dropping it does not unpin nor detach.
    pub fn open_pinned(path: &str) -> Result<Link> {
        let c = std::ffi::CString::new(path).map_err(|_| Error::inval("pin path contains a NUL byte"))?;
        let fd = sys::obj_get(&c).map_err(|e| match e.0 {
            libc::ENOENT => Error::not_found(format!("open pinned link {path}: no such pin")),
            _ => e.error(format!("open pinned link {path}")),
        })?;
        // A map or program pin opens as well: the fd's inode says what it is.
        let what = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        if !what.contains("bpf-link") && !what.contains("bpf_link") {
            return Err(Error::inval(format!("{path} is not a pinned BPF link ({what})")));
        }
        let l = Link::new(LinkKind::Pinned, path.to_string(), Some(fd), None, None);
        l.pinned.store(true, Ordering::Relaxed);
        Ok(l)
    }

    /// What the kernel says about this link (Linux 5.8+).
    pub fn info(&self) -> Result<LinkInfo> {
        let fd = self.bpf_link_fd("be queried")?;
        let mut name = [0u8; 256];
        let raw = sys::link_info(fd, &mut name).map_err(|e| e.error(format!("link '{}': BPF_OBJ_GET_INFO_BY_FD (link info: Linux 5.8+)", self.target)))?;
        Ok(LinkInfo::decode(&raw, &name))
    }

    /// `BPF_LINK_DETACH`: end the attachment now, for every holder of the
    /// link (its pins too); this handle stays, its link defunct. Only some
    /// link types take it (cgroup, netns, XDP since Linux 5.9; struct_ops
    /// since 6.9; tcx, netkit); others say so.
    pub fn force_detach(&self) -> Result<()> {
        let fd = self.bpf_link_fd("be detached")?;
        sys::link_detach(fd).map_err(|e| match e.0 {
            libc::EOPNOTSUPP | libc::EINVAL | sys::ENOTSUPP => {
                let t = self.info().map(|i| i.type_name()).unwrap_or_else(|_| "this".into());
                Error::unsupported(format!(
                    "link '{}': a {t} link cannot be detached while open (BPF_LINK_DETACH takes cgroup, netns and XDP links since Linux 5.9, struct_ops links since 6.9): drop the link instead",
                    self.target
                ))
            }
            _ => e.error(format!("link '{}': BPF_LINK_DETACH", self.target)),
        })
    }

    /// `BPF_LINK_UPDATE` with program fds (see [`crate::Program`]'s
    /// `update_link`, the public way in).
    pub(crate) fn update_fds(&self, new: BorrowedFd<'_>, old: Option<BorrowedFd<'_>>, new_name: &str) -> Result<()> {
        let fd = self.bpf_link_fd("have its program replaced")?;
        sys::link_update(fd, new, old).map_err(|e| match e.0 {
            libc::EOPNOTSUPP | sys::ENOTSUPP => {
                let t = self.info().map(|i| i.type_name()).unwrap_or_else(|_| "this".into());
                Error::unsupported(format!(
                    "link '{}': a {t} link cannot have its program replaced (BPF_LINK_UPDATE takes cgroup links since Linux 5.7, iterator, XDP, netns and struct_ops links later)",
                    self.target
                ))
            }
            libc::EPERM if old.is_some() => Error::new(crate::ErrorKind::InvalidArgument, libc::EPERM, format!("link '{}': it does not run the expected old program", self.target)),
            libc::EINVAL => e.error(format!("link '{}': update to program '{new_name}' (the new program must have the link's type, attach type and target)", self.target)),
            _ => e.error(format!("link '{}': update to program '{new_name}'", self.target)),
        })
    }
}
