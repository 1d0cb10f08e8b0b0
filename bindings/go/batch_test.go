package bpfl

import (
	"encoding/binary"
	"errors"
	"strings"
	"syscall"
	"testing"
)

// The batch calls on bpf/batch.bpf.c: 10,000 entries written in one call
// into a hash, a per-CPU hash and an array, each checked with single
// lookups; walked in chunks; part drained with lookup-and-delete; the rest
// deleted; partial failures report how many entries were done.

const batchN = 10000

func batchVal(k uint32) uint64 { return uint64(k)*1000003 + 7 }

func countKeys(t *testing.T, m *Map) int {
	t.Helper()
	n := 0
	if err := Iterate(m, func(k uint32, v []byte) bool { n++; return true }); err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	return n
}

// walkBatch walks m in chunks of chunk (deleting when del), at most limit
// entries; returns key -> value bytes.
func walkBatch(t *testing.T, m *Map, chunk int, del bool, limit int) map[uint32][]byte {
	t.Helper()
	var cur BatchCursor
	out := map[uint32][]byte{}
	keys, values := make([]uint32, chunk), make([][]byte, chunk)
	for calls := 0; !cur.Done() && len(out) < limit; calls++ {
		if calls > 100000 {
			t.Fatal("the walk does not end")
		}
		var n int
		var err error
		if del {
			n, err = LookupAndDeleteBatch(m, &cur, keys, values, nil)
		} else {
			n, err = LookupBatch(m, &cur, keys, values, nil)
		}
		if err != nil {
			t.Fatalf("walk: %v", err)
		}
		for i := 0; i < n; i++ {
			if _, dup := out[keys[i]]; dup {
				t.Fatalf("key %d read twice", keys[i])
			}
			out[keys[i]] = values[i]
		}
	}
	return out
}

func TestBatchHashPerCPUArray(t *testing.T) {
	obj := load(t, "batch.o", nil, nil)
	defer obj.Close()
	keys := make([]uint32, batchN)
	for i := range keys {
		keys[i] = uint32(i)
	}
	for _, name := range []string{"hash", "percpu_hash", "array"} {
		t.Run(name, func(t *testing.T) {
			m := mustMap(t, obj, name)
			vs, err := m.ValueBufSize()
			if err != nil {
				t.Fatal(err)
			}
			percpu := name == "percpu_hash"
			// Per-CPU: key k, CPU c holds k*16+c in the low 4 bytes of each 8-byte slot.
			valueOf := func(k uint32) []byte {
				b := make([]byte, vs)
				if percpu {
					for c := 0; c < vs/8; c++ {
						binary.LittleEndian.PutUint32(b[c*8:], k*16+uint32(c))
					}
				} else {
					binary.LittleEndian.PutUint64(b, batchVal(k))
				}
				return b
			}
			values := make([][]byte, batchN)
			for i := range values {
				values[i] = valueOf(uint32(i))
			}
			if percpu {
				// A value of value_size (not per CPU): refused before the syscall, nothing done.
				n, err := UpdateBatch(m, keys[:2], []uint32{1, 2}, nil)
				if n != 0 || !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "per-CPU") {
					t.Fatalf("short per-CPU values: %d, %v", n, err)
				}
			}
			n, err := UpdateBatch(m, keys, values, nil)
			if err != nil || n != batchN {
				t.Fatalf("UpdateBatch = %d, %v", n, err)
			}
			for _, k := range keys {
				v, err := m.LookupBytes(view(&k))
				if err != nil || string(v) != string(valueOf(k)) {
					t.Fatalf("%s[%d] = %x, %v; want %x", name, k, v, err, valueOf(k))
				}
			}
			all := walkBatch(t, m, 777, false, 1<<30)
			if len(all) != batchN {
				t.Fatalf("LookupBatch walk read %d entries", len(all))
			}
			for k, v := range all {
				if string(v) != string(valueOf(k)) {
					t.Fatalf("walk: %s[%d] = %x", name, k, v)
				}
			}
			if name == "array" {
				n, err := DeleteBatch(m, keys[:10], nil)
				if n != 0 || !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "BPF_MAP_TYPE_ARRAY") {
					t.Fatalf("array DeleteBatch = %d, %v", n, err)
				}
				return
			}
			gone := walkBatch(t, m, 1000, true, 3000)
			if len(gone) < 3000 || len(gone) >= batchN {
				t.Fatalf("drained %d", len(gone))
			}
			var rest []uint32
			for _, k := range keys {
				_, err := m.LookupBytes(view(&k))
				if _, g := gone[k]; g {
					if !errors.Is(err, ErrKeyNotExist) {
						t.Fatalf("key %d still there after LookupAndDeleteBatch: %v", k, err)
					}
					if string(gone[k]) != string(valueOf(k)) {
						t.Fatalf("drained %s[%d] = %x", name, k, gone[k])
					}
				} else {
					if err != nil {
						t.Fatalf("key %d lost: %v", k, err)
					}
					rest = append(rest, k)
				}
			}
			if c := countKeys(t, m); c != len(rest) {
				t.Fatalf("%d keys left, want %d", c, len(rest))
			}
			if n, err := DeleteBatch(m, rest, nil); err != nil || n != len(rest) {
				t.Fatalf("DeleteBatch = %d, %v", n, err)
			}
			if c := countKeys(t, m); c != 0 {
				t.Fatalf("map not empty: %d keys", c)
			}
		})
	}
}

