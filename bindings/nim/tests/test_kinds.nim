## Links, perf events and iterators from Nim on the real kernel (kinds.o).
##   test_kinds BPF_DIR
import std/[os, posix, strutils, times]
import bpfl
import harness

requireRoot("Nim bpfl kinds tests")
let bpfDir = paramStr(1)
let me = uint32(getpid())

# The Nim declarations of bpfl/ffi_kinds match include/bpfl.h.
{.passC: "-I" & currentSourcePath().parentDir.parentDir.parentDir.parentDir / "include".}
{.emit: """#include <bpfl.h>
#include <stddef.h>
static long kinds_layout(int i) {
  long r[] = { sizeof(struct bpfl_link_info), offsetof(struct bpfl_link_info, name), sizeof(struct bpfl_link_update_opts),
    sizeof(struct bpfl_perf_event_spec), offsetof(struct bpfl_perf_event_spec, pid), sizeof(struct bpfl_perf_event_opts),
    sizeof(struct bpfl_iter_opts), offsetof(struct bpfl_iter_opts, pid_fd), offsetof(struct bpfl_link_info, task_pid) };
  return r[i];
}
""".}
proc kinds_layout(i: cint): clong {.importc, nodecl.}
let nimLayout = [sizeof(BpflLinkInfo), offsetOf(BpflLinkInfo, name), sizeof(BpflLinkUpdateOpts),
                 sizeof(BpflPerfEventSpec), offsetOf(BpflPerfEventSpec, pid), sizeof(BpflPerfEventOpts),
                 sizeof(BpflIterOpts), offsetOf(BpflIterOpts, pidFd), offsetOf(BpflLinkInfo, taskPid)]
for i, v in nimLayout:
  check int(kinds_layout(cint(i))) == v, "layout " & $i & ": C " & $kinds_layout(cint(i)) & ", Nim " & $v

var obj = openObject(bpfDir / "kinds.o")
obj.setRodata("target_tgid", me)
obj.load()

# A task iterator for this process only, updated to another program.
var it = obj.program("list_tasks").attachIter(pid = me)
let first = it.readIter()
check first.startsWith($me & " " & $me & " "), "task iterator output: " & first
let i1 = it.info
check i1.linkType == 4 and i1.name == "task" and i1.taskPid == me, "iter info " & $i1
let e = expectError(BpflError, "update with the wrong old program"):
  it.updateProgram(obj.program("list_tasks"), obj.program("list_tasks_marked"))
check e != nil and e.code == -EPERM, "wrong old program: EPERM"
it.updateProgram(obj.program("list_tasks_marked"), obj.program("list_tasks"))
check it.info.progId != i1.progId, "the link runs another program"
let e2 = expectError(BpflError, "BPF_LINK_DETACH of an iterator"):
  it.forceDetach()
check e2 != nil and e2.code == -EOPNOTSUPP and "5.9" in e2.msg, "detach refused with the reason"

# Pinned, opened again, still running the new program after ours is gone.
let pin = "/sys/fs/bpf/bpfl-nim-iter-" & $me
it.pin(pin)
it.detach()
block:
  var opened = openPinnedLink(pin)
  check opened.readIter() == "marked " & $me & " " & $me & "\n", "pinned link runs the updated program"
removeFile(pin)
let e3 = expectError(BpflError, "open a removed pin"):
  discard openPinnedLink(pin)
check e3 != nil and e3.code == -ENOENT, "removed pin: ENOENT"

# cpu-clock at 1000 Hz on this CPU while it burns 200 ms.
{.emit: """#define _GNU_SOURCE
#include <sched.h>
static int pin_here(void) { int c = sched_getcpu(); cpu_set_t s; CPU_ZERO(&s); CPU_SET(c, &s); sched_setaffinity(0, sizeof(s), &s); return c; }
""".}
proc pin_here(): cint {.importc, nodecl.}
let cpu = int(pin_here())
let pfd = openPerfEvent(perfTypeSoftware, perfCountSwCpuClock, 1000, true, cpu)
var pl = obj.program("on_sample").attachPerfEvent(pfd)
discard posix.close(cint(pfd))
let t0 = epochTime()
var x = 0'u64
while epochTime() - t0 < 0.2:
  for i in 0 ..< 10000: x = x * 31 + uint64(i)
check pl.info.linkType == 7, "perf event link"
pl.detach()
let n = obj.map("samples").get(uint32(cpu), uint64)
check n >= 4 and n <= 400, $n & " cpu-clock samples in 200 ms (x " & $(x mod 2) & ")"

# struct_ops: a BPF TCP congestion control, registered and unregistered.
proc ccSelectable(): bool =
  let s = posix.socket(AF_INET, SOCK_STREAM, 0.cint)
  defer: discard posix.close(s)
  var name = "bpfl_cc"
  setsockopt(s, IPPROTO_TCP.cint, 13.cint, addr name[0], SockLen(name.len)) == 0  # TCP_CONGESTION
check not ccSelectable(), "bpfl_cc is not registered before the test"
block:
  var cc = openObject(bpfDir / "kinds_cc.o")
  cc.load()
  var l = cc.map("bpfl_cc").attachStructOps()
  check ccSelectable(), "bpfl_cc selectable once registered"
  check l.info.linkType == 9, "struct_ops link"
  l.detach()
  check not ccSelectable(), "bpfl_cc unregistered when the link goes"

summary("test_kinds")
