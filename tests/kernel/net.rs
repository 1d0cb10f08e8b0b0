//! Networking on the real kernel: test runs, and XDP/tc/TCX programs on a
//! veth pair whose far end lives in a network namespace the test makes.
//! Real UDP datagrams cross it; the programs' counts must be exact, and
//! detaching must leave no program, filter or qdisc behind.

use super::{loaded, u64_at};
use bpfl::attach::{TcDirection, TcOptions, TcxOptions, XdpAttached, XdpMode, XdpOptions};
use bpfl::{ErrorKind, Object, TestRunOptions};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

const XDP_DROP: u32 = 1;
const XDP_PASS: u32 = 2;

// ---- test runs -------------------------------------------------------------------

pub fn test_run_xdp_drop_and_pass() {
    let o = loaded("net.o");
    let p = o.program("xdp_by_byte").unwrap();
    let mut pkt = [0u8; 64];
    pkt[0] = 0xdd;
    let r = p.test_run(TestRunOptions { data_in: &pkt, ..Default::default() }).unwrap();
    assert_eq!(r.retval, XDP_DROP, "first byte 0xdd: dropped");
    pkt[0] = 0x11;
    let mut out = [0u8; 64];
    let r = p.test_run(TestRunOptions { data_in: &pkt, data_out: Some(&mut out), repeat: 10, ..Default::default() }).unwrap();
    assert_eq!(r.retval, XDP_PASS, "any other first byte: passed");
    assert_eq!(r.data_size_out, 64);
    assert_eq!(&out[..2], &[0x11, 0x42], "the program's write is in the packet out");
    assert_eq!(&out[2..], &pkt[2..]);
    // Too small an output buffer says how large it must be, and loses nothing.
    let mut small = [0u8; 8];
    let e = p.test_run(TestRunOptions { data_in: &pkt, data_out: Some(&mut small), ..Default::default() }).unwrap_err();
    assert_eq!(e.errno(), libc::ENOSPC);
    assert!(e.to_string().contains("holds 8 bytes; the program's output is 64 bytes"), "{e}");
    // A packet shorter than an Ethernet header is the kernel's EINVAL, said as such.
    let e = p.test_run(TestRunOptions { data_in: &pkt[..4], ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("test run (BPF_PROG_TEST_RUN)"), "{e}");
    // The counting program, on a datagram to its port: counted and dropped.
    set_port(&o, 4242);
    let udp = udp_frame(4242);
    assert_eq!(o.program("xdp_count_drop").unwrap().test_run(TestRunOptions { data_in: &udp, ..Default::default() }).unwrap().retval, XDP_DROP);
    assert_eq!(u64_at(o.map("counts").unwrap(), &0u32.to_le_bytes()), Some(1));
    assert_eq!(o.program("xdp_count_drop").unwrap().test_run(TestRunOptions { data_in: &udp_frame(4243), ..Default::default() }).unwrap().retval, XDP_PASS);
    assert_eq!(u64_at(o.map("counts").unwrap(), &0u32.to_le_bytes()), Some(1), "another port is not counted");
}

/// An Ethernet/IPv4/UDP frame to `port`.
fn udp_frame(port: u16) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 8 + 4];
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    f[14] = 0x45;
    f[16..18].copy_from_slice(&((20 + 8 + 4) as u16).to_be_bytes());
    f[22] = 64;
    f[23] = 17;
    f[36..38].copy_from_slice(&port.to_be_bytes());
    f[38..40].copy_from_slice(&12u16.to_be_bytes());
    f
}

fn set_port(o: &Object, port: u32) {
    o.map("cfg").unwrap().update(&0u32.to_le_bytes(), &port.to_le_bytes(), 0).unwrap();
}

// ---- the veth pair across a namespace ----------------------------------------------

fn sh(args: &[&str]) -> (bool, String) {
    match Command::new(args[0]).args(&args[1..]).output() {
        Ok(o) => (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))),
        Err(e) => (false, format!("{}: {e}", args[0])),
    }
}

fn run(args: &[&str]) -> String {
    let (ok, out) = sh(args);
    assert!(ok, "{}: {out}", args.join(" "));
    out
}

/// `ns` holds `peer` (10.X.Y.2/24); the root namespace holds `host` (.1).
/// Everything is removed on drop, even when the test fails.
struct Veth {
    ns: String,
    host: String,
    peer: String,
    host_ip: Ipv4Addr,
    peer_ip: Ipv4Addr,
}

