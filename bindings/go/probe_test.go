package bpfl

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// usdtTarget is tests/usdt/usdt_target.c, built next to the BPF objects (make build/usdt_target).
func usdtTarget(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(bpfDir(), "..", "usdt_target"))
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		t.Fatalf("usdt_target is missing (run `make build/usdt_target`): %v", err)
	}
	return p
}

// waitSleeping waits until the target sleeps in its loop (its SIGUSR1 handler set).
func waitSleeping(t *testing.T, pid int) {
	for i := 0; i < 200; i++ {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if i := strings.LastIndex(string(b), ") "); i >= 0 && len(b) > i+2 && b[i+2] == 'S' {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("target %d never reached its loop", pid)
}

// USDT bpfltest:req of a running target: every argument kind read exactly,
// the semaphore seen set by the target, the cookie.
func TestUSDT(t *testing.T) {
	obj := load(t, "usdt.o", nil, nil)
	defer obj.Close()
	bin := usdtTarget(t)
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitSleeping(t, cmd.Process.Pid)
	p, err := obj.Program("on_req")
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.AttachUSDT(bin, "bpfltest", "req", &USDTOptions{Pid: cmd.Process.Pid, Cookie: 0x60})
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("AttachUSDT: %v", err)
	}
	defer l.Close()
	cmd.Process.Signal(syscall.SIGUSR1)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("target: %v (exit 5: semaphore 0 while attached)", err)
	}
	seen := mustMap(t, obj, "seen")
	want := []int64{42, -1234567890123, -77, 0x1122334455667788, 1, 31000, -5, -7, 1, 8, 0x60, int64(cmd.Process.Pid)}
	for k, w := range want {
		v, err := Lookup[uint32, int64](seen, uint32(k))
		if err != nil || v != w {
			t.Errorf("seen[%d] = %d, %v; want %d", k, v, err, w)
		}
	}
	if _, err := p.AttachUSDT(bin, "bpfltest", "nope", nil); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("missing probe: %v, want ENOENT", err)
	}
}

// One uprobe.multi link over three functions, one cookie each; then a
// tracepoint with a cookie.
func TestUprobeMultiAndCookies(t *testing.T) {
	obj := load(t, "usdt.o", nil, nil)
	defer obj.Close()
	bin := usdtTarget(t)
	p, err := obj.Program("on_multi")
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.AttachUprobeMulti(bin, "", &UprobeMultiOptions{Syms: []string{"bpfl_multi_1", "bpfl_multi_2", "bpfl_multi_3"}, Cookies: []uint64{41, 42, 43}})
	if err != nil {
		t.Fatalf("AttachUprobeMulti: %v", err)
	}
	if err := exec.Command(bin, "m").Run(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	bc := mustMap(t, obj, "by_cookie")
	for i, c := range []uint64{41, 42, 43} {
		if v, err := Lookup[uint64, uint64](bc, c); err != nil || v != uint64(i+1) {
			t.Errorf("by_cookie[%d] = %d, %v; want %d", c, v, err, i+1)
		}
	}
	seen := mustMap(t, obj, "seen")
	if err := Update[uint32, int64](seen, 15, int64(os.Getpid()), 0); err != nil {
		t.Fatal(err)
	}
	tp, _ := obj.Program("on_tp")
	l, err = tp.AttachTracepointCookie("syscalls", "sys_enter_getppid", 0x99)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		syscall.Getppid()
	}
	l.Close()
	if v, err := Lookup[uint64, uint64](bc, 0x99); err != nil || v != 3 {
		t.Errorf("tracepoint cookie count = %d, %v; want 3", v, err)
	}
	// A tracing-link cookie is for fentry/fexit/fmod_ret/lsm only (fentry: tests/kernel in the VMs).
	if _, err := tp.AttachTraceCookie(1); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("AttachTraceCookie on a tracepoint program: %v, want EINVAL", err)
	}
}

// kprobe.multi and ksyscall: counts where the kernel has them, the exact
// refusal where it has not (this host: no fprobe, no kprobes).
func TestKprobeMultiAndKsyscall(t *testing.T) {
	obj := load(t, "probe_multi.o", nil, nil)
	defer obj.Close()
	km, _ := obj.Program("on_kmulti")
	l, err := km.AttachKprobeMulti("__x64_sys_getppi?", &KprobeMultiOptions{Cookies: []uint64{3}})
	if err == nil {
		l.Close()
	} else if !errors.Is(err, syscall.EOPNOTSUPP) || !strings.Contains(err.Error(), "kprobe.multi needs CONFIG_FPROBE (Linux 5.18+)") {
		t.Errorf("kprobe.multi: %v", err)
	} else {
		// The refusal is what this kernel can show; the counts run in the VMs (tests/kernel).
		fmt.Println("NOT RUN here: kprobe.multi counts (no fprobe on this kernel; make vmtest runs them)")
	}
	k, _ := obj.Program("on_kprobe")
	l, err = k.AttachKsyscall("getppid", &KprobeOptions{Cookie: 4})
	if err == nil {
		l.Close()
	} else if !errors.Is(err, syscall.EOPNOTSUPP) || !strings.Contains(err.Error(), "kprobes are not supported") {
		t.Errorf("ksyscall: %v", err)
	}
}
