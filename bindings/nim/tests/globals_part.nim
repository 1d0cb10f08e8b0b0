# Included by test_bpfl.nim: global variables and an mmapable array read and
# written in place (globals_mmap.o, issue 13). The .rodata filter set through
# the pointer before load; .bss read and .data written after it through the
# same pointers; a second object filtering another pid counts nothing.
import std/volatile
proc readShared(p: ptr uint64): uint64 = volatileLoad(p)
block:
  var obj = openObject(bpfDir / "globals_mmap.o")
  var other = openObject(bpfDir / "globals_mmap.o")
  let tgid = obj.variable(uint32, "target_tgid")
  let vin = obj.variable(uint64, "value_in")
  let hits = obj.variable(uint64, "hits")
  check tgid[] == 0 and vin[] == 0x1111 and hits[] == 0, "initial values"
  tgid[] = me
  vin[] = 42
  other.variable(uint32, "target_tgid")[] = 4000000000'u32 # no such process
  let (xp, xn) = obj.variableBytes("extra")
  check xn == 16 and cast[ptr array[4, uint32]](xp)[] == [1'u32, 2, 3, 4], ".data.extra"
  var e = expectError(BpflError, "unknown variable"):
    discard obj.variable(uint64, "nope")
  check e != nil and e.code == -ENOENT and e.contains("'nope'"), "ENOENT naming the variable"
  e = expectError(BpflError, "wrong size"):
    discard obj.variable(uint32, "value_in")
  check e != nil and e.code == -EINVAL, "size checked"
  e = expectError(BpflError, "mmap before load"):
    discard obj.map("counts").mmap()
  check e != nil and e.code == -EINVAL, "mmap before load: EINVAL"
  obj.load()
  other.load()
  check obj.variable(uint64, "value_in") == vin and vin[] == 42, "the same pointer, now the map"
  let link = obj.program("count_getppid").attach()
  let link2 = other.program("count_getppid").attach()
  for i in 0 ..< 1000: syscall(SYS_getppid)
  check readShared(hits) == 1000, "hits " & $hits[]
  check other.variable(uint64, "hits")[] == 0, "the other pid's object counted nothing"
  let vout = obj.variable(uint64, "value_out")
  check vout[] == 42, "value_out " & $vout[]
  vin[] = 7
  syscall(SYS_getppid)
  check vout[] == 7 and hits[] == 1001, "copied " & $vout[] & ", hits " & $hits[]
  check get[uint32, uint64](obj.map(".data"), 0) == 7, "a write through the pointer is the map's"
  let mm = obj.map("counts").mmap()
  check mm.len == 64 and mm.at(uint64, 8)[] == 1001 and mm.at(uint64, 16)[] == 14, "mmap'd slots"
  mm.at(uint64, 40)[] = 0xabcd
  check get[uint32, uint64](obj.map("counts"), 5) == 0xabcd, "a write through the mapping is the map's"
  e = expectError(BpflError, "plain map"):
    discard obj.map("plain").mmap()
  check e != nil and e.code == -EINVAL and e.contains("BPF_F_MMAPABLE"), "not mmapable: " & (if e != nil: e.msg else: "")
  discard link
  discard link2
