//go:build cgo

package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// Variable is a global variable of an object (.data, .bss, .rodata, or a
// .data.*/.bss.*/.rodata.* section), read and written in place: no syscall.
//
// Its address is stable from Object.Variable until the object is closed.
// Before Load it is the section's image: what is written there is the
// initial value (.rodata included). Load maps the kernel's map over the same
// address, so afterwards it reads and writes the live map; .rodata is then
// read-only (writing to it crashes the program with a fault). BPF programs
// change the memory at the same time: use sync/atomic for counters. After
// Close the memory is gone: do not keep Bytes or a VariableOf pointer past it.
type Variable struct {
	ptr  unsafe.Pointer
	size int
}

// Variable finds global variable name. After Load, a map the kernel cannot
// mmap (a pinned or reused map created without BPF_F_MMAPABLE, a kernel
// before 5.5) gives an error matching ErrNotSupported.
func (o *Object) Variable(name string) (*Variable, error) {
	n := cstr(name)
	defer free(n)
	var p unsafe.Pointer
	var size C.size_t
	_, err := call("bpfl_object_find_variable", func() C.int {
		return C.bpfl_object_find_variable(o.h, n, &p, &size)
	})
	if err != nil {
		return nil, err
	}
	return &Variable{ptr: p, size: int(size)}, nil
}

// Size is the variable's size in bytes.
func (v *Variable) Size() int { return v.size }

// Pointer is the variable's address.
func (v *Variable) Pointer() unsafe.Pointer { return v.ptr }

// Bytes is the variable's memory itself (not a copy).
func (v *Variable) Bytes() []byte { return unsafe.Slice((*byte)(v.ptr), v.size) }

// VariableOf is global variable name as a *T, a fixed-size type (integer,
// array or struct of those, laid out as the C variable is) whose size must
// be the variable's. See Variable for how long the pointer lives.
func VariableOf[T any](o *Object, name string) (*T, error) {
	const op = "bpfl_object_find_variable"
	raw, err := kindOf[T](op)
	if err != nil {
		return nil, err
	}
	if raw {
		return nil, goError(op, syscall.EINVAL, "VariableOf needs a fixed-size type; use Object.Variable(name).Bytes() for bytes")
	}
	v, err := o.Variable(name)
	if err != nil {
		return nil, err
	}
	var zero T
	if int(unsafe.Sizeof(zero)) != v.size {
		return nil, goError(op, syscall.EINVAL, "%T is %d bytes, variable %q is %d", zero, unsafe.Sizeof(zero), name, v.size)
	}
	if uintptr(v.ptr)%unsafe.Alignof(zero) != 0 {
		return nil, goError(op, syscall.EINVAL, "variable %q is not aligned for %T", name, zero)
	}
	return (*T)(v.ptr), nil
}

// Mmap gives the values of a BPF_MAP_TYPE_ARRAY created with BPF_F_MMAPABLE
// (global data maps are) as memory, after Load: value i at
// i*round_up(value_size, 8), len round_up(value_size, 8)*max_entries. The
// slice is the map itself (not a copy), the same each call, valid until the
// object (or, from OpenPinned, the map) is closed. Read-only for .rodata and
// frozen maps (writing crashes with a fault). A map that is not mmapable
// gives an EINVAL error saying why.
func (m *Map) Mmap() ([]byte, error) {
	var p unsafe.Pointer
	var n C.size_t
	_, err := call("bpfl_map_mmap", func() C.int {
		return C.bpfl_map_mmap(m.h, &p, &n)
	})
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), int(n)), nil
}
