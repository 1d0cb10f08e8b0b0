//! XDP: a BPF link on an interface (Linux 5.9+), or netlink `IFLA_XDP`
//! where links are missing, when a program is to be replaced, or when asked;
//! and what an interface has attached (`RTM_GETLINK`).

use crate::error::{Error, Result};
use crate::host::kver::{kernel_version, running};
use crate::link::{Detach, Link, LinkKind};
use crate::sys::netlink::msg::{self, Builder};
use crate::sys::netlink::{NlError, NlSocket};
use crate::sys::{self, Errno};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const IFLA_XDP: u16 = 43;
const IFLA_XDP_FD: u16 = 1;
const IFLA_XDP_ATTACHED: u16 = 2;
const IFLA_XDP_FLAGS: u16 = 3;
const IFLA_XDP_PROG_ID: u16 = 4;
const IFLA_XDP_DRV_PROG_ID: u16 = 5;
const IFLA_XDP_SKB_PROG_ID: u16 = 6;
const IFLA_XDP_HW_PROG_ID: u16 = 7;
const IFLA_XDP_EXPECTED_FD: u16 = 8;
const BPF_XDP: u32 = 37;

/// `XDP_FLAGS_UPDATE_IF_NOEXIST`: fail if a program is attached (netlink).
pub const XDP_FLAGS_UPDATE_IF_NOEXIST: u32 = 1 << 0;
const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;
const XDP_FLAGS_HW_MODE: u32 = 1 << 3;
const XDP_FLAGS_REPLACE: u32 = 1 << 4;
const XDP_FLAGS_MODES: u32 = XDP_FLAGS_SKB_MODE | XDP_FLAGS_DRV_MODE | XDP_FLAGS_HW_MODE;

/// Where in the stack an XDP program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XdpMode {
    /// The driver's (native) hook where it has one, else generic.
    #[default]
    Auto,
    /// Generic (skb) mode: any interface, after the skb is built.
    Generic,
    /// Native (driver) mode.
    Native,
    /// Offloaded to the NIC.
    Offload,
}

impl XdpMode {
    fn flags(self) -> u32 {
        match self {
            XdpMode::Auto => 0,
            XdpMode::Generic => XDP_FLAGS_SKB_MODE,
            XdpMode::Native => XDP_FLAGS_DRV_MODE,
            XdpMode::Offload => XDP_FLAGS_HW_MODE,
        }
    }
}

/// Options of an XDP attach.
#[derive(Debug, Clone, Default)]
pub struct XdpOptions {
    pub mode: XdpMode,
    /// More `XDP_FLAGS_*` (netlink path: `XDP_FLAGS_UPDATE_IF_NOEXIST`).
    pub flags: u32,
    /// Replace this program (its fd), atomically, failing if another is
    /// attached: takes the netlink path (a BPF link is replaced by updating it).
    pub replace_prog_fd: Option<RawFd>,
    /// Use netlink even where BPF links exist.
    pub netlink: bool,
}

/// What `IFLA_XDP_ATTACHED` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XdpAttached {
    #[default]
    None,
    Native,
    Generic,
    Offload,
    /// Programs in more than one mode.
    Multi,
}

/// What an interface has attached (`bpfl_xdp_query`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XdpInfo {
    pub attached: XdpAttached,
    /// The program's id when one mode has one (0: none).
    pub prog_id: u32,
    pub drv_prog_id: u32,
    pub skb_prog_id: u32,
    pub hw_prog_id: u32,
}

fn nl(e: Errno, what: &str) -> Error {
    e.error(format!("{what}: netlink socket"))
}

