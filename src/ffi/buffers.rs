//! The C ABI of ring buffer and perf buffer consumers. Each is a handle of
//! its own, independent of the object whose map it reads: it keeps its own
//! fd of the map, so it may be freed before or after the object is closed.
//! A poll runs on a clone of the buffer's `Arc`, outside the handle table's
//! lock: freeing the handle meanwhile (even from a callback) is safe, and the
//! buffer goes when the poll returns.

use super::handles::{self, Entry, Kind};
use super::{bpfl_map, guard, out, read_opts};
use crate::error::{Error, Result};
use crate::perfbuf::PerfBuffer;
use crate::ringbuf::RingBuffer;
use parking_lot::Mutex;
use std::ffi::{c_int, c_void};
use std::ops::ControlFlow;
use std::sync::Arc;

/// A ring buffer consumer (`bpfl_ringbuf_new`). 0 is the null handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_ringbuf {
    pub id: u64,
}

/// A perf buffer consumer (`bpfl_perfbuf_new`). 0 is the null handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_perfbuf {
    pub id: u64,
}

/// Called for each ring buffer record: `size` bytes at `data`, valid only
/// during the call. Return 0 to go on; anything else stops the poll, which
/// returns that value (use a negative one to tell it from a record count).
pub type bpfl_ringbuf_sample_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, data: *const c_void, size: usize) -> c_int>;

/// Called for each perf buffer sample written on `cpu`: `size` bytes at
/// `data`, valid only during the call; the kernel pads samples, so `size`
/// may exceed what the program wrote by up to 7 bytes. Return 0 to go on;
/// anything else stops the poll, which returns that value.
pub type bpfl_perfbuf_sample_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_int, data: *const c_void, size: u32) -> c_int>;

/// Called when the kernel reports `lost` samples dropped on `cpu` (its ring was full).
pub type bpfl_perfbuf_lost_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_int, lost: u64)>;

/// Options of `bpfl_ringbuf_new`. Set `sz` to `sizeof(struct bpfl_ringbuf_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_ringbuf_opts {
    pub sz: usize,
}

/// Options of `bpfl_perfbuf_new`. Set `sz` to `sizeof(struct bpfl_perfbuf_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_perfbuf_opts {
    pub sz: usize,
    /// Data pages per CPU, a power of two; 0: 8.
    pub page_cnt: usize,
}

type RingCb = (unsafe extern "C" fn(*mut c_void, *const c_void, usize) -> c_int, *mut c_void);

/// A ring buffer with each ring's C callback.
pub struct CRingBuf {
    rb: RingBuffer,
    cbs: Vec<RingCb>,
}

/// A perf buffer with its C callbacks.
pub struct CPerfBuf {
    pb: PerfBuffer,
    sample: unsafe extern "C" fn(*mut c_void, c_int, *const c_void, u32) -> c_int,
    lost: Option<unsafe extern "C" fn(*mut c_void, c_int, u64)>,
    ctx: *mut c_void,
}

// SAFETY: the callers of bpfl_ringbuf_new/bpfl_perfbuf_new promise their
// callbacks and contexts may be used from whichever thread polls.
unsafe impl Send for CRingBuf {}
unsafe impl Send for CPerfBuf {}

