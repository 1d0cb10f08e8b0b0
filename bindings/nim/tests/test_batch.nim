## Batch map operations from Nim on the real kernel (batch.o): 10,000
## entries written in one call into a hash, a per-CPU hash and an array,
## each checked with single lookups; walked in chunks; part drained with
## lookup-and-delete; the rest deleted; partial failures report `done`.
##   test_batch BPF_DIR
import std/[os, posix, sets, tables]
import bpfl
import harness

requireRoot("Nim bpfl batch tests")
let bpfDir = paramStr(1)

# The Nim declaration of bpfl_map_batch_opts matches include/bpfl.h.
{.passC: "-I" & currentSourcePath().parentDir.parentDir.parentDir.parentDir / "include".}
{.compile: "batch_layout.c".}
proc bpfl_nim_batch_layout(i: cint): clong {.importc, cdecl.}
let nimLayout = [sizeof(BpflMapBatchOpts), offsetOf(BpflMapBatchOpts, elemFlags), offsetOf(BpflMapBatchOpts, flags)]
for i, v in nimLayout:
  check int(bpfl_nim_batch_layout(cint(i))) == v, "layout " & $i

const N = 10_000
proc valOf(k: uint32): uint64 = uint64(k) * 1_000_003'u64 + 7

var obj = openObject(bpfDir / "batch.o")
obj.load()

proc countKeys(m: BpfMap): int =
  for k in keys[uint32](m): inc result

var keys = newSeq[uint32](N)
for i in 0 ..< N: keys[i] = uint32(i)

# ---- hash and array: typed calls ----
for name in ["hash", "array"]:
  let m = obj.map(name)
  var vals = newSeq[uint64](N)
  for i in 0 ..< N: vals[i] = valOf(uint32(i))
  check m.updateBatch(keys, vals) == N, name & ": one call writes every entry"
  var bad = 0
  for k in keys:
    if get[uint32, uint64](m, k) != valOf(k): inc bad
  check bad == 0, name & ": " & $bad & " wrong values"
  # Walk in chunks of 777.
  var cur: BatchCursor
  var seen = initTable[uint32, uint64]()
  var ks = newSeq[uint32](777)
  var vs = newSeq[uint64](777)
  var calls = 0
  while not cur.done and calls < 100_000:
    let n = m.lookupBatch(cur, ks, vs)
    for i in 0 ..< n:
      check ks[i] notin seen, "key read twice"
      seen[ks[i]] = vs[i]
    inc calls
  check seen.len == N, name & ": walk read " & $seen.len
  bad = 0
  for k, v in seen:
    if v != valOf(k): inc bad
  check bad == 0, name & ": walk values"
  if name == "array":
    let e = expectError(BpflBatchError, "array delete batch"):
      discard m.deleteBatch(keys[0 ..< 10])
    check e.contains("BPF_MAP_TYPE_ARRAY") and e.done == 0, "array delete refused with the type"
    continue
  # Lookup-and-delete 3,000: gone; the rest remain; delete the rest.
  var gone = initHashSet[uint32]()
  cur.reset()
  var dk = newSeq[uint32](1000)
  var dv = newSeq[uint64](1000)
  while gone.len < 3000 and not cur.done:
    let n = m.lookupAndDeleteBatch(cur, dk, dv)
    for i in 0 ..< n:
      check dv[i] == valOf(dk[i]), "drained value"
      gone.incl dk[i]
  check gone.len >= 3000 and gone.len < N, "drained " & $gone.len
  var rest: seq[uint32]
  bad = 0
  for k in keys:
    if (k in m) == (k in gone): inc bad
    if k notin gone: rest.add k
  check bad == 0, "keys after lookup and delete"
  check countKeys(m) == rest.len, "keys left"
  check m.deleteBatch(rest) == rest.len, "delete the rest"
  check countKeys(m) == 0, "hash empty"

# ---- per-CPU hash: bytes ----
block:
  let m = obj.map("percpu_hash")
  let vs = m.valueBufSize
  let cpus = vs div 8
  var kb = newSeq[byte](N * 4)
  var vb = newSeq[byte](N * vs)
  for k in 0 ..< N:
    copyMem(addr kb[k * 4], unsafeAddr keys[k], 4)
    for c in 0 ..< cpus:
      var x = uint32(k * 16 + c)
      copyMem(addr vb[k * vs + c * 8], addr x, 4)
  let e = expectError(BpflBatchError, "value_size per entry, not per CPU"):
    discard m.updateBatchBytes(kb, vb[0 ..< N * 4], N)
  check e.contains("per-CPU") and e.done == 0, "per-CPU sizes said"
  check m.updateBatchBytes(kb, vb, N) == N, "per-CPU update batch"
  var bad = 0
  for k in 0 ..< N:
    let per = getPerCpu[uint32, uint32](m, uint32(k))
    for c in 0 ..< cpus:
      if per[c] != uint32(k * 16 + c): inc bad
  check bad == 0, "per-CPU values: " & $bad & " wrong"
  var cur: BatchCursor
  var ko = newSeq[byte](500 * 4)
  var vo = newSeq[byte](500 * vs)
  var total = 0
  while not cur.done:
    total += m.lookupAndDeleteBatchBytes(cur, ko, vo, 500)
  check total == N and countKeys(m) == 0, "per-CPU drained: " & $total

# ---- partial failure ----
block:
  let m = obj.map("hash")
  var fk = newSeq[uint32](11_995)
  var fv = newSeq[uint64](11_995)
  for i in 0 ..< fk.len: fk[i] = uint32(i)
  check m.updateBatch(fk, fv) == 11_995, "fill"
  let e = expectError(BpflBatchError, "full map"):
    discard m.updateBatch(@[20000'u32, 20001, 20002, 20003, 20004, 20005, 20006, 20007, 20008, 20009], newSeq[uint64](10))
  check e != nil and e.done == 5 and e.contains("stopped at entry 5 of 10"), "5 written before the map was full"
  let d = expectError(BpflBatchError, "missing key"):
    discard m.deleteBatch(@[20000'u32, 20001, 99999, 20002])
  check d != nil and d.done == 2 and d.code == -ENOENT, "delete stops at the missing key"
  check countKeys(m) == 11_998, "keys after partial failures"
  let f = expectError(BpflBatchError, "NOEXIST"):
    discard m.updateBatch(@[30000'u32], @[1'u64], BatchOptions(elemFlags: 1))
  check f.contains("only BPF_F_LOCK") and f.done == 0, "NOEXIST in a batch said"
  check m.batchCursorSize == 4, "cursor size"
  let p = expectError(BpflBatchError, "prog array"):
    var c: BatchCursor
    var k4 = newSeq[byte](4)
    var v4 = newSeq[byte](4)
    discard obj.map("progs").lookupBatchBytes(c, k4, v4, 1)
  check p.contains("BPF_MAP_TYPE_PROG_ARRAY"), "prog array refused with the type"

summary("test_batch")
