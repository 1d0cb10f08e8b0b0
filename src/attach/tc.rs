//! tc: TCX links (Linux 6.6+, with before/after ordering) and, on any
//! kernel, a `cls_bpf` direct-action filter on a `clsact` qdisc made through
//! netlink. Detaching removes exactly the filter we added (checked by its
//! program id), and the qdisc only if this process created it and no filter
//! (ours or anyone's) is left on it.

use crate::error::{Error, Result};
use crate::host::kver::{kernel_version, running};
use crate::link::{Detach, Link, LinkKind};
use crate::sys::netlink::msg::{self, Builder, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL};
use crate::sys::netlink::{NlError, NlSocket};
use crate::sys::{self, Errno};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const RTM_GETTFILTER: u16 = 46;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_ID: u16 = 11;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
const TC_H_CLSACT: u32 = 0xffff_fff1;
const TC_H_MIN_INGRESS: u32 = 0xfff2;
const TC_H_MIN_EGRESS: u32 = 0xfff3;
const ETH_P_ALL: u16 = 0x0003;
const BPF_TCX_INGRESS: u32 = 46;
const BPF_TCX_EGRESS: u32 = 47;

/// `BPF_F_BEFORE`: attach before the program or link `relative` names.
pub const TCX_BEFORE: u32 = 1 << 3;
/// `BPF_F_AFTER`: attach after it.
pub const TCX_AFTER: u32 = 1 << 4;
/// `BPF_F_ID`: `relative` is an id, not an fd.
pub const TCX_ID: u32 = 1 << 5;
/// `BPF_F_LINK`: `relative` is a link, not a program.
pub const TCX_LINK: u32 = 1 << 13;

/// Which way the packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TcDirection {
    #[default]
    Ingress,
    Egress,
}

/// Options of a TCX attach.
#[derive(Debug, Clone, Default)]
pub struct TcxOptions {
    pub direction: TcDirection,
    /// `TCX_BEFORE` / `TCX_AFTER`, with `TCX_ID` / `TCX_LINK` to say what
    /// `relative` is. No relative with BEFORE: first; with AFTER: last.
    pub flags: u32,
    /// The program or link fd or id the flags place this one against.
    pub relative: u32,
    /// Fail unless the attachment list is at this revision (0: any).
    pub expected_revision: u64,
}

/// Options of a netlink tc attach.
#[derive(Debug, Clone, Default)]
pub struct TcOptions {
    pub direction: TcDirection,
    /// Filter priority (0: the kernel picks one).
    pub priority: u16,
    /// Filter handle (0: the kernel picks one).
    pub handle: u32,
}

/// Attach `prog` to `ifindex` with a TCX link.
pub(crate) fn attach_tcx(prog: BorrowedFd<'_>, prog_name: &str, ifindex: u32, o: &TcxOptions) -> Result<Link> {
    let what = format!("program '{prog_name}': TCX {:?} on interface {ifindex}", o.direction);
    let v = running();
    if v != 0 && v < kernel_version(6, 6, 0) {
        return Err(Error::unsupported(format!("{what}: TCX needs Linux 6.6 (use bpfl_program_attach_tc, netlink, on older kernels)")));
    }
    let at = if o.direction == TcDirection::Ingress { BPF_TCX_INGRESS } else { BPF_TCX_EGRESS };
    let l = ordered_link(prog, ifindex, at, (o.flags, o.relative, o.expected_revision), &what, |e| match e.0 {
        libc::EINVAL | sys::ENOTSUPP if v == 0 => Some(Error::unsupported(format!("{what}: refused ({e}); TCX needs Linux 6.6"))),
        _ => None,
    })?;
    Ok(Link::net(LinkKind::Tcx, format!("tcx:{ifindex}"), Some(l), None))
}

