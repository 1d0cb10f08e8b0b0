package bpfl

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"bpfl.dev/bpfl/internal/uprobetarget"
)

// uprobe.o counts calls of a function and sums its first argument
// (stats[0], stats[1]); the uretprobe counts returns and keeps the last
// return value (stats[2], stats[3]).
func TestUprobe(t *testing.T) {
	obj := load(t, "uprobe.o", nil, nil)
	defer obj.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	onCall, err := obj.Program("on_call")
	if err != nil {
		t.Fatal(err)
	}
	onReturn, err := obj.Program("on_return")
	if err != nil {
		t.Fatal(err)
	}
	l1, err := onCall.AttachUprobe(exe, uprobetarget.Symbol, &UprobeOptions{Pid: os.Getpid()})
	if err != nil {
		t.Fatalf("AttachUprobe: %v", err)
	}
	l2, err := onReturn.AttachUprobe(exe, uprobetarget.Symbol, &UprobeOptions{Retprobe: true})
	if err != nil {
		t.Fatalf("AttachUprobe (return): %v", err)
	}
	for i := uint64(1); i <= 9; i++ {
		uprobetarget.Call(i)
	}
	stats := mustMap(t, obj, "stats")
	want := map[uint32]uint64{0: 9, 1: 45, 2: 9, 3: 19}
	for k, w := range want {
		v, err := Lookup[uint32, uint64](stats, k)
		if err != nil || v != w {
			t.Errorf("stats[%d] = %d, %v; want %d", k, v, err, w)
		}
	}
	l1.Close()
	l2.Close()
	uprobetarget.Call(100)
	if v, _ := Lookup[uint32, uint64](stats, 0); v != 9 {
		t.Errorf("still counting after Close: %d", v)
	}
	_, err = onCall.AttachUprobe(exe, "bpfl_no_such_function", nil)
	if !errors.Is(err, syscall.ENOENT) {
		t.Errorf("missing function: %v, want ENOENT", err)
	}
}
