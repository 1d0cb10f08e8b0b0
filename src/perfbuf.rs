//! A consumer of `BPF_MAP_TYPE_PERF_EVENT_ARRAY` maps (`bpf_perf_event_output`).
//!
//! For each CPU that is possible and online, a `PERF_COUNT_SW_BPF_OUTPUT`
//! software event is opened on that CPU with `PERF_SAMPLE_RAW` samples and a
//! wakeup at every sample, its ring mapped (one metadata page,
//! `struct perf_event_mmap_page`, then 2^n data pages), and its fd stored in
//! the map at key `cpu`: a program's `bpf_perf_event_output(ctx, &map,
//! BPF_F_CURRENT_CPU, ...)` then writes to the ring of the CPU it runs on.
//!
//! The data area is a plain ring of `struct perf_event_header { u32 type;
//! u16 misc; u16 size; }` records, 8-byte aligned, that may wrap around its
//! end (such records are copied into a scratch buffer). `data_head` (offset
//! 1024 of the metadata page) is loaded with acquire, `data_tail` (1032) is
//! stored with release once a record has been read. bpfl reads:
//! - `PERF_RECORD_SAMPLE`: `u32 size` then `size` bytes of raw data;
//! - `PERF_RECORD_LOST`: `u64 id, u64 lost`, samples dropped while the ring was full.

