//! Logging: a process-wide callback (the C ABI's `bpfl_set_log_callback`) or,
//! with `BPFL_LOG=error|warn|info|debug` in the environment, stderr.

use parking_lot::RwLock;
use std::sync::OnceLock;

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

static SINK: RwLock<Option<(Sink, Level)>> = RwLock::new(None);

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
    *SINK.write() = sink.map(|s| (s, max));
}

/// Log a message.
pub fn log(level: Level, msg: &str) {
    if let Some((sink, max)) = &*SINK.read() {
        if level <= *max {
            sink(level, msg);
        }
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
