//go:build cgo && !bpfl_intree && !bpfl_static

package bpfl

// The default: an installed bpfl found by pkg-config (bpfl.pc), linked
// against libbpfl.so. Works from the module cache and from vendor/.
// Set PKG_CONFIG_PATH when bpfl is installed under a non-standard prefix.

// #cgo pkg-config: bpfl
import "C"
