//! Messages a user meets first: a mistyped section gets the nearest known
//! name, a pin into a missing directory says which directory, and the errno
//! is said once.
use crate::harness::{obj, Test};
use bpfl::{LoadOptions, Object, OpenOptions};

pub const TESTS: &[Test] = &[
    Test { name: "mistyped_section_gets_did_you_mean", needs_kernel: false, f: mistyped_section_gets_did_you_mean },
    Test { name: "pin_into_missing_directory_says_so", needs_kernel: true, f: pin_into_missing_directory_says_so },
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
