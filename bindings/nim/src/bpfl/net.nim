## Test runs, XDP, tc and TCX for the `bpfl` module (included by bpfl.nim,
## whose private handles it uses). Links detach when destroyed, like the others.

type
  TestRunResult* = object
    retval*: uint32      ## the program's return value (XDP_DROP, TC_ACT_OK...)
    durationNs*: uint32  ## mean time of one run
    dataOut*: seq[byte]  ## the packet the program left (when dataOut > 0 was asked)
    ctxOut*: seq[byte]   ## the context it left (when ctxOut > 0 was asked)

  XdpMode* = enum
    xmAuto = 0     ## native where the driver has it, else generic
    xmGeneric = 1  ## generic (skb) mode: any interface
    xmNative = 2   ## the driver's hook
    xmOffload = 3  ## on the NIC

  XdpAttached* = enum
    xaNone = 0, xaNative = 1, xaGeneric = 2, xaOffload = 3, xaMulti = 4

  XdpInfo* = object
    attached*: XdpAttached
    progId*, drvProgId*, skbProgId*, hwProgId*: uint32 ## 0: none

  TcDirection* = enum
    tcIngress = 0, tcEgress = 1

  NetkitSide* = enum
    nkFromSection = 0  ## netkit/primary or netkit/peer; primary otherwise
    nkPrimary = 1      ## what the primary device sends
    nkPeer = 2         ## what its peer sends (attached through the primary)

const
  xdpUpdateIfNoExist* = 1'u32  ## fail if a program is attached (netlink)
  tcxBefore* = 1'u32 shl 3     ## before `relative` (none: first)
  tcxAfter* = 1'u32 shl 4      ## after `relative` (none: last)
  tcxId* = 1'u32 shl 5         ## `relative` is an id, not an fd
  tcxLink* = 1'u32 shl 13      ## `relative` is a link, not a program

proc testRun*(p: BpfProgram, data: openArray[byte] = [], dataOut = 0,
              ctx: openArray[byte] = [], ctxOut = 0, repeat = 0'u32, flags = 0'u32,
              cpu = 0'u32, batchSize = 0'u32): TestRunResult =
  ## Run the loaded program on test input (BPF_PROG_TEST_RUN). `dataOut`,
  ## `ctxOut`: bytes of room for the packet and context out (0: not wanted);
  ## too little room raises BpflError with code -ENOSPC.
  result.dataOut = newSeq[byte](dataOut)
  result.ctxOut = newSeq[byte](ctxOut)
  var o = BpflTestRunOpts(sz: csize_t(sizeof(BpflTestRunOpts)), repeat: repeat,
                          flags: flags, cpu: cpu, batchSize: batchSize)
  if data.len > 0: (o.dataIn = unsafeAddr data[0]; o.dataSizeIn = csize_t(data.len))
  if ctx.len > 0: (o.ctxIn = unsafeAddr ctx[0]; o.ctxSizeIn = csize_t(ctx.len))
  if dataOut > 0: (o.dataOut = addr result.dataOut[0]; o.dataSizeOut = csize_t(dataOut))
  if ctxOut > 0: (o.ctxOut = addr result.ctxOut[0]; o.ctxSizeOut = csize_t(ctxOut))
  var r = BpflTestRunResult(sz: csize_t(sizeof(BpflTestRunResult)))
  check bpfl_program_test_run(p.h, addr o, addr r), "test run"
  result.retval = r.retval
  result.durationNs = r.durationNs
  result.dataOut.setLen(int(r.dataSizeOut))
  result.ctxOut.setLen(int(r.ctxSizeOut))

proc ifindex*(name: string): uint32 =
  ## The index of network interface `name` (BpflError -ENOENT if none).
  check bpfl_ifindex(cstring(name), result), "interface " & name

proc attachXdp*(p: BpfProgram, ifindex: uint32, mode = xmAuto, flags = 0'u32,
                replaceProgFd = 0, netlink = false): BpfLink =
  ## Attach an XDP program to interface `ifindex`: a BPF link (Linux 5.9+),
  ## else netlink; `replaceProgFd` > 0 replaces that program (netlink).
  var o = BpflXdpOpts(sz: csize_t(sizeof(BpflXdpOpts)), mode: uint32(ord(mode)), flags: flags,
                      replaceProgFd: int32(replaceProgFd), netlink: netlink)
  check bpfl_program_attach_xdp(p.h, ifindex, addr o, result.h), "attach XDP to interface " & $ifindex

