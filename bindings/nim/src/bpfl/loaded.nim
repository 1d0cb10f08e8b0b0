## What is loaded in the kernel, system-wide: every process's programs,
## maps and links, by id (the C ABI's bpfl_loaded_* calls). Needs root
## (CAP_SYS_ADMIN). Included by bpfl.nim; not a module of its own.

type
  LoadedProgram* = object
    id*, progType*: uint32   ## progType: enum bpf_prog_type
    name*: string            ## as given at load, at most 15 bytes
    tag*: array[8, uint8]
    xlatedLen*, jitedLen*: uint32
    loadTime*: uint64        ## nanoseconds since boot
    createdByUid*, nrMapIds*: uint32
  LoadedMap* = object
    id*, mapType*: uint32    ## mapType: enum bpf_map_type
    name*: string
    keySize*, valueSize*, maxEntries*, mapFlags*, btfId*: uint32
  LoadedLink* = object
    id*, linkType*, progId*: uint32  ## linkType: enum bpf_link_type

  # The C structs (exported, as bpfl/ffi's are, for layout checks).
  BpflLoadedProgram* {.bycopy.} = object
    sz*: csize_t
    id*, progType*: uint32
    name*: array[16, char]
    tag*: array[8, uint8]
    xlatedLen*, jitedLen*: uint32
    loadTime*: uint64
    createdByUid*, nrMapIds*: uint32
  BpflLoadedMap* {.bycopy.} = object
    sz*: csize_t
    id*, mapType*: uint32
    name*: array[16, char]
    keySize*, valueSize*, maxEntries*, mapFlags*, btfId*: uint32
  BpflLoadedLink* {.bycopy.} = object
    sz*: csize_t
    id*, linkType*, progId*: uint32

{.push importc, cdecl.}
proc bpfl_loaded_program_next_id(id: uint32, next: var uint32): cint
proc bpfl_loaded_map_next_id(id: uint32, next: var uint32): cint
proc bpfl_loaded_link_next_id(id: uint32, next: var uint32): cint
proc bpfl_loaded_program_info(id: uint32, info: var BpflLoadedProgram): cint
proc bpfl_loaded_map_info(id: uint32, info: var BpflLoadedMap): cint
proc bpfl_loaded_link_info(id: uint32, info: var BpflLoadedLink): cint
{.pop.}

proc name16(a: array[16, char]): string =
  for c in a:
    if c == '\0': break
    result.add c

template nextIdOf(f: untyped, id: uint32, what: string): Option[uint32] =
  var n: uint32
  let rc = f(id, n)
  check rc, what
  if rc == 1: some(n) else: none(uint32)

proc loadedProgramNextId*(id: uint32): Option[uint32] =
  ## The id of the first program after `id` (0: the first of all); none after the last.
  nextIdOf(bpfl_loaded_program_next_id, id, "next program id")
proc loadedMapNextId*(id: uint32): Option[uint32] =
  ## As loadedProgramNextId, for maps.
  nextIdOf(bpfl_loaded_map_next_id, id, "next map id")
proc loadedLinkNextId*(id: uint32): Option[uint32] =
  ## As loadedProgramNextId, for links.
  nextIdOf(bpfl_loaded_link_next_id, id, "next link id")

proc loadedProgramInfo*(id: uint32): LoadedProgram =
  ## The program with kernel id `id`; BpflError (code -ENOENT) when there is none.
  var i = BpflLoadedProgram(sz: csize_t(sizeof(BpflLoadedProgram)))
  check bpfl_loaded_program_info(id, i), "program " & $id & " info"
  LoadedProgram(id: i.id, progType: i.progType, name: name16(i.name), tag: i.tag, xlatedLen: i.xlatedLen,
                jitedLen: i.jitedLen, loadTime: i.loadTime, createdByUid: i.createdByUid, nrMapIds: i.nrMapIds)

proc loadedMapInfo*(id: uint32): LoadedMap =
  ## The map with kernel id `id`.
  var i = BpflLoadedMap(sz: csize_t(sizeof(BpflLoadedMap)))
  check bpfl_loaded_map_info(id, i), "map " & $id & " info"
  LoadedMap(id: i.id, mapType: i.mapType, name: name16(i.name), keySize: i.keySize, valueSize: i.valueSize,
            maxEntries: i.maxEntries, mapFlags: i.mapFlags, btfId: i.btfId)

proc loadedLinkInfo*(id: uint32): LoadedLink =
  ## The link with kernel id `id`.
  var i = BpflLoadedLink(sz: csize_t(sizeof(BpflLoadedLink)))
  check bpfl_loaded_link_info(id, i), "link " & $id & " info"
  LoadedLink(id: i.id, linkType: i.linkType, progId: i.progId)

template walkLoaded(T: typedesc, next, info: untyped): seq[T] =
  var res: seq[T]
  var id = 0'u32
  while true:
    let n = next(id)
    if n.isNone: break
    id = n.get
    try:
      res.add info(id)
    except BpflError as e:
      if e.code != -ENOENT: raise  # gone between its id and its info
  res

proc loadedPrograms*(): seq[LoadedProgram] =
  ## Every program loaded in the kernel, by id.
  walkLoaded(LoadedProgram, loadedProgramNextId, loadedProgramInfo)
proc loadedMaps*(): seq[LoadedMap] =
  ## Every map in the kernel, by id.
  walkLoaded(LoadedMap, loadedMapNextId, loadedMapInfo)
proc loadedLinks*(): seq[LoadedLink] =
  ## Every link in the kernel, by id.
  walkLoaded(LoadedLink, loadedLinkNextId, loadedLinkInfo)
