//! Tries to open and load every BPF object of a directory (default: the
//! libbpf-tools objects in build/bench/tools) and prints ok/failed with the
//! error's first line. Root and a kernel with BTF needed.
//!
//!     cargo run --release --example load_tools [DIR]

use bpfl::{Object, OpenOptions};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "build/bench/tools".into());
    let t0 = std::time::Instant::now();
    match bpfl::host::vmlinux::kernel_btf() {
        Ok(k) => println!("kernel BTF: {} types, read + parsed + indexed in {:.1} ms", k.btf.len(), t0.elapsed().as_secs_f64() * 1e3),
        Err(e) => println!("kernel BTF: {e}"),
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")).filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "o")).collect();
    files.sort();
    let (mut ok, mut failed) = (0, 0);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let r = Object::open_file(&f.to_string_lossy(), &OpenOptions::default()).and_then(|mut o| o.load(&bpfl::LoadOptions { log_level: std::env::var("LOAD_LOG").ok().and_then(|v| v.parse().ok()).unwrap_or(0), ..Default::default() }).map(|_| o));
        match r {
            Ok(o) => {
                ok += 1;
                println!("ok      {name} ({} programs)", o.programs().len());
            }
            Err(e) => {
                failed += 1;
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or("");
                let reason = msg.lines().find(|l| l.starts_with("it reached")).map(|l| format!(" [{l}]")).unwrap_or_default();
                println!("failed  {name}: {}{reason}", &first[..first.len().min(400)]);
            }
        }
    }
    println!("{ok} of {} loaded, {failed} failed", files.len());
}
