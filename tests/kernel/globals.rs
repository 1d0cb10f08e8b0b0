//! Issue 13: global variables and mmapable arrays read and written in
//! place, with no syscall: the pointer find_variable gives before load is
//! the one that reaches the live map after it; .rodata set through it
//! filters what the program counts; failed loads, reused maps and misuse.

use crate::harness::{obj, Test};
use crate::{pin_root, tgid};
use bpfl::{ErrorKind, LoadOptions, Object, OpenOptions};

pub const TESTS: &[Test] = &[
    Test { name: "globals_read_and_written_in_place", needs_kernel: true, f: globals_read_and_written_in_place },
    Test { name: "globals_misuse_and_failed_load", needs_kernel: true, f: globals_misuse_and_failed_load },
    Test { name: "globals_pinned_and_reused_data_maps", needs_kernel: true, f: globals_pinned_and_reused_data_maps },
];

fn getppid() {
    unsafe { libc::syscall(libc::SYS_getppid) };
}

fn open() -> Object {
    Object::open_file(&obj("globals_mmap.o"), &OpenOptions::default()).unwrap()
}

/// A child process calls getppid `n` times: not ours, so not counted.
fn getppid_in_child(n: usize) {
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            for _ in 0..n {
                libc::syscall(libc::SYS_getppid);
            }
            libc::_exit(0);
        }
        let mut st = 0;
        assert_eq!(libc::waitpid(pid, &mut st, 0), pid);
    }
}

fn u64_by_lookup(o: &Object, map: &str, offset: usize) -> u64 {
    let m = o.map(map).unwrap();
    let mut v = vec![0u8; m.value_size() as usize];
    assert!(m.lookup(&0u32.to_le_bytes(), &mut v).unwrap());
    u64::from_le_bytes(v[offset..offset + 8].try_into().unwrap())
}

pub fn globals_read_and_written_in_place() {
    let mut o = open();
    let (tgid_p, in_p, hits_p);
    {
        let t = o.find_variable("target_tgid").unwrap();
        assert_eq!((t.len(), t.get::<u32>().unwrap(), t.is_writable()), (4, 0, true));
        t.set(tgid()).unwrap();
        let v = o.find_variable("value_in").unwrap();
        assert_eq!(v.get::<u64>().unwrap(), 0x1111, "the initial value from the ELF");
        v.set(42u64).unwrap();
        let h = o.find_variable("hits").unwrap();
        assert_eq!(h.get::<u64>().unwrap(), 0);
        let e = o.find_variable("extra").unwrap();
        assert_eq!(e.get::<[u32; 4]>().unwrap(), [1, 2, 3, 4], ".data.extra");
        e.set_at(12, 10u32).unwrap();
        (tgid_p, in_p, hits_p) = (t.as_ptr(), v.as_ptr(), h.as_ptr());
        assert_eq!(o.find_variable("value_in").unwrap().as_ptr(), in_p, "stable before load");
    }
    o.load(&LoadOptions::default()).unwrap();

    // The same addresses, now the live maps.
    let t = o.find_variable("target_tgid").unwrap();
    let v = o.find_variable("value_in").unwrap();
    let h = o.find_variable("hits").unwrap();
    let out = o.find_variable("value_out").unwrap();
    let sum = o.find_variable("extra_sum").unwrap();
    assert_eq!((t.as_ptr(), v.as_ptr(), h.as_ptr()), (tgid_p, in_p, hits_p));
    assert_eq!(t.get::<u32>().unwrap(), tgid());
    assert!(!t.is_writable(), ".rodata is read-only after load");
    assert_eq!(t.set(1u32).unwrap_err().errno(), libc::EPERM);
    assert_eq!(v.get::<u64>().unwrap(), 42, "the image's value became the map's");
    assert_eq!(u64_by_lookup(&o, ".data", 0), 42, "the kernel's map holds it");

    let _link = o.program("count_getppid").unwrap().attach().unwrap();
    getppid_in_child(5);
    const N: u64 = 1000;
    for _ in 0..N {
        getppid();
    }
    assert_eq!(h.get::<u64>().unwrap(), N, "the .rodata filter kept the child's 5 calls out");
    assert_eq!(out.get::<u64>().unwrap(), 42);
    assert_eq!(sum.get::<u32>().unwrap(), 1 + 2 + 3 + 10);
    assert_eq!(u64_by_lookup(&o, ".bss", 0), N, "what the pointer read is the map");

    v.set(7u64).unwrap();
    assert_eq!(u64_by_lookup(&o, ".data", 0), 7, "a write through the pointer reaches the map");
    getppid();
    assert_eq!(out.get::<u64>().unwrap(), 7, "the program copied the value written through the pointer");
    assert_eq!(h.atomic_u64(0).unwrap().load(std::sync::atomic::Ordering::Relaxed), N + 1);

    // The mmapable array: slot 1 counts, slot 2 holds value_in * 2.
    let counts = o.map("counts").unwrap();
    let mm = counts.mmap().unwrap();
    assert_eq!(mm.len(), 8 * 8);
    assert_eq!((mm.get_at::<u64>(8).unwrap(), mm.get_at::<u64>(16).unwrap()), (N + 1, 14));
    mm.set_at(5 * 8, 0xabcdu64).unwrap();
    let mut val = [0u8; 8];
    assert!(counts.lookup(&5u32.to_le_bytes(), &mut val).unwrap());
    assert_eq!(u64::from_le_bytes(val), 0xabcd, "a write through the mapping is the map's");
    assert_eq!(counts.mmap().unwrap().as_ptr(), mm.as_ptr(), "one mapping per map");
    // The .bss map through Map::mmap is the variable's mapping.
    let bss = o.map(".bss").unwrap().mmap().unwrap();
    assert_eq!(bss.as_ptr(), hits_p);
    assert_eq!(bss.len(), 24, "round_up(20, 8) * 1");
}

