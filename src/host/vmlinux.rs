//! The running kernel's BTF (`/sys/kernel/btf/vmlinux`): the target of CO-RE
//! relocations and of BTF attach points (fentry, tp_btf, lsm). Read once per
//! process, on first use (at load, not at open), and kept: mapped read-only
//! where the kernel allows it (Linux 6.16+), so that it costs neither a copy
//! nor resident memory of ours, else read into memory that is never freed;
//! parsed in place either way, and indexed lazily, name by name, as lookups
//! ask (modules: `module_btf`). Parsing and index are pure and live with the
//! object code; this is the reading and caching.

use crate::btf::{Btf, IndexedBtf};
use crate::error::{Error, Result};
use crate::log;
use crate::sys::file::RegularFile;
use std::sync::{Arc, OnceLock};

/// Where the kernel publishes its BTF.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

static KERNEL: OnceLock<std::result::Result<Arc<IndexedBtf>, Error>> = OnceLock::new();

/// The kernel's BTF, indexed by type name; the first call reads and parses it.
pub fn kernel_btf() -> Result<Arc<IndexedBtf>> {
    KERNEL.get_or_init(|| load(VMLINUX_BTF)).clone()
}

/// A target BTF read from a file (`btf_custom_path`: e.g. a BTFHub file for
/// a kernel without `/sys/kernel/btf/vmlinux`): read for each object that
/// names it, not cached, since the file is the caller's and may change.
pub fn btf_from_file(path: &str) -> Result<Arc<IndexedBtf>> {
    let data = std::fs::read(path).map_err(|e| Error::from_io(e, format_args!("target BTF file '{path}'")))?;
    let btf = Btf::parse(&data).map_err(|e| Error::parse(format!("target BTF file '{path}': {e}")))?;
    Ok(Arc::new(IndexedBtf::new(btf)))
}

fn load(path: &str) -> std::result::Result<Arc<IndexedBtf>, Error> {
    load_from(path, true).map(|(b, _)| Arc::new(b))
}

/// Reads (with `mmap`: maps, where the kernel allows it) and parses a kernel
/// BTF file; the index is filled lazily, by the lookups. True with it when mapped.
pub(crate) fn load_from(path: &str, mmap: bool) -> Result<(IndexedBtf, bool)> {
    let t0 = std::time::Instant::now();
    let what = format!("kernel BTF '{path}'");
    let file = RegularFile::open(path, "kernel BTF").map_err(|e| e.context("a kernel built with CONFIG_DEBUG_INFO_BTF is needed"))?;
    let (mem, mapped) = file.read_forever(mmap, &what)?;
    let btf = Btf::parse_static(mem.bytes, mem.words).map_err(|e| Error::parse(format!("{what}: {e}")))?;
    log::debug(&format!(
        "kernel BTF: {} types, {} bytes, {} and parsed in {:.2} ms (in place: {})",
        btf.len(),
        mem.bytes.len(),
        if mapped { "mapped" } else { "read" },
        t0.elapsed().as_secs_f64() * 1e3,
        btf.is_borrowed()
    ));
    Ok((IndexedBtf::new(btf), mapped))
}

#[cfg(test)]
#[path = "vmlinux_tests.rs"]
mod tests;