impl Veth {
    /// None (with the reason) where this host cannot make one.
    fn new(tag: &str) -> Result<Veth, String> {
        let id = std::process::id();
        let (a, b) = (200 + (id % 50) as u8, (id / 50 % 250) as u8);
        let v = Veth {
            ns: format!("bpfl{tag}{id}"),
            host: format!("bh{tag}{id}"),
            peer: format!("bp{tag}{id}"),
            host_ip: Ipv4Addr::new(10, a, b, 1),
            peer_ip: Ipv4Addr::new(10, a, b, 2),
        };
        let (ok, out) = sh(&["ip", "netns", "add", &v.ns]);
        if !ok {
            return Err(format!("ip netns add: {out}"));
        }
        let (ok, out) = sh(&["ip", "link", "add", &v.host, "type", "veth", "peer", "name", &v.peer]);
        if !ok {
            return Err(format!("ip link add type veth: {out}"));
        }
        let (h, p) = (format!("{}/24", v.host_ip), format!("{}/24", v.peer_ip));
        run(&["ip", "link", "set", &v.peer, "netns", &v.ns]);
        run(&["ip", "addr", "add", &h, "dev", &v.host]);
        run(&["ip", "link", "set", &v.host, "up"]);
        run(&["ip", "-n", &v.ns, "addr", "add", &p, "dev", &v.peer]);
        run(&["ip", "-n", &v.ns, "link", "set", &v.peer, "up"]);
        run(&["ip", "-n", &v.ns, "link", "set", "lo", "up"]);
        Ok(v)
    }
    fn ifindex(&self) -> u32 {
        bpfl::host::net::ifindex(&self.host).unwrap()
    }
    /// Send `n` datagrams to `to` from a socket in the namespace (a thread that entered it).
    fn send_from_ns(&self, to: SocketAddrV4, n: usize) {
        let path = format!("/run/netns/{}", self.ns);
        std::thread::spawn(move || {
            let f = std::fs::File::open(&path).unwrap();
            assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0, "setns {path}");
            send(to, n);
        })
        .join()
        .unwrap();
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = sh(&["ip", "link", "del", &self.host]);
        let _ = sh(&["ip", "netns", "del", &self.ns]);
    }
}

fn send(to: SocketAddrV4, n: usize) {
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    for i in 0..n {
        s.send_to(&(i as u32).to_le_bytes(), to).unwrap();
    }
}

/// Datagrams waiting on `r` (it is given a moment for the last to arrive).
fn drain(r: &UdpSocket) -> usize {
    r.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut n = 0;
    let mut b = [0u8; 64];
    while r.recv(&mut b).is_ok() {
        n += 1;
    }
    n
}

/// A veth pair, or the test ends SKIPPED (never passed) saying why.
fn veth_or_skip(tag: &str) -> Option<Veth> {
    match Veth::new(tag) {
        Ok(v) => Some(v),
        Err(e) => super::harness::skip(format!("cannot make a veth pair in a network namespace here: {e}")),
    }
}

/// The id of a loaded program, from its fdinfo.
fn prog_id(fd: i32) -> u32 {
    let s = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    s.lines().find_map(|l| l.strip_prefix("prog_id:")).map(|v| v.trim().parse().unwrap()).expect("prog_id in fdinfo")
}

fn xdp_drops_and_counts(netlink: bool) {
    let Some(v) = veth_or_skip(if netlink { "xn" } else { "xl" }) else { return };
    let o = loaded("net.o");
    let port = 40000 + (std::process::id() % 20000) as u16;
    set_port(&o, port as u32);
    let rx = UdpSocket::bind(SocketAddrV4::new(v.host_ip, port)).unwrap();
    let to = SocketAddrV4::new(v.host_ip, port);
    let p = o.program("xdp_count_drop").unwrap();
    let idx = v.ifindex();
    let link = p.attach_xdp(idx, &XdpOptions { mode: XdpMode::Generic, netlink, ..Default::default() }).unwrap();
    assert_eq!(*link.kind(), if netlink { bpfl::link::LinkKind::XdpNetlink } else { bpfl::link::LinkKind::Xdp });
    let q = bpfl::attach::xdp::query(idx).unwrap();
    assert_eq!(q.attached, XdpAttached::Generic, "{q:?}");
    assert_eq!(q.skb_prog_id, prog_id(p.fd().unwrap()), "the attached program is ours");
    assert!(run(&["ip", "link", "show", "dev", &v.host]).contains("xdpgeneric"));
    // A second program in the same mode is refused while ours is there.
    let e = o.program("xdp_by_byte").unwrap().attach_xdp(idx, &XdpOptions { mode: XdpMode::Generic, netlink, flags: bpfl::attach::xdp::XDP_FLAGS_UPDATE_IF_NOEXIST * netlink as u32, ..Default::default() });
    assert!(e.is_err(), "a second XDP program replaced ours silently");
    v.send_from_ns(to, 25);
    assert_eq!(drain(&rx), 0, "XDP dropped every datagram");
    assert_eq!(u64_at(o.map("counts").unwrap(), &0u32.to_le_bytes()), Some(25), "exactly the datagrams sent");
    drop(link);
    assert_eq!(bpfl::attach::xdp::query(idx).unwrap().attached, XdpAttached::None, "detached on drop");
    assert!(!run(&["ip", "link", "show", "dev", &v.host]).contains("xdp"));
    v.send_from_ns(to, 7);
    assert_eq!(drain(&rx), 7, "after detach every datagram arrives");
    assert_eq!(u64_at(o.map("counts").unwrap(), &0u32.to_le_bytes()), Some(25));
}

