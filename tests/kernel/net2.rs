//! Networking, second part: netkit links on a netkit pair across a network
//! namespace (Linux 6.7+ with CONFIG_NETKIT: the 6.12 VM; this host's
//! kernel has none and the test says so), an `sk_reuseport` program
//! steering datagrams among SO_REUSEPORT sockets, and a flow dissector
//! whose run is checked by its counts and the flow keys it returns.

use super::{loaded, u64_at};
use bpfl::attach::{NetkitOptions, NetkitSide};
use bpfl::link::LinkKind;
use bpfl::{ErrorKind, TestRunOptions};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd};
use std::process::Command;
use std::time::Duration;

pub(super) fn sh(args: &[&str]) -> (bool, String) {
    match Command::new(args[0]).args(&args[1..]).output() {
        Ok(o) => (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))),
        Err(e) => (false, format!("{}: {e}", args[0])),
    }
}

pub(super) fn run(args: &[&str]) -> String {
    let (ok, out) = sh(args);
    assert!(ok, "{}: {out}", args.join(" "));
    out
}

/// Datagrams waiting on `r`, with their first bytes (the last get a moment to arrive).
fn drain(r: &UdpSocket) -> Vec<u8> {
    r.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 64];
    while let Ok(n) = r.recv(&mut b) {
        assert!(n > 0);
        got.push(b[0]);
    }
    got
}

fn send(to: SocketAddrV4, n: usize) {
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    for i in 0..n {
        s.send_to(&(i as u32).to_le_bytes(), to).unwrap();
    }
}

/// Run `f` on a thread that entered network namespace `/run/netns/<ns>`.
pub(super) fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).unwrap();
        assert_eq!(unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) }, 0, "setns {path}");
        f()
    })
    .join()
    .unwrap()
}

// ---- netkit ----------------------------------------------------------------------

/// A netkit pair (L3 mode, iproute2's default): the primary in the root
/// namespace (10.X.Y.1), the peer in namespace `ns` (.2). Removed on drop.
struct Netkit {
    ns: String,
    primary: String,
    host_ip: Ipv4Addr,
    peer_ip: Ipv4Addr,
}

impl Netkit {
    fn new() -> Result<Netkit, String> {
        let id = std::process::id();
        let (a, b) = (150 + (id % 50) as u8, (id / 50 % 250) as u8);
        let n = Netkit { ns: format!("bpflnk{id}"), primary: format!("nkp{id}"), host_ip: Ipv4Addr::new(10, a, b, 1), peer_ip: Ipv4Addr::new(10, a, b, 2) };
        let (ok, out) = sh(&["ip", "netns", "add", &n.ns]);
        if !ok {
            return Err(format!("ip netns add: {out}"));
        }
        // iproute2 before 6.7 cannot name the peer ("peer" is unknown to it)
        // but makes the pair: the kernel names the peer nk<N>, shown as nk<N>@<primary>.
        let (ok, out) = sh(&["ip", "link", "add", &n.primary, "type", "netkit"]);
        if !ok {
            return Err(format!("ip link add type netkit: {out}"));
        }
        let list = run(&["ip", "-o", "link", "show"]);
        let tag = format!("@{}:", n.primary);
        let peer = list
            .lines()
            .find_map(|l| l.split(": ").nth(1).filter(|f| f.ends_with(&tag[..tag.len() - 1])).map(|f| f.split('@').next().unwrap().to_string()))
            .ok_or_else(|| format!("no peer of {} in: {list}", n.primary))?;
        run(&["ip", "link", "set", &peer, "netns", &n.ns]);
        run(&["ip", "addr", "add", &format!("{}/24", n.host_ip), "dev", &n.primary]);
        run(&["ip", "link", "set", &n.primary, "up"]);
        run(&["ip", "-n", &n.ns, "addr", "add", &format!("{}/24", n.peer_ip), "dev", &peer]);
        run(&["ip", "-n", &n.ns, "link", "set", &peer, "up"]);
        run(&["ip", "-n", &n.ns, "link", "set", "lo", "up"]);
        Ok(n)
    }
}

impl Drop for Netkit {
    fn drop(&mut self) {
        let _ = sh(&["ip", "link", "del", &self.primary]);
        let _ = sh(&["ip", "netns", "del", &self.ns]);
    }
}

