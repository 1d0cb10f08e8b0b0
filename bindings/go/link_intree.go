//go:build cgo && bpfl_intree

package bpfl

// -tags bpfl_intree: the bpfl checkout this package sits in (include/ and
// target/release/libbpfl.a, built by `make lib`), no install needed. The
// Makefile's test-go and go-build use it; so does a go.work pointing here.

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: ${SRCDIR}/../../target/release/libbpfl.a -lpthread -ldl -lm -lrt
import "C"
