## The idiomatic `bpfl` module on the real kernel: modern.o (rodata, .data,
## .bss, pinning by name, per-CPU), seed_tp.o (links and their lifetime),
## exceptions, the verifier log, and objects closing themselves.
##   test_bpfl BPF_DIR
import std/[exitprocs, os, osproc, posix, sequtils, strutils, tables]
import bpfl, bpfl/ffi
import harness

requireRoot("Nim bpfl kernel tests")
let bpfDir = paramStr(1)
let me = uint32(getpid())
let noKprobes = not dirExists("/sys/bus/event_source/devices/kprobe") and
                not fileExists("/sys/kernel/tracing/kprobe_events")

check version().len > 0, "version " & version()

# The Nim declarations of bpfl/ffi match include/bpfl.h (sizes and offsets).
{.passC: "-I" & currentSourcePath().parentDir.parentDir.parentDir.parentDir / "include".}
{.compile: "layout.c".}
proc bpfl_nim_test_layout(r: ptr array[22, clong]) {.importc, cdecl.}
proc cLayout(): array[22, int] =
  var r: array[22, clong]
  bpfl_nim_test_layout(addr r)
  for i in 0 ..< 22: result[i] = int(r[i])
let nimLayout = [sizeof(BpflOpenOpts), sizeof(BpflLoadOpts), sizeof(BpflProgramInfo),
                 sizeof(BpflKprobeOpts), offsetOf(BpflKprobeOpts, mode), sizeof(BpflMapInfo),
                 offsetOf(BpflMapInfo, fd), offsetOf(BpflProgramInfo, insnCnt),
                 sizeof(BpflUprobeOpts), offsetOf(BpflUprobeOpts, pid),
                 sizeof(BpflRingbufOpts), sizeof(BpflPerfbufOpts), offsetOf(BpflPerfbufOpts, pageCnt),
                 sizeof(BpflUsdtOpts), sizeof(BpflUprobeMultiOpts), offsetOf(BpflUprobeMultiOpts, retprobe),
                 sizeof(BpflKprobeMultiOpts), offsetOf(BpflKprobeMultiOpts, session),
                 sizeof(BpflKsyscallOpts), offsetOf(BpflKsyscallOpts, mode), sizeof(BpflTracepointOpts),
                 offsetOf(BpflUprobeOpts, cookie)]
check cLayout() == nimLayout, "struct layouts: C " & $cLayout() & ", Nim " & $nimLayout

# ---- modern.o: rodata, attach all, exact values ----------------------------------
let root = "/sys/fs/bpf/bpfl-nim-" & $me
discard existsOrCreateDir(root)
addExitProc(proc () =
  # Pins left behind by a failed run.
  for d in [root, "/sys/fs/bpf/bpfl-nim-mem-" & $me]:
    if dirExists(d): removeDir(d))