/// Counts and drops datagrams with netkit programs on both sides of a pair,
/// orders two on the primary, and checks each link detaches on drop.
pub fn netkit_primary_and_peer_count_drop_and_detach() {
    let o = loaded("netkit.o");
    let (drop_p, next_p, peer_p) = (o.program("nk_primary_drop").unwrap(), o.program("nk_primary_next").unwrap(), o.program("nk_peer_drop").unwrap());
    // No interface in the section: auto-attach names the call.
    let e = drop_p.attach().unwrap_err();
    assert!(e.to_string().contains("attach_netkit"), "{e}");
    // Whether this kernel has netkit: lo is no netkit device either way.
    let e = drop_p.attach_netkit(1, &NetkitOptions::default()).unwrap_err();
    if e.kind() == ErrorKind::Unsupported {
        assert!(e.to_string().contains("netkit needs Linux 6.7+ with CONFIG_NETKIT"), "{e}");
        super::harness::skip(format!("netkit needs Linux 6.7+ with CONFIG_NETKIT, which this kernel lacks (tested in the 6.12 VM): {e}"));
    }
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("not a netkit device"), "{e}");
    let e = drop_p.attach_netkit(999_999, &NetkitOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = drop_p.attach_netkit(1, &NetkitOptions { flags: 1, ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("flags 0x1"), "{e}");

    let n = match Netkit::new() {
        Ok(n) => n,
        Err(e) => panic!("netkit is in this kernel but the test cannot make a pair: {e}"),
    };
    let idx = bpfl::host::net::ifindex(&n.primary).unwrap();
    let port = 30000 + (std::process::id() % 20000) as u16;
    o.map("nk_cfg").unwrap().update(&0u32.to_le_bytes(), &(port as u32).to_le_bytes(), 0).unwrap();
    let count = |k: u32| u64_at(o.map("nk_counts").unwrap(), &k.to_le_bytes()).unwrap();
    let peer_ip = n.peer_ip;
    let rx_ns = in_ns(&n.ns, move || UdpSocket::bind(SocketAddrV4::new(peer_ip, port)).unwrap());
    let to_peer = SocketAddrV4::new(n.peer_ip, port);

    // Primary: what the primary sends is counted and dropped.
    let l1 = drop_p.attach_netkit(idx, &NetkitOptions::default()).unwrap();
    assert_eq!(l1.kind(), &LinkKind::Netkit);
    let i = l1.info().unwrap();
    assert_eq!((i.link_type, i.ifindex, i.attach_type), (13, idx, 54), "a netkit link (BPF_LINK_TYPE_NETKIT) on the primary, BPF_NETKIT_PRIMARY: {i:?}");
    send(to_peer, 20);
    assert_eq!(drain(&rx_ns).len(), 0, "the primary's program dropped every datagram");
    assert_eq!(count(0), 20, "exactly the datagrams sent");
    // Ordering: a program placed before the first (by link fd) runs first and
    // hands on (NETKIT_NEXT): both count every datagram.
    let before = NetkitOptions { flags: bpfl::attach::tc::TCX_BEFORE | bpfl::attach::tc::TCX_LINK, relative: l1.fd() as u32, ..Default::default() };
    let l2 = next_p.attach_netkit(idx, &before).unwrap();
    let e = next_p.attach_netkit(idx, &NetkitOptions { flags: bpfl::attach::tc::TCX_AFTER, relative: peer_p.fd().unwrap() as u32, ..Default::default() });
    assert!(e.is_err(), "placed after a program not attached there");
    // The query by interface lists them in run order, with their links.
    let q = bpfl::attach::query_programs_ifindex(idx, 54).unwrap();
    let (i2, i1) = (l2.info().unwrap(), l1.info().unwrap());
    assert_eq!((q.prog_ids, q.link_ids), (vec![i2.prog_id, i1.prog_id], vec![i2.id, i1.id]), "netkit primary, in order");
    assert!(bpfl::attach::query_programs_ifindex(idx, 55).unwrap().prog_ids.is_empty(), "nothing on the peer side yet");
    send(to_peer, 10);
    assert_eq!(drain(&rx_ns).len(), 0);
    assert_eq!((count(1), count(0)), (10, 30), "both ran, in order");
    drop(l1);
    send(to_peer, 5);
    assert_eq!(drain(&rx_ns).len(), 5, "with the dropping program detached every datagram arrives");
    assert_eq!((count(1), count(0)), (15, 30));
    drop(l2);
    send(to_peer, 3);
    assert_eq!(drain(&rx_ns).len(), 3);
    assert_eq!((count(1), count(0)), (15, 30), "detached: counts no more");
    assert!(bpfl::attach::query_programs_ifindex(idx, 54).unwrap().prog_ids.is_empty(), "the query shows none");

    // Peer: attached through the primary's index, it sees what the peer sends.
    let rx_host = UdpSocket::bind(SocketAddrV4::new(n.host_ip, port)).unwrap();
    let to_host = SocketAddrV4::new(n.host_ip, port);
    let l3 = peer_p.attach_netkit(idx, &NetkitOptions::default()).unwrap();
    assert_eq!(l3.info().unwrap().attach_type, 55, "BPF_NETKIT_PEER, from the section");
    in_ns(&n.ns, move || send(to_host, 12));
    assert_eq!(drain(&rx_host).len(), 0, "the peer's program dropped every datagram");
    assert_eq!(count(2), 12);
    // A section's side can be overridden: the drop program on the peer side too.
    let l4 = drop_p.attach_netkit(idx, &NetkitOptions { side: NetkitSide::Peer, ..Default::default() }).unwrap();
    drop(l3);
    in_ns(&n.ns, move || send(to_host, 4));
    assert_eq!(drain(&rx_host).len(), 0);
    assert_eq!((count(2), count(0)), (12, 34), "the primary-section program ran on the peer side");
    drop(l4);
    in_ns(&n.ns, move || send(to_host, 6));
    assert_eq!(drain(&rx_host).len(), 6, "all detached: every datagram arrives");
    assert_eq!((count(2), count(0)), (12, 34));
}

// ---- sk_reuseport --------------------------------------------------------------------

/// A UDP socket with SO_REUSEPORT bound to 127.0.0.1:`port`.
fn reuseport_socket(port: u16) -> UdpSocket {
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        assert!(s >= 0);
        let one: libc::c_int = 1;
        assert_eq!(libc::setsockopt(s, libc::SOL_SOCKET, libc::SO_REUSEPORT, &one as *const _ as *const libc::c_void, 4), 0);
        let a = libc::sockaddr_in { sin_family: libc::AF_INET as u16, sin_port: port.to_be(), sin_addr: libc::in_addr { s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be() }, sin_zero: [0; 8] };
        assert_eq!(libc::bind(s, &a as *const _ as *const libc::sockaddr, std::mem::size_of_val(&a) as u32), 0, "bind: {}", std::io::Error::last_os_error());
        UdpSocket::from_raw_fd(s)
    }
}

