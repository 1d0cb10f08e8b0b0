//! What the running kernel takes, probed once per process: today the BTF
//! kinds and features (see [`crate::obj::btf::BtfFeatures`]), each by loading
//! a tiny BTF blob that uses it (on kernels before 6.0: later ones have them all).
//!
//! `BPFL_FORCE_NO_BTF_FEATURE=enum64,float,...` (or `all`) makes bpfl act as
//! if the kernel lacked those features: the way to exercise, on a current
//! kernel, the rewrites an old kernel needs. It is read at every load.

use crate::log;
use crate::obj::btf::{probe_blob, BtfFeatures};
use crate::sys;
use std::sync::OnceLock;

/// The environment variable that turns probed features off.
pub const FORCE_NO_BTF_FEATURE: &str = "BPFL_FORCE_NO_BTF_FEATURE";

static PROBED: OnceLock<BtfFeatures> = OnceLock::new();

/// The BTF features of the running kernel, less any turned off by
/// `BPFL_FORCE_NO_BTF_FEATURE` and those that need them
/// ([`BtfFeatures::consistent`]).
pub fn btf_features() -> BtfFeatures {
    let mut f = *PROBED.get_or_init(probe);
    if let Ok(v) = std::env::var(FORCE_NO_BTF_FEATURE) {
        for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "all" {
                BtfFeatures::NAMES.iter().for_each(|n| *f.flag(n).expect("known") = false);
            } else if let Some(flag) = f.flag(name) {
                *flag = false;
            } else {
                log::warn(&format!("{FORCE_NO_BTF_FEATURE}: unknown feature '{name}' (known: {}, all)", BtfFeatures::NAMES.join(", ")));
            }
        }
    }
    f.consistent()
}

fn probe() -> BtfFeatures {
    // Every one of these is in Linux 6.0 (ENUM64, the last): no probe needed
    // there, which keeps a load's bpf() calls down. Older (and backporting
    // distribution) kernels are asked.
    if super::kver::running() >= super::kver::kernel_version(6, 0, 0) {
        return BtfFeatures::ALL;
    }
    probe_btf_features()
}

/// Asks the kernel, whatever its version, which BTF features it takes: one
/// `BPF_BTF_LOAD` of a tiny blob per feature.
pub fn probe_btf_features() -> BtfFeatures {
    let mut f = BtfFeatures::ALL;
    for name in BtfFeatures::NAMES {
        let blob = probe_blob(name).expect("a blob for every feature");
        let ok = sys::btf_load(&blob).is_ok();
        *f.flag(name).expect("known") = ok;
        if !ok {
            log::debug(&format!("kernel BTF probe: no {name}; object BTF using it is rewritten for this kernel"));
        }
    }
    f
}
