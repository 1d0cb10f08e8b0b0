package bpfl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The runtime sends itself preemption signals with tgkill(getpid(), ...):
// those getpid() calls would land in modern.o's counters. Run the tests with
// asynchronous preemption off (re-executing the test binary if needed) so the
// counts are exact.
func TestMain(m *testing.M) {
	if !strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff=1") && os.Getenv("BPFL_GO_REEXEC") == "" {
		env := append(os.Environ(), "BPFL_GO_REEXEC=1", "GODEBUG="+joinGodebug(os.Getenv("GODEBUG")))
		if exe, err := os.Executable(); err == nil {
			err = syscall.Exec(exe, os.Args, env)
			fmt.Fprintf(os.Stderr, "re-exec with GODEBUG=asyncpreemptoff=1 failed (%v): counts may be off\n", err)
		}
	}
	os.Exit(m.Run())
}

func joinGodebug(old string) string {
	if old == "" {
		return "asyncpreemptoff=1"
	}
	return old + ",asyncpreemptoff=1"
}

// bpfDir is where the BPF objects are: $BPFL_BPF_DIR, else ../../build/bpf.
func bpfDir() string {
	if d := os.Getenv("BPFL_BPF_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "build", "bpf")
}

func objPath(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(bpfDir(), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing (run `make bpf` at the top of the repository, or set BPFL_BPF_DIR): %v", p, err)
	}
	return p
}

// skipLoudly skips a kernel test with a line that cannot be missed.
func skipLoudly(t *testing.T, why string) {
	t.Helper()
	msg := fmt.Sprintf("SKIPPED: %s: %s", t.Name(), why)
	fmt.Println(msg)
	t.Skip(msg)
}

// needKernel skips the test (loudly) when this process cannot use bpf().
func needKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipLoudly(t, "kernel test needs root and bpf() (run as root: sudo make test-go)")
	}
}

// load opens and loads name, skipping loudly when bpf() is not permitted.
func load(t *testing.T, name string, opts *OpenOptions, before func(*Object)) *Object {
	t.Helper()
	needKernel(t)
	obj, err := Open(objPath(t, name), opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	if before != nil {
		before(obj)
	}
	if err := obj.Load(nil); err != nil {
		obj.Close()
		if errors.Is(err, syscall.EPERM) {
			skipLoudly(t, "bpf() is not permitted here: "+err.Error())
		}
		t.Fatalf("Load(%s): %v", name, err)
	}
	return obj
}

func mustMap(t *testing.T, obj *Object, name string) *Map {
	t.Helper()
	m, err := obj.Map(name)
	if err != nil {
		t.Fatalf("Map(%q): %v", name, err)
	}
	return m
}

func mustProg(t *testing.T, obj *Object, name string) *Program {
	t.Helper()
	p, err := obj.Program(name)
	if err != nil {
		t.Fatalf("Program(%q): %v", name, err)
	}
	return p
}

// wantErrno checks that err is an *Error wrapping errno with a message.
func wantErrno(t *testing.T, what string, err error, errno syscall.Errno) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, errno)
	}
	if !errors.Is(err, errno) {
		t.Fatalf("%s: error %v does not match %v", what, err, errno)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T is not a *bpfl.Error", what, err)
	}
	if e.Msg == "" {
		t.Fatalf("%s: error %v has no bpfl message", what, err)
	}
	return e
}

// possibleCPUs counts /sys/devices/system/cpu/possible ("0-3", "0,2-5").
func possibleCPUs(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		z := a
		var err2 error
		if found {
			z, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil {
			t.Fatalf("cannot parse cpu list %q", b)
		}
		n += z - a + 1
	}
	return n
}

func getppidN(n int) {
	for i := 0; i < n; i++ {
		syscall.Syscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
}
