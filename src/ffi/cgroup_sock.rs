//! cgroup, socket, sockmap and network namespace attachments, the query of
//! what is attached, and the slots of prog arrays and maps of maps. The
//! options structs of these calls are declared here, next to their only
//! readers (they follow the `sz` rule of [`super::types`]).

use super::args::{bytes_arg, fd_arg, out, read_opts, str_arg};
use super::errors::{guard, missing};
use super::handles;
use super::program::attach_with;
use super::types::{bpfl_link, bpfl_map, bpfl_program};
use crate::attach::{AttachVia, CgroupOptions, SockmapOptions};
use crate::error::{Error, Result};
use std::ffi::{c_char, c_int, c_void};

/// How `bpfl_program_attach_cgroup` and `bpfl_program_attach_sockmap` attach.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_attach_via {
    /// A BPF link, else `BPF_PROG_ATTACH` where the kernel has no such link
    /// (cgroup links: Linux 5.7; sockmap links: 6.10); cgroups: `BPF_PROG_ATTACH`
    /// at once when `flags` are given.
    BPFL_VIA_AUTO = 0,
    /// Only a BPF link.
    BPFL_VIA_LINK = 1,
    /// Only `BPF_PROG_ATTACH` (the link detaches with `BPF_PROG_DETACH`).
    BPFL_VIA_PROG_ATTACH = 2,
}

/// Options of `bpfl_program_attach_cgroup` (may be NULL).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_cgroup_opts {
    /// `sizeof(struct bpfl_cgroup_opts)`.
    pub sz: usize,
    /// `enum bpf_attach_type`; 0: the program's expected attach type (its
    /// section's: `cgroup/connect4` is `BPF_CGROUP_INET4_CONNECT`). A
    /// `cgroup/skb` program has none: 0 is ingress, 1 egress.
    pub attach_type: u32,
    /// A `bpfl_attach_via`.
    pub via: u32,
    /// `BPF_PROG_ATTACH` flags: `BPF_F_ALLOW_OVERRIDE` (1), `BPF_F_ALLOW_MULTI`
    /// (2), `BPF_F_REPLACE` (4). 0 with `BPFL_VIA_AUTO`: `BPF_F_ALLOW_MULTI`
    /// where no link can be made; 0 with `BPFL_VIA_PROG_ATTACH`: the kernel's
    /// exclusive mode.
    pub flags: u32,
    /// With `BPF_F_REPLACE`: the fd of the program to replace.
    pub replace_prog_fd: c_int,
}

/// Options of `bpfl_program_attach_sockmap` (may be NULL).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_sockmap_opts {
    /// `sizeof(struct bpfl_sockmap_opts)`.
    pub sz: usize,
    /// `BPF_SK_MSG_VERDICT`, `BPF_SK_SKB_STREAM_PARSER`, `BPF_SK_SKB_STREAM_VERDICT`
    /// or `BPF_SK_SKB_VERDICT`; 0: the program's (its section's: `sk_msg`,
    /// `sk_skb/stream_parser`, `sk_skb/stream_verdict`, `sk_skb/verdict`).
    pub attach_type: u32,
    /// A `bpfl_attach_via`.
    pub via: u32,
}

/// Options of `bpfl_program_attach_socket` (may be NULL; none yet).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_socket_opts {
    /// `sizeof(struct bpfl_socket_opts)`.
    pub sz: usize,
}

/// Options of `bpfl_program_attach_netns` (may be NULL; none yet).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_netns_opts {
    /// `sizeof(struct bpfl_netns_opts)`.
    pub sz: usize,
}

/// Options of `bpfl_program_attach_netfilter` (may be NULL).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_netfilter_opts {
    /// `sizeof(struct bpfl_netfilter_opts)`.
    pub sz: usize,
    /// `BPF_F_NETFILTER_IP_DEFRAG` (1, Linux 6.6): the program sees reassembled packets.
    pub flags: u32,
}

fn via(v: u32, what: &str) -> Result<AttachVia> {
    use bpfl_attach_via::*;
    [(BPFL_VIA_AUTO, AttachVia::Auto), (BPFL_VIA_LINK, AttachVia::Link), (BPFL_VIA_PROG_ATTACH, AttachVia::ProgAttach)]
        .into_iter()
        .find(|&(c, _)| c as u32 == v)
        .map(|(_, m)| m)
        .ok_or_else(|| Error::inval(format!("{what}.via {v} is not a bpfl_attach_via")))
}

