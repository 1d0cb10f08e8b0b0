package bpfl

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// inNewNetns runs f on an OS thread of its own that left for a fresh
// network namespace with lo up; the thread is not returned to Go's pool.
func inNewNetns(t *testing.T, f func() error) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("unshare: %w", err)
			return
		}
		if err := loUp(); err != nil {
			done <- err
			return
		}
		done <- f()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// loUp sets lo up in the calling thread's namespace (SIOCSIFFLAGS).
func loUp() error {
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(s)
	var req [40]byte
	copy(req[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(s), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req[0]))); e != 0 {
		return fmt.Errorf("SIOCGIFFLAGS lo: %w", e)
	}
	binary.LittleEndian.PutUint16(req[16:], binary.LittleEndian.Uint16(req[16:])|syscall.IFF_UP)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(s), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req[0]))); e != 0 {
		return fmt.Errorf("SIOCSIFFLAGS lo: %w", e)
	}
	return nil
}

// lookupU64 reads a u64 slot (0 if unreadable): for goroutines, where t.Fatal may not be called.
func lookupU64(m *Map, k uint32) uint64 {
	v, _ := Lookup[uint32, uint64](m, k)
	return v
}

// sendUDP sends n datagrams over loopback to a socket of its own; the
// receiver reads them all (so each went through the stack).
func sendUDP(n int) error {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer rx.Close()
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return err
	}
	defer tx.Close()
	buf := make([]byte, 8)
	for i := 0; i < n; i++ {
		if _, err := tx.Write([]byte("nf")); err != nil {
			return err
		}
		if _, err := rx.Read(buf); err != nil {
			return err
		}
	}
	return nil
}

