## bpfl for Nim: load BPF objects, attach programs, use maps.
##
## Objects, maps opened from a pin and links close themselves when they go
## out of scope (`=destroy`); they can be moved but not copied. Every
## failure raises `BpflError` carrying bpfl's own message (bpfl_last_error())
## and the negative errno; a missing key raises `KeyError`. Ring and perf
## buffer consumers (`newRingBuffer`, `newPerfBuffer`) call Nim closures for
## each record and free themselves the same way.
##
## .. code-block:: nim
##   import bpfl
##   var obj = openObject("build/bpf/modern.o", pinRoot = "/sys/fs/bpf/mine")
##   obj.setRodata("target_tgid", uint32(getCurrentProcessId()))
##   obj.load()
##   discard obj.attachAll()
##   let byKind = obj.map("by_kind")
##   echo get[uint32, uint64](byKind, 0)

import std/[options, posix]
import bpfl/ffi

export options

type
  BpflError* = object of CatchableError
    code*: int ## the negative errno bpfl returned

  BpfObject* = object
    ## An open BPF ELF object. Closing it (or letting it go out of scope)
    ## detaches its links and closes its maps and programs.
    h: BpflObjectH

  BpfProgram* = object
    ## A program of an object; valid while its object is open.
    h: BpflProgramH

  BpfMap* = object
    ## A map of an object (valid while the object is open), or a map opened
    ## from a pin (closed when this value is destroyed).
    h: BpflMapH
    owned: bool

  BpfLink* = object
    ## An attachment: destroying it detaches the program.
    h: BpflLinkH

  ProgramInfo* = object
    name*, section*: string
    progType*, expectedAttachType*: uint32
    fd*: int
    insnCount*: int

  MapInfo* = object
    name*: string
    mapType*, keySize*, valueSize*, maxEntries*, flags*: uint32
    fd*: int

  ProbeMode* = enum
    pmAuto = 0   ## the perf kprobe PMU, else tracefs kprobe_events
    pmPmu = 1    ## only the perf kprobe PMU
    pmLegacy = 2 ## only tracefs kprobe_events

  UpdateFlag* = enum
    ufAny = 0     ## create or update
    ufNoExist = 1 ## create only
    ufExist = 2   ## update only

  LogLevel* = enum
    llError = 0, llWarn = 1, llInfo = 2, llDebug = 3

  LogHandler* = proc (level: LogLevel, msg: string) {.nimcall, gcsafe.}

# ---- errors ------------------------------------------------------------------

proc newBpflError(code: cint, what: string): ref BpflError =
  let msg = lastError()
  result = newException(BpflError, if msg.len > 0: what & ": " & msg else: what & ": error " & $code)
  result.code = code

template check(rc: cint, what: string) =
  let r = rc
  if r < 0: raise newBpflError(r, what)

proc version*(): string = $bpfl_version()

# ---- lifetime hooks ----------------------------------------------------------

proc `=destroy`(o: var BpfObject) =
  if o.h.id != 0:
    discard bpfl_object_close(o.h)
    o.h.id = 0
proc `=copy`(d: var BpfObject, s: BpfObject) {.error: "a BpfObject cannot be copied; move it".}

proc `=destroy`(m: var BpfMap) =
  if m.owned and m.h.id != 0:
    discard bpfl_map_close(m.h)
    m.h.id = 0
proc `=copy`(d: var BpfMap, s: BpfMap) {.error: "a BpfMap cannot be copied; move it".}

proc `=destroy`(l: var BpfLink) =
  if l.h.id != 0:
    discard bpfl_link_destroy(l.h)
    l.h.id = 0
proc `=copy`(d: var BpfLink, s: BpfLink) {.error: "a BpfLink cannot be copied; move it".}

proc handle*(o: BpfObject): BpflObjectH = o.h ## the raw handle, for bpfl/ffi
proc handle*(p: BpfProgram): BpflProgramH = p.h
proc handle*(m: BpfMap): BpflMapH = m.h
proc handle*(l: BpfLink): BpflLinkH = l.h
proc isOpen*(o: BpfObject): bool = o.h.id != 0
proc isAttached*(l: BpfLink): bool = l.h.id != 0

# ---- objects -----------------------------------------------------------------