/// Attach `prog` to interface `ifindex`.
pub(crate) fn attach(prog: BorrowedFd<'_>, prog_name: &str, ifindex: u32, o: &XdpOptions) -> Result<Link> {
    let what = format!("program '{prog_name}': XDP on interface {ifindex}");
    if ifindex == 0 {
        return Err(Error::inval(format!("{what}: interface index 0 is no interface")));
    }
    if o.flags & !XDP_FLAGS_UPDATE_IF_NOEXIST != 0 {
        return Err(Error::inval(format!("{what}: flags {:#x}: set the mode with the mode field; only XDP_FLAGS_UPDATE_IF_NOEXIST goes in flags", o.flags)));
    }
    let v = running();
    let links = v == 0 || v >= kernel_version(5, 9, 0);
    if !o.netlink && o.replace_prog_fd.is_none() && links {
        let l = sys::link_create_ifindex(prog, ifindex, BPF_XDP, o.mode.flags(), 0, 0).map_err(|e| match e.0 {
            // The kernel says EINVAL for a missing interface too: ask.
            libc::EINVAL if query(ifindex).is_err_and(|q| q.kind() == crate::ErrorKind::NotFound) => Error::not_found(format!("{what}: no such interface")),
            libc::EBUSY | libc::EEXIST => Error::os(e.0, format!("{what}: another XDP program is attached in this mode (query it with bpfl_xdp_query)")),
            libc::ENODEV => Error::not_found(format!("{what}: no such interface")),
            libc::EOPNOTSUPP if o.mode == XdpMode::Native => Error::unsupported(format!("{what}: the driver has no native XDP; use generic mode")),
            _ => e.error(format!("{what}: BPF_LINK_CREATE")),
        })?;
        return Ok(Link::net(LinkKind::Xdp, format!("xdp:{ifindex}"), Some(l), None));
    }
    let mut flags = o.mode.flags() | o.flags;
    if o.replace_prog_fd.is_some() {
        flags |= XDP_FLAGS_REPLACE;
    }
    let mut s = NlSocket::open().map_err(|e| nl(e, &what))?;
    set(&mut s, ifindex, prog.as_raw_fd(), flags, o.replace_prog_fd).map_err(|e| match e.errno.0 {
        libc::ENODEV => Error::not_found(format!("{what}: no such interface")),
        libc::EEXIST | libc::EBUSY => e.error(format!("{what}: another XDP program is attached")),
        _ => e.error(format!("{what}: netlink IFLA_XDP")),
    })?;
    let fd = sys::dup_fd(prog).map_err(|e| e.error(format!("{what}: dup")))?;
    let guard = NetlinkXdp { ifindex, prog: fd, mode_flags: flags & XDP_FLAGS_MODES };
    Ok(Link::net(LinkKind::XdpNetlink, format!("xdp:{ifindex}"), None, Some(Box::new(guard))))
}

/// `RTM_SETLINK` with `IFLA_XDP { FD, FLAGS, EXPECTED_FD }`.
fn set(s: &mut NlSocket, ifindex: u32, fd: RawFd, flags: u32, expected: Option<RawFd>) -> std::result::Result<(), NlError> {
    let mut b = Builder::new(RTM_SETLINK, 0, &msg::ifinfomsg(ifindex as i32));
    let n = b.nest(IFLA_XDP);
    b.i32(IFLA_XDP_FD, fd);
    if flags != 0 {
        b.u32(IFLA_XDP_FLAGS, flags);
    }
    if let Some(e) = expected {
        b.i32(IFLA_XDP_EXPECTED_FD, e);
    }
    b.end_nest(n);
    s.request(b, false).map(drop)
}

/// A program attached by netlink: removed on detach, only if it is still ours.
#[derive(Debug)]
struct NetlinkXdp {
    ifindex: u32,
    prog: OwnedFd,
    mode_flags: u32,
}