pub fn xdp_generic_link_drops_and_counts() {
    xdp_drops_and_counts(false)
}

pub fn xdp_generic_netlink_drops_and_counts() {
    xdp_drops_and_counts(true)
}

pub fn xdp_netlink_replace() {
    let Some(v) = veth_or_skip("xr") else { return };
    let o = loaded("net.o");
    let (a, b) = (o.program("xdp_count_drop").unwrap(), o.program("xdp_by_byte").unwrap());
    let idx = v.ifindex();
    let nl = XdpOptions { mode: XdpMode::Generic, netlink: true, ..Default::default() };
    let la = a.attach_xdp(idx, &nl).unwrap();
    // Replacing names the program expected there; a wrong one is refused.
    let e = b.attach_xdp(idx, &XdpOptions { replace_prog_fd: Some(b.fd().unwrap()), ..nl.clone() }).unwrap_err();
    assert!(e.to_string().contains("XDP"), "{e}");
    let lb = b.attach_xdp(idx, &XdpOptions { replace_prog_fd: Some(a.fd().unwrap()), ..nl.clone() }).unwrap();
    assert_eq!(bpfl::attach::xdp::query(idx).unwrap().skb_prog_id, prog_id(b.fd().unwrap()));
    // The replaced program's link no longer owns the hook: dropping it leaves b.
    drop(la);
    assert_eq!(bpfl::attach::xdp::query(idx).unwrap().skb_prog_id, prog_id(b.fd().unwrap()));
    drop(lb);
    assert_eq!(bpfl::attach::xdp::query(idx).unwrap().attached, XdpAttached::None);
}

