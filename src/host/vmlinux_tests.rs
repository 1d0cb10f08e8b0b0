//! The kernel's BTF read both ways (mapped, read), and the lazy index checked
//! against an eager one built here, for every name and kind the kernel has.

use super::*;
use crate::btf::{essential_name, BtfKind};
use std::collections::HashMap;

/// Skips (loudly) where the kernel publishes no BTF.
fn both() -> Option<((IndexedBtf, bool), (IndexedBtf, bool))> {
    if !std::path::Path::new(VMLINUX_BTF).exists() {
        eprintln!("SKIPPED: {VMLINUX_BTF} does not exist (a kernel without CONFIG_DEBUG_INFO_BTF)");
        return None;
    }
    Some((load_from(VMLINUX_BTF, true).unwrap(), load_from(VMLINUX_BTF, false).unwrap()))
}

/// Essential name -> ids, every named type, in id order: the eager reference.
fn eager(b: &Btf) -> HashMap<Vec<u8>, Vec<u32>> {
    let mut m: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
    for (id, t) in b.types().filter(|(_, t)| t.name_off != 0) {
        m.entry(essential_name(b.str_bytes_at(t.name_off).unwrap()).to_vec()).or_default().push(id);
    }
    m
}

#[test]
fn mapped_where_the_kernel_allows_it_else_read_and_the_same_types() {
    let Some(((m, mapped), (r, read_mapped))) = both() else { return };
    assert!(!read_mapped, "the fallback must read");
    let since = crate::host::kver::kernel_version(6, 16, 0);
    if crate::host::kver::running() >= since {
        assert!(mapped, "Linux 6.16+ maps {VMLINUX_BTF}");
    }
    // Both are parsed in place (the read buffer is kept, aligned), and hold the same types.
    assert!(m.btf.is_borrowed() && r.btf.is_borrowed());
    assert!(m.btf.len() > 1000 && m.btf.len() == r.btf.len());
    assert!(m.btf.types().zip(r.btf.types()).all(|(a, b)| a == b));
    // The in-place parse skips the reference checks (the kernel made them):
    // the checked, copying parse of the same bytes must agree and pass them.
    let checked = Btf::parse(&std::fs::read(VMLINUX_BTF).unwrap()).unwrap();
    assert!(!checked.is_borrowed() && checked.len() == m.btf.len());
    assert!(m.btf.types().zip(checked.types()).all(|(a, b)| a == b));
    let last = m.btf.len() as u32 - 1;
    assert_eq!(m.btf.name_of(last), r.btf.name_of(last));
}

#[test]
fn lazy_index_equals_an_eager_one_for_every_name_and_kind() {
    let Some(((m, _), (r, _))) = both() else { return };
    let reference = eager(&m.btf);
    // One pass for all names (as a load prepares its relocations' names), on the mapped BTF.
    m.prepare(reference.keys().map(|k| &k[..]));
    for (name, ids) in &reference {
        assert_eq!(&m.by_essential_name(name).collect::<Vec<_>>(), ids, "{}", String::from_utf8_lossy(name));
    }
    // Every (name, kind) the kernel has: find gives the first of that kind and exact name.
    let mut first: HashMap<(&[u8], u32), u32> = HashMap::new();
    for (id, t) in m.btf.types().filter(|(_, t)| t.name_off != 0) {
        first.entry((m.btf.str_bytes_at(t.name_off).unwrap(), t.kind() as u32)).or_insert(id);
    }
    for (&(name, _), &id) in &first {
        let (name, kind) = (std::str::from_utf8(name).unwrap(), m.btf.type_by_id(id).unwrap().kind());
        assert_eq!(m.find(name, kind), Some(id), "{name} {kind:?}");
    }
    // Name by name, no batch (as ksyms and attach points ask), on the read BTF:
    // a sample across the alphabet, with the short names the filter treats apart.
    let mut names: Vec<&Vec<u8>> = reference.keys().collect();
    names.sort();
    let sample = names.iter().step_by(names.len() / 300 + 1).chain(names.iter().filter(|n| n.len() <= 2));
    for name in sample {
        assert_eq!(&r.by_essential_name(name).collect::<Vec<_>>(), &reference[*name], "{}", String::from_utf8_lossy(name));
    }
    for absent in [&b"no_such_type_bpfl"[..], b"", b"q", b"task_struct___"] {
        assert_eq!(r.by_essential_name(absent).collect::<Vec<_>>(), reference.get(absent).cloned().unwrap_or_default());
    }
    assert_eq!(r.find("task_struct", BtfKind::Struct), m.find("task_struct", BtfKind::Struct));
    assert!(r.find("task_struct", BtfKind::Struct).is_some());
}
