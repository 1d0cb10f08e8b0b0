//! The bodies of the fuzz targets (`tests/fuzz`, cargo-fuzz), as plain
//! functions: the fuzzer calls them on mutated inputs, and the replay test
//! (`tests/fuzz_replay.rs`) calls them on the checked-in corpus and every
//! past crash, on stable Rust. Each must return (with any result) on any
//! input: a panic, a hang or an overflow is the bug.

use crate::btf::{Btf, BtfExt, BtfKind, IndexedBtf};
use crate::core_relo::{relocate, types_compat, Relo};
use crate::{externs, maps, ObjectSpec, ParseOptions};

/// Open without load: parse the object and assemble every program, then
/// apply each program's CO-RE relocations against the object's own BTF and
/// against [`target_btf`].
pub fn object(data: &[u8]) {
    let Ok(obj) = ObjectSpec::parse(data, &ParseOptions::default()) else { return };
    let fixed = IndexedBtf::new(target_btf());
    let own = obj.btf.clone().map(IndexedBtf::new);
    for i in 0..obj.programs.len() {
        let Ok(mut p) = obj.assemble(i) else { continue };
        if let Some(local) = &obj.btf {
            for target in [Some(&fixed), own.as_ref()].into_iter().flatten() {
                let _ = relocate(local, target, &mut p.insns, &p.core_relos);
            }
        }
    }
}

/// A `.BTF` blob through every pure pass: sizes of every type, map
/// definitions, externs, the DATASEC fix-up, sanitising, writing and reading
/// back, and CO-RE relocations (every kind, on every named type, with every
/// access string the blob holds) against [`target_btf`] and itself.
pub fn btf(data: &[u8]) {
    let Ok(mut btf) = Btf::parse(data) else { return };
    let n = btf.len() as u32;
    for id in 0..n {
        let _ = btf.size_of(id);
        let _ = externs::align_of(&btf, id);
        let _ = btf.skip_mods(id);
    }
    let _ = maps::map_defs(&btf);
    let names: Vec<(String, bool)> = btf.types().filter(|(_, t)| t.kind() == BtfKind::Var).map(|(id, _)| (btf.name_of(id).to_string(), false)).take(64).collect();
    let _ = externs::collect(&btf, &names);
    core(&btf);
    let _ = btf.fixup_datasecs(&|s| Some(s.len() as u32 * 8), &|_, v| Some(v.len() as u32 * 4));
    btf.sanitize_for_kernel();
    let bytes = btf.to_bytes();
    let again = Btf::parse(&bytes).expect("bpfl's own BTF output must parse");
    assert_eq!(again.to_bytes(), bytes, "writing BTF must round-trip");
}

/// CO-RE relocations built from the blob itself: the first named types, each
/// with the access strings found in the string section.
fn core(btf: &Btf) {
    let fixed = IndexedBtf::new(target_btf());
    let own = IndexedBtf::new(btf.clone());
    // Few enough that an input runs in about a millisecond (fuzzing speed).
    let access: Vec<u32> = access_strings(btf).take(4).collect();
    let roots: Vec<u32> = btf.types().filter(|(_, t)| t.name_off != 0).map(|(id, _)| id).take(8).collect();
    let mut relos = Vec::new();
    for &type_id in &roots {
        for &access_str_off in &access {
            for kind in 0..=12 {
                relos.push(Relo { insn: 0, type_id, access_str_off, kind });
            }
        }
        let _ = types_compat(btf, type_id, &fixed.btf, type_id % fixed.btf.len() as u32);
    }
    // One instruction of each class a relocation may patch.
    let mut insns: Vec<u8> = [0x61u8, 0x07, 0x18, 0x00, 0xb7].iter().flat_map(|&c| [c, 0x10, 0, 0, 0, 0, 0, 0]).collect();
    for r in relos {
        for (i, target) in [&fixed, &own].into_iter().enumerate() {
            let r = Relo { insn: i * 2 % 5, ..r };
            let _ = relocate(btf, target, &mut insns, &[r]);
        }
    }
}

