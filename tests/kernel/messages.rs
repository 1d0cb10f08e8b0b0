//! Messages a user meets first: a mistyped section gets the nearest known
//! name, a pin into a missing directory says which directory, and the errno
//! is said once.
use crate::harness::{obj, Test};
use bpfl::{LoadOptions, Object, OpenOptions};

pub const TESTS: &[Test] = &[
    Test { name: "mistyped_section_gets_did_you_mean", needs_kernel: false, f: mistyped_section_gets_did_you_mean },
    Test { name: "pin_into_missing_directory_says_so", needs_kernel: true, f: pin_into_missing_directory_says_so },
    Test { name: "pins_and_pinned_lookups_in_a_missing_directory_say_so", needs_kernel: true, f: pins_and_pinned_lookups_in_a_missing_directory_say_so },
];

/// `bytes` with every `from` replaced by `to` (same length).
fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut n = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(n > 0, "nothing replaced");
    out
}

/// seed_tp.o with its sections renamed `tracepont//...` (section names and
/// the BTF.ext's copies alike): the load says which name was meant.
pub fn mistyped_section_gets_did_you_mean() {
    let data = std::fs::read(obj("seed_tp.o")).unwrap();
    let data = replace_all(&data, b"tracepoint/syscalls/sys_enter_getppid", b"tracepont//syscalls/sys_enter_getppid");
    let mut o = Object::open_mem(&data, &OpenOptions::default()).unwrap();
    let w = o.file().warnings.join("\n");
    assert!(w.contains("section 'tracepont//syscalls/sys_enter_getppid' is not a program type bpfl knows: did you mean 'tracepoint/'?"), "{w}");
    let e = o.load(&LoadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("program 'enter_getppid': section 'tracepont//syscalls/sys_enter_getppid' is not a program type bpfl knows: did you mean 'tracepoint/'?"), "{e}");
    assert!(!o.is_loaded());
}

/// A pin root that does not exist: the error names the directory, the
/// errno once, and what to do.
pub fn pin_into_missing_directory_says_so() {
    let root = format!("/sys/fs/bpf/bpfl-no-such-dir-{}", std::process::id());
    let _ = std::fs::remove_dir_all(&root);
    let mut o = Object::open_file(&obj("modern.o"), &OpenOptions { pin_root: Some(root.clone()), ..Default::default() }).unwrap();
    let e = o.load(&LoadOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.errno(), libc::ENOENT, "{msg}");
    assert!(msg.contains(&format!("pin at '{root}/pinned_counts'")), "{msg}");
    assert!(msg.contains(&format!("the directory '{root}' does not exist: create it (mkdir -p) or mount bpffs there")), "{msg}");
    assert_eq!(msg.matches("os error 2").count(), 1, "the errno once: {msg}");
    assert!(!std::path::Path::new(&root).exists());
}

/// The same hint for every pin and pinned lookup whose directory is
/// missing (Map::pin, Link::pin, Map/Link::open_pinned), and none when the
/// directory exists and only the file is missing.
pub fn pins_and_pinned_lookups_in_a_missing_directory_say_so() {
    let dir = format!("/sys/fs/bpf/bpfl-missing-{}", std::process::id());
    let _ = std::fs::remove_dir_all(&dir);
    let hint = format!("the directory '{dir}' does not exist: create it (mkdir -p) or mount bpffs there");
    let mut o = Object::open_file(&obj("seed_tp.o"), &OpenOptions::default()).unwrap();
    o.load(&LoadOptions::default()).unwrap();
    let link = o.program("enter_getppid").unwrap().attach().unwrap();
    let m = o.map("per_pid").unwrap();
    let check = |what: &str, e: bpfl::Error, errno: i32| {
        let msg = e.to_string();
        assert_eq!(e.errno(), errno, "{what}: {msg}");
        assert!(msg.ends_with(&format!("\n{hint}")), "{what}: {msg}");
        assert!(msg.matches("os error").count() <= 1, "{what}: the errno once: {msg}");
    };
    check("map pin", m.pin(&format!("{dir}/m")).unwrap_err(), libc::ENOENT);
    check("map open_pinned", bpfl::Map::open_pinned(&format!("{dir}/m")).unwrap_err(), libc::ENOENT);
    check("link open_pinned", bpfl::Link::open_pinned(&format!("{dir}/l")).unwrap_err(), libc::ENOENT);
    // A tracepoint link is a perf event on kernels without BPF links for it:
    // only a BPF link can be pinned.
    match link.pin(&format!("{dir}/l")) {
        Err(e) if e.errno() == libc::ENOENT => check("link pin", e, libc::ENOENT),
        Err(e) => assert!(e.to_string().contains("cannot be pinned"), "{e}"),
        Ok(()) => panic!("pinned into a missing directory"),
    }
    // The directory exists: no hint, the file is what is missing.
    let e = bpfl::Map::open_pinned("/sys/fs/bpf/bpfl-no-such-pin").unwrap_err().to_string();
    assert_eq!(e, "no pinned object at '/sys/fs/bpf/bpfl-no-such-pin'");
    assert!(!std::path::Path::new(&dir).exists());
}