/// A link on an interface's ordered multi-program hook (TCX, netkit):
/// `order` is (flags, relative, expected_revision); the flags are checked,
/// then BPF_LINK_CREATE, its errors worded as both hooks share them once
/// `special` (the hook's own wording) has passed on them.
pub(crate) fn ordered_link(
    prog: BorrowedFd<'_>,
    ifindex: u32,
    attach_type: u32,
    order: (u32, u32, u64),
    what: &str,
    special: impl Fn(Errno) -> Option<Error>,
) -> Result<OwnedFd> {
    let (flags, relative, expected_revision) = order;
    if flags & !(TCX_BEFORE | TCX_AFTER | TCX_ID | TCX_LINK) != 0 {
        return Err(Error::inval(format!("{what}: flags {flags:#x} are not TCX_BEFORE/AFTER/ID/LINK")));
    }
    sys::link_create_ifindex(prog, ifindex, attach_type, flags, relative, expected_revision).map_err(|e| {
        special(e).unwrap_or_else(|| match e.0 {
            libc::ENODEV => Error::not_found(format!("{what}: no such interface")),
            libc::ESTALE => Error::os(e.0, format!("{what}: the attachment list is not at revision {expected_revision}")),
            libc::ENOENT => Error::not_found(format!("{what}: the relative program or link {relative} is not attached there")),
            _ => e.error(format!("{what}: BPF_LINK_CREATE")),
        })
    })
}

fn parent(d: TcDirection) -> u32 {
    (TC_H_CLSACT & 0xffff_0000) | if d == TcDirection::Ingress { TC_H_MIN_INGRESS } else { TC_H_MIN_EGRESS }
}

fn nl(e: Errno, what: &str) -> Error {
    e.error(format!("{what}: netlink socket"))
}

/// Interfaces whose `clsact` qdisc this process added: whichever of our
/// filters goes last removes it (keyed by index in the namespace it was made in).
static OUR_QDISCS: parking_lot::Mutex<Vec<(u64, u32)>> = parking_lot::Mutex::new(Vec::new());

/// The caller's network namespace (its inode), to tell interfaces apart.
fn netns() -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/thread-self/ns/net").map_or(0, |m| m.ino())
}

/// Add the `clsact` qdisc; false if it was there already.
fn add_clsact(s: &mut NlSocket, ifindex: u32) -> std::result::Result<bool, NlError> {
    let mut b = Builder::new(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &msg::tcmsg(ifindex as i32, 0xffff_0000, TC_H_CLSACT, 0));
    b.str(TCA_KIND, "clsact");
    match s.request(b, false) {
        Ok(_) => Ok(true),
        Err(e) if e.errno.0 == libc::EEXIST => Ok(false),
        Err(e) => Err(e),
    }
}

/// Attach `prog` to `ifindex` as a direct-action `cls_bpf` filter.
pub(crate) fn attach_tc(prog: BorrowedFd<'_>, prog_name: &str, ifindex: u32, o: &TcOptions) -> Result<Link> {
    let what = format!("program '{prog_name}': tc {:?} filter on interface {ifindex}", o.direction);
    if ifindex == 0 {
        return Err(Error::inval(format!("{what}: interface index 0 is no interface")));
    }
    let id = sys::prog_id(prog).map_err(|e| e.error(format!("{what}: program id")))?;
    let mut s = NlSocket::open().map_err(|e| nl(e, &what))?;
    let added = add_clsact(&mut s, ifindex).map_err(|e| match e.errno.0 {
        libc::ENODEV => Error::not_found(format!("{what}: no such interface")),
        libc::ENOENT | libc::EOPNOTSUPP => e.error(format!("{what}: adding the clsact qdisc (is sch_ingress, CONFIG_NET_SCH_INGRESS, loaded?)")),
        _ => e.error(format!("{what}: adding the clsact qdisc")),
    })?;
    let ns = netns();
    if added {
        OUR_QDISCS.lock().push((ns, ifindex));
    }
    let info = ((o.priority as u32) << 16) | ETH_P_ALL.to_be() as u32;
    let mut b = Builder::new(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, &msg::tcmsg(ifindex as i32, o.handle, parent(o.direction), info));
    b.str(TCA_KIND, "bpf");
    let n = b.nest(TCA_OPTIONS);
    b.u32(TCA_BPF_FD, prog.as_raw_fd() as u32).str(TCA_BPF_NAME, prog_name).u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    b.end_nest(n);
    let replies = match s.request(b, false) {
        Ok(r) => r,
        Err(e) => {
            let mut guard = TcFilter { ifindex, parent: parent(o.direction), handle: 0, info: 0, prog_id: id, netns: ns };
            let _ = guard.remove_qdisc_if_ours(&mut s);
            return Err(match e.errno.0 {
                libc::EEXIST => e.error(format!("{what}: a filter with priority {} and handle {:#x} exists", o.priority, o.handle)),
                libc::ENOENT | libc::EOPNOTSUPP => e.error(format!("{what}: adding the filter (is cls_bpf, CONFIG_NET_CLS_BPF, loaded?)")),
                _ => e.error(format!("{what}: adding the filter")),
            });
        }
    };
    // The kernel echoes the filter it made: its handle and priority.
    let (handle, info) = replies
        .iter()
        .filter(|(t, _)| *t == RTM_NEWTFILTER)
        .find_map(|(_, p)| msg::parse_tcmsg(p).map(|(_, h, _, i)| (h, i)))
        .unwrap_or((o.handle, info));
    let guard = TcFilter { ifindex, parent: parent(o.direction), handle, info, prog_id: id, netns: ns };
    Ok(Link::net(LinkKind::TcNetlink, format!("tc:{ifindex}:{:?}", o.direction), None, Some(Box::new(guard))))
}

