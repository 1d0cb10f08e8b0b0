package bpfl

/*
#include <bpfl.h>
*/
import "C"

import "syscall"

// BatchOptions are the options of the batch calls (struct bpfl_map_batch_opts).
// nil means all zero.
type BatchOptions struct {
	// ElemFlags: 0, or BPF_F_LOCK (4) for values holding a spin lock. The
	// kernel takes no UpdateNoExist/UpdateExist in a batch (EINVAL).
	ElemFlags uint64
	// Flags for the whole call: 0 (the kernel defines none yet).
	Flags uint64
}

func (o *BatchOptions) c() *C.bpfl_map_batch_opts {
	if o == nil {
		return nil
	}
	return &C.bpfl_map_batch_opts{sz: C.sizeof_bpfl_map_batch_opts, elem_flags: C.uint64_t(o.ElemFlags), flags: C.uint64_t(o.Flags)}
}

// BatchCursor is where a LookupBatch walk stands (the kernel's resume
// token: a 4-byte bucket for hash maps, a key for others). The zero value
// starts at the beginning of the map.
type BatchCursor struct {
	token   []byte
	started bool
	done    bool
}

// Done reports whether the walk reached the end of the map.
func (c *BatchCursor) Done() bool { return c.done }

// Reset puts the cursor back at the start of the map.
func (c *BatchCursor) Reset() { *c = BatchCursor{} }

// BatchCursorSize is the size of the map's batch cursor: max(key size, 4).
func (m *Map) BatchCursorSize() (int, error) {
	var n C.size_t
	_, err := call("bpfl_map_batch_cursor_size", func() C.int { return C.bpfl_map_batch_cursor_size(m.h, &n) })
	return int(n), err
}

// UpdateBatchBytes creates or updates count entries from packed keys (key
// size each) and values (ValueBufSize each) in one system call. It returns
// the entries written, also with an error when the kernel stopped part-way
// (E2BIG: the map is full).
func (m *Map) UpdateBatchBytes(keys, values []byte, count int, opts *BatchOptions) (int, error) {
	if count < 0 {
		return 0, goError("bpfl_map_update_batch", syscall.EINVAL, "count %d is negative", count)
	}
	n := C.size_t(count)
	_, err := call("bpfl_map_update_batch", func() C.int {
		return C.bpfl_map_update_batch(m.h, ptr(keys), C.size_t(len(keys)), ptr(values), C.size_t(len(values)), &n, opts.c())
	})
	return int(n), err
}

// DeleteBatchBytes deletes count packed keys in one system call; it returns
// the entries deleted, also with an error (ErrKeyNotExist at the first
// absent key: the keys before it are deleted).
func (m *Map) DeleteBatchBytes(keys []byte, count int, opts *BatchOptions) (int, error) {
	if count < 0 {
		return 0, goError("bpfl_map_delete_batch", syscall.EINVAL, "count %d is negative", count)
	}
	n := C.size_t(count)
	_, err := call("bpfl_map_delete_batch", func() C.int {
		return C.bpfl_map_delete_batch(m.h, ptr(keys), C.size_t(len(keys)), &n, opts.c())
	})
	return int(n), err
}

// LookupBatchBytes reads up to count entries of a walk through the map into
// packed keys and values; it returns how many it read. At the end of the
// map cur.Done() is true (the last call may still read entries).
func (m *Map) LookupBatchBytes(cur *BatchCursor, keys, values []byte, count int, opts *BatchOptions) (int, error) {
	return m.lookupBatch("bpfl_map_lookup_batch", cur, keys, values, count, opts)
}

// LookupAndDeleteBatchBytes is LookupBatchBytes, deleting the entries it
// reads (hash maps; arrays give ErrNotSupported).
func (m *Map) LookupAndDeleteBatchBytes(cur *BatchCursor, keys, values []byte, count int, opts *BatchOptions) (int, error) {
	return m.lookupBatch("bpfl_map_lookup_and_delete_batch", cur, keys, values, count, opts)
}