pub fn xdp_bad_input() {
    let o = loaded("net.o");
    let p = o.program("xdp_count_drop").unwrap();
    assert_eq!(p.attach_xdp(0, &XdpOptions::default()).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let e = p.attach_xdp(999_999, &XdpOptions { mode: XdpMode::Generic, ..Default::default() }).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = p.attach_xdp(999_999, &XdpOptions { mode: XdpMode::Generic, netlink: true, ..Default::default() }).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = o.program("tc_count").unwrap().attach_xdp(1, &XdpOptions::default()).unwrap_err();
    assert!(e.to_string().contains("cannot be attached as a XDP program"), "{e}");
    assert_eq!(bpfl::host::net::ifindex("nosuchif0").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(bpfl::host::net::ifindex("lo").unwrap(), 1);
    // No interface in the section: auto-attach says so.
    let e = p.attach().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}

fn tc_show(what: &str, dev: &str, extra: &[&str]) -> String {
    let mut a = vec!["tc", what, "show", "dev", dev];
    a.extend_from_slice(extra);
    run(&a)
}

pub fn tc_netlink_egress_counts_and_cleans_up() {
    let Some(v) = veth_or_skip("tc") else { return };
    let o = loaded("net.o");
    let port = 40000 + (std::process::id() % 20000) as u16 + 1;
    set_port(&o, port as u32);
    let idx = v.ifindex();
    let p = o.program("tc_count").unwrap();
    let eg = TcOptions { direction: TcDirection::Egress, ..Default::default() };
    let l1 = p.attach_tc(idx, &TcOptions { priority: 3, ..eg.clone() }).unwrap();
    assert!(tc_show("qdisc", &v.host, &[]).contains("clsact"));
    let f = tc_show("filter", &v.host, &["egress"]);
    assert!(f.contains("tc_count") && f.contains("direct-action") && f.contains("pref 3"), "{f}");
    // Same priority and handle again: refused, nothing touched.
    let handle = f.split("handle ").nth(1).and_then(|h| h.split_whitespace().next()).and_then(|h| u32::from_str_radix(h.trim_start_matches("0x"), 16).ok()).unwrap();
    let e = p.attach_tc(idx, &TcOptions { priority: 3, handle, ..eg.clone() }).unwrap_err();
    assert_eq!(e.errno(), libc::EEXIST, "{e}");
    // A second filter of ours at another priority, kernel-picked.
    let l2 = p.attach_tc(idx, &eg).unwrap();
    send(SocketAddrV4::new(v.peer_ip, port), 30);
    std::thread::sleep(Duration::from_millis(100));
    // Direct action: the first filter's TC_ACT_OK ends classification, so each datagram counts once.
    let n = u64_at(o.map("counts").unwrap(), &1u32.to_le_bytes()).unwrap();
    assert_eq!(n, 30, "egress counted exactly the datagrams sent");
    drop(l1);
    let f = tc_show("filter", &v.host, &["egress"]);
    assert!(!f.contains("pref 3") && f.contains("tc_count"), "only our first filter is gone: {f}");
    assert!(tc_show("qdisc", &v.host, &[]).contains("clsact"), "the qdisc stays while a filter lives on it");
    drop(l2);
    assert_eq!(tc_show("filter", &v.host, &["egress"]).trim(), "", "no filter left");
    assert!(!tc_show("qdisc", &v.host, &[]).contains("clsact"), "the qdisc we made is gone");
    // A qdisc that was there before stays, with the filter someone else put on it.
    run(&["tc", "qdisc", "add", "dev", &v.host, "clsact"]);
    let l3 = p.attach_tc(idx, &TcOptions { direction: TcDirection::Ingress, ..Default::default() }).unwrap();
    drop(l3);
    assert!(tc_show("qdisc", &v.host, &[]).contains("clsact"), "a qdisc we did not make stays");
    assert_eq!(tc_show("filter", &v.host, &["ingress"]).trim(), "");
    // A `tc/egress` program (loaded for TCX) goes on the netlink path too.
    let l4 = o.program("tcx_count").unwrap().attach_tc(idx, &eg).unwrap();
    assert!(tc_show("filter", &v.host, &["egress"]).contains("tcx_count"));
    drop(l4);
    assert_eq!(tc_show("filter", &v.host, &["egress"]).trim(), "");
    // No interface in the section: auto-attach says which call takes one.
    let e = p.attach().unwrap_err();
    assert!(e.to_string().contains("attach_tcx, attach_tc or attach_netkit"), "{e}");
}

pub fn tcx_egress_counts_and_orders() {
    if bpfl::host::kver::running() < bpfl::host::kver::kernel_version(6, 6, 0) {
        let o = loaded("net.o");
        let e = o.program("tcx_count").unwrap().attach_tcx(1, &TcxOptions::default()).unwrap_err();
        assert!(e.to_string().contains("TCX needs Linux 6.6"), "{e}");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        super::harness::skip("TCX needs Linux 6.6 (the refusal says so; the netlink tc path is tested by tc_netlink_egress_counts_and_cleans_up)");
    }
    let Some(v) = veth_or_skip("tx") else { return };
    let o = loaded("net.o");
    let port = 40000 + (std::process::id() % 20000) as u16 + 2;
    set_port(&o, port as u32);
    let idx = v.ifindex();
    let p = o.program("tcx_count").unwrap();
    let eg = TcxOptions { direction: TcDirection::Egress, ..Default::default() };
    let l1 = p.attach_tcx(idx, &eg).unwrap();
    let i = l1.info().unwrap();
    assert_eq!((i.link_type, i.ifindex, i.attach_type), (11, idx, 47), "a tcx link, BPF_TCX_EGRESS: {i:?}");
    // Ordering: a second program placed before the first (by link fd).
    let q = o.program("tc_count").unwrap();
    let l2 = q.attach_tcx(idx, &TcxOptions { flags: bpfl::attach::tc::TCX_BEFORE | bpfl::attach::tc::TCX_LINK, relative: l1.fd() as u32, ..eg.clone() }).unwrap();
    // Placing after a program that is not attached there is refused.
    let e = q.attach_tcx(idx, &TcxOptions { flags: bpfl::attach::tc::TCX_AFTER, relative: o.program("xdp_by_byte").unwrap().fd().unwrap() as u32, ..eg.clone() });
    assert!(e.is_err());
    send(SocketAddrV4::new(v.peer_ip, port), 20);
    std::thread::sleep(Duration::from_millis(100));
    // tc_count runs first and returns TC_ACT_OK, which (TCX_PASS) ends the chain: tcx_count sees none.
    assert_eq!(u64_at(o.map("counts").unwrap(), &1u32.to_le_bytes()), Some(20), "first in order");
    assert_eq!(u64_at(o.map("counts").unwrap(), &2u32.to_le_bytes()), Some(0), "after a TCX_PASS");
    drop(l2);
    send(SocketAddrV4::new(v.peer_ip, port), 5);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(u64_at(o.map("counts").unwrap(), &2u32.to_le_bytes()), Some(5));
    drop(l1);
    send(SocketAddrV4::new(v.peer_ip, port), 5);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(u64_at(o.map("counts").unwrap(), &2u32.to_le_bytes()), Some(5), "detached: counts no more");
    let (_, out) = sh(&["bpftool", "net", "show", "dev", &v.host]);
    assert!(!out.contains("tcx_count"), "{out}");
}
