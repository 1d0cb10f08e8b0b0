//go:build cgo && !bpfl_intree && bpfl_static

package bpfl

// -tags bpfl_static: the installed static library (bpfl-static.pc gives the
// archive itself), so the binary needs no libbpfl.so at run time.

// #cgo pkg-config: bpfl-static
import "C"
