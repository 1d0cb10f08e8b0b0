## nimbpf: the original nimbpf API, on bpfl (no libbpf underneath).
##
## Existing nimbpf programs compile and run unchanged:
##
## .. code-block:: nim
##   import nimbpf
##   bootBpf("ovfs.o")                       # load, remember maps, attach all
##   var pid: uint32 = 42
##   echo fetchUint64FromMap("per_pid", pid) # Option[uint64]
##   for k in getKeys[uint32]("per_pid"): echo k
##
## Differences from the seed, all on failure paths: every failure is logged
## to stderr with its reason (lines start with "nimbpf: "), and a key or
## value size that does not match the map gives `none` instead of reading
## past the Nim variable. Additions: `deleteFromMap`, `clearMap`,
## `fetchAllFromMap` (batch reads of large maps), `pinMap`, `tryBootBpf`,
## `shutdownBpf`.

import std/[options, tables, posix]
import ./ffi

export options

type
  MapEntry = object
    h: BpflMapH
    pinned: bool   # opened by openPinnedMap: ours to close

var
  objects: seq[BpflObjectH]
  links: seq[BpflLinkH]
  maps: Table[string, MapEntry]

proc log(msg: string) =
  try:
    stderr.writeLine("nimbpf: " & msg)
    stderr.flushFile()
  except IOError:
    discard

proc mapInfo(h: BpflMapH, info: var BpflMapInfo): bool =
  info = BpflMapInfo(sz: csize_t(sizeof(BpflMapInfo)))
  bpfl_map_get_info(h, info) == 0

proc register(name: string, e: MapEntry) =
  if name in maps:
    let old = maps[name]
    if old.pinned: discard bpfl_map_close(old.h)
    log("map '" & name & "' now refers to the newest one of that name")
  maps[name] = e

proc tryBootBpf*(elfBpfFile: cstring): int =
  ## `bootBpf`, returning how many programs were attached, or -1 when the
  ## object could not be opened or loaded.
  let path = $elfBpfFile
  var obj: BpflObjectH
  if bpfl_object_open_file(elfBpfFile, nil, obj) != 0:
    log("cannot open " & path & ": " & lastError())
    return -1
  if bpfl_object_load(obj, nil) != 0:
    log("cannot load " & path & ": " & lastError())
    discard bpfl_object_close(obj)
    return -1
  objects.add obj
  var n: csize_t
  if bpfl_object_map_count(obj, n) == 0:
    for i in 0 ..< int(n):
      var m: BpflMapH
      var info: BpflMapInfo
      if bpfl_object_map_at(obj, csize_t(i), m) == 0 and mapInfo(m, info):
        register($info.name, MapEntry(h: m))
  result = 0
  if bpfl_object_program_count(obj, n) == 0:
    for i in 0 ..< int(n):
      var p: BpflProgramH
      if bpfl_object_program_at(obj, csize_t(i), p) != 0: continue
      var pi = BpflProgramInfo(sz: csize_t(sizeof(BpflProgramInfo)))
      discard bpfl_program_get_info(p, pi)
      let what = $pi.name & " (" & $pi.section & ")"
      var l: BpflLinkH
      if bpfl_program_attach(p, l) == 0:
        links.add l
        inc result
        log(path & ": attached " & what)
      else:
        log(path & ": cannot attach " & what & ": " & lastError() & "; carrying on")

proc bootBpf*(elfBpfFile: cstring): void =
  ## Open and load the object, remember its maps by name, and attach every
  ## program whose section names its target (kprobe/, kretprobe/,
  ## tracepoint/, tp/, raw_tracepoint/, uprobe/, usdt/BINARY:PROVIDER:NAME,
  ## uprobe.multi/, kprobe.multi/, ksyscall/, fentry/ ...). A program that
  ## cannot attach is logged and skipped.
  discard tryBootBpf(elfBpfFile)

proc shutdownBpf*() =
  ## Detach everything and close every object and pinned map (the kernel
  ## does the same at exit). Map names are forgotten.
  for l in links: discard bpfl_link_destroy(l)
  for name, e in maps:
    if e.pinned: discard bpfl_map_close(e.h)
  for o in objects: discard bpfl_object_close(o)
  links.setLen(0)
  objects.setLen(0)
  maps.clear()

