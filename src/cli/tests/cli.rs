//! The bpfl command against the real kernel: what it lists and reads is
//! what this process loaded (matched by the ids the kernel gave us, since
//! other processes load the same objects at the same time).
use bpfl::{LoadOptions, Object, OpenOptions};
use std::process::Command;

fn bpf_dir() -> String {
    std::env::var("BPFL_BPF_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../build/bpf").into())
}

fn bpfl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bpfl")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// The `key:` value of /proc/self/fdinfo/FD (prog_id, link_id).
fn fdinfo(fd: i32, key: &str) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    text.lines().find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
}

fn kernel_or_skip(what: &str) -> bool {
    if let Err(e) = bpfl::host::bpf_available() {
        println!("SKIPPED: {what} (needs root and bpf(): {e})");
        return false;
    }
    true
}

#[test]
fn usage_and_exit_codes() {
    let (rc, out, _) = bpfl(&["--help"]);
    assert_eq!(rc, 0);
    assert!(out.contains("inspect OBJ") && out.contains("prog list"), "{out}");
    assert_eq!(bpfl(&["frobnicate"]).0, 2);
    assert_eq!(bpfl(&["map"]).0, 0, "bare `map` prints its help");
    let (rc, _, err) = bpfl(&["inspect", "/nonexistent.o"]);
    assert_eq!(rc, 1);
    assert_eq!(err.trim(), "bpfl: cannot read '/nonexistent.o': No such file or directory (os error 2)");
    let (rc, out, _) = bpfl(&["inspect", &format!("{}/seed_tp.o", bpf_dir())]);
    assert_eq!(rc, 0);
    assert!(out.contains("enter_getppid") && out.contains("per_pid") && out.contains("BPF_MAP_TYPE_HASH key 4 value 8 max_entries 1024"), "{out}");
}

#[test]
fn prog_and_link_list_show_what_we_loaded() {
    if !kernel_or_skip("bpfl prog list / link list") {
        return;
    }
    let mut o = Object::open_file(&format!("{}/seed_tp.o", bpf_dir()), &OpenOptions::default()).unwrap();
    o.load(&LoadOptions::default()).unwrap();
    let (links, errs) = o.attach_all();
    assert!(errs.is_empty() && links.len() == 2);
    let (rc, out, err) = bpfl(&["prog", "list"]);
    assert_eq!(rc, 0, "{err}");
    for p in o.programs() {
        let id = fdinfo(p.fd().unwrap(), "prog_id:").unwrap();
        let line = out.lines().find(|l| l.split_whitespace().next() == Some(&id.to_string())).unwrap_or_else(|| panic!("id {id} not in\n{out}"));
        assert!(line.contains("BPF_PROG_TYPE_TRACEPOINT") && line.contains(p.name()), "{line}");
    }
    let (rc, out, err) = bpfl(&["link", "list"]);
    assert_eq!(rc, 0, "{err}");
    for (_, l) in &links {
        // Tracepoints attach through a perf event; a kernel that makes a BPF link of it lists it.
        if let Some(id) = fdinfo(l.fd(), "link_id:") {
            let line = out.lines().find(|x| x.split_whitespace().next() == Some(&id.to_string())).unwrap_or_else(|| panic!("link {id} not in\n{out}"));
            assert!(line.contains("getppid"), "{line}");
        }
    }
}

