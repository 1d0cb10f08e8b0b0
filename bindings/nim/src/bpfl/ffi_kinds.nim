## Raw declarations of bpfl's C ABI for links (pin, open, update, info,
## detach), perf events and iterators (include/bpfl.h), one to one.

import ffi

type
  BpflLinkUpdateOpts* {.bycopy.} = object
    sz*: csize_t
    oldProg*: BpflProgramH ## non-null: update only if the link runs it

  BpflLinkInfo* {.bycopy.} = object
    sz*: csize_t
    linkType*, id*, progId*, attachType*: uint32
    cgroupId*: uint64
    mapId*, targetObjId*, targetBtfId*, ifindex*, netnsIno*, perfEventType*: uint32
    taskTid*, taskPid*: uint32
    name*: array[128, char]

  BpflPerfEventSpec* {.bycopy.} = object
    sz*: csize_t
    perfType*: uint32
    freq*: bool
    config*: uint64
    period*: uint64
    pid*: int32

  BpflPerfEventOpts* {.bycopy.} = object
    sz*: csize_t
    cookie*: uint64

  BpflIterOpts* {.bycopy.} = object
    sz*: csize_t
    mapFd*, cgroupFd*: cint
    cgroupId*: uint64
    cgroupOrder*, tid*, pid*: uint32
    pidFd*: cint

{.push importc, cdecl.}
proc bpfl_link_pin*(link: BpflLinkH, path: cstring): cint
proc bpfl_link_open_pinned*(path: cstring, outLink: var BpflLinkH): cint
proc bpfl_link_update*(link: BpflLinkH, newProg: BpflProgramH, opts: ptr BpflLinkUpdateOpts): cint
proc bpfl_link_get_info*(link: BpflLinkH, info: var BpflLinkInfo): cint
proc bpfl_link_detach*(link: BpflLinkH): cint
proc bpfl_perf_event_open*(spec: ptr BpflPerfEventSpec, cpu: cint, outFd: var cint): cint
proc bpfl_program_attach_perf_event*(prog: BpflProgramH, perfFd: cint, opts: ptr BpflPerfEventOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_iter*(prog: BpflProgramH, opts: ptr BpflIterOpts, outLink: var BpflLinkH): cint
proc bpfl_iter_create*(link: BpflLinkH, outFd: var cint): cint
{.pop.}

{.push importc, cdecl.}
proc bpfl_map_attach_struct_ops*(m: BpflMapH, outLink: var BpflLinkH): cint
proc bpfl_link_update_map*(link: BpflLinkH, m: BpflMapH): cint
{.pop.}
