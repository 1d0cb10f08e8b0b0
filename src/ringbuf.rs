//! A consumer of `BPF_MAP_TYPE_RINGBUF` maps.
//!
//! The kernel lays a ring buffer map out for `mmap` as (`kernel/bpf/ringbuf.c`):
//! - page 0: `consumer_pos` (u64 at offset 0), the one page user space may write;
//! - page 1: `producer_pos` (u64 at offset 0), read-only;
//! - from page 2: the data area of `max_entries` bytes (a power of two, whole
//!   pages), mapped twice in a row so that a record that wraps around the end
//!   of the ring reads as one contiguous slice.
//!
//! Each record starts with an 8-byte header: a u32 length whose bit 31 is
//! `BPF_RINGBUF_BUSY_BIT` (reserved, not yet committed) and bit 30
//! `BPF_RINGBUF_DISCARD_BIT` (discarded: skip it), then a u32 page offset the
//! kernel uses. Records are 8-byte aligned. The producer publishes a record
//! by clearing BUSY with release semantics, so the consumer loads
//! `producer_pos` and each header with acquire, and hands space back with a
//! release store of `consumer_pos` once a record has been read.
//!
//! One [`RingBuffer`] can consume several ring buffer maps; an epoll instance
//! over their fds wakes [`RingBuffer::poll`] when any has data.

use crate::error::{Error, Result};
use crate::map::Map;
use crate::obj::map_type;
use crate::sys::{self, Mmap};
use std::ops::ControlFlow;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `BPF_RINGBUF_BUSY_BIT`.
pub const BUSY_BIT: u32 = 1 << 31;
/// `BPF_RINGBUF_DISCARD_BIT`.
pub const DISCARD_BIT: u32 = 1 << 30;
/// `BPF_RINGBUF_HDR_SZ`.
pub const HDR_SZ: usize = 8;

/// What a poll or consume did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consumed {
    /// Records handed to the callback (discarded records are not counted).
    pub records: usize,
    /// The value the callback stopped with, if it stopped early.
    pub stopped: Option<i32>,
}

/// One mapped ring.
struct Ring {
    name: String,
    /// Our own fd of the map: closing the map's object does not close it.
    _fd: OwnedFd,
    consumer: Mmap,
    /// Producer page followed by the data area, mapped twice.
    producer: Mmap,
    mask: u64,
}

impl Ring {
    fn open(map: &Map) -> Result<Ring> {
        let name = map.name().to_string();
        if map.map_type() != map_type::RINGBUF {
            return Err(Error::inval(format!(
                "map '{name}' is a {}, not a ring buffer (BPF_MAP_TYPE_RINGBUF)",
                crate::obj::MapType(map.map_type())
            )));
        }
        let size = map.max_entries() as usize;
        let page = sys::page_size();
        if !size.is_power_of_two() || size % page != 0 {
            return Err(Error::inval(format!("ring buffer '{name}': max_entries {size} is not a power of two multiple of the page size")));
        }
        // Producer page and the data area twice: from the map, so checked.
        let producer_len = size.checked_mul(2).and_then(|n| n.checked_add(page)).filter(|&n| n <= isize::MAX as usize);
        let Some(producer_len) = producer_len else {
            return Err(Error::inval(format!("ring buffer '{name}': max_entries {size} is too large to map")));
        };
        let fd = map.dup_fd()?;
        let consumer = Mmap::shared(fd.as_fd(), page, 0, true).map_err(|e| e.error(format!("ring buffer '{name}': mmap consumer page")))?;
        let producer = Mmap::shared(fd.as_fd(), producer_len, page, false).map_err(|e| e.error(format!("ring buffer '{name}': mmap producer page and data")))?;
        Ok(Ring { name, _fd: fd, consumer, producer, mask: size as u64 - 1 })
    }

    fn consumer_pos(&self) -> &AtomicU64 {
        // SAFETY: page 0 of the map, page-aligned, mapped for as long as self.
        unsafe { &*(self.consumer.as_ptr() as *const AtomicU64) }
    }

    fn producer_pos(&self) -> &AtomicU64 {
        // SAFETY: page 1 of the map (start of the second mapping), aligned, live as self.
        unsafe { &*(self.producer.as_ptr() as *const AtomicU64) }
    }

    fn data(&self) -> *const u8 {
        // SAFETY: the data area starts one page into the second mapping.
        unsafe { self.producer.as_ptr().add(sys::page_size()) }
    }