/// # Safety
/// `opts` is NULL or a `struct bpfl_cgroup_opts` with `sz` set; its
/// `replace_prog_fd`, with `BPF_F_REPLACE`, is open for the call.
unsafe fn cgroup_opts<'a>(opts: *const bpfl_cgroup_opts) -> Result<CgroupOptions<'a>> {
    let o = read_opts(opts, bpfl_cgroup_opts { sz: 0, attach_type: 0, via: 0, flags: 0, replace_prog_fd: -1 }, "bpfl_cgroup_opts")?;
    let replace = if o.flags & crate::attach::BPF_F_REPLACE != 0 { Some(fd_arg(o.replace_prog_fd, "bpfl_cgroup_opts.replace_prog_fd")?) } else { None };
    Ok(CgroupOptions { attach_type: (o.attach_type != 0).then_some(o.attach_type), via: via(o.via, "bpfl_cgroup_opts")?, flags: o.flags, replace })
}

/// Attach a cgroup program (`cgroup_skb/...`, `cgroup/...`, `sockops`) to the
/// cgroup v2 directory open as `cgroup_fd`: a BPF link, or `BPF_PROG_ATTACH`
/// (see `struct bpfl_cgroup_opts`). Destroying the link detaches it.
///
/// # Safety
/// `cgroup_fd` is open for the call; `opts` is NULL or a `struct
/// bpfl_cgroup_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_cgroup(prog: bpfl_program, cgroup_fd: c_int, opts: *const bpfl_cgroup_opts, out_link: *mut bpfl_link) -> c_int {
    let o = cgroup_opts(opts);
    let fd = fd_arg(cgroup_fd, "cgroup_fd");
    attach_with(prog, out_link, |p| p.attach_cgroup(fd?, &o?))
}

/// `bpfl_program_attach_cgroup` by path (`/sys/fs/cgroup/my.slice`).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; otherwise as `bpfl_program_attach_cgroup`.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_cgroup_path(prog: bpfl_program, path: *const c_char, opts: *const bpfl_cgroup_opts, out_link: *mut bpfl_link) -> c_int {
    let o = cgroup_opts(opts);
    let path = str_arg(path, "path");
    attach_with(prog, out_link, |p| p.attach_cgroup_path(path?, &o?))
}

/// Attach a socket filter (section `socket`: `SO_ATTACH_BPF`) or an
/// `sk_reuseport` program (`SO_ATTACH_REUSEPORT_EBPF`) to socket `sock_fd`.
/// Destroying the link detaches it while the same socket is behind `sock_fd`;
/// the link does not keep the socket open.
///
/// # Safety
/// `sock_fd` is open for the call; `opts` is NULL or a `struct
/// bpfl_socket_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_socket(prog: bpfl_program, sock_fd: c_int, opts: *const bpfl_socket_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_socket_opts { sz: 0 }, "bpfl_socket_opts");
    let fd = fd_arg(sock_fd, "sock_fd");
    attach_with(prog, out_link, |p| {
        o?;
        p.attach_socket(fd?)
    })
}

/// Attach an `sk_msg` or `sk_skb` program to a sockmap or sockhash `map`: a
/// BPF link (Linux 6.10+), else `BPF_PROG_ATTACH`. Attach before adding
/// sockets: a socket takes the map's programs when it is added.
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_sockmap_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_sockmap(prog: bpfl_program, map: bpfl_map, opts: *const bpfl_sockmap_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_sockmap_opts { sz: 0, attach_type: 0, via: 0 }, "bpfl_sockmap_opts")
        .and_then(|o| Ok(SockmapOptions { attach_type: (o.attach_type != 0).then_some(o.attach_type), via: via(o.via, "bpfl_sockmap_opts")? }));
    attach_with(prog, out_link, |p| {
        let o = o?;
        handles::with_map(map.id, |m| p.attach_sockmap(m, &o))
    })
}

/// Attach an `sk_lookup` or `flow_dissector` program to the network
/// namespace open as `netns_fd` (-1: the calling thread's, normally the process's) with a BPF link.
///
/// # Safety
/// `netns_fd` is -1 or open for the call; `opts` is NULL or a `struct
/// bpfl_netns_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_netns(prog: bpfl_program, netns_fd: c_int, opts: *const bpfl_netns_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_netns_opts { sz: 0 }, "bpfl_netns_opts");
    let fd = if netns_fd == -1 { None } else { Some(fd_arg(netns_fd, "netns_fd")) };
    attach_with(prog, out_link, |p| {
        o?;
        match fd {
            None => p.attach_netns_path(None),
            Some(fd) => p.attach_netns(fd?),
        }
    })
}

