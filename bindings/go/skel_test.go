package bpfl

import (
	"syscall"
	"testing"
	"unsafe"
)

// VariablePointer (what generated skeletons use): the same address before
// and after Load; written before Load it is the program's .rodata constant,
// after Load .data is the live map (a write the program sees) and .bss
// holds what the program counted, equal to a lookup of the map.
func TestVariablePointer(t *testing.T) {
	var before [3]unsafe.Pointer
	obj := load(t, "skel_count.o", nil, func(o *Object) {
		for i, name := range []string{"target_tgid", "step", "total"} {
			p, size, err := o.VariablePointer(name)
			if err != nil || size != map[string]int{"target_tgid": 4, "step": 4, "total": 8}[name] {
				t.Fatalf("VariablePointer(%q) = %v, %d, %v", name, p, size, err)
			}
			before[i] = p
		}
		*(*uint32)(before[0]) = uint32(syscall.Getpid())
	})
	defer obj.Close()
	for i, name := range []string{"target_tgid", "step", "total"} {
		if p, _, err := obj.VariablePointer(name); err != nil || p != before[i] {
			t.Fatalf("after Load, VariablePointer(%q) = %v, %v; before it was %v", name, p, err, before[i])
		}
	}
	_, _, err := obj.VariablePointer("no_such_variable")
	wantErrno(t, "VariablePointer(no_such_variable)", err, syscall.ENOENT)
	*(*uint32)(before[1]) = 5
	link, err := mustProg(t, obj, "count_getppid").Attach()
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	defer link.Close()
	for i := 0; i < 7; i++ {
		syscall.Getppid()
	}
	total := *(*uint64)(before[2])
	bss, err := Lookup[uint32, [2]uint64](mustMap(t, obj, ".bss"), 0) // total, unused_event
	if err != nil || total != 35 || bss[0] != 35 {
		t.Fatalf(".bss total through the pointer %d, through the map %d (%v); want 7 calls * step 5 = 35", total, bss[0], err)
	}
}
