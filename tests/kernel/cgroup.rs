//! cgroup and socket attachments (issue 11): each test makes its own cgroup
//! v2 directory, sockets and namespace, attaches a program of
//! bpf/cgroup_sock.bpf.c and checks what the kernel did with exact counts,
//! then that closing the link left nothing attached.

use super::{loaded, u64_at};
use bpfl::attach::{query_cgroup_path, query_programs, AttachVia, CgroupOptions, SockmapOptions};
use bpfl::link::LinkKind;
use bpfl::obj::AttachType;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

const OBJ: &str = "cgroup_sock.o";

/// Where cgroup v2 is mounted: the first `cgroup2` line of /proc/mounts,
/// else a mount of our own in a temporary directory.
fn cgroup2_root() -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    if let Some(l) = mounts.lines().find(|l| l.split_whitespace().nth(2) == Some("cgroup2")) {
        return l.split_whitespace().nth(1).unwrap().to_string();
    }
    let dir = format!("/tmp/bpfl-cgroup2-{}", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    let (src, d, t) = (c"cgroup2", std::ffi::CString::new(dir.clone()).unwrap(), c"cgroup2");
    let r = unsafe { libc::mount(src.as_ptr(), d.as_ptr(), t.as_ptr(), 0, std::ptr::null()) };
    assert_eq!(r, 0, "mount cgroup2 on {dir}: {}", std::io::Error::last_os_error());
    dir
}

/// A cgroup v2 directory of the test's, removed when dropped.
pub struct Cgroup(pub String);

impl Cgroup {
    pub fn new(name: &str) -> Cgroup {
        let p = format!("{}/bpfl-test-{}-{name}", cgroup2_root(), std::process::id());
        let _ = std::fs::remove_dir(&p);
        std::fs::create_dir(&p).unwrap_or_else(|e| panic!("mkdir {p}: {e}"));
        Cgroup(p)
    }

    /// Run `work` in a child process moved into this cgroup before it starts;
    /// returns its exit status (`work`'s return value).
    pub fn run_in(&self, work: impl FnOnce() -> i32) -> i32 {
        let mut p = [0i32; 2];
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let mut b = 0u8;
            unsafe { libc::read(p[0], &mut b as *mut u8 as *mut libc::c_void, 1) };
            let code = work();
            unsafe { libc::_exit(code) };
        }
        std::fs::write(format!("{}/cgroup.procs", self.0), pid.to_string()).unwrap();
        unsafe { libc::write(p[1], b"g".as_ptr() as *const libc::c_void, 1) };
        let mut status = 0;
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        unsafe { libc::close(p[0]); libc::close(p[1]) };
        assert!(libc::WIFEXITED(status), "child did not exit normally: status {status:#x}");
        libc::WEXITSTATUS(status)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // The exited child leaves the cgroup as it is reaped; rmdir may need a moment.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn accept_within(l: &TcpListener, d: Duration) -> Option<TcpStream> {
    l.set_nonblocking(true).unwrap();
    let end = Instant::now() + d;
    while Instant::now() < end {
        match l.accept() {
            Ok((s, _)) => return Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("accept: {e}"),
        }
    }
    None
}

/// The child's side of the connect test: connect to 127.0.0.1:`port`, send a byte.
fn child_connect(port: u16) -> i32 {
    match TcpStream::connect(("127.0.0.1", port)) {
        Ok(mut s) => {
            let _ = s.write_all(b"!");
            0
        }
        Err(_) => 3,
    }
}

fn be_port(p: u16) -> [u8; 4] {
    (u16::to_be(p) as u32).to_ne_bytes()
}

