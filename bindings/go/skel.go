package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import "unsafe"

// VariablePointer is the address and size of global variable name of the
// object's data sections (.rodata, .data, .bss), from
// bpfl_object_find_variable: stable from Open to Close (the object's image
// before Load, the kernel's mmap'd map after it; .rodata is read-only after
// Load). Generated skeletons (bpfl gen skeleton --lang go) view their data
// sections through it.
func (o *Object) VariablePointer(name string) (unsafe.Pointer, int, error) {
	n := cstr(name)
	defer free(n)
	var p unsafe.Pointer
	var size C.size_t
	if _, err := call("bpfl_object_find_variable", func() C.int {
		return C.bpfl_object_find_variable(o.h, n, &p, &size)
	}); err != nil {
		return nil, 0, err
	}
	return p, int(size), nil
}
