//! cgroup programs (skb, sock, sock_addr, sock_ops, sockopt, sysctl, device):
//! a BPF link to the cgroup (Linux 5.7+), or `BPF_PROG_ATTACH` with
//! `BPF_F_ALLOW_MULTI` (or the caller's flags) where links are missing or
//! when asked; such an attachment is undone with `BPF_PROG_DETACH`.

use crate::error::{Error, Result};
use crate::link::{Link, LinkKind, Undo};
use crate::obj::AttachType;
use crate::sys;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// `BPF_F_ALLOW_OVERRIDE`: a program in a descendant cgroup overrides this one.
pub const BPF_F_ALLOW_OVERRIDE: u32 = 1;
/// `BPF_F_ALLOW_MULTI`: several programs per cgroup and type, all run.
pub const BPF_F_ALLOW_MULTI: u32 = 2;
/// `BPF_F_REPLACE`: replace the program given as `replace` (with `BPF_F_ALLOW_MULTI`).
pub const BPF_F_REPLACE: u32 = 4;

/// How an attach is made where the kernel offers two ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttachVia {
    /// A BPF link, else `BPF_PROG_ATTACH` where the kernel has no such link;
    /// `BPF_PROG_ATTACH` at once when flags are given.
    #[default]
    Auto,
    /// Only a BPF link.
    Link,
    /// Only `BPF_PROG_ATTACH` (detached with `BPF_PROG_DETACH`).
    ProgAttach,
}

/// Options of a cgroup attach.
#[derive(Debug, Clone, Copy, Default)]
pub struct CgroupOptions<'a> {
    /// `enum bpf_attach_type`; None: the program's expected attach type (its section's).
    pub attach_type: Option<u32>,
    /// Link or `BPF_PROG_ATTACH`.
    pub via: AttachVia,
    /// `BPF_PROG_ATTACH` flags ([`BPF_F_ALLOW_MULTI`], [`BPF_F_ALLOW_OVERRIDE`],
    /// [`BPF_F_REPLACE`]; 0 with [`AttachVia::Auto`]: `BPF_F_ALLOW_MULTI`; 0
    /// with [`AttachVia::ProgAttach`]: the kernel's exclusive mode).
    pub flags: u32,
    /// The program `BPF_F_REPLACE` replaces.
    pub replace: Option<BorrowedFd<'a>>,
}

/// Open a cgroup v2 directory.
pub(crate) fn open_cgroup(path: &str) -> Result<OwnedFd> {
    match std::fs::File::open(path) {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => Ok(f.into()),
        Ok(_) => Err(Error::inval(format!("cgroup '{path}' is not a directory"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::not_found(format!("cgroup '{path}' does not exist"))),
        Err(e) => Err(sys::Errno::of_io(&e).error(format!("open cgroup '{path}'"))),
    }
}

/// Attach `prog` to the cgroup `cg` (named `target` in messages) as `attach_type`.
pub(crate) fn cgroup(prog: BorrowedFd<'_>, prog_name: &str, attach_type: u32, cg: BorrowedFd<'_>, target: &str, opts: &CgroupOptions<'_>) -> Result<Link> {
    let what = format!("program '{prog_name}': attach to cgroup '{target}' as {}", AttachType(attach_type));
    let explain = |e: sys::Errno, how: &str| match e.0 {
        libc::EBADF => Error::inval(format!("{what}: not a cgroup v2 directory")),
        _ => e.error(format!("{what} ({how})")),
    };
    let link_first = match opts.via {
        AttachVia::Link => true,
        AttachVia::ProgAttach => false,
        AttachVia::Auto => opts.flags == 0,
    };
    if link_first {
        match sys::link_create(prog, cg, attach_type, 0) {
            Ok(fd) => return Ok(Link::new(LinkKind::Cgroup, target.to_string(), Some(fd), None, None)),
            Err(e) if opts.via == AttachVia::Auto && e.0 == libc::EINVAL => {
                crate::log::debug(&format!("{what}: no cgroup BPF link ({e}); using BPF_PROG_ATTACH"));
            }
            Err(e) if e.0 == libc::EINVAL => {
                return Err(Error::unsupported(format!("{what}: the kernel refused a cgroup BPF link (BPF_LINK_CREATE, Linux 5.7+; errno {e})")))
            }
            Err(e) => return Err(explain(e, "BPF_LINK_CREATE")),
        }
    }
    let flags = if opts.flags == 0 && opts.via == AttachVia::Auto { BPF_F_ALLOW_MULTI } else { opts.flags };
    if flags & BPF_F_REPLACE != 0 && opts.replace.is_none() {
        return Err(Error::inval(format!("{what}: BPF_F_REPLACE needs the program to replace")));
    }
    let replace = if flags & BPF_F_REPLACE != 0 { opts.replace } else { None };
    sys::prog_attach(prog, cg, attach_type, flags, replace).map_err(|e| explain(e, "BPF_PROG_ATTACH"))?;
    let undo = (|| Ok::<_, sys::Errno>(Undo::ProgDetach { target: sys::dup_fd(cg)?, prog: sys::dup_fd(prog)?, attach_type }))();
    match undo {
        Ok(u) => Ok(Link::undone_by(LinkKind::CgroupProgAttach, target.to_string(), u)),
        Err(e) => {
            // No way to detach later: detach now rather than leave it behind.
            let _ = sys::prog_detach(prog, cg, attach_type);
            Err(e.error(format!("{what}: dup fds")))
        }
    }
}

/// The ids of the programs attached to `target` (a cgroup, a network
/// namespace, a sockmap on Linux 5.19+) as `attach_type` (`BPF_PROG_QUERY`),
/// by whatever means (links or `BPF_PROG_ATTACH`).
pub fn query_programs(cg: BorrowedFd<'_>, attach_type: u32) -> Result<Vec<u32>> {
    let what = || format!("query the programs attached as {}", AttachType(attach_type));
    let n = sys::prog_query(cg, attach_type, &mut []).map_err(|e| e.error(what()))?;
    let mut ids = vec![0u32; n as usize + 8];
    let n = sys::prog_query(cg, attach_type, &mut ids).map_err(|e| e.error(what()))?;
    ids.truncate((n as usize).min(ids.len()));
    Ok(ids)
}

/// [`query_programs`] of a cgroup, by path.
pub fn query_cgroup_path(path: &str, attach_type: u32) -> Result<Vec<u32>> {
    let fd = open_cgroup(path)?;
    query_programs(fd.as_fd(), attach_type)
}
