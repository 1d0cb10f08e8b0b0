//! The running kernel's BTF (`/sys/kernel/btf/vmlinux`): the target of CO-RE
//! relocations and of BTF attach points (fentry, tp_btf, lsm). Read and
//! indexed once per process, on first use (modules: `module_btf`). The index
//! itself is pure and lives with the object code; this is its loading and caching.

use crate::btf::{Btf, IndexedBtf};
use crate::error::{Error, Result};
use crate::log;
use std::sync::{Arc, OnceLock};

/// Where the kernel publishes its BTF.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

static KERNEL: OnceLock<std::result::Result<Arc<IndexedBtf>, Error>> = OnceLock::new();

/// The kernel's BTF, indexed by type name; the first call reads and parses it.
pub fn kernel_btf() -> Result<Arc<IndexedBtf>> {
    KERNEL.get_or_init(|| load(VMLINUX_BTF)).clone()
}

fn load(path: &str) -> std::result::Result<Arc<IndexedBtf>, Error> {
    let t0 = std::time::Instant::now();
    let data = std::fs::read(path).map_err(|e| Error::from_io(e, format_args!("kernel BTF '{path}' (a kernel built with CONFIG_DEBUG_INFO_BTF is needed)")))?;
    let btf = Btf::parse(&data).map_err(|e| Error::parse(format!("kernel BTF '{path}': {e}")))?;
    let t1 = t0.elapsed();
    let bytes = data.len();
    drop(data); // the parsed copy is all that is needed: keep the peak down
    let target = IndexedBtf::new(btf);
    log::debug(&format!(
        "kernel BTF: {} types, {} bytes, read+parsed in {:.1} ms, indexed in {:.1} ms",
        target.btf.len(),
        bytes,
        t1.as_secs_f64() * 1e3,
        (t0.elapsed() - t1).as_secs_f64() * 1e3
    ));
    Ok(Arc::new(target))
}