func TestBatchPartialFailure(t *testing.T) {
	obj := load(t, "batch.o", nil, nil)
	defer obj.Close()
	m := mustMap(t, obj, "hash")
	keys := make([]uint32, 11995)
	vals := make([]uint64, 11995)
	for i := range keys {
		keys[i], vals[i] = uint32(i), uint64(i)
	}
	if n, err := UpdateBatch(m, keys, vals, nil); err != nil || n != 11995 {
		t.Fatalf("fill: %d, %v", n, err)
	}
	// 10 new keys into 5 free places (max_entries 12,000): 5 written, E2BIG.
	nk := []uint32{20000, 20001, 20002, 20003, 20004, 20005, 20006, 20007, 20008, 20009}
	n, err := UpdateBatch(m, nk, make([]uint64, 10), nil)
	if n != 5 || !errors.Is(err, syscall.E2BIG) || !strings.Contains(err.Error(), "stopped at entry 5 of 10") {
		t.Fatalf("full map: %d, %v", n, err)
	}
	// A missing key stops a delete after the keys before it.
	n, err = DeleteBatch(m, []uint32{20000, 20001, 99999, 20002}, nil)
	if n != 2 || !errors.Is(err, ErrKeyNotExist) {
		t.Fatalf("delete past a missing key: %d, %v", n, err)
	}
	if c := countKeys(t, m); c != 11998 {
		t.Fatalf("%d keys", c)
	}
	// The kernel takes no NOEXIST in a batch: said so, nothing done.
	n, err = UpdateBatch(m, []uint32{30000}, []uint64{1}, &BatchOptions{ElemFlags: uint64(UpdateNoExist)})
	if n != 0 || !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "only BPF_F_LOCK") {
		t.Fatalf("NOEXIST: %d, %v", n, err)
	}
	// Sizes are checked first.
	if n, err := m.UpdateBatchBytes(make([]byte, 7), make([]byte, 16), 2, nil); n != 0 || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("short keys: %d, %v", n, err)
	}
	// Map types the kernel does not batch.
	var cur BatchCursor
	_, err = mustMap(t, obj, "progs").LookupBatchBytes(&cur, make([]byte, 4), make([]byte, 4), 1, nil)
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "BPF_MAP_TYPE_PROG_ARRAY") {
		t.Fatalf("prog array: %v", err)
	}
	if cs, err := m.BatchCursorSize(); cs != 4 || err != nil {
		t.Fatalf("BatchCursorSize = %d, %v", cs, err)
	}
}
