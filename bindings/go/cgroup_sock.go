package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import "unsafe"

// AttachVia says how AttachCgroup and AttachSockmap attach where the kernel
// offers two ways.
type AttachVia uint32

const (
	// ViaAuto makes a BPF link, else uses BPF_PROG_ATTACH where the kernel
	// has no such link (cgroup links: Linux 5.7; sockmap links: 6.10); for
	// cgroups, BPF_PROG_ATTACH at once when Flags are given.
	ViaAuto AttachVia = C.BPFL_VIA_AUTO
	// ViaLink makes only a BPF link.
	ViaLink AttachVia = C.BPFL_VIA_LINK
	// ViaProgAttach uses only BPF_PROG_ATTACH (detached with BPF_PROG_DETACH).
	ViaProgAttach AttachVia = C.BPFL_VIA_PROG_ATTACH
)

// BPF_PROG_ATTACH flags of CgroupOptions.Flags.
const (
	FlagAllowOverride uint32 = 1 // BPF_F_ALLOW_OVERRIDE
	FlagAllowMulti    uint32 = 2 // BPF_F_ALLOW_MULTI
	FlagReplace       uint32 = 4 // BPF_F_REPLACE
)

// CgroupOptions are the options of AttachCgroup; nil means the defaults.
type CgroupOptions struct {
	// AttachType is the enum bpf_attach_type; 0: the program's (its
	// section's). A cgroup/skb program has none: 0 is ingress, 1 egress.
	AttachType uint32
	Via        AttachVia
	// Flags of BPF_PROG_ATTACH; 0 with ViaAuto: BPF_F_ALLOW_MULTI where no
	// link can be made; 0 with ViaProgAttach: the kernel's exclusive mode.
	Flags uint32
	// ReplaceProgFD is the program BPF_F_REPLACE replaces.
	ReplaceProgFD int
}

// SockmapOptions are the options of AttachSockmap; nil means the defaults.
type SockmapOptions struct {
	// AttachType is BPF_SK_MSG_VERDICT, BPF_SK_SKB_STREAM_PARSER, ...; 0:
	// the program's (its section's).
	AttachType uint32
	Via        AttachVia
}

