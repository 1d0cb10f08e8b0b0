package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

// OpenOptions are the options of Open and OpenBytes. The zero value (or nil)
// means the defaults.
type OpenOptions struct {
	// Name of the object (prefix of its global data maps in the kernel);
	// "": from the file name.
	Name string
	// PinRoot is the directory on a bpffs where maps declared with
	// LIBBPF_PIN_BY_NAME are pinned (and reused from); "": /sys/fs/bpf.
	PinRoot string
	// BTFCustomPath is a BTF file used as the target of CO-RE relocations
	// instead of /sys/kernel/btf/vmlinux; "": the kernel's.
	BTFCustomPath string
	// KConfig is kernel config text ("CONFIG_X=y\n...") whose values
	// override the host's for __kconfig externs.
	KConfig string
	// KernelLogLevel is the verifier log level of every program (a
	// program's SetLogLevel overrides it).
	KernelLogLevel uint32
}

// LoadOptions are the options of Object.Load. nil means the defaults.
type LoadOptions struct {
	// LogLevel is the verifier log level for every program (0: a log only
	// when a program is rejected).
	LogLevel uint32
	// KernVersion is the kern_version given to the kernel; 0: the running
	// kernel's.
	KernVersion uint32
}

// Object is an opened BPF ELF object: its programs and maps. Nothing exists
// in the kernel until Load. Close releases everything, including the links
// its programs were attached with and the maps and programs handed out by it.
type Object struct {
	h C.bpfl_object
}

// Collection is another name for Object.
type Collection = Object

func withOpenOpts(opts *OpenOptions, f func(*C.bpfl_open_opts) C.int) C.int {
	if opts == nil {
		return f(nil)
	}
	var o C.bpfl_open_opts
	o.sz = C.sizeof_bpfl_open_opts
	if opts.Name != "" {
		o.object_name = cstr(opts.Name)
		defer free(o.object_name)
	}
	if opts.PinRoot != "" {
		o.pin_root_path = cstr(opts.PinRoot)
		defer free(o.pin_root_path)
	}
	if opts.BTFCustomPath != "" {
		o.btf_custom_path = cstr(opts.BTFCustomPath)
		defer free(o.btf_custom_path)
	}
	if opts.KConfig != "" {
		o.kconfig = cstr(opts.KConfig)
		defer free(o.kconfig)
	}
	o.kernel_log_level = C.uint32_t(opts.KernelLogLevel)
	return f(&o)
}

// Open opens a BPF ELF object file. opts may be nil.
func Open(path string, opts *OpenOptions) (*Object, error) {
	var h C.bpfl_object
	p := cstr(path)
	defer free(p)
	_, err := call("bpfl_object_open_file", func() C.int {
		return withOpenOpts(opts, func(o *C.bpfl_open_opts) C.int {
			return C.bpfl_object_open_file(p, o, &h)
		})
	})
	if err != nil {
		return nil, err
	}
	return &Object{h: h}, nil
}

// OpenBytes opens a BPF ELF object held in memory (the bytes are copied).
// opts may be nil.
func OpenBytes(elf []byte, opts *OpenOptions) (*Object, error) {
	var h C.bpfl_object
	// C memory: the object must not point into the Go heap across calls, and
	// a nil buffer would be refused for an empty slice anyway.
	buf := C.CBytes(elf)
	defer C.free(buf)
	_, err := call("bpfl_object_open_mem", func() C.int {
		return withOpenOpts(opts, func(o *C.bpfl_open_opts) C.int {
			return C.bpfl_object_open_mem(buf, C.size_t(len(elf)), o, &h)
		})
	})
	if err != nil {
		return nil, err
	}
	return &Object{h: h}, nil
}

// SetRodata sets global variable name of the object's data sections (a
// `const volatile` in .rodata, or a .data/.bss variable) before Load. value
// is a []byte or a fixed-size value (integer, array, struct of those) whose
// size must be the variable's.
func (o *Object) SetRodata(name string, value any) error {
	b, err := encodeAny("bpfl_object_set_rodata", value)
	if err != nil {
		return err
	}
	n := cstr(name)
	defer free(n)
	_, err = call("bpfl_object_set_rodata", func() C.int {
		return C.bpfl_object_set_rodata(o.h, n, ptr(b), C.size_t(len(b)))
	})
	return err
}

// Load creates the maps and loads every program into the kernel. opts may be
// nil. If the verifier rejects a program, the error's Msg names it and holds
// the verifier log; nothing is left in the kernel and the object can be closed.
func (o *Object) Load(opts *LoadOptions) error {
	_, err := call("bpfl_object_load", func() C.int {
		if opts == nil {
			return C.bpfl_object_load(o.h, nil)
		}
		var lo C.bpfl_load_opts
		lo.sz = C.sizeof_bpfl_load_opts
		lo.log_level = C.uint32_t(opts.LogLevel)
		lo.kern_version = C.uint32_t(opts.KernVersion)
		return C.bpfl_object_load(o.h, &lo)
	})
	return err
}

