//! The handle table behind the C ABI. A handle is a `u64`:
//! `kind (8 bits) | generation (32 bits) | slot + 1 (24 bits)`, so 0 is never
//! valid, a closed slot's old handles fail the generation check, and a map
//! handle passed where a program is expected fails the kind check. The kind
//! is checked against what the slot holds, not only the handle's tag: a
//! forged handle (a live slot and generation under another kind's tag) is
//! -EBADF like a stale one. A slot whose generation reaches `u32::MAX` is
//! retired when closed (never reused), so generations never wrap: an old
//! handle can never reach a newer entry. Lookups
//! take a shared lock only: operations on different (or the same) maps from
//! many threads do not serialise; only open and close take it exclusively.
//!
//! Map operations are the hot path (a lookup is one ~300 ns syscall), so map
//! handles also resolve through a small per-thread cache that needs no
//! atomic read-modify-write: it is valid while the global close epoch, which
//! every removal bumps, is unchanged. A cached map whose handle was closed
//! meanwhile has had its fd closed (see [`release`]), and the operation
//! reports the handle as stale.

use super::consumers::{CPerfBuf, CRingBuf};
use crate::error::{Error, Result};
use crate::link::Link;
use crate::map::Map;
use crate::object::Object;
use crate::program::Program;
use parking_lot::{Mutex, RwLock};
use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bumped (under the table's write lock) by every removal.
static CLOSE_EPOCH: AtomicU64 = AtomicU64::new(0);

const CACHE_SLOTS: usize = 8;

/// Never a close epoch (those count up from 0): an unfilled or torn-down cache.
const NO_EPOCH: u64 = u64::MAX;

/// This thread's recently used map handles, direct-mapped by slot number:
/// `(handle, map)`, valid while `epoch` is the close epoch. The maps are
/// kept alive by [`KEEP`]'s `Arc`s. Plain cells, const-initialised and with
/// no destructor: reading them is a few loads, with no lazy-initialisation
/// check and no borrow flag (the single-key operations' hot path).
struct HotMaps {
    epoch: Cell<u64>,
    slots: [Cell<(u64, *const Map)>; CACHE_SLOTS],
}

/// The `Arc`s behind [`HOT`]'s pointers, entry by entry. Dropped at thread
/// exit, HOT marked empty first.
struct Keep {
    maps: [Option<Arc<Map>>; CACHE_SLOTS],
}

impl Drop for Keep {
    fn drop(&mut self) {
        HOT.with(|c| c.epoch.set(NO_EPOCH));
    }
}

thread_local! {
    static HOT: HotMaps = const { HotMaps { epoch: Cell::new(NO_EPOCH), slots: [const { Cell::new((0, std::ptr::null())) }; CACHE_SLOTS] } };
    static KEEP: RefCell<Keep> = const { RefCell::new(Keep { maps: [const { None }; CACHE_SLOTS] }) };
}

/// The handle an empty entry `i` holds: one whose slot number lands on
/// another entry, so that no handle looked up in entry `i` equals it (not
/// even 0).
fn empty_key(i: usize) -> u64 {
    ((i + 1) % CACHE_SLOTS) as u64
}

/// Remember that `h` is `m`, as of close epoch `epoch` (read before `m` was
/// looked up in the table: a close since then makes the entry stale at once).
#[inline(never)]
fn remember(h: u64, epoch: u64, m: &Arc<Map>) {
    let i = slot_of(h) % CACHE_SLOTS;
    let mut dropped: Vec<Arc<Map>> = Vec::new();
    let _ = KEEP.try_with(|k| {
        // Busy while a `with_map` call's `f` runs on this thread (a callback
        // calling back into bpfl): no caching then.
        let Ok(mut k) = k.try_borrow_mut() else { return };
        HOT.with(|c| {
            if c.epoch.get() != epoch {
                // A handle was closed since these were cached: forget them all.
                for (j, e) in c.slots.iter().enumerate() {
                    e.set((empty_key(j), std::ptr::null()));
                }
                dropped.extend(k.maps.iter_mut().filter_map(Option::take));
                c.epoch.set(epoch);
            }
            c.slots[i].set((h, Arc::as_ptr(m)));
            dropped.extend(k.maps[i].replace(m.clone()));
        });
    });
    drop(dropped); // outside the borrow
}

/// What a handle refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    /// `bpfl_object`.
    Object = 1,
    /// `bpfl_program`.
    Program = 2,
    /// `bpfl_map`.
    Map = 3,
    /// `bpfl_link`.
    Link = 4,
    /// `bpfl_ringbuf`.
    RingBuf = 5,
    /// `bpfl_perfbuf`.
    PerfBuf = 6,
}

