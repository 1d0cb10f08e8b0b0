//! Ring and perf buffers with the C callbacks they call: the state behind a
//! `bpfl_ringbuf` or `bpfl_perfbuf` handle. The handle table holds these and
//! the exports in `buffers` drive them; neither needs the other.

use crate::error::Result;
use crate::perfbuf::PerfBuffer;
use crate::ringbuf::RingBuffer;
use std::ffi::{c_int, c_void};
use std::ops::ControlFlow;

/// A C ring buffer callback and its context.
pub(super) type RingCb = (unsafe extern "C" fn(*mut c_void, *const c_void, usize) -> c_int, *mut c_void);

/// A ring buffer with each ring's C callback (`cbs[i]` for ring `i`).
pub(super) struct CRingBuf {
    pub(super) rb: RingBuffer,
    pub(super) cbs: Vec<RingCb>,
}

/// A perf buffer with its C callbacks.
pub(super) struct CPerfBuf {
    pub(super) pb: PerfBuffer,
    pub(super) sample: unsafe extern "C" fn(*mut c_void, c_int, *const c_void, u32) -> c_int,
    pub(super) lost: Option<unsafe extern "C" fn(*mut c_void, c_int, u64)>,
    pub(super) ctx: *mut c_void,
}

// SAFETY: the callers of bpfl_ringbuf_new/bpfl_perfbuf_new promise their
// callbacks and contexts may be used from whichever thread polls.
unsafe impl Send for CRingBuf {}
unsafe impl Send for CPerfBuf {}

impl CRingBuf {
    /// Consume records (waiting up to `timeout` ms, or not at all for `None`):
    /// the record count, or the callback's non-zero value that stopped it.
    pub(super) fn run(&mut self, timeout: Option<i32>) -> Result<c_int> {
        let cbs = &self.cbs;
        let f = |i: usize, d: &[u8]| {
            let (cb, ctx) = cbs[i];
            // SAFETY: a C function the caller registered for ring i, with its context.
            match unsafe { cb(ctx, d.as_ptr() as *const c_void, d.len()) } {
                0 => ControlFlow::Continue(()),
                v => ControlFlow::Break(v),
            }
        };
        let c = match timeout {
            Some(t) => self.rb.poll_each(t, f)?,
            None => self.rb.consume_each(f),
        };
        Ok(c.stopped.unwrap_or(c.records.min(c_int::MAX as usize) as c_int))
    }
}

impl CPerfBuf {
    /// Consume samples, as [`CRingBuf::run`] does records.
    pub(super) fn run(&mut self, timeout: Option<i32>) -> Result<c_int> {
        let (sample, lost, ctx) = (self.sample, self.lost, self.ctx);
        let on_sample = |cpu: u32, d: &[u8]| {
            // SAFETY: the C sample callback with its context.
            match unsafe { sample(ctx, cpu as c_int, d.as_ptr() as *const c_void, d.len() as u32) } {
                0 => ControlFlow::Continue(()),
                v => ControlFlow::Break(v),
            }
        };
        let on_lost = |cpu: u32, n: u64| {
            if let Some(l) = lost {
                // SAFETY: the C lost callback with its context.
                unsafe { l(ctx, cpu as c_int, n) }
            }
        };
        let c = match timeout {
            Some(t) => self.pb.poll(t, on_sample, on_lost)?,
            None => self.pb.consume(on_sample, on_lost),
        };
        Ok(c.stopped.unwrap_or(c.samples.min(c_int::MAX as usize) as c_int))
    }
}