/// Four SO_REUSEPORT sockets on one port; the `sk_reuseport` program puts a
/// datagram whose first byte is b on the socket in slot b % 4: each lands
/// exactly there. Detached, the kernel's hash spreads them again.
pub fn sk_reuseport_selects_socket_by_payload() {
    let o = loaded("net2.o");
    let p = o.program("rp_select").unwrap();
    let e = p.attach().unwrap_err();
    assert!(e.to_string().contains("attach_socket"), "{e}");
    let first = reuseport_socket(0);
    let port = first.local_addr().unwrap().port();
    let mut socks = vec![first];
    for _ in 1..4 {
        socks.push(reuseport_socket(port));
    }
    let arr = o.map("rp_socks").unwrap();
    for (i, s) in socks.iter().enumerate() {
        arr.update(&(i as u32).to_le_bytes(), &(s.as_raw_fd() as u64).to_le_bytes(), 0).unwrap();
    }
    let link = p.attach_socket(std::os::fd::AsFd::as_fd(&socks[0])).unwrap();
    assert_eq!(link.kind(), &LinkKind::Reuseport);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let bytes: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(7)).collect();
    for &b in &bytes {
        tx.send_to(&[b, 0xee], to).unwrap();
    }
    let count = |k: u32| u64_at(o.map("rp_counts").unwrap(), &k.to_le_bytes()).unwrap();
    for (i, s) in socks.iter().enumerate() {
        let got = drain(s);
        let want: Vec<u8> = bytes.iter().copied().filter(|b| *b as usize % 4 == i).collect();
        assert_eq!(got, want, "socket {i} got exactly the datagrams its slot was chosen for");
        assert_eq!(count(i as u32), want.len() as u64);
    }
    assert_eq!((count(4), count(5)), (0, 0), "no refused selection, no short datagram");
    drop(link);
    for _ in 0..8 {
        tx.send_to(&[1, 0xee], to).unwrap();
    }
    let total: usize = socks.iter().map(|s| drain(s).len()).sum();
    assert_eq!(total, 8, "after detach every datagram still arrives");
    assert_eq!(count(1), bytes.iter().filter(|b| **b % 4 == 1).count() as u64, "detached: the program no longer runs");
}

