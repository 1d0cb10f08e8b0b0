//! Hostile input on the real kernel (issue 15): object files, map names,
//! special files and pinned objects that are not what they claim.

use super::{loaded, pin_root, tgid};
use bpfl::{ErrorKind, Object, OpenOptions};
use std::time::{Duration, Instant};

/// Runs `f` on a thread and fails (instead of hanging the suite) when it
/// has not returned within 10 s: what these tests check is that nothing blocks.
fn within_10s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("{what}: still blocked after 10 s"))
}

/// Replaces every NUL-delimited occurrence of `from` (in `.strtab` and the
/// BTF strings alike) with `to`, of the same length.
fn rename_everywhere(data: &mut [u8], from: &str, to: &str) -> usize {
    assert_eq!(from.len(), to.len());
    let needle: Vec<u8> = [&[0u8][..], from.as_bytes(), &[0]].concat();
    let mut n = 0;
    let mut i = 0;
    while i + needle.len() <= data.len() {
        if data[i..i + needle.len()] == needle[..] {
            data[i + 1..i + 1 + to.len()].copy_from_slice(to.as_bytes());
            n += 1;
        }
        i += 1;
    }
    n
}

/// Issue 15, item 2: a LIBBPF_PIN_BY_NAME map named `../pinned_cnt` must
/// not be pinned (or reused) beside the pin root.
pub fn pin_by_name_cannot_escape_the_pin_root() {
    let root = format!("{}/escape", pin_root());
    std::fs::create_dir_all(&root).unwrap();
    let good = std::fs::read(super::obj("modern.o")).unwrap();
    // A same-length legal name: the patch itself is sound, it loads and pins under the root.
    let mut ok = good.clone();
    assert!(rename_everywhere(&mut ok, "pinned_counts", "pinned_cnt_xy") >= 2, "the name is in .strtab and .BTF");
    let opts = OpenOptions { pin_root: Some(root.clone()), ..Default::default() };
    let mut o = Object::open_mem(&ok, &opts).unwrap();
    o.load(&Default::default()).unwrap();
    assert!(std::path::Path::new(&format!("{root}/pinned_cnt_xy")).exists(), "pinned under the root");
    drop(o);
    std::fs::remove_file(format!("{root}/pinned_cnt_xy")).unwrap();
    // The hostile name: refused at open, with the reason; nothing pinned outside.
    let mut bad = good;
    rename_everywhere(&mut bad, "pinned_counts", "../pinned_cnt");
    let e = Object::open_mem(&bad, &opts).err().expect("a map named '../pinned_cnt' with pinning by name must be refused");
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert!(e.to_string().contains("map '../pinned_cnt'") && e.to_string().contains("plain file name"), "{e}");
    assert!(!std::path::Path::new(&format!("{}/pinned_cnt", pin_root())).exists(), "pinned outside the pin root");
    // A root spelled with '..' and '.' is normalised, and the pin stays in it.
    let mut o = Object::open_mem(&ok, &OpenOptions { pin_root: Some(format!("{root}/../escape/./")), ..Default::default() }).unwrap();
    o.load(&Default::default()).unwrap();
    assert!(std::path::Path::new(&format!("{root}/pinned_cnt_xy")).exists());
    drop(o);
    let _ = std::fs::remove_file(format!("{root}/pinned_cnt_xy"));
    let _ = std::fs::remove_dir(&root);
}

