package bpfl

/*
#include <bpfl.h>
*/
import "C"

import (
	"errors"
	"unsafe"
)

// What is loaded in the kernel, system-wide (every process's programs, maps
// and links, by id): the C ABI's bpfl_loaded_* calls. Needs root
// (CAP_SYS_ADMIN).

// LoadedProgram is a program loaded in the kernel.
type LoadedProgram struct {
	ID           uint32
	Type         uint32 // enum bpf_prog_type
	Name         string // as given at load, at most 15 bytes
	Tag          [8]byte
	XlatedLen    uint32 // bytes after the verifier's rewrites
	JitedLen     uint32 // bytes of JITed code (0: not JITed)
	LoadTime     uint64 // nanoseconds since boot
	CreatedByUID uint32
	NrMapIDs     uint32 // how many maps it uses
}

// LoadedMap is a map in the kernel.
type LoadedMap struct {
	ID         uint32
	Type       uint32 // enum bpf_map_type
	Name       string
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	BTFID      uint32 // 0: none
}

// LoadedLink is a link in the kernel.
type LoadedLink struct {
	ID     uint32
	Type   uint32 // enum bpf_link_type
	ProgID uint32
}

func nextID(op string, f func(*C.uint32_t) C.int) (uint32, bool, error) {
	var next C.uint32_t
	rc, err := call(op, func() C.int { return f(&next) })
	if err != nil || rc == 0 {
		return 0, false, err
	}
	return uint32(next), true, nil
}

// LoadedProgramNextID is the id of the first program after id (0: the
// first of all); ok is false after the last.
func LoadedProgramNextID(id uint32) (next uint32, ok bool, err error) {
	return nextID("bpfl_loaded_program_next_id", func(n *C.uint32_t) C.int { return C.bpfl_loaded_program_next_id(C.uint32_t(id), n) })
}

// LoadedMapNextID is LoadedProgramNextID for maps.
func LoadedMapNextID(id uint32) (next uint32, ok bool, err error) {
	return nextID("bpfl_loaded_map_next_id", func(n *C.uint32_t) C.int { return C.bpfl_loaded_map_next_id(C.uint32_t(id), n) })
}

// LoadedLinkNextID is LoadedProgramNextID for links.
func LoadedLinkNextID(id uint32) (next uint32, ok bool, err error) {
	return nextID("bpfl_loaded_link_next_id", func(n *C.uint32_t) C.int { return C.bpfl_loaded_link_next_id(C.uint32_t(id), n) })
}

func name16(c [16]C.char) string {
	b := C.GoBytes(unsafe.Pointer(&c[0]), 16)
	for i, x := range b {
		if x == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// LoadedProgramInfo is the program with kernel id id (ErrKeyNotExist when
// there is none, any more).
func LoadedProgramInfo(id uint32) (*LoadedProgram, error) {
	var i C.bpfl_loaded_program
	i.sz = C.sizeof_bpfl_loaded_program
	if _, err := call("bpfl_loaded_program_info", func() C.int { return C.bpfl_loaded_program_info(C.uint32_t(id), &i) }); err != nil {
		return nil, err
	}
	p := &LoadedProgram{ID: uint32(i.id), Type: uint32(i.prog_type), Name: name16(i.name), XlatedLen: uint32(i.xlated_len),
		JitedLen: uint32(i.jited_len), LoadTime: uint64(i.load_time), CreatedByUID: uint32(i.created_by_uid), NrMapIDs: uint32(i.nr_map_ids)}
	for k := range p.Tag {
		p.Tag[k] = byte(i.tag[k])
	}
	return p, nil
}

// LoadedMapInfo is the map with kernel id id.
func LoadedMapInfo(id uint32) (*LoadedMap, error) {
	var i C.bpfl_loaded_map
	i.sz = C.sizeof_bpfl_loaded_map
	if _, err := call("bpfl_loaded_map_info", func() C.int { return C.bpfl_loaded_map_info(C.uint32_t(id), &i) }); err != nil {
		return nil, err
	}
	return &LoadedMap{ID: uint32(i.id), Type: uint32(i.map_type), Name: name16(i.name), KeySize: uint32(i.key_size), ValueSize: uint32(i.value_size),
		MaxEntries: uint32(i.max_entries), Flags: uint32(i.map_flags), BTFID: uint32(i.btf_id)}, nil
}

// LoadedLinkInfo is the link with kernel id id.
func LoadedLinkInfo(id uint32) (*LoadedLink, error) {
	var i C.bpfl_loaded_link
	i.sz = C.sizeof_bpfl_loaded_link
	if _, err := call("bpfl_loaded_link_info", func() C.int { return C.bpfl_loaded_link_info(C.uint32_t(id), &i) }); err != nil {
		return nil, err
	}
	return &LoadedLink{ID: uint32(i.id), Type: uint32(i.link_type), ProgID: uint32(i.prog_id)}, nil
}

// walkLoaded lists every object of a kind; one that goes away between its
// id and its info is skipped.
func walkLoaded[T any](next func(uint32) (uint32, bool, error), info func(uint32) (*T, error)) ([]T, error) {
	var out []T
	for id := uint32(0); ; {
		n, ok, err := next(id)
		if err != nil || !ok {
			return out, err
		}
		id = n
		v, err := info(n)
		if errors.Is(err, ErrKeyNotExist) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, *v)
	}
}

// LoadedPrograms lists every program loaded in the kernel, by id.
func LoadedPrograms() ([]LoadedProgram, error) {
	return walkLoaded(LoadedProgramNextID, LoadedProgramInfo)
}

// LoadedMaps lists every map in the kernel, by id.
func LoadedMaps() ([]LoadedMap, error) { return walkLoaded(LoadedMapNextID, LoadedMapInfo) }

// LoadedLinks lists every link in the kernel, by id.
func LoadedLinks() ([]LoadedLink, error) { return walkLoaded(LoadedLinkNextID, LoadedLinkInfo) }