// AttachAll attaches every loaded program whose section names its target
// (kprobe/FUNC, kretprobe/FUNC, tracepoint/CAT/NAME, raw_tracepoint/NAME) and
// returns how many were attached. The links belong to the object.
func (o *Object) AttachAll() (int, error) {
	return call("bpfl_object_attach_all", func() C.int { return C.bpfl_object_attach_all(o.h) })
}

// Close detaches the object's links and closes its maps and programs. Its
// Program, Map and Link values become stale (using them gives ErrClosed /
// EBADF). A second Close returns an error matching ErrClosed.
func (o *Object) Close() error {
	_, err := call("bpfl_object_close", func() C.int { return C.bpfl_object_close(o.h) })
	return err
}

// Name is the object's name.
func (o *Object) Name() (string, error) {
	buf := make([]byte, 256)
	_, err := call("bpfl_object_name", func() C.int {
		return C.bpfl_object_name(o.h, (*C.char)(ptr(buf)), C.size_t(len(buf)))
	})
	if err != nil {
		return "", err
	}
	return cString(buf), nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Programs lists the object's programs.
func (o *Object) Programs() ([]*Program, error) {
	var n C.size_t
	if _, err := call("bpfl_object_program_count", func() C.int { return C.bpfl_object_program_count(o.h, &n) }); err != nil {
		return nil, err
	}
	progs := make([]*Program, 0, int(n))
	for i := 0; i < int(n); i++ {
		var h C.bpfl_program
		if _, err := call("bpfl_object_program_at", func() C.int { return C.bpfl_object_program_at(o.h, C.size_t(i), &h) }); err != nil {
			return nil, err
		}
		progs = append(progs, &Program{h: h})
	}
	return progs, nil
}

// Maps lists the object's maps (global data maps .data/.rodata/.bss included).
func (o *Object) Maps() ([]*Map, error) {
	var n C.size_t
	if _, err := call("bpfl_object_map_count", func() C.int { return C.bpfl_object_map_count(o.h, &n) }); err != nil {
		return nil, err
	}
	maps := make([]*Map, 0, int(n))
	for i := 0; i < int(n); i++ {
		var h C.bpfl_map
		if _, err := call("bpfl_object_map_at", func() C.int { return C.bpfl_object_map_at(o.h, C.size_t(i), &h) }); err != nil {
			return nil, err
		}
		maps = append(maps, &Map{h: h})
	}
	return maps, nil
}

// Program returns the program whose C function is name (ErrKeyNotExist /
// ENOENT if there is none).
func (o *Object) Program(name string) (*Program, error) {
	n := cstr(name)
	defer free(n)
	var h C.bpfl_program
	if _, err := call("bpfl_object_find_program", func() C.int { return C.bpfl_object_find_program(o.h, n, &h) }); err != nil {
		return nil, err
	}
	return &Program{h: h}, nil
}

// Map returns the map called name (".data", ".rodata", ".bss" for global
// data; ErrKeyNotExist / ENOENT if there is none). It is valid until the
// object is closed; its Close does nothing.
func (o *Object) Map(name string) (*Map, error) {
	n := cstr(name)
	defer free(n)
	var h C.bpfl_map
	if _, err := call("bpfl_object_find_map", func() C.int { return C.bpfl_object_find_map(o.h, n, &h) }); err != nil {
		return nil, err
	}
	return &Map{h: h}, nil
}

// Program is a program of an Object, valid until the object is closed.
type Program struct {
	h C.bpfl_program
}

// ProgramInfo describes a program.
type ProgramInfo struct {
	Name               string // C function name
	Section            string // ELF section
	Type               uint32 // enum bpf_prog_type (0 if bpfl does not know the section)
	ExpectedAttachType uint32 // enum bpf_attach_type given at load
	FD                 int    // file descriptor once loaded, else -1
	Instructions       uint32 // instruction count (after linking, once loaded)
}

// Info describes the program.
func (p *Program) Info() (ProgramInfo, error) {
	var info C.bpfl_program_info
	info.sz = C.sizeof_bpfl_program_info
	_, err := call("bpfl_program_get_info", func() C.int { return C.bpfl_program_get_info(p.h, &info) })
	if err != nil {
		return ProgramInfo{}, err
	}
	return ProgramInfo{
		Name:               C.GoString(info.name),
		Section:            C.GoString(info.section),
		Type:               uint32(info.prog_type),
		ExpectedAttachType: uint32(info.expected_attach_type),
		FD:                 int(info.fd),
		Instructions:       uint32(info.insn_cnt),
	}, nil
}

// FD is the program's file descriptor (owned by bpfl: do not close it).
func (p *Program) FD() (int, error) {
	var fd C.int
	_, err := call("bpfl_program_fd", func() C.int { return C.bpfl_program_fd(p.h, &fd) })
	return int(fd), err
}

// Attach attaches the program where its section says (kprobe/FUNC[+OFF],
// kretprobe/FUNC, tracepoint/CAT/NAME, tp/CAT/NAME, raw_tracepoint/NAME).
func (p *Program) Attach() (*Link, error) {
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach", func() C.int { return C.bpfl_program_attach(p.h, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// ProbeMode selects how a kprobe is created.
type ProbeMode uint32

const (
	// ProbeAuto uses the perf kprobe PMU where the kernel has it, else
	// tracefs kprobe_events.
	ProbeAuto ProbeMode = C.BPFL_PROBE_AUTO
	// ProbePMU uses only the perf kprobe PMU.
	ProbePMU ProbeMode = C.BPFL_PROBE_PMU
	// ProbeLegacy uses only tracefs kprobe_events.
	ProbeLegacy ProbeMode = C.BPFL_PROBE_LEGACY
)

// KprobeOptions are the options of AttachKprobe; nil means the defaults.
type KprobeOptions struct {
	Offset   uint64    // offset into the function
	Retprobe bool      // attach at return (kretprobe)
	Mode     ProbeMode // how the probe is created
	Cookie   uint64    // what bpf_get_attach_cookie() gives the program (Linux 5.15+ when not 0)
}

// AttachKprobe attaches a kprobe program to kernel function fn. opts may be
// nil. On a kernel without kprobes the error matches ErrNotSupported
// (EOPNOTSUPP).
func (p *Program) AttachKprobe(fn string, opts *KprobeOptions) (*Link, error) {
	f := cstr(fn)
	defer free(f)
	var l C.bpfl_link
	_, err := call("bpfl_program_attach_kprobe", func() C.int {
		if opts == nil {
			return C.bpfl_program_attach_kprobe(p.h, f, nil, &l)
		}
		var ko C.bpfl_kprobe_opts
		ko.sz = C.sizeof_bpfl_kprobe_opts
		ko.offset = C.uint64_t(opts.Offset)
		ko.retprobe = C.bool(opts.Retprobe)
		ko.mode = C.uint32_t(opts.Mode)
		ko.cookie = C.uint64_t(opts.Cookie)
		return C.bpfl_program_attach_kprobe(p.h, f, &ko, &l)
	})
	if err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// UprobeOptions are the options of AttachUprobe; nil means the defaults.
type UprobeOptions struct {
	Offset   uint64 // added to the function's address; with no function, the file offset
	Retprobe bool   // attach at return (uretprobe)
	Pid      int    // only this process; 0: every process that runs the binary
	Cookie   uint64 // what bpf_get_attach_cookie() gives the program (Linux 5.15+ when not 0)
}

// AttachUprobe attaches a uprobe program (section uprobe/uretprobe) to
// function fn of the ELF file binary (an executable or shared library; a
// bare name is searched in PATH or the library directories). With fn empty,
// opts.Offset is the file offset. opts may be nil.
func (p *Program) AttachUprobe(binary, fn string, opts *UprobeOptions) (*Link, error) {
	b := cstr(binary)
	defer free(b)
	var f *C.char
	if fn != "" {
		f = cstr(fn)
		defer free(f)
	}
	var l C.bpfl_link
	_, err := call("bpfl_program_attach_uprobe", func() C.int {
		if opts == nil {
			return C.bpfl_program_attach_uprobe(p.h, b, f, nil, &l)
		}
		var uo C.bpfl_uprobe_opts
		uo.sz = C.sizeof_bpfl_uprobe_opts
		uo.offset = C.uint64_t(opts.Offset)
		uo.retprobe = C.bool(opts.Retprobe)
		uo.pid = C.int32_t(opts.Pid)
		uo.cookie = C.uint64_t(opts.Cookie)
		return C.bpfl_program_attach_uprobe(p.h, b, f, &uo, &l)
	})
	if err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// AttachTracepoint attaches a tracepoint program to category/name (as in
// tracefs events/, e.g. "syscalls", "sys_enter_getppid").
func (p *Program) AttachTracepoint(category, name string) (*Link, error) {
	c, n := cstr(category), cstr(name)
	defer free(c)
	defer free(n)
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_tracepoint", func() C.int { return C.bpfl_program_attach_tracepoint(p.h, c, n, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// AttachRawTracepoint attaches a raw tracepoint program to name (e.g. "sys_enter").
func (p *Program) AttachRawTracepoint(name string) (*Link, error) {
	n := cstr(name)
	defer free(n)
	var l C.bpfl_link
	if _, err := call("bpfl_program_attach_raw_tracepoint", func() C.int { return C.bpfl_program_attach_raw_tracepoint(p.h, n, &l) }); err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}

// Link is an attachment of a program. Close detaches it; closing the
// program's object detaches it too (a Close after that returns ErrClosed).
type Link struct {
	h C.bpfl_link
}

// Close detaches the program. A second Close returns an error matching ErrClosed.
func (l *Link) Close() error {
	_, err := call("bpfl_link_destroy", func() C.int { return C.bpfl_link_destroy(l.h) })
	return err
}

// FD is the file descriptor of the link (a BPF link, or the perf event it
// hangs on), owned by bpfl.
func (l *Link) FD() (int, error) {
	var fd C.int
	_, err := call("bpfl_link_fd", func() C.int { return C.bpfl_link_fd(l.h, &fd) })
	return int(fd), err
}
