//! Issue 10, the loader's internals: legacy `maps` sections linked from
//! several files, static initial values of `.maps` (prog-array and
//! map-in-map slots), BTF fix-ups before the kernel sees the BTF, and
//! TYPE_MATCHES CO-RE relocations.

use super::{getppid, open, tgid, u64_at};
use crate::harness::Test;

pub const TESTS: &[Test] = &[
    Test { name: "legacy_maps_linked_from_two_files", needs_kernel: true, f: legacy_maps_linked_from_two_files },
];

/// `bpftool gen object` joined a 28-byte and a 20-byte definition into one
/// `maps` section: each symbol's st_size says where its definition ends.
fn legacy_maps_linked_from_two_files() {
    let mut o = open("legacy_linked.o");
    let a = o.map("counts_a").expect("counts_a");
    assert_eq!((a.map_type(), a.key_size(), a.value_size(), a.max_entries()), (2, 4, 8, 4), "counts_a: ARRAY 4/8/4");
    let b = o.map("counts_b").expect("counts_b");
    assert_eq!((b.map_type(), b.key_size(), b.value_size(), b.max_entries()), (1, 4, 8, 64), "counts_b: HASH 4/8/64");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load legacy_linked.o: {e}"));
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(links.len(), 2);
    for _ in 0..7 {
        getppid();
    }
    drop(links);
    assert_eq!(u64_at(o.map("counts_a").unwrap(), &2u32.to_le_bytes()), Some(7), "counts_a[2]: enter getppid from this process");
    assert_eq!(u64_at(o.map("counts_b").unwrap(), &tgid().to_le_bytes()), Some(7), "counts_b[tgid]: exit getppid");
}
