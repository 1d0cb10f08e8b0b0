//go:build cgo

package bpfl

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"syscall"
	"unsafe"
)

// Keys and values of the generic helpers are either []byte (used as they
// are) or fixed-size types: booleans, integers, floats, and arrays and
// structs of those. They are passed to the kernel in their in-memory layout,
// which for such types is the C layout of this machine: a Go struct
// mirroring the C struct field by field (same types, same order) matches it.
// A size that differs from the map's gives an EINVAL error.

var typeChecks sync.Map // reflect.Type -> error (nil when usable)

var bytesType = reflect.TypeOf([]byte(nil))

func checkFixed(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return nil
	case reflect.Array:
		return checkFixed(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if err := checkFixed(t.Field(i).Type); err != nil {
				return fmt.Errorf("field %s: %w", t.Field(i).Name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%s is not a fixed-size type", t)
}

// kindOf says whether T is []byte (raw) or a usable fixed-size type.
func kindOf[T any](op string) (raw bool, err error) {
	t := reflect.TypeOf((*T)(nil)).Elem()
	if t == bytesType {
		return true, nil
	}
	if v, ok := typeChecks.Load(t); ok {
		if v != nil {
			return false, goError(op, syscall.EINVAL, "%v", v)
		}
		return false, nil
	}
	cerr := checkFixed(t)
	if cerr != nil {
		typeChecks.Store(t, cerr)
		return false, goError(op, syscall.EINVAL, "%v", cerr)
	}
	typeChecks.Store(t, nil)
	return false, nil
}

// view is the memory of *v as bytes (T must have passed kindOf and not be raw).
func view[T any](v *T) []byte {
	n := unsafe.Sizeof(*v)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), n)
}

// encode gives the bytes of v.
func encode[T any](op string, v *T) ([]byte, error) {
	raw, err := kindOf[T](op)
	if err != nil {
		return nil, err
	}
	if raw {
		return any(*v).([]byte), nil
	}
	return view(v), nil
}

// decode turns b into a T (a copy).
func decode[T any](op string, b []byte) (T, error) {
	var v T
	raw, err := kindOf[T](op)
	if err != nil {
		return v, err
	}
	if raw {
		c := append([]byte(nil), b...)
		return any(c).(T), nil
	}
	dst := view(&v)
	if len(dst) != len(b) {
		return v, goError(op, syscall.EINVAL, "%T is %d bytes, the map's are %d", v, len(dst), len(b))
	}
	copy(dst, b)
	return v, nil
}

// encodeAny gives the bytes of a []byte or a fixed-size value of any type.
func encodeAny(op string, value any) ([]byte, error) {
	if b, ok := value.([]byte); ok {
		return b, nil
	}
	if value == nil {
		return nil, goError(op, syscall.EINVAL, "nil value")
	}
	t := reflect.TypeOf(value)
	if err := checkFixed(t); err != nil {
		return nil, goError(op, syscall.EINVAL, "%v", err)
	}
	p := reflect.New(t)
	p.Elem().Set(reflect.ValueOf(value))
	if t.Size() == 0 {
		return nil, nil
	}
	return unsafe.Slice((*byte)(p.UnsafePointer()), t.Size()), nil
}

// Lookup returns the value of key. A missing key gives an error matching
// ErrKeyNotExist (and syscall.ENOENT); K or V of the wrong size give EINVAL.
// For per-CPU maps use LookupPerCPU.
func Lookup[K, V any](m *Map, key K) (V, error) {
	var v V
	kb, err := encode("bpfl_map_lookup", &key)
	if err != nil {
		return v, err
	}
	raw, err := kindOf[V]("bpfl_map_lookup")
	if err != nil {
		return v, err
	}
	if raw {
		b, err := m.LookupBytes(kb)
		if err != nil {
			return v, err
		}
		return any(b).(V), nil
	}
	// Straight into v: bpfl checks its size against the map's.
	err = m.lookupInto(kb, view(&v))
	return v, err
}

// Update sets key to value (flags: UpdateAny, UpdateNoExist, UpdateExist).
func Update[K, V any](m *Map, key K, value V, flags UpdateFlags) error {
	kb, err := encode("bpfl_map_update", &key)
	if err != nil {
		return err
	}
	vb, err := encode("bpfl_map_update", &value)
	if err != nil {
		return err
	}
	return m.UpdateBytes(kb, vb, flags)
}

// Delete deletes key (ErrKeyNotExist if it is absent).
func Delete[K any](m *Map, key K) error {
	kb, err := encode("bpfl_map_delete", &key)
	if err != nil {
		return err
	}
	return m.DeleteBytes(kb)
}

// Keys lists the map's keys (walking it with next-key calls).
func Keys[K any](m *Map) ([]K, error) {
	var keys []K
	err := walk(m, func(kb []byte) (bool, error) {
		k, err := decode[K]("bpfl_map_next_key", kb)
		if err != nil {
			return false, err
		}
		keys = append(keys, k)
		return true, nil
	})
	return keys, err
}

// walk calls fn with each key of m until fn returns false or an error.
func walk(m *Map, fn func(key []byte) (bool, error)) error {
	var key []byte
	for {
		next, err := m.NextKeyBytes(key)
		if errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if err != nil {
			return err
		}
		more, err := fn(next)
		if err != nil || !more {
			return err
		}
		key = next
	}
}

// Iterate calls fn with every entry of the map until fn returns false.
// Entries deleted while iterating are skipped. For per-CPU maps, V is a
// []byte holding every CPU's value (see ValueBufSize), or use ReadAllPerCPU.
func Iterate[K, V any](m *Map, fn func(key K, value V) bool) error {
	vs, err := m.ValueBufSize()
	if err != nil {
		return err
	}
	buf := make([]byte, vs)
	return walk(m, func(kb []byte) (bool, error) {
		err := m.lookupInto(kb, buf)
		if errors.Is(err, syscall.ENOENT) {
			return true, nil // deleted meanwhile
		}
		if err != nil {
			return false, err
		}
		k, err := decode[K]("bpfl_map_next_key", kb)
		if err != nil {
			return false, err
		}
		v, err := decode[V]("bpfl_map_lookup", buf)
		if err != nil {
			return false, err
		}
		return fn(k, v), nil
	})
}

// perCPU gives a per-CPU map's value size, the distance between two CPUs'
// values in its buffers, and the buffer size.
func perCPU(m *Map) (valueSize, stride, bufSize int, err error) {
	info, err := m.Info()
	if err != nil {
		return 0, 0, 0, err
	}
	bufSize, err = m.ValueBufSize()
	if err != nil {
		return 0, 0, 0, err
	}
	switch info.Type {
	case 5, 6, 10, 21: // PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE
	default:
		return 0, 0, 0, goError("bpfl_map_value_buf_size", syscall.EINVAL, "map '%s' (type %d) is not a per-CPU map", info.Name, info.Type)
	}
	valueSize = int(info.ValueSize)
	stride = (valueSize + 7) &^ 7
	if stride == 0 || bufSize%stride != 0 {
		return 0, 0, 0, goError("bpfl_map_value_buf_size", syscall.EINVAL, "map '%s' is not a per-CPU map", info.Name)
	}
	return valueSize, stride, bufSize, nil
}

func splitPerCPU[V any](op string, buf []byte, valueSize, stride int) ([]V, error) {
	out := make([]V, 0, len(buf)/stride)
	for off := 0; off+stride <= len(buf); off += stride {
		v, err := decode[V](op, buf[off:off+valueSize])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// LookupPerCPU returns key's value on every possible CPU (index = CPU number)
// in a per-CPU map. V is one CPU's value.
func LookupPerCPU[K, V any](m *Map, key K) ([]V, error) {
	kb, err := encode("bpfl_map_lookup", &key)
	if err != nil {
		return nil, err
	}
	vsz, stride, n, err := perCPU(m)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if err := m.lookupInto(kb, buf); err != nil {
		return nil, err
	}
	return splitPerCPU[V]("bpfl_map_lookup", buf, vsz, stride)
}

// UpdatePerCPU sets key's value on every possible CPU in a per-CPU map
// (values[i] for CPU i; len(values) must be the number of possible CPUs).
func UpdatePerCPU[K, V any](m *Map, key K, values []V, flags UpdateFlags) error {
	kb, err := encode("bpfl_map_update", &key)
	if err != nil {
		return err
	}
	vsz, stride, n, err := perCPU(m)
	if err != nil {
		return err
	}
	if len(values)*stride != n {
		return goError("bpfl_map_update", syscall.EINVAL, "%d values for %d possible CPUs", len(values), n/stride)
	}
	buf := make([]byte, n)
	for i := range values {
		vb, err := encode("bpfl_map_update", &values[i])
		if err != nil {
			return err
		}
		if len(vb) != vsz {
			return goError("bpfl_map_update", syscall.EINVAL, "a value is %d bytes, the map's are %d", len(vb), vsz)
		}
		copy(buf[i*stride:], vb)
	}
	return m.UpdateBytes(kb, buf, flags)
}

// Entry is one key and its value.
type Entry[K, V any] struct {
	Key   K
	Value V
}

// ReadAll reads every entry of the map at once (bpfl_map_read_all: batch
// syscalls where the kernel has them).
func ReadAll[K, V any](m *Map) ([]Entry[K, V], error) {
	keys, values, err := m.ReadAllBytes()
	if err != nil {
		return nil, err
	}
	out := make([]Entry[K, V], len(keys))
	for i := range keys {
		if out[i].Key, err = decode[K]("bpfl_map_read_all", keys[i]); err != nil {
			return nil, err
		}
		if out[i].Value, err = decode[V]("bpfl_map_read_all", values[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadAllPerCPU reads every entry of a per-CPU map at once: each value is
// the list of every possible CPU's value.
func ReadAllPerCPU[K, V any](m *Map) ([]Entry[K, []V], error) {
	vsz, stride, _, err := perCPU(m)
	if err != nil {
		return nil, err
	}
	keys, values, err := m.ReadAllBytes()
	if err != nil {
		return nil, err
	}
	out := make([]Entry[K, []V], len(keys))
	for i := range keys {
		if out[i].Key, err = decode[K]("bpfl_map_read_all", keys[i]); err != nil {
			return nil, err
		}
		if out[i].Value, err = splitPerCPU[V]("bpfl_map_read_all", values[i], vsz, stride); err != nil {
			return nil, err
		}
	}
	return out, nil
}
