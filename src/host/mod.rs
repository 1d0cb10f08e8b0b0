//! Facts about the running host, in one place: kernel version and config,
//! CPUs, kernel symbols and BTF, tracefs, bpffs, perf PMUs. Each is read
//! from the kernel's files (or through [`crate::sys`]) when first needed.
//!
//! The public surface is small and stable enough for tools and tests:
//! [`kver::running`], [`cpus::possible_cpus`], [`cpus::online_cpus`],
//! [`vmlinux::kernel_btf`], [`kprobe_support`], [`bpffs::on_bpffs`],
//! [`bpf_available`].

pub mod bpffs;
pub mod cpus;
pub mod kallsyms;
pub mod kconfig;
pub mod kver;
pub mod pmu;
pub mod tracefs;
pub mod vmlinux;

pub use pmu::kprobe_support;

use crate::error::Result;
use crate::sys;

/// Whether this process may use `bpf()` at all: creates (and closes) a
/// one-entry array map.
pub fn bpf_available() -> Result<()> {
    const BPF_MAP_TYPE_ARRAY: u32 = 2;
    let p = sys::MapCreate { map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 1, name: "bpfl_probe", ..Default::default() };
    sys::map_create(&p).map(drop).map_err(|e| e.error("bpf(BPF_MAP_CREATE) probe"))
}
