## The seed's nimbpf API on the real kernel: bootBpf, getKeys, the fetch
## calls, openPinnedMap, and the additions (delete, clear, batch reads, pin).
##   test_nimbpf BPF_DIR NIM_BIN_DIR
import std/[exitprocs, os, osproc, posix, strutils, streams]
import nimbpf
import harness

type PidKey = object ## struct pid_key of bpf/seed_common.h
  tgid: uint32
  kind: uint32

requireRoot("Nim nimbpf kernel tests")
let bpfDir = paramStr(1)
let binDir = paramStr(2)
let me = uint32(getpid())
let noKprobes = not fileExists("/sys/bus/event_source/devices/kprobe") and
                not fileExists("/sys/kernel/tracing/kprobe_events") and
                not dirExists("/sys/bus/event_source/devices/kprobe")

# ---- bootBpf on the tracepoint variant of the seed's object ----------------------
var attached = 0
let bootLog = captureStderr(proc () = attached = tryBootBpf(cstring(bpfDir / "seed_tp.o")))
check attached == 2, "seed_tp.o: 2 programs attached, got " & $attached
check "attached enter_getppid (tracepoint/syscalls/sys_enter_getppid)" in bootLog, "boot log"

const N = 13
for i in 0 ..< N: syscall(SYS_getppid)

var key = me
check fetchUint64FromMap("per_pid", key) == some(uint64(N)), "per_pid[me] == N"
check fetchUint16FromMap("per_pid16", key) == some(uint16(N)), "per_pid16[me] == N (uint16)"
var enterKey = PidKey(tgid: me, kind: 0)
var exitKey = PidKey(tgid: me, kind: 1)
check fetchUint64FromMap("by_key", enterKey) == some(uint64(N)), "by_key{me, enter} (struct key)"
check fetchUint64FromMap("by_key", exitKey) == some(uint64(N)), "by_key{me, exit} (struct key)"
var zero = 0'u32
check fetchUint64FromMap("calls", zero).get(0) >= N, "calls[0] counts every process"
echo "seed_tp: per_pid[", me, "] = ", fetchUint64FromMap("per_pid", key), ", by_key{", me,
     ",1} = ", fetchUint64FromMap("by_key", exitKey)

var sawMe = false
var nkeys = 0
for k in getKeys[uint32]("per_pid"):
  inc nkeys
  if k == me: sawMe = true
check sawMe, "getKeys[uint32](per_pid) yields my tgid (" & $nkeys & " keys)"
var kinds: set[uint8]
for k in getKeys[PidKey]("by_key"):
  if k.tgid == me: kinds.incl uint8(k.kind)
check kinds == {0'u8, 1'u8}, "getKeys[PidKey](by_key) yields both of my keys"

# Missing key: none, silently.
var absent = 0xfffffff0'u32
check fetchUint64FromMap("per_pid", absent).isNone, "missing key gives none"

# Missing map, wrong value size, wrong key size: none and a logged reason.
var r64: Option[uint64]
var r16: Option[uint16]
var log = captureStderr(proc () = r64 = fetchUint64FromMap("no_such_map", key))
check r64.isNone and "no map named 'no_such_map'" in log, "unknown map: none + log"
log = captureStderr(proc () = r16 = fetchUint16FromMap("per_pid", key))
check r16.isNone and "holds 8-byte values" in log, "fetchUint16FromMap on per_pid: none + log"
log = captureStderr(proc () = r64 = fetchUint64FromMap("per_pid16", key))
check r64.isNone and "holds 2-byte values" in log, "fetchUint64FromMap on per_pid16: none + log"
# The seed's README: "the key can be a pointer to any type such as a culong".
var culongKey = culong(me)
check fetchUint64FromMap("per_pid", culongKey) == some(uint64(N)), "culong key on a 4-byte-key map"
var bigKey = 0x1_0000_0000'u64 + me
log = captureStderr(proc () = r64 = fetchUint64FromMap("per_pid", bigKey))
check r64.isNone and "does not fit in 4 bytes" in log, "8-byte key that does not fit: none + log"
var smallKey = 7'u16
log = captureStderr(proc () = r64 = fetchUint64FromMap("per_pid", smallKey))
check r64.isNone and "4-byte keys, the key given has 2 bytes" in log, "2-byte key: none + log"
var sawCulong = false
for k in getKeys[culong]("per_pid"):
  if k == culong(me): sawCulong = true
