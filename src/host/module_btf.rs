//! Kernel modules' BTF (`/sys/kernel/btf/<module>`): split BTF on top of the
//! kernel's, where a loaded module's types live. Searched, as libbpf does,
//! for a CO-RE relocation's type only when the kernel's own BTF has none of
//! that name. Each module is read and indexed once per process, when first
//! needed; a module whose file lacks the name is not parsed at all.

use super::vmlinux;
use crate::btf::{essential_name, Btf, IndexedBtf};
use crate::error::{Error, Result};
use crate::log;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Where the kernel publishes BTF (`vmlinux` and one file per module).
pub const BTF_DIR: &str = "/sys/kernel/btf";
/// Overrides where module BTF is read from (tests, and hosts whose modules
/// are not loaded): a directory of split BTF files on the running kernel's.
pub const MODULE_BTF_DIR_ENV: &str = "BPFL_MODULE_BTF_DIR";

fn btf_dir() -> String {
    std::env::var(MODULE_BTF_DIR_ENV).unwrap_or_else(|_| BTF_DIR.to_string())
}

static MODULES: Mutex<Option<HashMap<String, Arc<IndexedBtf>>>> = Mutex::new(None);

/// The modules that have BTF (files of [`BTF_DIR`] but `vmlinux`), sorted (none on a kernel without
/// `CONFIG_DEBUG_INFO_BTF_MODULES` or with no module loaded).
pub fn module_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(btf_dir())
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n != "vmlinux").collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Module `name`'s BTF, split on the kernel's and indexed (ids are the kernel's).
pub fn module_btf(name: &str) -> Result<Arc<IndexedBtf>> {
    if let Some(m) = MODULES.lock().as_ref().and_then(|m| m.get(name)) {
        return Ok(m.clone());
    }
    let data = read(name)?;
    let m = parse(name, &data)?;
    MODULES.lock().get_or_insert_with(HashMap::new).insert(name.to_string(), m.clone());
    Ok(m)
}

fn read(name: &str) -> Result<Vec<u8>> {
    if name.contains('/') || name == ".." {
        return Err(Error::inval(format!("'{name}' is not a module name")));
    }
    let path = format!("{}/{name}", btf_dir());
    std::fs::read(&path).map_err(|e| Error::from_io(e, format_args!("module BTF '{path}'")))
}

fn parse(name: &str, data: &[u8]) -> Result<Arc<IndexedBtf>> {
    let base = vmlinux::kernel_btf()?;
    let btf = Btf::parse_split(data, &base.btf).map_err(|e| Error::parse(format!("module BTF '{}/{name}': {e}", btf_dir())))?;
    log::debug(&format!("module BTF '{name}': {} types after the kernel's {}", btf.len() - base.btf.len(), base.btf.len()));
    Ok(Arc::new(IndexedBtf::new(btf)))
}

/// The first module (by name) whose BTF has a type of essential name `name`
/// (`task_struct` for `task_struct___mine`), with that BTF.
pub fn find_type(name: &[u8]) -> Option<(String, Arc<IndexedBtf>)> {
    let name = essential_name(name);
    if name.is_empty() {
        return None;
    }
    for m in module_names() {
        if let Some(b) = MODULES.lock().as_ref().and_then(|c| c.get(&m).cloned()) {
            if b.by_essential_name(name).next().is_some() {
                return Some((m, b));
            }
            continue;
        }
        // Cheap first: a module whose file does not hold the name is not parsed.
        let Ok(data) = read(&m) else { continue };
        if !data.windows(name.len()).any(|w| w == name) {
            continue;
        }
        match parse(&m, &data) {
            Ok(b) => {
                MODULES.lock().get_or_insert_with(HashMap::new).insert(m.clone(), b.clone());
                if b.by_essential_name(name).next().is_some() {
                    return Some((m, b));
                }
            }
            Err(e) => log::warn(&format!("{e}; module skipped")),
        }
    }
    None
}
