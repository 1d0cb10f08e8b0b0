## Raw declarations of bpfl's C ABI (include/bpfl.h), one to one.
##
## Linking, decided at compile time:
##   - in a bpfl checkout (these sources under bindings/nim/src, as with
##     `-p:bindings/nim/src` or `nimble develop`): the checkout's static
##     target/release/libbpfl.a, built by `make lib`;
##   - otherwise (after `nimble install`): the installed bpfl, through
##     `pkg-config bpfl-static` (`make install`; set PKG_CONFIG_PATH for a
##     prefix pkg-config does not search).
## Either way the program needs no LD_LIBRARY_PATH. Overrides:
##   -d:bpflLibDir=/path/to/dir   directory holding libbpfl.a (or libbpfl.so)
##   -d:bpflDynamic               link libbpfl.so instead (`pkg-config bpfl`), with an rpath to it

import std/os

const
  bpflRoot = currentSourcePath().parentDir.parentDir.parentDir.parentDir.parentDir
  bpflInTree = bpflRoot / "target" / "release"
  bpflLibDir* {.strdefine.} = ""
  bpflDynamic* {.booldefine.} = false
  bpflIsCheckout = fileExists(bpflRoot / "include" / "bpfl.h") and
                   fileExists(bpflRoot / "bindings" / "nim" / "bpfl.nimble")

proc linkFlags(dir: string): string {.compileTime.} =
  if bpflDynamic: "-L" & dir & " -Wl,-rpath," & dir & " -lbpfl"
  else: dir / "libbpfl.a" & " -lpthread -ldl -lm -lrt"

when bpflLibDir.len > 0 or bpflIsCheckout:
  const dir = if bpflLibDir.len > 0: bpflLibDir else: bpflInTree
  when not bpflDynamic and not fileExists(dir / "libbpfl.a"):
    {.error: "bpfl: " & dir / "libbpfl.a" & " not found: run `make lib` in the bpfl checkout, or pass -d:bpflLibDir=DIR".}
  {.passL: linkFlags(dir).}
else:
  import std/strutils
  const
    pc = if bpflDynamic: "bpfl" else: "bpfl-static"
    found = gorgeEx("pkg-config --libs " & pc)
    libdir = gorgeEx("pkg-config --variable=libdir " & pc)
  when found.exitCode != 0:
    {.error: "bpfl: pkg-config cannot find " & pc & ": install bpfl (`make install` in its checkout) and set PKG_CONFIG_PATH to its lib/pkgconfig, or pass -d:bpflLibDir=DIR".}
  when bpflDynamic:
    {.passL: found.output.strip & " -Wl,-rpath," & libdir.output.strip.}
  else:
    {.passL: found.output.strip.}

type
  BpflObjectH* {.bycopy.} = object
    id*: uint64
  BpflProgramH* {.bycopy.} = object
    id*: uint64
  BpflMapH* {.bycopy.} = object
    id*: uint64
  BpflLinkH* {.bycopy.} = object
    id*: uint64
  BpflRingbufH* {.bycopy.} = object
    id*: uint64
  BpflPerfbufH* {.bycopy.} = object
    id*: uint64

  BpflOpenOpts* {.bycopy.} = object
    sz*: csize_t
    objectName*: cstring
    pinRootPath*: cstring
    btfCustomPath*: cstring
    kconfig*: cstring
    kernelLogLevel*: uint32

  BpflLoadOpts* {.bycopy.} = object
    sz*: csize_t
    logLevel*: uint32
    kernVersion*: uint32

  BpflProgramInfo* {.bycopy.} = object
    sz*: csize_t
    name*: cstring
    section*: cstring
    progType*: uint32
    expectedAttachType*: uint32
    fd*: int32
    insnCnt*: uint32

  BpflKprobeOpts* {.bycopy.} = object
    sz*: csize_t
    offset*: uint64
    retprobe*: bool
    mode*: uint32
    cookie*: uint64

  BpflUprobeOpts* {.bycopy.} = object
    sz*: csize_t
    offset*: uint64
    retprobe*: bool
    pid*: int32
    cookie*: uint64

  BpflUsdtOpts* {.bycopy.} = object
    sz*: csize_t
    cookie*: uint64

  BpflUprobeMultiOpts* {.bycopy.} = object
    sz*: csize_t
    syms*: ptr cstring
    offsets*: ptr uint64
    cookies*: ptr uint64
    cnt*: csize_t
    retprobe*: bool

  BpflKprobeMultiOpts* {.bycopy.} = object
    sz*: csize_t
    syms*: ptr cstring
    addrs*: ptr uint64
    cookies*: ptr uint64
    cnt*: csize_t
    retprobe*: bool
    session*: bool

  BpflKsyscallOpts* {.bycopy.} = object
    sz*: csize_t
    cookie*: uint64
    retprobe*: bool
    mode*: uint32

  BpflTracepointOpts* {.bycopy.} = object
    sz*: csize_t
    cookie*: uint64

  BpflTraceOpts* {.bycopy.} = object
    sz*: csize_t
    cookie*: uint64

  BpflMapInfo* {.bycopy.} = object
    sz*: csize_t
    name*: cstring
    mapType*: uint32
    keySize*: uint32
    valueSize*: uint32
    maxEntries*: uint32
    mapFlags*: uint32
    fd*: int32

  BpflRingbufOpts* {.bycopy.} = object
    sz*: csize_t

  BpflPerfbufOpts* {.bycopy.} = object
    sz*: csize_t
    pageCnt*: csize_t ## data pages per CPU, a power of two; 0: 8

  BpflRingbufSampleFn* = proc (ctx: pointer, data: pointer, size: csize_t): cint {.cdecl, gcsafe.}
  BpflPerfbufSampleFn* = proc (ctx: pointer, cpu: cint, data: pointer, size: uint32): cint {.cdecl, gcsafe.}
  BpflPerfbufLostFn* = proc (ctx: pointer, cpu: cint, lost: uint64) {.cdecl, gcsafe.}

  BpflLogFn* = proc (level: cint, msg: cstring, ctx: pointer) {.cdecl, gcsafe.}