pub fn cgroup_connect4_rewrites_destination_port() {
    lo_up();
    let cg = Cgroup::new("connect4");
    let o = loaded(OBJ);
    let (a, b) = (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap());
    let (pa, pb) = (a.local_addr().unwrap().port(), b.local_addr().unwrap().port());
    let conf = o.map("conf").unwrap();
    conf.update(&0u32.to_ne_bytes(), &be_port(pa), 0).unwrap();
    conf.update(&1u32.to_ne_bytes(), &be_port(pb), 0).unwrap();
    let counts = o.map("counts").unwrap();
    let prog = o.program("connect4_rewrite").unwrap();
    let at = AttachType::CGROUP_INET4_CONNECT.as_u32();
    assert!(!prog.can_auto_attach(), "a cgroup program needs a cgroup");
    let e = prog.attach().unwrap_err();
    assert!(e.to_string().contains("attach_cgroup"), "{e}");

    for (round, via) in [AttachVia::Auto, AttachVia::ProgAttach].into_iter().enumerate() {
        let link = prog.attach_cgroup_path(&cg.0, &CgroupOptions { via, ..Default::default() }).unwrap();
        let want_kind = if via == AttachVia::Auto { LinkKind::Cgroup } else { LinkKind::CgroupProgAttach };
        assert_eq!(link.kind(), &want_kind);
        assert_eq!(query_cgroup_path(&cg.0, at).unwrap().len(), 1, "one program attached");
        assert_eq!(cg.run_in(|| child_connect(pa)), 0, "the child connected");
        let s = accept_within(&b, Duration::from_secs(5)).expect("the connection to port A landed on port B");
        let mut byte = [0u8; 1];
        s.set_nonblocking(false).unwrap();
        (&s).read_exact(&mut byte).unwrap();
        assert_eq!(&byte, b"!");
        assert!(accept_within(&a, Duration::from_millis(50)).is_none(), "nothing reached port A");
        assert_eq!(u64_at(counts, &0u32.to_ne_bytes()), Some(round as u64 + 1), "rewrites");
        drop(link);
        assert_eq!(query_cgroup_path(&cg.0, at).unwrap(), Vec::<u32>::new(), "closing the link left nothing attached ({via:?})");
    }
    // Detached: the child's connection goes where it was sent.
    assert_eq!(cg.run_in(|| child_connect(pa)), 0);
    assert!(accept_within(&a, Duration::from_secs(5)).is_some(), "after detach, port A gets the connection");
    assert_eq!(u64_at(counts, &0u32.to_ne_bytes()), Some(2));
}

pub fn cgroup_skb_egress_counts_bytes() {
    lo_up();
    let cg = Cgroup::new("egress");
    let o = loaded(OBJ);
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let fd = std::fs::File::open(&cg.0).unwrap();
    let link = o.program("egress_count").unwrap().attach_cgroup(fd.as_fd(), &CgroupOptions::default()).unwrap();
    const N: usize = 5;
    const LEN: usize = 100;
    assert_eq!(
        cg.run_in(|| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            for _ in 0..N {
                s.send_to(&[7u8; LEN], ("127.0.0.1", port)).unwrap();
            }
            0
        }),
        0
    );
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 256];
    for _ in 0..N {
        assert_eq!(rx.recv(&mut buf).unwrap(), LEN);
    }
    let counts = o.map("counts").unwrap();
    assert_eq!(u64_at(counts, &1u32.to_ne_bytes()), Some(N as u64), "egress packets of the cgroup");
    // Each: a 20-byte IPv4 header, an 8-byte UDP header, the payload.
    assert_eq!(u64_at(counts, &2u32.to_ne_bytes()), Some((N * (20 + 8 + LEN)) as u64), "egress bytes of the cgroup");
    let at = AttachType::CGROUP_INET_EGRESS.as_u32();
    assert_eq!(query_programs(fd.as_fd(), at).unwrap().len(), 1);
    link.detach().unwrap();
    assert!(query_programs(fd.as_fd(), at).unwrap().is_empty(), "detached");
}

