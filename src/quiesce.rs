//! Read-side critical sections that cost no atomic read-modify-write, for
//! file descriptors that may be closed while other threads use them.
//!
//! A map lookup is one ~300 ns syscall; a reader-writer lock around it added
//! two atomic RMWs (~30 ns on the benchmark VM, and a cache line bouncing
//! between threads sharing a map). Instead, each thread marks itself inside
//! or outside a section in its own slot with plain stores, and the rare
//! closer does the expensive part: it unpublishes the fd, then waits until
//! every thread that was inside a section has left it, and only then closes.
//!
//! The reader's store must be ordered before its load of the fd. A full
//! fence there would cost about what the lock did, so, as userspace RCU
//! does, the closer issues `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`,
//! which runs a full barrier on every CPU running a thread of this process;
//! readers need only a compiler fence. Where membarrier is unavailable,
//! readers fall back to a real fence.

use parking_lot::Mutex;
use std::cell::Cell;
use std::sync::atomic::{compiler_fence, fence, AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::sys::{membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED};

/// One thread's state: `seq` is odd while the thread is inside a section.
/// Only its thread writes it; cache-line aligned so threads do not share lines.
#[repr(align(64))]
struct Slot {
    seq: AtomicU64,
    in_use: AtomicBool,
}

/// Every slot ever handed out (slots of exited threads are reused).
static SLOTS: Mutex<Vec<&'static Slot>> = Mutex::new(Vec::new());

/// Readers on threads whose thread-locals are already torn down (rare): counted.
static UNSLOTTED: AtomicU64 = AtomicU64::new(0);

/// Whether membarrier is registered (readers then need only a compiler fence).
fn membarrier_ok() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED).is_ok())
}

struct Local {
    slot: &'static Slot,
}

impl Drop for Local {
    fn drop(&mut self) {
        // From now on this thread's sections take the slow path (and count in UNSLOTTED).
        FAST.set(std::ptr::null());
        self.slot.seq.store(self.slot.seq.load(Ordering::Relaxed) & !1, Ordering::Release);
        self.slot.in_use.store(false, Ordering::Release);
    }
}

fn new_local() -> Local {
    let mut slots = SLOTS.lock();
    let slot = match slots.iter().find(|s| s.in_use.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok()) {
        Some(s) => *s,
        None => {
            let s: &'static Slot = Box::leak(Box::new(Slot { seq: AtomicU64::new(0), in_use: AtomicBool::new(true) }));
            slots.push(s);
            s
        }
    };
    if membarrier_ok() {
        FAST.set(slot);
    }
    Local { slot }
}

thread_local! {
    static LOCAL: Local = new_local();
    /// This thread's slot while [`LOCAL`] holds it and membarrier is
    /// registered; null otherwise (not yet, torn down, or readers need a
    /// real fence). Const-initialised and without a destructor, so reading it
    /// is one load with no lazy-initialisation check: the hot path of every
    /// map operation starts here.
    static FAST: Cell<*const Slot> = const { Cell::new(std::ptr::null()) };
}

