# Nimble package of bpfl's Nim bindings: module `nimbpf` (the original
# nimbpf API, unchanged) and module `bpfl` (the idiomatic API).
version       = "0.1.0"
author        = "bpfl developers"
description   = "eBPF loading for Nim on bpfl (no libbpf): the nimbpf API and an idiomatic one"
license       = "MIT"
srcDir        = "src"
installExt    = @["nim"]

requires "nim >= 1.6.0"

# Programs link bpfl's static library: by default the one of the checkout
# these sources sit in (../../target/release/libbpfl.a, built by `make`).
# An installed copy needs -d:bpflLibDir=/path/to/bpfl/target/release.

task test, "run the kernel tests (needs root; builds through the top-level Makefile)":
  exec "make -C ../.. test-nim"
