//! The BPF programs loaded in the kernel right now (`BPF_PROG_GET_NEXT_ID`
//! and each one's info): what a test or a tool checks to see what a load did.

use crate::error::Result;
use crate::sys;

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
    let list = sys::ids::programs().map_err(|e| e.error("list loaded programs (BPF_PROG_GET_NEXT_ID)"))?;
    Ok(list
        .into_iter()
        .map(|p| LoadedProgram { id: p.id, prog_type: p.prog_type, name: sys::cstr_lossy(&p.name) })
        .collect())
}