const KINDS: [Kind; 6] = [Kind::Object, Kind::Program, Kind::Map, Kind::Link, Kind::RingBuf, Kind::PerfBuf];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Object => "object",
            Kind::Program => "program",
            Kind::Map => "map",
            Kind::Link => "link",
            Kind::RingBuf => "ring buffer",
            Kind::PerfBuf => "perf buffer",
        }
    }
}

/// An open object, shared by its handle and its children's.
pub(super) struct ObjCell {
    pub(super) obj: Mutex<Object>,
    pub(super) children: Mutex<Children>,
}

impl ObjCell {
    /// Lock the object. From inside the log callback (which may run while
    /// this very thread holds the lock, loading or attaching) a busy object
    /// is -EDEADLK instead of a wait that might never end.
    pub(super) fn lock(&self) -> Result<parking_lot::MutexGuard<'_, Object>> {
        if !crate::log::in_sink() {
            return Ok(self.obj.lock());
        }
        self.obj.try_lock().ok_or_else(|| {
            Error::new(
                crate::error::ErrorKind::InvalidArgument,
                libc::EDEADLK,
                "this object is busy (being loaded or attached, maybe by the call this log callback reports on): not waiting for it from inside the log callback",
            )
        })
    }
}

/// Handles of an object's programs and maps (in the object's order) and of links made from it.
#[derive(Default)]
pub(super) struct Children {
    pub(super) programs: Vec<u64>,
    pub(super) maps: Vec<u64>,
    pub(super) links: Vec<u64>,
}

/// A table entry.
pub(super) enum Entry {
    Object(Arc<ObjCell>),
    Program { owner: u64, prog: Arc<Program>, name: CString, section: CString },
    Map { owner: Option<u64>, idx: usize, map: Arc<Map>, name: CString },
    Link { owner: Option<u64>, link: Mutex<Option<Link>> },
    /// A ring buffer consumer, independent of any object; `epoll_fd` is its
    /// epoll fd (valid as long as the buffer, read without its lock).
    RingBuf { buf: Arc<Mutex<CRingBuf>>, epoll_fd: i32 },
    /// A perf buffer consumer, independent of any object.
    PerfBuf { buf: Arc<Mutex<CPerfBuf>>, epoll_fd: i32 },
}

impl Entry {
    pub(super) fn kind(&self) -> Kind {
        match self {
            Entry::Object(_) => Kind::Object,
            Entry::Program { .. } => Kind::Program,
            Entry::Map { .. } => Kind::Map,
            Entry::Link { .. } => Kind::Link,
            Entry::RingBuf { .. } => Kind::RingBuf,
            Entry::PerfBuf { .. } => Kind::PerfBuf,
        }
    }
}