/// Offsets of the strings that look like access strings ("0:1:2").
fn access_strings(btf: &Btf) -> impl Iterator<Item = u32> + '_ {
    let bytes = btf.to_bytes();
    let str_off = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize + 24;
    let strings = bytes[str_off..].to_vec();
    let mut offs = Vec::new();
    let mut start = 0;
    for (i, &b) in strings.iter().enumerate() {
        if b == 0 {
            let s = &strings[start..i];
            if !s.is_empty() && s.iter().all(|c| c.is_ascii_digit() || *c == b':') {
                offs.push(start as u32);
            }
            start = i + 1;
        }
    }
    offs.into_iter().filter(move |&o| btf.str_at(o).is_some())
}

/// `.BTF.ext` against a BTF: the input is a little-endian u32 length, that
/// many bytes of `.BTF`, then the `.BTF.ext` (the BTF is [`target_btf`]
/// when its part does not parse).
pub fn btf_ext(data: &[u8]) {
    let (btf, ext) = match data.get(..4).map(|l| u32::from_le_bytes(l.try_into().unwrap()) as usize) {
        Some(len) if len <= data.len() - 4 => (Btf::parse(&data[4..4 + len]).unwrap_or_else(|_| target_btf()), &data[4 + len..]),
        _ => (target_btf(), data),
    };
    let Ok(ext) = BtfExt::parse(ext, &btf) else { return };
    let fixed = IndexedBtf::new(target_btf());
    for (_, relos) in &ext.core_relos {
        let relos: Vec<Relo> = relos.iter().take(256).map(|r| Relo { insn: (r.insn_off / 8) as usize, type_id: r.type_id, access_str_off: r.access_str_off, kind: r.kind }).collect();
        let mut insns = vec![0x61u8; 8 * 64];
        let _ = relocate(&btf, &fixed, &mut insns, &relos);
    }
}

/// The fixed "kernel" of the fuzz targets: a small BTF with the shapes CO-RE
/// walks (nested and anonymous members, arrays, bitfields, pointers, enums,
/// typedefs, a prototype), under names the seed objects use.
pub fn target_btf() -> Btf {
    let mut w: Vec<u32> = Vec::new();
    let mut s: Vec<u8> = vec![0];
    let mut name = |n: &str| -> u32 {
        if n.is_empty() {
            return 0;
        }
        let off = s.len() as u32;
        s.extend_from_slice(n.as_bytes());
        s.push(0);
        off
    };
    let mut t = |n: u32, kind: u32, vlen: u32, st: u32, extra: &[u32]| {
        w.extend_from_slice(&[n, kind << 24 | vlen, st]);
        w.extend_from_slice(extra);
    };
    let (int, long, chr) = (name("int"), name("long"), name("char"));
    t(int, 1, 0, 4, &[(1 << 24) | 32]); // [1] int
    t(long, 1, 0, 8, &[(1 << 24) | 64]); // [2] long
    t(chr, 1, 0, 1, &[8]); // [3] char
    t(0, 3, 0, 0, &[3, 1, 16]); // [4] char[16]
    let (pid, tgid, comm, flags, x) = (name("pid"), name("tgid"), name("comm"), name("flags"), name("x"));
    t(0, 5, 2, 4, &[x, 1, 0, flags, 1, 0]); // [5] union { int x; int flags; }
    t(0, 2, 0, 7, &[]); // [6] ptr -> [7]
    let (ts, parent, bits) = (name("task_struct"), name("parent"), name("bits"));
    t(ts, 4, 6, 48, &[pid, 1, 0, tgid, 1, 32, comm, 4, 64, 0, 5, 192, parent, 6, 256, bits, 1, (3 << 24) | 320]); // [7]
    let (e, a, b) = (name("e"), name("A"), name("B"));
    t(e, 6, 2, 4, &[a, 1, b, 7]); // [8] enum e
    let (ty, u32n) = (name("pid_t"), name("u32"));
    t(ty, 8, 0, 1, &[]); // [9] typedef pid_t int
    t(u32n, 1, 0, 4, &[32]); // [10] u32
    t(0, 13, 2, 1, &[pid, 6, x, 10]); // [11] int (*)(task_struct *, u32)
    let mut out = vec![0x9f, 0xeb, 1, 0];
    let tlen = (w.len() * 4) as u32;
    for v in [24u32, 0, tlen, tlen, s.len() as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend(w.iter().flat_map(|x| x.to_le_bytes()));
    out.extend_from_slice(&s);
    Btf::parse(&out).expect("the fixed target BTF parses")
}
