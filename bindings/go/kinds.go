package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import "os"

// Links beyond attach and Close (pin, open from a pin, update, info,
// BPF_LINK_DETACH), perf events for perf_event programs, and BPF iterators.

// Pin pins the link at path on a bpffs: the attachment then outlives the
// Link and the process until the pin is removed. Close releases only our
// fd (it does not unpin). An attachment that is no BPF link (a perf event on
// a kernel before 5.15) gives an error matching ErrNotSupported.
func (l *Link) Pin(path string) error {
	p := cstr(path)
	defer free(p)
	_, err := call("bpfl_link_pin", func() C.int { return C.bpfl_link_pin(l.h, p) })
	return err
}

// OpenPinnedLink opens a link pinned at path. Its Close closes our fd only.
func OpenPinnedLink(path string) (*Link, error) {
	p := cstr(path)
	defer free(p)
	var h C.bpfl_link
	if _, err := call("bpfl_link_open_pinned", func() C.int { return C.bpfl_link_open_pinned(p, &h) }); err != nil {
		return nil, err
	}
	return &Link{h: h}, nil
}

// UpdateProgram runs prog in the link instead of its program
// (BPF_LINK_UPDATE); with old non-nil, only if old is the program it runs
// now (else an error matching syscall.EPERM).
func (l *Link) UpdateProgram(prog, old *Program) error {
	var o C.bpfl_link_update_opts
	o.sz = C.sizeof_bpfl_link_update_opts
	if old != nil {
		o.old_prog = old.h
	}
	_, err := call("bpfl_link_update", func() C.int { return C.bpfl_link_update(l.h, prog.h, &o) })
	return err
}

// LinkInfo is what the kernel says about a BPF link.
type LinkInfo struct {
	Type, ID, ProgID, AttachType                                      uint32
	Name                                                              string // raw tracepoint, iterator target, perf event target
	CgroupID                                                          uint64
	MapID, TargetObjID, TargetBtfID, Ifindex, NetnsIno, PerfEventType uint32
	TaskTid, TaskPid                                                  uint32
}

// Info describes the link (BPF_OBJ_GET_INFO_BY_FD, Linux 5.8+).
func (l *Link) Info() (LinkInfo, error) {
	var i C.bpfl_link_info
	i.sz = C.sizeof_bpfl_link_info
	if _, err := call("bpfl_link_get_info", func() C.int { return C.bpfl_link_get_info(l.h, &i) }); err != nil {
		return LinkInfo{}, err
	}
	return LinkInfo{
		Type: uint32(i.link_type), ID: uint32(i.id), ProgID: uint32(i.prog_id), AttachType: uint32(i.attach_type),
		Name: C.GoString(&i.name[0]), CgroupID: uint64(i.cgroup_id), MapID: uint32(i.map_id),
		TargetObjID: uint32(i.target_obj_id), TargetBtfID: uint32(i.target_btf_id), Ifindex: uint32(i.ifindex),
		NetnsIno: uint32(i.netns_ino), PerfEventType: uint32(i.perf_event_type),
		TaskTid: uint32(i.task_tid), TaskPid: uint32(i.task_pid),
	}, nil
}

// ForceDetach ends the attachment now for every holder of the link, its pins
// too (BPF_LINK_DETACH); the Link stays until Close. Only some link types
// take it (cgroup, netns, XDP since Linux 5.9, struct_ops since 6.9); others
// give an error matching ErrNotSupported that says so.
func (l *Link) ForceDetach() error {
	_, err := call("bpfl_link_detach", func() C.int { return C.bpfl_link_detach(l.h) })
	return err
}

// Perf event types and counters for PerfEventSpec.
const (
	PerfTypeHardware     = 0
	PerfTypeSoftware     = 1
	PerfCountSwCPUClock  = 0
	PerfCountHwCPUCycles = 0
)

