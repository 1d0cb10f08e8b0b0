# Nimble package of bpfl's Nim bindings: module `bpfl` (the idiomatic API),
# `bpfl/nimbpf` (the original nimbpf API, unchanged) and `bpfl/ffi` (the raw
# C ABI). The seed's `import nimbpf` is the package in compat/.
version       = "0.1.0"
author        = "bpfl developers"
description   = "eBPF loading for Nim on bpfl (no libbpf): the nimbpf API and an idiomatic one"
license       = "MIT"
srcDir        = "src"
installExt    = @["nim"]

requires "nim >= 1.6.0"

# Programs link bpfl's static library: the checkout's when these sources sit
# in one (target/release/libbpfl.a, built by `make`, also after `nimble
# develop`), else the installed one found by `pkg-config bpfl-static` (after
# `make install`; set PKG_CONFIG_PATH for a non-standard prefix).

task test, "run the kernel tests (needs root; builds through the top-level Makefile)":
  exec "make -C ../.. test-nim"
