## Included by bpfl.nim (it uses the private handle of BpfMap): batch map
## operations, many entries per system call (Linux 5.6). Keys and values
## are packed: key size and `valueBufSize` bytes each. A call that fails
## part-way raises `BpflBatchError`, whose `done` says how many entries the
## kernel did before it stopped.

type
  BpflMapBatchOpts* {.bycopy.} = object
    sz*: csize_t
    elemFlags*: uint64 ## 0, or BPF_F_LOCK (4); the kernel takes no NOEXIST/EXIST in batches
    flags*: uint64     ## 0

  BatchOptions* = object
    elemFlags*, flags*: uint64

  BatchCursor* = object
    ## Where a lookupBatch walk stands (the kernel's resume token); the
    ## default value starts at the beginning of the map.
    token: seq[byte]
    started, done: bool

  BpflBatchError* = object of BpflError
    done*: int ## entries done before the kernel stopped

{.push importc, cdecl.}
proc bpfl_map_update_batch*(m: BpflMapH, keys: pointer, keysSize: csize_t, values: pointer, valuesSize: csize_t,
                            count: var csize_t, opts: ptr BpflMapBatchOpts): cint
proc bpfl_map_delete_batch*(m: BpflMapH, keys: pointer, keysSize: csize_t, count: var csize_t, opts: ptr BpflMapBatchOpts): cint
proc bpfl_map_batch_cursor_size*(m: BpflMapH, outSize: var csize_t): cint
proc bpfl_map_lookup_batch*(m: BpflMapH, inCursor, outCursor: pointer, cursorSize: csize_t, keys: pointer, keysSize: csize_t,
                            values: pointer, valuesSize: csize_t, count: var csize_t, opts: ptr BpflMapBatchOpts): cint
proc bpfl_map_lookup_and_delete_batch*(m: BpflMapH, inCursor, outCursor: pointer, cursorSize: csize_t, keys: pointer,
                                       keysSize: csize_t, values: pointer, valuesSize: csize_t, count: var csize_t,
                                       opts: ptr BpflMapBatchOpts): cint
{.pop.}

proc done*(c: BatchCursor): bool = c.done
  ## Whether the walk reached the end of the map.

proc reset*(c: var BatchCursor) = c = BatchCursor()

proc batchCursorSize*(m: BpfMap): int =
  ## max(key size, 4): a hash map resumes at a 4-byte bucket, others at a key.
  var n: csize_t
  check bpfl_map_batch_cursor_size(m.h, n), "batch cursor size"
  int(n)

proc batchFail(rc: cint, what: string, done: csize_t) =
  let msg = lastError()
  var e = newException(BpflBatchError, if msg.len > 0: what & ": " & msg else: what & ": error " & $rc)
  e.code = rc
  e.done = int(done)
  raise e

proc cOpts(o: BatchOptions, c: var BpflMapBatchOpts): ptr BpflMapBatchOpts =
  c = BpflMapBatchOpts(sz: csize_t(sizeof(BpflMapBatchOpts)), elemFlags: o.elemFlags, flags: o.flags)
  addr c

proc at(b: openArray[byte]): pointer =
  if b.len > 0: unsafeAddr b[0] else: nil

proc updateBatchBytes*(m: BpfMap, keys, values: openArray[byte], count: int, opts = BatchOptions()): int =
  ## Create or update `count` entries from packed keys and values in one
  ## system call; returns the entries written.
  var n = csize_t(count)
  var o: BpflMapBatchOpts
  let rc = bpfl_map_update_batch(m.h, at(keys), csize_t(keys.len), at(values), csize_t(values.len), n, cOpts(opts, o))
  if rc < 0: batchFail(rc, "update batch", n)
  int(n)

proc deleteBatchBytes*(m: BpfMap, keys: openArray[byte], count: int, opts = BatchOptions()): int =
  ## Delete `count` packed keys in one system call; returns the entries deleted.
  var n = csize_t(count)
  var o: BpflMapBatchOpts
  let rc = bpfl_map_delete_batch(m.h, at(keys), csize_t(keys.len), n, cOpts(opts, o))
  if rc < 0: batchFail(rc, "delete batch", n)
  int(n)

