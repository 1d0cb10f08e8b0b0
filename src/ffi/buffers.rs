//! The C ABI of ring buffer and perf buffer consumers. Each is a handle of
//! its own, independent of the object whose map it reads: it keeps its own
//! fd of the map, so it may be freed before or after the object is closed.
//! A poll runs on a clone of the buffer's `Arc`, outside the handle table's
//! lock: freeing the handle meanwhile (even from a callback) is safe, and the
//! buffer goes when the poll returns.

use super::args::{out, read_opts};
use super::consumers::{CPerfBuf, CRingBuf};
use super::errors::guard;
use super::handles::{self, Entry, Kind};
use super::types::{bpfl_map, bpfl_perfbuf, bpfl_perfbuf_lost_fn, bpfl_perfbuf_opts, bpfl_perfbuf_sample_fn, bpfl_ringbuf, bpfl_ringbuf_opts, bpfl_ringbuf_sample_fn};
use crate::error::{Error, Result};
use crate::perfbuf::PerfBuffer;
use crate::ringbuf::RingBuffer;
use parking_lot::Mutex;
use std::ffi::{c_int, c_void};
use std::sync::Arc;

fn busy(what: &str) -> Error {
    Error::new(crate::error::ErrorKind::InvalidArgument, libc::EBUSY, format!("this {what} is being polled already (by another thread, or from its own callback)"))
}

fn ringbuf_of(h: u64) -> Result<Arc<Mutex<CRingBuf>>> {
    handles::with(h, Kind::RingBuf, |e| match e {
        Entry::RingBuf { buf, .. } => Ok(buf.clone()),
        _ => Err(handles::stale(h, Kind::RingBuf)),
    })
}

fn perfbuf_of(h: u64) -> Result<Arc<Mutex<CPerfBuf>>> {
    handles::with(h, Kind::PerfBuf, |e| match e {
        Entry::PerfBuf { buf, .. } => Ok(buf.clone()),
        _ => Err(handles::stale(h, Kind::PerfBuf)),
    })
}

/// Consume ring buffer map `map` (`BPF_MAP_TYPE_RINGBUF`, created: its object
/// loaded): `cb(ctx, data, size)` is called for each record by
/// `bpfl_ringbuf_poll` and `bpfl_ringbuf_consume`. `opts` may be NULL. The
/// consumer is independent of the map's object: free it with
/// `bpfl_ringbuf_free`, before or after closing the object. -EINVAL (with a
/// message) for a map of another type.
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_ringbuf_opts` with `sz` set; `out_rb` is
/// NULL or writable; `cb` may be called with `ctx` from whichever thread polls.
#[no_mangle]
pub unsafe extern "C" fn bpfl_ringbuf_new(map: bpfl_map, cb: bpfl_ringbuf_sample_fn, ctx: *mut c_void, opts: *const bpfl_ringbuf_opts, out_rb: *mut bpfl_ringbuf) -> c_int {
    guard(|| {
        read_opts(opts, bpfl_ringbuf_opts { sz: 0 }, "bpfl_ringbuf_opts")?;
        let o = out(out_rb, "out_rb")?;
        let cb = cb.ok_or_else(|| Error::inval("cb is NULL"))?;
        let rb = handles::with_map(map.id, RingBuffer::new)?;
        let epoll_fd = rb.epoll_fd();
        o.id = handles::insert(Entry::RingBuf { buf: Arc::new(Mutex::new(CRingBuf { rb, cbs: vec![(cb, ctx)] })), epoll_fd })?;
        Ok(0)
    })
}

/// Consume ring buffer map `map` too, with its own callback and context: one
/// poll then serves several maps.
///
/// # Safety
/// `cb` may be called with `ctx` from whichever thread polls.
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
            _ => Err(handles::stale(rb.id, Kind::RingBuf)),
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
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_perfbuf_opts` with `sz` set; `out_pb` is
/// NULL or writable; the callbacks may be called with `ctx` from whichever
/// thread polls.
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
        o.id = handles::insert(Entry::PerfBuf { buf: Arc::new(Mutex::new(CPerfBuf { pb, sample, lost: lost_cb, ctx })), epoll_fd })?;
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
            _ => Err(handles::stale(pb.id, Kind::PerfBuf)),
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
