//! Links (attachments): their handles, fd and destruction (detach).

use super::args::out;
use super::errors::guard;
use super::handles::{self, Entry, Kind};
use super::types::bpfl_link;
use crate::error::Result;
use parking_lot::Mutex;
use std::ffi::c_int;

/// Give `link` a handle, listed among its owner object's links (so closing
/// the object detaches it); fails if the owner was closed meanwhile.
pub(super) fn add_link(owner: Option<u64>, link: crate::Link) -> Result<u64> {
    let h = handles::insert(Entry::Link { owner, link: Mutex::new(Some(link)) })?;
    if let Some(oh) = owner {
        match handles::object(oh) {
            Ok(cell) => cell.children.lock().links.push(h),
            Err(e) => {
                // The object was closed meanwhile: undo.
                drop(handles::remove(h, Kind::Link));
                return Err(e);
            }
        }
    }
    Ok(h)
}

/// Detach and free a link. A second call gives -EBADF.
#[no_mangle]
pub extern "C" fn bpfl_link_destroy(link: bpfl_link) -> c_int {
    guard(|| {
        let e = handles::remove(link.id, Kind::Link)?;
        if let Entry::Link { owner: Some(oh), .. } = &e {
            if let Ok(cell) = handles::object(*oh) {
                cell.children.lock().links.retain(|&h| h != link.id);
            }
        }
        if let Entry::Link { link: l, .. } = e {
            if let Some(l) = l.into_inner() {
                l.detach()?;
            }
        }
        Ok(0)
    })
}

/// The file descriptor of a link (BPF link, or the perf event it hangs on);
/// -1 for an attachment that has none (`BPF_PROG_ATTACH`, a socket option,
/// or what netlink keeps: XDP through `IFLA_XDP`, tc filters).
///
/// # Safety
/// `out_fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_link_fd(link: bpfl_link, out_fd: *mut c_int) -> c_int {
    guard(|| {
        let o = out(out_fd, "out_fd")?;
        *o = handles::with(link.id, Kind::Link, |e| match e {
            Entry::Link { link, .. } => Ok(link.lock().as_ref().map_or(-1, |l| l.fd())),
            _ => Err(handles::stale(link.id, Kind::Link)),
        })?;
        Ok(0)
    })
}
