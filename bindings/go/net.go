package bpfl

/*
#include <stdlib.h>
#include <string.h>
#include <bpfl.h>
*/
import "C"

import (
	"time"
	"unsafe"
)

// TestRunOptions are the input of Program.TestRun (BPF_PROG_TEST_RUN).
type TestRunOptions struct {
	Data      []byte // the packet in (XDP, tc, socket filters...)
	DataOut   int    // capacity for the packet out, in bytes (0: not wanted)
	Ctx       []byte // the context in (struct xdp_md, struct __sk_buff...; Linux 5.2+)
	CtxOut    int    // capacity for the context out (0: not wanted)
	Repeat    uint32 // runs (0 and 1: once); the duration is their mean
	Flags     uint32 // BPF_F_TEST_RUN_ON_CPU (1), BPF_F_TEST_XDP_LIVE_FRAMES (2)
	CPU       uint32 // with BPF_F_TEST_RUN_ON_CPU
	BatchSize uint32 // frames per batch with live XDP frames (0: the kernel's default)
}

// TestRunResult is what a test run gave.
type TestRunResult struct {
	Retval   uint32        // the program's return value (XDP_DROP, TC_ACT_OK...)
	Duration time.Duration // mean time of one run
	DataOut  []byte        // the packet the program left (when DataOut was asked for)
	CtxOut   []byte        // the context the program left (when CtxOut was asked for)
}

// cbuf copies b into C memory (cgo forbids Go pointers inside the options
// struct); n > len(b) leaves room to grow. Free it with C.free.
func cbuf(b []byte, n int) unsafe.Pointer {
	if n < len(b) {
		n = len(b)
	}
	if n == 0 {
		return nil
	}
	p := C.malloc(C.size_t(n))
	C.memset(p, 0, C.size_t(n))
	if len(b) > 0 {
		C.memcpy(p, unsafe.Pointer(&b[0]), C.size_t(len(b)))
	}
	return p
}

// TestRun runs the loaded program on test input; opts may be nil (no input).
// A DataOut too small for the program's packet fails with ENOSPC.
func (p *Program) TestRun(opts *TestRunOptions) (*TestRunResult, error) {
	if opts == nil {
		opts = &TestRunOptions{}
	}
	var o C.bpfl_test_run_opts
	o.sz = C.sizeof_bpfl_test_run_opts
	bufs := []unsafe.Pointer{cbuf(opts.Data, 0), cbuf(nil, opts.DataOut), cbuf(opts.Ctx, 0), cbuf(nil, opts.CtxOut)}
	defer func() {
		for _, b := range bufs {
			C.free(b)
		}
	}()
	o.data_in, o.data_size_in = bufs[0], C.size_t(len(opts.Data))
	o.data_out, o.data_size_out = bufs[1], C.size_t(opts.DataOut)
	o.ctx_in, o.ctx_size_in = bufs[2], C.size_t(len(opts.Ctx))
	o.ctx_out, o.ctx_size_out = bufs[3], C.size_t(opts.CtxOut)
	o.repeat, o.flags, o.cpu, o.batch_size = C.uint32_t(opts.Repeat), C.uint32_t(opts.Flags), C.uint32_t(opts.CPU), C.uint32_t(opts.BatchSize)
	var r C.bpfl_test_run_result
	r.sz = C.sizeof_bpfl_test_run_result
	if _, err := call("bpfl_program_test_run", func() C.int { return C.bpfl_program_test_run(p.h, &o, &r) }); err != nil {
		return nil, err
	}
	res := &TestRunResult{Retval: uint32(r.retval), Duration: time.Duration(r.duration_ns)}
	if bufs[1] != nil {
		res.DataOut = C.GoBytes(bufs[1], C.int(r.data_size_out))
	}
	if bufs[3] != nil {
		res.CtxOut = C.GoBytes(bufs[3], C.int(r.ctx_size_out))
	}
	return res, nil
}

// XDPMode is where an XDP program runs.
type XDPMode uint32

const (
	XDPModeAuto    XDPMode = C.BPFL_XDP_MODE_AUTO    // native where the driver has it, else generic
	XDPModeGeneric XDPMode = C.BPFL_XDP_MODE_GENERIC // generic (skb) mode: any interface
	XDPModeNative  XDPMode = C.BPFL_XDP_MODE_NATIVE  // the driver's hook
	XDPModeOffload XDPMode = C.BPFL_XDP_MODE_OFFLOAD // on the NIC
)

// XDPUpdateIfNoExist fails an attach when a program is attached already (netlink).
const XDPUpdateIfNoExist = uint32(C.BPFL_XDP_UPDATE_IF_NOEXIST)

// XDPOptions are the options of AttachXDP; nil means the defaults.
type XDPOptions struct {
	Mode          XDPMode
	Flags         uint32 // XDPUpdateIfNoExist
	ReplaceProgFD int    // replace this program, failing if another is attached (netlink); 0: none
	Netlink       bool   // use netlink (IFLA_XDP) even where BPF links exist
}

