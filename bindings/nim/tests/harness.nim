## A small check harness for the Nim binding tests: counts checks, prints
## every failure with its place, and a summary line.

import std/[os, posix, strutils]

var passed*, failed*: int

proc syscall*(n: clong): clong {.importc, header: "<unistd.h>", varargs, discardable.}
var SYS_getppid* {.importc, header: "<sys/syscall.h>".}: clong
var SYS_getpid* {.importc, header: "<sys/syscall.h>".}: clong
var SYS_getpgid* {.importc, header: "<sys/syscall.h>".}: clong
var SYS_gettid* {.importc, header: "<sys/syscall.h>".}: clong

template check*(cond: bool, what: string) =
  if cond:
    inc passed
  else:
    inc failed
    let pos = instantiationInfo()
    echo "FAIL ", pos.filename, ":", pos.line, ": ", what

template expectError*(E: typedesc, what: string, body: untyped): ref E =
  ## Runs body; checks it raises E; gives the exception (nil if none).
  var caught: ref E = nil
  try:
    body
  except E as e:
    caught = e
  check(caught != nil, what & ": expected " & $E)
  caught

proc contains*(e: ref Exception, s: string): bool =
  e != nil and s in e.msg

proc captureStderr*(body: proc ()): string =
  ## What body writes to fd 2 (nimbpf's logs), also echoed indented.
  let path = getTempDir() / ("nim-bpfl-test-stderr-" & $getpid())
  let fd = posix.open(path.cstring, O_WRONLY or O_CREAT or O_TRUNC, 0o600)
  flushFile(stderr)
  let saved = dup(2)
  discard dup2(fd, 2)
  discard close(fd)
  try:
    body()
  finally:
    flushFile(stderr)
    discard dup2(saved, 2)
    discard close(saved)
  result = readFile(path)
  removeFile(path)
  for line in result.splitLines:
    if line.len > 0: echo "  | ", line

proc requireRoot*(name: string) =
  if geteuid() != 0:
    echo "************************************************************"
    echo "SKIPPED: ", name, " (needs root and bpf())"
    echo "************************************************************"
    quit(77)

proc summary*(name: string) =
  echo name, ": ", passed, " passed, ", failed, " failed"
  quit(if failed > 0: 1 else: 0)