    /// Hand every committed record to `f`, in order, until the ring is empty,
    /// a record is still being written (BUSY), or `f` breaks.
    fn consume(&self, out: &mut Consumed, f: &mut dyn FnMut(&[u8]) -> ControlFlow<i32>) {
        let cons_pos = self.consumer_pos();
        // Only we write consumer_pos; the kernel reads it.
        let mut cons = cons_pos.load(Ordering::Acquire);
        loop {
            let prod = self.producer_pos().load(Ordering::Acquire);
            if cons >= prod {
                return;
            }
            while cons < prod {
                let off = (cons & self.mask) as usize;
                // SAFETY: off < size and the data area is 2*size long; the header
                // is 8-byte aligned (records are), so the u32 is aligned.
                let hdr = unsafe { &*(self.data().add(off) as *const AtomicU32) };
                let len = hdr.load(Ordering::Acquire);
                if len & BUSY_BIT != 0 {
                    // Not committed yet: later records must wait for it.
                    return;
                }
                let body = (len & !(BUSY_BIT | DISCARD_BIT)) as usize;
                let total = (body + HDR_SZ + 7) & !7;
                let next = cons + total as u64;
                let mut stop = None;
                if len & DISCARD_BIT == 0 {
                    // SAFETY: the record lies within off + 8 + body <= 2*size
                    // (the kernel caps a record at the ring size), committed, and
                    // not reused until consumer_pos passes it.
                    let data = unsafe { std::slice::from_raw_parts(self.data().add(off + HDR_SZ), body) };
                    out.records += 1;
                    if let ControlFlow::Break(v) = f(data) {
                        stop = Some(v);
                    }
                }
                cons = next;
                cons_pos.store(cons, Ordering::Release);
                if let Some(v) = stop {
                    out.stopped = Some(v);
                    return;
                }
            }
        }
    }

    fn available(&self) -> u64 {
        let prod = self.producer_pos().load(Ordering::Acquire);
        prod.saturating_sub(self.consumer_pos().load(Ordering::Acquire))
    }
}

/// A consumer of one or more ring buffer maps. It keeps its own fd of each
/// map, so it stays valid when the map's object is closed.
pub struct RingBuffer {
    rings: Vec<Ring>,
    epoll: OwnedFd,
    ready: Vec<u64>,
}

impl std::fmt::Debug for RingBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBuffer").field("rings", &self.rings.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()).finish()
    }
}

impl RingBuffer {
    /// A consumer of ring buffer map `map` (created: its object loaded).
    pub fn new(map: &Map) -> Result<RingBuffer> {
        let epoll = sys::epoll_create().map_err(|e| e.error("epoll_create1"))?;
        let mut rb = RingBuffer { rings: Vec::new(), epoll, ready: Vec::new() };
        rb.add(map)?;
        Ok(rb)
    }

    /// Consume ring buffer map `map` too; returns its index (the first map is 0),
    /// which [`RingBuffer::poll_each`] and [`RingBuffer::consume_each`] pass to their callback.
    pub fn add(&mut self, map: &Map) -> Result<usize> {
        let ring = Ring::open(map)?;
        let idx = self.rings.len();
        sys::epoll_add(self.epoll.as_fd(), ring._fd.as_fd(), idx as u64).map_err(|e| e.error(format!("ring buffer '{}': epoll_ctl", ring.name)))?;
        self.rings.push(ring);
        self.ready.push(0);
        Ok(idx)
    }

    /// The number of rings.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether it consumes no ring (never: `new` adds one).
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// The epoll fd that is readable when a ring has data (for an event loop).
    pub fn epoll_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// Bytes committed or reserved but not consumed yet, over every ring.
    pub fn available(&self) -> u64 {
        self.rings.iter().map(Ring::available).sum()
    }

    /// Wait up to `timeout_ms` (-1: forever, 0: not at all) for data, then
    /// hand each record of the rings that have some to `f`, in order.
    /// `f` returning `Break(v)` stops at once (the record counts as consumed).
    pub fn poll(&mut self, timeout_ms: i32, mut f: impl FnMut(&[u8]) -> ControlFlow<i32>) -> Result<Consumed> {
        self.poll_each(timeout_ms, |_, d| f(d))
    }

    /// [`RingBuffer::poll`] with the ring's index passed to `f`.
    pub fn poll_each(&mut self, timeout_ms: i32, mut f: impl FnMut(usize, &[u8]) -> ControlFlow<i32>) -> Result<Consumed> {
        let n = sys::epoll_wait(self.epoll.as_fd(), &mut self.ready, timeout_ms).map_err(|e| e.error("ring buffer: epoll_wait"))?;
        let mut out = Consumed::default();
        for i in 0..n {
            let idx = self.ready[i] as usize;
            if let Some(r) = self.rings.get(idx) {
                r.consume(&mut out, &mut |d| f(idx, d));
                if out.stopped.is_some() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Hand every record now in the rings to `f`, without waiting.
    pub fn consume(&mut self, mut f: impl FnMut(&[u8]) -> ControlFlow<i32>) -> Consumed {
        self.consume_each(|_, d| f(d))
    }

    /// [`RingBuffer::consume`] with the ring's index passed to `f`.
    pub fn consume_each(&mut self, mut f: impl FnMut(usize, &[u8]) -> ControlFlow<i32>) -> Consumed {
        let mut out = Consumed::default();
        for (idx, r) in self.rings.iter().enumerate() {
            r.consume(&mut out, &mut |d| f(idx, d));
            if out.stopped.is_some() {
                break;
            }
        }
        out
    }

    /// Every record now in the rings, copied.
    pub fn drain(&mut self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        self.consume(|d| {
            v.push(d.to_vec());
            ControlFlow::Continue(())
        });
        v
    }
}
