//! The BPF programs loaded in the kernel right now (`BPF_PROG_GET_NEXT_ID`
//! and each one's info): what a test or a tool checks to see what a load did.

use crate::error::Result;
use crate::sys::{self, Errno};

/// A program loaded in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedProgram {
    /// The kernel's id.
    pub id: u32,
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// The name given at load (15 characters at most).
    pub name: String,
}

/// Every program loaded in the kernel (needs CAP_SYS_ADMIN). Programs that
/// go away while they are listed are skipped.
pub fn loaded_programs() -> Result<Vec<LoadedProgram>> {
    let mut out = Vec::new();
    let mut id = 0;
    loop {
        id = match sys::prog_next_id(id) {
            Ok(n) => n,
            Err(Errno(libc::ENOENT)) => return Ok(out),
            Err(e) => return Err(e.error("list loaded programs (BPF_PROG_GET_NEXT_ID)")),
        };
        let fd = match sys::prog_fd_by_id(id) {
            Ok(fd) => fd,
            Err(Errno(libc::ENOENT)) => continue,
            Err(e) => return Err(e.error(format!("open program id {id}"))),
        };
        let info = sys::prog_info(std::os::fd::AsFd::as_fd(&fd)).map_err(|e| e.error(format!("info of program id {id}")))?;
        out.push(LoadedProgram { id, prog_type: info.prog_type(), name: info.name() });
    }
}
