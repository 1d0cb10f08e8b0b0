//! `/proc/kallsyms`: addresses of kernel symbols, and whether syscalls enter
//! through arch wrappers.

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// The prefix of syscall wrappers on this architecture (`__x64_sys_bpf`).
pub(crate) fn syscall_prefix() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "__x64_",
        "x86" => "__ia32_",
        "aarch64" => "__arm64_",
        "s390x" => "__s390x_",
        "riscv64" => "__riscv_",
        "powerpc64" => "",
        _ => "",
    }
}

/// Addresses of `names` in `/proc/kallsyms`, read line by line (the file is
/// ~10 MB of text: never held whole) and only as far as needed.
pub fn lookup(names: &[&str]) -> Result<Vec<Option<u64>>> {
    use std::io::BufRead;
    let io = |e: std::io::Error| Error::from_io(e, "'/proc/kallsyms'");
    let mut r = std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open("/proc/kallsyms").map_err(io)?);
    let mut out = vec![None; names.len()];
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(io)? == 0 || crate::obj::externs::kallsyms_match_line(&line, names, &mut out) {
            return Ok(out);
        }
    }
}

/// Whether syscalls enter through arch wrappers (`__x64_sys_bpf`): a scan
/// of /proc/kallsyms, done once per process.
pub fn has_syscall_wrapper() -> Result<bool> {
    static HAS: OnceLock<bool> = OnceLock::new();
    if let Some(&h) = HAS.get() {
        return Ok(h);
    }
    let p = syscall_prefix();
    let h = !p.is_empty() && lookup(&[&format!("{p}sys_bpf")])?[0].is_some();
    Ok(*HAS.get_or_init(|| h))
}
