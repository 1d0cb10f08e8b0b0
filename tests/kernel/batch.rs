//! Batch map operations on the real kernel (bpf/batch.bpf.c): 10,000
//! entries written in one call into a hash, a per-CPU hash and an array,
//! each checked with single lookups; walked in chunks; drained in part with
//! lookup-and-delete; emptied with delete; partial failures report how far
//! the kernel got; map types the kernel does not batch say so.

use super::harness::Test;
use super::loaded;
use bpfl::host::cpus::possible_cpus;
use bpfl::map::{BPF_EXIST, BPF_NOEXIST};
use bpfl::{BatchCursor, BatchOptions, ErrorKind, Map, TestRunOptions};
use std::collections::BTreeMap;

pub const TESTS: &[Test] = &[
    Test { name: "batch_hash_update_walk_drain_delete", needs_kernel: true, f: batch_hash },
    Test { name: "batch_percpu_hash_values_per_cpu", needs_kernel: true, f: batch_percpu_hash },
    Test { name: "batch_array_update_and_walk", needs_kernel: true, f: batch_array },
    Test { name: "batch_partial_failure_counts", needs_kernel: true, f: batch_partial_failure },
    Test { name: "batch_refusals_name_what_is_wrong", needs_kernel: true, f: batch_refusals },
];

const N: u32 = 10_000;

fn keys_of(ks: impl IntoIterator<Item = u32>) -> Vec<u8> {
    ks.into_iter().flat_map(|k| k.to_ne_bytes()).collect()
}

fn u64s(vs: impl IntoIterator<Item = u64>) -> Vec<u8> {
    vs.into_iter().flat_map(|v| v.to_ne_bytes()).collect()
}

fn value_of(k: u32) -> u64 {
    (k as u64) * 1_000_003 + 7
}

/// Walk the whole map with lookup_batch (or lookup_and_delete_batch) in
/// chunks of `chunk`, at most `limit` entries; returns key -> value bytes.
fn walk(m: &Map, chunk: usize, delete: bool, limit: usize) -> BTreeMap<u32, Vec<u8>> {
    let vs = m.value_buf_size();
    let mut cur = BatchCursor::new();
    let mut out = BTreeMap::new();
    let (mut keys, mut values) = (vec![0u8; chunk * 4], vec![0u8; chunk * vs]);
    let mut calls = 0;
    while !cur.is_done() && out.len() < limit {
        let n = if delete { m.lookup_and_delete_batch(&mut cur, &mut keys, &mut values, &BatchOptions::default()) } else { m.lookup_batch(&mut cur, &mut keys, &mut values, &BatchOptions::default()) }
            .unwrap_or_else(|e| panic!("walk of '{}': {e}", m.name()));
        for i in 0..n {
            let k = u32::from_ne_bytes(keys[i * 4..i * 4 + 4].try_into().unwrap());
            assert!(out.insert(k, values[i * vs..(i + 1) * vs].to_vec()).is_none(), "key {k} read twice");
        }
        calls += 1;
        assert!(calls < 100_000, "the walk does not end");
    }
    out
}

fn count_keys(m: &Map) -> usize {
    m.keys().map(|k| k.unwrap()).count()
}

fn batch_hash() {
    let o = loaded("batch.o");
    let m = o.map("hash").unwrap();
    assert_eq!(m.batch_cursor_size(), 4);
    let n = m.update_batch(&keys_of(0..N), &u64s((0..N).map(value_of)), &BatchOptions::default()).unwrap();
    assert_eq!(n, N as usize, "one call wrote every entry");
    let mut v = [0u8; 8];
    for k in 0..N {
        assert!(m.lookup(&k.to_ne_bytes(), &mut v).unwrap(), "key {k} missing");
        assert_eq!(u64::from_ne_bytes(v), value_of(k), "hash[{k}]");
    }
    assert!(!m.lookup(&N.to_ne_bytes(), &mut v).unwrap());
    // The program sees what the batch wrote.
    let p = o.program("batch_probe").unwrap();
    p.test_run(TestRunOptions { data_in: &[0u8; 64], ..Default::default() }).unwrap();
    let mut seen = [0u8; 8];
    o.map("batch.bss").or_else(|| o.map(".bss")).unwrap().lookup(&0u32.to_ne_bytes(), &mut seen).unwrap();
    assert_eq!(u64::from_ne_bytes(seen), value_of(4242));

    // The whole map, in chunks of 777 (not a divisor of 10,000): every entry once, exactly.
    let all = walk(m, 777, false, usize::MAX);
    assert_eq!(all.len(), N as usize);
    for (k, v) in &all {
        assert_eq!(u64::from_ne_bytes(v[..].try_into().unwrap()), value_of(*k));
    }
    // Lookup-and-delete 3,000: those are gone, the other 7,000 remain.
    let gone = walk(m, 1000, true, 3000);
    assert!(gone.len() >= 3000 && gone.len() < N as usize, "drained {}", gone.len());
    for (k, val) in &gone {
        assert_eq!(u64::from_ne_bytes(val[..].try_into().unwrap()), value_of(*k));
        assert!(!m.lookup(&k.to_ne_bytes(), &mut v).unwrap(), "key {k} still there after lookup_and_delete");
    }
    let rest: Vec<u32> = (0..N).filter(|k| !gone.contains_key(k)).collect();
    for &k in &rest {
        assert!(m.lookup(&k.to_ne_bytes(), &mut v).unwrap(), "key {k} lost");
        assert_eq!(u64::from_ne_bytes(v), value_of(k));
    }
    assert_eq!(count_keys(m), rest.len());
    // Delete the rest in one call: the map is empty.
    assert_eq!(m.delete_batch(&keys_of(rest.iter().copied()), &BatchOptions::default()).unwrap(), rest.len());
    assert_eq!(count_keys(m), 0);
    assert!(walk(m, 100, false, usize::MAX).is_empty());
}

