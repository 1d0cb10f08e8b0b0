## Raw declarations of bpfl's networking and test-run calls (include/bpfl.h),
## one to one. Included by ffi.nim (same linking).

type
  BpflTestRunOpts* {.bycopy.} = object
    sz*: csize_t
    dataIn*: pointer
    dataSizeIn*: csize_t
    dataOut*: pointer
    dataSizeOut*: csize_t
    ctxIn*: pointer
    ctxSizeIn*: csize_t
    ctxOut*: pointer
    ctxSizeOut*: csize_t
    repeat*, flags*, cpu*, batchSize*: uint32

  BpflTestRunResult* {.bycopy.} = object
    sz*: csize_t
    retval*: uint32
    durationNs*: uint32
    dataSizeOut*: csize_t
    ctxSizeOut*: csize_t

  BpflXdpOpts* {.bycopy.} = object
    sz*: csize_t
    mode*: uint32
    flags*: uint32
    replaceProgFd*: int32
    netlink*: bool

  BpflXdpInfo* {.bycopy.} = object
    sz*: csize_t
    attached*, progId*, drvProgId*, skbProgId*, hwProgId*: uint32

  BpflTcxOpts* {.bycopy.} = object
    sz*: csize_t
    direction*, flags*, relative*: uint32
    expectedRevision*: uint64

  BpflTcOpts* {.bycopy.} = object
    sz*: csize_t
    direction*: uint32
    priority*: uint16
    handle*: uint32

  BpflNetkitOpts* {.bycopy.} = object
    sz*: csize_t
    side*, flags*, relative*: uint32
    expectedRevision*: uint64

{.push importc, cdecl.}
proc bpfl_program_test_run*(prog: BpflProgramH, opts: ptr BpflTestRunOpts, result: ptr BpflTestRunResult): cint
proc bpfl_program_attach_xdp*(prog: BpflProgramH, ifindex: uint32, opts: ptr BpflXdpOpts, outLink: var BpflLinkH): cint
proc bpfl_xdp_query*(ifindex: uint32, info: ptr BpflXdpInfo): cint
proc bpfl_program_attach_tcx*(prog: BpflProgramH, ifindex: uint32, opts: ptr BpflTcxOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_tc*(prog: BpflProgramH, ifindex: uint32, opts: ptr BpflTcOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_netkit*(prog: BpflProgramH, ifindex: uint32, opts: ptr BpflNetkitOpts, outLink: var BpflLinkH): cint
proc bpfl_ifindex*(name: cstring, outIfindex: var uint32): cint
{.pop.}
