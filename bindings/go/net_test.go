package bpfl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// xdp_by_byte drops a packet whose first byte is 0xdd and passes (and marks
// with 0x42 in its second byte) any other.
func TestTestRunXDP(t *testing.T) {
	obj := load(t, "net.o", nil, nil)
	defer obj.Close()
	p := mustProg(t, obj, "xdp_by_byte")
	pkt := make([]byte, 64)
	pkt[0] = 0xdd
	r, err := p.TestRun(&TestRunOptions{Data: pkt})
	if err != nil || r.Retval != 1 {
		t.Fatalf("0xdd: %+v, %v; want XDP_DROP (1)", r, err)
	}
	pkt[0] = 0x11
	r, err = p.TestRun(&TestRunOptions{Data: pkt, DataOut: 128, Repeat: 3})
	if err != nil || r.Retval != 2 || len(r.DataOut) != 64 || r.DataOut[1] != 0x42 {
		t.Fatalf("0x11: %+v, %v; want XDP_PASS (2) and the marked packet", r, err)
	}
	if _, err = p.TestRun(&TestRunOptions{Data: pkt, DataOut: 8}); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("short DataOut: %v, want ENOSPC", err)
	}
}

// veth makes a veth pair in this namespace, both ends up; removed at cleanup.
func veth(t *testing.T) (string, uint32) {
	a, b := fmt.Sprintf("bga%d", os.Getpid()), fmt.Sprintf("bgb%d", os.Getpid())
	if out, err := exec.Command("ip", "link", "add", a, "type", "veth", "peer", "name", b).CombinedOutput(); err != nil {
		skipLoudly(t, fmt.Sprintf("cannot make a veth pair: %v %s", err, out))
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", a).Run() })
	for _, n := range []string{a, b} {
		if out, err := exec.Command("ip", "link", "set", n, "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set up: %v %s", err, out)
		}
	}
	idx, err := Ifindex(a)
	if err != nil {
		t.Fatal(err)
	}
	if i, err := net.InterfaceByName(a); err != nil || uint32(i.Index) != idx {
		t.Fatalf("Ifindex(%s) = %d, net says %v %v", a, idx, i, err)
	}
	return a, idx
}

func TestXDPAndTC(t *testing.T) {
	obj := load(t, "net.o", nil, nil)
	defer obj.Close()
	dev, idx := veth(t)
	cnt := mustProg(t, obj, "xdp_count_drop")
	for _, nl := range []bool{false, true} {
		l, err := cnt.AttachXDP(idx, &XDPOptions{Mode: XDPModeGeneric, Netlink: nl})
		if err != nil {
			t.Fatalf("AttachXDP (netlink %v): %v", nl, err)
		}
		q, err := XDPQuery(idx)
		if err != nil || q.Attached != XDPAttachedGeneric || q.SkbProgID == 0 {
			t.Errorf("query while attached: %+v, %v", q, err)
		}
		l.Close()
		if q, err = XDPQuery(idx); err != nil || q.Attached != XDPAttachedNone {
			t.Errorf("query after Close: %+v, %v", q, err)
		}
	}
	if _, err := Ifindex("nosuchif0"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Ifindex of a missing interface: %v", err)
	}
	// UDP datagrams to the configured port, sent by a raw test run through the tc program.
	tc := mustProg(t, obj, "tc_count")
	l, err := tc.AttachTC(idx, &TCOptions{Direction: TCEgress, Priority: 6})
	if err != nil {
		t.Fatalf("AttachTC: %v", err)
	}
	out, _ := exec.Command("tc", "filter", "show", "dev", dev, "egress").CombinedOutput()
	if !strings.Contains(string(out), "pref 6") || !strings.Contains(string(out), "tc_count") {
		t.Errorf("filter not there: %s", out)
	}
	l.Close()
	out, _ = exec.Command("tc", "qdisc", "show", "dev", dev).CombinedOutput()
	if strings.Contains(string(out), "clsact") {
		t.Errorf("clsact left after Close: %s", out)
	}
	lx, err := tc.AttachTCX(idx, &TCXOptions{Direction: TCEgress})
	if errors.Is(err, ErrNotSupported) {
		fmt.Println("SKIPPED (inside TestXDPAndTC): TCX needs Linux 6.6:", err)
	} else if err != nil {
		t.Errorf("AttachTCX: %v", err)
	} else {
		lx.Close()
	}
	// The counting program as a test run: a datagram to the port is counted.
	cfg := mustMap(t, obj, "cfg")
	if err := Update[uint32, uint32](cfg, 0, 4242, UpdateAny); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 46)
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	frame[14], frame[23] = 0x45, 17
	binary.BigEndian.PutUint16(frame[36:], 4242)
	if r, err := cnt.TestRun(&TestRunOptions{Data: frame}); err != nil || r.Retval != 1 {
		t.Errorf("UDP to the port: %+v %v, want XDP_DROP", r, err)
	}
	if v, err := Lookup[uint32, uint64](mustMap(t, obj, "counts"), 0); err != nil || v != 1 {
		t.Errorf("counts[0] = %d, %v; want 1", v, err)
	}
}
