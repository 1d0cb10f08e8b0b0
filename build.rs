//! Lays out libbpfl.so so that the code a tool runs at start-up (open, load)
//! sits together: see mk/startup-order.sh, which records src/startup.order
//! and applies the same order to libbpfl.a. Here the linker does it, with
//! `--symbol-ordering-file`, which lld and mold take and GNU ld does not:
//! the flag is passed only where rustc links with its own lld (Rust 1.90+ on
//! x86_64 Linux, no linker chosen by the user). BPFL_NO_STARTUP_ORDER=1 turns
//! it off. A stale list only costs memory: missing symbols are skipped.

use std::env;
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/startup.order");
    println!("cargo:rerun-if-env-changed=BPFL_NO_STARTUP_ORDER");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("src/startup.order");
    if env::var_os("BPFL_NO_STARTUP_ORDER").is_some_and(|v| v != "0") || !order.is_file() || !rustc_links_with_lld() {
        return;
    }
    println!("cargo:rustc-cdylib-link-arg=-Wl,--symbol-ordering-file={}", order.display());
    println!("cargo:rustc-cdylib-link-arg=-Wl,--no-warn-symbol-ordering");
}

/// Whether rustc links this cdylib with its bundled lld: x86_64 Linux (gnu)
/// since Rust 1.90, unless a linker or linker flavour is chosen.
fn rustc_links_with_lld() -> bool {
    if env::var("TARGET").as_deref() != Ok("x86_64-unknown-linux-gnu") {
        return false;
    }
    if env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some() {
        return false;
    }
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if flags.contains("linker") || flags.contains("fuse-ld") || flags.contains("link-self-contained") {
        return false;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("-vV").output() else { return false };
    let text = String::from_utf8_lossy(&out.stdout);
    let minor = text
        .lines()
        .find_map(|l| l.strip_prefix("release: "))
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|m| m >= 90)
}