use crate::error::{Error, Result};
use crate::map::Map;
use crate::obj::map_type;
use crate::sys::{self, Mmap};
use std::ops::ControlFlow;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// `PERF_RECORD_LOST`.
const PERF_RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE`.
const PERF_RECORD_SAMPLE: u32 = 9;
/// Offsets in `struct perf_event_mmap_page`.
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const DATA_OFFSET: usize = 1040;
const DATA_SIZE: usize = 1048;

/// The default number of data pages per CPU.
pub const DEFAULT_PAGE_CNT: usize = 8;

/// What a poll or consume did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consumed {
    /// Samples handed to the sample callback.
    pub samples: usize,
    /// Samples the kernel reported lost (ring full), summed.
    pub lost: u64,
    /// The value the sample callback stopped with, if it stopped early.
    pub stopped: Option<i32>,
}

struct CpuRing {
    cpu: u32,
    event: OwnedFd,
    mem: Mmap,
    data_off: usize,
    data_size: usize,
}

impl CpuRing {
    fn u64_at(&self, off: usize) -> &AtomicU64 {
        // SAFETY: offsets inside the (page-sized, page-aligned) metadata page.
        unsafe { &*(self.mem.as_ptr().add(off) as *const AtomicU64) }
    }

    fn consume(&self, scratch: &mut Vec<u8>, out: &mut Consumed, on_sample: &mut dyn FnMut(u32, &[u8]) -> ControlFlow<i32>, on_lost: &mut dyn FnMut(u32, u64)) {
        let head = self.u64_at(DATA_HEAD).load(Ordering::Acquire);
        let tail_pos = self.u64_at(DATA_TAIL);
        let mut tail = tail_pos.load(Ordering::Relaxed);
        // SAFETY: the data area lies inside the mapping (checked at creation).
        let base = unsafe { self.mem.as_ptr().add(self.data_off) } as *const u8;
        let size = self.data_size as u64;
        while tail < head {
            let off = (tail % size) as usize;
            // The header is 8 bytes at an 8-byte aligned offset of a ring whose
            // size is a multiple of 8: it never wraps.
            let mut h = [0u8; 8];
            // SAFETY: off + 8 <= data_size.
            unsafe { std::ptr::copy_nonoverlapping(base.add(off), h.as_mut_ptr(), 8) };
            let typ = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]);
            let rec_size = u16::from_ne_bytes([h[6], h[7]]) as usize;
            if rec_size < 8 || rec_size as u64 > head - tail {
                // Corrupt (or a kernel bug): drop everything rather than loop.
                crate::log::warn(&format!("perf buffer cpu {}: bad record size {rec_size}; skipping {} bytes", self.cpu, head - tail));
                tail = head;
                break;
            }
            let rec: &[u8] = if off + rec_size <= self.data_size {
                // SAFETY: within the data area; not reused until data_tail passes it.
                unsafe { std::slice::from_raw_parts(base.add(off), rec_size) }
            } else {
                let first = self.data_size - off;
                scratch.clear();
                // SAFETY: the two pieces of the record, both inside the data area.
                unsafe {
                    scratch.extend_from_slice(std::slice::from_raw_parts(base.add(off), first));
                    scratch.extend_from_slice(std::slice::from_raw_parts(base, rec_size - first));
                }
                scratch
            };
            let mut stop = None;
            match typ {
                PERF_RECORD_SAMPLE if rec.len() >= 12 => {
                    let n = u32::from_ne_bytes([rec[8], rec[9], rec[10], rec[11]]) as usize;
                    let data = &rec[12..(12 + n).min(rec.len())];
                    out.samples += 1;
                    if let ControlFlow::Break(v) = on_sample(self.cpu, data) {
                        stop = Some(v);
                    }
                }
                PERF_RECORD_LOST if rec.len() >= 24 => {
                    let lost = u64::from_ne_bytes(rec[16..24].try_into().expect("8 bytes"));
                    out.lost += lost;
                    on_lost(self.cpu, lost);
                }
                _ => {}
            }
            tail += rec_size as u64;
            tail_pos.store(tail, Ordering::Release);
            if let Some(v) = stop {
                out.stopped = Some(v);
                return;
            }
        }
        tail_pos.store(tail, Ordering::Release);
    }
}

/// A consumer of a perf event array map: one ring per online CPU. It keeps
/// its own fd of the map, so it stays valid when the map's object is closed;
/// dropping it removes its events from the map.
pub struct PerfBuffer {
    name: String,
    map_fd: OwnedFd,
    rings: Vec<CpuRing>,
    epoll: OwnedFd,
    ready: Vec<u64>,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for PerfBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfBuffer").field("map", &self.name).field("cpus", &self.cpus()).finish()
    }
}

impl PerfBuffer {
    /// A consumer of perf event array `map` (created: its object loaded),
    /// with `page_cnt` data pages per CPU (a power of two; 0: [`DEFAULT_PAGE_CNT`]).
    pub fn new(map: &Map, page_cnt: usize) -> Result<PerfBuffer> {
        let name = map.name().to_string();
        if map.map_type() != map_type::PERF_EVENT_ARRAY {
            return Err(Error::inval(format!(
                "map '{name}' is a {}, not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY)",
                crate::obj::MapType(map.map_type())
            )));
        }
        let page_cnt = if page_cnt == 0 { DEFAULT_PAGE_CNT } else { page_cnt };
        if !page_cnt.is_power_of_two() {
            return Err(Error::inval(format!("perf buffer '{name}': page_cnt {page_cnt} is not a power of two")));
        }
        if map.key_size() != 4 || map.value_size() != 4 {
            return Err(Error::inval(format!("perf buffer '{name}': keys and values must be 4 bytes (they are {} and {})", map.key_size(), map.value_size())));
        }
        let page = sys::page_size();
        // The caller's count: a size that does not fit is refused, never wrapped.
        let map_len = page_cnt.checked_add(1).and_then(|n| n.checked_mul(page)).filter(|&n| n <= isize::MAX as usize);
        let Some(map_len) = map_len else {
            return Err(Error::inval(format!("perf buffer '{name}': page_cnt {page_cnt} is too large (({page_cnt} + 1) pages overflow the address space)")));
        };
        let map_fd = map.dup_fd()?;
        let epoll = sys::epoll_create().map_err(|e| e.error("epoll_create1"))?;
        let mut pb = PerfBuffer { name, map_fd, rings: Vec::new(), epoll, ready: Vec::new(), scratch: Vec::new() };
        for cpu in crate::host::cpus::online_cpus() {
            if cpu >= map.max_entries() {
                // A map smaller than the CPU count: those CPUs' samples fail in the program (-E2BIG or -ENOENT).
                crate::log::warn(&format!("perf buffer '{}': no slot for cpu {cpu} (max_entries {})", pb.name, map.max_entries()));
                continue;
            }
            let event = sys::perf_event_open_bpf_output(cpu as i32).map_err(|e| e.error(format!("perf buffer '{}': perf_event_open on cpu {cpu}", pb.name)))?;
            let mem = Mmap::shared(event.as_fd(), map_len, 0, true).map_err(|e| e.error(format!("perf buffer '{}': mmap {} pages on cpu {cpu}", pb.name, 1 + page_cnt)))?;
            let mut ring = CpuRing { cpu, event, mem, data_off: page, data_size: map_len - page };
            // Kernels since 4.1 say where the data is; trust them when consistent.
            let (o, s) = (ring.u64_at(DATA_OFFSET).load(Ordering::Relaxed) as usize, ring.u64_at(DATA_SIZE).load(Ordering::Relaxed) as usize);
            if o != 0 && s != 0 && o.checked_add(s).is_some_and(|end| end <= ring.mem.len()) && s % 8 == 0 {
                (ring.data_off, ring.data_size) = (o, s);
            }
            sys::epoll_add(pb.epoll.as_fd(), ring.event.as_fd(), pb.rings.len() as u64).map_err(|e| e.error(format!("perf buffer '{}': epoll_ctl", pb.name)))?;
            sys::map_update(pb.map_fd.as_fd(), &cpu.to_ne_bytes(), &(ring.event.as_raw_fd() as u32).to_ne_bytes(), crate::map::BPF_ANY)
                .map_err(|e| e.error(format!("perf buffer '{}': store the cpu {cpu} event in the map", pb.name)))?;
            pb.rings.push(ring);
            pb.ready.push(0);
        }
        if pb.rings.is_empty() {
            return Err(Error::inval(format!("perf buffer '{}': no online CPU has a slot in the map", pb.name)));
        }
        Ok(pb)
    }

    /// The CPUs that have a ring.
    pub fn cpus(&self) -> Vec<u32> {
        self.rings.iter().map(|r| r.cpu).collect()
    }

    /// The epoll fd that is readable when a CPU's ring has data.
    pub fn epoll_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// Wait up to `timeout_ms` (-1: forever, 0: not at all) for data, then
    /// read the rings that have some: `on_sample(cpu, raw)` for each sample
    /// (in order within a CPU), `on_lost(cpu, count)` for each loss report.
    /// `raw` may end with up to 7 bytes of padding past what the program
    /// wrote (the kernel aligns samples to 8 bytes). `on_sample` returning
    /// `Break(v)` stops at once.
    pub fn poll(
        &mut self,
        timeout_ms: i32,
        mut on_sample: impl FnMut(u32, &[u8]) -> ControlFlow<i32>,
        mut on_lost: impl FnMut(u32, u64),
    ) -> Result<Consumed> {
        let n = sys::epoll_wait(self.epoll.as_fd(), &mut self.ready, timeout_ms).map_err(|e| e.error(format!("perf buffer '{}': epoll_wait", self.name)))?;
        let mut out = Consumed::default();
        for i in 0..n {
            if let Some(r) = self.rings.get(self.ready[i] as usize) {
                r.consume(&mut self.scratch, &mut out, &mut on_sample, &mut on_lost);
                if out.stopped.is_some() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Read every ring now, without waiting (see [`PerfBuffer::poll`]).
    pub fn consume(&mut self, mut on_sample: impl FnMut(u32, &[u8]) -> ControlFlow<i32>, mut on_lost: impl FnMut(u32, u64)) -> Consumed {
        let mut out = Consumed::default();
        for r in &self.rings {
            r.consume(&mut self.scratch, &mut out, &mut on_sample, &mut on_lost);
            if out.stopped.is_some() {
                break;
            }
        }
        out
    }
}

impl Drop for PerfBuffer {
    fn drop(&mut self) {
        for r in &self.rings {
            sys::perf_event_disable(r.event.as_fd());
            // The kernel gives user space no lookup of a perf event array, so
            // the slot is emptied whoever stored it last (as libbpf does).
            let _ = sys::map_delete(self.map_fd.as_fd(), &r.cpu.to_ne_bytes());
        }
    }
}
