## A seed-style program: bootBpf an object given on the command line, then
## show that it is still running and that the maps are usable.
import std/[os, posix]
import nimbpf
import harness

bootBpf(paramStr(1).cstring)
echo "still running after bootBpf"
var me = uint32(getpid())
syscall(SYS_getppid)
echo "per_pid[self] = ", fetchUint64FromMap("per_pid", me)