impl CRingBuf {
    fn run(&mut self, timeout: Option<i32>) -> Result<c_int> {
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
    fn run(&mut self, timeout: Option<i32>) -> Result<c_int> {
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

fn busy(what: &str) -> Error {
    Error::new(crate::error::ErrorKind::InvalidArgument, libc::EBUSY, format!("this {what} is being polled already (by another thread, or from its own callback)"))
}

fn ringbuf_of(h: u64) -> Result<Arc<Mutex<CRingBuf>>> {
    handles::with(h, Kind::RingBuf, |e| match e {
        Entry::RingBuf { buf, .. } => Ok(buf.clone()),
        _ => unreachable!("kind checked"),
    })
}

fn perfbuf_of(h: u64) -> Result<Arc<Mutex<CPerfBuf>>> {
    handles::with(h, Kind::PerfBuf, |e| match e {
        Entry::PerfBuf { buf, .. } => Ok(buf.clone()),
        _ => unreachable!("kind checked"),
    })
}

/// Consume ring buffer map `map` (`BPF_MAP_TYPE_RINGBUF`, created: its object
/// loaded): `cb(ctx, data, size)` is called for each record by
/// `bpfl_ringbuf_poll` and `bpfl_ringbuf_consume`. `opts` may be NULL. The
/// consumer is independent of the map's object: free it with
/// `bpfl_ringbuf_free`, before or after closing the object. -EINVAL (with a
/// message) for a map of another type.
#[no_mangle]
pub unsafe extern "C" fn bpfl_ringbuf_new(map: bpfl_map, cb: bpfl_ringbuf_sample_fn, ctx: *mut c_void, opts: *const bpfl_ringbuf_opts, out_rb: *mut bpfl_ringbuf) -> c_int {
    guard(|| {
        read_opts(opts, bpfl_ringbuf_opts { sz: 0 }, "bpfl_ringbuf_opts")?;
        let o = out(out_rb, "out_rb")?;
        let cb = cb.ok_or_else(|| Error::inval("cb is NULL"))?;
        let rb = handles::with_map(map.id, RingBuffer::new)?;
        let epoll_fd = rb.epoll_fd();
        o.id = handles::insert(Entry::RingBuf { buf: Arc::new(Mutex::new(CRingBuf { rb, cbs: vec![(cb, ctx)] })), epoll_fd });
        Ok(0)
    })
}

/// Consume ring buffer map `map` too, with its own callback and context: one
/// poll then serves several maps.
#[no_mangle]
pub unsafe extern "C" fn bpfl_ringbuf_add(rb: bpfl_ringbuf, map: bpfl_map, cb: bpfl_ringbuf_sample_fn, ctx: *mut c_void) -> c_int {
    guard(|| {
        let cb = cb.ok_or_else(|| Error::inval("cb is NULL"))?;
        let buf = ringbuf_of(rb.id)?;
        let mut b = buf.try_lock().ok_or_else(|| busy("ring buffer"))?;
        handles::with_map(map.id, |m| b.rb.add(m))?;
        b.cbs.push((cb, ctx));
        Ok(0)
    })
}

/// Wait up to `timeout_ms` (-1: forever, 0: not at all) for records, then
/// call the callback for each record of the rings that have some. Returns
/// the number of records consumed, the callback's non-zero return value if
/// it stopped, or a negative errno (-EINTR when a signal came, -EBUSY when
/// the buffer is being polled already).
#[no_mangle]
pub extern "C" fn bpfl_ringbuf_poll(rb: bpfl_ringbuf, timeout_ms: c_int) -> c_int {
    guard(|| {
        let buf = ringbuf_of(rb.id)?;
        let mut b = buf.try_lock().ok_or_else(|| busy("ring buffer"))?;
        b.run(Some(timeout_ms))
    })
}

/// Call the callback for every record now in the rings, without waiting.
/// Returns as `bpfl_ringbuf_poll` does.
#[no_mangle]
pub extern "C" fn bpfl_ringbuf_consume(rb: bpfl_ringbuf) -> c_int {
    guard(|| {
        let buf = ringbuf_of(rb.id)?;
        let mut b = buf.try_lock().ok_or_else(|| busy("ring buffer"))?;
        b.run(None)
    })
}

/// The epoll fd that becomes readable when a ring has data (for an event
/// loop; owned by bpfl, valid until `bpfl_ringbuf_free`). Returns the fd.
#[no_mangle]
pub extern "C" fn bpfl_ringbuf_epoll_fd(rb: bpfl_ringbuf) -> c_int {
    guard(|| {
        handles::with(rb.id, Kind::RingBuf, |e| match e {
            Entry::RingBuf { epoll_fd, .. } => Ok(*epoll_fd),
            _ => unreachable!("kind checked"),
        })
    })
}

/// Free a ring buffer consumer: unmap its rings and close its fds (after a
/// poll in flight returns). A second call gives -EBADF.
#[no_mangle]
pub extern "C" fn bpfl_ringbuf_free(rb: bpfl_ringbuf) -> c_int {
    guard(|| {
        drop(handles::remove(rb.id, Kind::RingBuf)?);
        Ok(0)
    })
}

/// Consume perf event array `map` (`BPF_MAP_TYPE_PERF_EVENT_ARRAY`, created):
/// open a `PERF_COUNT_SW_BPF_OUTPUT` event and map `opts->page_cnt` data
/// pages on each online CPU, and store the events in the map for
/// `bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, ...)`.
/// `sample_cb(ctx, cpu, data, size)` is called for each sample and
/// `lost_cb(ctx, cpu, lost)` (may be NULL) for each loss report. `opts` may
/// be NULL. Independent of the map's object, like `bpfl_ringbuf_new`.
#[no_mangle]
pub unsafe extern "C" fn bpfl_perfbuf_new(
    map: bpfl_map,
    sample_cb: bpfl_perfbuf_sample_fn,
    lost_cb: bpfl_perfbuf_lost_fn,
    ctx: *mut c_void,
    opts: *const bpfl_perfbuf_opts,
    out_pb: *mut bpfl_perfbuf,
) -> c_int {
    guard(|| {
        let op = read_opts(opts, bpfl_perfbuf_opts { sz: 0, page_cnt: 0 }, "bpfl_perfbuf_opts")?;
        let o = out(out_pb, "out_pb")?;
        let sample = sample_cb.ok_or_else(|| Error::inval("sample_cb is NULL"))?;
        let pb = handles::with_map(map.id, |m| PerfBuffer::new(m, op.page_cnt))?;
        let epoll_fd = pb.epoll_fd();
        o.id = handles::insert(Entry::PerfBuf { buf: Arc::new(Mutex::new(CPerfBuf { pb, sample, lost: lost_cb, ctx })), epoll_fd });
        Ok(0)
    })
}

/// Wait up to `timeout_ms` (-1: forever, 0: not at all) for samples, then
/// read the CPUs' rings that have some. Returns the number of samples, the
/// sample callback's non-zero return value if it stopped, or a negative errno.
#[no_mangle]
pub extern "C" fn bpfl_perfbuf_poll(pb: bpfl_perfbuf, timeout_ms: c_int) -> c_int {
    guard(|| {
        let buf = perfbuf_of(pb.id)?;
        let mut b = buf.try_lock().ok_or_else(|| busy("perf buffer"))?;
        b.run(Some(timeout_ms))
    })
}

/// Read every CPU's ring now, without waiting. Returns as `bpfl_perfbuf_poll` does.
#[no_mangle]
pub extern "C" fn bpfl_perfbuf_consume(pb: bpfl_perfbuf) -> c_int {
    guard(|| {
        let buf = perfbuf_of(pb.id)?;
        let mut b = buf.try_lock().ok_or_else(|| busy("perf buffer"))?;
        b.run(None)
    })
}

/// The epoll fd that becomes readable when a CPU's ring has data (owned by
/// bpfl, valid until `bpfl_perfbuf_free`). Returns the fd.
#[no_mangle]
pub extern "C" fn bpfl_perfbuf_epoll_fd(pb: bpfl_perfbuf) -> c_int {
    guard(|| {
        handles::with(pb.id, Kind::PerfBuf, |e| match e {
            Entry::PerfBuf { epoll_fd, .. } => Ok(*epoll_fd),
            _ => unreachable!("kind checked"),
        })
    })
}

/// Free a perf buffer consumer: remove its events from the map, unmap and
/// close them (after a poll in flight returns). A second call gives -EBADF.
#[no_mangle]
pub extern "C" fn bpfl_perfbuf_free(pb: bpfl_perfbuf) -> c_int {
    guard(|| {
        drop(handles::remove(pb.id, Kind::PerfBuf)?);
        Ok(0)
    })
}
