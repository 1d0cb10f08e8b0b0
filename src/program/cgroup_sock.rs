//! The attach calls of cgroup and socket programs, and their automatic attach.

use super::Program;
use crate::attach::{self, CgroupOptions, NetfilterOptions, SockmapOptions};
use crate::error::{Error, Result};
use crate::link::Link;
use crate::map::Map;
use crate::obj::section::{attach_type as at, prog_type as pt};
use std::os::fd::{AsFd, BorrowedFd};

/// Program types a cgroup takes.
const CGROUP_TYPES: &[u32] = &[pt::CGROUP_SKB, pt::CGROUP_SOCK, pt::CGROUP_SOCK_ADDR, pt::SOCK_OPS, pt::CGROUP_DEVICE, pt::CGROUP_SYSCTL, pt::CGROUP_SOCKOPT];

impl Program {
    /// Attach to the cgroup v2 directory open as `cgroup`: a BPF link, or
    /// `BPF_PROG_ATTACH` (see [`CgroupOptions`]). The attach type is the
    /// program's section's (`cgroup/connect4`, `cgroup_skb/egress`, ...)
    /// unless `opts.attach_type` says otherwise.
    pub fn attach_cgroup(&self, cgroup: BorrowedFd<'_>, opts: &CgroupOptions<'_>) -> Result<Link> {
        self.attach_cgroup_as(cgroup, &format!("fd {}", std::os::fd::AsRawFd::as_raw_fd(&cgroup)), opts)
    }

    /// [`Program::attach_cgroup`] by path (`/sys/fs/cgroup/my.slice`).
    pub fn attach_cgroup_path(&self, path: &str, opts: &CgroupOptions<'_>) -> Result<Link> {
        self.attach_as(CGROUP_TYPES, "cgroup program", |_| Ok(()))?;
        let fd = attach::cgroup::open_cgroup(path).map_err(|e| e.context(format!("program '{}'", self.name)))?;
        self.attach_cgroup_as(fd.as_fd(), path, opts)
    }

    fn attach_cgroup_as(&self, cgroup: BorrowedFd<'_>, target: &str, opts: &CgroupOptions<'_>) -> Result<Link> {
        let t = opts.attach_type.unwrap_or(self.expected_attach_type());
        self.attach_as(CGROUP_TYPES, "cgroup program", |fd| attach::cgroup::cgroup(fd, &self.name, t, cgroup, target, opts))
    }

    /// Attach a socket filter (section `socket`, `SO_ATTACH_BPF`) or an
    /// `sk_reuseport` program (`SO_ATTACH_REUSEPORT_EBPF`) to socket `sock`.
    /// The link detaches it (`SO_DETACH_BPF`, `SO_DETACH_REUSEPORT_BPF`)
    /// while the same socket is behind that fd; it does not keep the socket open.
    pub fn attach_socket(&self, sock: BorrowedFd<'_>) -> Result<Link> {
        let reuseport = self.prog_type() == pt::SK_REUSEPORT;
        self.attach_as(&[pt::SOCKET_FILTER, pt::SK_REUSEPORT], "socket program", |fd| attach::socket::socket(fd, &self.name, sock, reuseport))
    }

    /// Attach an `sk_msg` or `sk_skb` program to a sockmap or sockhash.
    pub fn attach_sockmap(&self, map: &Map, opts: &SockmapOptions) -> Result<Link> {
        use crate::obj::map_type as mt;
        if ![mt::SOCKMAP, mt::SOCKHASH].contains(&map.map_type()) {
            return Err(Error::inval(format!(
                "program '{}': map '{}' is a {}, not a BPF_MAP_TYPE_SOCKMAP or BPF_MAP_TYPE_SOCKHASH",
                self.name,
                map.name(),
                crate::obj::MapType(map.map_type())
            )));
        }
        let t = opts.attach_type.unwrap_or(self.expected_attach_type());
        if ![at::SK_MSG_VERDICT, at::SK_SKB_STREAM_PARSER, at::SK_SKB_STREAM_VERDICT, at::SK_SKB_VERDICT].contains(&t) {
            return Err(Error::inval(format!(
                "program '{}' (section '{}'): attach type {} is not a sockmap one: name it in the options (BPF_SK_SKB_STREAM_VERDICT, ...)",
                self.name,
                self.section,
                crate::obj::AttachType(t)
            )));
        }
        self.attach_as(&[pt::SK_MSG, pt::SK_SKB], "sockmap program", |fd| attach::socket::sockmap(fd, &self.name, map.dup_fd()?, map.name(), t, opts))
    }

    /// Attach an `sk_lookup` or `flow_dissector` program to the network
    /// namespace open as `netns` (a BPF link).
    pub fn attach_netns(&self, netns: BorrowedFd<'_>) -> Result<Link> {
        self.attach_netns_as(netns, &format!("fd {}", std::os::fd::AsRawFd::as_raw_fd(&netns)))
    }

    /// [`Program::attach_netns`] by path (`/run/netns/NAME`, `/proc/PID/ns/net`;
    /// None: the calling thread's, `/proc/thread-self/ns/net`, normally the process's).
    pub fn attach_netns_path(&self, path: Option<&str>) -> Result<Link> {
        self.attach_as(&[pt::SK_LOOKUP, pt::FLOW_DISSECTOR], "network namespace program", |_| Ok(()))?;
        let path = path.unwrap_or(attach::socket::CURRENT_NETNS);
        let fd = attach::socket::open_netns(path).map_err(|e| e.context(format!("program '{}'", self.name)))?;
        self.attach_netns_as(fd.as_fd(), path)
    }