var objHandle: BpflObjectH
block:
  var obj = openObject(bpfDir / "modern.o", pinRoot = root)
  objHandle = obj.handle
  check obj.name == "modern", "object name " & obj.name
  check obj.programCount == 3 and obj.mapCount == 6,
    "3 programs and 6 maps: " & $obj.programCount & ", " & $obj.mapCount
  var sections: seq[string]
  for p in obj.programs: sections.add p.section
  check "tp/syscalls/sys_enter_getpid" in sections and "raw_tracepoint/sys_enter" in sections,
    "program sections " & $sections
  var mapNames: seq[string]
  for m in obj.maps: mapNames.add m.name
  check ".rodata" in mapNames and ".bss" in mapNames and "percpu" in mapNames, "maps " & $mapNames

  obj.setRodata("target_tgid", me)
  var e = expectError(BpflError, "set_rodata with the wrong size"):
    obj.setRodata("target_tgid", 1'u16)
  check e != nil and e.code == -EINVAL and "target_tgid" in e.msg, "wrong size: EINVAL, names it"
  e = expectError(BpflError, "set_rodata of an unknown variable"):
    obj.setRodata("no_such_var", me)
  check e != nil and e.code == -ENOENT, "unknown variable: ENOENT: " & (if e != nil: e.msg else: "")

  e = expectError(BpflError, "program fd before load"):
    discard obj.program("on_getpid").fd
  check e != nil and "not loaded" in e.msg, "fd before load: " & (if e != nil: e.msg else: "")
  obj.load()
  check obj.program("on_getpid").fd >= 0, "program fd after load"
  e = expectError(BpflError, "load twice"):
    obj.load()
  check e != nil and e.code == -EINVAL, "second load: EINVAL"
  check obj.attachAll() == 3, "attachAll attaches 3 programs"

  for i in 0 ..< 4: syscall(SYS_getpid)
  syscall(SYS_gettid)

  let byKind = obj.map("by_kind")
  check get[uint32, uint64](byKind, 0'u32) == 4, "by_kind[0] (tp/getpid) == 4"
  check byKind.get(1'u32, uint64) == 1, "by_kind[1] (tracepoint/gettid) == 1"
  check lookup[uint32, uint64](byKind, 2'u32) == some(4'u64), "by_kind[2] (raw tp getpid) == 4"
  check byKind.get(3'u32, uint64) == 0x1234, "by_kind[3] == magic (.data) 0x1234"
  var total = 0'u64
  var n = 0
  for k, v in pairs[uint32, uint64](byKind):
    total += v
    inc n
  check n == 4 and total == 4 + 1 + 4 + 0x1234, "pairs over by_kind: " & $n & " entries"
  echo "modern: by_kind = ", readAll[uint32, uint64](byKind)

  check obj.map(".bss").get(0'u32, uint64) == 5, ".bss hits == 5"
  check obj.map(".data").get(0'u32, uint64) == 0x1234, ".data magic"
  check obj.map(".rodata").get(0'u32, uint32) == me, ".rodata target_tgid == my tgid"

  let pc = obj.map("pinned_counts")
  check pc.get(0'u32, uint64) == 4 and pc.get(1'u32, uint64) == 1, "pinned_counts[0], [1]"
  check fileExists(root / "pinned_counts"), "pinned by name under the pin root"

  # Per-CPU: one value per possible CPU; the sum is exact.
  let percpu = obj.map("percpu")
  let per = getPerCpu[uint32, uint64](percpu, 0'u32)
  check per.len * 8 == percpu.valueBufSize and per.len >= 1, "one value per CPU: " & $per.len
  check sumPerCpu[uint32, uint64](percpu, 0'u32) == 5, "per-CPU sum == 5: " & $per
  if percpu.valueBufSize > 8:
    e = expectError(BpflError, "plain get on a per-CPU map"):
      discard percpu.get(0'u32, uint64)
    check e != nil and e.code == -EINVAL, "plain get on per-CPU: EINVAL: " & (if e != nil: e.msg else: "")
  var zeros = newSeq[uint64](per.len)
  zeros[0] = 100
  putPerCpu(percpu, 0'u32, zeros)
  check sumPerCpu[uint32, uint64](percpu, 0'u32) == 100, "putPerCpu"

  # put / del / contains / keys / clear; typed errors.
  pc.put(7'u32, 99'u64)
  check 7'u32 in pc and pc.get(7'u32, uint64) == 99, "put then get"
  pc[8'u32] = 5'u64
  e = expectError(BpflError, "put with ufNoExist on an existing key"):
    pc.put(7'u32, 1'u64, ufNoExist)
  check e != nil and e.code == -EEXIST, "NOEXIST: EEXIST"
  var ks: seq[uint32]
  for k in keys[uint32](pc): ks.add k
  check 0'u32 in ks and 7'u32 in ks and 8'u32 in ks, "keys " & $ks
  check pc.del(7'u32) and not pc.del(7'u32), "del, then del again is false"
  check 7'u32 notin pc, "deleted"
  let ke = expectError(KeyError, "get of a missing key"):
    discard pc.get(7'u32, uint64)
  check ke != nil and "pinned_counts" in ke.msg, "KeyError names the map"
  e = expectError(BpflError, "get with the wrong value size"):
    discard pc.get(0'u32, uint16)
  check e != nil and e.code == -EINVAL and "pinned_counts" in e.msg, "wrong value size: " &
    (if e != nil: e.msg else: "")
  e = expectError(BpflError, "get with the wrong key size"):
    discard pc.get(0'u64, uint64)
  check e != nil and e.code == -EINVAL, "wrong key size"
  byKind.clear()
  check byKind.get(0'u32, uint64) == 0, "clear zeroes an array"
  e = expectError(BpflError, "missing map"):
    discard obj.map("no_such_map")
  check e != nil and e.code == -ENOENT, "missing map: ENOENT"
  e = expectError(BpflError, "missing program"):
    discard obj.program("no_such_prog")
  check e != nil and e.code == -ENOENT, "missing program: ENOENT"
  pc.del(8'u32)
  # obj goes out of scope here: =destroy closes it.

check bpfl_object_close(objHandle) == -EBADF, "=destroy closed the object (its handle is stale)"

# The pin outlives the object.
block:
  let pm = openPinned(root / "pinned_counts")
  let info = pm.info
  check info.mapType == 1 and info.keySize == 4 and info.valueSize == 8 and info.fd >= 0,
    "pinned map info " & $info
  check pm.get(0'u32, uint64) == 4 and pm.get(1'u32, uint64) == 1, "pinned values after close"
  var again = openPinned(root / "pinned_counts")
  let h = again.handle
  again.close()
  check bpfl_map_close(h) == -EBADF, "close() of a pinned map"
  # Pin an object map through the API, then open it.
  var o2 = openObject(bpfDir / "seed_tp.o")
  o2.load()
  o2.map("per_pid").pin(root / "per_pid")
  o2.map("per_pid").put(me, 77'u64)
  check openPinned(root / "per_pid").get(me, uint64) == 77, "pin() then openPinned()"
let e1 = expectError(BpflError, "open a missing pin"):
  discard openPinned(root / "nothing_here")
check e1 != nil and e1.code == -ENOENT and "nothing_here" in e1.msg, "missing pin: ENOENT"
removeFile(root / "pinned_counts")
removeFile(root / "per_pid")
removeDir(root)

# ---- links: attach one program, detach explicitly or by scope -------------------
block:
  var obj = openObject(bpfDir / "seed_tp.o")
  obj.load()
  let perPid = obj.map("per_pid")
  let prog = obj.program("enter_getppid")
  var link = prog.attachTracepoint("syscalls", "sys_enter_getppid")
  check link.fd >= 0, "link fd"
  syscall(SYS_getppid)
  syscall(SYS_getppid)
  check perPid.get(me, uint64) == 2, "counted through an explicit tracepoint link"
  link.detach()
  syscall(SYS_getppid)
  check perPid.get(me, uint64) == 2, "detach stops counting"
  block:
    let scoped = prog.attach()
    check scoped.isAttached, "attach() by section"
    syscall(SYS_getppid)
  syscall(SYS_getppid)
  check perPid.get(me, uint64) == 3, "a link detaches when it goes out of scope"
  let ew = expectError(BpflError, "attachKprobe of a tracepoint program"):
    discard prog.attachKprobe("__x64_sys_getppid")
  check ew.contains("cannot be attached as a kprobe"), "wrong program type: " &
    (if ew != nil: ew.msg else: "")

# Kprobe object: loads; attachAll logs through the log handler and raises.
var logged {.threadvar.}: seq[string]
proc onLog(level: LogLevel, msg: string) {.nimcall, gcsafe.} =
  {.cast(gcsafe).}: logged.add($level & " " & msg)
setLogHandler(onLog, llDebug)
block:
  var ko = openObject(bpfDir / "seed_kprobe.o")
  ko.load()
  let kp = ko.program("trace_getppid_ret")
  if noKprobes:
    let ee = expectError(BpflError, "attachKprobe without kprobes"):
      discard kp.attachKprobe("__x64_sys_getppid", retprobe = true)
    check ee != nil and ee.code == -EOPNOTSUPP and "kprobes are not supported" in ee.msg,
      "kprobe error is the clear one: " & (if ee != nil: ee.msg else: "")
  else:
    let l = kp.attachKprobe("__x64_sys_getppid", retprobe = true)
    check l.isAttached, "kretprobe attached"
  if noKprobes:
    let ee = expectError(BpflError, "attachAll with only kprobes on a kernel without them"):
      ko.attachAll()
    check ee != nil and "kprobes are not supported" in ee.msg, "attachAll error"
    var sawKprobe = false
    for l in logged:
      if "kprobe" in l: sawKprobe = true
    check sawKprobe, "log handler received the kprobe failures (" & $logged.len & " lines)"
  else:
    check ko.attachAll() == 2, "kprobes attach where the kernel has them"
setLogHandler(nil)

# ---- errors: bad files, verifier rejection, from memory ---------------------------
var e2 = expectError(BpflError, "open a missing file"):
  discard openObject("/nonexistent/x.o")
check e2 != nil and e2.code == -ENOENT and "/nonexistent/x.o" in e2.msg, "missing file names it"
e2 = expectError(BpflError, "open a map definition bpfl refuses"):
  discard openObject(bpfDir / "bad_maps.o")
check e2 != nil, "bad_maps.o: " & (if e2 != nil: e2.msg else: "")
e2 = expectError(BpflError, "open garbage from memory"):
  discard openObjectMem("not an ELF file at all")
check e2 != nil and "not an ELF" in e2.msg, "garbage: " & (if e2 != nil: e2.msg else: "")
block:
  var bad = openObject(bpfDir / "bad_verifier.o")
  let ev = expectError(BpflError, "verifier rejection"):
    bad.load()
  check ev.contains("deref_without_check") and ev.contains("verifier log") and ev.contains("R0"),
    "verifier error names the program and carries the log"
  if ev != nil: echo "verifier: ", ev.msg.splitLines()[0]
block:
  let root2 = "/sys/fs/bpf/bpfl-nim-mem-" & $me
  discard existsOrCreateDir(root2)
  var mo = openObjectMem(readFile(bpfDir / "modern.o"), pinRoot = root2, name = "frommem")
  check mo.name == "frommem", "object name from opts"
  mo.setRodata("target_tgid", me)
  mo.load()
  check mo.attachAll() == 3, "object from memory attaches"
  syscall(SYS_getpid)
  check mo.map("by_kind").get(0'u32, uint64) == 1, "object from memory counts"
  mo.close()
  mo.close() # idempotent
  removeFile(root2 / "pinned_counts")
  removeDir(root2)

# ---- uprobes: a C function of this program, found by name --------------------------
{.emit: """
#include <stdint.h>
__attribute__((noinline, used)) uint64_t nim_uprobe_target(uint64_t x) {
  __asm__ volatile("" : "+r"(x));
  return x * 3;
}
""".}
proc nimUprobeTarget(x: uint64): uint64 {.importc: "nim_uprobe_target", nodecl.}
block:
  var uo = openObject(bpfDir / "uprobe.o")
  uo.load()
  var l1 = uo.program("on_call").attachUprobe("/proc/self/exe", "nim_uprobe_target", pid = int(me))
  var l2 = uo.program("on_return").attachUprobe("/proc/self/exe", "nim_uprobe_target", retprobe = true)
  var total = 0'u64
  for i in 1'u64 .. 4'u64: total += nimUprobeTarget(i)
  check total == 30, "the target ran"
  let st = uo.map("stats")
  check st.get(0'u32, uint64) == 4 and st.get(1'u32, uint64) == 10, "uprobe calls and argument sum"
  check st.get(3'u32, uint64) == 12, "uretprobe saw the last return value"
  l1.detach()
  l2.detach()
  let eu = expectError(BpflError, "uprobe on a missing function"):
    discard uo.program("on_call").attachUprobe("/proc/self/exe", "nim_no_such_function")
  check eu != nil and eu.code == -ENOENT, "missing function: ENOENT"
  uo.close()

# ---- USDT and uprobe.multi: tests/usdt/usdt_target.c next to the BPF dir ------------
block:
  let target = absolutePath(bpfDir / ".." / "usdt_target")
  check fileExists(target), target & " missing: make build/usdt_target"
  var uo = openObject(bpfDir / "usdt.o")
  uo.load()
  let child = startProcess(target)
  let pid = child.processID
  for i in 0 ..< 200:  # until it sleeps in its loop, its SIGUSR1 handler set
    let st = try: readFile("/proc/" & $pid & "/stat") except IOError: ""
    let r = st.rfind(") ")
    if r >= 0 and r + 2 < st.len and st[r + 2] == 'S': break
    sleep(5)
  var l = uo.program("on_req").attachUsdt(target, "bpfltest", "req", pid = pid, cookie = 0x44)
  discard posix.kill(Pid(pid), SIGUSR1)
  check child.waitForExit() == 0, "the target fired with its semaphore set"
  child.close()
  l.detach()
  let seen = uo.map("seen")
  let want = [42'i64, -1234567890123, -77, 0x1122334455667788, 1, 31000, -5, -7, 1, 8, 0x44, int64(pid)]
  for k, w in want:
    check seen.get(uint32(k), int64) == w, "usdt seen[" & $k & "] = " & $seen.get(uint32(k), int64) & ", want " & $w
  var m = uo.program("on_multi").attachUprobeMulti(target, syms = ["bpfl_multi_1", "bpfl_multi_2", "bpfl_multi_3"],
                                                   cookies = [61'u64, 62, 63])
  check execCmd(quoteShell(target) & " m") == 0, "multi target"
  m.detach()
  let bc = uo.map("by_cookie")
  check bc.get(61'u64, uint64) == 1 and bc.get(62'u64, uint64) == 2 and bc.get(63'u64, uint64) == 3,
    "uprobe.multi counts per cookie"
  let eu = expectError(BpflError, "usdt probe that does not exist"):
    discard uo.program("on_req").attachUsdt(target, "bpfltest", "nope")
  check eu != nil and eu.code == -ENOENT, "missing usdt probe: ENOENT"
  let et = expectError(BpflError, "trace cookie on a usdt program"):
    discard uo.program("on_req").attachTrace(1)
  check et != nil and et.code == -EINVAL, "attachTrace on a non-fentry program: EINVAL"
  uo.close()

# ---- ring buffers: ringbuf.o, records in order, exact contents ----------------------
const
  markReserved = 0xfeedf00d00000000'u64
  markOutput = 0xb0b0000000000000'u64
  markDiscarded = 0xdeaddead00000000'u64
  markPerf = 0x9e4f000000000000'u64

type Rec = object
  size: int
  tgid, seq: uint32
  marker, extra: uint64

proc parseRec(data: openArray[byte]): Rec =
  result.size = data.len
  if data.len >= 16:
    copyMem(addr result.tgid, unsafeAddr data[0], 4)
    copyMem(addr result.seq, unsafeAddr data[4], 4)
    copyMem(addr result.marker, unsafeAddr data[8], 8)
  if data.len >= 24:
    copyMem(addr result.extra, unsafeAddr data[16], 8)

proc ringProblems(recs: openArray[Rec], first, n: int): seq[string] =
  ## Problems with `recs` being 2n records: event (16 bytes) then event2 (24
  ## bytes) for seq first ..< first+n, in order, never a discarded one.
  if recs.len != 2 * n: result.add "got " & $recs.len & " records, expected " & $(2 * n)
  for i, r in recs:
    let sq = uint32(first + i div 2)
    if r.tgid != me: result.add "record " & $i & ": tgid " & $r.tgid
    if (r.marker and 0xffffffff00000000'u64) == markDiscarded:
      result.add "record " & $i & ": a discarded reservation"
    if i mod 2 == 0:
      if r.size != 16 or r.seq != sq or r.marker != (markReserved or sq):
        result.add "record " & $i & ": " & $r & ", expected event seq " & $sq
    elif r.size != 24 or r.seq != sq or r.marker != (markOutput or sq) or r.extra != not uint64(sq):
      result.add "record " & $i & ": " & $r & ", expected event2 seq " & $sq
    if result.len > 5: return

block:
  var obj = openObject(bpfDir / "ringbuf.o")
  obj.setRodata("target_tgid", me)
  obj.load()
  var recs: seq[Rec]
  var stopAt, raiseAt = -1
  var rb = newRingBuffer(obj.map("events"), proc (data: openArray[byte]): int =
    recs.add parseRec(data)
    if recs.len == raiseAt: raise newException(ValueError, "boom at record " & $recs.len)
    if recs.len == stopAt: return 7
    0)
  var link = obj.program("rb_getpid").attach()
  check rb.isOpen and rb.epollFd >= 0, "ring buffer epoll fd " & $rb.epollFd
  check rb.consume() == 0 and rb.poll(0) == 0 and recs.len == 0, "an empty ring: 0 records"

  const N = 50
  for i in 0 ..< N: syscall(SYS_getpid)
  var pfd = TPollfd(fd: cint(rb.epollFd), events: POLLIN)
  check posix.poll(addr pfd, 1, 1000) == 1 and (pfd.revents and POLLIN) != 0,
    "the epoll fd is readable with records waiting"
  let got = rb.poll(1000)
  check got == 2 * N, "poll consumed " & $got & " records, expected " & $(2 * N)
  let probs = ringProblems(recs, 0, N)
  check probs.len == 0, "ring records: " & $probs
  if recs.len >= 2:
    echo "ringbuf: ", got, " records; first two: ", recs[0].size, " bytes seq ", recs[0].seq,
      " marker 0x", toHex(recs[0].marker), ", ", recs[1].size, " bytes seq ", recs[1].seq,
      " marker 0x", toHex(recs[1].marker), " extra 0x", toHex(recs[1].extra)
  check rb.poll(0) == 0, "nothing left"

  # A callback's non-zero value stops the poll (that record is consumed).
  recs.setLen 0
  stopAt = 3
  for i in 0 ..< 4: syscall(SYS_getpid)
  check rb.poll(1000) == 7 and recs.len == 3, "a callback returning 7 stops poll, which gives 7"
  stopAt = -1
  check rb.consume() == 5 and recs.len == 8, "consume gives the other 5 records"
  check ringProblems(recs, N, 4).len == 0, "records around the stop: " & $ringProblems(recs, N, 4)

  # An exception in the callback does not cross bpfl: poll raises it again.
  recs.setLen 0
  raiseAt = 2
  for i in 0 ..< 2: syscall(SYS_getpid)
  let ex = expectError(ValueError, "an exception raised by the callback"):
    rb.poll(1000)
  check ex.contains("boom at record 2") and recs.len == 2, "poll re-raises the callback's exception"
  raiseAt = -1
  check rb.consume() == 2 and ringProblems(recs, N + 4, 2).len == 0,
    "after the exception the rest follows in order: " & $ringProblems(recs, N + 4, 2)
  check obj.map("failures").get(0'u32, uint64) == 0, "failures[0] (events full) == 0"

  # Wrong map types: -EINVAL.
  var ew = expectError(BpflError, "a ring buffer on an array map"):
    discard newRingBuffer(obj.map("failures"), proc (d: openArray[byte]): int = 0)
  check ew != nil and ew.code == -EINVAL, "ring buffer on `failures`: EINVAL: " &
    (if ew != nil: ew.msg else: "")
  ew = expectError(BpflError, "adding a perf event array to a ring buffer"):
    rb.add(obj.map("perf_events"), proc (d: openArray[byte]): int = 0)
  check ew != nil and ew.code == -EINVAL, "add of `perf_events`: EINVAL"
  ew = expectError(BpflError, "a perf buffer on a ring buffer map"):
    discard newPerfBuffer(obj.map("events"), proc (cpu: int, d: openArray[byte]): int = 0)
  check ew != nil and ew.code == -EINVAL, "perf buffer on `events`: EINVAL"

  # The consumer outlives its object.
  recs.setLen 0
  for i in 0 ..< 3: syscall(SYS_getpid)
  link.detach()
  obj.close()
  check rb.consume() == 6 and ringProblems(recs, N + 6, 3).len == 0,
    "records read after the object is closed: " & $ringProblems(recs, N + 6, 3)

  # free: idempotent; the handle is gone; poll afterwards raises EBADF.
  let h = rb.handle
  rb.free()
  rb.free()
  check not rb.isOpen and bpfl_ringbuf_free(h) == -EBADF, "free() freed it; a second free() is harmless"
  let eb = expectError(BpflError, "poll after free"):
    rb.poll(0)
  check eb != nil and eb.code == -EBADF, "poll after free: EBADF: " & (if eb != nil: $eb.code & " " & eb.msg else: "")

# Two rings in one poll (add); the 4 KiB `small` ring wraps around many times;
# a consumer going out of scope frees itself.
var scopedRb: BpflRingbufH
block:
  var obj = openObject(bpfDir / "ringbuf.o")
  obj.setRodata("target_tgid", me)
  obj.load()
  var big, small: seq[Rec]
  var rb = newRingBuffer(obj.map("events"), proc (data: openArray[byte]): int =
    big.add parseRec(data)
    0)
  rb.add(obj.map("small"), proc (data: openArray[byte]): int =
    small.add parseRec(data)
    0)
  scopedRb = rb.handle
  let l1 = obj.program("rb_getpid").attach()
  let l2 = obj.program("small_getpid").attach()
  var total = 0
  const Rounds = 10
  const PerRound = 20 # 20 * 80 bytes of `small` per round: 1600 < 4096
  for r in 0 ..< Rounds:
    for i in 0 ..< PerRound: syscall(SYS_getpid)
    total += rb.poll(1000)
  check total == 4 * Rounds * PerRound, "one poll serves both rings: " & $total & " records"
  check ringProblems(big, 0, Rounds * PerRound).len == 0, "events: " & $ringProblems(big, 0, Rounds * PerRound)
  check ringProblems(small, 0, Rounds * PerRound).len == 0, "small (wrapped " &
    $(Rounds * PerRound * 80 div 4096) & " times): " & $ringProblems(small, 0, Rounds * PerRound)
  check obj.map("failures").get(1'u32, uint64) == 0, "failures[1] (small full) == 0"
check bpfl_ringbuf_free(scopedRb) == -EBADF, "=destroy freed the ring buffer"

# ---- perf buffer: one sample per getpid, on whichever CPU ran it ------------------
var scopedPb: BpflPerfbufH
block:
  var obj = openObject(bpfDir / "ringbuf.o")
  obj.setRodata("target_tgid", me)
  obj.load()
  var samples: seq[(int, Rec)]
  var lost = 0'u64
  var pb = newPerfBuffer(obj.map("perf_events"),
    proc (cpu: int, data: openArray[byte]): int =
      samples.add (cpu, parseRec(data))
      0,
    proc (cpu: int, n: uint64) = lost += n,
    pageCount = 4)
  scopedPb = pb.handle
  check pb.epollFd >= 0 and pb.consume() == 0, "perf buffer: epoll fd, nothing yet"
  let l = obj.program("perf_getpid").attach()
  const N = 30
  for i in 0 ..< N: syscall(SYS_getpid)
  var got = 0
  for attempt in 0 ..< 20:
    got += pb.poll(100)
    if got >= N: break
  check got == N and samples.len == N, "perf samples: " & $got & ", expected " & $N
  var seen = newSeq[bool](N)
  var bad: seq[string]
  var lastSeq = initTable[int, int]()
  for (cpu, r) in samples:
    if r.size < 16 or r.size > 23 or r.tgid != me or r.marker != (markPerf or r.seq) or
       int(r.seq) >= N or seen[r.seq]:
      bad.add $cpu & ":" & $r
    else:
      seen[r.seq] = true
      if int(r.seq) <= lastSeq.getOrDefault(cpu, -1): bad.add "out of order on cpu " & $cpu
      lastSeq[cpu] = int(r.seq)
  check bad.len == 0, "perf samples carry seq 0..N-1 once each, in order per CPU: " & $bad
  check lost == 0 and obj.map("failures").get(2'u32, uint64) == 0, "no samples lost"
  if samples.len > 0:
    echo "perfbuf: ", got, " samples on CPUs ", toSeq(lastSeq.keys), "; first: cpu ", samples[0][0],
      ", ", samples[0][1].size, " bytes, seq ", samples[0][1].seq, " marker 0x", toHex(samples[0][1].marker)
  pb.free()
  pb.free()
  check bpfl_perfbuf_free(scopedPb) == -EBADF, "perf buffer free() is idempotent"
  let ep = expectError(BpflError, "perf buffer poll after free"):
    pb.poll(0)
  check ep != nil and ep.code == -EBADF, "perf poll after free: EBADF"
  var pb2 = newPerfBuffer(obj.map("perf_events"), proc (cpu: int, d: openArray[byte]): int = 0)
  scopedPb = pb2.handle
check bpfl_perfbuf_free(scopedPb) == -EBADF, "=destroy freed the perf buffer"

# ---- setup.o: set-up between open and load (issue 10) ------------------------------
block:
  var obj = openObject(bpfDir / "setup.o", kconfig = "CONFIG_BPFL_TEST_VALUE=33\n")
  obj.setRodata("target_tgid", me)
  obj.map("sized").maxEntries = 37
  obj.program("post_bind").setExpectedAttachType(12)  # BPF_CGROUP_INET4_POST_BIND
  obj.program("bad").autoload = false
  obj.program("good").logLevel = 1
  obj.program("retyped").setType(3)  # BPF_PROG_TYPE_SCHED_CLS
  check not obj.program("bad").autoload, "autoload of bad is off"
  obj.load()
  check obj.program("bad").info.fd == -1, "a program with autoload off has no fd"
  check obj.program("retyped").info.progType == 3, "retyped as SCHED_CLS"
  check "processed " in obj.program("good").log, "verifier log of good"
  let sized = obj.map("sized")
  for k in 0'u32 ..< 37'u32: sized.put(k, uint64(k))
  let e = expectError(BpflError, "the 38th entry"):
    sized.put(37'u32, 0'u64)
  check e != nil and e.code == -E2BIG, "the 38th entry: E2BIG"
  let eb = expectError(BpflError, "a setter after load"):
    obj.program("bad").autoload = true
  check eb != nil and eb.code == -EBUSY, "setter after load: EBUSY"
  discard obj.attachAll()
  syscall(SYS_getpgid, 0)
  check obj.map(".bss").get(0'u32, uint64) == 33, "CONFIG_BPFL_TEST_VALUE seen by the program"
  # a second object shares `shared`
  var obj2 = openObject(bpfDir / "setup.o")
  obj2.setRodata("target_tgid", me)
  obj2.map("sized").maxEntries = 4
  obj2.program("post_bind").setExpectedAttachType(12)
  obj2.program("bad").autoload = false
  obj2.map("shared").reuseFd(obj.map("shared").fd)
  obj2.load()
  obj2.map("shared").put(0'u32, 777'u64)
  check obj.map("shared").get(0'u32, uint64) == 777, "reuse_fd: one map for both objects"
# ---- cgroup_sock.o: socket filter, tail-call slots, cgroup attach (issue 11) -----
block:
  var obj = openObject(bpfDir / "cgroup_sock.o")
  obj.load()
  var sv: array[2, cint]
  check socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair"
  proc recvAll(fd: cint): seq[string] =
    var buf: array[64, char]
    while true:
      let n = recv(SocketHandle(fd), addr buf[0], 64, 0x40) # MSG_DONTWAIT
      if n <= 0: break
      var s = newString(n)
      copyMem(addr s[0], addr buf[0], n)
      result.add s
  proc sendS(fd: cint, s: string) =
    discard send(SocketHandle(fd), unsafeAddr s[0], s.len, 0'i32)
  block:
    var l = obj.program("drop_x").attachSocket(int(sv[1]))
    sendS(sv[0], "xa")
    sendS(sv[0], "ok")
    check recvAll(sv[1]) == @["ok"], "the socket filter dropped the 'x' datagram"
    l.detach()
  sendS(sv[0], "xb")
  check recvAll(sv[1]) == @["xb"], "after detach the datagram arrives"
  block:
    var d = obj.program("dispatch").attachSocket(int(sv[1]))
    let jump = obj.map("jump")
    jump.setProg(0, obj.program("target_drop"))
    sendS(sv[0], "1")
    check recvAll(sv[1]).len == 0, "slot set: the tail call landed and dropped"
    check jump.clearSlot(0) and not jump.clearSlot(0), "clearSlot: true, then false"
    sendS(sv[0], "2")
    check recvAll(sv[1]) == @["2"], "slot cleared: passes"
    check obj.map("counts").get(5'u32, uint64) == 1, "the target ran once"
  discard close(sv[0])
  discard close(sv[1])
  var root = ""
  for l in lines("/proc/mounts"):
    let f = l.split(' ')
    if f.len > 2 and f[2] == "cgroup2":
      root = f[1]
      break
  if root.len == 0:
    echo "SKIPPED part: no cgroup2 mount"
  else:
    let cg = root & "/bpfl-nim-" & $me
    createDir(cg)
    let fd = posix.open(cstring(cg), O_RDONLY)
    block:
      var l = obj.program("egress_count").attachCgroupPath(cg, via = viaProgAttach)
      check queryPrograms(int(fd), 1).len == 1, "one egress program on the cgroup"
    check queryPrograms(int(fd), 1).len == 0, "none once the link is destroyed"
    discard close(fd)
    discard rmdir(cstring(cg))  # a cgroup goes with rmdir, its files with it
  let e = expectError(BpflError, "auto-attach of a cgroup program"):
    discard obj.program("egress_count").attach()
  check e != nil and "attach_cgroup" in e.msg, "no automatic attach for a cgroup program"
# ---- net.o: test runs, XDP and tc on a veth pair ----------------------------------
proc bpfl_nim_test_layout_net(r: ptr array[11, clong]) {.importc, cdecl.}
block:
  var r: array[11, clong]
  bpfl_nim_test_layout_net(addr r)
  let nimNet = [sizeof(BpflTestRunOpts), offsetOf(BpflTestRunOpts, batchSize), sizeof(BpflTestRunResult),
                offsetOf(BpflTestRunResult, ctxSizeOut), sizeof(BpflXdpOpts), offsetOf(BpflXdpOpts, netlink),
                sizeof(BpflXdpInfo), sizeof(BpflTcxOpts), offsetOf(BpflTcxOpts, expectedRevision),
                sizeof(BpflTcOpts), offsetOf(BpflTcOpts, handle)]
  check r.mapIt(int(it)) == @nimNet, "net struct layouts: C " & $r & ", Nim " & $nimNet
block:
  var obj = openObject(bpfDir / "net.o")
  obj.load()
  let byByte = obj.program("xdp_by_byte")
  var pkt = newSeq[byte](64)
  pkt[0] = 0xdd
  check byByte.testRun(pkt).retval == 1, "first byte 0xdd: XDP_DROP"
  pkt[0] = 0x11
  let r = byByte.testRun(pkt, dataOut = 128, repeat = 4)
  check r.retval == 2 and r.dataOut.len == 64 and r.dataOut[1] == 0x42, "XDP_PASS and the marked packet out"
  let e = expectError(BpflError, "too small a packet out"):
    discard byByte.testRun(pkt, dataOut = 8)
  check e != nil and e.code == -ENOSPC and "64 bytes" in e, "ENOSPC says the size needed"
  let (a, b) = ("bna" & $me, "bnb" & $me)
  if execShellCmd("ip link add " & a & " type veth peer name " & b & " && ip link set " & a & " up && ip link set " & b & " up") != 0:
    echo "SKIPPED (inside test_bpfl): cannot make a veth pair"
  else:
    defer: discard execShellCmd("ip link del " & a)
    let idx = ifindex(a)
    let cnt = obj.program("xdp_count_drop")
    for nl in [false, true]:
      var l = cnt.attachXdp(idx, mode = xmGeneric, netlink = nl)
      let q = xdpQuery(idx)
      check q.attached == xaGeneric and q.skbProgId != 0, "attached generic (netlink " & $nl & "): " & $q
      l.detach()
      check xdpQuery(idx).attached == xaNone, "detached (netlink " & $nl & ")"
    let tc = obj.program("tc_count")
    block:
      let l = tc.attachTc(idx, direction = tcEgress, priority = 9)
      check execShellCmd("tc filter show dev " & a & " egress | grep -q 'pref 9 bpf.*tc_count'") == 0, "the filter is there"
    check execShellCmd("tc qdisc show dev " & a & " | grep -q clsact") != 0, "no qdisc left after the link is destroyed"
    try:
      var l = tc.attachTcx(idx, direction = tcEgress)
      check l.fd >= 0, "a TCX link has an fd"
    except BpflError as e:
      check e.code == -EOPNOTSUPP, "TCX refused only where the kernel lacks it: " & e.msg
      echo "SKIPPED (inside test_bpfl): ", e.msg
    let ei = expectError(BpflError, "missing interface"):
      discard ifindex("nosuchif0")
    check ei != nil and ei.code == -ENOENT, "missing interface: ENOENT"

include globals_part

summary("test_bpfl (" & (when defined(gcOrc): "orc" elif defined(gcArc): "arc" else: "refc") & ")")
