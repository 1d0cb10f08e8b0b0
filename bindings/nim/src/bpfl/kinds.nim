## Included by bpfl.nim (it uses the private handles of BpfLink and
## BpfProgram): links pinned, opened, updated, described and detached;
## perf events for `perf_event` programs; BPF iterators read as text.

import bpfl/ffi_kinds
export ffi_kinds

type
  LinkInfo* = object
    ## What the kernel says about a BPF link (bpfl_link_get_info).
    linkType*, id*, progId*, attachType*: uint32
    name*: string ## raw tracepoint, iterator target, perf event target
    cgroupId*: uint64
    mapId*, targetObjId*, targetBtfId*, ifindex*, netnsIno*, perfEventType*: uint32
    taskTid*, taskPid*: uint32

const
  perfTypeHardware* = 0'u32
  perfTypeSoftware* = 1'u32
  perfCountSwCpuClock* = 0'u64
  perfCountHwCpuCycles* = 0'u64

proc pin*(l: BpfLink, path: string) =
  ## Pin the link on a bpffs: the attachment outlives this value and the
  ## process until the pin is removed; destroying the value does not unpin.
  check bpfl_link_pin(l.h, cstring(path)), "pin link at " & path

proc openPinnedLink*(path: string): BpfLink =
  ## Open a pinned link; destroying the value closes our fd only.
  check bpfl_link_open_pinned(cstring(path), result.h), "open pinned link " & path

proc updateProgram*(l: BpfLink, newProg: BpfProgram) =
  ## Run `newProg` in the link instead (BPF_LINK_UPDATE).
  check bpfl_link_update(l.h, newProg.h, nil), "update link"

proc updateProgram*(l: BpfLink, newProg, oldProg: BpfProgram) =
  ## As above, only if the link runs `oldProg` now (else EPERM).
  var o = BpflLinkUpdateOpts(sz: csize_t(sizeof(BpflLinkUpdateOpts)), oldProg: oldProg.h)
  check bpfl_link_update(l.h, newProg.h, addr o), "update link"

proc info*(l: BpfLink): LinkInfo =
  var i = BpflLinkInfo(sz: csize_t(sizeof(BpflLinkInfo)))
  check bpfl_link_get_info(l.h, i), "link info"
  LinkInfo(linkType: i.linkType, id: i.id, progId: i.progId, attachType: i.attachType,
           name: $cast[cstring](addr i.name[0]), cgroupId: i.cgroupId, mapId: i.mapId,
           targetObjId: i.targetObjId, targetBtfId: i.targetBtfId, ifindex: i.ifindex,
           netnsIno: i.netnsIno, perfEventType: i.perfEventType, taskTid: i.taskTid,
           taskPid: i.taskPid)

proc forceDetach*(l: BpfLink) =
  ## BPF_LINK_DETACH: end the attachment for every holder (pins too); the
  ## value stays until destroyed. Only some link types take it.
  check bpfl_link_detach(l.h), "detach link (BPF_LINK_DETACH)"

proc openPerfEvent*(perfType: uint32, config: uint64, period: uint64, freq: bool,
                    cpu: int, pid = -1): int =
  ## A sampling perf event on `cpu`; the fd is the caller's to close.
  var s = BpflPerfEventSpec(sz: csize_t(sizeof(BpflPerfEventSpec)), perfType: perfType,
                            freq: freq, config: config, period: period, pid: int32(pid))
  var fd: cint
  check bpfl_perf_event_open(addr s, cint(cpu), fd), "open perf event"
  int(fd)

proc attachPerfEvent*(p: BpfProgram, perfFd: int, cookie = 0'u64): BpfLink =
  ## Attach a perf_event program to a perf event fd (the link keeps a dup).
  var o = BpflPerfEventOpts(sz: csize_t(sizeof(BpflPerfEventOpts)), cookie: cookie)
  check bpfl_program_attach_perf_event(p.h, cint(perfFd), addr o, result.h), "attach perf event"

proc attachIter*(p: BpfProgram, mapFd = 0, cgroupFd = 0, cgroupId = 0'u64,
                 cgroupOrder = 0'u32, tid = 0'u32, pid = 0'u32, pidFd = 0): BpfLink =
  ## An iterator link of an iter/TARGET program, with the target's parameters.
  var o = BpflIterOpts(sz: csize_t(sizeof(BpflIterOpts)), mapFd: cint(mapFd),
                       cgroupFd: cint(cgroupFd), cgroupId: cgroupId, cgroupOrder: cgroupOrder,
                       tid: tid, pid: pid, pidFd: cint(pidFd))
  check bpfl_program_attach_iter(p.h, addr o, result.h), "attach iterator"

proc iterCreate*(l: BpfLink): int =
  ## A new pass of an iterator link: an fd to read until EOF, then close.
  var fd: cint
  check bpfl_iter_create(l.h, fd), "iterator create"
  int(fd)

proc readIter*(l: BpfLink): string =
  ## One whole pass of an iterator link's output.
  let fd = cint(iterCreate(l))
  defer: discard posix.close(fd)
  var buf: array[4096, char]
  while true:
    let n = posix.read(fd, addr buf[0], buf.len)
    if n < 0: raise newBpflError(cint(-errno), "reading the iterator")
    if n == 0: break
    let old = result.len
    result.setLen(old + n)
    copyMem(addr result[old], addr buf[0], n)

proc attachStructOps*(m: BpfMap): BpfLink =
  ## Register a loaded struct_ops map (SEC(".struct_ops.link") or
  ## SEC(".struct_ops"), e.g. a TCP congestion control); destroying the link
  ## unregisters it.
  check bpfl_map_attach_struct_ops(m.h, result.h), "attach struct_ops " & m.name

proc updateMap*(l: BpfLink, m: BpfMap) =
  ## Switch a struct_ops link to another loaded .struct_ops.link map of the same type.
  check bpfl_link_update_map(l.h, m.h), "update struct_ops link"
