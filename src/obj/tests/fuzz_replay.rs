//! Replays the fuzz corpus (`tests/fuzz/corpus/TARGET/`) and every input
//! that once crashed a target (`tests/fuzz/regressions/TARGET/`) through the
//! targets' bodies (`bpfl_obj::fuzz`), on stable Rust with no fuzzing time:
//! a past crash comes back as a failed test.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz")
}

/// Runs `body` on every file under `dir` (none when `dir` is absent);
/// returns how many.
fn replay(dir: &Path, body: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let r = std::panic::catch_unwind(|| body(&data));
        assert!(r.is_ok(), "{} crashed the target again", f.display());
    }
    files.len()
}

fn target(name: &str, body: fn(&[u8])) {
    let d = fuzz_dir();
    let corpus = replay(&d.join("corpus").join(name), body);
    let crashes = replay(&d.join("regressions").join(name), body);
    assert!(corpus > 0, "no corpus for fuzz target '{name}' in {}", d.join("corpus").display());
    println!("fuzz target '{name}': {corpus} corpus inputs and {crashes} past crashes replayed");
}

#[test]
fn object() {
    target("object", bpfl_obj::fuzz::object);
}

#[test]
fn btf() {
    target("btf", bpfl_obj::fuzz::btf);
}

#[test]
fn btf_ext() {
    target("btf_ext", bpfl_obj::fuzz::btf_ext);
}
