//! A flow dissector on real packets (issue 11). The kernel runs the netns's
//! flow dissector when it computes a packet's hash; a packet from a socket
//! already carries one (so fq_codel on lo showed no runs). Here frames come
//! from an AF_PACKET socket (no socket, no hash) across a veth pair into a
//! namespace whose receiving veth has RPS on: `get_rps_cpu` hashes each frame
//! there, so the BPF dissector of that namespace runs exactly once per frame.

use super::net2::{in_ns, ipv4_frame, run, sh};
use super::{loaded, u64_at};
use std::os::fd::AsFd;

/// Two namespaces joined by a veth pair `fa` (in `tx`) – `fb` (in `rx`, MAC
/// 02:00:00:00:00:0b), both up, without IPv6 (no router solicitations). Removed on drop.
struct Pair {
    tx: String,
    rx: String,
}

impl Pair {
    fn new() -> Pair {
        let id = std::process::id();
        let p = Pair { tx: format!("bpflfda{id}"), rx: format!("bpflfdb{id}") };
        run(&["ip", "netns", "add", &p.tx]);
        run(&["ip", "netns", "add", &p.rx]);
        run(&["ip", "-n", &p.tx, "link", "add", "fa", "type", "veth", "peer", "name", "fb", "netns", &p.rx]);
        run(&["ip", "-n", &p.rx, "link", "set", "fb", "address", "02:00:00:00:00:0b"]);
        for (ns, dev) in [(&p.tx, "fa"), (&p.rx, "fb")] {
            let _ = sh(&["ip", "netns", "exec", ns, "sysctl", "-qw", &format!("net.ipv6.conf.{dev}.disable_ipv6=1")]);
            run(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        p
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = sh(&["ip", "netns", "del", &self.tx]);
        let _ = sh(&["ip", "netns", "del", &self.rx]);
    }
}

/// Turn RPS on for `dev`'s first receive queue in namespace `ns` (to CPU 0):
/// sysfs shows the interfaces of the namespace it was mounted from, so a
/// thread in `ns` mounts one of its own for the write, then unmounts it.
fn rps_on(ns: &str, dev: &'static str) {
    let dir = format!("/tmp/bpfl-fdsys-{}", std::process::id());
    in_ns(ns, move || {
        std::fs::create_dir_all(&dir).unwrap();
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        let r = unsafe { libc::mount(c("sysfs").as_ptr(), c(&dir).as_ptr(), c("sysfs").as_ptr(), 0, std::ptr::null()) };
        assert_eq!(r, 0, "mount sysfs: {}", std::io::Error::last_os_error());
        let w = std::fs::write(format!("{dir}/class/net/{dev}/queues/rx-0/rps_cpus"), "1");
        unsafe { libc::umount2(c(&dir).as_ptr(), libc::MNT_DETACH) };
        let _ = std::fs::remove_dir(&dir);
        w.unwrap_or_else(|e| panic!("rps_cpus of {dev}: {e} (a kernel without CONFIG_RPS?)"));
    });
}

/// Send `n` IPv4/UDP frames out of `fa` in namespace `ns` from an AF_PACKET socket.
fn send_frames(ns: &str, n: usize) {
    in_ns(ns, move || unsafe {
        let s = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0);
        assert!(s >= 0, "AF_PACKET socket: {}", std::io::Error::last_os_error());
        let idx = libc::if_nametoindex(c"fa".as_ptr());
        assert_ne!(idx, 0);
        let mut f = ipv4_frame(17);
        f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x0b]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0x0a]);
        let mut a: libc::sockaddr_ll = std::mem::zeroed();
        a.sll_family = libc::AF_PACKET as u16;
        a.sll_ifindex = idx as i32;
        a.sll_halen = 6;
        a.sll_addr[..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x0b]);
        for _ in 0..n {
            let r = libc::sendto(s, f.as_ptr().cast(), f.len(), 0, (&a as *const libc::sockaddr_ll).cast(), std::mem::size_of_val(&a) as u32);
            assert_eq!(r, f.len() as isize, "sendto: {}", std::io::Error::last_os_error());
        }
        libc::close(s);
    });
    // veth delivers to the backlog of CPU 0; give it a moment to process.
    std::thread::sleep(std::time::Duration::from_millis(200));
}

pub fn flow_dissector_runs_once_per_received_frame() {
    let o = loaded("net2.o");
    let p = o.program("dissect_ipv4_udp").unwrap();
    let count = |k: u32| u64_at(o.map("fd_counts").unwrap(), &k.to_le_bytes()).unwrap();
    let pair = Pair::new();
    rps_on(&pair.rx, "fb");
    let ns = std::fs::File::open(format!("/run/netns/{}", pair.rx)).unwrap();
    let link = p.attach_netns(ns.as_fd()).unwrap();
    send_frames(&pair.tx, 25);
    assert_eq!(count(1), 25, "one IPv4/UDP dissection per frame received (all runs {}, other {})", count(0), count(2));
    assert_eq!(count(0), count(1) + count(2), "every run counted once");
    drop(link);
    let before = count(0);
    send_frames(&pair.tx, 10);
    assert_eq!((count(0), count(1)), (before, 25), "detached: no more runs");
}
