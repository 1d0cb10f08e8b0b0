//! `bpfl gen skeleton` as a user runs it: arguments, errors, where the code
//! goes. (The layouts are unit-tested in src/cli/gen/tests.rs; the generated
//! code is compiled and run against the kernel by `make test-skel`.)
use std::process::Command;

fn obj(name: &str) -> String {
    let dir = std::env::var("BPFL_BPF_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../build/bpf").into());
    format!("{dir}/{name}")
}

fn bpfl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bpfl")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn usage_errors_exit_2_and_say_what() {
    let o = obj("skel_count.o");
    let (rc, _, err) = bpfl(&["gen", "skeleton", &o]);
    assert_eq!(rc, 2);
    assert!(err.contains("skeleton needs --lang c|cpp|go|nim"), "{err}");
    let (rc, _, err) = bpfl(&["gen", "skeleton", &o, "--lang", "rust"]);
    assert_eq!(rc, 2);
    assert!(err.contains("unknown language 'rust' (c, cpp, go, nim)"), "{err}");
    let (rc, _, err) = bpfl(&["gen", "header", &o]);
    assert_eq!(rc, 2);
    assert!(err.contains("unknown generator 'header'"), "{err}");
    let (rc, _, err) = bpfl(&["gen", "skeleton", &o, "--lang"]);
    assert_eq!(rc, 2);
    assert!(err.contains("--lang needs a value"), "{err}");
    let (rc, out, _) = bpfl(&["gen", "--help"]);
    assert_eq!(rc, 0);
    assert!(out.contains("--event TYPE") && out.contains("docs/skeletons.md"), "{out}");
    let (rc, out, _) = bpfl(&["--help"]);
    assert_eq!(rc, 0);
    assert!(out.contains("gen skeleton OBJ"), "{out}");
}

#[test]
fn errors_name_the_object_and_the_type() {
    let (rc, _, err) = bpfl(&["gen", "skeleton", "/nonexistent.o", "--lang", "c"]);
    assert_eq!(rc, 1);
    assert_eq!(err.trim(), "bpfl: cannot read '/nonexistent.o': No such file or directory (os error 2)");
    let o = obj("skel_count.o");
    let (rc, _, err) = bpfl(&["gen", "skeleton", &o, "--lang", "c", "--event", "no_such_type"]);
    assert_eq!(rc, 1);
    assert!(err.contains("--event no_such_type: the object's BTF has no struct, union or typedef of that name"), "{err}");
}

#[test]
fn writes_each_language_deterministically() {
    let o = obj("skel_count.o");
    let dir = std::env::temp_dir().join(format!("bpfl-gen-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let elf = std::fs::read(&o).unwrap();
    for (lang, marks) in [
        ("c", &["struct skel_count {", "skel_count__open(void)", "skel_count__destroy", "_Static_assert(sizeof(struct event) == 56", "typedef struct counter skel_count__counts__value_t;"][..]),
        ("cpp", &["namespace skel_count {", "class skel {", "static_assert(sizeof(struct event) == 56", "using counts_value = struct counter;"][..]),
        ("go", &["package main\n", "type SkelCount struct {", "func OpenSkelCount(", "[unsafe.Sizeof(SkelCountEvent{}) - 56]struct{}{}", "func (u *SkelCountEventU) Total() *uint64"][..]),
        ("nim", &["proc openSkelCount*(", "EventU* {.union.} = object", "doAssert sizeof(Event) == 56"][..]),
    ] {
        let path = dir.join(format!("out.{lang}"));
        let (rc, out, err) = bpfl(&["gen", "skeleton", &o, "--lang", lang, "-o", path.to_str().unwrap()]);
        assert_eq!((rc, out.as_str()), (0, ""), "{lang}: {err}");
        let text = std::fs::read_to_string(&path).unwrap();
        for m in marks {
            assert!(text.contains(m), "{lang}: no {m:?}");
        }
        let (_, again, _) = bpfl(&["gen", "skeleton", &o, "--lang", lang]);
        assert_eq!(again, text, "{lang}: stdout and -o differ, or the output is not deterministic");
        // The object is embedded whole: its first bytes and its length.
        let n = elf.len().to_string();
        assert!(text.contains(&n) || lang == "go" || lang == "nim", "{lang}: no length {n}");
        assert!(text.contains("0x7f,0x45,0x4c,0x46") || text.contains("\\x7f\\x45\\x4c\\x46"), "{lang}: no ELF magic");
    }
    let (rc, out, _) = bpfl(&["gen", "skeleton", &o, "--lang", "go", "--name", "other", "--package", "probes"]);
    assert_eq!(rc, 0);
    assert!(out.contains("package probes\n") && out.contains("func OpenOther(") && out.contains("o.Name = \"other\""), "--name/--package");
    let _ = std::fs::remove_dir_all(&dir);
}
