package bpfl

import (
	"syscall"
	"testing"
	"time"
)

// reuseportSocket is a UDP socket with SO_REUSEPORT bound to 127.0.0.1:port (0: any).
func reuseportSocket(t *testing.T, port int) int {
	t.Helper()
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetsockoptInt(s, syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1); err != nil {
		syscall.Close(s)
		t.Fatal(err)
	}
	if err := syscall.Bind(s, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(s)
		t.Fatalf("bind 127.0.0.1:%d: %v", port, err)
	}
	return s
}

// drainFirstBytes reads every queued datagram of a non-blocking socket and
// returns the first byte of each.
func drainFirstBytes(s int) []byte {
	var got []byte
	buf := make([]byte, 16)
	for {
		n, _, err := syscall.Recvfrom(s, buf, 0)
		if err != nil || n < 1 {
			return got
		}
		got = append(got, buf[0])
	}
}

// Four SO_REUSEPORT sockets on one port; the sk_reuseport program puts a
// datagram whose first byte is b on the socket in slot b % 4 of a
// REUSEPORT_SOCKARRAY: each lands exactly there, counted exactly. After
// Close the kernel delivers without the program (no more counts).
func TestSkReuseportSelectsSocketByPayload(t *testing.T) {
	obj := load(t, "net2.o", nil, nil)
	defer obj.Close()
	p, arr, counts := mustProg(t, obj, "rp_select"), mustMap(t, obj, "rp_socks"), mustMap(t, obj, "rp_counts")
	var socks [4]int
	socks[0] = reuseportSocket(t, 0)
	sa, err := syscall.Getsockname(socks[0])
	if err != nil {
		t.Fatal(err)
	}
	to := sa.(*syscall.SockaddrInet4)
	for i := 1; i < 4; i++ {
		socks[i] = reuseportSocket(t, to.Port)
	}
	defer func() {
		for _, s := range socks {
			syscall.Close(s)
		}
	}()
	for i, s := range socks {
		if err := Update(arr, uint32(i), uint64(s), UpdateAny); err != nil {
			t.Fatalf("slot %d: %v", i, err)
		}
	}
	l, err := p.AttachSocket(socks[0])
	if err != nil {
		t.Fatal(err)
	}
	tx, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(tx)
	var bytes []byte
	for i := 0; i < 40; i++ {
		bytes = append(bytes, byte(i*7))
	}
	for _, b := range bytes {
		if err := syscall.Sendto(tx, []byte{b, 0xee}, 0, to); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // loopback delivery is synchronous; margin only
	for i, s := range socks {
		var want []byte
		for _, b := range bytes {
			if int(b)%4 == i {
				want = append(want, b)
			}
		}
		if got := drainFirstBytes(s); string(got) != string(want) {
			t.Errorf("socket %d got % x, want % x", i, got, want)
		}
		if n := counter(t, counts, uint32(i)); n != uint64(len(want)) {
			t.Errorf("slot %d counted %d, want %d", i, n, len(want))
		}
	}
	if r, s := counter(t, counts, 4), counter(t, counts, 5); r != 0 || s != 0 {
		t.Errorf("refused %d, short %d; want 0 0", r, s)
	}
	ones := counter(t, counts, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if err := syscall.Sendto(tx, []byte{1, 0xee}, 0, to); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	total := 0
	for _, s := range socks {
		total += len(drainFirstBytes(s))
	}
	if total != 8 {
		t.Errorf("after Close %d datagrams arrived, want 8", total)
	}
	if n := counter(t, counts, 1); n != ones {
		t.Errorf("after Close slot 1 counted %d, want still %d: the program ran", n, ones)
	}
}