fn batch_percpu_hash() {
    let o = loaded("batch.o");
    let m = o.map("percpu_hash").unwrap();
    let cpus = possible_cpus();
    let vs = m.value_buf_size();
    assert_eq!(vs, 8 * cpus, "4-byte values: 8 bytes per possible CPU");
    // Key k, CPU c: k * 16 + c, in the low 4 bytes of each 8-byte slot.
    let per = |k: u32, c: usize| k.wrapping_mul(16).wrapping_add(c as u32);
    let mut values = vec![0u8; N as usize * vs];
    for k in 0..N as usize {
        for c in 0..cpus {
            values[k * vs + c * 8..k * vs + c * 8 + 4].copy_from_slice(&per(k as u32, c).to_ne_bytes());
        }
    }
    // A values buffer of value_size per entry (not per CPU) is refused before the syscall.
    let e = m.update_batch(&keys_of(0..N), &values[..N as usize * 4], &BatchOptions::default()).unwrap_err();
    assert_eq!((e.done, e.error.errno()), (0, libc::EINVAL));
    assert!(e.error.to_string().contains("per-CPU"), "{e}");
    assert_eq!(count_keys(m), 0);
    assert_eq!(m.update_batch(&keys_of(0..N), &values, &BatchOptions::default()).unwrap(), N as usize);
    let mut v = vec![0u8; vs];
    for k in 0..N {
        assert!(m.lookup(&k.to_ne_bytes(), &mut v).unwrap());
        for c in 0..cpus {
            assert_eq!(u32::from_ne_bytes(v[c * 8..c * 8 + 4].try_into().unwrap()), per(k, c), "percpu_hash[{k}] cpu {c}");
        }
    }
    let all = walk(m, 500, false, usize::MAX);
    assert_eq!(all.len(), N as usize);
    for (k, v) in &all {
        for c in 0..cpus {
            assert_eq!(u32::from_ne_bytes(v[c * 8..c * 8 + 4].try_into().unwrap()), per(*k, c));
        }
    }
    let gone = walk(m, 2000, true, 4000);
    for k in gone.keys() {
        assert!(!m.lookup(&k.to_ne_bytes(), &mut v).unwrap(), "key {k} still there");
    }
    assert_eq!(count_keys(m), N as usize - gone.len());
    let rest: Vec<u32> = (0..N).filter(|k| !gone.contains_key(k)).collect();
    assert_eq!(m.delete_batch(&keys_of(rest.iter().copied()), &BatchOptions::default()).unwrap(), rest.len());
    assert_eq!(count_keys(m), 0);
}

fn batch_array() {
    let o = loaded("batch.o");
    let m = o.map("array").unwrap();
    assert_eq!(m.update_batch(&keys_of(0..N), &u64s((0..N).map(value_of)), &BatchOptions::default()).unwrap(), N as usize);
    let mut v = [0u8; 8];
    for k in 0..N {
        assert!(m.lookup(&k.to_ne_bytes(), &mut v).unwrap());
        assert_eq!(u64::from_ne_bytes(v), value_of(k), "array[{k}]");
    }
    let all = walk(m, 999, false, usize::MAX);
    assert_eq!(all.keys().copied().collect::<Vec<_>>(), (0..N).collect::<Vec<_>>());
    for (k, v) in &all {
        assert_eq!(u64::from_ne_bytes(v[..].try_into().unwrap()), value_of(*k));
    }
    // Arrays cannot delete: the kernel says so, and it is said with the map type.
    let e = m.delete_batch(&keys_of(0..10), &BatchOptions::default()).unwrap_err();
    assert_eq!(e.done, 0);
    assert!(matches!(e.error.errno(), libc::EOPNOTSUPP | libc::EINVAL), "{e}");
    assert!(e.error.to_string().contains("BPF_MAP_TYPE_ARRAY"), "{e}");
    let mut cur = BatchCursor::new();
    let e = m.lookup_and_delete_batch(&mut cur, &mut [0u8; 40], &mut [0u8; 80], &BatchOptions::default()).unwrap_err();
    assert!(e.error.to_string().contains("BPF_MAP_TYPE_ARRAY"), "{e}");
    assert_eq!(all.len(), N as usize, "nothing deleted");
    assert!(m.lookup(&9999u32.to_ne_bytes(), &mut v).unwrap());
}