/// Datagrams `b` has waiting, without blocking.
fn drain(b: &UnixDatagram) -> Vec<Vec<u8>> {
    b.set_nonblocking(true).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    while let Ok(n) = b.recv(&mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

pub fn socket_filter_drops_and_detaches() {
    let o = loaded(OBJ);
    let (a, b) = UnixDatagram::pair().unwrap();
    let prog = o.program("drop_x").unwrap();
    assert!(!prog.can_auto_attach());
    let link = prog.attach_socket(b.as_fd()).unwrap();
    assert_eq!(link.kind(), &LinkKind::SocketFilter);
    for m in ["xa", "ok", "xb", "fine"] {
        a.send(m.as_bytes()).unwrap();
    }
    assert_eq!(drain(&b), vec![b"ok".to_vec(), b"fine".to_vec()], "the filter dropped the 'x' datagrams");
    assert_eq!(u64_at(o.map("counts").unwrap(), &3u32.to_ne_bytes()), Some(2));
    drop(link);
    a.send(b"xc").unwrap();
    assert_eq!(drain(&b), vec![b"xc".to_vec()], "after detach the datagram arrives");
    // A link whose socket was closed first detaches nothing and says nothing.
    let (c, d) = UnixDatagram::pair().unwrap();
    let l2 = prog.attach_socket(d.as_fd()).unwrap();
    drop(d);
    drop(c);
    l2.detach().unwrap();
}

pub fn sockmap_msg_redirect_between_tcp_sockets() {
    lo_up();
    let o = loaded(OBJ);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let pair = || {
        let c = TcpStream::connect(addr).unwrap();
        let (s, _) = l.accept().unwrap();
        (c, s)
    };
    let (a_cli, a_srv) = pair();
    let (b_cli, b_srv) = pair();
    let socks = o.map("socks").unwrap();
    let prog = o.program("msg_redirect").unwrap();
    // Attach before the sockets go in: a socket takes the map's programs as it is added.
    let link = prog.attach_sockmap(socks, &SockmapOptions::default()).unwrap();
    socks.update(&0u32.to_ne_bytes(), &(a_cli.as_raw_fd() as u32).to_ne_bytes(), 0).unwrap();
    socks.update(&1u32.to_ne_bytes(), &(b_srv.as_raw_fd() as u32).to_ne_bytes(), 0).unwrap();
    (&a_cli).write_all(b"rhello").unwrap();
    let mut buf = [0u8; 6];
    b_srv.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    (&b_srv).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"rhello", "redirected to the other connection's socket");
    (&a_cli).write_all(b"phello").unwrap();
    a_srv.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    (&a_srv).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"phello", "the 'p' message passed to its own peer, and nothing before it");
    assert_eq!(u64_at(o.map("counts").unwrap(), &4u32.to_ne_bytes()), Some(1));
    let at = AttachType::SK_MSG_VERDICT.as_u32();
    let fd = socks.dup_fd().unwrap();
    let kernel_has_links = matches!(link.kind(), LinkKind::Sockmap);
    assert_eq!(query_programs(fd.as_fd(), at).map(|v| v.len()).unwrap_or(1), 1);
    drop(link);
    if let Ok(ids) = query_programs(fd.as_fd(), at) {
        assert!(ids.is_empty(), "closing the link left no program on the map");
    }
    println!("        (sockmap attached with {})", if kernel_has_links { "a BPF link" } else { "BPF_PROG_ATTACH" });
    drop(b_cli);
}

pub fn tail_call_slots_set_and_cleared_from_user_space() {
    let o = loaded(OBJ);
    let (a, b) = UnixDatagram::pair().unwrap();
    let _link = o.program("dispatch").unwrap().attach_socket(b.as_fd()).unwrap();
    let jump = o.map("jump").unwrap();
    let counts = o.map("counts").unwrap();
    let at = |k: u32| u64_at(counts, &k.to_ne_bytes()).unwrap();
    a.send(b"1").unwrap();
    assert_eq!(drain(&b), vec![b"1".to_vec()], "empty slot: the dispatcher passes");
    assert_eq!((at(5), at(6)), (0, 1));
    jump.set_prog(0, o.program("target_drop").unwrap()).unwrap();
    a.send(b"2").unwrap();
    assert!(drain(&b).is_empty(), "the tail call landed in the dropping program");
    assert_eq!((at(5), at(6)), (1, 1));
    assert!(jump.clear_slot(0).unwrap());
    assert!(!jump.clear_slot(0).unwrap(), "already empty");
    a.send(b"3").unwrap();
    assert_eq!(drain(&b), vec![b"3".to_vec()], "cleared: the dispatcher passes again");
    assert_eq!((at(5), at(6)), (1, 2));
    // Wrong maps and slots are refused with the reason.
    let e = counts.set_prog(0, o.program("target_drop").unwrap()).unwrap_err();
    assert!(e.to_string().contains("BPF_MAP_TYPE_PROG_ARRAY"), "{e}");
    assert!(jump.set_prog(99, o.program("target_drop").unwrap()).is_err());
}

pub fn map_in_map_slots_set_from_user_space() {
    let o = loaded(OBJ);
    let (a, b) = UnixDatagram::pair().unwrap();
    let _link = o.program("count_inner").unwrap().attach_socket(b.as_fd()).unwrap();
    let outer = o.map("outer").unwrap();
    let (ia, ib) = (o.map("inner_a").unwrap(), o.map("inner_b").unwrap());
    let zero = 0u32.to_ne_bytes();
    outer.set_inner(&zero, ia).unwrap();
    a.send(b"1").unwrap();
    a.send(b"2").unwrap();
    outer.set_inner(&zero, ib).unwrap();
    a.send(b"3").unwrap();
    assert!(outer.clear_slot(0).unwrap());
    a.send(b"4").unwrap();
    assert_eq!(drain(&b).len(), 4);
    assert_eq!((u64_at(ia, &zero), u64_at(ib, &zero)), (Some(2), Some(1)), "each datagram counted in the map outer[0] held");
    let e = ia.set_inner(&zero, ib).unwrap_err();
    assert!(e.to_string().contains("not a map of maps"), "{e}");
}