check sawCulong, "getKeys[culong] on 4-byte keys"
var keysSeen = 0
log = captureStderr(proc () =
  for k in getKeys[uint16]("per_pid"): inc keysSeen)
check keysSeen == 0 and "4-byte keys" in log, "getKeys with a too small key type: nothing + log"

# ---- additions: batch read, delete, clear ----------------------------------------
let all = fetchAllFromMap[uint32, uint64]("per_pid")
var mine = 0'u64
for e in all:
  if e.key == me: mine = e.value
check all.len >= 1 and mine == N, "fetchAllFromMap: " & $all.len & " entries, mine " & $mine
var none16: seq[tuple[key: uint32, value: uint16]]
log = captureStderr(proc () = none16 = fetchAllFromMap[uint32, uint16]("per_pid"))
check none16.len == 0 and "8-byte values, not 2" in log, "fetchAllFromMap with the wrong value type: empty + log"
check deleteFromMap("per_pid", key), "deleteFromMap"
check fetchUint64FromMap("per_pid", key).isNone, "deleted key is gone"
check not deleteFromMap("per_pid", key), "deleteFromMap twice gives false"
check clearMap("by_key"), "clearMap"
check fetchUint64FromMap("by_key", enterKey).isNone and
      fetchUint64FromMap("by_key", exitKey).isNone, "cleared map lost my keys"
check clearMap("calls") and fetchUint64FromMap("calls", zero).isSome, "clearMap on an array zeroes"

# ---- openPinnedMap ----------------------------------------------------------------
let pinPath = "/sys/fs/bpf/nimbpf-test-" & $me
let pinDir = "/sys/fs/bpf/nimbpf-test-dir-" & $me
addExitProc(proc () =
  discard tryRemoveFile(pinPath)
  if dirExists(pinDir): removeDir(pinDir))
discard tryRemoveFile(pinPath)
check pinMap("per_pid16", pinPath), "pinMap per_pid16 at " & pinPath
let fd = openPinnedMap("pinned16", pinPath)
check fd.isSome and fd.get > 2, "openPinnedMap gives an fd: " & $fd
for i in 0 ..< 2: syscall(SYS_getppid)
check fetchUint16FromMap("pinned16", key) == some(uint16(N + 2)),
  "pinned map sees the program's writes: " & $fetchUint16FromMap("pinned16", key)
check openPinnedBpfMap("pinned16b", pinPath).isSome, "openPinnedBpfMap (the seed's name)"
check fetchUint16FromMap("pinned16b", key) == some(uint16(N + 2)), "through the alias"
var missing: Option[uint64]
log = captureStderr(proc () = missing = openPinnedMap("gone", "/sys/fs/bpf/nimbpf-no-such-pin"))
check missing.isNone and "no pinned object at '/sys/fs/bpf/nimbpf-no-such-pin'" in log,
  "missing pin path: none + log"
log = captureStderr(proc () = missing = openPinnedMap("notamap", "/proc/self/stat"))
check missing.isNone and "the path is not on a bpffs" in log, "not a map (procfs file): none + log"
discard existsOrCreateDir(pinDir)
log = captureStderr(proc () = missing = openPinnedMap("notamap", pinDir))
check missing.isNone and "is a directory, not a pinned map" in log, "not a map (bpffs directory): none + log"
removeDir(pinDir)
log = captureStderr(proc () = r16 = fetchUint16FromMap("gone", key))
check r16.isNone and "no map named 'gone'" in log, "failed open leaves no map behind"
discard tryRemoveFile(pinPath)

