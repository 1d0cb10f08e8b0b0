package bpfl

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The example builds, and (as root) counts its own system calls.
func TestExampleSyscount(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	exe := filepath.Join(t.TempDir(), "syscount")
	for _, args := range [][]string{{"vet", "./examples/syscount"}, {"build", "-o", exe, "./examples/syscount"}} {
		out, err := exec.Command(goBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	needKernel(t)
	cmd := exec.Command(exe, "-obj", objPath(t, "syscount.o"), "-d", "300ms", "-top", "0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("syscount: %v\n%s", err, out)
	}
	// Its own line: its pid, comm "syscount", a non-zero count.
	pid := strconv.Itoa(cmd.Process.Pid)
	var rows int
	var own []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] != "PID" {
			rows++
			if f[0] == pid {
				own = f
			}
		}
	}
	if own == nil || own[1] != "syscount" {
		t.Fatalf("no line for syscount's own pid %s with comm syscount in:\n%s", pid, out)
	}
	if n, err := strconv.ParseUint(own[2], 10, 64); err != nil || n == 0 {
		t.Fatalf("own count %q in:\n%s", own[2], out)
	}
	t.Logf("syscount: %d processes; its own line: %v", rows, own)
}
