//! netkit (Linux 6.7+, `CONFIG_NETKIT`): a BPF link on the primary device
//! of a netkit pair, running the program for what the primary sends
//! (`BPF_NETKIT_PRIMARY`) or what its peer sends (`BPF_NETKIT_PEER`), with
//! the same before/after ordering as TCX. Both are attached through the
//! primary's index, in the namespace the primary lives in.

use super::tc::ordered_link;
use crate::error::{Error, Result};
use crate::host::kver::{kernel_version, running};
use crate::link::{Link, LinkKind};
use crate::obj::section::attach_type as at;
use crate::sys;
use std::os::fd::BorrowedFd;

/// Which device's traffic the program sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetkitSide {
    /// The program's section's (`netkit/primary`, `netkit/peer`); primary
    /// for any other section (`tc`).
    #[default]
    FromSection,
    /// What the primary device sends (`BPF_NETKIT_PRIMARY`).
    Primary,
    /// What the peer device sends (`BPF_NETKIT_PEER`), attached through the primary.
    Peer,
}

/// Options of a netkit attach.
#[derive(Debug, Clone, Default)]
pub struct NetkitOptions {
    pub side: NetkitSide,
    /// `TCX_BEFORE` / `TCX_AFTER`, with `TCX_ID` / `TCX_LINK` to say what
    /// `relative` is (the same flags as TCX).
    pub flags: u32,
    /// The program or link fd or id the flags place this one against.
    pub relative: u32,
    /// Fail unless the attachment list is at this revision (0: any).
    pub expected_revision: u64,
}

/// What the error says where netkit is missing.
pub const NETKIT_NEEDS: &str = "netkit needs Linux 6.7+ with CONFIG_NETKIT";

/// Whether the running kernel's config says it has no netkit (false when unknown).
fn config_lacks_netkit() -> bool {
    crate::host::kconfig::read_kernel_config().is_ok_and(|c| !c.lines().any(|l| l == "CONFIG_NETKIT=y" || l == "CONFIG_NETKIT=m"))
}

/// The attach type for `side`, given the program's expected attach type.
pub(crate) fn attach_type(side: NetkitSide, expected: u32) -> u32 {
    match side {
        NetkitSide::Primary => at::NETKIT_PRIMARY,
        NetkitSide::Peer => at::NETKIT_PEER,
        NetkitSide::FromSection if expected == at::NETKIT_PEER => at::NETKIT_PEER,
        NetkitSide::FromSection => at::NETKIT_PRIMARY,
    }
}

/// Attach `prog` to the netkit pair whose primary is `ifindex` with `attach_type`.
pub(crate) fn attach(prog: BorrowedFd<'_>, prog_name: &str, ifindex: u32, attach_type: u32, o: &NetkitOptions) -> Result<Link> {
    let side = if attach_type == at::NETKIT_PEER { "peer" } else { "primary" };
    let what = format!("program '{prog_name}': netkit {side} on interface {ifindex}");
    let v = running();
    if v != 0 && v < kernel_version(6, 7, 0) {
        return Err(Error::unsupported(format!("{what}: {NETKIT_NEEDS} (this is an older kernel)")));
    }
    if ifindex == 0 {
        return Err(Error::inval(format!("{what}: interface index 0 is no interface")));
    }
    let l = ordered_link(prog, ifindex, attach_type, (o.flags, o.relative, o.expected_revision), &what, |e| match e.0 {
        libc::ENXIO => Some(Error::inval(format!("{what}: the interface is not a netkit device"))),
        libc::EACCES => Some(Error::os(e.0, format!("{what}: the interface is a netkit peer; attach through its primary's index (the peer side with NetkitSide::Peer)"))),
        // A kernel built without netkit answers every netkit attach with EINVAL.
        libc::EINVAL | sys::ENOTSUPP if v == 0 || config_lacks_netkit() => {
            Some(Error::unsupported(format!("{what}: {NETKIT_NEEDS} (this kernel has no CONFIG_NETKIT)")))
        }
        _ => None,
    })?;
    Ok(Link::net(LinkKind::Netkit, format!("netkit-{side}:{ifindex}"), Some(l), None))
}
