package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import "unsafe"

// USDTOptions are the options of AttachUSDT; nil means the defaults.
type USDTOptions struct {
	Pid    int    // only this process; 0: every process that runs the binary
	Cookie uint64 // what bpf_usdt_cookie() gives the program
}

// AttachUSDT attaches a kprobe-type program (section usdt) to every site of
// USDT probe provider:name in binary (an executable or shared library; a
// bare name is searched in PATH or the library directories): one uprobe per
// site, the probe's semaphore counted by the kernel, its arguments described
// for bpfl/usdt.bpf.h's bpf_usdt_arg(). opts may be nil.
func (p *Program) AttachUSDT(binary, provider, name string, opts *USDTOptions) (*Link, error) {
	b, pr, n := cstr(binary), cstr(provider), cstr(name)
	defer free(b)
	defer free(pr)
	defer free(n)
	var o USDTOptions
	if opts != nil {
		o = *opts
	}
	uo := C.bpfl_usdt_opts{sz: C.sizeof_bpfl_usdt_opts, cookie: C.uint64_t(o.Cookie)}
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_usdt", func() C.int { return C.bpfl_program_attach_usdt(p.h, C.int(o.Pid), b, pr, n, &uo, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// UprobeMultiOptions are the options of AttachUprobeMulti; nil means the defaults.
type UprobeMultiOptions struct {
	Syms     []string // function names to probe (instead of a pattern)
	Offsets  []uint64 // file offsets to probe (instead of a pattern or Syms)
	Cookies  []uint64 // one per probe, or none
	Retprobe bool     // at function return
	Pid      int      // only this process; 0: every process
}

// KprobeMultiOptions are the options of AttachKprobeMulti; nil means the defaults.
type KprobeMultiOptions struct {
	Syms     []string // kernel functions (instead of a pattern)
	Addrs    []uint64 // kernel addresses (instead of a pattern or Syms)
	Cookies  []uint64 // one per function (with a pattern: in sorted name order), or none
	Retprobe bool     // at function return
	Session  bool     // a session probe (kprobe.session, Linux 6.10+)
}

// cArrays copies strings and numbers into C memory (the C ABI keeps no
// pointer); release frees them.
type cArrays struct{ ptrs []unsafe.Pointer }

func (a *cArrays) strs(v []string) **C.char {
	if len(v) == 0 {
		return nil
	}
	arr := (**C.char)(C.malloc(C.size_t(len(v)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	a.ptrs = append(a.ptrs, unsafe.Pointer(arr))
	s := unsafe.Slice(arr, len(v))
	for i, x := range v {
		s[i] = cstr(x)
		a.ptrs = append(a.ptrs, unsafe.Pointer(s[i]))
	}
	return arr
}

func (a *cArrays) u64s(v []uint64) *C.uint64_t {
	if len(v) == 0 {
		return nil
	}
	arr := (*C.uint64_t)(C.malloc(C.size_t(len(v)) * 8))
	a.ptrs = append(a.ptrs, unsafe.Pointer(arr))
	s := unsafe.Slice(arr, len(v))
	for i, x := range v {
		s[i] = C.uint64_t(x)
	}
	return arr
}

func (a *cArrays) release() {
	for _, p := range a.ptrs {
		C.free(p)
	}
}

func maxLen(n ...int) int {
	m := 0
	for _, x := range n {
		if x > m {
			m = x
		}
	}
	return m
}

// AttachUprobeMulti attaches a kprobe-type program to many places of one
// binary: the functions matching glob pattern (may be empty), or opts.Syms,
// or opts.Offsets, each with its cookie. One uprobe.multi link (Linux 6.6+,
// a program from a uprobe.multi section), else one uprobe per place.
func (p *Program) AttachUprobeMulti(binary, pattern string, opts *UprobeMultiOptions) (*Link, error) {
	var o UprobeMultiOptions
	if opts != nil {
		o = *opts
	}
	var a cArrays
	defer a.release()
	b := cstr(binary)
	defer free(b)
	var pat *C.char
	if pattern != "" {
		pat = cstr(pattern)
		defer free(pat)
	}
	mo := C.bpfl_uprobe_multi_opts{sz: C.sizeof_bpfl_uprobe_multi_opts, syms: a.strs(o.Syms), offsets: a.u64s(o.Offsets),
		cookies: a.u64s(o.Cookies), cnt: C.size_t(maxLen(len(o.Syms), len(o.Offsets), len(o.Cookies))), retprobe: C.bool(o.Retprobe)}
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_uprobe_multi", func() C.int { return C.bpfl_program_attach_uprobe_multi(p.h, C.int(o.Pid), b, pat, &mo, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// AttachKprobeMulti attaches a kprobe-type program to many kernel
// functions: those matching glob pattern (may be empty), or opts.Syms, or
// opts.Addrs. One kprobe.multi link (CONFIG_FPROBE, Linux 5.18+), else for
// a program from a kprobe section one kprobe per function.
func (p *Program) AttachKprobeMulti(pattern string, opts *KprobeMultiOptions) (*Link, error) {
	var o KprobeMultiOptions
	if opts != nil {
		o = *opts
	}
	var a cArrays
	defer a.release()
	var pat *C.char
	if pattern != "" {
		pat = cstr(pattern)
		defer free(pat)
	}
	ko := C.bpfl_kprobe_multi_opts{sz: C.sizeof_bpfl_kprobe_multi_opts, syms: a.strs(o.Syms), addrs: a.u64s(o.Addrs),
		cookies: a.u64s(o.Cookies), cnt: C.size_t(maxLen(len(o.Syms), len(o.Addrs), len(o.Cookies))), retprobe: C.bool(o.Retprobe), session: C.bool(o.Session)}
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_kprobe_multi", func() C.int { return C.bpfl_program_attach_kprobe_multi(p.h, pat, &ko, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// AttachKsyscall attaches a kprobe on syscall name's entry (opts.Retprobe:
// its return), through the arch's wrapper (__x64_sys_NAME) where syscalls
// have them. opts.Offset is ignored. opts may be nil.
func (p *Program) AttachKsyscall(name string, opts *KprobeOptions) (*Link, error) {
	var o KprobeOptions
	if opts != nil {
		o = *opts
	}
	n := cstr(name)
	defer free(n)
	ko := C.bpfl_ksyscall_opts{sz: C.sizeof_bpfl_ksyscall_opts, cookie: C.uint64_t(o.Cookie), retprobe: C.bool(o.Retprobe), mode: C.uint32_t(o.Mode)}
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_ksyscall", func() C.int { return C.bpfl_program_attach_ksyscall(p.h, n, &ko, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// AttachTracepointCookie attaches a tracepoint program to category/name
// through a BPF perf link carrying cookie for bpf_get_attach_cookie().
func (p *Program) AttachTracepointCookie(category, name string, cookie uint64) (*Link, error) {
	c, n := cstr(category), cstr(name)
	defer free(c)
	defer free(n)
	to := C.bpfl_tracepoint_opts{sz: C.sizeof_bpfl_tracepoint_opts, cookie: C.uint64_t(cookie)}
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_tracepoint_opts", func() C.int { return C.bpfl_program_attach_tracepoint_opts(p.h, c, n, &to, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// AttachTraceCookie attaches a BTF-traced program (fentry, fexit, fmod_ret,
// lsm) where its section says, through a tracing link carrying cookie for
// bpf_get_attach_cookie() (Linux 5.19+).
func (p *Program) AttachTraceCookie(cookie uint64) (*Link, error) {
	to := C.bpfl_trace_opts{sz: C.sizeof_bpfl_trace_opts, cookie: C.uint64_t(cookie)}
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_trace_opts", func() C.int { return C.bpfl_program_attach_trace_opts(p.h, &to, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}
