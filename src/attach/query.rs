//! What is attached to an interface's multi-program hooks (TCX, netkit):
//! `BPF_PROG_QUERY` by interface index (Linux 6.6+), in order, with the
//! link ids and the list's revision (the `expected_revision` of an attach).

use crate::error::{Error, Result};
use crate::host::kver::{kernel_version, running};
use crate::obj::AttachType;
use crate::sys;

/// BPF_TCX_INGRESS, BPF_TCX_EGRESS, BPF_NETKIT_PRIMARY, BPF_NETKIT_PEER.
const IFINDEX_TYPES: [u32; 4] = [46, 47, 54, 55];

/// The programs attached to one hook of an interface, first to run first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfindexQuery {
    /// Program ids in run order.
    pub prog_ids: Vec<u32>,
    /// The id of the link that holds each program (0: attached without a link).
    pub link_ids: Vec<u32>,
    /// The attachment list's revision: it moves with every attach and detach
    /// (a hook with nothing attached starts again from 1).
    pub revision: u64,
}

/// The programs attached to interface `ifindex` of the caller's network
/// namespace as `attach_type` (`BPF_TCX_INGRESS`/`EGRESS`, Linux 6.6+;
/// `BPF_NETKIT_PRIMARY`/`PEER`, 6.7+), in order.
pub fn query_programs_ifindex(ifindex: u32, attach_type: u32) -> Result<IfindexQuery> {
    let what = || format!("query the programs attached to interface {ifindex} as {}", AttachType(attach_type));
    let fail = |e: sys::Errno| {
        let v = running();
        match e.0 {
            libc::ENODEV => Error::not_found(format!("{}: no such interface", what())),
            libc::EINVAL if v != 0 && v < kernel_version(6, 6, 0) => {
                Error::unsupported(format!("{}: querying by interface needs Linux 6.6+ (TCX; netkit 6.7+)", what()))
            }
            libc::EINVAL | libc::EOPNOTSUPP => Error::unsupported(format!("{}: refused (errno {e}); does the kernel have it (TCX 6.6+, netkit 6.7+)?", what())),
            _ => e.error(format!("{}: BPF_PROG_QUERY", what())),
        }
    };
    // For other attach types the kernel reads the same field as an fd:
    // an interface index must never be taken for one.
    if !IFINDEX_TYPES.contains(&attach_type) {
        return Err(Error::inval(format!("{}: only TCX and netkit hooks (BPF_TCX_INGRESS/EGRESS, BPF_NETKIT_PRIMARY/PEER) are queried by interface", what())));
    }
    if ifindex == 0 {
        return Err(Error::inval(format!("{}: interface index 0", what())));
    }
    // The list may grow between the count and the read: read until it fits.
    let (mut n, _) = sys::prog_query_ifindex(ifindex, attach_type, &mut [], &mut []).map_err(fail)?;
    loop {
        let room = n as usize + 8;
        let (mut p, mut l) = (vec![0u32; room], vec![0u32; room]);
        let (got, revision) = sys::prog_query_ifindex(ifindex, attach_type, &mut p, &mut l).map_err(fail)?;
        if got as usize <= room {
            p.truncate(got as usize);
            l.truncate(got as usize);
            return Ok(IfindexQuery { prog_ids: p, link_ids: l, revision });
        }
        n = got;
    }
}
