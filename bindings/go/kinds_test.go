package bpfl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// pinHere pins this OS thread to CPU 0 and returns it.
func pinHere(t *testing.T) int {
	mask := [16]uint64{1}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask))); e != 0 {
		t.Fatal(e)
	}
	return 0
}

func kindsObject(t *testing.T) *Object {
	t.Helper()
	needKernel(t)
	o, err := Open(objPath(t, "kinds.o"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.SetRodata("target_tgid", uint32(os.Getpid())); err != nil {
		t.Fatal(err)
	}
	if err := o.Load(nil); err != nil {
		t.Fatal(err)
	}
	return o
}

func readIter(t *testing.T, l *Link) string {
	t.Helper()
	f, err := l.OpenIter()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIteratorUpdatePinAndInfo(t *testing.T) {
	o := kindsObject(t)
	defer o.Close()
	pid := uint32(os.Getpid())
	tasks, marked := mustProg(t, o, "list_tasks"), mustProg(t, o, "list_tasks_marked")
	l, err := tasks.AttachIter(&IterOptions{Pid: pid})
	if err != nil {
		t.Fatal(err)
	}
	if out := readIter(t, l); !strings.HasPrefix(out, fmt.Sprintf("%d %d ", pid, pid)) {
		t.Fatalf("task iterator output %q", out)
	}
	info, err := l.Info()
	if err != nil || info.Type != 4 || info.Name != "task" || info.TaskPid != pid {
		t.Fatalf("Info() = %+v, %v", info, err)
	}
	if err := l.UpdateProgram(tasks, marked); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("update with the wrong old program: %v", err)
	}
	if err := l.UpdateProgram(marked, tasks); err != nil {
		t.Fatal(err)
	}
	if err := l.ForceDetach(); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "5.9") {
		t.Fatalf("ForceDetach of an iterator: %v", err)
	}
	pin := fmt.Sprintf("/sys/fs/bpf/bpfl-go-iter-%d", pid)
	if err := l.Pin(pin); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(pin)
	l.Close()
	opened, err := OpenPinnedLink(pin)
	if err != nil {
		t.Fatal(err)
	}
	// Every thread of this process, the main one first, all by the new program.
	if out := readIter(t, opened); !strings.HasPrefix(out, fmt.Sprintf("marked %d %d\n", pid, pid)) || strings.Count(out, "marked") != strings.Count(out, "\n") {
		t.Fatalf("pinned link output %q", out)
	}
	opened.Close()
	os.Remove(pin)
	if _, err := OpenPinnedLink(pin); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("removed pin: %v", err)
	}
}

func TestPerfEventSamplesCPUClock(t *testing.T) {
	o := kindsObject(t)
	defer o.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := pinHere(t)
	f, err := OpenPerfEvent(PerfEventSpec{Type: PerfTypeSoftware, Config: PerfCountSwCPUClock, Period: 1000, Freq: true, Pid: -1}, cpu)
	if err != nil {
		t.Fatal(err)
	}
	l, err := mustProg(t, o, "on_sample").AttachPerfEvent(int(f.Fd()), 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	x := uint64(0)
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		for i := uint64(0); i < 10000; i++ {
			x = x*31 + i
		}
	}
	if info, err := l.Info(); err != nil || info.Type != 7 {
		t.Fatalf("perf event link info %+v, %v", info, err)
	}
	l.Close()
	m, _ := o.Map("samples")
	n, err := Lookup[uint32, uint64](m, uint32(cpu))
	if err != nil || n < 4 || n > 400 {
		t.Fatalf("%d cpu-clock samples in 200 ms (%v) %d", n, err, x&1)
	}

}

func ccSelectable(t *testing.T) bool {
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(s)
	return syscall.SetsockoptString(s, syscall.IPPROTO_TCP, syscall.TCP_CONGESTION, "bpfl_cc") == nil
}

func TestStructOpsCongestionControl(t *testing.T) {
	needKernel(t)
	if ccSelectable(t) {
		t.Fatal("bpfl_cc is registered before the test")
	}
	o, err := Open(objPath(t, "kinds_cc.o"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Load(nil); err != nil {
		t.Fatal(err)
	}
	m, _ := o.Map("bpfl_cc")
	l, err := m.AttachStructOps()
	if err != nil {
		t.Fatal(err)
	}
	if !ccSelectable(t) {
		t.Fatal("bpfl_cc is not selectable once registered")
	}
	if info, err := l.Info(); err != nil || info.Type != 9 {
		t.Fatalf("struct_ops link info %+v, %v", info, err)
	}
	// A connection under bpfl_cc: its init callback runs.
	ls, _ := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	defer syscall.Close(ls)
	syscall.Bind(ls, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	syscall.Listen(ls, 1)
	sa, _ := syscall.Getsockname(ls)
	c, _ := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err := syscall.SetsockoptString(c, syscall.IPPROTO_TCP, syscall.TCP_CONGESTION, "bpfl_cc"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Connect(c, sa); err != nil {
		t.Fatal(err)
	}
	syscall.Close(c)
	calls, _ := o.Map("cc_calls")
	if n, err := Lookup[uint32, uint64](calls, 0); err != nil || n == 0 {
		t.Fatalf("init calls %d, %v", n, err)
	}
	l.Close()
	if ccSelectable(t) {
		t.Fatal("bpfl_cc is still registered after Close")
	}
}