// A netfilter program at IPv4 LOCAL_OUT of a fresh namespace counts exactly
// the datagrams sent there, and none once its link is closed.
func TestNetfilterCountsLocalOut(t *testing.T) {
	needKernel(t)
	obj, err := Open(objPath(t, "netfilter.o"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if err := obj.Load(nil); err != nil {
		if strings.Contains(err.Error(), "need Linux 6.4") {
			skipLoudly(t, "netfilter programs need Linux 6.4+: "+err.Error())
		}
		t.Fatal(err)
	}
	p, m := mustProg(t, obj, "nf_count"), mustMap(t, obj, "nf_packets")
	inNewNetns(t, func() error {
		l, err := p.AttachNetfilter(2, 3, 0, 0) // NFPROTO_IPV4, NF_INET_LOCAL_OUT
		if err != nil {
			return err
		}
		if err := sendUDP(3); err != nil {
			return err
		}
		if n := lookupU64(m, 0); n != 3 {
			return fmt.Errorf("LOCAL_OUT count %d, want 3", n)
		}
		if err := l.Close(); err != nil {
			return err
		}
		if err := sendUDP(2); err != nil {
			return err
		}
		if n := lookupU64(m, 0); n != 3 {
			return fmt.Errorf("after close: count %d, want still 3", n)
		}
		if _, err := p.AttachNetfilter(99, 3, 0, 0); err == nil || !strings.Contains(err.Error(), "netfilter pf 99") {
			return fmt.Errorf("pf 99: %v, want a refusal naming it", err)
		}
		return nil
	})
}

// An sk_lookup program on a fresh namespace runs once per UDP delivery there;
// BPF_PROG_QUERY shows it attached, then nothing after Close.
func TestSkLookupNetns(t *testing.T) {
	obj := load(t, "cgroup_sock.o", nil, nil)
	defer obj.Close()
	p, counts := mustProg(t, obj, "lookup_pass"), mustMap(t, obj, "counts")
	const skLookup = 36 // BPF_SK_LOOKUP
	inNewNetns(t, func() error {
		l, err := p.AttachNetnsPath("") // the calling thread's namespace
		if err != nil {
			return err
		}
		ns, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			return err
		}
		defer ns.Close()
		if ids, err := QueryPrograms(int(ns.Fd()), skLookup); err != nil || len(ids) != 1 {
			return fmt.Errorf("query: %v, %v; want one program", ids, err)
		}
		before := lookupU64(counts, 7)
		if err := sendUDP(1); err != nil {
			return err
		}
		if d := lookupU64(counts, 7) - before; d != 1 {
			return fmt.Errorf("sk_lookup ran %d times, want 1", d)
		}
		if err := l.Close(); err != nil {
			return err
		}
		if ids, err := QueryPrograms(int(ns.Fd()), skLookup); err != nil || len(ids) != 0 {
			return fmt.Errorf("after close: %v, %v; want none", ids, err)
		}
		return nil
	})
}

// ipv4Frame is an Ethernet/IPv4 frame 10.1.2.3:1111 -> 10.4.5.6:2222 of IP protocol proto.
func ipv4Frame(proto byte) []byte {
	f := make([]byte, 14+20+8+4)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	f[14], f[22], f[23] = 0x45, 64, proto
	binary.BigEndian.PutUint16(f[16:], 32)
	copy(f[26:], []byte{10, 1, 2, 3, 10, 4, 5, 6})
	binary.BigEndian.PutUint16(f[34:], 1111)
	binary.BigEndian.PutUint16(f[36:], 2222)
	return f
}

// A flow dissector run on test input returns the flow keys it filled and
// counts each run; attached to a fresh namespace it is there until Close.
func TestFlowDissector(t *testing.T) {
	obj := load(t, "net2.o", nil, nil)
	defer obj.Close()
	p, counts := mustProg(t, obj, "dissect_ipv4_udp"), mustMap(t, obj, "fd_counts")
	r, err := p.TestRun(&TestRunOptions{Data: ipv4Frame(17), DataOut: 56})
	if err != nil || r.Retval != 0 || len(r.DataOut) != 56 {
		t.Fatalf("UDP: %+v, %v; want BPF_OK and 56 bytes of flow keys", r, err)
	}
	k := r.DataOut
	if nh, th := binary.LittleEndian.Uint16(k[0:]), binary.LittleEndian.Uint16(k[2:]); nh != 14 || th != 34 {
		t.Errorf("nhoff %d thoff %d, want 14 34", nh, th)
	}
	if k[9] != 17 || binary.BigEndian.Uint16(k[12:]) != 1111 || binary.BigEndian.Uint16(k[14:]) != 2222 {
		t.Errorf("flow keys % x: want UDP 1111 -> 2222", k[:16])
	}
	if string(k[16:24]) != string([]byte{10, 1, 2, 3, 10, 4, 5, 6}) {
		t.Errorf("addresses % x", k[16:24])
	}
	if r, err := p.TestRun(&TestRunOptions{Data: ipv4Frame(6)}); err != nil || r.Retval != 2 {
		t.Fatalf("TCP: %+v, %v; want BPF_DROP (2)", r, err)
	}
	if a, b, c := counter(t, counts, 0), counter(t, counts, 1), counter(t, counts, 2); a != 2 || b != 1 || c != 1 {
		t.Errorf("counts %d %d %d, want 2 1 1", a, b, c)
	}
	const flowDissector = 17 // BPF_FLOW_DISSECTOR
	inNewNetns(t, func() error {
		ns, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			return err
		}
		defer ns.Close()
		l, err := p.AttachNetns(int(ns.Fd()))
		if err != nil {
			return err
		}
		if ids, err := QueryPrograms(int(ns.Fd()), flowDissector); err != nil || len(ids) != 1 {
			return fmt.Errorf("query: %v, %v; want one", ids, err)
		}
		if _, err := p.AttachNetns(int(ns.Fd())); err == nil {
			return fmt.Errorf("a second flow dissector on one namespace was not refused")
		}
		if err := l.Close(); err != nil {
			return err
		}
		if ids, err := QueryPrograms(int(ns.Fd()), flowDissector); err != nil || len(ids) != 0 {
			return fmt.Errorf("after close: %v, %v; want none", ids, err)
		}
		return nil
	})
}

// netkit: on a kernel without it the refusal names the feature and the
// test is SKIPPED (the packet test runs in the 6.12 VM, tests/kernel/net2.rs);
// with it, lo is refused as no netkit device.
func TestNetkitAttachRefusals(t *testing.T) {
	obj := load(t, "netkit.o", nil, nil)
	defer obj.Close()
	p := mustProg(t, obj, "nk_primary_drop")
	_, err := p.AttachNetkit(1, &NetkitOptions{Side: NetkitPrimary})
	if err != nil && strings.Contains(err.Error(), "netkit needs Linux 6.7+ with CONFIG_NETKIT") {
		wantErrno(t, "netkit on a kernel without it", err, syscall.EOPNOTSUPP)
		skipLoudly(t, "netkit needs Linux 6.7+ with CONFIG_NETKIT, which this kernel lacks: "+err.Error())
	}
	e := wantErrno(t, "netkit on lo", err, syscall.EINVAL)
	if !strings.Contains(e.Msg, "not a netkit device") {
		t.Errorf("%v: want 'not a netkit device'", err)
	}
}