#[test]
fn map_commands_on_a_pinned_map() {
    if !kernel_or_skip("bpfl map") {
        return;
    }
    let root = format!("/sys/fs/bpf/bpfl-cli-test-{}", std::process::id());
    std::fs::create_dir_all(&root).unwrap();
    let mut o = Object::open_file(&format!("{}/modern.o", bpf_dir()), &OpenOptions { pin_root: Some(root.clone()), ..Default::default() }).unwrap();
    o.load(&LoadOptions::default()).unwrap();
    let m = o.map("pinned_counts").unwrap();
    m.update(&7u32.to_ne_bytes(), &42u64.to_ne_bytes(), 0).unwrap();
    let pin = format!("{root}/pinned_counts");
    let (rc, out, err) = bpfl(&["map", "lookup", &pin, "07000000"]);
    assert_eq!((rc, out.trim()), (0, "42"), "rendered through the map's BTF (__u64): {err}");
    let (rc, out, err) = bpfl(&["map", "lookup", &pin, "07000000", "--hex"]);
    assert_eq!((rc, out.trim()), (0, "2a00000000000000"), "{err}");
    assert_eq!(bpfl(&["map", "update", &pin, "09000000", "0500000000000000"]).0, 0);
    let mut v = [0u8; 8];
    assert!(m.lookup(&9u32.to_ne_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_ne_bytes(v), 5, "the kernel holds what bpfl map update wrote");
    let (rc, out, _) = bpfl(&["map", "dump", &pin, "--hex"]);
    assert_eq!(rc, 0);
    assert!(out.contains("key 07000000 value 2a00000000000000") && out.contains("key 09000000 value 0500000000000000") && out.ends_with("2 entries\n"), "{out}");
    let (rc, out, _) = bpfl(&["map", "dump", &pin]);
    assert_eq!(rc, 0);
    assert!(out.contains("key 7 value 42\n") && out.contains("key 9 value 5\n") && out.ends_with("2 entries\n"), "{out}");
    // A per-CPU array: one value per possible CPU, each as its BTF type.
    let pc = o.map("percpu").unwrap();
    let ncpu = pc.value_buf_size() / 8;
    let vals: Vec<u8> = (0..ncpu as u64).flat_map(|i| (100 + i).to_ne_bytes()).collect();
    pc.update(&0u32.to_ne_bytes(), &vals, 0).unwrap();
    let pc_pin = format!("{root}/percpu");
    pc.pin(&pc_pin).unwrap();
    let (rc, out, err) = bpfl(&["map", "dump", &pc_pin]);
    let want: Vec<String> = (0..ncpu as u64).map(|i| (100 + i).to_string()).collect();
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains(&format!("key 0 value per-CPU [{}]\n", want.join(", "))), "{out}");
    let _ = std::fs::remove_file(&pc_pin);
    assert_eq!(bpfl(&["map", "delete", &pin, "07000000"]).0, 0);
    assert!(!m.lookup(&7u32.to_ne_bytes(), &mut v).unwrap(), "deleted in the kernel");
    let (rc, _, err) = bpfl(&["map", "delete", &pin, "07000000"]);
    assert_eq!(rc, 1);
    assert!(err.contains("no key 07000000"), "{err}");
    let (rc, _, err) = bpfl(&["map", "lookup", &pin, "0700"]);
    assert_eq!(rc, 2, "a short key is a usage error: {err}");
    drop(o);
    let _ = std::fs::remove_file(&pin);
    let _ = std::fs::remove_dir(&root);
}

#[test]
fn check_gives_verdicts_and_gates_on_failure() {
    if !kernel_or_skip("bpfl check") {
        return;
    }
    let d = bpf_dir();
    let (rc, out, err) = bpfl(&["check", &format!("{d}/seed_tp.o"), &format!("{d}/modern.o")]);
    assert_eq!(rc, 0, "{out}{err}");
    for p in ["enter_getppid", "exit_getppid", "on_getpid", "on_gettid", "on_sys_enter"] {
        let line = out.lines().find(|l| l.split_whitespace().nth(1) == Some(p)).unwrap_or_else(|| panic!("{p} not in\n{out}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[2], "ok", "{line}");
        // processed and states come from the verifier's statistics line.
        assert!(cols[4].parse::<u64>().unwrap() > 0 && cols[5].parse::<u64>().is_ok(), "{line}");
    }
    assert!(!std::path::Path::new(&format!("/sys/fs/bpf/bpfl-check-{}", std::process::id())).exists());
    let (rc, out, _) = bpfl(&["check", "--json", &format!("{d}/seed_tp.o"), &format!("{d}/bad_verifier.o")]);
    assert_eq!(rc, 1, "a refused program fails the run: {out}");
    assert!(out.starts_with('[') && out.trim_end().ends_with(']'), "{out}");
    assert_eq!(out.matches("\"verdict\":\"ok\"").count(), 2, "{out}");
    assert!(out.contains("\"program\":\"deref_without_check\"") && out.contains("\"verdict\":\"fail\""), "{out}");
    assert!(out.contains("invalid mem access 'map_value_or_null'") && out.contains("bad_verifier.bpf.c:17"), "the reason and the C line: {out}");
    assert_eq!(bpfl(&["check"]).0, 2);
}