/// A temporary directory with a FIFO in it, removed on drop.
struct Specials {
    dir: String,
}
impl Specials {
    fn new() -> Specials {
        let dir = format!("/tmp/bpfl-specials-{}", tgid());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(format!("{dir}/a_dir")).unwrap();
        let fifo = std::ffi::CString::new(format!("{dir}/fifo")).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
        Specials { dir }
    }
    /// (path, what the error must say).
    fn cases(&self) -> Vec<(String, &'static str)> {
        vec![
            ("/dev/zero".to_string(), "is a character device, not a regular file"),
            (format!("{}/fifo", self.dir), "is a FIFO, not a regular file"),
            (format!("{}/a_dir", self.dir), "is a directory, not a regular file"),
        ]
    }
}
impl Drop for Specials {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Issue 15, item 3: objects and uprobe binaries that are special files are
/// refused at once, with what they are (not read forever, not blocked on).
pub fn special_files_are_refused_not_read() {
    let sp = Specials::new();
    for (path, says) in sp.cases() {
        let p = path.clone();
        let t0 = Instant::now();
        let r = within_10s(&format!("open_file('{path}')"), move || Object::open_file(&p, &OpenOptions::default()).err().map(|e| (e.kind(), e.to_string())));
        let (kind, msg) = r.unwrap_or_else(|| panic!("open_file('{path}') succeeded"));
        assert_eq!(kind, ErrorKind::InvalidArgument, "{msg}");
        assert!(msg.contains(says) && msg.contains(&path), "{msg}");
        assert!(t0.elapsed() < Duration::from_secs(2), "{path}: took {:?}", t0.elapsed());
    }
    // uprobes: through the API, on every kind of special file.
    let o = std::sync::Arc::new(loaded("uprobe.o"));
    for (path, says) in sp.cases() {
        let (o, p) = (o.clone(), path.clone());
        let r = within_10s(&format!("attach_uprobe('{path}')"), move || {
            o.program("on_call").unwrap().attach_uprobe(&p, Some("main"), &Default::default()).err().map(|e| (e.kind(), e.to_string()))
        });
        let (kind, msg) = r.unwrap_or_else(|| panic!("attach_uprobe('{path}') succeeded"));
        assert_eq!(kind, ErrorKind::InvalidArgument, "{msg}");
        assert!(msg.contains(says), "{msg}");
    }
    // ... and through a section name: `uprobe//dev/zero:main`.
    let h = loaded("hostile_uprobe.o");
    let (links, errors) = within_10s("attach_all of uprobe//dev/zero:main", move || {
        let (l, e) = h.attach_all();
        (l.len(), e.iter().map(|(n, e)| format!("{n}: {e}")).collect::<Vec<_>>())
    });
    assert_eq!(links, 0);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("'/dev/zero' is a character device, not a regular file"), "{errors:?}");
}

/// `bpf(BPF_OBJ_PIN)` of any fd: the test pins a program, which bpfl's API
/// does not do.
fn obj_pin(fd: i32, path: &str) {
    let c = std::ffi::CString::new(path).unwrap();
    #[repr(C)]
    struct Attr {
        pathname: u64,
        bpf_fd: u32,
        file_flags: u32,
        path_fd: i32,
        pad: [u32; 5],
    }
    let attr = Attr { pathname: c.as_ptr() as u64, bpf_fd: fd as u32, file_flags: 0, path_fd: 0, pad: [0; 5] };
    const BPF_OBJ_PIN: i64 = 6;
    let rc = unsafe { libc::syscall(libc::SYS_bpf, BPF_OBJ_PIN, &attr as *const Attr, std::mem::size_of::<Attr>()) };
    assert_eq!(rc, 0, "BPF_OBJ_PIN {path}: {}", std::io::Error::last_os_error());
}

/// Issue 15, item 6: a pinned program opened as a map is refused, not read
/// as a map (its program info taken for map info).
pub fn open_pinned_refuses_a_program() {
    let o = loaded("uprobe.o");
    let path = format!("{}/a_program", pin_root());
    let _ = std::fs::remove_file(&path);
    obj_pin(o.program("on_call").unwrap().fd().unwrap(), &path);
    let r = bpfl::Map::open_pinned(&path);
    std::fs::remove_file(&path).unwrap();
    let e = r.err().expect("a pinned program opened as a map must be refused");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains(&format!("'{path}' is pinned, but it is a program, not a map")), "{e}");
    // A real map pinned there is still opened.
    o.map("stats").unwrap().pin(&path).unwrap();
    let m = bpfl::Map::open_pinned(&path).unwrap();
    assert_eq!((m.key_size(), m.value_size(), m.max_entries()), (4, 8, 4));
    std::fs::remove_file(&path).unwrap();
}
