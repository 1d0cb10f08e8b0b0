//! A small test harness for kernel tests: each test is run, its panic caught,
//! and the outcome printed as PASS, FAIL or SKIPPED. Tests that need root and
//! bpf() are SKIPPED (loudly, never counted as passed) where those are missing.
//! Closes with the plain line `N passed, N failed, N skipped`.

use std::panic::{catch_unwind, AssertUnwindSafe};

#[derive(Clone, Copy)]
pub struct Test {
    pub name: &'static str,
    pub needs_kernel: bool,
    pub f: fn(),
}

pub fn run(tests: &[Test]) -> ! {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let kernel = bpfl::host::bpf_available();
    if let Err(e) = &kernel {
        println!("\n************************************************************");
        println!("SKIPPED: kernel tests need root and bpf(): {e}");
        println!("************************************************************\n");
    }
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    let mut failed = Vec::new();
    for t in tests {
        if !filter.is_empty() && !filter.iter().any(|f| t.name.contains(f.as_str())) {
            continue;
        }
        if t.needs_kernel && kernel.is_err() {
            println!("SKIPPED {} (no root/bpf())", t.name);
            skip += 1;
            continue;
        }
        let start = std::time::Instant::now();
        match catch_unwind(AssertUnwindSafe(t.f)) {
            Ok(()) => {
                println!("PASS    {} ({} ms)", t.name, start.elapsed().as_millis());
                pass += 1;
            }
            Err(p) => {
                let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                println!("FAIL    {}: {msg}", t.name);
                fail += 1;
                failed.push(t.name);
            }
        }
    }
    if !failed.is_empty() {
        println!("\nfailed: {}", failed.join(", "));
    }
    println!("\n{pass} passed, {fail} failed, {skip} skipped");
    std::process::exit(if fail > 0 { 1 } else { 0 })
}

/// Directory of the compiled BPF objects (`make bpf`).
pub fn bpf_dir() -> String {
    std::env::var("BPFL_BPF_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/build/bpf").to_string())
}

/// Path of a compiled object; panics with a hint when it was not built.
pub fn obj(name: &str) -> String {
    let p = format!("{}/{name}", bpf_dir());
    assert!(std::path::Path::new(&p).exists(), "{p} is missing: run 'make bpf' first");
    p
}
