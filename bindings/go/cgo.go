// Package bpfl loads eBPF objects into the Linux kernel through bpfl's C ABI
// (bpfl.h). The C flags come from pkg-config (see link_*.go): `make install`
// bpfl first, or build inside the checkout with -tags bpfl_intree.
//
// The module path is bpfl.dev/bpfl; the package name is bpfl:
//
//	import "bpfl.dev/bpfl"
//
//	obj, err := bpfl.Open("prog.o", nil)
//	defer obj.Close()
//	err = obj.Load(nil)
//	n, err := obj.AttachAll()
//	m, err := obj.Map("counts")
//	v, err := bpfl.Lookup[uint32, uint64](m, 0)
//
// Every failure is an *Error: it wraps the errno (errors.Is(err,
// syscall.ENOENT) works) and carries bpfl's own message (bpfl_last_error()).
package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Version is the version of the linked bpfl library ("MAJOR.MINOR.PATCH").
func Version() string { return C.GoString(C.bpfl_version()) }

// call runs one C call and, if it fails, reads bpfl_last_error() on the same
// OS thread (the message is thread-local).
func call(op string, f func() C.int) (int, error) {
	runtime.LockOSThread()
	rc := f()
	var msg string
	if rc < 0 {
		msg = C.GoString(C.bpfl_last_error())
	}
	runtime.UnlockOSThread()
	if rc < 0 {
		return 0, newError(op, int(rc), msg)
	}
	return int(rc), nil
}

// cstr returns a C copy of s; free it with C.free.
func cstr(s string) *C.char { return C.CString(s) }

func free(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// ptr is the address of b's first byte, or nil for an empty slice.
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}