// ---- flow dissector ----------------------------------------------------------------

/// An Ethernet/IPv4 frame 10.1.2.3:1111 -> 10.4.5.6:2222 of IP protocol `proto`.
pub(super) fn ipv4_frame(proto: u8) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 8 + 4];
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    f[14] = 0x45;
    f[16..18].copy_from_slice(&((20 + 8 + 4) as u16).to_be_bytes());
    f[22] = 64;
    f[23] = proto;
    f[26..30].copy_from_slice(&[10, 1, 2, 3]);
    f[30..34].copy_from_slice(&[10, 4, 5, 6]);
    f[34..36].copy_from_slice(&1111u16.to_be_bytes());
    f[36..38].copy_from_slice(&2222u16.to_be_bytes());
    f
}

/// A flow dissector run by `BPF_PROG_TEST_RUN` on real frames: the flow
/// keys it fills come back (in `data_out`, 56 bytes of `struct
/// bpf_flow_keys`) and its map counts each run exactly.
pub fn flow_dissector_test_run_fills_flow_keys() {
    const BPF_OK: u32 = 0;
    const BPF_DROP: u32 = 2;
    let o = loaded("net2.o");
    let p = o.program("dissect_ipv4_udp").unwrap();
    let count = |k: u32| u64_at(o.map("fd_counts").unwrap(), &k.to_le_bytes()).unwrap();
    let mut keys = [0u8; 56];
    let r = p.test_run(TestRunOptions { data_in: &ipv4_frame(17), data_out: Some(&mut keys), ..Default::default() }).unwrap();
    assert_eq!(r.retval, BPF_OK);
    assert_eq!(r.data_size_out, 56, "a struct bpf_flow_keys");
    let u16_at = |o: usize| u16::from_ne_bytes([keys[o], keys[o + 1]]);
    assert_eq!(u16_at(0), 14, "nhoff: after the Ethernet header");
    assert_eq!(u16_at(2), 34, "thoff: after the IPv4 header");
    assert_eq!(u16_at(4), 0x0800, "addr_proto");
    assert_eq!(keys[9], 17, "ip_proto UDP");
    assert_eq!(&keys[10..12], &0x0800u16.to_be_bytes(), "n_proto");
    assert_eq!(&keys[12..14], &1111u16.to_be_bytes(), "sport");
    assert_eq!(&keys[14..16], &2222u16.to_be_bytes(), "dport");
    assert_eq!(&keys[16..20], &[10, 1, 2, 3], "ipv4_src");
    assert_eq!(&keys[20..24], &[10, 4, 5, 6], "ipv4_dst");
    assert_eq!((count(0), count(1), count(2)), (1, 1, 0));
    // Repeated runs count each run.
    let r = p.test_run(TestRunOptions { data_in: &ipv4_frame(17), repeat: 5, ..Default::default() }).unwrap();
    assert_eq!(r.retval, BPF_OK);
    assert_eq!((count(0), count(1)), (6, 6));
    // TCP is not its business: dropped, the addresses still filled.
    let mut keys = [0u8; 56];
    let r = p.test_run(TestRunOptions { data_in: &ipv4_frame(6), data_out: Some(&mut keys), ..Default::default() }).unwrap();
    assert_eq!(r.retval, BPF_DROP);
    assert_eq!((keys[9], &keys[16..20]), (6, &[10u8, 1, 2, 3][..]));
    // Nor is ARP.
    let mut arp = ipv4_frame(17);
    arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    assert_eq!(p.test_run(TestRunOptions { data_in: &arp, ..Default::default() }).unwrap().retval, BPF_DROP);
    assert_eq!((count(0), count(1), count(2)), (8, 6, 2), "every run counted exactly");
    // Flags or a CPU are refused by the kernel for flow dissectors: said, not panicked.
    assert!(p.test_run(TestRunOptions { data_in: &arp, flags: 1, ..Default::default() }).is_err());
}
