# Included by bpfl.nim: set-up between open and load (bpfl_program_set_*,
# bpfl_map_set_*). Every setter raises BpflError (code -EBUSY) once the
# object is loaded.

proc `autoload=`*(p: BpfProgram, on: bool) =
  ## Load the program with its object (default) or leave it out.
  check bpfl_program_set_autoload(p.h, on), "set autoload"

proc autoload*(p: BpfProgram): bool =
  check bpfl_program_autoload(p.h, result), "autoload"

proc setType*(p: BpfProgram, progType: uint32) =
  ## Load as `progType` (enum bpf_prog_type).
  check bpfl_program_set_type(p.h, progType), "set type"

proc setExpectedAttachType*(p: BpfProgram, attachType: uint32) =
  check bpfl_program_set_expected_attach_type(p.h, attachType), "set expected attach type"

proc setAttachTarget*(p: BpfProgram, function: string, attachProgFd = 0) =
  ## A kernel function/tracepoint/LSM hook/iterator, or with `attachProgFd`
  ## function `function` of that loaded BPF program (freplace).
  let f = if function.len > 0: cstring(function) else: nil
  check bpfl_program_set_attach_target(p.h, cint(attachProgFd), f), "set attach target"

proc `flags=`*(p: BpfProgram, flags: uint32) =
  ## prog_flags at load (e.g. BPF_F_SLEEPABLE = 1 shl 4).
  check bpfl_program_set_flags(p.h, flags), "set flags"

proc flags*(p: BpfProgram): uint32 =
  check bpfl_program_flags(p.h, result), "flags"

proc `logLevel=`*(p: BpfProgram, level: uint32) =
  ## This program's verifier log level (1 or 2 keep the log of a successful load).
  check bpfl_program_set_log_level(p.h, level), "set log level"

proc log*(p: BpfProgram): string =
  ## The verifier log of the program's last load.
  var n: csize_t
  let rc = bpfl_program_log(p.h, nil, 0, n)
  if rc != -ENOSPC: check rc, "log"
  result = newString(int(n) + 1)
  check bpfl_program_log(p.h, cstring(result), n + 1, n), "log"
  result.setLen(int(n))

proc `maxEntries=`*(m: BpfMap, n: uint32) =
  check bpfl_map_set_max_entries(m.h, n), "set max_entries"

proc `valueSize=`*(m: BpfMap, n: uint32) =
  ## A global data map keeps its data, zero-extended, and must still hold every variable.
  check bpfl_map_set_value_size(m.h, n), "set value_size"

proc `keySize=`*(m: BpfMap, n: uint32) =
  check bpfl_map_set_key_size(m.h, n), "set key_size"

proc `mapFlags=`*(m: BpfMap, flags: uint32) =
  check bpfl_map_set_map_flags(m.h, flags), "set map_flags"

proc `numaNode=`*(m: BpfMap, node: uint32) =
  check bpfl_map_set_numa_node(m.h, node), "set numa node"

proc setInnerMapFd*(m: BpfMap, fd: int) =
  check bpfl_map_set_inner_map_fd(m.h, cint(fd)), "set inner map fd"

proc reuseFd*(m: BpfMap, fd: int) =
  ## Use the existing map `fd` (duplicated) instead of creating this one.
  check bpfl_map_reuse_fd(m.h, cint(fd)), "reuse fd"

proc `pinPath=`*(m: BpfMap, path: string) =
  check bpfl_map_set_pin_path(m.h, cstring(path)), "set pin path"

proc `autocreate=`*(m: BpfMap, on: bool) =
  check bpfl_map_set_autocreate(m.h, on), "set autocreate"

proc autocreate*(m: BpfMap): bool =
  check bpfl_map_autocreate(m.h, result), "autocreate"
