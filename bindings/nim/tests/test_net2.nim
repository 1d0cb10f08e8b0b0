## netfilter, sk_lookup, flow dissector, netkit, sk_reuseport and the query
## by interface from Nim on the real
## kernel. The process first moves to a network namespace of its own (it is
## single-threaded, so all of it does): its counts see only its own packets.
##   test_net2 BPF_DIR
import std/[os, posix]
import bpfl, bpfl/ffi
import harness

requireRoot("Nim networking tests (netfilter, sk_lookup, flow dissector, netkit)")
let bpfDir = paramStr(1)

{.passC: "-I" & currentSourcePath().parentDir.parentDir.parentDir.parentDir / "include".}
{.compile: "layout.c".}
proc bpfl_nim_test_layout_netkit(r: ptr array[2, clong]) {.importc, cdecl.}
block:
  var r: array[2, clong]
  bpfl_nim_test_layout_netkit(addr r)
  check int(r[0]) == sizeof(BpflNetkitOpts) and int(r[1]) == offsetOf(BpflNetkitOpts, expectedRevision),
        "bpfl_netkit_opts layout: C " & $r

const CLONE_NEWNET = 0x40000000'i32
proc unshare(flags: cint): cint {.importc, header: "<sched.h>".}
check unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET)"
check execShellCmd("ip link set lo up") == 0, "lo up in the new namespace"