func linkOf(name string, f func(*C.bpfl_link) C.int) (*Link, error) {
	var l C.bpfl_link
	if _, err := call(name, func() C.int { return f(&l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

func cgroupOpts(opts *CgroupOptions) *C.bpfl_cgroup_opts {
	if opts == nil {
		return nil
	}
	o := (*C.bpfl_cgroup_opts)(C.calloc(1, C.sizeof_bpfl_cgroup_opts))
	o.sz = C.sizeof_bpfl_cgroup_opts
	o.attach_type = C.uint32_t(opts.AttachType)
	o.via = C.uint32_t(opts.Via)
	o.flags = C.uint32_t(opts.Flags)
	o.replace_prog_fd = C.int(opts.ReplaceProgFD)
	return o
}

// AttachCgroup attaches a cgroup program (cgroup_skb/..., cgroup/...,
// sockops) to the cgroup v2 directory open as cgroupFD: a BPF link, or
// BPF_PROG_ATTACH (see CgroupOptions). Closing the link detaches it.
func (p *Program) AttachCgroup(cgroupFD int, opts *CgroupOptions) (*Link, error) {
	o := cgroupOpts(opts)
	defer C.free(unsafe.Pointer(o))
	return linkOf("bpfl_program_attach_cgroup", func(l *C.bpfl_link) C.int {
		return C.bpfl_program_attach_cgroup(p.h, C.int(cgroupFD), o, l)
	})
}

// AttachCgroupPath is AttachCgroup by path (/sys/fs/cgroup/my.slice).
func (p *Program) AttachCgroupPath(path string, opts *CgroupOptions) (*Link, error) {
	o := cgroupOpts(opts)
	defer C.free(unsafe.Pointer(o))
	cp := cstr(path)
	defer free(cp)
	return linkOf("bpfl_program_attach_cgroup_path", func(l *C.bpfl_link) C.int {
		return C.bpfl_program_attach_cgroup_path(p.h, cp, o, l)
	})
}

// AttachSocket attaches a socket filter (section socket: SO_ATTACH_BPF) or
// an sk_reuseport program (SO_ATTACH_REUSEPORT_EBPF) to socket sockFD.
// Closing the link detaches it while the same socket is behind sockFD; the
// link does not keep the socket open.
func (p *Program) AttachSocket(sockFD int) (*Link, error) {
	return linkOf("bpfl_program_attach_socket", func(l *C.bpfl_link) C.int {
		return C.bpfl_program_attach_socket(p.h, C.int(sockFD), nil, l)
	})
}

// AttachSockmap attaches an sk_msg or sk_skb program to a sockmap or
// sockhash: a BPF link (Linux 6.10+), else BPF_PROG_ATTACH. Attach before
// adding sockets: a socket takes the map's programs when it is added.
func (p *Program) AttachSockmap(m *Map, opts *SockmapOptions) (*Link, error) {
	return linkOf("bpfl_program_attach_sockmap", func(l *C.bpfl_link) C.int {
		if opts == nil {
			return C.bpfl_program_attach_sockmap(p.h, m.h, nil, l)
		}
		o := (*C.bpfl_sockmap_opts)(C.calloc(1, C.sizeof_bpfl_sockmap_opts))
		defer C.free(unsafe.Pointer(o))
		o.sz = C.sizeof_bpfl_sockmap_opts
		o.attach_type = C.uint32_t(opts.AttachType)
		o.via = C.uint32_t(opts.Via)
		return C.bpfl_program_attach_sockmap(p.h, m.h, o, l)
	})
}

// AttachNetns attaches an sk_lookup or flow_dissector program to the network
// namespace open as netnsFD (-1: the calling thread's) with a BPF link.
func (p *Program) AttachNetns(netnsFD int) (*Link, error) {
	return linkOf("bpfl_program_attach_netns", func(l *C.bpfl_link) C.int {
		return C.bpfl_program_attach_netns(p.h, C.int(netnsFD), nil, l)
	})
}

// AttachNetnsPath is AttachNetns by path (/run/netns/NAME,
// /proc/PID/ns/net; "": the calling thread's).
func (p *Program) AttachNetnsPath(path string) (*Link, error) {
	var cp *C.char
	if path != "" {
		cp = cstr(path)
		defer free(cp)
	}
	return linkOf("bpfl_program_attach_netns_path", func(l *C.bpfl_link) C.int {
		return C.bpfl_program_attach_netns_path(p.h, cp, nil, l)
	})
}

// AttachNetfilter attaches a netfilter program at hook hooknum
// (NF_INET_PRE_ROUTING 0 .. NF_INET_POST_ROUTING 4) of protocol family pf
// (NFPROTO_IPV4 2, NFPROTO_IPV6 10) with priority, in the calling thread's
// network namespace: a netfilter link (Linux 6.4+). flags:
// BPF_F_NETFILTER_IP_DEFRAG (1).
func (p *Program) AttachNetfilter(pf, hooknum uint32, priority int32, flags uint32) (*Link, error) {
	return linkOf("bpfl_program_attach_netfilter", func(l *C.bpfl_link) C.int {
		o := (*C.bpfl_netfilter_opts)(C.calloc(1, C.sizeof_bpfl_netfilter_opts))
		defer C.free(unsafe.Pointer(o))
		o.sz = C.sizeof_bpfl_netfilter_opts
		o.flags = C.uint32_t(flags)
		return C.bpfl_program_attach_netfilter(p.h, C.uint32_t(pf), C.uint32_t(hooknum), C.int32_t(priority), o, l)
	})
}

// QueryPrograms returns the ids of the programs attached to targetFD (a
// cgroup, a network namespace, a sockmap on Linux 5.19+) as attachType
// (BPF_PROG_QUERY).
func QueryPrograms(targetFD int, attachType uint32) ([]uint32, error) {
	for capacity := 16; ; capacity *= 4 {
		ids := make([]uint32, capacity)
		var n C.size_t
		_, err := call("bpfl_query_programs", func() C.int {
			return C.bpfl_query_programs(C.int(targetFD), C.uint32_t(attachType), (*C.uint32_t)(unsafe.Pointer(&ids[0])), C.size_t(capacity), &n)
		})
		if err != nil {
			return nil, err
		}
		if int(n) <= capacity {
			return ids[:n], nil
		}
	}
}

// SetProg puts prog in slot index of this prog array: a bpf_tail_call to
// that index lands there from now on.
func (m *Map) SetProg(index uint32, prog *Program) error {
	_, err := call("bpfl_map_set_prog", func() C.int { return C.bpfl_map_set_prog(m.h, C.uint32_t(index), prog.h) })
	return err
}

// SetInner puts map inner at key of this map of maps (array or hash of maps).
func (m *Map) SetInner(key []byte, inner *Map) error {
	k := C.CBytes(key)
	defer C.free(k)
	_, err := call("bpfl_map_set_inner", func() C.int { return C.bpfl_map_set_inner(m.h, k, C.size_t(len(key)), inner.h) })
	return err
}

// ClearSlot empties slot index of a prog array or array of maps; the error
// matches ErrKeyNotExist when it was empty.
func (m *Map) ClearSlot(index uint32) error {
	_, err := call("bpfl_map_clear_slot", func() C.int { return C.bpfl_map_clear_slot(m.h, C.uint32_t(index)) })
	return err
}