proc lookupBatchImpl(m: BpfMap, del: bool, cur: var BatchCursor, keys: pointer, keysLen: int, values: pointer,
                     valuesLen: int, count: int, opts: BatchOptions): int =
  if cur.done: return 0
  if cur.token.len == 0: cur.token = newSeq[byte](m.batchCursorSize)
  var n = csize_t(count)
  var o: BpflMapBatchOpts
  let tok = addr cur.token[0]
  let inTok = if cur.started: tok else: nil
  # One buffer for the cursor in and out: the C ABI allows it.
  let rc = if del:
      bpfl_map_lookup_and_delete_batch(m.h, inTok, tok, csize_t(cur.token.len), keys, csize_t(keysLen), values,
                                       csize_t(valuesLen), n, cOpts(opts, o))
    else:
      bpfl_map_lookup_batch(m.h, inTok, tok, csize_t(cur.token.len), keys, csize_t(keysLen), values,
                            csize_t(valuesLen), n, cOpts(opts, o))
  if rc == -ENOENT:
    cur.started = true
    cur.done = true
  elif rc < 0:
    batchFail(rc, if del: "lookup and delete batch" else: "lookup batch", n)
  else:
    cur.started = true
  int(n)

proc lookupBatchBytes*(m: BpfMap, cur: var BatchCursor, keys, values: var openArray[byte], count: int,
                       opts = BatchOptions()): int =
  ## Read up to `count` entries of a walk through the map into packed keys
  ## and values; returns how many. At the end of the map `cur.done`.
  lookupBatchImpl(m, false, cur, at(keys), keys.len, at(values), values.len, count, opts)

proc lookupAndDeleteBatchBytes*(m: BpfMap, cur: var BatchCursor, keys, values: var openArray[byte], count: int,
                                opts = BatchOptions()): int =
  ## lookupBatchBytes, deleting the entries it reads (hash maps).
  lookupBatchImpl(m, true, cur, at(keys), keys.len, at(values), values.len, count, opts)

proc checkSizes[K, V](m: BpfMap, what: string, checkValue = true) =
  let i = m.info
  if int(i.keySize) != sizeof(K) or (checkValue and m.valueBufSize != sizeof(V)):
    raise (ref BpflError)(code: -EINVAL, msg: what & ": map " & i.name & " has " & $i.keySize & "-byte keys and " &
      $m.valueBufSize & "-byte value buffers, not " & $sizeof(K) & " and " & $sizeof(V))

proc updateBatch*[K, V](m: BpfMap, keys: openArray[K], values: openArray[V], opts = BatchOptions()): int =
  ## Write keys[i] = values[i] for every i in one system call; returns the
  ## entries written (a failure part-way raises BpflBatchError with `done`).
  checkSizes[K, V](m, "update batch")
  if keys.len != values.len:
    raise (ref BpflError)(code: -EINVAL, msg: "update batch: " & $keys.len & " keys but " & $values.len & " values")
  if keys.len == 0: return 0
  var n = csize_t(keys.len)
  var o: BpflMapBatchOpts
  let rc = bpfl_map_update_batch(m.h, unsafeAddr keys[0], csize_t(keys.len * sizeof(K)), unsafeAddr values[0],
                                 csize_t(values.len * sizeof(V)), n, cOpts(opts, o))
  if rc < 0: batchFail(rc, "update batch", n)
  int(n)

proc deleteBatch*[K](m: BpfMap, keys: openArray[K], opts = BatchOptions()): int =
  ## Delete keys in one system call; returns the entries deleted.
  checkSizes[K, byte](m, "delete batch", checkValue = false)
  if keys.len == 0: return 0
  var n = csize_t(keys.len)
  var o: BpflMapBatchOpts
  let rc = bpfl_map_delete_batch(m.h, unsafeAddr keys[0], csize_t(keys.len * sizeof(K)), n, cOpts(opts, o))
  if rc < 0: batchFail(rc, "delete batch", n)
  int(n)

proc lookupBatch*[K, V](m: BpfMap, cur: var BatchCursor, keys: var openArray[K], values: var openArray[V],
                        opts = BatchOptions()): int =
  ## Read up to keys.len entries (values as long) of a walk through the map;
  ## returns how many. At the end of the map `cur.done`.
  checkSizes[K, V](m, "lookup batch")
  let count = min(keys.len, values.len)
  if count == 0: return 0
  lookupBatchImpl(m, false, cur, addr keys[0], keys.len * sizeof(K), addr values[0], values.len * sizeof(V), count, opts)

proc lookupAndDeleteBatch*[K, V](m: BpfMap, cur: var BatchCursor, keys: var openArray[K], values: var openArray[V],
                                 opts = BatchOptions()): int =
  ## lookupBatch, deleting the entries it reads (hash maps).
  checkSizes[K, V](m, "lookup and delete batch")
  let count = min(keys.len, values.len)
  if count == 0: return 0
  lookupBatchImpl(m, true, cur, addr keys[0], keys.len * sizeof(K), addr values[0], values.len * sizeof(V), count, opts)