const
  BPFL_LOG_ERROR* = 0.cint
  BPFL_LOG_WARN* = 1.cint
  BPFL_LOG_INFO* = 2.cint
  BPFL_LOG_DEBUG* = 3.cint
  BPFL_PROBE_AUTO* = 0'u32
  BPFL_PROBE_PMU* = 1'u32
  BPFL_PROBE_LEGACY* = 2'u32
  BPFL_ANY* = 0'u64
  BPFL_NOEXIST* = 1'u64
  BPFL_EXIST* = 2'u64

{.push importc, cdecl.}
proc bpfl_version*(): cstring
proc bpfl_last_error*(): cstring
proc bpfl_set_log_callback*(cb: BpflLogFn, ctx: pointer, maxLevel: cint): cint

proc bpfl_object_open_file*(path: cstring, opts: ptr BpflOpenOpts, outObj: var BpflObjectH): cint
proc bpfl_object_open_mem*(buf: pointer, len: csize_t, opts: ptr BpflOpenOpts, outObj: var BpflObjectH): cint
proc bpfl_object_set_rodata*(obj: BpflObjectH, variable: cstring, val: pointer, len: csize_t): cint
proc bpfl_object_load*(obj: BpflObjectH, opts: ptr BpflLoadOpts): cint
proc bpfl_object_attach_all*(obj: BpflObjectH): cint
proc bpfl_object_close*(obj: BpflObjectH): cint
proc bpfl_object_name*(obj: BpflObjectH, buf: cstring, len: csize_t): cint
proc bpfl_object_program_count*(obj: BpflObjectH, outN: var csize_t): cint
proc bpfl_object_map_count*(obj: BpflObjectH, outN: var csize_t): cint
proc bpfl_object_program_at*(obj: BpflObjectH, idx: csize_t, outProg: var BpflProgramH): cint
proc bpfl_object_map_at*(obj: BpflObjectH, idx: csize_t, outMap: var BpflMapH): cint
proc bpfl_object_find_program*(obj: BpflObjectH, name: cstring, outProg: var BpflProgramH): cint
proc bpfl_object_find_map*(obj: BpflObjectH, name: cstring, outMap: var BpflMapH): cint

