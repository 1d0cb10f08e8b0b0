//! Real objects (from `make bpf`), altered as a hostile or broken build
//! would alter them; the parser must say what is wrong.

use bpfl_obj::{ObjectSpec, ParseOptions};
use std::path::PathBuf;

fn bpf_dir() -> PathBuf {
    match std::env::var_os("BPFL_BPF_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/bpf"),
    }
}

fn object(name: &str) -> Vec<u8> {
    let p = bpf_dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e} (run `make bpf` first)", p.display()))
}

/// (file offset, size) of the section named `want` (ELF64 little-endian).
fn section(d: &[u8], want: &str) -> (usize, usize) {
    let u16_at = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(d[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let sh = |i: usize| shoff + i * shentsize;
    let names = u64_at(sh(shstrndx) + 0x18);
    (0..shnum)
        .map(|i| (u32_at(sh(i)), u64_at(sh(i) + 0x18), u64_at(sh(i) + 0x20)))
        .find(|&(name, _, _)| d[names + name..].split(|&b| b == 0).next() == Some(want.as_bytes()))
        .map(|(_, off, size)| (off, size))
        .unwrap_or_else(|| panic!("no section {want}"))
}

/// Renames symbol `from` to `to` (same length) in `.strtab` only, so the
/// BTF still names the old one.
fn rename_symbol(d: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let (off, size) = section(d, ".strtab");
    let tab = &mut d[off..off + size];
    let needle: Vec<u8> = [&[0u8][..], from.as_bytes(), &[0]].concat();
    let at = tab.windows(needle.len()).position(|w| w == needle).unwrap_or_else(|| panic!("no symbol {from}"));
    tab[at + 1..at + 1 + to.len()].copy_from_slice(to.as_bytes());
}

/// Issue 15, item 9: when the BTF fix-up fails, the error of what needs the
/// BTF ('.maps') says why, not "'.BTF' is missing".
#[test]
fn a_failed_btf_fixup_is_the_reported_cause() {
    let mut d = object("ringbuf.o");
    rename_symbol(&mut d, "rb_seq", "rb_sez");
    let e = ObjectSpec::parse(&d, &ParseOptions::default()).unwrap_err().to_string();
    assert!(e.contains("fix-up failed") && e.contains("'rb_seq' has no symbol"), "{e}");
    assert!(!e.contains("missing"), "{e}");
    // The object as built parses.
    ObjectSpec::parse(&object("ringbuf.o"), &ParseOptions::default()).unwrap();
}
