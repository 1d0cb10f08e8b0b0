## skel_count: the skeleton example in Nim, over skel_count_skel.nim, which
## `bpfl gen skeleton --lang nim` makes of build/bpf/skel_count.o (see
## docs/skeletons.md):
##
##   bpfl gen skeleton build/bpf/skel_count.o --lang nim -o skel_count_skel.nim
##   nim c -p:bindings/nim/src -p:. skel_count.nim && sudo ./skel_count 25
##
## The same steps and output as bindings/c/examples/skel_count.c: the
## .rodata filter set before load, .data's step set after it, N getppid()
## calls (and a child's N, filtered out), then .bss's total, the counts map
## and the ring buffer's typed events.
import std/[os, posix, strutils]
import bpfl, skel_count_skel

let n = if paramCount() >= 1: parseInt(paramStr(1)) else: 10
let tgid = uint32(getpid())
try:
  var s = openSkelCount()
  s.rodata.target_tgid = tgid # before load: the program's constant
  s.load()
  s.attach()
  s.data.step = 3 # after load: the live map
  let child = fork()
  if child == 0:
    for i in 0 ..< n: discard getppid()
    exitnow(0)
  var status: cint
  discard waitpid(child, status, 0)
  for i in 0 ..< n: discard getppid()
  echo "calls: ", n
  let bss = get[uint32, SkelCountBss](s.maps.bss, 0)
  echo "total: ", s.bss.total, " (.bss map: ", bss.total, ")"
  let c = get[SkelCountCountsKey, SkelCountCountsValue](s.maps.counts, tgid)
  echo "counts: ", c.calls, " calls, last step ", c.last_step
  var events, seqSum, bad = 0'u64
  var rb = newRingBuffer(s.maps.events, proc (data: openArray[byte]): int =
    if data.len < sizeof(Event):
      inc bad
      return 0
    var e: Event
    copyMem(addr e, unsafeAddr data[0], sizeof(Event))
    inc events
    seqSum += e.stamp.seq
    if e.tgid != tgid or e.tag != 0xab or e.stamp.kind != 7 or (e.flags_cpu_lo and 7) != 5 or
        e.u.total != e.stamp.seq or e.comm[0] == '\0' or e.task == 0:
      inc bad
    0)
  discard rb.consume()
  echo "events: ", events, ", seq sum ", seqSum, ", fields ", (if bad == 0: "ok" else: "BAD")
  s.close()
except BpflError as e:
  quit("skel_count: " & e.msg, 1)