struct Slot {
    gen: u32,
    entry: Option<Entry>,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

static TABLE: RwLock<Table> = RwLock::new(Table { slots: Vec::new(), free: Vec::new() });

/// Bits of the slot number (+1) in a handle; the table never grows past this.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Slots the table may hold (slot + 1 must fit in `SLOT_BITS`).
const MAX_SLOTS: usize = SLOT_MASK as usize;

fn encode(kind: Kind, gen: u32, idx: u32) -> u64 {
    ((kind as u64) << 56) | ((gen as u64) << SLOT_BITS) | (idx as u64 + 1)
}

fn decode(h: u64) -> (u8, u32, Option<u32>) {
    let low = (h & SLOT_MASK) as u32;
    ((h >> 56) as u8, (h >> SLOT_BITS) as u32, low.checked_sub(1))
}

/// The slot number a handle names (0 for the null handle): for per-slot caches.
pub(super) fn slot_of(h: u64) -> usize {
    (h & SLOT_MASK) as usize
}

/// Insert an entry; returns its handle. -EMFILE once every slot is live or retired
/// (2^24 of them: far more than any process keeps open).
pub(super) fn insert(entry: Entry) -> Result<u64> {
    let kind = entry.kind();
    let mut t = TABLE.write();
    let idx = match t.free.pop() {
        Some(i) => i,
        None if t.slots.len() < MAX_SLOTS => {
            t.slots.push(Slot { gen: 0, entry: None });
            (t.slots.len() - 1) as u32
        }
        None => return Err(Error::new(crate::error::ErrorKind::InvalidArgument, libc::EMFILE, format!("too many bpfl handles ({MAX_SLOTS} slots in use or retired)"))),
    };
    let slot = &mut t.slots[idx as usize];
    // A free slot's generation is below u32::MAX (see `free_slot`): no wrap.
    slot.gen += 1;
    slot.entry = Some(entry);
    Ok(encode(kind, slot.gen, idx))
}

/// Put slot `i` (just emptied) back on the free list, unless its generation
/// is used up: then it is retired, so that no handle ever names it again.
fn free_slot(t: &mut Table, i: u32) {
    if t.slots[i as usize].gen < u32::MAX {
        t.free.push(i);
    }
}

fn check(h: u64, kind: Kind) -> Result<()> {
    if h == 0 {
        return Err(Error::inval(format!("null {} handle", kind.name())));
    }
    Ok(())
}

/// The error for a handle that is not an open handle of `kind`: closed,
/// stale, forged, or of another kind (all -EBADF).
pub(super) fn stale(h: u64, kind: Kind) -> Error {
    let (k, _, _) = decode(h);
    if k != kind as u8 && (1..=KINDS.len() as u8).contains(&k) {
        let other = KINDS[k as usize - 1];
        return Error::bad_handle(format!("a {} handle was passed where a {} handle is expected", other.name(), kind.name()));
    }
    Error::bad_handle(format!("{} handle {h:#x} is not open (closed, stale, or never valid)", kind.name()))
}

/// The index of the slot holding `h`'s entry, if `h` is an open handle of
/// `kind`: its tag, its generation and what the slot holds all agree.
fn live_slot(t: &Table, h: u64, kind: Kind) -> Option<usize> {
    let (k, gen, idx) = decode(h);
    let i = idx? as usize;
    let s = t.slots.get(i)?;
    (k == kind as u8 && s.gen == gen && s.entry.as_ref()?.kind() == kind).then_some(i)
}

/// Run `f` on the entry behind handle `h` of `kind`, under the shared lock.
/// The entry is of `kind` (checked), so `f` may treat any other variant as
/// [`stale`].
pub(super) fn with<T>(h: u64, kind: Kind, f: impl FnOnce(&Entry) -> Result<T>) -> Result<T> {
    check(h, kind)?;
    let t = TABLE.read();
    let i = live_slot(&t, h, kind).ok_or_else(|| stale(h, kind))?;
    match &t.slots[i].entry {
        Some(e) => f(e),
        None => Err(stale(h, kind)),
    }
}

/// Remove the entry behind `h` and return it (dropped by the caller, outside the lock).
pub(super) fn remove(h: u64, kind: Kind) -> Result<Entry> {
    check(h, kind)?;
    let mut t = TABLE.write();
    let i = live_slot(&t, h, kind).ok_or_else(|| stale(h, kind))?;
    let e = t.slots[i].entry.take().ok_or_else(|| stale(h, kind))?;
    free_slot(&mut t, i as u32);
    CLOSE_EPOCH.fetch_add(1, Ordering::Release);
    Ok(e)
}

/// Drop removed entries (outside the table lock). Maps have their fd closed
/// now, even if a thread's cache still holds the `Map` until its next call.
pub(super) fn release(entries: impl IntoIterator<Item = Entry>) {
    let entries: Vec<Entry> = entries.into_iter().collect();
    // Shared memory too (find_variable, bpfl_map_mmap): its pointers end with the handle.
    entries.iter().for_each(|e| if let Entry::Map { map, .. } = e { map.mem.close() });
    Map::reset_all(entries.iter().filter_map(|e| match e {
        Entry::Map { map, .. } => Some(&**map),
        _ => None,
    }));
    drop(entries);
}

/// Remove several handles at once (an object's children), ignoring ones already gone.
pub(super) fn remove_many(hs: &[u64]) -> Vec<Entry> {
    let mut t = TABLE.write();
    let mut out = Vec::new();
    for &h in hs {
        let kind = KINDS.iter().copied().find(|&k| k as u8 == decode(h).0);
        if let Some(i) = kind.and_then(|k| live_slot(&t, h, k)) {
            if let Some(e) = t.slots[i].entry.take() {
                out.push(e);
                free_slot(&mut t, i as u32);
            }
        }
    }
    CLOSE_EPOCH.fetch_add(1, Ordering::Release);
    out
}

/// The object cell behind an object handle.
pub(super) fn object(h: u64) -> Result<Arc<ObjCell>> {
    with(h, Kind::Object, |e| match e {
        Entry::Object(c) => Ok(c.clone()),
        _ => Err(stale(h, Kind::Object)),
    })
}

/// The owner object of a program handle, its index, and the program.
pub(super) fn program(h: u64) -> Result<(u64, Arc<Program>)> {
    with(h, Kind::Program, |e| match e {
        Entry::Program { owner, prog, .. } => Ok((*owner, prog.clone())),
        _ => Err(stale(h, Kind::Program)),
    })
}

/// Run `f` on the map behind a map handle.
pub(super) fn with_map<T>(h: u64, f: impl FnOnce(&Map) -> Result<T>) -> Result<T> {
    let epoch = CLOSE_EPOCH.load(Ordering::Acquire);
    let i = slot_of(h) % CACHE_SLOTS;
    // Fast path: this thread resolved `h` since the last close anywhere. `f`
    // runs under a shared borrow of KEEP, so that nothing it calls (a log
    // callback calling back into bpfl) can replace the entry under it.
    let mut f = Some(f);
    if HOT.with(|c| c.epoch.get() == epoch && c.slots[i].get().0 == h) {
        let hit = KEEP.try_with(|k| {
            let k = k.try_borrow().ok()?;
            let m = k.maps[i].as_ref()?;
            Some((f.take().expect("unused"))(m).map_err(|e| closed_meanwhile(h, m, e)))
        });
        if let Ok(Some(r)) = hit {
            return r;
        }
    }
    let f = f.take().expect("unused");
    let m = with(h, Kind::Map, |e| match e {
        Entry::Map { map, .. } => Ok(map.clone()),
        _ => Err(stale(h, Kind::Map)),
    })?;
    remember(h, epoch, &m);
    f(&m).map_err(|e| closed_meanwhile(h, &m, e))
}

/// Run `f` on the map behind `h` if this thread's cache holds it and no
/// handle was closed since (the hot path of the single-key operations);
/// None otherwise, and the caller takes [`with_map`], which fills the cache.
/// A handle closed before this call misses (the epoch moved); one closed
/// during it has its fd unpublished and quiesced (see [`release`]), which
/// the operation's read section sees.
///
/// # Safety
/// `f` must not call into this module (directly or through any bpfl
/// call): refilling the cache could drop the map `f` is given.
#[inline(always)]
pub(super) unsafe fn with_cached_map<T>(h: u64, f: impl FnOnce(&Map) -> T) -> Option<T> {
    let epoch = CLOSE_EPOCH.load(Ordering::Acquire);
    let (e, (k, m)) = HOT.with(|c| (c.epoch.get(), c.slots[slot_of(h) % CACHE_SLOTS].get()));
    if e != epoch || k != h {
        return None;
    }
    // SAFETY: the entry is current (epoch) and not empty (an empty entry's
    // key never equals a handle looked up there), so KEEP holds an Arc of
    // `m`, which only `remember` on this thread (which `f` does not reach:
    // our contract) or this thread's exit drops.
    Some(f(unsafe { &*m }))
}

/// An operation that failed because its map was closed under it (by another
/// thread) reports the handle as stale, as it would have a moment later.
fn closed_meanwhile(h: u64, m: &Map, e: Error) -> Error {
    if m.fd().is_err() && with(h, Kind::Map, |_| Ok(())).is_err() {
        return stale(h, Kind::Map);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_entry() -> Entry {
        Entry::Link { owner: None, link: Mutex::new(None) }
    }

    /// Test-only: give live handle `h`'s slot generation `gen`; returns the handle it now answers to.
    fn set_generation(h: u64, gen: u32) -> u64 {
        let (k, _, idx) = decode(h);
        let i = idx.expect("a live handle");
        TABLE.write().slots[i as usize].gen = gen;
        encode(KINDS[k as usize - 1], gen, i)
    }

    #[test]
    fn a_slot_is_retired_when_its_generation_is_used_up() {
        let h = insert(link_entry()).unwrap();
        let i = decode(h).2.unwrap();
        let last = set_generation(h, u32::MAX);
        assert!(with(h, Kind::Link, |_| Ok(())).is_err(), "the handle of the old generation is stale");
        remove(last, Kind::Link).unwrap();
        assert!(!TABLE.read().free.contains(&i), "the slot is retired, not freed");
        // Nothing handed out afterwards lands on the slot, so none of its old handles ever comes back.
        let later: Vec<u64> = (0..64).map(|_| insert(link_entry()).unwrap()).collect();
        assert!(later.iter().all(|&n| decode(n).2 != Some(i)));
        for gen in [1, 2, u32::MAX - 1, u32::MAX, 0] {
            let old = encode(Kind::Link, gen, i);
            assert_eq!(with(old, Kind::Link, |_| Ok(())).unwrap_err().errno(), libc::EBADF);
            assert!(remove(old, Kind::Link).is_err());
        }
        for n in later {
            remove(n, Kind::Link).unwrap();
        }
    }

    #[test]
    fn a_handle_is_checked_against_what_its_slot_holds() {
        let h = insert(link_entry()).unwrap();
        let (_, gen, idx) = decode(h);
        let i = idx.unwrap();
        for kind in [Kind::Object, Kind::Program, Kind::Map, Kind::RingBuf, Kind::PerfBuf] {
            // The live slot and generation under another kind's tag: a forgery.
            let forged = encode(kind, gen, i);
            assert_eq!(with(forged, kind, |_| Ok(())).unwrap_err().errno(), libc::EBADF);
            assert_eq!(remove(forged, kind).err().map(|e| e.errno()), Some(libc::EBADF));
            assert!(remove_many(&[forged]).is_empty());
        }
        assert!(with(encode(Kind::Link, gen.wrapping_add(1), i), Kind::Link, |_| Ok(())).is_err(), "generation + 1");
        assert!(with(h, Kind::Link, |_| Ok(())).is_ok(), "the link survived every forgery");
        remove(h, Kind::Link).unwrap();
        assert!(remove(h, Kind::Link).is_err(), "closed twice");
    }
}