# ---- bootBpf attaches every section that names its target: usdt/ included --------
block:
  let target = absolutePath(bpfDir / ".." / "usdt_target")
  let oldPath = getEnv("PATH")
  putEnv("PATH", target.parentDir & ":" & oldPath) # usdt/usdt_target:... is found in PATH
  var n = 0
  let blog = captureStderr(proc () = n = tryBootBpf(cstring(bpfDir / "usdt.o")))
  putEnv("PATH", oldPath)
  check n == 2, "usdt.o: on_auto (usdt/usdt_target:bpfltest:auto) and on_tp attached, got " & $n & ": " & blog
  check "attached on_auto (usdt/usdt_target:bpfltest:auto)" in blog, "usdt section attached: " & blog
  check execCmd(quoteShell(target) & " auto a b") == 0, "the target saw its semaphore set"
  var k = 12'u32
  check fetchUint64FromMap("seen", k) == some(1'u64), "the auto-attached USDT probe ran once"
  k = 14'u32
  check fetchUint64FromMap("seen", k) == some(4'u64), "BPF_USDT argument argc"
  shutdownBpf()

# ---- bootBpf failures carry on --------------------------------------------------------
var rc = 0
log = captureStderr(proc () = rc = tryBootBpf("/nonexistent/x.o"))
check rc == -1 and "cannot open /nonexistent/x.o" in log, "missing object: logged"
log = captureStderr(proc () = bootBpf(cstring(bpfDir / "bad_verifier.o")))
check "cannot load" in log and "deref_without_check" in log and "R0" in log,
  "verifier rejection logged with its log"
shutdownBpf()
log = captureStderr(proc () = r64 = fetchUint64FromMap("per_pid", key))
check r64.isNone and "no map named" in log, "shutdownBpf forgets maps"

# ---- the seed's kprobe object: bootBpf logs the failure and does not abort ---------
block:
  let p = startProcess(binDir / "boot_only", args = [bpfDir / "seed_kprobe.o"],
                       options = {poStdErrToStdOut})
  let output = p.outputStream.readAll()
  let code = p.waitForExit()
  p.close()
  for line in output.splitLines:
    if line.len > 0: echo "  boot_only| ", line
  check code == 0, "boot_only exits 0 (got " & $code & ")"
  check "still running after bootBpf" in output, "bootBpf returned"
  check "trace_getppid (kprobe/__x64_sys_getppid)" in output, "kprobe program named in the log"
  if noKprobes:
    check "cannot attach trace_getppid (kprobe/__x64_sys_getppid)" in output and
          "kprobes are not supported by this kernel" in output, "kprobe failure logged"
    check "cannot attach trace_getppid_ret (kretprobe/__x64_sys_getppid)" in output,
          "kretprobe failure logged"
  else:
    check "per_pid[self] = some(1)" in output, "kprobe counted on a kernel with kprobes"

# ---- the example: overlayfs-style latency tracer with tracepoint fallback ---------
block:
  const reads = 200
  let p = startProcess(binDir / "ovfslat", args = [bpfDir / "ovfs_latency.o",
                       "--duration=400", "--interval=200", "--self-reads=" & $reads],
                       options = {poStdErrToStdOut})
  let pid = p.processID
  let output = p.outputStream.readAll()
  let code = p.waitForExit()
  p.close()
  var lines = output.splitLines
  for i, line in lines:
    if i < 40 and line.len > 0: echo "  ovfslat| ", line
  check code == 0, "ovfslat exits 0 (got " & $code & ")"
  # The last report's self line for the tracepoint source: 2 intervals of reads.
  var selfReads, selfBytes = -1
  var histLines = 0
  var inTp = false
  for line in lines:
    if line.startsWith("== "): inTp = "read() syscall (tracepoint)" in line
    if inTp and " .. " in line: inc histLines
    if inTp and line.startsWith("  self pid " & $pid & ": "):
      let f = line.split(": ")[1].split(' ')
      selfReads = parseInt(f[0])
      selfBytes = parseInt(f[2])
  echo "ovfslat: self reads ", selfReads, ", bytes ", selfBytes, ", histogram rows ", histLines
  check selfReads >= 2 * reads and selfBytes >= 2 * reads * 4096,
    "the example read its own " & $(2 * reads) & " reads of 4096 bytes from the map"
  check histLines > 0, "the example printed a latency histogram"
  if noKprobes:
    check "cannot attach trace_ovl_read_iter (kprobe/ovl_read_iter)" in output,
      "kprobe missing: logged, tracepoints carry on"

summary("test_nimbpf")