proc pinHint(path: string): string =
  ## Why a path that exists is not a pinned map, in words (bpfl's own
  ## message already says when the path is not on a bpffs).
  var st: Stat
  if stat(cstring(path), st) != 0: return ""
  if S_ISDIR(st.st_mode):
    return " (" & path & " is a directory, not a pinned map)"
  ""

proc openPinnedMap*(map: string, filename: string): Option[uint64] =
  ## Open a map pinned on bpffs (/sys/fs/bpf/...) under the name `map` for
  ## the fetch calls. `some(fd)`, or `none` (logged) when the path is
  ## missing or is not a map.
  var h: BpflMapH
  if bpfl_map_open_pinned(cstring(filename), h) != 0:
    log("cannot open pinned map '" & map & "' at " & filename & ": " & lastError() &
        pinHint(filename))
    return none(uint64)
  var info: BpflMapInfo
  if not mapInfo(h, info) or info.fd < 0:
    log("cannot open pinned map '" & map & "' at " & filename & ": " & lastError())
    discard bpfl_map_close(h)
    return none(uint64)
  register(map, MapEntry(h: h, pinned: true))
  some(uint64(info.fd))

proc openPinnedBpfMap*(map: string, filename: string): Option[uint64] =
  ## The seed's other name for `openPinnedMap`.
  openPinnedMap(map, filename)

proc findMap(map, caller: string, h: var BpflMapH, info: var BpflMapInfo): bool =
  if map notin maps:
    log(caller & ": no map named '" & map & "' (bootBpf or openPinnedMap it first)")
    return false
  h = maps[map].h
  if not mapInfo(h, info):
    log(caller & ": map '" & map & "': " & lastError())
    return false
  true

proc keyOk(map, caller: string, info: BpflMapInfo, size: int): bool =
  ## Exact key size (the rule for fetchAllFromMap).
  if int(info.keySize) != size:
    log(caller & ": map '" & map & "' has " & $info.keySize & "-byte keys, the key given has " &
        $size & " bytes")
    return false
  true

proc keyFits(map, caller: string, info: BpflMapInfo, key: pointer, size: int): bool =
  ## The seed passed a pointer to the key and the kernel read the map's key
  ## size from it, so seed programs use e.g. a culong key on a map with
  ## 4-byte keys. A larger key is accepted when the bytes past the map's key
  ## size are zero (the same number, on little-endian machines); a smaller
  ## one, or a larger one that does not fit, is refused.
  let ks = int(info.keySize)
  if size == ks: return true
  if size > ks and cpuEndian == littleEndian:
    let b = cast[ptr UncheckedArray[byte]](key)
    var fits = true
    for i in ks ..< size:
      if b[i] != 0: fits = false
    if fits: return true
    log(caller & ": map '" & map & "' has " & $ks & "-byte keys; the " & $size &
        "-byte key given does not fit in " & $ks & " bytes")
    return false
  log(caller & ": map '" & map & "' has " & $ks & "-byte keys, the key given has " &
      $size & " bytes")
  false

proc fetchValue[V](map: string, key: pointer, keySize: int, caller: string): Option[V] =
  var h: BpflMapH
  var info: BpflMapInfo
  if not findMap(map, caller, h, info) or not keyFits(map, caller, info, key, keySize):
    return none(V)
  if int(info.valueSize) != sizeof(V):
    log(caller & ": map '" & map & "' holds " & $info.valueSize & "-byte values, not " &
        $sizeof(V) & " bytes: use the fetch call of that size")
    return none(V)
  var bufSize: csize_t
  if bpfl_map_value_buf_size(h, bufSize) != 0:
    log(caller & ": map '" & map & "': " & lastError())
    return none(V)
  # Per-CPU maps: one value per CPU, summed.
  let stride = (sizeof(V) + 7) and not 7
  var buf = newSeq[byte](max(int(bufSize), sizeof(V)))
  let rc = bpfl_map_lookup(h, key, csize_t(info.keySize), addr buf[0], bufSize)
  if rc == -ENOENT:
    return none(V)
  if rc != 0:
    log(caller & ": map '" & map & "': " & lastError())
    return none(V)
  var total: V
  if int(bufSize) == sizeof(V):
    copyMem(addr total, addr buf[0], sizeof(V))
  else:
    for i in 0 ..< int(bufSize) div stride:
      var v: V
      copyMem(addr v, addr buf[i * stride], sizeof(V))
      total += v
  some(total)