func (m *Map) lookupBatch(op string, cur *BatchCursor, keys, values []byte, count int, opts *BatchOptions) (int, error) {
	if cur.done {
		return 0, nil
	}
	if count < 0 {
		return 0, goError(op, syscall.EINVAL, "count %d is negative", count)
	}
	if cur.token == nil {
		cs, err := m.BatchCursorSize()
		if err != nil {
			return 0, err
		}
		cur.token = make([]byte, cs)
	}
	n := C.size_t(count)
	tok := ptr(cur.token)
	in := tok
	if !cur.started {
		in = nil
	}
	_, err := call(op, func() C.int {
		// One buffer for the cursor in and out: the C ABI allows it.
		if op == "bpfl_map_lookup_batch" {
			return C.bpfl_map_lookup_batch(m.h, in, tok, C.size_t(len(cur.token)), ptr(keys), C.size_t(len(keys)), ptr(values), C.size_t(len(values)), &n, opts.c())
		}
		return C.bpfl_map_lookup_and_delete_batch(m.h, in, tok, C.size_t(len(cur.token)), ptr(keys), C.size_t(len(keys)), ptr(values), C.size_t(len(values)), &n, opts.c())
	})
	if e, ok := err.(*Error); ok && e.Errno == syscall.ENOENT {
		cur.started, cur.done = true, true
		return int(n), nil
	}
	if err == nil {
		cur.started = true
	}
	return int(n), err
}

// packAll encodes every element of vs into one packed buffer.
func packAll[T any](op string, vs []T) ([]byte, error) {
	var out []byte
	for i := range vs {
		b, err := encode(op, &vs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// UpdateBatch writes keys[i] = values[i] for every i in one system call
// (for per-CPU maps V is a []byte of ValueBufSize). It returns the entries
// written, also with an error when the kernel stopped part-way.
func UpdateBatch[K, V any](m *Map, keys []K, values []V, opts *BatchOptions) (int, error) {
	if len(keys) != len(values) {
		return 0, goError("bpfl_map_update_batch", syscall.EINVAL, "%d keys but %d values", len(keys), len(values))
	}
	kb, err := packAll("bpfl_map_update_batch", keys)
	if err != nil {
		return 0, err
	}
	vb, err := packAll("bpfl_map_update_batch", values)
	if err != nil {
		return 0, err
	}
	return m.UpdateBatchBytes(kb, vb, len(keys), opts)
}

// DeleteBatch deletes keys in one system call; it returns the entries deleted.
func DeleteBatch[K any](m *Map, keys []K, opts *BatchOptions) (int, error) {
	kb, err := packAll("bpfl_map_delete_batch", keys)
	if err != nil {
		return 0, err
	}
	return m.DeleteBatchBytes(kb, len(keys), opts)
}

func lookupBatchT[K, V any](m *Map, del bool, cur *BatchCursor, keys []K, values []V, opts *BatchOptions) (int, error) {
	op := "bpfl_map_lookup_batch"
	if del {
		op = "bpfl_map_lookup_and_delete_batch"
	}
	if len(keys) != len(values) {
		return 0, goError(op, syscall.EINVAL, "room for %d keys but %d values", len(keys), len(values))
	}
	info, err := m.Info()
	if err != nil {
		return 0, err
	}
	vs, err := m.ValueBufSize()
	if err != nil {
		return 0, err
	}
	ks, count := int(info.KeySize), len(keys)
	kb, vb := make([]byte, count*ks), make([]byte, count*vs)
	var n int
	if del {
		n, err = m.LookupAndDeleteBatchBytes(cur, kb, vb, count, opts)
	} else {
		n, err = m.LookupBatchBytes(cur, kb, vb, count, opts)
	}
	for i := 0; i < n && i < count; i++ {
		k, e := decode[K](op, kb[i*ks:(i+1)*ks])
		if e != nil {
			return i, e
		}
		v, e := decode[V](op, vb[i*vs:(i+1)*vs])
		if e != nil {
			return i, e
		}
		keys[i], values[i] = k, v
	}
	return n, err
}

// LookupBatch reads up to len(keys) entries of a walk through the map into
// keys and values (same length) and returns how many it read; at the end of
// the map cur.Done() is true. For per-CPU maps V is a []byte.
func LookupBatch[K, V any](m *Map, cur *BatchCursor, keys []K, values []V, opts *BatchOptions) (int, error) {
	return lookupBatchT(m, false, cur, keys, values, opts)
}

// LookupAndDeleteBatch is LookupBatch, deleting the entries it reads.
func LookupAndDeleteBatch[K, V any](m *Map, cur *BatchCursor, keys []K, values []V, opts *BatchOptions) (int, error) {
	return lookupBatchT(m, true, cur, keys, values, opts)
}
