//! The kernel-wide listing (host::loaded): what this process loaded is found
//! by id and by name with the right type, walking the ids one by one as the
//! C ABI's bpfl_loaded_*_next_id does, and in the whole lists.
use crate::harness::{obj, Test};
use bpfl::host::loaded;
use bpfl::{LoadOptions, Object, OpenOptions};

pub const TESTS: &[Test] = &[
    Test { name: "loaded_listing_finds_our_program_map_and_link", needs_kernel: true, f: loaded_listing_finds_our_program_map_and_link },
    Test { name: "loaded_info_of_a_missing_id_is_not_found", needs_kernel: true, f: loaded_info_of_a_missing_id_is_not_found },
];

/// The `key:` number of /proc/self/fdinfo/FD (map_id, link_id).
fn fdinfo(fd: i32, key: &str) -> u32 {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    text.lines().find_map(|l| l.strip_prefix(key)?.trim().parse().ok()).unwrap_or_else(|| panic!("no {key} in fdinfo {fd}"))
}

/// Every id, walked with `next` from 0.
fn walk(next: fn(u32) -> bpfl::Result<Option<u32>>) -> Vec<u32> {
    let (mut ids, mut id) = (Vec::new(), 0);
    while let Some(n) = next(id).unwrap() {
        assert!(n > id, "ids grow");
        ids.push(n);
        id = n;
    }
    ids
}

const BPF_PROG_TYPE_TRACEPOINT: u32 = 5;
const BPF_MAP_TYPE_HASH: u32 = 1;
const BPF_LINK_TYPE_PERF_EVENT: u32 = 7;

pub fn loaded_listing_finds_our_program_map_and_link() {
    let mut o = Object::open_file(&obj("seed_tp.o"), &OpenOptions::default()).unwrap();
    o.load(&LoadOptions::default()).unwrap();
    let p = o.program("enter_getppid").unwrap();
    let link = p.attach().unwrap();
    let mine = p.kernel_info().unwrap();
    assert_eq!((mine.prog_type, mine.name.as_str()), (BPF_PROG_TYPE_TRACEPOINT, "enter_getppid"));
    assert!(mine.xlated_len > 0 && mine.tag.len() == 16 && mine.nr_map_ids >= 1, "{mine:?}");

    assert!(walk(loaded::program_next_id).contains(&mine.id));
    assert_eq!(loaded::program_info(mine.id).unwrap(), mine, "by id: the same record as kernel_info");
    let listed: Vec<_> = loaded::programs().unwrap().into_iter().filter(|x| x.id == mine.id).collect();
    assert_eq!(listed, vec![mine.clone()]);

    let m = o.map("per_pid").unwrap();
    let map_id = fdinfo(m.fd().unwrap(), "map_id:");
    assert!(walk(loaded::map_next_id).contains(&map_id));
    let lm = loaded::map_info(map_id).unwrap();
    assert_eq!((lm.id, lm.map_type, lm.name.as_str(), lm.key_size, lm.value_size, lm.max_entries), (map_id, BPF_MAP_TYPE_HASH, "per_pid", 4, 8, 1024));
    assert!(loaded::maps().unwrap().contains(&lm));

    // A tracepoint attaches through a perf event; 5.15+ makes a BPF link of it.
    let link_id = fdinfo(link.fd(), "link_id:");
    assert!(walk(loaded::link_next_id).contains(&link_id));
    let ll = loaded::link_info(link_id).unwrap();
    assert_eq!((ll.id, ll.link_type, ll.prog_id), (link_id, BPF_LINK_TYPE_PERF_EVENT, mine.id));
    assert!(loaded::links().unwrap().contains(&ll));
    drop(link);
    assert_eq!(loaded::link_info(link_id).unwrap_err().kind(), bpfl::ErrorKind::NotFound, "detached: gone");
}

pub fn loaded_info_of_a_missing_id_is_not_found() {
    // Ids only grow and are not reused soon: one past the last is free.
    let last = walk(loaded::program_next_id).last().copied().unwrap_or(0);
    let e = loaded::program_info(last + 1_000_000).unwrap_err();
    assert_eq!((e.kind(), e.errno()), (bpfl::ErrorKind::NotFound, libc::ENOENT));
    assert_eq!(e.to_string(), format!("no BPF program with id {} (it may have gone away)", last + 1_000_000));
    assert_eq!(loaded::map_next_id(u32::MAX).unwrap(), None, "no id past INT_MAX");
}