fn batch_partial_failure() {
    let o = loaded("batch.o");
    let m = o.map("hash").unwrap();
    let none = BatchOptions::default();
    // Fill to 5 below max_entries (12,000), then write 10 new keys: 5 fit.
    assert_eq!(m.update_batch(&keys_of(0..11_995), &u64s((0..11_995).map(value_of)), &none).unwrap(), 11_995);
    let e = m.update_batch(&keys_of(20_000..20_010), &u64s((0..10).map(|_| 5)), &none).unwrap_err();
    assert_eq!((e.done, e.error.errno()), (5, libc::E2BIG), "{e}");
    assert!(e.error.to_string().contains("stopped at entry 5 of 10: the map is full (12000 entries)"), "{e}");
    let mut v = [0u8; 8];
    for k in 20_000..20_010u32 {
        assert_eq!(m.lookup(&k.to_ne_bytes(), &mut v).unwrap(), k < 20_005, "key {k}");
    }
    assert_eq!(count_keys(m), 12_000);
    // Delete 0..5, then a missing key: 5 done, and the key after it is kept.
    let e = m.delete_batch(&keys_of([0, 1, 2, 3, 4, 99_999, 5]), &none).unwrap_err();
    assert_eq!((e.done, e.error.errno(), e.error.kind()), (5, libc::ENOENT, ErrorKind::NotFound));
    assert!(e.error.to_string().contains("stopped at entry 5 of 7: no such key"), "{e}");
    assert!(m.lookup(&5u32.to_ne_bytes(), &mut v).unwrap());
    assert_eq!(count_keys(m), 11_995);
    // The error converts into bpfl::Error for `?`.
    let as_error: bpfl::Error = e.into();
    assert_eq!(as_error.errno(), libc::ENOENT);
    // An array index past the end: the slots before it are written.
    let a = o.map("array").unwrap();
    let e = a.update_batch(&keys_of(9_995..10_005), &u64s((0..10).map(|_| 77)), &none).unwrap_err();
    assert_eq!((e.done, e.error.errno()), (5, libc::E2BIG), "{e}");
    for k in 9_990..10_000u32 {
        assert!(a.lookup(&k.to_ne_bytes(), &mut v).unwrap());
        assert_eq!(u64::from_ne_bytes(v), if k >= 9_995 { 77 } else { 0 }, "array[{k}]");
    }
    // The kernel takes no BPF_NOEXIST/BPF_EXIST in a batch: said so, nothing done.
    for f in [BPF_NOEXIST, BPF_EXIST] {
        let e = m.update_batch(&keys_of(30_000..30_004), &[0u8; 32], &BatchOptions { elem_flags: f, flags: 0 }).unwrap_err();
        assert_eq!((e.done, e.error.errno()), (0, libc::EINVAL));
        assert!(e.error.to_string().contains("only BPF_F_LOCK"), "{e}");
    }
    assert_eq!(count_keys(m), 11_995);
}

fn batch_refusals() {
    let o = loaded("batch.o");
    let m = o.map("hash").unwrap();
    // Keys not a whole number of keys, values too short: nothing done, nothing sent.
    let e = m.update_batch(&[0u8; 10], &[0u8; 16], &BatchOptions::default()).unwrap_err();
    assert_eq!((e.done, e.error.errno()), (0, libc::EINVAL));
    let e = m.update_batch(&keys_of(0..4), &[0u8; 31], &BatchOptions::default()).unwrap_err();
    assert_eq!((e.done, e.error.errno()), (0, libc::EINVAL));
    assert!(e.error.to_string().contains("values buffer is 31 bytes, 4 values of 8 bytes need 32"), "{e}");
    assert_eq!(count_keys(m), 0);
    // Element flags the kernel does not know: its EINVAL, with the command named.
    let e = m.update_batch(&keys_of(0..4), &[0u8; 32], &BatchOptions { elem_flags: 1 << 40, flags: 0 }).unwrap_err();
    assert_eq!((e.done, e.error.errno()), (0, libc::EINVAL));
    assert!(e.error.to_string().contains("BPF_MAP_UPDATE_BATCH"), "{e}");
    assert_eq!(count_keys(m), 0);
    // A prog array and a ring buffer: not batched, said with the map type.
    for (name, ty) in [("progs", "BPF_MAP_TYPE_PROG_ARRAY"), ("rb", "BPF_MAP_TYPE_RINGBUF")] {
        let m = o.map(name).unwrap();
        let mut cur = BatchCursor::new();
        let e = m.lookup_batch(&mut cur, &mut [0u8; 16], &mut [0u8; 16], &BatchOptions::default()).unwrap_err();
        assert!(matches!(e.error.errno(), libc::EOPNOTSUPP | libc::EINVAL), "{name}: {e}");
        assert!(e.error.to_string().contains(ty), "{name}: {e}");
        assert_eq!(e.done, 0);
    }
}
