//! Reading the files a caller or an object names (BPF objects, the binaries
//! of uprobes): regular files only, opened without blocking and bounded, so
//! that `/dev/zero` is refused instead of read until memory runs out, and a
//! FIFO is refused instead of blocking forever.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};

/// The most bpfl reads of one file (an object, or the tables of a binary):
/// far above any real object or symbol table, far below what would exhaust
/// memory.
pub(crate) const MAX_FILE_READ: u64 = 1 << 30;

/// A regular file, open for reading, and its size.
pub(crate) struct RegularFile {
    file: File,
    pub(crate) size: u64,
}

/// What a non-regular file is, for the message.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

impl RegularFile {
    /// Opens `path` (`what` names it in errors) with `O_NONBLOCK`, so that
    /// opening a FIFO cannot block, and refuses anything but a regular file.
    pub(crate) fn open(path: &str, what: &str) -> Result<RegularFile> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::from_io(e, format_args!("{what} '{path}'")))?;
        let md = file.metadata().map_err(|e| Error::from_io(e, format_args!("{what} '{path}': fstat")))?;
        if !md.file_type().is_file() {
            return Err(Error::inval(format!("{what} '{path}' is {}, not a regular file", kind_of(md.file_type()))));
        }
        Ok(RegularFile { file, size: md.len() })
    }

    /// The whole file, when it is at most `max` bytes (it may grow while read:
    /// never more than `max` is read).
    pub(crate) fn read_all(&self, max: u64, what: &str) -> Result<Vec<u8>> {
        let too_big = || Error::inval(format!("{what} is larger than {max} bytes: refused"));
        if self.size > max {
            return Err(too_big());
        }
        let mut data = Vec::with_capacity(self.size as usize);
        (&self.file).take(max + 1).read_to_end(&mut data).map_err(|e| Error::from_io(e, format_args!("{what}: read")))?;
        if data.len() as u64 > max {
            return Err(too_big());
        }
        Ok(data)
    }

    /// `len` bytes at `off`; an error when the file is shorter.
    pub(crate) fn read_at(&self, off: u64, len: u64, what: &str) -> Result<Vec<u8>> {
        let end = off.checked_add(len).filter(|&e| e <= self.size);
        if end.is_none() || len > MAX_FILE_READ {
            return Err(Error::parse(format!("{what}: {len} bytes at offset {off} run past the end of the file ({} bytes)", self.size)));
        }
        let mut buf = vec![0u8; len as usize];
        self.file.read_exact_at(&mut buf, off).map_err(|e| Error::from_io(e, format_args!("{what}: read {len} bytes at {off}")))?;
        Ok(buf)
    }
}

impl RegularFile {
    /// The whole file, kept for the rest of the process (the kernel's BTF):
    /// mapped read-only when `mmap` is true and the file can be mapped (sysfs
    /// BTF, since Linux 6.16), else read. True in the second field when mapped.
    pub(crate) fn read_forever(&self, mmap: bool, what: &str) -> Result<(super::mmap::Forever, bool)> {
        if self.size > MAX_FILE_READ {
            return Err(Error::inval(format!("{what} is larger than {MAX_FILE_READ} bytes: refused")));
        }
        let len = self.size as usize;
        if mmap && len > 0 {
            match super::mmap::Forever::map(self.file.as_fd(), len) {
                Ok(m) => return Ok((m, true)),
                Err(e) => crate::log::debug(&format!("{what}: mmap: {e}; read instead (mappable since Linux 6.16)")),
            }
        }
        let f = super::mmap::Forever::read(len, |b| (&self.file).read(b)).map_err(|e| Error::from_io(e, format_args!("{what}: read")))?;
        Ok((f, false))
    }
}

/// A whole regular file of at most [`MAX_FILE_READ`] bytes.
pub(crate) fn read_regular(path: &str, what: &str) -> Result<Vec<u8>> {
    RegularFile::open(path, what)?.read_all(MAX_FILE_READ, &format!("{what} '{path}'"))
}
