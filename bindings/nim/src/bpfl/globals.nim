# Included by bpfl.nim (it uses the private handles): global variables and
# mmapable arrays read and written in place, with no syscall
# (bpfl_object_find_variable, bpfl_map_mmap).

proc bpfl_object_find_variable(obj: BpflObjectH, name: cstring, p: var pointer, size: var csize_t): cint {.importc, cdecl.}
proc bpfl_map_mmap(m: BpflMapH, p: var pointer, len: var csize_t): cint {.importc, cdecl.}

type
  MappedMem* = object
    ## A map's values in memory (`mmap`): the map itself, not a copy.
    data*: ptr UncheckedArray[byte]
    len*: int ## round_up(value_size, 8) * max_entries

proc variableBytes*(o: BpfObject, name: string): tuple[p: pointer, size: int] =
  ## Global variable `name` (.data, .bss, .rodata, .data.*...): its address
  ## and size. The address is stable from the first call until the object
  ## closes: before `load` it is the section's image (writes are the initial
  ## value), after it the live map (no syscall; .rodata read-only: writing
  ## faults). BPF programs change it concurrently: use atomics for counters.
  ## After load, a map the kernel cannot mmap raises BpflError (-EOPNOTSUPP).
  var p: pointer
  var n: csize_t
  check bpfl_object_find_variable(o.h, cstring(name), p, n), "variable " & name
  (p, int(n))

proc variable*(o: BpfObject, T: typedesc, name: string): ptr T =
  ## Global variable `name` as a `ptr T`; `sizeof(T)` must be its size
  ## (else BpflError -EINVAL). Lives as `variableBytes` says.
  let (p, n) = o.variableBytes(name)
  if n != sizeof(T):
    raise (ref BpflError)(code: -EINVAL, msg: "variable " & name & " is " & $n & " bytes, " & $T & " is " & $sizeof(T))
  if cast[uint](p) mod uint(alignof(T)) != 0:
    raise (ref BpflError)(code: -EINVAL, msg: "variable " & name & " is not aligned for " & $T)
  cast[ptr T](p)

proc mmap*(m: BpfMap): MappedMem =
  ## The values of a BPF_MAP_TYPE_ARRAY created with BPF_F_MMAPABLE (global
  ## data maps are), after load: value `i` at `i * round_up(value_size, 8)`.
  ## The same mapping each call, valid until the object (or this pinned map)
  ## closes; read-only for .rodata and frozen maps. A map that is not
  ## mmapable raises BpflError (-EINVAL) saying why.
  var p: pointer
  var n: csize_t
  check bpfl_map_mmap(m.h, p, n), "mmap " & m.name
  MappedMem(data: cast[ptr UncheckedArray[byte]](p), len: int(n))

proc at*(mm: MappedMem, T: typedesc, offset: int): ptr T =
  ## The `T` at byte `offset` (bounds and alignment checked).
  if offset < 0 or offset + sizeof(T) > mm.len or offset mod alignof(T) != 0:
    raise (ref BpflError)(code: -EINVAL, msg: $sizeof(T) & " bytes at offset " & $offset & " do not fit (aligned) in " & $mm.len)
  cast[ptr T](addr mm.data[offset])