proc openOpts(pinRoot, name: string, btfCustomPath = "", kconfig = "", kernelLogLevel = 0'u32): BpflOpenOpts =
  result.sz = csize_t(sizeof(BpflOpenOpts))
  if pinRoot.len > 0: result.pinRootPath = cstring(pinRoot)
  if name.len > 0: result.objectName = cstring(name)
  if btfCustomPath.len > 0: result.btfCustomPath = cstring(btfCustomPath)
  if kconfig.len > 0: result.kconfig = cstring(kconfig)
  result.kernelLogLevel = kernelLogLevel

proc openObject*(path: string, pinRoot = "", name = "", btfCustomPath = "", kconfig = "",
                 kernelLogLevel = 0'u32): BpfObject =
  ## Open a BPF ELF file. `pinRoot`: directory for maps pinned by name
  ## (default /sys/fs/bpf); `name`: object name (default: from the file);
  ## `btfCustomPath`: CO-RE target BTF file (default the kernel's);
  ## `kconfig`: "CONFIG_X=y\n..." overriding the host's values for
  ## __kconfig externs; `kernelLogLevel`: verifier log level of every program.
  var opts = openOpts(pinRoot, name, btfCustomPath, kconfig, kernelLogLevel)
  check bpfl_object_open_file(cstring(path), addr opts, result.h), "open " & path

proc openObjectMem*(data: openArray[byte], pinRoot = "", name = ""): BpfObject =
  ## Open a BPF ELF object from memory (the bytes are copied).
  var opts = openOpts(pinRoot, name)
  let p = if data.len > 0: unsafeAddr data[0] else: nil
  check bpfl_object_open_mem(p, csize_t(data.len), addr opts, result.h), "open from memory"

proc openObjectMem*(data: string, pinRoot = "", name = ""): BpfObject =
  openObjectMem(data.toOpenArrayByte(0, data.high), pinRoot, name)

proc close*(o: var BpfObject) =
  ## Close now (detach links, close maps and programs). Idempotent.
  if o.h.id != 0:
    let h = o.h
    o.h.id = 0
    check bpfl_object_close(h), "close object"

proc name*(o: BpfObject): string =
  var buf: array[256, char]
  check bpfl_object_name(o.h, cast[cstring](addr buf[0]), csize_t(buf.len)), "object name"
  $cast[cstring](addr buf[0])

proc setRodata*[T](o: BpfObject, variable: string, value: T) =
  ## Set a global (`const volatile` in .rodata, or .data/.bss) before load.
  ## `sizeof(T)` must be the variable's size.
  var v = value
  check bpfl_object_set_rodata(o.h, cstring(variable), addr v, csize_t(sizeof(T))),
    "set " & variable

proc load*(o: BpfObject, logLevel = 0'u32, kernVersion = 0'u32) =
  ## Create the maps and load every program. A verifier rejection raises
  ## BpflError whose message names the program and holds the verifier log.
  var opts = BpflLoadOpts(sz: csize_t(sizeof(BpflLoadOpts)), logLevel: logLevel,
                          kernVersion: kernVersion)
  check bpfl_object_load(o.h, addr opts), "load"

proc attachAll*(o: BpfObject): int {.discardable.} =
  ## Attach every program whose section names its target; links belong to
  ## the object. Returns how many were attached (failures are logged by bpfl).
  let rc = bpfl_object_attach_all(o.h)
  check rc, "attach all"
  int(rc)

proc programCount*(o: BpfObject): int =
  var n: csize_t
  check bpfl_object_program_count(o.h, n), "program count"
  int(n)

proc mapCount*(o: BpfObject): int =
  var n: csize_t
  check bpfl_object_map_count(o.h, n), "map count"
  int(n)

proc program*(o: BpfObject, name: string): BpfProgram =
  ## The program whose C function is `name`.
  check bpfl_object_find_program(o.h, cstring(name), result.h), "program " & name

proc map*(o: BpfObject, name: string): BpfMap =
  ## The map named `name` (global data: ".data", ".rodata", ".bss").
  check bpfl_object_find_map(o.h, cstring(name), result.h), "map " & name

iterator programs*(o: BpfObject): BpfProgram =
  for i in 0 ..< o.programCount:
    var p: BpfProgram
    check bpfl_object_program_at(o.h, csize_t(i), p.h), "program at " & $i
    yield p

iterator maps*(o: BpfObject): BpfMap =
  for i in 0 ..< o.mapCount:
    var m: BpfMap
    check bpfl_object_map_at(o.h, csize_t(i), m.h), "map at " & $i
    yield m

# ---- programs and links ------------------------------------------------------

proc info*(p: BpfProgram): ProgramInfo =
  var i = BpflProgramInfo(sz: csize_t(sizeof(BpflProgramInfo)))
  check bpfl_program_get_info(p.h, i), "program info"
  ProgramInfo(name: $i.name, section: $i.section, progType: i.progType,
              expectedAttachType: i.expectedAttachType, fd: int(i.fd),
              insnCount: int(i.insnCnt))

proc name*(p: BpfProgram): string = p.info.name
proc section*(p: BpfProgram): string = p.info.section

proc fd*(p: BpfProgram): int =
  var f: cint
  check bpfl_program_fd(p.h, f), "program fd"
  int(f)

proc attach*(p: BpfProgram): BpfLink =
  ## Attach where the section says (kprobe/, kretprobe/, tracepoint/, tp/,
  ## raw_tracepoint/, uprobe/, usdt/, uprobe.multi/, kprobe.multi/,
  ## ksyscall/ ...). Keep the link: destroying it detaches the program.
  check bpfl_program_attach(p.h, result.h), "attach"

proc attachKprobe*(p: BpfProgram, function: string, retprobe = false, offset = 0'u64,
                   mode = pmAuto, cookie = 0'u64): BpfLink =
  var opts = BpflKprobeOpts(sz: csize_t(sizeof(BpflKprobeOpts)), offset: offset,
                            retprobe: retprobe, mode: uint32(ord(mode)), cookie: cookie)
  check bpfl_program_attach_kprobe(p.h, cstring(function), addr opts, result.h),
    "attach kprobe " & function

proc attachUprobe*(p: BpfProgram, binary: string, function = "", retprobe = false,
                   offset = 0'u64, pid = -1, cookie = 0'u64): BpfLink =
  ## A uprobe on `function` in the ELF file `binary` (an empty `function`:
  ## at file offset `offset`); `pid` -1: every process running the binary;
  ## `cookie` for bpf_get_attach_cookie().
  var opts = BpflUprobeOpts(sz: csize_t(sizeof(BpflUprobeOpts)), offset: offset,
                            retprobe: retprobe, pid: int32(pid), cookie: cookie)
  let fn: cstring = if function.len == 0: nil else: cstring(function)
  check bpfl_program_attach_uprobe(p.h, cstring(binary), fn, addr opts, result.h),
    "attach uprobe " & binary & ":" & function

proc attachTracepoint*(p: BpfProgram, category, name: string): BpfLink =
  check bpfl_program_attach_tracepoint(p.h, cstring(category), cstring(name), result.h),
    "attach tracepoint " & category & "/" & name

proc attachRawTracepoint*(p: BpfProgram, name: string): BpfLink =
  check bpfl_program_attach_raw_tracepoint(p.h, cstring(name), result.h),
    "attach raw tracepoint " & name

proc attachTracepoint*(p: BpfProgram, category, name: string, cookie: uint64): BpfLink =
  ## A tracepoint through a BPF perf link carrying `cookie` (bpf_get_attach_cookie()).
  var opts = BpflTracepointOpts(sz: csize_t(sizeof(BpflTracepointOpts)), cookie: cookie)
  check bpfl_program_attach_tracepoint_opts(p.h, cstring(category), cstring(name), addr opts, result.h),
    "attach tracepoint " & category & "/" & name

proc attachTrace*(p: BpfProgram, cookie: uint64): BpfLink =
  ## fentry/fexit/fmod_ret/lsm where the section says, through a tracing link
  ## carrying `cookie` for bpf_get_attach_cookie() (Linux 5.19+).
  var opts = BpflTraceOpts(sz: csize_t(sizeof(BpflTraceOpts)), cookie: cookie)
  check bpfl_program_attach_trace_opts(p.h, addr opts, result.h), "attach trace"

proc attachUsdt*(p: BpfProgram, binary, provider, name: string, pid = -1, cookie = 0'u64): BpfLink =
  ## Every site of USDT probe `provider:name` in `binary`: one uprobe per
  ## site, its semaphore counted by the kernel, its arguments for
  ## bpfl/usdt.bpf.h; `cookie` is what bpf_usdt_cookie() gives.
  var opts = BpflUsdtOpts(sz: csize_t(sizeof(BpflUsdtOpts)), cookie: cookie)
  check bpfl_program_attach_usdt(p.h, cint(pid), cstring(binary), cstring(provider), cstring(name),
                                 addr opts, result.h),
    "attach usdt " & binary & ":" & provider & ":" & name

proc cstrs(v: openArray[string]): seq[cstring] =
  for s in v: result.add cstring(s)

proc attachUprobeMulti*(p: BpfProgram, binary: string, pattern = "", syms: openArray[string] = [],
                        offsets: openArray[uint64] = [], cookies: openArray[uint64] = [],
                        retprobe = false, pid = -1): BpfLink =
  ## Many places of one binary (functions matching `pattern`, or `syms`, or
  ## file `offsets`), one cookie each: one uprobe.multi link where the kernel
  ## and the program's section allow, else one uprobe per place.
  var cs = cstrs(syms)
  var offs = @offsets
  var cks = @cookies
  var opts = BpflUprobeMultiOpts(sz: csize_t(sizeof(BpflUprobeMultiOpts)),
    syms: (if cs.len > 0: addr cs[0] else: nil), offsets: (if offs.len > 0: addr offs[0] else: nil),
    cookies: (if cks.len > 0: addr cks[0] else: nil), cnt: csize_t(max([cs.len, offs.len, cks.len])),
    retprobe: retprobe)
  let pat: cstring = if pattern.len == 0: nil else: cstring(pattern)
  check bpfl_program_attach_uprobe_multi(p.h, cint(pid), cstring(binary), pat, addr opts, result.h),
    "attach uprobe.multi " & binary

proc attachKprobeMulti*(p: BpfProgram, pattern = "", syms: openArray[string] = [],
                        addrs: openArray[uint64] = [], cookies: openArray[uint64] = [],
                        retprobe = false, session = false): BpfLink =
  ## Many kernel functions (matching `pattern`, or `syms`, or `addrs`): one
  ## kprobe.multi link (CONFIG_FPROBE, Linux 5.18+), else for a program from
  ## a kprobe section one kprobe per function.
  var cs = cstrs(syms)
  var ads = @addrs
  var cks = @cookies
  var opts = BpflKprobeMultiOpts(sz: csize_t(sizeof(BpflKprobeMultiOpts)),
    syms: (if cs.len > 0: addr cs[0] else: nil), addrs: (if ads.len > 0: addr ads[0] else: nil),
    cookies: (if cks.len > 0: addr cks[0] else: nil), cnt: csize_t(max([cs.len, ads.len, cks.len])),
    retprobe: retprobe, session: session)
  let pat: cstring = if pattern.len == 0: nil else: cstring(pattern)
  check bpfl_program_attach_kprobe_multi(p.h, pat, addr opts, result.h), "attach kprobe.multi " & pattern

proc attachKsyscall*(p: BpfProgram, name: string, retprobe = false, cookie = 0'u64,
                     mode = pmAuto): BpfLink =
  ## A kprobe on syscall `name`'s entry (or return), through the arch's wrapper.
  var opts = BpflKsyscallOpts(sz: csize_t(sizeof(BpflKsyscallOpts)), cookie: cookie,
                              retprobe: retprobe, mode: uint32(ord(mode)))
  check bpfl_program_attach_ksyscall(p.h, cstring(name), addr opts, result.h), "attach ksyscall " & name

proc detach*(l: var BpfLink) =
  ## Detach now. Idempotent.
  if l.h.id != 0:
    let h = l.h
    l.h.id = 0
    check bpfl_link_destroy(h), "detach"

proc fd*(l: BpfLink): int =
  var f: cint
  check bpfl_link_fd(l.h, f), "link fd"
  int(f)

# ---- maps --------------------------------------------------------------------

proc openPinned*(path: string): BpfMap =
  ## Open a map pinned on a bpffs; it is closed when the value is destroyed.
  check bpfl_map_open_pinned(cstring(path), result.h), "open pinned map"
  result.owned = true

proc close*(m: var BpfMap) =
  ## Close a map opened from a pin (object maps close with their object).
  if m.owned and m.h.id != 0:
    let h = m.h
    m.h.id = 0
    check bpfl_map_close(h), "close map"

proc pin*(m: BpfMap, path: string) =
  check bpfl_map_pin(m.h, cstring(path)), "pin map at " & path

proc info*(m: BpfMap): MapInfo =
  var i = BpflMapInfo(sz: csize_t(sizeof(BpflMapInfo)))
  check bpfl_map_get_info(m.h, i), "map info"
  MapInfo(name: $i.name, mapType: i.mapType, keySize: i.keySize, valueSize: i.valueSize,
          maxEntries: i.maxEntries, flags: i.mapFlags, fd: int(i.fd))

proc name*(m: BpfMap): string = m.info.name
proc fd*(m: BpfMap): int = m.info.fd

proc valueBufSize*(m: BpfMap): int =
  ## Bytes a lookup fills: the value size, or for per-CPU maps
  ## round_up(value_size, 8) * possible CPUs.
  var n: csize_t
  check bpfl_map_value_buf_size(m.h, n), "value buffer size"
  int(n)

proc setInitialValue*(m: BpfMap, data: openArray[byte]) =
  ## Initial contents of a global data map, before load.
  let p = if data.len > 0: unsafeAddr data[0] else: nil
  check bpfl_map_set_initial_value(m.h, p, csize_t(data.len)), "set initial value"

proc tryGet*[K, V](m: BpfMap, key: K, value: var V): bool =
  ## Look up `key` into `value`; false when the key is absent.
  var k = key
  let rc = bpfl_map_lookup(m.h, addr k, csize_t(sizeof(K)), addr value, csize_t(sizeof(V)))
  if rc == -ENOENT: return false
  check rc, "lookup"
  true

proc lookup*[K, V](m: BpfMap, key: K): Option[V] =
  ## `some(value)`, or `none` when the key is absent. Call as `lookup[K, V](m, key)`.
  var v: V
  if tryGet(m, key, v): some(v) else: none(V)

proc get*[K, V](m: BpfMap, key: K): V =
  ## The value of `key`; raises KeyError when it is absent.
  ## Call as `get[uint32, uint64](m, 0'u32)`.
  if not tryGet(m, key, result):
    raise newException(KeyError, "key not found in map " & m.name)

proc get*[K, V](m: BpfMap, key: K, T: typedesc[V]): V =
  ## `m.get(key, uint64)`: the same as `get[K, V](m, key)`.
  get[K, V](m, key)

proc put*[K, V](m: BpfMap, key: K, value: V, flag = ufAny) =
  var k = key
  var v = value
  check bpfl_map_update(m.h, addr k, csize_t(sizeof(K)), addr v, csize_t(sizeof(V)),
                        uint64(ord(flag))), "update"

proc `[]=`*[K, V](m: BpfMap, key: K, value: V) = m.put(key, value)

proc del*[K](m: BpfMap, key: K): bool {.discardable.} =
  ## Delete `key`; false when it was absent.
  var k = key
  let rc = bpfl_map_delete(m.h, addr k, csize_t(sizeof(K)))
  if rc == -ENOENT: return false
  check rc, "delete"
  true

proc contains*[K](m: BpfMap, key: K): bool =
  ## Whether `key` is present (`key in m`).
  var buf = newSeq[byte](max(m.valueBufSize, 1))
  var k = key
  let rc = bpfl_map_lookup(m.h, addr k, csize_t(sizeof(K)), addr buf[0], csize_t(buf.len))
  if rc == -ENOENT: return false
  check rc, "lookup"
  true

proc clear*(m: BpfMap) =
  ## Remove every entry (hash-like maps) or zero every value (arrays).
  check bpfl_map_clear(m.h), "clear"

iterator keys*[K](m: BpfMap): K =
  ## Walk the keys with next_key (live: the map may change meanwhile).
  var cur, nxt: K
  var rc = bpfl_map_next_key(m.h, nil, addr cur, csize_t(sizeof(K)))
  while rc == 0:
    yield cur
    rc = bpfl_map_next_key(m.h, addr cur, addr nxt, csize_t(sizeof(K)))
    cur = nxt
  if rc != -ENOENT: raise newBpflError(rc, "next key")

proc readAll*[K, V](m: BpfMap): seq[(K, V)] =
  ## Every entry at once, read with batch syscalls where the kernel has them.
  let cap = max(int(m.info.maxEntries), 1)
  var ks = newSeq[K](cap)
  var vs = newSeq[V](cap)
  if m.valueBufSize != sizeof(V):
    raise (ref BpflError)(code: -EINVAL, msg: "read all: map " & m.name & " has " &
      $m.valueBufSize & "-byte value buffers, not " & $sizeof(V))
  var n: csize_t
  check bpfl_map_read_all(m.h, addr ks[0], addr vs[0], csize_t(cap), n), "read all"
  result = newSeq[(K, V)](int(n))
  for i in 0 ..< int(n): result[i] = (ks[i], vs[i])

iterator pairs*[K, V](m: BpfMap): (K, V) =
  ## A snapshot of every entry (read_all). Call as `pairs[K, V](m)`.
  for kv in readAll[K, V](m): yield kv

# ---- per-CPU maps --------------------------------------------------------------

proc perCpuStride[V](m: BpfMap): int =
  let vs = int(m.info.valueSize)
  if vs != sizeof(V):
    raise (ref BpflError)(code: -EINVAL, msg: "map " & m.name & " has " & $vs &
      "-byte values, not " & $sizeof(V))
  (sizeof(V) + 7) and not 7

proc getPerCpu*[K, V](m: BpfMap, key: K): seq[V] =
  ## One value per possible CPU. Raises KeyError when the key is absent.
  let stride = perCpuStride[V](m)
  let size = m.valueBufSize
  var buf = newSeq[byte](size)
  var k = key
  let rc = bpfl_map_lookup(m.h, addr k, csize_t(sizeof(K)), addr buf[0], csize_t(size))
  if rc == -ENOENT: raise newException(KeyError, "key not found in map " & m.name)
  check rc, "lookup"
  result = newSeq[V](size div stride)
  for i in 0 ..< result.len:
    copyMem(addr result[i], addr buf[i * stride], sizeof(V))

proc sumPerCpu*[K, V: SomeNumber](m: BpfMap, key: K): V =
  ## The sum over CPUs of a per-CPU value. Call as `sumPerCpu[uint32, uint64](m, 0)`.
  for v in getPerCpu[K, V](m, key): result += v

proc putPerCpu*[K, V](m: BpfMap, key: K, values: openArray[V], flag = ufAny) =
  ## Write one value per possible CPU (`values.len` must be the CPU count).
  let stride = perCpuStride[V](m)
  let size = m.valueBufSize
  if values.len * stride != size:
    raise (ref BpflError)(code: -EINVAL, msg: "map " & m.name & " needs " &
      $(size div stride) & " per-CPU values, got " & $values.len)
  var buf = newSeq[byte](size)
  for i, v in values:
    var x = v
    copyMem(addr buf[i * stride], addr x, sizeof(V))
  var k = key
  check bpfl_map_update(m.h, addr k, csize_t(sizeof(K)), addr buf[0], csize_t(size),
                        uint64(ord(flag))), "update"

# ---- logging -------------------------------------------------------------------

var logHandler: LogHandler

proc logTrampoline(level: cint, msg: cstring, ctx: pointer) {.cdecl, gcsafe.} =
  {.cast(gcsafe).}:
    let h = logHandler
    if h != nil: h(LogLevel(max(0, min(3, int(level)))), $msg)

proc setLogHandler*(handler: LogHandler, maxLevel = llInfo) =
  ## Receive bpfl's log lines up to `maxLevel`; nil restores the default
  ## (stderr when BPFL_LOG=error|warn|info|debug is set).
  logHandler = handler
  if handler == nil:
    check bpfl_set_log_callback(nil, nil, cint(ord(maxLevel))), "set log callback"
  else:
    check bpfl_set_log_callback(logTrampoline, nil, cint(ord(maxLevel))), "set log callback"

# ---- ring buffers and perf buffers --------------------------------------------------

type
  RingBufferCallback* = proc (data: openArray[byte]): int
    ## Called for each ring buffer record; `data` is valid only during the
    ## call. Return 0 to go on; anything else stops the poll, which returns it.
  PerfSampleCallback* = proc (cpu: int, data: openArray[byte]): int
    ## Called for each perf buffer sample written on `cpu`; the kernel pads
    ## samples, so `data` may be up to 7 bytes longer than what was written.
  PerfLostCallback* = proc (cpu: int, lost: uint64)
    ## Called when the kernel dropped `lost` samples on `cpu` (its ring was full).

  CallbackState = object
    ring: RingBufferCallback
    sample: PerfSampleCallback
    lost: PerfLostCallback
    error: ref Exception ## raised by a callback; re-raised by poll/consume
    stopped: bool        ## a callback returned non-zero
  CallbackCtx = ref CallbackState
    ## Kept alive by its buffer object; its address is the C ctx.

  BpfRingBuffer* = object
    ## A consumer of one or more BPF_MAP_TYPE_RINGBUF maps. Independent of
    ## the maps' object (it may outlive it); freed when it goes out of scope.
    h: BpflRingbufH
    ctxs: seq[CallbackCtx]

  BpfPerfBuffer* = object
    ## A consumer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY map (one ring per online
    ## CPU). Independent of the map's object; freed when it goes out of scope.
    h: BpflPerfbufH
    ctx: CallbackCtx

proc `=destroy`(rb: var BpfRingBuffer) =
  if rb.h.id != 0:
    discard bpfl_ringbuf_free(rb.h)
    rb.h.id = 0
  `=destroy`(rb.ctxs)
proc `=copy`(d: var BpfRingBuffer, s: BpfRingBuffer) {.error: "a BpfRingBuffer cannot be copied; move it".}

proc `=destroy`(pb: var BpfPerfBuffer) =
  if pb.h.id != 0:
    discard bpfl_perfbuf_free(pb.h)
    pb.h.id = 0
  `=destroy`(pb.ctx)
proc `=copy`(d: var BpfPerfBuffer, s: BpfPerfBuffer) {.error: "a BpfPerfBuffer cannot be copied; move it".}

proc handle*(rb: BpfRingBuffer): BpflRingbufH = rb.h ## the raw handle, for bpfl/ffi
proc handle*(pb: BpfPerfBuffer): BpflPerfbufH = pb.h
proc isOpen*(rb: BpfRingBuffer): bool = rb.h.id != 0
proc isOpen*(pb: BpfPerfBuffer): bool = pb.h.id != 0

template bytesAt(data: pointer, size: int): untyped =
  toOpenArray(cast[ptr UncheckedArray[byte]](data), 0, size - 1)

proc stopValue(c: ptr CallbackState, r: int): cint =
  # A non-zero return stops the poll; keep it non-zero when it is narrowed.
  c.stopped = true
  cint(clamp(r, int(low(cint)), int(high(cint))))

# The trampolines never let a Nim exception unwind into bpfl: they keep it
# and stop the poll with -ECANCELED; poll/consume then raise it again.
# The ctx is read through a plain pointer: no reference counting here.
proc ringTrampoline(ctx: pointer, data: pointer, size: csize_t): cint {.cdecl, gcsafe.} =
  let c = cast[ptr CallbackState](ctx)
  {.cast(gcsafe).}:
    try:
      let r = c.ring(bytesAt(data, int(size)))
      if r != 0: return stopValue(c, r)
    except Exception as e:
      c.error = e
      return -ECANCELED
  0

proc perfSampleTrampoline(ctx: pointer, cpu: cint, data: pointer, size: uint32): cint {.cdecl, gcsafe.} =
  let c = cast[ptr CallbackState](ctx)
  {.cast(gcsafe).}:
    try:
      let r = c.sample(int(cpu), bytesAt(data, int(size)))
      if r != 0: return stopValue(c, r)
    except Exception as e:
      c.error = e
      return -ECANCELED
  0

proc perfLostTrampoline(ctx: pointer, cpu: cint, lost: uint64) {.cdecl, gcsafe.} =
  let c = cast[ptr CallbackState](ctx)
  {.cast(gcsafe).}:
    try:
      c.lost(int(cpu), lost)
    except Exception as e:
      if c.error == nil: c.error = e

proc finish(c: CallbackCtx, stopped: var bool, err: var ref Exception) =
  if c.error != nil and err == nil: err = c.error
  c.error = nil
  stopped = stopped or c.stopped
  c.stopped = false

proc outcome(rc: cint, stopped: bool, err: ref Exception, what: string): int =
  if err != nil: raise err
  if rc < 0 and not stopped: raise newBpflError(rc, what)
  int(rc)

proc requireOpen(id: uint64, what: string) =
  if id == 0:
    raise (ref BpflError)(code: -EBADF, msg: what & ": the buffer was freed")

proc newRingBuffer*(m: BpfMap, cb: RingBufferCallback): BpfRingBuffer =
  ## A consumer of ring buffer map `m` (its object loaded): `poll` and
  ## `consume` call `cb` for each record. Another map type raises BpflError
  ## (-EINVAL). Poll it from the thread that created it.
  if cb == nil: raise (ref BpflError)(code: -EINVAL, msg: "ring buffer: the callback is nil")
  let c = CallbackCtx(ring: cb)
  var opts = BpflRingbufOpts(sz: csize_t(sizeof(BpflRingbufOpts)))
  check bpfl_ringbuf_new(m.h, ringTrampoline, cast[pointer](c), addr opts, result.h), "ring buffer"
  result.ctxs.add c

proc add*(rb: var BpfRingBuffer, m: BpfMap, cb: RingBufferCallback) =
  ## Consume ring buffer map `m` too, with its own callback: one poll then
  ## serves every map.
  if cb == nil: raise (ref BpflError)(code: -EINVAL, msg: "ring buffer add: the callback is nil")
  let c = CallbackCtx(ring: cb)
  requireOpen(rb.h.id, "ring buffer add")
  check bpfl_ringbuf_add(rb.h, m.h, ringTrampoline, cast[pointer](c)), "ring buffer add"
  rb.ctxs.add c

proc ringOutcome(rb: BpfRingBuffer, rc: cint, what: string): int =
  var stopped = false
  var err: ref Exception
  for c in rb.ctxs: finish(c, stopped, err)
  outcome(rc, stopped, err, what)

proc poll*(rb: BpfRingBuffer, timeoutMs = -1): int {.discardable.} =
  ## Wait up to `timeoutMs` (-1: forever, 0: not at all) for records, then
  ## call the callbacks for every record there is. Returns how many records
  ## were consumed, or the non-zero value a callback stopped with. An
  ## exception raised by a callback stops the poll and is raised again here
  ## (that record counts as consumed); a failure raises BpflError (-EINTR when
  ## a signal came, -EBUSY when called from its own callback, -EBADF once
  ## the buffer is freed).
  requireOpen(rb.h.id, "ring buffer poll")
  let rc = bpfl_ringbuf_poll(rb.h, cint(timeoutMs))
  ringOutcome(rb, rc, "ring buffer poll")

proc consume*(rb: BpfRingBuffer): int {.discardable.} =
  ## Call the callbacks for every record now in the rings, without waiting.
  ## Returns and raises as `poll` does.
  requireOpen(rb.h.id, "ring buffer consume")
  let rc = bpfl_ringbuf_consume(rb.h)
  ringOutcome(rb, rc, "ring buffer consume")

proc epollFd*(rb: BpfRingBuffer): int =
  ## An epoll fd, readable when a ring has records (owned by the buffer;
  ## valid until it is freed), for an event loop.
  requireOpen(rb.h.id, "ring buffer epoll fd")
  let rc = bpfl_ringbuf_epoll_fd(rb.h)
  check rc, "ring buffer epoll fd"
  int(rc)

proc free*(rb: var BpfRingBuffer) =
  ## Free now (unmap the rings, close their fds). Idempotent. Not from
  ## inside one of its own callbacks.
  if rb.h.id != 0:
    let h = rb.h
    rb.h.id = 0
    let rc = bpfl_ringbuf_free(h)
    rb.ctxs = @[]
    check rc, "ring buffer free"

proc newPerfBuffer*(m: BpfMap, onSample: PerfSampleCallback, onLost: PerfLostCallback = nil,
                    pageCount = 0): BpfPerfBuffer =
  ## A consumer of perf event array `m` (its object loaded), with `pageCount`
  ## data pages per CPU (a power of two; 0: 8). `poll` and `consume` call
  ## `onSample` for each sample and `onLost` (if not nil) for each loss
  ## report. Another map type raises BpflError (-EINVAL).
  if onSample == nil: raise (ref BpflError)(code: -EINVAL, msg: "perf buffer: the sample callback is nil")
  let c = CallbackCtx(sample: onSample, lost: onLost)
  var opts = BpflPerfbufOpts(sz: csize_t(sizeof(BpflPerfbufOpts)), pageCnt: csize_t(pageCount))
  let lostFn: BpflPerfbufLostFn = if onLost == nil: nil else: perfLostTrampoline
  check bpfl_perfbuf_new(m.h, perfSampleTrampoline, lostFn, cast[pointer](c), addr opts,
                         result.h), "perf buffer"
  result.ctx = c

proc perfOutcome(pb: BpfPerfBuffer, rc: cint, what: string): int =
  var stopped = false
  var err: ref Exception
  if pb.ctx != nil: finish(pb.ctx, stopped, err)
  outcome(rc, stopped, err, what)

proc poll*(pb: BpfPerfBuffer, timeoutMs = -1): int {.discardable.} =
  ## Wait up to `timeoutMs` (-1: forever, 0: not at all) for samples, then
  ## read the CPUs' rings that have some. Returns the number of samples, or
  ## the non-zero value the sample callback stopped with; raises as the ring
  ## buffer's `poll` does.
  requireOpen(pb.h.id, "perf buffer poll")
  let rc = bpfl_perfbuf_poll(pb.h, cint(timeoutMs))
  perfOutcome(pb, rc, "perf buffer poll")

proc consume*(pb: BpfPerfBuffer): int {.discardable.} =
  ## Read every CPU's ring now, without waiting.
  requireOpen(pb.h.id, "perf buffer consume")
  let rc = bpfl_perfbuf_consume(pb.h)
  perfOutcome(pb, rc, "perf buffer consume")

proc epollFd*(pb: BpfPerfBuffer): int =
  ## An epoll fd, readable when a CPU's ring has data (valid until freed).
  requireOpen(pb.h.id, "perf buffer epoll fd")
  let rc = bpfl_perfbuf_epoll_fd(pb.h)
  check rc, "perf buffer epoll fd"
  int(rc)

proc free*(pb: var BpfPerfBuffer) =
  ## Free now (remove its events from the map, unmap and close them).
  ## Idempotent. Not from inside one of its own callbacks.
  if pb.h.id != 0:
    let h = pb.h
    pb.h.id = 0
    let rc = bpfl_perfbuf_free(h)
    pb.ctx = nil
    check rc, "perf buffer free"

include bpfl/setup
# cgroup, socket, sockmap and netns attachments; prog-array and map-of-maps slots.
include bpfl/cgroup_sock
include bpfl/net
# Links, perf events and iterators (issue 12).
include bpfl/kinds
# Global variables and mmapable arrays without syscalls (issue 13).
include bpfl/globals
# What is loaded kernel-wide: programs, maps, links by id.
include bpfl/loaded
# Batch map operations (issue 13).
include bpfl/batch
