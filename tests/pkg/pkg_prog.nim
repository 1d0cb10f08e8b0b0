## A user's Nim program against an installed bpfl (tests/pkg/test_user.sh):
## the `bpfl` nimble package installed with `nimble install`, the library
## found by pkg-config. Exact getppid() count from seed_tp.o.
##   pkg_prog SEED_TP.O N      exit 0 ok, 1 failure, 77 no root / no bpf()
import std/[os, options, posix, strutils]
import bpfl

if paramCount() != 2: quit 2
echo "bpfl ", version()
if geteuid() != 0: quit 77
let n = parseInt(paramStr(2))
try:
  var obj = openObject(paramStr(1))
  obj.load()
  obj.attachAll()
  for i in 0 ..< n: discard getppid()
  var count = 0'u64   # no entry when no call was counted
  discard obj.map("per_pid").tryGet(uint32(getpid()), count)
  echo "counted: ", count, " of ", n
  quit(if count == uint64(n): 0 else: 1)
except BpflError as e:
  stderr.writeLine "pkg_prog: ", e.msg
  quit(if e.code == -EPERM: 77 else: 1)