// AttachXDP attaches an XDP program to interface ifindex (see Ifindex): a
// BPF link (Linux 5.9+), else netlink. Close detaches it.
func (p *Program) AttachXDP(ifindex uint32, opts *XDPOptions) (*Link, error) {
	var l C.bpfl_link
	_, err := call("bpfl_program_attach_xdp", func() C.int {
		if opts == nil {
			return C.bpfl_program_attach_xdp(p.h, C.uint32_t(ifindex), nil, &l)
		}
		var o C.bpfl_xdp_opts
		o.sz = C.sizeof_bpfl_xdp_opts
		o.mode, o.flags, o.replace_prog_fd, o.netlink = C.uint32_t(opts.Mode), C.uint32_t(opts.Flags), C.int32_t(opts.ReplaceProgFD), C.bool(opts.Netlink)
		return C.bpfl_program_attach_xdp(p.h, C.uint32_t(ifindex), &o, &l)
	})
	if err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// XDPAttached is how programs are attached to an interface.
type XDPAttached uint32

const (
	XDPAttachedNone    XDPAttached = C.BPFL_XDP_ATTACHED_NONE
	XDPAttachedNative  XDPAttached = C.BPFL_XDP_ATTACHED_NATIVE
	XDPAttachedGeneric XDPAttached = C.BPFL_XDP_ATTACHED_GENERIC
	XDPAttachedOffload XDPAttached = C.BPFL_XDP_ATTACHED_OFFLOAD
	XDPAttachedMulti   XDPAttached = C.BPFL_XDP_ATTACHED_MULTI
)

// XDPInfo is what XDPQuery reports.
type XDPInfo struct {
	Attached                               XDPAttached
	ProgID, DrvProgID, SkbProgID, HwProgID uint32 // 0: none
}

// XDPQuery says what interface ifindex has attached (netlink RTM_GETLINK).
func XDPQuery(ifindex uint32) (*XDPInfo, error) {
	var i C.bpfl_xdp_info
	i.sz = C.sizeof_bpfl_xdp_info
	if _, err := call("bpfl_xdp_query", func() C.int { return C.bpfl_xdp_query(C.uint32_t(ifindex), &i) }); err != nil {
		return nil, err
	}
	return &XDPInfo{XDPAttached(i.attached), uint32(i.prog_id), uint32(i.drv_prog_id), uint32(i.skb_prog_id), uint32(i.hw_prog_id)}, nil
}

// TCDirection is the packet direction of a tc or TCX attach.
type TCDirection uint32

const (
	TCIngress TCDirection = C.BPFL_TC_INGRESS
	TCEgress  TCDirection = C.BPFL_TC_EGRESS
)

// TCX ordering flags (the kernel's BPF_F_BEFORE ...).
const (
	TCXBefore = uint32(C.BPFL_TCX_BEFORE) // before Relative (none: first)
	TCXAfter  = uint32(C.BPFL_TCX_AFTER)  // after Relative (none: last)
	TCXID     = uint32(C.BPFL_TCX_ID)     // Relative is an id, not an fd
	TCXLink   = uint32(C.BPFL_TCX_LINK)   // Relative is a link, not a program
)

// TCXOptions are the options of AttachTCX; nil means ingress, last.
type TCXOptions struct {
	Direction        TCDirection
	Flags            uint32 // TCXBefore/TCXAfter, with TCXID/TCXLink
	Relative         uint32 // the program or link fd (or id) placed against
	ExpectedRevision uint64 // 0: any
}

// AttachTCX attaches a tc program to interface ifindex with a TCX link
// (Linux 6.6+; older kernels: ErrNotSupported, use AttachTC).
func (p *Program) AttachTCX(ifindex uint32, opts *TCXOptions) (*Link, error) {
	var l C.bpfl_link
	_, err := call("bpfl_program_attach_tcx", func() C.int {
		if opts == nil {
			return C.bpfl_program_attach_tcx(p.h, C.uint32_t(ifindex), nil, &l)
		}
		var o C.bpfl_tcx_opts
		o.sz = C.sizeof_bpfl_tcx_opts
		o.direction, o.flags, o.relative, o.expected_revision = C.uint32_t(opts.Direction), C.uint32_t(opts.Flags), C.uint32_t(opts.Relative), C.uint64_t(opts.ExpectedRevision)
		return C.bpfl_program_attach_tcx(p.h, C.uint32_t(ifindex), &o, &l)
	})
	if err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// TCOptions are the options of AttachTC; nil means ingress, kernel-picked
// priority and handle.
type TCOptions struct {
	Direction TCDirection
	Priority  uint16 // 0: the kernel picks
	Handle    uint32 // 0: the kernel picks
}

// AttachTC attaches a tc program to interface ifindex through netlink: a
// clsact qdisc (added if missing) and a direct-action cls_bpf filter. Close
// removes that filter, and the qdisc if bpfl added it and it is empty.
func (p *Program) AttachTC(ifindex uint32, opts *TCOptions) (*Link, error) {
	var l C.bpfl_link
	_, err := call("bpfl_program_attach_tc", func() C.int {
		if opts == nil {
			return C.bpfl_program_attach_tc(p.h, C.uint32_t(ifindex), nil, &l)
		}
		var o C.bpfl_tc_opts
		o.sz = C.sizeof_bpfl_tc_opts
		o.direction, o.priority, o.handle = C.uint32_t(opts.Direction), C.uint16_t(opts.Priority), C.uint32_t(opts.Handle)
		return C.bpfl_program_attach_tc(p.h, C.uint32_t(ifindex), &o, &l)
	})
	if err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// Ifindex is the index of network interface name (ENOENT if there is none).
func Ifindex(name string) (uint32, error) {
	n := cstr(name)
	defer free(n)
	var i C.uint32_t
	if _, err := call("bpfl_ifindex", func() C.int { return C.bpfl_ifindex(n, &i) }); err != nil {
		return 0, err
	}
	return uint32(i), nil
}
