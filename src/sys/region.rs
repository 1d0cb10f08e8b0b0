//! A page-aligned memory region whose address stays put while what backs it
//! changes: first anonymous memory (a global data section's image before
//! load), then a `BPF_F_MMAPABLE` array map mapped over the same address
//! with `MAP_FIXED`, so that pointers into the image keep working and now
//! reach the live map.
//!
//! Nothing in the crate holds a Rust reference into a region: it is shared
//! with BPF programs, read and written through raw pointers only (volatile
//! or atomic), so replacing its backing never invalidates a reference.

use super::mmap::{mmap_raw, prot, Mmap};
use super::{Errno, SysResult};
use std::os::fd::{AsRawFd, BorrowedFd};

/// A mapping of `len` bytes (a multiple of the page size), unmapped on drop.
#[derive(Debug)]
pub(crate) struct Region {
    mem: Mmap,
}

/// `len` rounded up to whole pages (at least one page).
pub(crate) fn page_round(len: usize) -> usize {
    let page = super::page_size();
    (len.max(1) + page - 1) / page * page
}

impl Region {
    /// Fresh zeroed private anonymous memory, readable and writable.
    pub(crate) fn anon(len: usize) -> SysResult<Region> {
        Ok(Region { mem: Mmap::anon(page_round(len))? })
    }

    /// The map `fd` shared (`MAP_SHARED`), at an address the kernel chooses.
    pub(crate) fn map_shared(fd: BorrowedFd<'_>, len: usize, writable: bool) -> SysResult<Region> {
        Ok(Region { mem: Mmap::shared(fd, page_round(len), 0, writable)? })
    }

    /// Map `fd` over this region, at the same address and length
    /// (`MAP_SHARED | MAP_FIXED`): from now on the region shows the map.
    /// On failure the region is as it was (the kernel replaces a fixed
    /// mapping only once the new one is made).
    pub(crate) fn map_over(&mut self, fd: BorrowedFd<'_>, writable: bool) -> SysResult<()> {
        // SAFETY: the range is this region's own mapping (held by `&mut self`),
        // addressed by raw pointers only: replacing it frees no memory anyone else owns.
        let p = unsafe { mmap_raw(self.as_ptr(), self.len(), prot(writable), libc::MAP_SHARED | libc::MAP_FIXED, fd.as_raw_fd(), 0)? };
        debug_assert_eq!(p.as_ptr(), self.as_ptr());
        Ok(())
    }

    /// Make the region inaccessible: any access through an old pointer faults
    /// instead of reading data that no longer means anything.
    pub(crate) fn revoke(&mut self) -> SysResult<()> {
        // SAFETY: changes the protection of our own mapping only.
        if unsafe { libc::mprotect(self.as_ptr() as *mut libc::c_void, self.len(), libc::PROT_NONE) } != 0 {
            return Err(Errno::last());
        }
        Ok(())
    }

    /// The start of the region.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.mem.as_ptr()
    }

    /// Its length in bytes (whole pages).
    pub(crate) fn len(&self) -> usize {
        self.mem.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anonymous_region_is_zeroed_whole_pages() {
        let r = Region::anon(10).unwrap();
        assert_eq!(r.len(), crate::sys::page_size());
        // SAFETY: the region is r.len() readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(r.as_ptr(), r.len()) };
        assert!(bytes.iter().all(|&b| b == 0));
        assert_eq!(page_round(0), crate::sys::page_size());
        assert_eq!(page_round(crate::sys::page_size() + 1), 2 * crate::sys::page_size());
    }
}
