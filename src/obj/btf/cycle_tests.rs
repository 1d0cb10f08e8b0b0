//! Crafted BTF that refers to itself (issue 15, item 1): every walk must end
//! with an error, never recurse until the stack overflows. Before the bounds,
//! each of these tests crashed the test process (SIGSEGV, stack overflow).

use super::tests::B;
use super::*;
use crate::core_relo::{kind, relocate, types_compat, Relo};
use crate::externs;
use crate::maps::map_defs;

const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;
const TYPEDEF: u32 = 8;
const CONST: u32 = 10;
const FUNC_PROTO: u32 = 13;
const VAR: u32 = 14;
const DATASEC: u32 = 15;

/// [1] int, [2] an array of one [2] itself, [3] typedef t -> [4] const -> [3].
fn cyclic() -> B {
    let mut b = B::new();
    b.t("int", INT, 0, 4, &[32]); // [1]
    b.t("", ARRAY, 0, 0, &[2, 1, 1]); // [2] an array of itself
    b.t("t", TYPEDEF, 0, 4, &[]); // [3] typedef -> [4]
    b.t("", CONST, 0, 3, &[]); // [4] const -> [3]
    b
}

#[test]
fn size_of_a_self_array_or_a_typedef_cycle_is_an_error() {
    let btf = Btf::parse(&cyclic().bytes()).unwrap();
    let e = btf.size_of(2).unwrap_err();
    assert!(e.message().contains("a cycle?"), "{e}");
    let e = btf.size_of(3).unwrap_err();
    assert!(e.message().contains("a cycle?"), "{e}");
    // With 3 elements, the size overflows first: also an error.
    let mut b = B::new();
    b.t("", ARRAY, 0, 0, &[1, 1, 3]);
    let e = Btf::parse(&b.bytes()).unwrap().size_of(1).unwrap_err();
    assert!(e.message().contains("too large"), "{e}");
    // Legit nesting still works: int[3][5] is 60 bytes.
    let mut b = B::new();
    b.t("int", INT, 0, 4, &[32]);
    b.t("", ARRAY, 0, 0, &[1, 1, 3]);
    b.t("", ARRAY, 0, 0, &[2, 1, 5]);
    assert_eq!(Btf::parse(&b.bytes()).unwrap().size_of(3).unwrap(), 60);
}

#[test]
fn a_map_whose_key_is_a_self_array_is_refused() {
    let mut b = cyclic();
    b.t("", PTR, 0, 2, &[]); // [5] -> the self array
    let key = b.s("key");
    b.t("", STRUCT, 1, 8, &[key, 5, 0]); // [6]
    b.t("m", VAR, 0, 6, &[1]); // [7]
    b.t(".maps", DATASEC, 1, 0, &[7, 0, 8]); // [8]
    let btf = Btf::parse(&b.bytes()).unwrap();
    let e = map_defs(&btf).unwrap_err();
    assert!(e.message().contains("map 'm': key") && e.message().contains("cycle"), "{e}");
}

#[test]
fn the_datasec_fixup_refuses_a_self_array_variable() {
    let mut b = cyclic();
    b.t("v", VAR, 0, 2, &[1]); // [5]
    b.t(".data", DATASEC, 1, 0, &[5, 0, 0]); // [6] size 0: the fix-up sizes it
    let mut btf = Btf::parse(&b.bytes()).unwrap();
    let e = btf.fixup_datasecs(&|_| Some(8), &|_, _| Some(0)).unwrap_err();
    assert!(e.message().contains("cycle"), "{e}");
}

#[test]
fn a_kconfig_extern_of_a_self_array_is_refused() {
    let mut b = cyclic();
    b.t("CONFIG_X", VAR, 0, 2, &[2]); // [5] extern
    b.t(".kconfig", DATASEC, 1, 0, &[5, 0, 0]); // [6]
    let btf = Btf::parse(&b.bytes()).unwrap();
    let e = externs::collect(&btf, &[("CONFIG_X".into(), false)]).unwrap_err();
    assert!(e.message().contains("CONFIG_X"), "{e}");
    // A struct made of itself (twice per level) has no alignment, quickly.
    let mut b = cyclic();
    let (x, y) = (b.s("x"), b.s("y"));
    b.t("s", STRUCT, 2, 8, &[x, 5, 0, y, 5, 0]); // [5]
    assert_eq!(externs::align_of(&Btf::parse(&b.bytes()).unwrap(), 5), None);
}

#[test]
fn type_compatibility_of_branching_prototypes_ends() {
    // 15 levels of int (*)(p, p, p, p, p, p, p, p), p the level below: a walk
    // without a budget takes 8^15 steps (it never finishes).
    let mut b = B::new();
    b.t("int", INT, 0, 4, &[32]); // [1]
    let mut below = 1;
    for level in 0..15 {
        let proto = 2 + 2 * level;
        b.t("", FUNC_PROTO, 8, 1, &[0, below, 0, below, 0, below, 0, below, 0, below, 0, below, 0, below, 0, below]);
        b.t("", PTR, 0, proto, &[]);
        below = proto + 1;
    }
    let btf = Btf::parse(&b.bytes()).unwrap();
    let t0 = std::time::Instant::now();
    assert!(!types_compat(&btf, below, &btf, below), "beyond the budget, the types are not compatible");
    assert!(t0.elapsed().as_secs() < 5, "types_compat took {:?}", t0.elapsed());
    // A small, real one still matches.
    assert!(types_compat(&btf, 5, &btf, 5));
}

#[test]
fn a_target_struct_of_branching_anonymous_members_is_refused_quickly() {
    // Local: struct s { int a; }. Target: struct s nests 15 levels of eight
    // anonymous copies of the level below, with no 'a': without a budget,
    // the search takes 8^15 steps.
    let mut l = B::new();
    l.t("int", INT, 0, 4, &[32]);
    let a = l.s("a");
    l.t("s", STRUCT, 1, 4, &[a, 1, 0]); // [2]
    let acc = l.s("0:0");
    let local = Btf::parse(&l.bytes()).unwrap();
    let mut t = B::new();
    t.t("int", INT, 0, 4, &[32]); // [1]
    let c = t.s("c");
    t.t("", STRUCT, 1, 4, &[c, 1, 0]); // [2]
    for level in 0..15u32 {
        let below = 2 + level;
        let m: Vec<u32> = (0..8).flat_map(|_| [0, below, 0]).collect();
        t.t(if level == 14 { "s" } else { "" }, STRUCT, 8, 4, &m);
    }
    let target = IndexedBtf::new(Btf::parse(&t.bytes()).unwrap());
    let mut insns = vec![0u8; 8];
    insns[0] = 0x61; // ldxw r0, [r1 + 0]
    let t0 = std::time::Instant::now();
    let r = relocate(&local, &target, &mut insns, &[Relo { insn: 0, type_id: 2, access_str_off: acc, kind: kind::FIELD_BYTE_OFFSET }]);
    assert!(t0.elapsed().as_secs() < 5, "relocate took {:?}", t0.elapsed());
    let e = r.unwrap_err();
    assert!(e.to_string().contains("too much"), "{e}");
}
