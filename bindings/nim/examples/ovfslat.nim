## Read latency tracer in the style of nimbpf's overlayfs example, written
## only against the original nimbpf API (bootBpf, getKeys, fetch*FromMap)
## plus fetchAllFromMap, the batch read that nimbpf's TODO list asked for.
##
## The object (bpf/ovfs_latency.bpf.c) has kprobe/kretprobe programs on
## ovl_read_iter, as the seed had, and tracepoint programs on
## sys_enter_read/sys_exit_read. bootBpf attaches what it can: where kprobes
## are missing it logs so and the tracepoints carry the measurement.
##
##   ovfslat [OBJECT] [--duration=MS] [--interval=MS] [--self-reads=N]
##
## --self-reads=N: read /dev/zero N times (4 KiB each) per interval, so that
## there is known traffic; the "self" line then shows what the maps say
## about this process.

import std/[algorithm, os, parseutils, posix, strutils]
import nimbpf

type Source = object
  title, reads, ns, bytes, hist: string

const sources = [
  Source(title: "ovl_read_iter (kprobe)", reads: "ovfs_reads", ns: "ovfs_read_ns",
         bytes: "ovfs_read_bytes", hist: "ovfs_read_hist"),
  Source(title: "read() syscall (tracepoint)", reads: "sys_reads", ns: "sys_read_ns",
         bytes: "sys_read_bytes", hist: "sys_read_hist")]

proc fetch64(map: string, key: uint32): uint64 =
  var k = key
  fetchUint64FromMap(map, k).get(0)

proc report(src: Source, me: uint32) =
  # Every process seen, with a single batch read of the count map.
  var procs = fetchAllFromMap[uint32, uint64](src.reads)
  if procs.len == 0:
    echo "== ", src.title, ": no data (probe not attached, or no reads)"
    return
  procs.sort(proc (a, b: tuple[key: uint32, value: uint64]): int = cmp(b.value, a.value))
  var total = 0'u64
  for p in procs: total += p.value
  echo "== ", src.title, ": ", total, " reads by ", procs.len, " processes"
  # Latency histogram: slot k holds reads that took [2^k, 2^(k+1)) ns.
  var counts: seq[(int, uint64)]
  var peak = 1'u64
  for slot in getKeys[uint32](src.hist):
    let c = fetch64(src.hist, slot)
    if c > 0:
      counts.add((int(slot), c))
      peak = max(peak, c)
  counts.sort()
  echo "     latency (ns)         count"
  for (slot, c) in counts:
    let lo = 1'u64 shl slot
    echo align($lo, 10), " .. ", alignLeft($(lo * 2 - 1), 10), align($c, 8), "  ",
         repeat('*', int(c * 30 div peak))
  echo "  top processes:"
  for p in procs[0 ..< min(5, procs.len)]:
    let ns = fetch64(src.ns, p.key)
    echo "    pid ", align($p.key, 7), ": ", align($p.value, 8), " reads, ",
         align($fetch64(src.bytes, p.key), 10), " bytes, avg ",
         (if p.value > 0: ns div p.value else: 0), " ns"
  echo "  self pid ", me, ": ", fetch64(src.reads, me), " reads, ",
       fetch64(src.bytes, me), " bytes"

proc main() =
  var obj = "build/bpf/ovfs_latency.o"
  var durationMs = 1000
  var intervalMs = 1000
  var selfReads = 0
  for arg in commandLineParams():
    if arg.startsWith("--duration="): discard parseInt(arg, durationMs, 11)
    elif arg.startsWith("--interval="): discard parseInt(arg, intervalMs, 11)
    elif arg.startsWith("--self-reads="): discard parseInt(arg, selfReads, 13)
    elif arg.startsWith("-"):
      quit("usage: ovfslat [OBJECT] [--duration=MS] [--interval=MS] [--self-reads=N]")
    else: obj = arg
  if tryBootBpf(cstring(obj)) <= 0:
    quit("ovfslat: nothing attached from " & obj & " (see the log above; run as root)")
  let me = uint32(getpid())
  let zero = posix.open("/dev/zero", O_RDONLY)
  var buf: array[4096, byte]
  var elapsed = 0
  while elapsed < durationMs:
    let step = min(intervalMs, durationMs - elapsed)
    for i in 0 ..< selfReads:
      discard posix.read(zero, addr buf[0], buf.len)
    sleep(step)
    elapsed += step
    echo "---- ", elapsed, " ms"
    for src in sources: report(src, me)
  discard posix.close(zero)

main()
