//! Facts about the running host, in one place: kernel version and config,
//! CPUs, kernel symbols and BTF, tracefs, bpffs, perf PMUs. Each is read
//! from the kernel's files (or through the crate's syscall module) when asked.
//!
//! The public surface is what tools and tests ask: [`bpf_available`],
//! [`kver::running`], [`cpus::possible_cpus`], [`cpus::online_cpus`],
//! [`vmlinux::kernel_btf`], [`kprobe_support`], [`tracefs::tracepoint_id`],
//! [`kconfig::read_kernel_config`], [`kallsyms::lookup`], [`bpffs::on_bpffs`].
//! Submodules use the syscall module, errors, logging and the pure object
//! code (BTF, the kallsyms line parser); not attach or link, and not each
//! other except `pmu` asking `tracefs` where it is mounted.

pub mod bpffs;
pub mod cpus;
pub mod features;
pub mod kallsyms;
pub mod kconfig;
pub mod kver;
pub mod loaded;
pub mod module_btf;
pub mod net;
pub mod pmu;
pub mod procmaps;
pub mod tracefs;
pub mod vmlinux;

pub use pmu::kprobe_support;

use crate::error::Result;
use crate::sys;

/// A small sysfs/tracefs file, trimmed; None if it cannot be read.
fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Whether this process may use `bpf()` at all: creates (and closes) a
/// one-entry array map.
pub fn bpf_available() -> Result<()> {
    const BPF_MAP_TYPE_ARRAY: u32 = 2;
    let p = sys::MapCreate { map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 1, name: "bpfl_probe", ..Default::default() };
    sys::map_create(&p).map(drop).map_err(|e| e.error("bpf(BPF_MAP_CREATE) probe"))
}
