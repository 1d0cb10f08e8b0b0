//! The log callback: where bpfl's log lines go when a C program asks for them.

use super::errors::guard;
use super::types::{bpfl_log_fn, bpfl_log_level};
use crate::error::Error;
use crate::log::Level;
use std::ffi::{c_int, c_void, CString};

/// The C caller's context pointer, carried to whichever thread logs.
struct CbCtx(*mut c_void);
impl CbCtx {
    fn get(&self) -> *mut c_void {
        self.0
    }
}
// SAFETY: the caller of bpfl_set_log_callback promises ctx may be used from any thread.
unsafe impl Send for CbCtx {}
unsafe impl Sync for CbCtx {}

fn level_of(max_level: c_int) -> Option<Level> {
    use bpfl_log_level::*;
    [(BPFL_LOG_ERROR, Level::Error), (BPFL_LOG_WARN, Level::Warn), (BPFL_LOG_INFO, Level::Info), (BPFL_LOG_DEBUG, Level::Debug)]
        .into_iter()
        .find(|&(c, _)| c as c_int == max_level)
        .map(|(_, l)| l)
}

/// Send log messages up to `max_level` (a `bpfl_log_level`) to `fn(level, msg, ctx)`;
/// NULL restores the default (stderr when `BPFL_LOG=error|warn|info|debug` is set).
/// The callback may be called from any thread that calls bpfl.
///
/// # Safety
/// `cb` is NULL or a function that may be called, with `ctx`, from any
/// thread until the callback is replaced.
#[no_mangle]
pub unsafe extern "C" fn bpfl_set_log_callback(cb: bpfl_log_fn, ctx: *mut c_void, max_level: c_int) -> c_int {
    guard(|| {
        let level = level_of(max_level).ok_or_else(|| Error::inval(format!("log level {max_level} is not a bpfl_log_level")))?;
        match cb {
            None => crate::log::set_sink(None, level),
            Some(f) => {
                let ctx = CbCtx(ctx);
                crate::log::set_sink(
                    Some(Box::new(move |lvl, msg| {
                        let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
                        // SAFETY: a C function pointer the caller registered, with its own context.
                        unsafe { f(lvl as c_int, c.as_ptr(), ctx.get()) }
                    })),
                    level,
                );
            }
        }
        Ok(0)
    })
}