/// A filter we added; removed on detach with the qdisc if we made it.
#[derive(Debug)]
struct TcFilter {
    ifindex: u32,
    parent: u32,
    handle: u32,
    info: u32,
    prog_id: u32,
    netns: u64,
}

impl TcFilter {
    /// The filters under `parent` (ingress or egress): (handle, info, bpf program id).
    fn filters(&self, s: &mut NlSocket, parent: u32) -> std::result::Result<Vec<(u32, u32, u32)>, NlError> {
        let b = Builder::new(RTM_GETTFILTER, 0, &msg::tcmsg(self.ifindex as i32, 0, parent, 0));
        let r = s.request(b, true)?;
        Ok(r.iter()
            .filter(|(t, _)| *t == RTM_NEWTFILTER)
            .filter_map(|(_, p)| {
                let (_, h, _, i) = msg::parse_tcmsg(p)?;
                let a = msg::attrs(p.get(20..)?);
                let id = msg::find(&a, TCA_OPTIONS).and_then(|o| msg::find(&msg::attrs(o), TCA_BPF_ID)).and_then(msg::as_u32).unwrap_or(0);
                Some((h, i, id)).filter(|_| h != 0) // handle 0: the chain's head, not a filter
            })
            .collect())
    }

    fn remove_qdisc_if_ours(&mut self, s: &mut NlSocket) -> std::result::Result<(), NlError> {
        let key = (self.netns, self.ifindex);
        if !OUR_QDISCS.lock().contains(&key) {
            return Ok(());
        }
        let ingress = (TC_H_CLSACT & 0xffff_0000) | TC_H_MIN_INGRESS;
        let egress = (TC_H_CLSACT & 0xffff_0000) | TC_H_MIN_EGRESS;
        if !self.filters(s, ingress)?.is_empty() || !self.filters(s, egress)?.is_empty() {
            return Ok(()); // someone else's filters live on it now
        }
        let b = Builder::new(RTM_DELQDISC, 0, &msg::tcmsg(self.ifindex as i32, 0xffff_0000, TC_H_CLSACT, 0));
        match s.request(b, false) {
            Ok(_) => {}
            Err(e) if matches!(e.errno.0, libc::ENOENT | libc::EINVAL | libc::ENODEV) => {}
            Err(e) => return Err(e),
        }
        OUR_QDISCS.lock().retain(|k| *k != key);
        Ok(())
    }
}

impl Detach for TcFilter {
    fn detach(&mut self) -> Result<()> {
        let what = format!("removing tc filter {:#x} (priority {}) from interface {}", self.handle, self.info >> 16, self.ifindex);
        let mut s = NlSocket::open().map_err(|e| nl(e, &what))?;
        let gone = |e: &NlError| matches!(e.errno.0, libc::ENODEV | libc::ENOENT | libc::EINVAL);
        let list = match self.filters(&mut s, self.parent) {
            Ok(l) => l,
            Err(e) if gone(&e) => return Ok(()), // the interface or qdisc went away with our filter
            Err(e) => return Err(e.error(what)),
        };
        // Only the filter that still runs our program.
        if list.iter().any(|&(h, i, id)| h == self.handle && i >> 16 == self.info >> 16 && id == self.prog_id) {
            let mut b = Builder::new(RTM_DELTFILTER, 0, &msg::tcmsg(self.ifindex as i32, self.handle, self.parent, self.info));
            b.str(TCA_KIND, "bpf");
            match s.request(b, false) {
                Ok(_) => {}
                Err(e) if gone(&e) => {}
                Err(e) => return Err(e.error(what)),
            }
        }
        self.remove_qdisc_if_ours(&mut s).map_err(|e| e.error(format!("{what}: removing the clsact qdisc we added")))
    }
}
