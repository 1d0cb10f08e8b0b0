//! The BPF filesystem, where maps are pinned.

/// Whether `path` (or its directory, if it does not exist) is on a bpffs.
pub fn on_bpffs(path: &str) -> bool {
    const BPF_FS_MAGIC: i64 = 0xcafe4a11;
    let p = std::path::Path::new(path);
    let dir = if p.exists() { p } else { p.parent().unwrap_or(p) };
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else { return false };
    crate::sys::fs_magic(&c) == Ok(BPF_FS_MAGIC)
}