proc fetchUint16FromMap*(map: string, key: var auto): Option[uint16] =
  ## The uint16 value of `key` (a number or a Nim object laid out as the
  ## BPF program's key) in map `map`. `none` when the key is absent; `none`
  ## and a log line when the map is unknown or the sizes do not match.
  ## Per-CPU maps give the sum over CPUs.
  fetchValue[uint16](map, addr key, sizeof(key), "fetchUint16FromMap")

proc fetchUint64FromMap*(map: string, key: var auto): Option[uint64] =
  ## As `fetchUint16FromMap`, for uint64 values.
  fetchValue[uint64](map, addr key, sizeof(key), "fetchUint64FromMap")

iterator getKeys*[T](map: string): T =
  ## Every key of map `map`. `T` has the map's key size, or is a larger
  ## number type (the key is zero-extended: getKeys[culong] on 4-byte keys).
  var h: BpflMapH
  var info: BpflMapInfo
  if findMap(map, "getKeys", h, info):
    let ks = int(info.keySize)
    if sizeof(T) == ks or (sizeof(T) > ks and cpuEndian == littleEndian and T is SomeInteger):
      var cur, nxt: T
      var rc = bpfl_map_next_key(h, nil, addr cur, csize_t(ks))
      while rc == 0:
        yield cur
        rc = bpfl_map_next_key(h, addr cur, addr nxt, csize_t(ks))
        cur = nxt
      if rc != -ENOENT:
        log("getKeys: map '" & map & "': " & lastError())
    else:
      log("getKeys: map '" & map & "' has " & $ks & "-byte keys, the key type has " &
          $sizeof(T) & " bytes")

# ---- additions: the seed's TODO list -------------------------------------------

proc deleteFromMap*(map: string, key: var auto): bool =
  ## Delete `key` from map `map`; false when it was absent (or on error, logged).
  var h: BpflMapH
  var info: BpflMapInfo
  if not findMap(map, "deleteFromMap", h, info) or
     not keyFits(map, "deleteFromMap", info, addr key, sizeof(key)):
    return false
  let rc = bpfl_map_delete(h, addr key, csize_t(info.keySize))
  if rc == -ENOENT: return false
  if rc != 0:
    log("deleteFromMap: map '" & map & "': " & lastError())
    return false
  true

proc clearMap*(map: string): bool =
  ## Remove every entry (hash maps) or zero every value (arrays).
  var h: BpflMapH
  var info: BpflMapInfo
  if not findMap(map, "clearMap", h, info): return false
  if bpfl_map_clear(h) != 0:
    log("clearMap: map '" & map & "': " & lastError())
    return false
  true

proc fetchAllFromMap*[K, V](map: string): seq[tuple[key: K, value: V]] =
  ## Every entry of a (large) map at once, read with batch syscalls where
  ## the kernel has them. Empty, with a log line, on a size mismatch.
  var h: BpflMapH
  var info: BpflMapInfo
  if not findMap(map, "fetchAllFromMap", h, info) or
     not keyOk(map, "fetchAllFromMap", info, sizeof(K)):
    return
  var bufSize: csize_t
  if bpfl_map_value_buf_size(h, bufSize) != 0 or int(bufSize) != sizeof(V):
    log("fetchAllFromMap: map '" & map & "' has " & $bufSize & "-byte values, not " &
        $sizeof(V))
    return
  let cap = max(int(info.maxEntries), 1)
  var ks = newSeq[K](cap)
  var vs = newSeq[V](cap)
  var n: csize_t
  if bpfl_map_read_all(h, addr ks[0], addr vs[0], csize_t(cap), n) != 0:
    log("fetchAllFromMap: map '" & map & "': " & lastError())
    return
  result.setLen(int(n))
  for i in 0 ..< int(n):
    result[i] = (key: ks[i], value: vs[i])

proc pinMap*(map: string, path: string): bool =
  ## Pin map `map` at `path` on a bpffs, for another process's openPinnedMap.
  var h: BpflMapH
  var info: BpflMapInfo
  if not findMap(map, "pinMap", h, info): return false
  if bpfl_map_pin(h, cstring(path)) != 0:
    log("pinMap: map '" & map & "' at " & path & ": " & lastError())
    return false
  true

proc mapFd*(map: string): Option[uint64] =
  ## The file descriptor of map `map`.
  var h: BpflMapH
  var info: BpflMapInfo
  if findMap(map, "mapFd", h, info) and info.fd >= 0: some(uint64(info.fd)) else: none(uint64)
