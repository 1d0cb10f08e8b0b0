## xdpcount: count the packets an interface receives with an XDP program
## (xdp_count.o, which lets every packet pass) and print packets per second.
## Run as root against an interface, e.g. one end of a veth pair (see
## bindings/nim/README.md):
##
##   build/nim/xdpcount build/bpf/xdp_count.o veth0 [SECONDS]
import std/[os, strutils]
import bpfl

if paramCount() < 2:
  quit("usage: xdpcount XDP_COUNT.O INTERFACE [SECONDS (0: until Ctrl-C)]", 2)
let dev = paramStr(2)
let seconds = if paramCount() >= 3: parseInt(paramStr(3)) else: 0
try:
  let idx = ifindex(dev)
  var obj = openObject(paramStr(1))
  obj.load()
  let link = obj.program("xdp_count").attachXdp(idx, mode = xmGeneric)
  let packets = obj.map("packets")
  var last = 0'u64
  var i = 0
  while seconds == 0 or i < seconds:
    sleep(1000)
    inc i
    let total = sumPerCpu[uint32, uint64](packets, 0)
    echo dev, ": ", total - last, " packets/s (", total, " in all)"
    last = total
  discard link.fd
except BpflError as e:
  quit("xdpcount: " & e.msg & (if e.code == -1: " (attaching XDP needs root)" else: ""), 1)
