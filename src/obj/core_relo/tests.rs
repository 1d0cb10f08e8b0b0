//! CO-RE against small hand-written local and target BTFs.

use super::*;
use crate::btf::tests::B;

#[test]
fn access_strings() {
    assert_eq!(parse_access("0:1:2").unwrap(), vec![0, 1, 2]);
    assert!(parse_access("").is_err());
    assert!(parse_access("0:x").is_err());
    assert!(parse_access("0::1").is_err());
}

/// Local: struct s___mine { int b; int a; } and an enum.
/// Target: struct s { long pad; union { int a; }; int b; int arr[4]; }, enum e { X = 5, Y = 7 }.
fn btfs() -> (Btf, IndexedBtf) {
    let mut l = B::new();
    l.t("int", 1, 0, 4, &[(1 << 24) | 32]); // [1] signed int
    let (a, b) = (l.s("a"), l.s("b"));
    let gone = l.s("gone");
    l.t("s___mine", 4, 3, 12, &[b, 1, 0, a, 1, 32, gone, 1, 64]); // [2]
    let y = l.s("Y");
    l.t("e___mine", 6, 1, 4, &[y, 1]); // [3]
    l.t("", 3, 0, 0, &[1, 1, 4]); // [4] int[4]
    let arr = l.s("arr");
    l.t("s___arr", 4, 1, 16, &[arr, 4, 0]); // [5]
    l.t("nothere", 4, 1, 4, &[a, 1, 0]); // [6]
    l.t("", 4, 1, 4, &[a, 1, 0]); // [7] anonymous
    let local = Btf::parse(&l.bytes()).unwrap();

    let mut t = B::new();
    t.t("long", 1, 0, 8, &[(1 << 24) | 64]); // [1]
    t.t("int", 1, 0, 4, &[(1 << 24) | 32]); // [2]
    let a = t.s("a");
    t.t("", 5, 1, 4, &[a, 2, 0]); // [3] union { int a; }
    let (pad, b, arr) = (t.s("pad"), t.s("b"), t.s("arr"));
    t.t("", 3, 0, 0, &[2, 2, 4]); // [4] int[4]
    t.t("s", 4, 4, 32, &[pad, 1, 0, 0, 3, 64, b, 2, 96, arr, 4, 128]); // [5]
    let (x, y) = (t.s("X"), t.s("Y"));
    t.t("e", 6, 2, 4, &[x, 5, y, 7]); // [6]
    let target = IndexedBtf::new(Btf::parse(&t.bytes()).unwrap());
    (local, target)
}

fn one(local: &Btf, target: &IndexedBtf, type_id: u32, access: &str, k: u32) -> Result<(Value, Value)> {
    resolve(local, target, &Relo { insn: 0, type_id, access_str_off: 0, kind: k }, access)
}

#[test]
fn parses_local_specs() {
    let (local, _) = btfs();
    let s = parse_spec(&local, 2, "0:1", kind::FIELD_BYTE_OFFSET).unwrap();
    assert_eq!(s.bit_offset, 32);
    assert_eq!(s.acc.len(), 2);
    assert_eq!(s.acc[1].name, Some(&b"a"[..]));
    let s = parse_spec(&local, 5, "1:0:3", kind::FIELD_BYTE_OFFSET).unwrap();
    assert_eq!(s.bit_offset, (16 + 12) * 8);
    assert!(parse_spec(&local, 2, "0:3", kind::FIELD_BYTE_OFFSET).unwrap_err().message().contains("out of range"));
    assert!(parse_spec(&local, 5, "0:0:4", kind::FIELD_BYTE_OFFSET).unwrap_err().message().contains("out of range"));
    assert!(parse_spec(&local, 3, "1", kind::ENUMVAL_VALUE).unwrap_err().message().contains("enum"));
    assert!(parse_spec(&local, 2, "0:1", kind::TYPE_SIZE).is_err());
    assert!(parse_spec(&local, 99, "0", kind::TYPE_SIZE).unwrap_err().message().contains("does not exist"));
    assert_eq!(describe(&local, 5, "0:0:3", kind::FIELD_BYTE_OFFSET), "[5] struct s___arr.arr[3] (0:0:3)");
}

#[test]
fn matches_fields_by_name_through_anonymous_members() {
    let (local, target) = btfs();
    // a: local offset 4, target inside the anonymous union at 8.
    let (o, n) = one(&local, &target, 2, "0:1", kind::FIELD_BYTE_OFFSET).unwrap();
    assert_eq!((o.val, n.val, n.size), (4, 8, 4));
    let (o, n) = one(&local, &target, 2, "0:0", kind::FIELD_BYTE_OFFSET).unwrap();
    assert_eq!((o.val, n.val), (0, 12));
    assert_eq!(one(&local, &target, 2, "0:0", kind::FIELD_BYTE_SIZE).unwrap().1.val, 4);
    assert_eq!(one(&local, &target, 2, "0:0", kind::FIELD_SIGNED).unwrap().1.val, 1);
    assert_eq!(one(&local, &target, 2, "0:0", kind::FIELD_EXISTS).unwrap().1.val, 1);
    assert_eq!(one(&local, &target, 2, "0:0", kind::FIELD_RSHIFT_U64).unwrap().1.val, 32);
    // A field the target lacks: exists -> 0, offset -> poison.
    assert_eq!(one(&local, &target, 2, "0:2", kind::FIELD_EXISTS).unwrap().1.val, 0);
    assert!(one(&local, &target, 2, "0:2", kind::FIELD_BYTE_OFFSET).unwrap().1.poison);
    // Array elements, and the root index.
    let (o, n) = one(&local, &target, 5, "0:0:3", kind::FIELD_BYTE_OFFSET).unwrap();
    assert_eq!((o.val, n.val), (12, 16 + 12));
    assert_eq!(one(&local, &target, 5, "2:0:1", kind::FIELD_BYTE_OFFSET).unwrap().1.val, 2 * 32 + 16 + 4);
    assert!(one(&local, &target, 5, "0:0:1", kind::FIELD_LSHIFT_U64).unwrap_err().message().contains("array element"));
    // A type absent from the target.
    assert!(one(&local, &target, 6, "0:0", kind::FIELD_BYTE_OFFSET).unwrap().1.poison);
    assert!(one(&local, &target, 7, "0:0", kind::FIELD_BYTE_OFFSET).unwrap_err().message().contains("anonymous"));
}