/// Inside a read-side section until dropped. Sections nest: an odd `seq`
/// means this thread is inside one already, and only the outermost guard
/// (which holds its slot, so that leaving costs no second thread-local
/// lookup) ends it. Guards are made and dropped only by [`with_read`], so
/// they end in the reverse order they began.
struct ReadGuard {
    /// The slot and the odd value this guard stored (outermost guard only).
    outer: Option<(&'static Slot, u64)>,
    /// Whether this guard counted itself in `UNSLOTTED` (a thread being torn down).
    unslotted: bool,
    /// Not `Send`: the slot belongs to this thread.
    _thread: std::marker::PhantomData<*const ()>,
}

/// Enter a read-side section: anything loaded inside it that a closer
/// unpublishes before calling [`synchronize`] stays valid until the guard drops.
#[inline]
fn read() -> ReadGuard {
    let mb = membarrier_ok();
    let outer = LOCAL.try_with(|l| {
        let s = l.slot.seq.load(Ordering::Relaxed);
        if s & 1 == 1 {
            return None; // nested
        }
        l.slot.seq.store(s | 1, Ordering::Relaxed);
        Some((l.slot, s | 1))
    });
    let unslotted = outer.is_err();
    if unslotted {
        UNSLOTTED.fetch_add(1, Ordering::SeqCst);
    } else if mb {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
    ReadGuard { outer: outer.ok().flatten(), unslotted, _thread: std::marker::PhantomData }
}

impl Drop for ReadGuard {
    #[inline]
    fn drop(&mut self) {
        if self.unslotted {
            UNSLOTTED.fetch_sub(1, Ordering::Release);
        } else if let Some((slot, odd)) = self.outer {
            slot.seq.store(odd.wrapping_add(1), Ordering::Release);
        }
    }
}

/// Ends the section [`enter_fast`] began (also on unwinding).
struct FastGuard {
    slot: &'static Slot,
    odd: u64,
}

impl Drop for FastGuard {
    #[inline(always)]
    fn drop(&mut self) {
        self.slot.seq.store(self.odd.wrapping_add(1), Ordering::Release);
    }
}

/// Run `f` inside a read-side section: anything `f` loads that a closer
/// unpublishes before calling [`synchronize`] stays valid until `f` returns.
#[inline(always)]
pub fn with_read<T>(f: impl FnOnce() -> T) -> T {
    let p = FAST.get();
    if p.is_null() {
        return with_read_slow(f);
    }
    // SAFETY: `p` is this thread's FAST, not null.
    let _guard = unsafe { enter_fast(p) };
    f()
}

/// [`with_read`] for a hot path that has a slow path of its own: None, and
/// `f` not run, when this thread has no fast section (no membarrier, or its
/// slot is torn down). Nothing generic is out of line here, so the caller
/// does not build `f` in memory for a cold call.
#[inline(always)]
pub(crate) fn try_with_read<T>(f: impl FnOnce() -> T) -> Option<T> {
    let mut p = FAST.get();
    if p.is_null() {
        p = fast_slot();
        if p.is_null() {
            return None;
        }
    }
    // SAFETY: `p` is this thread's FAST, not null.
    let _guard = unsafe { enter_fast(p) };
    Some(f())
}

/// Begin a section on the fast path, on this thread's slot `p`: the guard
/// that ends it, or None when this thread is inside a section already (the
/// outer one covers what follows).
///
/// # Safety
/// `p` is a non-null value of this thread's FAST.
#[inline(always)]
unsafe fn enter_fast(p: *const Slot) -> Option<FastGuard> {
    // SAFETY: FAST holds this thread's slot (slots are leaked: 'static),
    // and only this thread writes its `seq`.
    let slot: &'static Slot = unsafe { &*p };
    let s = slot.seq.load(Ordering::Relaxed);
    if s & 1 == 1 {
        return None;
    }
    slot.seq.store(s | 1, Ordering::Relaxed);
    // FAST is set only once membarrier is registered: the closer's
    // membarrier orders this store before the loads the section makes.
    compiler_fence(Ordering::SeqCst);
    Some(FastGuard { slot, odd: s | 1 })
}

/// This thread's fast slot, giving the thread its slot first if it has none
/// yet; null where sections must take the slow path.
#[cold]
#[inline(never)]
fn fast_slot() -> *const Slot {
    let _ = LOCAL.try_with(|_| ());
    FAST.get()
}

/// [`with_read`] before this thread has a slot (the first section), once it
/// has lost it (thread teardown), or without membarrier (a real fence).
#[cold]
#[inline(never)]
fn with_read_slow<T>(f: impl FnOnce() -> T) -> T {
    let _guard = read();
    f()
}

/// Wait until every read-side section that began before this call has ended.
/// Call after unpublishing what readers must no longer pick up.
pub fn synchronize() {
    // Make the unpublishing store visible to every running thread of this
    // process, and their section stores visible to us.
    if !(membarrier_ok() && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED).is_ok()) {
        fence(Ordering::SeqCst);
    }
    let me = LOCAL.try_with(|l| l.slot as *const Slot).ok();
    let slots: Vec<&'static Slot> = SLOTS.lock().clone();
    for s in slots {
        if Some(s as *const Slot) == me {
            // Our own section (a closer inside a read section) cannot be waited for.
            continue;
        }
        let seen = s.seq.load(Ordering::Acquire);
        if seen & 1 == 0 {
            continue;
        }
        wait_until(|| s.seq.load(Ordering::Acquire) != seen);
    }
    wait_until(|| UNSLOTTED.load(Ordering::Acquire) == 0);
}

fn wait_until(done: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !done() {
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;
    use std::sync::Arc;

    /// Readers never see a value after its closer "freed" it.
    #[test]
    fn closer_waits_for_readers() {
        let value = Arc::new(AtomicI64::new(1));
        let freed = Arc::new(AtomicI64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..3 {
            let (value, freed, stop) = (value.clone(), freed.clone(), stop.clone());
            readers.push(std::thread::spawn(move || {
                let mut bad = 0;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // Both the guard (slow path) and with_read (fast path, once the slot exists).
                    let check = || {
                        let v = value.load(Ordering::Relaxed);
                        (v > 0 && freed.load(Ordering::Relaxed) >= v) as i32
                    };
                    i += 1;
                    bad += if i % 2 == 0 { with_read(check) } else { let _g = read(); check() };
                }
                bad
            }));
        }
        for gen in 1..2000i64 {
            value.store(gen + 1, Ordering::Relaxed); // publish the next
            synchronize(); // readers of `gen` are done
            freed.store(gen, Ordering::Relaxed); // "close" it
        }
        stop.store(true, Ordering::Relaxed);
        let bad: i32 = readers.into_iter().map(|r| r.join().unwrap()).sum();
        assert_eq!(bad, 0);
    }

    #[test]
    fn fast_sections_nest_and_end_on_panic() {
        with_read(|| ()); // gives this thread its slot
        let slot = FAST.get();
        if slot.is_null() {
            return; // no membarrier here: every section takes the slow path
        }
        let seq = || unsafe { (*slot).seq.load(Ordering::Relaxed) };
        let before = seq();
        with_read(|| {
            assert_eq!(seq() & 1, 1, "inside");
            with_read(|| assert_eq!(seq(), before | 1, "a nested section changes nothing"));
            assert_eq!(seq() & 1, 1, "still inside after the nested one");
        });
        assert_eq!(seq(), before + 2);
        let r = std::panic::catch_unwind(|| with_read(|| panic!("inside a section")));
        assert!(r.is_err());
        assert_eq!(seq() & 1, 0, "a panic ends the section (a closer would otherwise wait forever)");
    }

    #[test]
    fn nested_sections_and_self_synchronize() {
        let a = read();
        let b = read();
        synchronize(); // must not wait for our own section
        drop(b);
        drop(a);
        synchronize();
    }
}
