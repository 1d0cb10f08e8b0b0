package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import (
	"errors"
	"syscall"
)

// Set-up between Open and Load (the C ABI's bpfl_program_set_* and
// bpfl_map_set_*). Every setter fails with EBUSY once the object is loaded.

// SetAutoload loads the program with its object (true, the default) or
// leaves it out: Load and AttachAll skip it; its handle stays valid.
func (p *Program) SetAutoload(on bool) error {
	_, err := call("bpfl_program_set_autoload", func() C.int { return C.bpfl_program_set_autoload(p.h, C.bool(on)) })
	return err
}

// Autoload says whether the program loads with its object.
func (p *Program) Autoload() (bool, error) {
	var b C.bool
	_, err := call("bpfl_program_autoload", func() C.int { return C.bpfl_program_autoload(p.h, &b) })
	return bool(b), err
}

// SetType loads the program as progType (enum bpf_prog_type).
func (p *Program) SetType(progType uint32) error {
	_, err := call("bpfl_program_set_type", func() C.int { return C.bpfl_program_set_type(p.h, C.uint32_t(progType)) })
	return err
}

// SetExpectedAttachType gives the kernel attachType (enum bpf_attach_type) at load.
func (p *Program) SetExpectedAttachType(attachType uint32) error {
	_, err := call("bpfl_program_set_expected_attach_type", func() C.int {
		return C.bpfl_program_set_expected_attach_type(p.h, C.uint32_t(attachType))
	})
	return err
}

// SetAttachTarget sets the BTF attach target: with attachProgFD <= 0 the
// kernel function, tracepoint, LSM hook or iterator fn; with a program fd,
// function fn of that loaded BPF program (freplace). fn "" with a program
// fd keeps the section's name.
func (p *Program) SetAttachTarget(attachProgFD int, fn string) error {
	var f *C.char
	if fn != "" {
		f = cstr(fn)
		defer free(f)
	}
	_, err := call("bpfl_program_set_attach_target", func() C.int {
		return C.bpfl_program_set_attach_target(p.h, C.int(attachProgFD), f)
	})
	return err
}

// SetFlags sets prog_flags at load (e.g. BPF_F_SLEEPABLE = 1 << 4).
func (p *Program) SetFlags(flags uint32) error {
	_, err := call("bpfl_program_set_flags", func() C.int { return C.bpfl_program_set_flags(p.h, C.uint32_t(flags)) })
	return err
}

// Flags is the prog_flags given at load.
func (p *Program) Flags() (uint32, error) {
	var f C.uint32_t
	_, err := call("bpfl_program_flags", func() C.int { return C.bpfl_program_flags(p.h, &f) })
	return uint32(f), err
}

// SetLogLevel sets this program's verifier log level (1 or 2 keep the log
// of a successful load, for Log).
func (p *Program) SetLogLevel(level uint32) error {
	_, err := call("bpfl_program_set_log_level", func() C.int { return C.bpfl_program_set_log_level(p.h, C.uint32_t(level)) })
	return err
}

// Log is the verifier log of the program's last load.
func (p *Program) Log() (string, error) {
	var n C.size_t
	_, err := call("bpfl_program_log", func() C.int { return C.bpfl_program_log(p.h, nil, 0, &n) })
	if !errors.Is(err, syscall.ENOSPC) { // ENOSPC answers the size query
		return "", err
	}
	buf := C.malloc(n + 1)
	defer C.free(buf)
	if _, err := call("bpfl_program_log", func() C.int { return C.bpfl_program_log(p.h, (*C.char)(buf), n+1, &n) }); err != nil {
		return "", err
	}
	return C.GoStringN((*C.char)(buf), C.int(n)), nil
}

func (m *Map) set(op string, f func() C.int) error {
	_, err := call(op, f)
	return err
}

// SetMaxEntries creates the map with n entries.
func (m *Map) SetMaxEntries(n uint32) error {
	return m.set("bpfl_map_set_max_entries", func() C.int { return C.bpfl_map_set_max_entries(m.h, C.uint32_t(n)) })
}

// SetValueSize creates the map with values of size bytes (a global data
// map keeps its data, zero-extended, and must still hold every variable).
func (m *Map) SetValueSize(size uint32) error {
	return m.set("bpfl_map_set_value_size", func() C.int { return C.bpfl_map_set_value_size(m.h, C.uint32_t(size)) })
}

// SetKeySize creates the map with keys of size bytes.
func (m *Map) SetKeySize(size uint32) error {
	return m.set("bpfl_map_set_key_size", func() C.int { return C.bpfl_map_set_key_size(m.h, C.uint32_t(size)) })
}

// SetMapFlags creates the map with flags (map_flags).
func (m *Map) SetMapFlags(flags uint32) error {
	return m.set("bpfl_map_set_map_flags", func() C.int { return C.bpfl_map_set_map_flags(m.h, C.uint32_t(flags)) })
}

// SetNUMANode allocates the map on NUMA node node.
func (m *Map) SetNUMANode(node uint32) error {
	return m.set("bpfl_map_set_numa_node", func() C.int { return C.bpfl_map_set_numa_node(m.h, C.uint32_t(node)) })
}

// SetInnerMapFD shapes a map-in-map's inner maps like the map fd (duplicated).
func (m *Map) SetInnerMapFD(fd int) error {
	return m.set("bpfl_map_set_inner_map_fd", func() C.int { return C.bpfl_map_set_inner_map_fd(m.h, C.int(fd)) })
}

// ReuseFD uses the existing map fd (duplicated) instead of creating this one.
func (m *Map) ReuseFD(fd int) error {
	return m.set("bpfl_map_reuse_fd", func() C.int { return C.bpfl_map_reuse_fd(m.h, C.int(fd)) })
}

// SetPinPath pins the map at path when the object loads (a map already
// pinned there is used instead, if it matches).
func (m *Map) SetPinPath(path string) error {
	p := cstr(path)
	defer free(p)
	return m.set("bpfl_map_set_pin_path", func() C.int { return C.bpfl_map_set_pin_path(m.h, p) })
}

// SetAutocreate creates the map at load (true, the default) or not.
func (m *Map) SetAutocreate(on bool) error {
	return m.set("bpfl_map_set_autocreate", func() C.int { return C.bpfl_map_set_autocreate(m.h, C.bool(on)) })
}

// Autocreate says whether the map is created at load.
func (m *Map) Autocreate() (bool, error) {
	var b C.bool
	_, err := call("bpfl_map_autocreate", func() C.int { return C.bpfl_map_autocreate(m.h, &b) })
	return bool(b), err
}