#[test]
fn type_and_enum_relocations() {
    let (local, target) = btfs();
    assert_eq!(one(&local, &target, 2, "0", kind::TYPE_SIZE).unwrap().1.val, 32);
    assert_eq!(one(&local, &target, 2, "0", kind::TYPE_EXISTS).unwrap().1.val, 1);
    assert_eq!(one(&local, &target, 2, "0", kind::TYPE_ID_TARGET).unwrap().1.val, 5);
    assert_eq!(one(&local, &target, 2, "0", kind::TYPE_ID_LOCAL).unwrap().1.val, 2);
    assert_eq!(one(&local, &target, 6, "0", kind::TYPE_EXISTS).unwrap().1.val, 0);
    assert!(!one(&local, &target, 6, "0", kind::TYPE_SIZE).unwrap().1.poison);
    assert_eq!(one(&local, &target, 3, "0", kind::ENUMVAL_VALUE).unwrap(), (Value { val: 1, validate: true, ..Default::default() }, Value { val: 7, validate: true, ..Default::default() }));
    assert_eq!(one(&local, &target, 3, "0", kind::ENUMVAL_EXISTS).unwrap().1.val, 1);
    // s___mine has a member 'gone' the target lacks: compatible, but no match.
    assert_eq!(one(&local, &target, 2, "0", kind::TYPE_MATCHES).unwrap().1.val, 0);
    assert_eq!(one(&local, &target, 5, "0", kind::TYPE_MATCHES).unwrap().1.val, 1, "s___arr: arr is int[4] in both");
    assert_eq!(one(&local, &target, 3, "0", kind::TYPE_MATCHES).unwrap().1.val, 1, "e___mine: Y exists in e");
}

#[test]
fn candidates_must_agree() {
    let (local, _) = btfs();
    let mut t = B::new();
    t.t("int", 1, 0, 4, &[32]); // [1]
    let (a, b) = (t.s("a"), t.s("b"));
    t.t("s", 4, 2, 8, &[a, 1, 0, b, 1, 32]); // [2]
    t.t("s___v2", 4, 3, 12, &[a, 1, 0, 0, 1, 32, b, 1, 64]); // [3] 'a' alike, 'b' elsewhere
    t.t("s___v3", 4, 1, 4, &[b, 1, 0]); // [4] no 'a': does not match
    let target = IndexedBtf::new(Btf::parse(&t.bytes()).unwrap());
    assert_eq!(target.by_essential_name(b"s").collect::<Vec<_>>(), vec![2, 3, 4]);
    assert_eq!(target.find("s___v2", BtfKind::Struct), Some(3));
    // Local "0:1" is 'a': at 0 in [2] and [3], absent from [4].
    assert_eq!(one(&local, &target, 2, "0:1", kind::FIELD_BYTE_OFFSET).unwrap().1.val, 0);
    // Local "0:0" is 'b': at 4 in [2], 8 in [3], 0 in [4].
    assert!(one(&local, &target, 2, "0:0", kind::FIELD_BYTE_OFFSET).unwrap_err().message().contains("ambiguous"));
    // Type sizes differ too.
    assert!(one(&local, &target, 2, "0", kind::TYPE_SIZE).unwrap_err().message().contains("ambiguous"));
}

#[test]
fn patches_instructions() {
    let (local, target) = btfs();
    // r1 += 4 (offset of a); r0 = *(u32 *)(r1 + 4); r0 = 1 (type exists, ld_imm64); r0 = *(u32 *)(r1 + 8) (gone).
    let mut insns = vec![
        0x07, 0x01, 0, 0, 4, 0, 0, 0, // alu64 add imm
        0x61, 0x10, 4, 0, 0, 0, 0, 0, // ldxw r0, [r1+4]
        0x18, 0x00, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ld_imm64 r0, 1
        0x61, 0x10, 8, 0, 0, 0, 0, 0, // ldxw r0, [r1+8]
    ];
    let rs = [(0usize, "0:1", kind::FIELD_BYTE_OFFSET), (1, "0:1", kind::FIELD_BYTE_OFFSET), (2, "0", kind::TYPE_EXISTS), (4, "0:2", kind::FIELD_BYTE_OFFSET)];
    for (at, access, k) in rs {
        let r = Relo { insn: at, type_id: 2, access_str_off: 0, kind: k };
        let (o, n) = resolve(&local, &target, &r, access).unwrap();
        patch(&mut insns, at, &o, &n).unwrap();
    }
    assert_eq!(insn::imm(&insns, 0), 8);
    assert_eq!(insn::off(&insns, 1), 8);
    assert_eq!(insn::imm(&insns, 2), 1);
    assert_eq!((insn::code(&insns, 4), insn::imm(&insns, 4)), (insn::CALL, POISON_IMM));
    // The instruction must hold the local value.
    let r = Relo { insn: 0, type_id: 2, access_str_off: 0, kind: kind::FIELD_BYTE_OFFSET };
    let (o, n) = resolve(&local, &target, &r, "0:0").unwrap();
    assert!(patch(&mut insns, 0, &o, &n).unwrap_err().message().contains("expected the local value 0"));
}