/// Bring `lo` up in the calling thread's network namespace (`SIOCSIFFLAGS`)
/// unless it is up: a fresh namespace, or a VM guest's, has it down.
pub fn lo_up() {
    #[repr(C)]
    struct IfReq {
        name: [u8; 16],
        flags: i16,
        _pad: [u8; 22],
    }
    let mut r = IfReq { name: [0; 16], flags: 0, _pad: [0; 22] };
    r.name[..2].copy_from_slice(b"lo");
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        assert!(s >= 0);
        assert_eq!(libc::ioctl(s, libc::SIOCGIFFLAGS, &mut r), 0, "SIOCGIFFLAGS lo");
        if r.flags & libc::IFF_UP as i16 != 0 {
            libc::close(s);
            return;
        }
        r.flags |= libc::IFF_UP as i16;
        assert_eq!(libc::ioctl(s, libc::SIOCSIFFLAGS, &mut r), 0, "SIOCSIFFLAGS lo: {}", std::io::Error::last_os_error());
        libc::close(s);
    }
}

/// An `sk_lookup` program on a network namespace of the test's own (a
/// thread that unshared one): it runs once for a datagram sent there, and
/// BPF_PROG_QUERY shows it until the link is closed.
pub fn sk_lookup_netns_link() {
    use std::sync::mpsc::channel;
    let o = loaded(OBJ);
    let prog = o.program("lookup_pass").unwrap();
    assert!(prog.can_auto_attach(), "sk_lookup attaches to this process's namespace");
    let counts = o.map("counts").unwrap();
    let at = AttachType::SK_LOOKUP.as_u32();
    let (to_main, from_thread) = channel::<String>();
    let (to_thread, from_main) = channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0, "unshare: {}", std::io::Error::last_os_error());
            lo_up();
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
            to_main.send(format!("/proc/{}/task/{tid}/ns/net", std::process::id())).unwrap();
            from_main.recv().unwrap();
            let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            tx.send_to(b"q", rx.local_addr().unwrap()).unwrap();
            rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut b = [0u8; 4];
            assert_eq!(rx.recv(&mut b).unwrap(), 1);
            to_main.send(String::new()).unwrap();
        });
        let path = from_thread.recv().expect("the namespace thread");
        let link = prog.attach_netns_path(Some(&path)).unwrap();
        assert_eq!(link.kind(), &LinkKind::Netns);
        let f = std::fs::File::open(&path).unwrap();
        assert_eq!(query_programs(f.as_fd(), at).unwrap().len(), 1);
        let before = u64_at(counts, &7u32.to_ne_bytes()).unwrap();
        to_thread.send(()).unwrap();
        from_thread.recv().expect("the datagram went through");
        assert_eq!(u64_at(counts, &7u32.to_ne_bytes()).unwrap() - before, 1, "one sk_lookup run in that namespace");
        drop(link);
        assert!(query_programs(f.as_fd(), at).unwrap().is_empty(), "detached");
        // The same through an fd.
        let l2 = prog.attach_netns(f.as_fd()).unwrap();
        assert_eq!(query_programs(f.as_fd(), at).unwrap().len(), 1);
        drop(l2);
        assert!(query_programs(f.as_fd(), at).unwrap().is_empty());
    });
}

/// A netfilter program at IPv4 LOCAL_OUT of a namespace the test unshares:
/// it sees exactly the datagrams sent there, and none once the link is closed.
pub fn netfilter_link_counts_local_out() {
    let mut o = super::open("netfilter.o");
    if let Err(e) = o.load(&Default::default()) {
        let v = bpfl::host::kver::running();
        assert!(v < bpfl::host::kver::kernel_version(6, 4, 0), "netfilter.o refused on a 6.4+ kernel: {e}");
        assert!(e.to_string().contains("BPF_PROG_TYPE_NETFILTER programs need Linux 6.4+"), "the refusal names the feature: {e}");
        println!("        SKIPPED part: netfilter programs need Linux 6.4+ (this kernel refused the load: {e})");
        return;
    }
    let prog = o.program("nf_count").unwrap();
    assert!(!prog.can_auto_attach());
    let m = o.map("nf_packets").unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
            lo_up();
            let send = |n: usize| {
                let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
                let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
                for _ in 0..n {
                    tx.send_to(b"nf", rx.local_addr().unwrap()).unwrap();
                }
            };
            // NFPROTO_IPV4, NF_INET_LOCAL_OUT, priority 0.
            let link = prog.attach_netfilter(2, 3, 0, &Default::default()).unwrap();
            assert_eq!(link.kind(), &LinkKind::Netfilter);
            send(3);
            assert_eq!(u64_at(m, &0u32.to_ne_bytes()), Some(3), "three datagrams through LOCAL_OUT");
            drop(link);
            send(2);
            assert_eq!(u64_at(m, &0u32.to_ne_bytes()), Some(3), "none counted after the link closed");
            let e = prog.attach_netfilter(99, 3, 0, &Default::default()).unwrap_err();
            assert!(e.to_string().contains("netfilter pf 99"), "{e}");
        });
    });
}