proc xdpQuery*(ifindex: uint32): XdpInfo =
  ## What interface `ifindex` has attached.
  var i = BpflXdpInfo(sz: csize_t(sizeof(BpflXdpInfo)))
  check bpfl_xdp_query(ifindex, addr i), "XDP query of interface " & $ifindex
  XdpInfo(attached: XdpAttached(i.attached), progId: i.progId, drvProgId: i.drvProgId,
          skbProgId: i.skbProgId, hwProgId: i.hwProgId)

proc attachTcx*(p: BpfProgram, ifindex: uint32, direction = tcIngress, flags = 0'u32,
                relative = 0'u32, expectedRevision = 0'u64): BpfLink =
  ## Attach a tc program with a TCX link (Linux 6.6+; older: -EOPNOTSUPP).
  var o = BpflTcxOpts(sz: csize_t(sizeof(BpflTcxOpts)), direction: uint32(ord(direction)),
                      flags: flags, relative: relative, expectedRevision: expectedRevision)
  check bpfl_program_attach_tcx(p.h, ifindex, addr o, result.h), "attach TCX to interface " & $ifindex

proc attachTc*(p: BpfProgram, ifindex: uint32, direction = tcIngress, priority = 0'u16,
               handle = 0'u32): BpfLink =
  ## Attach a tc program through netlink: a clsact qdisc (added if missing)
  ## and a direct-action cls_bpf filter, both removed cleanly on detach.
  var o = BpflTcOpts(sz: csize_t(sizeof(BpflTcOpts)), direction: uint32(ord(direction)),
                     priority: priority, handle: handle)
  check bpfl_program_attach_tc(p.h, ifindex, addr o, result.h), "attach tc to interface " & $ifindex

proc attachNetkit*(p: BpfProgram, ifindex: uint32, side = nkFromSection, flags = 0'u32,
                   relative = 0'u32, expectedRevision = 0'u64): BpfLink =
  ## Attach a tc program with a netkit link on the pair whose primary is
  ## `ifindex` (Linux 6.7+ with CONFIG_NETKIT; else -EOPNOTSUPP saying so).
  var o = BpflNetkitOpts(sz: csize_t(sizeof(BpflNetkitOpts)), side: uint32(ord(side)),
                         flags: flags, relative: relative, expectedRevision: expectedRevision)
  check bpfl_program_attach_netkit(p.h, ifindex, addr o, result.h), "attach netkit to interface " & $ifindex

# ---- What an interface's TCX and netkit hooks hold (BPF_PROG_QUERY by interface) ----

const
  bpfTcxIngress* = 46'u32      ## BPF_TCX_INGRESS (Linux 6.6+)
  bpfTcxEgress* = 47'u32       ## BPF_TCX_EGRESS
  bpfNetkitPrimary* = 54'u32   ## BPF_NETKIT_PRIMARY (Linux 6.7+)
  bpfNetkitPeer* = 55'u32      ## BPF_NETKIT_PEER

type
  IfindexQuery* = object
    progIds*: seq[uint32]   ## program ids, first to run first
    linkIds*: seq[uint32]   ## the link holding each program (0: none)
    revision*: uint64       ## moves with every attach and detach

proc bpfl_query_programs_ifindex(ifindex, attachType: uint32, progIds, linkIds: ptr uint32, capacity: csize_t,
                                 outCount: var csize_t, outRevision: ptr uint64): cint {.importc, cdecl.}

proc queryProgramsIfindex*(ifindex: uint32, attachType: uint32): IfindexQuery =
  ## The programs attached to interface `ifindex` as `attachType`
  ## (bpfTcxIngress/Egress, bpfNetkitPrimary/Peer), in run order, with
  ## their link ids and the list's revision.
  var n: csize_t
  var cap = 16
  while true:
    result.progIds = newSeq[uint32](cap)
    result.linkIds = newSeq[uint32](cap)
    check bpfl_query_programs_ifindex(ifindex, attachType, addr result.progIds[0], addr result.linkIds[0], csize_t(cap), n,
                                      addr result.revision), "query the programs of interface " & $ifindex
    if int(n) <= cap: break
    cap = int(n) + 8
  result.progIds.setLen(int(n))
  result.linkIds.setLen(int(n))
