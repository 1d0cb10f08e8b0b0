## cgroup, socket, sockmap and network namespace attachments, the query of
## what is attached, and prog-array / map-of-maps slots. Included by
## bpfl.nim (it uses the handles' private fields); not a module of its own.

type
  AttachVia* = enum
    ## How attachCgroup and attachSockmap attach where the kernel offers two ways.
    viaAuto = 0        ## a BPF link, else BPF_PROG_ATTACH where the kernel has no such link
    viaLink = 1        ## only a BPF link
    viaProgAttach = 2  ## only BPF_PROG_ATTACH (detached with BPF_PROG_DETACH)

  BpflCgroupOpts {.bycopy.} = object
    sz: csize_t
    attachType, via, flags: uint32
    replaceProgFd: cint
  BpflSockmapOpts {.bycopy.} = object
    sz: csize_t
    attachType, via: uint32
  BpflNetfilterOpts {.bycopy.} = object
    sz: csize_t
    flags: uint32

const
  bpfFAllowOverride* = 1'u32 ## BPF_F_ALLOW_OVERRIDE
  bpfFAllowMulti* = 2'u32    ## BPF_F_ALLOW_MULTI
  bpfFReplace* = 4'u32       ## BPF_F_REPLACE

{.push importc, cdecl.}
proc bpfl_program_attach_cgroup(prog: BpflProgramH, cgroupFd: cint, opts: ptr BpflCgroupOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_cgroup_path(prog: BpflProgramH, path: cstring, opts: ptr BpflCgroupOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_socket(prog: BpflProgramH, sockFd: cint, opts: pointer, outLink: var BpflLinkH): cint
proc bpfl_program_attach_sockmap(prog: BpflProgramH, m: BpflMapH, opts: ptr BpflSockmapOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_netns(prog: BpflProgramH, netnsFd: cint, opts: pointer, outLink: var BpflLinkH): cint
proc bpfl_program_attach_netns_path(prog: BpflProgramH, path: cstring, opts: pointer, outLink: var BpflLinkH): cint
proc bpfl_program_attach_netfilter(prog: BpflProgramH, pf, hooknum: uint32, priority: int32, opts: ptr BpflNetfilterOpts, outLink: var BpflLinkH): cint
proc bpfl_query_programs(targetFd: cint, attachType: uint32, ids: ptr uint32, capacity: csize_t, outCount: var csize_t): cint
proc bpfl_map_set_prog(m: BpflMapH, index: uint32, prog: BpflProgramH): cint
proc bpfl_map_set_inner(m: BpflMapH, key: pointer, keySize: csize_t, inner: BpflMapH): cint
proc bpfl_map_clear_slot(m: BpflMapH, index: uint32): cint
{.pop.}

proc cgroupOpts(attachType: uint32, via: AttachVia, flags: uint32, replaceProgFd: int): BpflCgroupOpts =
  BpflCgroupOpts(sz: csize_t(sizeof(BpflCgroupOpts)), attachType: attachType, via: uint32(ord(via)),
                 flags: flags, replaceProgFd: cint(replaceProgFd))

proc attachCgroup*(p: BpfProgram, cgroupFd: int, attachType = 0'u32, via = viaAuto,
                   flags = 0'u32, replaceProgFd = -1): BpfLink =
  ## Attach a cgroup program (cgroup_skb/..., cgroup/..., sockops) to the
  ## cgroup v2 directory open as `cgroupFd`. `attachType` 0: the program's
  ## (its section's); `flags`: BPF_PROG_ATTACH flags (0 with viaAuto:
  ## BPF_F_ALLOW_MULTI where no link can be made).
  var o = cgroupOpts(attachType, via, flags, replaceProgFd)
  check bpfl_program_attach_cgroup(p.h, cint(cgroupFd), addr o, result.h), "attach cgroup"

proc attachCgroupPath*(p: BpfProgram, path: string, attachType = 0'u32, via = viaAuto,
                       flags = 0'u32, replaceProgFd = -1): BpfLink =
  ## attachCgroup by path (/sys/fs/cgroup/my.slice).
  var o = cgroupOpts(attachType, via, flags, replaceProgFd)
  check bpfl_program_attach_cgroup_path(p.h, cstring(path), addr o, result.h), "attach cgroup " & path

proc attachSocket*(p: BpfProgram, sockFd: int): BpfLink =
  ## Attach a socket filter (SO_ATTACH_BPF) or sk_reuseport program
  ## (SO_ATTACH_REUSEPORT_EBPF) to socket `sockFd`. Destroying the link
  ## detaches it while the same socket is behind `sockFd`; the link does not
  ## keep the socket open.
  check bpfl_program_attach_socket(p.h, cint(sockFd), nil, result.h), "attach socket"

proc attachSockmap*(p: BpfProgram, m: BpfMap, attachType = 0'u32, via = viaAuto): BpfLink =
  ## Attach an sk_msg or sk_skb program to a sockmap or sockhash (a BPF link
  ## on Linux 6.10+, else BPF_PROG_ATTACH). Attach before adding sockets.
  var o = BpflSockmapOpts(sz: csize_t(sizeof(BpflSockmapOpts)), attachType: attachType, via: uint32(ord(via)))
  check bpfl_program_attach_sockmap(p.h, m.h, addr o, result.h), "attach sockmap"

proc attachNetns*(p: BpfProgram, netnsFd = -1): BpfLink =
  ## Attach an sk_lookup or flow_dissector program to the network namespace
  ## open as `netnsFd` (-1: the calling thread's) with a BPF link.
  check bpfl_program_attach_netns(p.h, cint(netnsFd), nil, result.h), "attach netns"

proc attachNetnsPath*(p: BpfProgram, path: string): BpfLink =
  ## attachNetns by path (/run/netns/NAME, /proc/PID/ns/net; "": the calling thread's).
  let c: cstring = if path.len == 0: nil else: cstring(path)
  check bpfl_program_attach_netns_path(p.h, c, nil, result.h), "attach netns " & path

proc attachNetfilter*(p: BpfProgram, pf, hooknum: uint32, priority: int32, flags = 0'u32): BpfLink =
  ## A netfilter link (Linux 6.4+) at hook `hooknum` (NF_INET_PRE_ROUTING 0 ..
  ## NF_INET_POST_ROUTING 4) of family `pf` (NFPROTO_IPV4 2, NFPROTO_IPV6 10),
  ## in the calling thread's network namespace.
  var o = BpflNetfilterOpts(sz: csize_t(sizeof(BpflNetfilterOpts)), flags: flags)
  check bpfl_program_attach_netfilter(p.h, pf, hooknum, priority, addr o, result.h), "attach netfilter"

proc queryPrograms*(targetFd: int, attachType: uint32): seq[uint32] =
  ## The ids of the programs attached to `targetFd` (a cgroup, a network
  ## namespace, a sockmap on Linux 5.19+) as `attachType` (BPF_PROG_QUERY).
  var n: csize_t
  check bpfl_query_programs(cint(targetFd), attachType, nil, 0, n), "query programs"
  result = newSeq[uint32](int(n) + 8)
  check bpfl_query_programs(cint(targetFd), attachType, addr result[0], csize_t(result.len), n), "query programs"
  result.setLen(min(int(n), result.len))

proc setProg*(m: BpfMap, index: uint32, prog: BpfProgram) =
  ## Slot `index` of this prog array runs `prog` on a tail call to it.
  check bpfl_map_set_prog(m.h, index, prog.h), "set prog-array slot " & $index

proc setInner*[K](m: BpfMap, key: K, inner: BpfMap) =
  ## Map `inner` at `key` of this map of maps.
  var k = key
  check bpfl_map_set_inner(m.h, addr k, csize_t(sizeof(K)), inner.h), "set inner map"

proc clearSlot*(m: BpfMap, index: uint32): bool =
  ## Empty slot `index` of a prog array or array of maps: true if it held something.
  let rc = bpfl_map_clear_slot(m.h, index)
  if rc == -ENOENT: return false
  check rc, "clear slot " & $index
  true