/// `BPF_PROG_ATTACH` with `BPF_F_ALLOW_MULTI | BPF_F_REPLACE`: a second
/// object's program takes the first one's place on the cgroup; only it runs.
pub fn cgroup_prog_attach_replace() {
    use bpfl::attach::{BPF_F_ALLOW_MULTI, BPF_F_REPLACE};
    lo_up();
    let cg = Cgroup::new("replace");
    let (o1, o2) = (loaded(OBJ), loaded(OBJ));
    let (a, b) = (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap());
    let (pa, pb) = (a.local_addr().unwrap().port(), b.local_addr().unwrap().port());
    for o in [&o1, &o2] {
        o.map("conf").unwrap().update(&0u32.to_ne_bytes(), &be_port(pa), 0).unwrap();
        o.map("conf").unwrap().update(&1u32.to_ne_bytes(), &be_port(pb), 0).unwrap();
    }
    let (p1, p2) = (o1.program("connect4_rewrite").unwrap(), o2.program("connect4_rewrite").unwrap());
    let multi = CgroupOptions { via: AttachVia::ProgAttach, flags: BPF_F_ALLOW_MULTI, ..Default::default() };
    let l1 = p1.attach_cgroup_path(&cg.0, &multi).unwrap();
    let fd1 = p1.fd().unwrap();
    let old = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd1) };
    let e = p2.attach_cgroup_path(&cg.0, &CgroupOptions { flags: BPF_F_ALLOW_MULTI | BPF_F_REPLACE, ..multi }).unwrap_err();
    assert!(e.to_string().contains("BPF_F_REPLACE needs the program to replace"), "{e}");
    let l2 = p2.attach_cgroup_path(&cg.0, &CgroupOptions { flags: BPF_F_ALLOW_MULTI | BPF_F_REPLACE, replace: Some(old), ..multi }).unwrap();
    let at = AttachType::CGROUP_INET4_CONNECT.as_u32();
    assert_eq!(query_cgroup_path(&cg.0, at).unwrap().len(), 1, "replaced, not added");
    assert_eq!(cg.run_in(|| child_connect(pa)), 0);
    assert!(accept_within(&b, Duration::from_secs(5)).is_some());
    let n = |o: &bpfl::Object| u64_at(o.map("counts").unwrap(), &0u32.to_ne_bytes()).unwrap();
    assert_eq!((n(&o1), n(&o2)), (0, 1), "only the replacing program ran");
    assert!(l1.detach().is_err(), "the replaced program is no longer there to detach");
    drop(l2);
    assert!(query_cgroup_path(&cg.0, at).unwrap().is_empty());
}

/// A flow dissector on a namespace the test unshares, by automatic attach
/// (the calling thread's namespace): one per namespace, gone with its link.
pub fn flow_dissector_auto_attach_to_thread_netns() {
    let o = loaded(OBJ);
    let prog = o.program("dissect_nothing").unwrap();
    assert!(prog.can_auto_attach());
    let at = AttachType::FLOW_DISSECTOR.as_u32();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
            let ns = std::fs::File::open("/proc/thread-self/ns/net").unwrap();
            let link = prog.attach().unwrap();
            assert_eq!(link.kind(), &LinkKind::Netns);
            assert_eq!(query_programs(ns.as_fd(), at).unwrap().len(), 1, "attached to this thread's namespace");
            let e = prog.attach_netns(ns.as_fd()).unwrap_err();
            assert!(e.to_string().contains("already attached"), "{e}");
            drop(link);
            assert!(query_programs(ns.as_fd(), at).unwrap().is_empty(), "detached");
        });
    });
}
