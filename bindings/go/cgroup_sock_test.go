package bpfl

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cgroup2Root is where cgroup v2 is mounted ("" when it is not).
func cgroup2Root() string {
	b, _ := os.ReadFile("/proc/mounts")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[2] == "cgroup2" {
			return f[1]
		}
	}
	return ""
}

func counter(t *testing.T, m *Map, k uint32) uint64 {
	t.Helper()
	v, err := Lookup[uint32, uint64](m, k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A cgroup/connect4 program rewrites a child's connection to port A into
// port B; BPF_PROG_QUERY shows nothing once the link is closed.
func TestCgroupConnect4Rewrite(t *testing.T) {
	needKernel(t)
	root := cgroup2Root()
	if root == "" {
		skipLoudly(t, "no cgroup2 mount")
	}
	cg := fmt.Sprintf("%s/bpfl-go-%d", root, os.Getpid())
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(cg)
	obj := load(t, "cgroup_sock.o", nil, nil)
	defer obj.Close()
	a, _ := net.Listen("tcp", "127.0.0.1:0")
	b, _ := net.Listen("tcp", "127.0.0.1:0")
	defer a.Close()
	defer b.Close()
	pa, pb := a.Addr().(*net.TCPAddr).Port, b.Addr().(*net.TCPAddr).Port
	be := func(p int) uint32 { return uint32(p>>8&0xff | (p&0xff)<<8) }
	conf := mustMap(t, obj, "conf")
	if err := Update[uint32, uint32](conf, 0, be(pa), UpdateAny); err != nil {
		t.Fatal(err)
	}
	if err := Update[uint32, uint32](conf, 1, be(pb), UpdateAny); err != nil {
		t.Fatal(err)
	}
	l, err := mustProg(t, obj, "connect4_rewrite").AttachCgroupPath(cg, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(cg)
	defer f.Close()
	const connect4 = 10 // BPF_CGROUP_INET4_CONNECT
	if ids, err := QueryPrograms(int(f.Fd()), connect4); err != nil || len(ids) != 1 {
		t.Fatalf("attached: %v %v", ids, err)
	}
	// A child in the cgroup: a shell moves itself in, then connects with bash's /dev/tcp.
	cmd := exec.Command("/bin/bash", "-c", fmt.Sprintf("echo $$ > %s/cgroup.procs && exec 3<>/dev/tcp/127.0.0.1/%d && echo hi >&3", cg, pa))
	accepted := make(chan string, 2)
	for _, ln := range []net.Listener{a, b} {
		go func(ln net.Listener) {
			c, err := ln.Accept()
			if err == nil {
				accepted <- ln.Addr().String()
				c.Close()
			}
		}(ln)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v %s", err, out)
	}
	select {
	case got := <-accepted:
		if got != b.Addr().String() {
			t.Fatalf("the connection landed on %s, not port B %s", got, b.Addr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
	}
	if n := counter(t, mustMap(t, obj, "counts"), 0); n != 1 {
		t.Fatalf("rewrites %d", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if ids, err := QueryPrograms(int(f.Fd()), connect4); err != nil || len(ids) != 0 {
		t.Fatalf("after close: %v %v", ids, err)
	}
}

// A socket filter drops 'x' datagrams; a dispatcher's tail call lands once
// its slot is set from Go and stops when it is cleared.
func TestSocketFilterAndTailCallSlots(t *testing.T) {
	needKernel(t)
	obj := load(t, "cgroup_sock.o", nil, nil)
	defer obj.Close()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	recvAll := func() []string {
		var got []string
		buf := make([]byte, 64)
		for {
			n, _, err := syscall.Recvfrom(fds[1], buf, syscall.MSG_DONTWAIT)
			if err != nil {
				return got
			}
			got = append(got, string(buf[:n]))
		}
	}
	send := func(s string) { syscall.Write(fds[0], []byte(s)) }
	l, err := mustProg(t, obj, "drop_x").AttachSocket(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	send("xa")
	send("ok")
	if got := recvAll(); len(got) != 1 || got[0] != "ok" {
		t.Fatalf("filtered: %q", got)
	}
	l.Close()
	send("xb")
	if got := recvAll(); len(got) != 1 || got[0] != "xb" {
		t.Fatalf("after close: %q", got)
	}

	d, err := mustProg(t, obj, "dispatch").AttachSocket(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	jump := mustMap(t, obj, "jump")
	if err := jump.SetProg(0, mustProg(t, obj, "target_drop")); err != nil {
		t.Fatal(err)
	}
	send("1")
	if got := recvAll(); len(got) != 0 {
		t.Fatalf("slot set, yet %q arrived", got)
	}
	if err := jump.ClearSlot(0); err != nil {
		t.Fatal(err)
	}
	if err := jump.ClearSlot(0); !errors.Is(err, ErrKeyNotExist) {
		t.Fatalf("clearing an empty slot: %v", err)
	}
	send("2")
	if got := recvAll(); len(got) != 1 {
		t.Fatalf("slot cleared: %q", got)
	}
	counts := mustMap(t, obj, "counts")
	if r, f := counter(t, counts, 5), counter(t, counts, 6); r != 1 || f != 1 {
		t.Fatalf("target runs %d, fall-throughs %d", r, f)
	}
	if err := counts.SetProg(0, mustProg(t, obj, "target_drop")); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("SetProg on an array: %v", err)
	}
}

func connFD(t *testing.T, c *net.TCPConn) uint32 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	raw.Control(func(f uintptr) { fd = f })
	return uint32(fd)
}

// An sk_msg program on a sockmap redirects 'r' messages of one TCP
// connection to the other connection's socket; the rest pass.
func TestSockmapRedirect(t *testing.T) {
	needKernel(t)
	obj := load(t, "cgroup_sock.o", nil, nil)
	defer obj.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (*net.TCPConn, *net.TCPConn) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.TCPConn), s.(*net.TCPConn)
	}
	aCli, aSrv := pair()
	bCli, bSrv := pair()
	for _, c := range []*net.TCPConn{aCli, aSrv, bCli, bSrv} {
		defer c.Close()
	}
	socks := mustMap(t, obj, "socks")
	l, err := mustProg(t, obj, "msg_redirect").AttachSockmap(socks, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := Update[uint32, uint32](socks, 0, connFD(t, aCli), UpdateAny); err != nil {
		t.Fatal(err)
	}
	if err := Update[uint32, uint32](socks, 1, connFD(t, bSrv), UpdateAny); err != nil {
		t.Fatal(err)
	}
	read := func(c *net.TCPConn) string {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 6)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(buf[:n])
	}
	aCli.Write([]byte("rhello"))
	if got := read(bSrv); got != "rhello" {
		t.Fatalf("redirected: %q", got)
	}
	aCli.Write([]byte("phello"))
	if got := read(aSrv); got != "phello" {
		t.Fatalf("passed: %q", got)
	}
	if n := counter(t, mustMap(t, obj, "counts"), 4); n != 1 {
		t.Fatalf("redirects %d", n)
	}
}
