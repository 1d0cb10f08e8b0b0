//! bpfl: an eBPF loader written from scratch, with a C ABI.
//!
//! The crate splits in two, as the roadmap needs:
//! - [`obj`] (with [`btf`]): the pure side, the `bpfl-obj` crate under
//!   `src/obj`. Bytes in, structures out, no syscall (it has no dependency):
//!   ELF parsing, map definitions (legacy `maps` and BTF `.maps`), global
//!   data, relocations, CO-RE and BPF-to-BPF calls. Testable and fuzzable anywhere.
//! - [`object`], [`map`], [`program`], [`attach`] (making attachments) and
//!   [`link`] (the handle that keeps one), [`ringbuf`], [`perfbuf`]: the
//!   kernel side, over the crate-private `sys` module, the only code that
//!   makes system calls, and [`host`], the facts about the running host
//!   (kernel version and config, CPUs, kallsyms, tracefs, bpffs, kernel BTF).
//!
//! `ffi` (private; its exports are `#[no_mangle]`) is the C ABI: a thin shell of validated handles over this API.

pub mod attach;
pub mod error;
mod ffi;
pub mod globals;
pub mod host;
mod ksyms;
pub mod link;
pub mod log;
pub mod map;
pub mod map_batch;
mod map_fast;
mod map_setup;
pub mod object;
pub mod program;
mod program_setup;
pub mod perfbuf;
mod quiesce;
mod struct_ops;
pub mod ringbuf;
mod sys;
pub mod test_run;

/// The pure side: the `bpfl-obj` crate (ELF, BTF, CO-RE, relocations).
pub use bpfl_obj as obj;
pub use bpfl_obj::btf;

pub use attach::{AttachVia, CgroupOptions, Iter, IterOptions, KprobeMultiOptions, KprobeOptions, NetfilterOptions, PerfEventOptions, PerfEventSpec, ProbeMode, SockmapOptions, UprobeMultiOptions, UprobeOptions, UsdtOptions};
pub use error::{Error, ErrorKind, Result};
pub use globals::{Pod, Shared, Variable};
pub use link::{Link, LinkInfo};
pub use map::Map;
pub use map_batch::{BatchCursor, BatchError, BatchOptions, BatchResult};
pub use object::{LoadOptions, Object, OpenOptions};
pub use perfbuf::PerfBuffer;
pub use program::Program;
pub use ringbuf::RingBuffer;
pub use test_run::{TestRunOptions, TestRunResult};