pub fn globals_misuse_and_failed_load() {
    let mut o = open();
    let e = o.find_variable("nope").unwrap_err();
    assert_eq!((e.kind(), e.errno()), (ErrorKind::NotFound, libc::ENOENT));
    assert!(e.to_string().contains("'nope'") && e.to_string().contains("'globals_mmap'"), "{e}");
    let e = o.map("counts").unwrap().mmap().unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("not created yet"), "{e}");
    let p = {
        let v = o.find_variable("value_in").unwrap();
        v.set(99u64).unwrap();
        assert_eq!(v.get::<u32>().unwrap_err().errno(), libc::EINVAL, "size checked");
        assert_eq!(v.get_at::<u64>(4).unwrap_err().errno(), libc::EINVAL, "bounds checked");
        v.as_ptr()
    };
    let e = o.map(".data").unwrap().set_value_size(64).unwrap_err();
    assert_eq!(e.errno(), libc::EBUSY, "{e}");
    // set_rodata writes the image find_variable handed out.
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    assert_eq!(o.find_variable("target_tgid").unwrap().get::<u32>().unwrap(), tgid());

    // A failed load leaves the image as it was, at the same address.
    o.map("plain").unwrap().set_max_entries(0).unwrap();
    assert!(o.load(&LoadOptions::default()).is_err());
    let v = o.find_variable("value_in").unwrap();
    assert_eq!((v.as_ptr(), v.get::<u64>().unwrap()), (p, 99));
    v.set(100u64).unwrap();
    o.map("plain").unwrap().set_max_entries(2).unwrap();
    o.load(&LoadOptions::default()).unwrap();
    let v = o.find_variable("value_in").unwrap();
    assert_eq!((v.as_ptr(), v.get::<u64>().unwrap()), (p, 100));
    assert_eq!(u64_by_lookup(&o, ".data", 0), 100);

    let e = o.map("plain").unwrap().mmap().unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("map 'plain' cannot be mmap'd") && e.to_string().contains("BPF_F_MMAPABLE"), "{e}");
    let e = o.find_variable("nope").unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT);

    // A data map left out of the load: its image is revoked, and find_variable says why.
    let mut o = open();
    let _ = o.find_variable("hits").unwrap();
    o.program("count_getppid").unwrap().set_autoload(false).unwrap();
    o.map(".bss").unwrap().set_autocreate(false).unwrap();
    o.load(&LoadOptions::default()).unwrap();
    let e = o.find_variable("hits").unwrap_err();
    assert_eq!(e.errno(), libc::EOPNOTSUPP);
    assert!(e.to_string().contains("autocreate is off") && e.to_string().contains("revoked"), "{e}");
    assert_eq!(o.find_variable("value_in").unwrap().get::<u64>().unwrap(), 0x1111, ".data was created and mapped");
}

/// A pinned .data map reused by a second object: its pointer reaches the
/// same map. A reused map made without BPF_F_MMAPABLE: the pointer given
/// before load is revoked and find_variable says why (EOPNOTSUPP).
pub fn globals_pinned_and_reused_data_maps() {
    let dir = format!("{}/globals", pin_root());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (mm_pin, plain_pin) = (format!("{dir}/data_mm"), format!("{dir}/data_plain"));

    let mut a = open();
    a.map(".data").unwrap().set_pin_path(&mm_pin).unwrap();
    a.load(&LoadOptions::default()).unwrap();
    a.find_variable("value_in").unwrap().set(5u64).unwrap();
    let mut b = open();
    b.map(".data").unwrap().set_pin_path(&mm_pin).unwrap();
    let before = b.find_variable("value_in").unwrap().as_ptr();
    b.load(&LoadOptions::default()).unwrap();
    let bv = b.find_variable("value_in").unwrap();
    assert_eq!((bv.as_ptr(), bv.get::<u64>().unwrap()), (before, 5), "the reused map, at the same address");
    bv.set(6u64).unwrap();
    assert_eq!(a.find_variable("value_in").unwrap().get::<u64>().unwrap(), 6, "one map, two objects");

    let mut c = open();
    let data = c.map(".data").unwrap();
    data.set_map_flags(data.map_flags() & !(1 << 10)).unwrap();
    data.set_pin_path(&plain_pin).unwrap();
    c.load(&LoadOptions::default()).unwrap();
    let e = c.find_variable("value_in").unwrap_err();
    assert_eq!((e.kind(), e.errno()), (ErrorKind::Unsupported, libc::EOPNOTSUPP));
    assert!(e.to_string().contains("created without BPF_F_MMAPABLE"), "{e}");
    let mut d = open();
    d.map(".data").unwrap().set_pin_path(&plain_pin).unwrap();
    let _ = d.find_variable("value_in").unwrap();
    d.load(&LoadOptions::default()).unwrap();
    let e = d.find_variable("value_in").unwrap_err();
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    assert!(e.to_string().contains("revoked"), "{e}");
    assert_eq!(d.map(".data").unwrap().mmap().unwrap_err().errno(), libc::EINVAL);
    // .bss of the same object was not reused: still mapped.
    assert_eq!(d.find_variable("hits").unwrap().get::<u64>().unwrap(), 0);
    drop((a, b, c, d));
    let _ = std::fs::remove_dir_all(&dir);
}