proc bpfl_program_get_info*(prog: BpflProgramH, info: var BpflProgramInfo): cint
proc bpfl_program_fd*(prog: BpflProgramH, outFd: var cint): cint
proc bpfl_program_attach*(prog: BpflProgramH, outLink: var BpflLinkH): cint
proc bpfl_program_attach_kprobe*(prog: BpflProgramH, fn: cstring, opts: ptr BpflKprobeOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_uprobe*(prog: BpflProgramH, binary, fn: cstring, opts: ptr BpflUprobeOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_tracepoint*(prog: BpflProgramH, category, name: cstring, outLink: var BpflLinkH): cint
proc bpfl_program_attach_raw_tracepoint*(prog: BpflProgramH, name: cstring, outLink: var BpflLinkH): cint
proc bpfl_program_attach_usdt*(prog: BpflProgramH, pid: cint, binary, provider, name: cstring, opts: ptr BpflUsdtOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_uprobe_multi*(prog: BpflProgramH, pid: cint, binary, pattern: cstring, opts: ptr BpflUprobeMultiOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_kprobe_multi*(prog: BpflProgramH, pattern: cstring, opts: ptr BpflKprobeMultiOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_ksyscall*(prog: BpflProgramH, name: cstring, opts: ptr BpflKsyscallOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_trace_opts*(prog: BpflProgramH, opts: ptr BpflTraceOpts, outLink: var BpflLinkH): cint
proc bpfl_program_attach_tracepoint_opts*(prog: BpflProgramH, category, name: cstring, opts: ptr BpflTracepointOpts, outLink: var BpflLinkH): cint
proc bpfl_link_destroy*(link: BpflLinkH): cint
proc bpfl_link_fd*(link: BpflLinkH, outFd: var cint): cint

proc bpfl_map_get_info*(m: BpflMapH, info: var BpflMapInfo): cint
proc bpfl_map_value_buf_size*(m: BpflMapH, outSize: var csize_t): cint
proc bpfl_map_lookup*(m: BpflMapH, key: pointer, keySize: csize_t, value: pointer, valueSize: csize_t): cint
proc bpfl_map_update*(m: BpflMapH, key: pointer, keySize: csize_t, value: pointer, valueSize: csize_t, flags: uint64): cint
proc bpfl_map_delete*(m: BpflMapH, key: pointer, keySize: csize_t): cint
proc bpfl_map_next_key*(m: BpflMapH, key: pointer, nextKey: pointer, keySize: csize_t): cint
proc bpfl_map_clear*(m: BpflMapH): cint
proc bpfl_map_read_all*(m: BpflMapH, keys: pointer, values: pointer, capacity: csize_t, outCount: var csize_t): cint
proc bpfl_map_open_pinned*(path: cstring, outMap: var BpflMapH): cint
proc bpfl_map_pin*(m: BpflMapH, path: cstring): cint
proc bpfl_map_set_initial_value*(m: BpflMapH, data: pointer, len: csize_t): cint
# set-up between open and load
proc bpfl_program_set_autoload*(p: BpflProgramH, autoload: bool): cint
proc bpfl_program_autoload*(p: BpflProgramH, outAutoload: var bool): cint
proc bpfl_program_set_type*(p: BpflProgramH, progType: uint32): cint
proc bpfl_program_set_expected_attach_type*(p: BpflProgramH, attachType: uint32): cint
proc bpfl_program_set_attach_target*(p: BpflProgramH, attachProgFd: cint, fn: cstring): cint
proc bpfl_program_set_flags*(p: BpflProgramH, flags: uint32): cint
proc bpfl_program_flags*(p: BpflProgramH, outFlags: var uint32): cint
proc bpfl_program_set_log_level*(p: BpflProgramH, level: uint32): cint
proc bpfl_program_log*(p: BpflProgramH, buf: cstring, len: csize_t, outLen: var csize_t): cint
proc bpfl_map_set_max_entries*(m: BpflMapH, n: uint32): cint
proc bpfl_map_set_value_size*(m: BpflMapH, size: uint32): cint
proc bpfl_map_set_key_size*(m: BpflMapH, size: uint32): cint
proc bpfl_map_set_map_flags*(m: BpflMapH, flags: uint32): cint
proc bpfl_map_set_numa_node*(m: BpflMapH, node: uint32): cint
proc bpfl_map_set_inner_map_fd*(m: BpflMapH, fd: cint): cint
proc bpfl_map_reuse_fd*(m: BpflMapH, fd: cint): cint
proc bpfl_map_set_pin_path*(m: BpflMapH, path: cstring): cint
proc bpfl_map_set_autocreate*(m: BpflMapH, autocreate: bool): cint
proc bpfl_map_autocreate*(m: BpflMapH, outAutocreate: var bool): cint
proc bpfl_map_close*(m: BpflMapH): cint

proc bpfl_ringbuf_new*(m: BpflMapH, cb: BpflRingbufSampleFn, ctx: pointer, opts: ptr BpflRingbufOpts, outRb: var BpflRingbufH): cint
proc bpfl_ringbuf_add*(rb: BpflRingbufH, m: BpflMapH, cb: BpflRingbufSampleFn, ctx: pointer): cint
proc bpfl_ringbuf_poll*(rb: BpflRingbufH, timeoutMs: cint): cint
proc bpfl_ringbuf_consume*(rb: BpflRingbufH): cint
proc bpfl_ringbuf_epoll_fd*(rb: BpflRingbufH): cint
proc bpfl_ringbuf_free*(rb: BpflRingbufH): cint

proc bpfl_perfbuf_new*(m: BpflMapH, sampleCb: BpflPerfbufSampleFn, lostCb: BpflPerfbufLostFn, ctx: pointer, opts: ptr BpflPerfbufOpts, outPb: var BpflPerfbufH): cint
proc bpfl_perfbuf_poll*(pb: BpflPerfbufH, timeoutMs: cint): cint
proc bpfl_perfbuf_consume*(pb: BpflPerfbufH): cint
proc bpfl_perfbuf_epoll_fd*(pb: BpflPerfbufH): cint
proc bpfl_perfbuf_free*(pb: BpflPerfbufH): cint
{.pop.}

proc lastError*(): string =
  ## bpfl_last_error() as a Nim string.
  $bpfl_last_error()

include ffi_net
