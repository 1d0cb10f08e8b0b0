//! How failures cross the boundary: [`guard`] runs every export's body and
//! turns an error into a negative errno plus this thread's last-error
//! message, and a panic into -EIO; [`missing`] is the cheap path for a key
//! that is not there.

use super::handles;
use crate::error::{Error, Result};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The last error of a thread. A missing key is an everyday outcome of
/// lookups and the end of every iteration, so its message is only written
/// when someone asks for it: the hot path stores two words.
enum LastError {
    Msg(CString),
    /// -ENOENT from a map call: (map handle, what was missing).
    Missing(u64, &'static str),
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const { RefCell::new(LastError::Missing(0, "")) };
}

/// Record `msg` as this thread's last error (for a call that still succeeds, too).
pub(super) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = LastError::Msg(c));
}

/// Return -ENOENT for a key that is not in map `h`, with a message made on demand.
pub(super) fn missing(h: u64, what: &'static str) -> Result<c_int> {
    LAST_ERROR.with(|l| *l.borrow_mut() = LastError::Missing(h, what));
    Ok(-libc::ENOENT)
}

/// A failure as the C ABI reports it: the message kept for
/// `bpfl_last_error`, the negative errno returned.
pub(super) fn fail(e: Error) -> c_int {
    set_last_error(e.message());
    -e.errno().max(1)
}

/// Run an export's body: errors become negative errnos with a message, panics become -EIO.
pub(super) fn guard(f: impl FnOnce() -> Result<c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => fail(e),
        Err(p) => {
            let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
            set_last_error(&format!("internal error in bpfl (please report): panic: {what}"));
            -libc::EIO
        }
    }
}

/// The message of the last failure on this thread ("" if none). Valid until
/// the next failing bpfl call on this thread.
#[no_mangle]
pub extern "C" fn bpfl_last_error() -> *const c_char {
    LAST_ERROR.with(|l| {
        let mut l = l.borrow_mut();
        if let LastError::Missing(h, what) = *l {
            let msg = if h == 0 {
                String::new()
            } else {
                let name = handles::with_map(h, |m| Ok(m.name().to_string())).unwrap_or_else(|_| "?".into());
                format!("map '{name}': {what}")
            };
            *l = LastError::Msg(CString::new(msg).unwrap_or_default());
        }
        match &*l {
            LastError::Msg(c) => c.as_ptr(),
            // Materialised above; an empty string rather than a panic path.
            LastError::Missing(..) => b"\0".as_ptr() as *const c_char,
        }
    })
}