    fn attach_netns_as(&self, netns: BorrowedFd<'_>, target: &str) -> Result<Link> {
        let t = if self.prog_type() == pt::SK_LOOKUP { at::SK_LOOKUP } else { at::FLOW_DISSECTOR };
        self.attach_as(&[pt::SK_LOOKUP, pt::FLOW_DISSECTOR], "network namespace program", |fd| attach::socket::netns(fd, &self.name, t, netns, target))
    }

    /// Attach a netfilter program (section `netfilter`) at hook `hooknum`
    /// (`NF_INET_PRE_ROUTING` 0 .. `NF_INET_POST_ROUTING` 4) of family `pf`
    /// (`NFPROTO_IPV4` 2, `NFPROTO_IPV6` 10) with `priority`, in the calling
    /// thread's network namespace (a netfilter link, Linux 6.4+).
    pub fn attach_netfilter(&self, pf: u32, hooknum: u32, priority: i32, opts: &NetfilterOptions) -> Result<Link> {
        self.attach_as(&[pt::NETFILTER], "netfilter program", |fd| attach::socket::netfilter(fd, &self.name, pf, hooknum, priority, opts))
    }

    /// Automatic attach of the types this file knows: `sk_lookup` and
    /// `flow_dissector` attach to the calling thread's network namespace; None for
    /// the others (a cgroup, socket or map is the caller's to name).
    pub(super) fn auto_attach_net(&self) -> Option<Result<Link>> {
        self.auto_attach_net_kind().then(|| self.attach_netns_path(None))
    }

    /// Whether [`Program::auto_attach_net`] attaches this program.
    pub(super) fn auto_attach_net_kind(&self) -> bool {
        [pt::SK_LOOKUP, pt::FLOW_DISSECTOR].contains(&self.prog_type())
    }

    /// What the automatic attach error says for the types this file knows.
    pub(super) fn no_auto_attach_reason(&self) -> Option<&'static str> {
        match self.prog_type() {
            t if CGROUP_TYPES.contains(&t) => Some("a cgroup program needs a cgroup: use attach_cgroup"),
            pt::SOCKET_FILTER | pt::SK_REUSEPORT => Some("a socket program needs a socket: use attach_socket"),
            pt::SK_MSG | pt::SK_SKB => Some("a sockmap program needs a sockmap: use attach_sockmap"),
            pt::NETFILTER => Some("a netfilter program needs a family, hook and priority: use attach_netfilter"),
            _ => None,
        }
    }
}

/// The first kernel with each networking program type or attach type bpfl
/// attaches (`(type, major, minor)`): a refused load on an older kernel says so.
const PROG_TYPES_SINCE: &[(u32, u32, u32)] = &[
    (pt::SK_MSG, 4, 17),
    (pt::CGROUP_SOCK_ADDR, 4, 17),
    (pt::SK_REUSEPORT, 4, 19),
    (pt::FLOW_DISSECTOR, 4, 20),
    (pt::CGROUP_SYSCTL, 5, 2),
    (pt::CGROUP_SOCKOPT, 5, 3),
    (pt::SK_LOOKUP, 5, 9),
    (pt::NETFILTER, 6, 4),
];
const ATTACH_TYPES_SINCE: &[(u32, u32, u32)] = &[
    (at::CGROUP_INET4_GETPEERNAME, 5, 8),
    (at::CGROUP_INET6_GETPEERNAME, 5, 8),
    (at::CGROUP_INET4_GETSOCKNAME, 5, 8),
    (at::CGROUP_INET6_GETSOCKNAME, 5, 8),
    (at::CGROUP_INET_SOCK_RELEASE, 5, 9),
    (at::SK_SKB_VERDICT, 5, 13),
    (at::SK_REUSEPORT_SELECT_OR_MIGRATE, 5, 14),
    (at::CGROUP_UNIX_CONNECT, 6, 7),
    (at::CGROUP_UNIX_SENDMSG, 6, 7),
    (at::CGROUP_UNIX_RECVMSG, 6, 7),
    (at::CGROUP_UNIX_GETPEERNAME, 6, 7),
    (at::CGROUP_UNIX_GETSOCKNAME, 6, 7),
];

/// A load refused with `EINVAL` by a kernel older than the program type (or
/// expected attach type) gets a note naming the kernel that brought it.
pub(super) fn explain_too_new(prog_type: u32, attach_type: u32, e: Error) -> Error {
    use crate::host::kver::{kernel_version, running};
    if e.errno() != libc::EINVAL || e.verifier_log().is_some_and(|l| !l.is_empty()) {
        return e;
    }
    let now = running();
    let find = |table: &[(u32, u32, u32)], t: u32| table.iter().find(|x| x.0 == t).filter(|x| now != 0 && now < kernel_version(x.1, x.2, 0)).copied();
    if let Some((_, a, b)) = find(PROG_TYPES_SINCE, prog_type) {
        return e.note(format!("{} programs need Linux {a}.{b}+", crate::obj::ProgramType(prog_type)));
    }
    if let Some((_, a, b)) = find(ATTACH_TYPES_SINCE, attach_type) {
        return e.note(format!("attach type {} needs Linux {a}.{b}+", crate::obj::AttachType(attach_type)));
    }
    e
}
