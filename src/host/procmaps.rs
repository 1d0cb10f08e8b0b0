//! `/proc/PID/maps`: the files a running process has mapped, so a USDT
//! probe in one of its shared libraries can be named by the library's name.

use crate::error::{Error, Result};

/// The paths of the files process `pid` maps, in the order first mapped,
/// each once (through `/proc/PID/root` when the process is in another mount
/// namespace is left to the caller: the path is the process's view).
pub fn mapped_files(pid: i32) -> Result<Vec<String>> {
    let path = format!("/proc/{pid}/maps");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::from_io(e, format!("'{path}'")))?;
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        // address perms offset dev inode path
        let Some(p) = line.split_whitespace().nth(5) else { continue };
        if p.starts_with('/') && !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    Ok(out)
}

/// The file process `pid` maps whose name is `name` ("libc.so.6"), or whose
/// name starts with `name` followed by `.` or `-` ("libc" for
/// "libc.so.6", "libfoo.so" for "libfoo.so.1.2").
pub fn find_mapped(pid: i32, name: &str) -> Result<Option<String>> {
    let files = mapped_files(pid)?;
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    if let Some(f) = files.iter().find(|p| base(p) == name) {
        return Ok(Some(f.clone()));
    }
    Ok(files.into_iter().find(|p| {
        let b = base(p);
        b.strip_prefix(name).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-'))
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_mappings() {
        let me = std::process::id() as i32;
        let files = super::mapped_files(me).unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        assert!(files.iter().any(|f| std::path::Path::new(f) == exe), "{files:?}");
        let name = exe.file_name().unwrap().to_str().unwrap();
        assert_eq!(super::find_mapped(me, name).unwrap().as_deref(), exe.to_str());
        assert_eq!(super::find_mapped(me, "no-such-library-xyz").unwrap(), None);
    }
}