/// `bpfl_program_attach_netns` by path (`/run/netns/NAME`, `/proc/PID/ns/net`; NULL: the calling thread's).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; otherwise as `bpfl_program_attach_netns`.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_netns_path(prog: bpfl_program, path: *const c_char, opts: *const bpfl_netns_opts, out_link: *mut bpfl_link) -> c_int {
    let o = read_opts(opts, bpfl_netns_opts { sz: 0 }, "bpfl_netns_opts");
    let path = if path.is_null() { Ok(None) } else { str_arg(path, "path").map(Some) };
    attach_with(prog, out_link, |p| {
        o?;
        p.attach_netns_path(path?)
    })
}

/// Attach a netfilter program (section `netfilter`) at hook `hooknum`
/// (`NF_INET_PRE_ROUTING` 0 .. `NF_INET_POST_ROUTING` 4) of protocol family
/// `pf` (`NFPROTO_IPV4` 2, `NFPROTO_IPV6` 10) with `priority`, in the calling
/// thread's network namespace: a netfilter link (Linux 6.4+).
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_netfilter_opts` with `sz` set; `out_link` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_netfilter(
    prog: bpfl_program,
    pf: u32,
    hooknum: u32,
    priority: i32,
    opts: *const bpfl_netfilter_opts,
    out_link: *mut bpfl_link,
) -> c_int {
    let o = read_opts(opts, bpfl_netfilter_opts { sz: 0, flags: 0 }, "bpfl_netfilter_opts");
    attach_with(prog, out_link, |p| p.attach_netfilter(pf, hooknum, priority, &crate::attach::NetfilterOptions { flags: o?.flags }))
}

/// The ids of the programs attached to `target_fd` (a cgroup, a network
/// namespace, a sockmap on Linux 5.19+) as `attach_type` (`BPF_PROG_QUERY`):
/// up to `capacity` into `ids` (NULL when `capacity` is 0); `*out_count`
/// receives how many there are, which may be more than `capacity`.
///
/// # Safety
/// `target_fd` is open for the call; `ids` is NULL or `capacity` writable
/// `uint32_t`; `out_count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_query_programs(target_fd: c_int, attach_type: u32, ids: *mut u32, capacity: usize, out_count: *mut usize) -> c_int {
    guard(|| {
        let o = out(out_count, "out_count")?;
        let buf = match capacity {
            0 => None,
            c => Some(super::args::bytes_mut(ids as *mut c_void, c.checked_mul(4).ok_or_else(|| Error::inval("ids: capacity is too large"))?, "ids")?),
        };
        let fd = fd_arg(target_fd, "target_fd")?;
        let all = crate::attach::query_programs(fd, attach_type)?;
        for (d, id) in buf.into_iter().flat_map(|b| b.chunks_exact_mut(4)).zip(&all) {
            d.copy_from_slice(&id.to_ne_bytes());
        }
        *o = all.len();
        Ok(0)
    })
}

/// Put `prog` in slot `index` of the prog array `map`: a `bpf_tail_call`
/// to that index lands there from now on.
#[no_mangle]
pub extern "C" fn bpfl_map_set_prog(map: bpfl_map, index: u32, prog: bpfl_program) -> c_int {
    guard(|| {
        let (_, p) = handles::program(prog.id)?;
        handles::with_map(map.id, |m| m.set_prog(index, &p).map(|_| 0))
    })
}

/// Put map `inner` at `key` of the map of maps `map` (array or hash of maps).
///
/// # Safety
/// `key` is NULL or `key_size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_set_inner(map: bpfl_map, key: *const c_void, key_size: usize, inner: bpfl_map) -> c_int {
    guard(|| {
        let k = bytes_arg(key, key_size, "key")?;
        // Nested: the inner lookup takes the handle table's slow path.
        handles::with_map(inner.id, |i| handles::with_map(map.id, |m| m.set_inner(k, i).map(|_| 0)))
    })
}

/// Empty slot `index` of a prog array or array of maps; -ENOENT when it was empty.
#[no_mangle]
pub extern "C" fn bpfl_map_clear_slot(map: bpfl_map, index: u32) -> c_int {
    guard(|| handles::with_map(map.id, |m| if m.clear_slot(index)? { Ok(0) } else { missing(map.id, "the slot was empty") }))
}
