//! The pure crate does no I/O: no file, socket or process, and no libc. The
//! lack of any dependency already keeps libc and `sys` out; this test keeps
//! the standard library's I/O out of every source file of the crate (this
//! directory, the tests, is exempt: tests may read files).

use std::path::{Path, PathBuf};

const FORBIDDEN: &[&str] = &["std::fs", "std::net", "std::process", "libc", "File::"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "tests" && n != "target") {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_source_file_does_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(root, &mut files);
    assert!(files.iter().any(|f| f.ends_with("lib.rs")), "no sources found under {}", root.display());
    let mut hits = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            for w in FORBIDDEN {
                if line.contains(w) {
                    hits.push(format!("{}:{}: {w}", f.strip_prefix(root).unwrap().display(), n + 1));
                }
            }
        }
    }
    assert!(hits.is_empty(), "the pure crate must not do I/O:\n{}", hits.join("\n"));
}
