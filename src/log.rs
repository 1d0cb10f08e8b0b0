//! Logging: a process-wide callback (the C ABI's `bpfl_set_log_callback`) or,
//! with `BPFL_LOG=error|warn|info|debug` in the environment, stderr.
//!
//! The sink is called without any lock held, so it may call back into bpfl,
//! replace itself, or run while another thread replaces it (the replaced sink
//! may then still receive a message that was already on its way). A message
//! logged from inside the sink on the same thread (a bpfl call it makes that
//! logs) is dropped rather than delivered: delivering it would re-enter the
//! sink, and a sink that logs on every call would recurse without end.

use parking_lot::RwLock;
use std::cell::Cell;
use std::sync::{Arc, OnceLock};

/// Severity, most severe first.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed.
    Error = 0,
    /// Something was skipped or degraded.
    Warn = 1,
    /// What bpfl did.
    Info = 2,
    /// Details.
    Debug = 3,
}

/// A log sink.
pub type Sink = Box<dyn Fn(Level, &str) + Send + Sync>;

static SINK: RwLock<Option<(Arc<Sink>, Level)>> = RwLock::new(None);

thread_local! {
    /// True while this thread runs the sink.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is running the log sink now (a callback into C):
/// code that would block on a lock this thread may hold asks first.
pub fn in_sink() -> bool {
    IN_SINK.try_with(|f| f.get()).unwrap_or(false)
}

fn env_level() -> Option<Level> {
    static L: OnceLock<Option<Level>> = OnceLock::new();
    *L.get_or_init(|| match std::env::var("BPFL_LOG").ok()?.to_ascii_lowercase().as_str() {
        "error" => Some(Level::Error),
        "warn" | "warning" => Some(Level::Warn),
        "info" => Some(Level::Info),
        "debug" | "1" | "all" => Some(Level::Debug),
        _ => None,
    })
}

/// Install a sink receiving every message up to `max` (None removes it).
pub fn set_sink(sink: Option<Sink>, max: Level) {
    let old = std::mem::replace(&mut *SINK.write(), sink.map(|s| (Arc::new(s), max)));
    // The old sink is dropped here, outside the lock (a call in flight keeps its own Arc).
    drop(old);
}

/// Log a message.
pub fn log(level: Level, msg: &str) {
    // Take the sink out of the lock: it runs with no lock held.
    let sink = SINK.read().as_ref().map(|(s, max)| (s.clone(), *max));
    if let Some((sink, max)) = sink {
        if level > max || in_sink() {
            return;
        }
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                let _ = IN_SINK.try_with(|f| f.set(false));
            }
        }
        if IN_SINK.try_with(|f| f.set(true)).is_err() {
            return; // the thread is exiting
        }
        let _leave = Leave;
        sink(level, msg);
        return;
    }
    if env_level().is_some_and(|max| level <= max) {
        let tag = ["error", "warn", "info", "debug"][level as usize];
        eprintln!("bpfl {tag}: {msg}");
    }
}

/// Log at error level.
pub fn error(msg: &str) {
    log(Level::Error, msg)
}
/// Log at warn level.
pub fn warn(msg: &str) {
    log(Level::Warn, msg)
}
/// Log at info level.
pub fn info(msg: &str) {
    log(Level::Info, msg)
}
/// Log at debug level.
pub fn debug(msg: &str) {
    log(Level::Debug, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    /// A sink that replaces itself and logs again must return (it deadlocked
    /// while the sink ran under the lock), and its own message is dropped.
    #[test]
    fn a_sink_may_replace_itself_and_log() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            set_sink(
                Some(Box::new(|_, msg| {
                    if msg != "reentrancy test" {
                        return; // another test's message
                    }
                    CALLS.fetch_add(1, Ordering::SeqCst);
                    log(Level::Error, "reentrancy test"); // nested: dropped, no recursion
                    set_sink(Some(Box::new(|_, _| {})), Level::Debug);
                })),
                Level::Debug,
            );
            log(Level::Error, "reentrancy test");
            set_sink(None, Level::Debug);
            tx.send(()).unwrap();
        });
        rx.recv_timeout(Duration::from_secs(10)).expect("the log sink deadlocked");
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    }
}
