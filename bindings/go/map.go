package bpfl

/*
#include <stdlib.h>
#include <bpfl.h>
*/
import "C"

import (
	"syscall"
)

// UpdateFlags are the flags of Update (the kernel's BPF_ANY, BPF_NOEXIST, BPF_EXIST).
type UpdateFlags uint64

const (
	UpdateAny     UpdateFlags = C.BPFL_ANY     // create or update
	UpdateNoExist UpdateFlags = C.BPFL_NOEXIST // create only (ErrKeyExist if present)
	UpdateExist   UpdateFlags = C.BPFL_EXIST   // update only (ErrKeyNotExist if absent)
)

// Map is a BPF map: of an Object (valid until the object is closed) or
// opened from a pin with OpenPinned (close it with Close).
//
// The methods here work on raw bytes; the generic functions Lookup, Update,
// Delete, Keys, Iterate, LookupPerCPU and ReadAll encode and decode
// fixed-size Go values (integers, arrays and structs of them, laid out as C
// lays them out on this machine) and []byte.
type Map struct {
	h C.bpfl_map
}

// MapInfo describes a map.
type MapInfo struct {
	Name       string // ".data", ".rodata", ".bss" for global data
	Type       uint32 // enum bpf_map_type
	KeySize    uint32
	ValueSize  uint32 // per-CPU maps: one CPU's value
	MaxEntries uint32
	Flags      uint32
	FD         int // file descriptor once created, else -1
}

// Info describes the map.
func (m *Map) Info() (MapInfo, error) {
	var info C.bpfl_map_info
	info.sz = C.sizeof_bpfl_map_info
	if _, err := call("bpfl_map_get_info", func() C.int { return C.bpfl_map_get_info(m.h, &info) }); err != nil {
		return MapInfo{}, err
	}
	return MapInfo{
		Name:       C.GoString(info.name),
		Type:       uint32(info.map_type),
		KeySize:    uint32(info.key_size),
		ValueSize:  uint32(info.value_size),
		MaxEntries: uint32(info.max_entries),
		Flags:      uint32(info.map_flags),
		FD:         int(info.fd),
	}, nil
}

// ValueBufSize is the size of the value buffer LookupBytes returns and
// UpdateBytes takes: the value size, or for per-CPU maps
// round_up(value size, 8) * possible CPUs.
func (m *Map) ValueBufSize() (int, error) {
	var n C.size_t
	_, err := call("bpfl_map_value_buf_size", func() C.int { return C.bpfl_map_value_buf_size(m.h, &n) })
	return int(n), err
}

// LookupBytes looks key up. A missing key gives an error matching
// ErrKeyNotExist (ENOENT); a key of the wrong size gives EINVAL.
func (m *Map) LookupBytes(key []byte) ([]byte, error) {
	n, err := m.ValueBufSize()
	if err != nil {
		return nil, err
	}
	val := make([]byte, n)
	if err := m.lookupInto(key, val); err != nil {
		return nil, err
	}
	return val, nil
}

func (m *Map) lookupInto(key, val []byte) error {
	_, err := call("bpfl_map_lookup", func() C.int {
		return C.bpfl_map_lookup(m.h, ptr(key), C.size_t(len(key)), ptr(val), C.size_t(len(val)))
	})
	return err
}

// UpdateBytes creates or updates key (see UpdateFlags). value is
// ValueBufSize bytes.
func (m *Map) UpdateBytes(key, value []byte, flags UpdateFlags) error {
	_, err := call("bpfl_map_update", func() C.int {
		return C.bpfl_map_update(m.h, ptr(key), C.size_t(len(key)), ptr(value), C.size_t(len(value)), C.uint64_t(flags))
	})
	return err
}

// DeleteBytes deletes key (ErrKeyNotExist if it is absent).
func (m *Map) DeleteBytes(key []byte) error {
	_, err := call("bpfl_map_delete", func() C.int { return C.bpfl_map_delete(m.h, ptr(key), C.size_t(len(key))) })
	return err
}

// NextKeyBytes returns the key after key, or the first key when key is nil.
// After the last key the error matches ErrKeyNotExist.
func (m *Map) NextKeyBytes(key []byte) ([]byte, error) {
	info, err := m.Info()
	if err != nil {
		return nil, err
	}
	next := make([]byte, info.KeySize)
	if key != nil && len(key) != len(next) {
		return nil, goError("bpfl_map_next_key", syscall.EINVAL, "key is %d bytes, the map's keys are %d", len(key), len(next))
	}
	_, err = call("bpfl_map_next_key", func() C.int {
		return C.bpfl_map_next_key(m.h, ptr(key), ptr(next), C.size_t(len(next)))
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// Clear removes every entry (hash-like maps) or zeroes every value (arrays).
func (m *Map) Clear() error {
	_, err := call("bpfl_map_clear", func() C.int { return C.bpfl_map_clear(m.h) })
	return err
}

// ReadAllBytes reads every entry at once (with batch syscalls where the
// kernel has them): keys[i] goes with values[i] (ValueBufSize bytes).
func (m *Map) ReadAllBytes() (keys, values [][]byte, err error) {
	info, err := m.Info()
	if err != nil {
		return nil, nil, err
	}
	vs, err := m.ValueBufSize()
	if err != nil {
		return nil, nil, err
	}
	ks := int(info.KeySize)
	capacity := int(info.MaxEntries)
	if capacity == 0 {
		capacity = 1
	}
	kb := make([]byte, capacity*ks)
	vb := make([]byte, capacity*vs)
	var n C.size_t
	_, err = call("bpfl_map_read_all", func() C.int {
		return C.bpfl_map_read_all(m.h, ptr(kb), ptr(vb), C.size_t(capacity), &n)
	})
	if err != nil {
		return nil, nil, err
	}
	keys = make([][]byte, int(n))
	values = make([][]byte, int(n))
	for i := range keys {
		keys[i] = kb[i*ks : (i+1)*ks : (i+1)*ks]
		values[i] = vb[i*vs : (i+1)*vs : (i+1)*vs]
	}
	return keys, values, nil
}

// Pin pins the (created) map at path on a bpffs.
func (m *Map) Pin(path string) error {
	p := cstr(path)
	defer free(p)
	_, err := call("bpfl_map_pin", func() C.int { return C.bpfl_map_pin(m.h, p) })
	return err
}

// OpenPinned opens a map pinned on a bpffs (e.g. "/sys/fs/bpf/my_map").
// Close it when done.
func OpenPinned(path string) (*Map, error) {
	p := cstr(path)
	defer free(p)
	var h C.bpfl_map
	if _, err := call("bpfl_map_open_pinned", func() C.int { return C.bpfl_map_open_pinned(p, &h) }); err != nil {
		return nil, err
	}
	return &Map{h: h}, nil
}

// SetInitialValue sets the contents of a global data map (.data, .rodata,
// .bss) before its object is loaded; data must be the map's value size.
func (m *Map) SetInitialValue(data []byte) error {
	_, err := call("bpfl_map_set_initial_value", func() C.int {
		return C.bpfl_map_set_initial_value(m.h, ptr(data), C.size_t(len(data)))
	})
	return err
}

// Close closes a map opened with OpenPinned; a second Close returns an error
// matching ErrClosed. The maps of an Object are closed with the object:
// for those Close does nothing and returns nil.
func (m *Map) Close() error {
	_, err := call("bpfl_map_close", func() C.int { return C.bpfl_map_close(m.h) })
	if e, ok := err.(*Error); ok && e.Errno == syscall.EINVAL {
		// An object's map (bpfl refuses to close it on its own).
		return nil
	}
	return err
}
