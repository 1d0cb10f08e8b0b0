package bpfl

import (
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"
)

func mustVar[T any](t *testing.T, obj *Object, name string) *T {
	t.Helper()
	p, err := VariableOf[T](obj, name)
	if err != nil {
		t.Fatalf("VariableOf(%q): %v", name, err)
	}
	return p
}

// Globals read and written in place: .rodata set through the pointer before
// Load filters what the program counts, .bss read and .data written after
// it through the same pointers, the mmapable array through Map.Mmap.
func TestGlobalsWithoutSyscalls(t *testing.T) {
	needKernel(t)
	obj, err := Open(objPath(t, "globals_mmap.o"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	other, err := Open(objPath(t, "globals_mmap.o"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	tgid := mustVar[uint32](t, obj, "target_tgid")
	in := mustVar[uint64](t, obj, "value_in")
	hits := mustVar[uint64](t, obj, "hits")
	if *tgid != 0 || *in != 0x1111 || *hits != 0 {
		t.Fatalf("initial values %d %#x %d", *tgid, *in, *hits)
	}
	*tgid = uint32(os.Getpid())
	*in = 42
	*mustVar[uint32](t, other, "target_tgid") = 4000000000 // no such process

	extra, err := obj.Variable("extra")
	if err != nil || extra.Size() != 16 || extra.Bytes()[12] != 4 {
		t.Fatalf("extra: %v %v", extra, err)
	}
	if _, err := obj.Variable("nope"); !errors.Is(err, ErrKeyNotExist) || !strings.Contains(err.Error(), "'nope'") {
		t.Fatalf("unknown variable: %v", err)
	}
	if _, err := VariableOf[uint32](obj, "value_in"); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("size mismatch: %v", err)
	}
	counts := mustMap(t, obj, "counts")
	if _, err := counts.Mmap(); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Mmap before load: %v", err)
	}

	for _, o := range []*Object{obj, other} {
		if err := o.Load(nil); err != nil {
			t.Fatal(err)
		}
		l, err := mustProg(t, o, "count_getppid").Attach()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	if p := mustVar[uint64](t, obj, "value_in"); p != in || *p != 42 {
		t.Fatalf("value_in after load: %p %d, before %p", p, *p, in)
	}
	const n = 1000
	for i := 0; i < n; i++ {
		syscall.Getppid()
	}
	if got := atomic.LoadUint64(hits); got != n {
		t.Fatalf("hits %d, want %d", got, n)
	}
	if got := *mustVar[uint64](t, other, "hits"); got != 0 {
		t.Fatalf("the object filtering another pid counted %d", got)
	}
	out := mustVar[uint64](t, obj, "value_out")
	if *out != 42 {
		t.Fatalf("value_out %d", *out)
	}
	*in = 7
	syscall.Getppid()
	if *out != 7 || atomic.LoadUint64(hits) != n+1 {
		t.Fatalf("after writing value_in: out %d hits %d", *out, *hits)
	}
	if v, err := Lookup[uint32, [8]byte](mustMap(t, obj, ".data"), 0); err != nil || v[0] != 7 {
		t.Fatalf(".data by lookup: %v %v", v, err)
	}

	mm, err := counts.Mmap()
	if err != nil || len(mm) != 64 {
		t.Fatalf("Mmap: %d bytes, %v", len(mm), err)
	}
	slots := (*[8]uint64)(unsafe.Pointer(&mm[0]))
	if atomic.LoadUint64(&slots[1]) != n+1 || slots[2] != 14 {
		t.Fatalf("slots %v", *slots)
	}
	slots[5] = 0xabcd
	if v, err := Lookup[uint32, uint64](counts, 5); err != nil || v != 0xabcd {
		t.Fatalf("slot 5 by lookup: %d %v", v, err)
	}
	if _, err := mustMap(t, obj, "plain").Mmap(); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "BPF_F_MMAPABLE") {
		t.Fatalf("plain.Mmap: %v", err)
	}
	obj.Close()
	if _, err := obj.Variable("hits"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := counts.Mmap(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Mmap after Close: %v", err)
	}
}