// PerfEventSpec is a sampling perf event for OpenPerfEvent.
type PerfEventSpec struct {
	Type   uint32 // PerfTypeSoftware, PerfTypeHardware ...
	Config uint64 // the event of that type
	Period uint64 // sample every Period events, or with Freq, Period times a second
	Freq   bool
	Pid    int // 0 or -1: every task
}

// OpenPerfEvent opens a sampling perf event on cpu; the caller closes the
// file. Hardware events on a machine without a PMU give an error matching
// ErrNotSupported.
func OpenPerfEvent(spec PerfEventSpec, cpu int) (*os.File, error) {
	var s C.bpfl_perf_event_spec
	s.sz = C.sizeof_bpfl_perf_event_spec
	s.perf_type = C.uint32_t(spec.Type)
	s.config = C.uint64_t(spec.Config)
	s.period = C.uint64_t(spec.Period)
	s.freq = C.bool(spec.Freq)
	s.pid = C.int32_t(spec.Pid)
	var fd C.int
	if _, err := call("bpfl_perf_event_open", func() C.int { return C.bpfl_perf_event_open(&s, C.int(cpu), &fd) }); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "perf_event"), nil
}

// AttachPerfEvent attaches a perf_event program to the perf event perfFD
// (the link keeps its own duplicate). cookie is bpf_get_attach_cookie()'s value.
func (p *Program) AttachPerfEvent(perfFD int, cookie uint64) (*Link, error) {
	var o C.bpfl_perf_event_opts
	o.sz = C.sizeof_bpfl_perf_event_opts
	o.cookie = C.uint64_t(cookie)
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_perf_event", func() C.int { return C.bpfl_program_attach_perf_event(p.h, C.int(perfFD), &o, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// IterOptions are an iterator's parameters: set those of its target, or none.
type IterOptions struct {
	MapFD       int    // bpf_map_elem, bpf_sk_storage_map, sockmap
	CgroupFD    int    // cgroup: start by fd ...
	CgroupID    uint64 // ... or by id
	CgroupOrder uint32
	Tid, Pid    uint32 // task, task_file, task_vma: one thread or process (Linux 6.1+)
	PidFD       int
}

// AttachIter makes an iterator link of an iter/TARGET program; opts may be nil.
func (p *Program) AttachIter(opts *IterOptions) (*Link, error) {
	var o C.bpfl_iter_opts
	o.sz = C.sizeof_bpfl_iter_opts
	if opts != nil {
		o.map_fd = C.int(opts.MapFD)
		o.cgroup_fd = C.int(opts.CgroupFD)
		o.cgroup_id = C.uint64_t(opts.CgroupID)
		o.cgroup_order = C.uint32_t(opts.CgroupOrder)
		o.tid = C.uint32_t(opts.Tid)
		o.pid = C.uint32_t(opts.Pid)
		o.pid_fd = C.int(opts.PidFD)
	}
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_iter", func() C.int { return C.bpfl_program_attach_iter(p.h, &o, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// OpenIter starts a pass of an iterator link (BPF_ITER_CREATE): read the
// file (an io.Reader) until EOF, then close it.
func (l *Link) OpenIter() (*os.File, error) {
	var fd C.int
	if _, err := call("bpfl_iter_create", func() C.int { return C.bpfl_iter_create(l.h, &fd) }); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "bpf_iter"), nil
}

// AttachStructOps registers a loaded struct_ops map (a SEC(".struct_ops.link")
// or SEC(".struct_ops") variable, such as a TCP congestion control). Closing
// the link unregisters it.
func (m *Map) AttachStructOps() (*Link, error) {
	var l C.bpfl_link
	if _, err := call("bpfl_map_attach_struct_ops", func() C.int { return C.bpfl_map_attach_struct_ops(m.h, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// UpdateMap switches a struct_ops link to another loaded .struct_ops.link map
// of the same kernel type (BPF_LINK_UPDATE, Linux 6.4+).
func (l *Link) UpdateMap(m *Map) error {
	_, err := call("bpfl_link_update_map", func() C.int { return C.bpfl_link_update_map(l.h, m.h) })
	return err
}
