//! The running kernel's build configuration: `/proc/config.gz`, else
//! `/boot/config-$(uname -r)`.

use crate::error::{Error, Result};
use crate::log;

/// The inflated contents of a gzip file (one member; the trailer is not checked).
fn gunzip(d: &[u8]) -> std::result::Result<Vec<u8>, String> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if d.len() < 18 || d[0] != 0x1f || d[1] != 0x8b || d[2] != 8 {
        return Err("not a gzip (deflate) file".into());
    }
    let flags = d[3];
    let mut pos = 10usize;
    if flags & FEXTRA != 0 {
        let n = u16::from_le_bytes([*d.get(pos).ok_or("truncated")?, *d.get(pos + 1).ok_or("truncated")?]) as usize;
        pos += 2 + n;
    }
    for f in [FNAME, FCOMMENT] {
        if flags & f != 0 {
            let end = d.get(pos..).and_then(|r| r.iter().position(|&b| b == 0)).ok_or("truncated header")?;
            pos += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    let body = d.get(pos..).ok_or("truncated header")?;
    miniz_oxide::inflate::decompress_to_vec(body).map_err(|e| format!("inflate: {e:?}"))
}

/// The running kernel's config text: `/proc/config.gz`, else `/boot/config-$(uname -r)`.
pub fn read_kernel_config() -> Result<String> {
    let gz = "/proc/config.gz";
    match std::fs::read(gz) {
        Ok(d) => {
            let text = gunzip(&d).map_err(|e| Error::parse(format!("kernel config '{gz}': {e}")))?;
            return Ok(String::from_utf8_lossy(&text).into_owned());
        }
        Err(e) => log::debug(&format!("kernel config: '{gz}': {e}; trying /boot")),
    }
    let release = crate::sys::uname().map(|u| u.release).unwrap_or_default();
    let path = format!("/boot/config-{release}");
    std::fs::read_to_string(&path).map_err(|e| Error::from_io(e, format_args!("kernel config: neither '{gz}' nor '{path}' could be read")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gunzip_reads_what_gzip_wrote() {
        // `printf 'CONFIG_BPF=y\n' | gzip -n`, with the name flag set by hand to test header skipping.
        let text = b"CONFIG_BPF=y\nCONFIG_HZ=250\n";
        let deflated = miniz_oxide::deflate::compress_to_vec(text, 6);
        let mut gz = vec![0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(b"config\0");
        gz.extend_from_slice(&deflated);
        gz.extend_from_slice(&[0; 8]); // crc32 and size: not checked
        assert_eq!(gunzip(&gz).unwrap(), text);
        assert!(gunzip(b"not gzip at all, clearly").is_err());
    }
}
