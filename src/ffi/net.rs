//! Networking and test runs: `bpfl_program_test_run`, XDP, TCX and netlink
//! tc attaches (each a `bpfl_link` owned by the program's object), what an
//! interface has attached (XDP; TCX and netkit by `BPF_PROG_QUERY`), and
//! interface names.

use super::args::{bytes_arg, bytes_mut, out, read_opts, str_arg, write_info};
use super::errors::guard;
use super::handles;
use super::program::attach_with;
use super::types::{bpfl_link, bpfl_program};
use super::types_net::*;
use crate::attach::{NetkitOptions, NetkitSide, TcDirection, TcOptions, TcxOptions, XdpAttached, XdpMode, XdpOptions};
use crate::error::{Error, Result};
use crate::TestRunOptions;
use std::ffi::{c_char, c_int, c_void};

/// Run a loaded program on test input (`BPF_PROG_TEST_RUN`): the packet
/// and/or context of `opts` (may be NULL: no input) in, the return value,
/// mean duration and output sizes into `result`. A `data_out` too small for
/// the program's packet gives -ENOSPC and says how large it must be.
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_test_run_opts` with `sz` set whose
/// buffers are NULL or hold their sizes in bytes (the `_out` ones writable);
/// `result` is NULL or a writable `struct bpfl_test_run_result` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_test_run(prog: bpfl_program, opts: *const bpfl_test_run_opts, result: *mut bpfl_test_run_result) -> c_int {
    guard(|| {
        if result.is_null() {
            return Err(Error::inval("result is NULL: the program's return value comes back in it"));
        }
        // Refuse a bad result before the program runs, not after.
        if *(result as *const usize) < std::mem::size_of::<usize>() {
            return Err(Error::inval("bpfl_test_run_result.sz is too small: set it to sizeof(struct bpfl_test_run_result)"));
        }
        let null = std::ptr::null_mut();
        let none = bpfl_test_run_opts { sz: 0, data_in: null, data_size_in: 0, data_out: null, data_size_out: 0, ctx_in: null, ctx_size_in: 0, ctx_out: null, ctx_size_out: 0, repeat: 0, flags: 0, cpu: 0, batch_size: 0 };
        let o = read_opts(opts, none, "bpfl_test_run_opts")?;
        let input = |p: *const c_void, n: usize, what: &str| -> Result<&[u8]> { if p.is_null() && n == 0 { Ok(&[]) } else { bytes_arg(p, n, what) } };
        let output = |p: *mut c_void, n: usize, what: &str| -> Result<Option<&mut [u8]>> { if p.is_null() { Ok(None) } else { bytes_mut(p, n, what).map(Some) } };
        let t = TestRunOptions {
            data_in: input(o.data_in, o.data_size_in, "data_in")?,
            data_out: output(o.data_out, o.data_size_out, "data_out")?,
            ctx_in: input(o.ctx_in, o.ctx_size_in, "ctx_in")?,
            ctx_out: output(o.ctx_out, o.ctx_size_out, "ctx_out")?,
            repeat: o.repeat,
            flags: o.flags,
            cpu: o.cpu,
            batch_size: o.batch_size,
        };
        let (_, p) = handles::program(prog.id)?;
        let r = p.test_run(t)?;
        let v = bpfl_test_run_result { sz: 0, retval: r.retval, duration_ns: r.duration_ns, data_size_out: r.data_size_out, ctx_size_out: r.ctx_size_out };
        write_info(result, v, "bpfl_test_run_result")?;
        Ok(0)
    })
}

fn xdp_mode(m: u32) -> Result<XdpMode> {
    use bpfl_xdp_mode::*;
    [(BPFL_XDP_MODE_AUTO, XdpMode::Auto), (BPFL_XDP_MODE_GENERIC, XdpMode::Generic), (BPFL_XDP_MODE_NATIVE, XdpMode::Native), (BPFL_XDP_MODE_OFFLOAD, XdpMode::Offload)]
        .into_iter()
        .find(|&(c, _)| c as u32 == m)
        .map(|(_, v)| v)
        .ok_or_else(|| Error::inval(format!("bpfl_xdp_opts.mode {m} is not a bpfl_xdp_mode")))
}

fn direction(d: u32, what: &str) -> Result<TcDirection> {
    use bpfl_tc_direction::*;
    [(BPFL_TC_INGRESS, TcDirection::Ingress), (BPFL_TC_EGRESS, TcDirection::Egress)]
        .into_iter()
        .find(|&(c, _)| c as u32 == d)
        .map(|(_, v)| v)
        .ok_or_else(|| Error::inval(format!("{what}.direction {d} is not a bpfl_tc_direction")))
}

/// The C flag values are the Rust API's (and the kernel's).
const _: () = {
    assert!(bpfl_xdp_flags::BPFL_XDP_UPDATE_IF_NOEXIST as u32 == crate::attach::xdp::XDP_FLAGS_UPDATE_IF_NOEXIST);
    use crate::attach::tc::{TCX_AFTER, TCX_BEFORE, TCX_ID, TCX_LINK};
    assert!(bpfl_tcx_flags::BPFL_TCX_BEFORE as u32 == TCX_BEFORE && bpfl_tcx_flags::BPFL_TCX_AFTER as u32 == TCX_AFTER);
    assert!(bpfl_tcx_flags::BPFL_TCX_ID as u32 == TCX_ID && bpfl_tcx_flags::BPFL_TCX_LINK as u32 == TCX_LINK);
};

/// Attach an XDP program to interface `ifindex` (`opts` may be NULL): a BPF
/// link (Linux 5.9+), or netlink `IFLA_XDP` on older kernels, to replace a
/// program, or when `opts->netlink` asks. Destroying the link detaches it
/// (netlink: only if our program is still the one attached).
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_xdp_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_xdp(prog: bpfl_program, ifindex: u32, opts: *const bpfl_xdp_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_xdp_opts { sz: 0, mode: 0, flags: 0, replace_prog_fd: 0, netlink: false }, "bpfl_xdp_opts").and_then(|o| {
        Ok(XdpOptions { mode: xdp_mode(o.mode)?, flags: o.flags, replace_prog_fd: (o.replace_prog_fd > 0).then_some(o.replace_prog_fd), netlink: o.netlink })
    });
    attach_with(prog, out_link, |p| p.attach_xdp(ifindex, &o?))
}

/// What interface `ifindex` has attached (netlink `RTM_GETLINK`).
///
/// # Safety
/// `info` is NULL or a writable `struct bpfl_xdp_info` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_xdp_query(ifindex: u32, info: *mut bpfl_xdp_info) -> c_int {
    guard(|| {
        if info.is_null() {
            return Err(Error::inval("bpfl_xdp_info is NULL"));
        }
        let q = crate::attach::xdp::query(ifindex)?;
        use bpfl_xdp_attached::*;
        let attached = match q.attached {
            XdpAttached::None => BPFL_XDP_ATTACHED_NONE,
            XdpAttached::Native => BPFL_XDP_ATTACHED_NATIVE,
            XdpAttached::Generic => BPFL_XDP_ATTACHED_GENERIC,
            XdpAttached::Offload => BPFL_XDP_ATTACHED_OFFLOAD,
            XdpAttached::Multi => BPFL_XDP_ATTACHED_MULTI,
        } as u32;
        let v = bpfl_xdp_info { sz: 0, attached, prog_id: q.prog_id, drv_prog_id: q.drv_prog_id, skb_prog_id: q.skb_prog_id, hw_prog_id: q.hw_prog_id };
        write_info(info, v, "bpfl_xdp_info")?;
        Ok(0)
    })
}

/// The programs attached to interface `ifindex` as `attach_type`
/// (`BPF_TCX_INGRESS`/`EGRESS`, Linux 6.6+; `BPF_NETKIT_PRIMARY`/`PEER`,
/// 6.7+), first to run first (`BPF_PROG_QUERY` by interface): up to
/// `capacity` program ids into `prog_ids` and the id of the link holding
/// each into `link_ids` (0: no link; may be NULL); `*out_count` receives
/// how many there are, which may be more than `capacity`, and
/// `*out_revision` (may be NULL) the list's revision.
///
/// # Safety
/// `prog_ids` and `link_ids` are NULL or `capacity` writable `uint32_t`
/// (`prog_ids` NULL only when `capacity` is 0); `out_count` is writable;
/// `out_revision` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_query_programs_ifindex(
    ifindex: u32,
    attach_type: u32,
    prog_ids: *mut u32,
    link_ids: *mut u32,
    capacity: usize,
    out_count: *mut usize,
    out_revision: *mut u64,
) -> c_int {
    guard(|| {
        let o = out(out_count, "out_count")?;
        let bytes = capacity.checked_mul(4).ok_or_else(|| Error::inval("prog_ids: capacity is too large"))?;
        let (p, l) = match capacity {
            0 => (None, None),
            _ => (
                Some(bytes_mut(prog_ids as *mut c_void, bytes, "prog_ids")?),
                if link_ids.is_null() { None } else { Some(bytes_mut(link_ids as *mut c_void, bytes, "link_ids")?) },
            ),
        };
        let q = crate::attach::query_programs_ifindex(ifindex, attach_type)?;
        for (d, id) in p.into_iter().flat_map(|b| b.chunks_exact_mut(4)).zip(&q.prog_ids) {
            d.copy_from_slice(&id.to_ne_bytes());
        }
        for (d, id) in l.into_iter().flat_map(|b| b.chunks_exact_mut(4)).zip(&q.link_ids) {
            d.copy_from_slice(&id.to_ne_bytes());
        }
        *o = q.prog_ids.len();
        if !out_revision.is_null() {
            *out_revision = q.revision;
        }
        Ok(0)
    })
}

/// Attach a tc (sched_cls) program to interface `ifindex` with a TCX link
/// (Linux 6.6+; older kernels: -EOPNOTSUPP, use `bpfl_program_attach_tc`).
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_tcx_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_tcx(prog: bpfl_program, ifindex: u32, opts: *const bpfl_tcx_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_tcx_opts { sz: 0, direction: 0, flags: 0, relative: 0, expected_revision: 0 }, "bpfl_tcx_opts").and_then(|o| {
        Ok(TcxOptions { direction: direction(o.direction, "bpfl_tcx_opts")?, flags: o.flags, relative: o.relative, expected_revision: o.expected_revision })
    });
    attach_with(prog, out_link, |p| p.attach_tcx(ifindex, &o?))
}

/// Attach a tc (sched_cls) program to interface `ifindex` through netlink:
/// a `clsact` qdisc (added if missing) and a direct-action `cls_bpf`
/// filter. Destroying the link removes exactly that filter, and the qdisc
/// if bpfl added it and no filter is left on it.
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_tc_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_tc(prog: bpfl_program, ifindex: u32, opts: *const bpfl_tc_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_tc_opts { sz: 0, direction: 0, priority: 0, handle: 0 }, "bpfl_tc_opts")
        .and_then(|o| Ok(TcOptions { direction: direction(o.direction, "bpfl_tc_opts")?, priority: o.priority, handle: o.handle }));
    attach_with(prog, out_link, |p| p.attach_tc(ifindex, &o?))
}

/// Attach a tc (sched_cls) program to the netkit pair whose primary device
/// is `ifindex` (in the caller's namespace) with a netkit link (Linux 6.7+
/// with `CONFIG_NETKIT`; else -EOPNOTSUPP "netkit needs Linux 6.7+ with
/// CONFIG_NETKIT"): for what the primary sends, or with
/// `BPFL_NETKIT_PEER` what its peer sends; ordered like TCX.
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_netkit_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_netkit(prog: bpfl_program, ifindex: u32, opts: *const bpfl_netkit_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_netkit_opts { sz: 0, side: 0, flags: 0, relative: 0, expected_revision: 0 }, "bpfl_netkit_opts").and_then(|o| {
        use bpfl_netkit_side::*;
        let side = [(BPFL_NETKIT_FROM_SECTION, NetkitSide::FromSection), (BPFL_NETKIT_PRIMARY, NetkitSide::Primary), (BPFL_NETKIT_PEER, NetkitSide::Peer)]
            .into_iter()
            .find(|&(c, _)| c as u32 == o.side)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::inval(format!("bpfl_netkit_opts.side {} is not a bpfl_netkit_side", o.side)))?;
        Ok(NetkitOptions { side, flags: o.flags, relative: o.relative, expected_revision: o.expected_revision })
    });
    attach_with(prog, out_link, |p| p.attach_netkit(ifindex, &o?))
}

/// The index of network interface `name` in the caller's namespace
/// (-ENOENT if there is none).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out_ifindex` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_ifindex(name: *const c_char, out_ifindex: *mut u32) -> c_int {
    guard(|| {
        let o = out(out_ifindex, "out_ifindex")?;
        *o = crate::host::net::ifindex(str_arg(name, "name")?)?;
        Ok(0)
    })
}