impl Detach for NetlinkXdp {
    fn detach(&mut self) -> Result<()> {
        let what = format!("detaching XDP from interface {}", self.ifindex);
        let mut s = NlSocket::open().map_err(|e| nl(e, &what))?;
        let ours = self.prog.as_fd().as_raw_fd();
        match set(&mut s, self.ifindex, -1, self.mode_flags | XDP_FLAGS_REPLACE, Some(ours)) {
            Ok(()) => Ok(()),
            // Gone with its interface, or replaced by someone else: nothing of ours left.
            Err(e) if matches!(e.errno.0, libc::ENODEV | libc::EEXIST | libc::EBUSY) => Ok(()),
            // Before 5.7 there is no REPLACE: remove it if the attached program is ours.
            Err(e) if e.errno.0 == libc::EINVAL => {
                let id = sys::prog_id(self.prog.as_fd()).map_err(|e| e.error(format!("{what}: program id")))?;
                let q = query_with(&mut s, self.ifindex)?;
                if [q.prog_id, q.drv_prog_id, q.skb_prog_id, q.hw_prog_id].contains(&id) {
                    set(&mut s, self.ifindex, -1, self.mode_flags, None).map_err(|e| e.error(&what))?;
                }
                Ok(())
            }
            Err(e) => Err(e.error(what)),
        }
    }
}

/// What interface `ifindex` has attached.
pub fn query(ifindex: u32) -> Result<XdpInfo> {
    let what = format!("XDP query of interface {ifindex}");
    let mut s = NlSocket::open().map_err(|e| nl(e, &what))?;
    query_with(&mut s, ifindex)
}

fn query_with(s: &mut NlSocket, ifindex: u32) -> Result<XdpInfo> {
    let what = format!("XDP query of interface {ifindex}");
    let b = Builder::new(RTM_GETLINK, 0, &msg::ifinfomsg(ifindex as i32));
    let replies = s.request(b, false).map_err(|e| match e.errno.0 {
        libc::ENODEV => Error::not_found(format!("{what}: no such interface")),
        _ => e.error(format!("{what}: RTM_GETLINK")),
    })?;
    let (_, p) = replies.iter().find(|(t, _)| *t == RTM_NEWLINK).ok_or_else(|| Error::os(libc::EBADMSG, format!("{what}: no RTM_NEWLINK reply")))?;
    Ok(parse_link_xdp(p.get(16..).unwrap_or(&[])))
}

/// The `IFLA_XDP` part of an `RTM_NEWLINK`'s attributes.
fn parse_link_xdp(attrs: &[u8]) -> XdpInfo {
    let top = msg::attrs(attrs);
    let Some(x) = msg::find(&top, IFLA_XDP) else { return XdpInfo::default() };
    let a = msg::attrs(x);
    let id = |t| msg::find(&a, t).and_then(msg::as_u32).unwrap_or(0);
    let attached = match msg::find(&a, IFLA_XDP_ATTACHED).and_then(|d| d.first().copied()) {
        Some(1) => XdpAttached::Native,
        Some(2) => XdpAttached::Generic,
        Some(3) => XdpAttached::Offload,
        Some(4) => XdpAttached::Multi,
        _ => XdpAttached::None,
    };
    let mut i = XdpInfo { attached, prog_id: id(IFLA_XDP_PROG_ID), drv_prog_id: id(IFLA_XDP_DRV_PROG_ID), skb_prog_id: id(IFLA_XDP_SKB_PROG_ID), hw_prog_id: id(IFLA_XDP_HW_PROG_ID) };
    // A single mode reports only PROG_ID: say which mode's it is.
    match attached {
        XdpAttached::Native if i.drv_prog_id == 0 => i.drv_prog_id = i.prog_id,
        XdpAttached::Generic if i.skb_prog_id == 0 => i.skb_prog_id = i.prog_id,
        XdpAttached::Offload if i.hw_prog_id == 0 => i.hw_prog_id = i.prog_id,
        _ => {}
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_xdp_attributes_of_a_link_reply() {
        let mut b = Builder::new(RTM_NEWLINK, 0, &[]);
        b.str(3, "veth0");
        let n = b.nest(IFLA_XDP);
        b.attr(IFLA_XDP_ATTACHED, &[2]).u32(IFLA_XDP_PROG_ID, 77);
        b.end_nest(n);
        let m = b.finish(1);
        let i = parse_link_xdp(&m[16..]);
        assert_eq!(i, XdpInfo { attached: XdpAttached::Generic, prog_id: 77, skb_prog_id: 77, ..Default::default() });
        assert_eq!(parse_link_xdp(&[]), XdpInfo::default());
    }
}