proc roundtrips(n: int) =
  ## n UDP datagrams over loopback, each read back by the receiver.
  var rx = socket(AF_INET, SOCK_DGRAM, 0)
  var tx = socket(AF_INET, SOCK_DGRAM, 0)
  var a: Sockaddr_in
  a.sin_family = TSa_Family(AF_INET)
  a.sin_addr.s_addr = htonl(0x7f000001'u32)
  var alen = SockLen(sizeof(a))
  check bindSocket(rx, cast[ptr SockAddr](addr a), alen) == 0, "bind"
  check getsockname(rx, cast[ptr SockAddr](addr a), addr alen) == 0, "getsockname"
  var buf: array[8, char]
  for i in 0 ..< n:
    check sendto(tx, cstring("nf"), 2, 0, cast[ptr SockAddr](addr a), alen) == 2, "sendto"
    check recv(rx, addr buf[0], 8, 0) == 2, "recv"
  discard close(rx)
  discard close(tx)

proc u64(m: BpfMap, k: uint32): uint64 = lookup[uint32, uint64](m, k).get(high(uint64))

# ---- netfilter at IPv4 LOCAL_OUT: exactly this namespace's datagrams ----------------
block:
  var obj = openObject(bpfDir / "netfilter.o")
  obj.load()
  let p = obj.program("nf_count")
  let m = obj.map("nf_packets")
  block:
    var l = p.attachNetfilter(2, 3, 0)  # NFPROTO_IPV4, NF_INET_LOCAL_OUT
    roundtrips(3)
    check m.u64(0) == 3, "three datagrams through LOCAL_OUT: " & $m.u64(0)
    l.detach()
  roundtrips(2)
  check m.u64(0) == 3, "none counted after detach"
  let e = expectError(BpflError, "netfilter pf 99"):
    discard p.attachNetfilter(99, 3, 0)
  check e.contains("netfilter pf 99"), "the refusal names the family"

# ---- sk_lookup: one run per delivery; the query shows it until the link goes --------
block:
  var obj = openObject(bpfDir / "cgroup_sock.o")
  obj.load()
  let counts = obj.map("counts")
  let ns = posix.open("/proc/thread-self/ns/net", O_RDONLY)
  block:
    var l = obj.program("lookup_pass").attachNetnsPath("")
    check queryPrograms(int(ns), 36).len == 1, "sk_lookup attached"  # BPF_SK_LOOKUP
    let before = counts.u64(7)
    roundtrips(1)
    check counts.u64(7) - before == 1, "one sk_lookup run"
  check queryPrograms(int(ns), 36).len == 0, "detached when the link is destroyed"
  discard close(ns)

# ---- flow dissector: the keys of a test run, its counts, a netns link ----------------
block:
  var obj = openObject(bpfDir / "net2.o")
  obj.load()
  let p = obj.program("dissect_ipv4_udp")
  let counts = obj.map("fd_counts")
  var f = newSeq[byte](46)
  f[12] = 0x08; f[14] = 0x45; f[17] = 32; f[22] = 64; f[23] = 17
  for i, b in [10'u8, 1, 2, 3, 10, 4, 5, 6]: f[26 + i] = b
  f[34] = 0x04; f[35] = 0x57; f[36] = 0x08; f[37] = 0xae  # ports 1111, 2222
  let r = p.testRun(f, dataOut = 56)
  check r.retval == 0 and r.dataOut.len == 56, "BPF_OK and a struct bpf_flow_keys: " & $r.retval
  if r.dataOut.len == 56:
    let k = r.dataOut
    check k[0] == 14 and k[2] == 34 and k[9] == 17, "nhoff, thoff, ip_proto"
    check k[12 .. 15] == @[0x04'u8, 0x57, 0x08, 0xae], "ports"
    check k[16 .. 23] == @[10'u8, 1, 2, 3, 10, 4, 5, 6], "addresses"
  f[23] = 6
  check p.testRun(f).retval == 2, "TCP: BPF_DROP"
  check counts.u64(0) == 2 and counts.u64(1) == 1 and counts.u64(2) == 1, "runs counted"
  let ns = posix.open("/proc/thread-self/ns/net", O_RDONLY)
  block:
    var l = p.attachNetns()
    check queryPrograms(int(ns), 17).len == 1, "flow dissector attached"  # BPF_FLOW_DISSECTOR
  check queryPrograms(int(ns), 17).len == 0, "detached"
  discard close(ns)

# ---- netkit: refused with the feature named where the kernel lacks it ----------------
block:
  var obj = openObject(bpfDir / "netkit.o")
  obj.load()
  let e = expectError(BpflError, "netkit on lo"):
    discard obj.program("nk_peer_drop").attachNetkit(1, side = nkPeer)
  if e != nil and e.code == -EOPNOTSUPP:
    check e.contains("netkit needs Linux 6.7+ with CONFIG_NETKIT"), "the refusal names the feature: " & e.msg
    echo "SKIPPED (inside test_net2): netkit on real packets: this kernel lacks it (", e.msg, "); tested in the 6.12 VM"
  else:
    check e.contains("not a netkit device"), "lo is no netkit device"

# ---- query by interface: TCX programs on lo in order, with links; none after ------
block:
  var obj = openObject(bpfDir / "net.o")
  obj.load()
  var skipped = false
  try:
    discard queryProgramsIfindex(1, bpfTcxIngress)
  except BpflError as e:
    check e.code == -EOPNOTSUPP and e.contains("needs Linux 6.6"), "only a kernel without TCX refuses: " & e.msg
    echo "SKIPPED (inside test_net2): query by interface: ", e.msg
    skipped = true
  if not skipped:
    check queryProgramsIfindex(1, bpfTcxIngress).progIds.len == 0, "a fresh lo has no TCX program"
    var l1 = obj.program("tcx_count").attachTcx(1)
    var l2 = obj.program("tc_count").attachTcx(1)
    let (i1, i2) = (l1.info(), l2.info())
    let q = queryProgramsIfindex(1, bpfTcxIngress)
    check q.progIds == @[i1.progId, i2.progId], "both in order: " & $q.progIds
    check q.linkIds == @[i1.id, i2.id], "with their links: " & $q.linkIds
    check queryProgramsIfindex(1, bpfTcxEgress).progIds.len == 0, "egress has none"
    l1.detach()
    let q2 = queryProgramsIfindex(1, bpfTcxIngress)
    check q2.progIds == @[i2.progId] and q2.linkIds == @[i2.id], "the second left: " & $q2
    check q2.revision > q.revision, "the revision moved: " & $q.revision & " then " & $q2.revision
    l2.detach()
    let q3 = queryProgramsIfindex(1, bpfTcxIngress)
    check q3.progIds.len == 0 and q3.linkIds.len == 0, "none after detach: " & $q3
    let e = expectError(BpflError, "an unknown interface"):
      discard queryProgramsIfindex(999999, bpfTcxIngress)
    check e.contains("no such interface"), "names the problem"
    let e2 = expectError(BpflError, "a cgroup attach type by interface"):
      discard queryProgramsIfindex(1, 0)
    check e2.contains("only TCX and netkit"), "refused before the kernel reads the index as an fd"

# ---- sk_reuseport: each datagram on the socket its first byte picks ---------------
proc reuseportSocket(port: uint16): SocketHandle =
  ## A non-blocking UDP socket with SO_REUSEPORT bound to 127.0.0.1:port (0: any).
  result = socket(AF_INET, SOCK_DGRAM, 0)
  var one: cint = 1
  check setsockopt(result, SOL_SOCKET, SO_REUSEPORT, addr one, SockLen(sizeof(one))) == 0, "SO_REUSEPORT"
  var a: Sockaddr_in
  a.sin_family = TSa_Family(AF_INET)
  a.sin_port = htons(port)
  a.sin_addr.s_addr = htonl(0x7f000001'u32)
  check bindSocket(result, cast[ptr SockAddr](addr a), SockLen(sizeof(a))) == 0, "bind"
  check fcntl(result, F_SETFL, fcntl(result, F_GETFL) or O_NONBLOCK) == 0, "O_NONBLOCK"

proc drainFirstBytes(s: SocketHandle): seq[byte] =
  ## The first byte of every datagram queued on s.
  var b: array[16, byte]
  while recv(s, addr b[0], 16, 0) >= 1:
    result.add b[0]

block:
  var obj = openObject(bpfDir / "net2.o")
  obj.load()
  let p = obj.program("rp_select")
  let counts = obj.map("rp_counts")
  var socks: array[4, SocketHandle]
  socks[0] = reuseportSocket(0)
  var a: Sockaddr_in
  var alen = SockLen(sizeof(a))
  check getsockname(socks[0], cast[ptr SockAddr](addr a), addr alen) == 0, "getsockname"
  for i in 1 .. 3: socks[i] = reuseportSocket(ntohs(a.sin_port))
  for i in 0'u32 .. 3'u32: obj.map("rp_socks").put(i, uint64(socks[i]))
  let tx = socket(AF_INET, SOCK_DGRAM, 0)
  proc sendByte(b: byte) =
    var d = [b, 0xee'u8]
    check sendto(tx, addr d[0], 2, 0, cast[ptr SockAddr](addr a), alen) == 2, "sendto"
  var bytes: seq[byte]
  for i in 0 ..< 40: bytes.add byte((i * 7) and 0xff)
  block:
    var l = p.attachSocket(int(socks[0]))
    for b in bytes: sendByte(b)
    sleep(50)
    for i in 0 .. 3:
      var want: seq[byte]
      for b in bytes:
        if int(b) mod 4 == i: want.add b
      let got = drainFirstBytes(socks[i])
      check got == want, "socket " & $i & " got " & $got & ", want " & $want
      check counts.u64(uint32(i)) == uint64(want.len), "slot " & $i & " counted " & $counts.u64(uint32(i))
    check counts.u64(4) == 0 and counts.u64(5) == 0, "none refused, none short"
    l.detach()
  let ones = counts.u64(1)
  for i in 0 ..< 8: sendByte(1)
  sleep(50)
  var total = 0
  for s in socks: total += drainFirstBytes(s).len
  check total == 8, "after detach every datagram arrives: " & $total
  check counts.u64(1) == ones, "after detach the program counts nothing"
  for s in socks: discard close(s)
  discard close(tx)

summary("test_net2")
