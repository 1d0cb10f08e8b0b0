## The kernel-wide listing from Nim: the program, map and link this test
## made are found by walking the ids, by id and name, with the right types.
##   test_loaded BPF_DIR
import std/[os, posix, strutils]
import bpfl
import harness

requireRoot("Nim loaded-listing tests")
let bpfDir = paramStr(1)

# The Nim declarations match include/bpfl.h.
{.passC: "-I" & currentSourcePath().parentDir.parentDir.parentDir.parentDir / "include".}
{.emit: """#include <bpfl.h>
#include <stddef.h>
static long loaded_layout(int i) {
  long r[] = { sizeof(struct bpfl_loaded_program), offsetof(struct bpfl_loaded_program, load_time),
    sizeof(struct bpfl_loaded_map), offsetof(struct bpfl_loaded_map, btf_id), sizeof(struct bpfl_loaded_link) };
  return r[i];
}
""".}
proc loaded_layout(i: cint): clong {.importc, nodecl.}
let nimLayout = [sizeof(BpflLoadedProgram), offsetOf(BpflLoadedProgram, loadTime), sizeof(BpflLoadedMap),
                 offsetOf(BpflLoadedMap, btfId), sizeof(BpflLoadedLink)]
for i, v in nimLayout:
  check int(loaded_layout(cint(i))) == v, "layout " & $i & ": C " & $loaded_layout(cint(i)) & ", Nim " & $v

proc fdinfoId(fd: int, key: string): uint32 =
  for line in readFile("/proc/self/fdinfo/" & $fd).splitLines:
    if line.startsWith(key): return uint32(parseInt(line[key.len .. ^1].strip))

proc walked(next: proc (id: uint32): Option[uint32]): seq[uint32] =
  var id = 0'u32
  while true:
    let n = next(id)
    if n.isNone: return
    id = n.get
    result.add id

var obj = openObject(bpfDir / "seed_tp.o")
obj.load()
let p = obj.program("enter_getppid")
var l = p.attach()
let pid = fdinfoId(p.fd, "prog_id:")
let mid = fdinfoId(obj.map("per_pid").info.fd, "map_id:")
let lid = fdinfoId(l.fd, "link_id:")

check pid in walked(loadedProgramNextId), "program " & $pid & " walked"
let lp = loadedProgramInfo(pid)
check lp.id == pid and lp.progType == 5 and lp.name == "enter_getppid" and lp.xlatedLen > 0 and lp.nrMapIds >= 1,
  "program info " & $lp
check lp in loadedPrograms(), "loadedPrograms lists it"

check mid in walked(loadedMapNextId), "map " & $mid & " walked"
let lm = loadedMapInfo(mid)
check lm.id == mid and lm.mapType == 1 and lm.name == "per_pid" and lm.keySize == 4 and lm.valueSize == 8 and
  lm.maxEntries == 1024, "map info " & $lm
check lm in loadedMaps(), "loadedMaps lists it"

check lid in walked(loadedLinkNextId), "link " & $lid & " walked"
let ll = loadedLinkInfo(lid)
check ll == LoadedLink(id: lid, linkType: 7, progId: pid), "link info " & $ll
check ll in loadedLinks(), "loadedLinks lists it"

l.detach()
let e = expectError(BpflError, "a detached link is gone"):
  discard loadedLinkInfo(lid)
check e.code == -ENOENT and ("no BPF link with id " & $lid) in e.msg, e.msg
check loadedMapNextId(high(uint32)).isNone, "no id after the last"

summary("test_loaded")
