//! Tests of the BTF parser and writer, and `B`, a tiny BTF writer other tests use.

use super::*;

/// A tiny BTF writer for tests: types as raw u32 words, strings by name.
#[derive(Default)]
pub(crate) struct B {
    words: Vec<u32>,
    strs: Vec<u8>,
}
impl B {
    pub(crate) fn new() -> B {
        B { words: vec![], strs: vec![0] }
    }
    pub(crate) fn s(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.strs.len() as u32;
        self.strs.extend_from_slice(s.as_bytes());
        self.strs.push(0);
        off
    }
    pub(crate) fn t(&mut self, name: &str, kind: u32, vlen: u32, st: u32, extra: &[u32]) {
        let n = self.s(name);
        self.words.extend_from_slice(&[n, kind << 24 | vlen, st]);
        self.words.extend_from_slice(extra);
    }
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let types: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut out = vec![0x9f, 0xeb, 1, 0];
        for v in [24u32, 0, types.len() as u32, types.len() as u32, self.strs.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(types);
        out.extend_from_slice(&self.strs);
        out
    }
}

/// The BTF clang emits for:
/// struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16);
///          __type(key, u32); __type(value, u64); } counts SEC(".maps");
pub(crate) fn maps_btf() -> Vec<u8> {
    let mut b = B::new();
    b.t("int", 1, 0, 4, &[32]); // [1]
    b.t("__ARRAY_SIZE_TYPE__", 1, 0, 4, &[32]); // [2]
    b.t("", 3, 0, 0, &[1, 2, 1]); // [3] int[1] (HASH = 1)
    b.t("", 2, 0, 3, &[]); // [4] ptr -> [3]
    b.t("", 3, 0, 0, &[1, 2, 16]); // [5] int[16]
    b.t("", 2, 0, 5, &[]); // [6]
    b.t("u32", 1, 0, 4, &[32]); // [7]
    b.t("", 2, 0, 7, &[]); // [8] u32 *
    b.t("u64", 1, 0, 8, &[64]); // [9]
    b.t("", 2, 0, 9, &[]); // [10] u64 *
    let (ty, me, ke, va) = (b.s("type"), b.s("max_entries"), b.s("key"), b.s("value"));
    b.t("", 4, 4, 32, &[ty, 4, 0, me, 6, 64, ke, 8, 128, va, 10, 192]); // [11]
    b.t("counts", 14, 0, 11, &[1]); // [12] var
    b.t(".maps", 15, 1, 0, &[12, 0, 32]); // [13] datasec, size 0 as clang leaves it
    b.bytes()
}

#[test]
fn round_trips_and_fixes_datasecs() {
    let mut btf = Btf::parse(&maps_btf()).unwrap();
    let again = Btf::parse(&btf.to_bytes()).unwrap();
    assert_eq!((&again.words, &again.offs, &again.strings), (&btf.words, &btf.offs, &btf.strings));
    btf.fixup_datasecs(&|s| (s == ".maps").then_some(64), &|s, v| (s == ".maps" && v == "counts").then_some(32)).unwrap();
    let id = btf.find_by_name_kind(".maps", BtfKind::Datasec).unwrap();
    let t = btf.type_by_id(id).unwrap();
    assert_eq!(t.size_or_type, 64);
    assert_eq!(t.data(), TypeData::Datasec(vec![VarSecinfo { type_id: 12, offset: 32, size: 32 }]));
    // A variable without a symbol is an error, not a silent zero.
    let err = btf.fixup_datasecs(&|_| Some(64), &|_, _| None).unwrap_err();
    assert!(err.message().contains("'counts' has no symbol"), "{err}");
}

#[test]
fn rejects_malformed_blobs() {
    let good = maps_btf();
    assert!(Btf::parse(&good[..10]).is_err());
    let mut bad = good.clone();
    bad[0] = 0x00;
    assert!(Btf::parse(&bad).unwrap_err().message().contains("magic"));
    let mut be = good.clone();
    be[0] = 0xeb;
    be[1] = 0x9f;
    assert!(Btf::parse(&be).unwrap_err().message().contains("big-endian"));
    // Type section longer than the blob.
    let mut long = good.clone();
    long[12] = 0xff;
    long[13] = 0xff;
    assert!(Btf::parse(&long).unwrap_err().message().contains("runs past the end"));
    // Truncated in the middle of a type.
    let mut b = B::new();
    b.t("int", 1, 0, 4, &[]);
    assert!(Btf::parse(&b.bytes()).is_err());
    // Reference to a type that does not exist.
    let mut b = B::new();
    b.t("", 2, 0, 7, &[]);
    assert!(Btf::parse(&b.bytes()).unwrap_err().message().contains("does not exist"));
    // Unknown kind.
    let mut b = B::new();
    b.t("x", 31, 0, 0, &[]);
    assert!(Btf::parse(&b.bytes()).unwrap_err().message().contains("unknown kind"));
}

#[test]
fn parses_btf_ext_records() {
    let btf = Btf::parse(&maps_btf()).unwrap();
    let sec = btf.strings.windows(5).position(|w| w == b".maps").unwrap() as u32;
    let mut fi = vec![8u32, sec, 2, 0, 1, 16, 2];
    let li = [16u32, sec, 1, 8, 0, 0, (12 << 10) | 3];
    let words = |v: &[u32]| v.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
    let mut d = vec![0x9f, 0xeb, 1, 0];
    let (fb, lb) = (words(&fi), words(&li));
    for v in [24u32, 0, fb.len() as u32, fb.len() as u32, lb.len() as u32] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    d.extend(fb);
    d.extend(lb);
    let ext = BtfExt::parse(&d, &btf).unwrap();
    assert_eq!(ext.func_info, vec![(".maps".to_string(), vec![FuncInfo { insn_off: 0, type_id: 1 }, FuncInfo { insn_off: 16, type_id: 2 }])]);
    assert_eq!(ext.line_info[0].1[0].line(), 12);
    assert_eq!(ext.line_info[0].1[0].col(), 3);
    // A record count that runs past the end.
    fi[2] = 1000;
    let fb = words(&fi);
    let mut d2 = d[..24].to_vec();
    d2.extend(fb);
    assert!(BtfExt::parse(&d2, &btf).is_err());
}

#[test]
fn btf_ext_records_come_back_in_instruction_order() {
    // Assembly finds a program's records by binary search: a section given in
    // two blocks, out of order, must still come back sorted, ties in order.
    let btf = Btf::parse(&maps_btf()).unwrap();
    let sec = btf.strings.windows(5).position(|w| w == b".maps").unwrap() as u32;
    let fi = [8u32, sec, 2, 24, 3, 8, 2, sec, 2, 0, 1, 8, 4];
    let mut d = vec![0x9f, 0xeb, 1, 0];
    let fb: Vec<u8> = fi.iter().flat_map(|w| w.to_le_bytes()).collect();
    for v in [24u32, 0, fb.len() as u32, fb.len() as u32, 0] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    d.extend(fb);
    let ext = BtfExt::parse(&d, &btf).unwrap();
    let got: Vec<(u32, u32)> = ext.func_info[0].1.iter().map(|r| (r.insn_off, r.type_id)).collect();
    assert_eq!(got, vec![(0, 1), (8, 2), (8, 4), (24, 3)]);
}

#[test]
fn fixup_sorts_variables_and_sanitize_empties_extern_sections() {
    let mut b = B::new();
    b.t("int", 1, 0, 4, &[32]); // [1]
    b.t("a", 14, 0, 1, &[1]); // [2] global var
    b.t("b", 14, 0, 1, &[1]); // [3]
    b.t("k", 14, 0, 1, &[2]); // [4] extern var (linkage 2)
    b.t(".data", 15, 2, 0, &[2, 0, 0, 3, 0, 0]); // [5] sizes left 0 as well
    b.t(".kconfig", 15, 1, 0, &[4, 0, 4]); // [6] no ELF section
    b.t("u", 1, 0, 8, &[64]); // [7] after the emptied DATASEC
    let mut btf = Btf::parse(&b.bytes()).unwrap();
    let offs = |_: &[u8], v: &[u8]| match v {
        b"a" => Some(8),
        b"b" => Some(0),
        _ => None,
    };
    btf.fixup_datasecs_with(|s| (s == b".data").then_some((12, ())), |_, s, v| offs(s, v)).unwrap();
    let ds = btf.type_by_id(5).unwrap();
    assert_eq!(ds.size_or_type, 12);
    let v: Vec<VarSecinfo> = ds.secinfos().collect();
    assert_eq!(v, vec![VarSecinfo { type_id: 3, offset: 0, size: 4 }, VarSecinfo { type_id: 2, offset: 8, size: 4 }]);
    btf.sanitize_for_kernel();
    assert_eq!(btf.type_by_id(4).unwrap().data(), TypeData::Var(0));
    let kc = btf.type_by_id(6).unwrap();
    assert_eq!((kc.vlen(), kc.extra.len(), kc.size_or_type), (0, 0, 4));
    assert_eq!(btf.name_of(7), "u");
    assert_eq!(btf.size_of(7).unwrap(), 8);
    // The rewritten blob parses back to the same types.
    let again = Btf::parse(&btf.to_bytes()).unwrap();
    assert_eq!(again.len(), 8);
    assert_eq!(again.types().map(|(_, t)| t.data()).collect::<Vec<_>>(), btf.types().map(|(_, t)| t.data()).collect::<Vec<_>>());
}

#[test]
fn views_decode_every_kind() {
    let mut b = B::new();
    b.t("int", 1, 0, 4, &[32]); // [1]
    let (x, y) = (b.s("x"), b.s("y"));
    b.t("s", 4, 2, 8, &[x, 1, 0, y, 1, 32]); // [2]
    b.t("e", 6, 1, 4, &[x, (-1i32) as u32]); // [3]
    b.t("", 13, 2, 1, &[x, 1, 0, 2]); // [4] int (int x, struct s)
    b.t("f", 12, 0, 4, &[]); // [5]
    b.t("e64", 19, 1, 8, &[y, 1, 2]); // [6]
    b.t("tag", 17, 0, 2, &[(-1i32) as u32]); // [7]
    b.t("", 3, 0, 0, &[2, 1, 3]); // [8] struct s[3]
    let btf = Btf::parse(&b.bytes()).unwrap();
    let t = |id| btf.type_by_id(id).unwrap();
    assert_eq!(t(0).kind(), BtfKind::Void);
    assert!(btf.type_by_id(9).is_none());
    assert_eq!(t(1).data(), TypeData::Int(32));
    assert_eq!(t(2).data(), TypeData::Members(vec![Member { name_off: x, type_id: 1, offset: 0 }, Member { name_off: y, type_id: 1, offset: 32 }]));
    assert_eq!(t(3).data(), TypeData::Enum(vec![(x, -1)]));
    assert_eq!(t(4).data(), TypeData::Params(vec![(x, 1), (0, 2)]));
    assert_eq!(t(5).data(), TypeData::None);
    assert_eq!(t(6).data(), TypeData::Enum64(vec![(y, 1, 2)]));
    assert_eq!(t(7).data(), TypeData::DeclTag(-1));
    assert_eq!(t(8).array(), Some((2, 1, 3)));
    assert_eq!(t(2).params().count(), 0);
    assert_eq!(t(4).members().count(), 0);
    assert_eq!(btf.size_of(8).unwrap(), 24);
    assert_eq!(btf.find_by_name_kind("f", BtfKind::Func), Some(5));
    assert_eq!(btf.find_by_name_kind("f", BtfKind::Struct), None);
    // Bad references inside members, params and secinfos are found too.
    for (kind, vlen, extra) in [(4u32, 1u32, vec![x, 9, 0]), (13, 1, vec![x, 9]), (15, 1, vec![9, 0, 4]), (3, 0, vec![1, 9, 1])] {
        let mut b = B::new();
        b.t("int", 1, 0, 4, &[32]);
        b.t("t", kind, vlen, if kind == 13 { 1 } else { 4 }, &extra);
        let e = Btf::parse(&b.bytes()).unwrap_err();
        assert!(e.message().contains("type [2] refers to type [9]"), "{e}");
    }
    // A type section that is not a whole number of words.
    let mut d = b.bytes();
    d[12] += 1;
    assert!(Btf::parse(&d).unwrap_err().message().contains("truncated"));
    // A name offset outside the strings.
    let mut b = B::new();
    b.words.extend_from_slice(&[999, 1 << 24, 4, 32]);
    assert!(Btf::parse(&b.bytes()).unwrap_err().message().contains("name offset"));
}

#[test]
fn split_btf_continues_its_base() {
    let mut base = B::new();
    base.t("int", 1, 0, 4, &[(1 << 24) | 32]); // [1]
    let next = base.s("next");
    base.t("list_head", 4, 1, 8, &[next, 3, 0]); // [2]
    base.t("", 2, 0, 2, &[]); // [3] struct list_head *
    let base_btf = Btf::parse(&base.bytes()).unwrap();
    let base_strs = base.strs.len() as u32;
    // The module's own strings start after the base's; its ids after [3].
    let mut m = B { words: vec![], strs: vec![] };
    let name = base_strs + m.s("mod_thing");
    let (a, l) = (base_strs + m.s("a"), base_strs + m.s("link"));
    m.words.extend_from_slice(&[name, 4 << 24 | 2, 16, a, 1, 0, l, 2, 64]); // [4] struct mod_thing { int a; struct list_head link; }
    m.words.extend_from_slice(&[0, 2 << 24, 4]); // [5] struct mod_thing *
    let split = Btf::parse_split(&m.bytes(), &base_btf).unwrap();
    assert_eq!(split.len(), 6);
    assert_eq!(split.find_by_name_kind("mod_thing", BtfKind::Struct), Some(4));
    assert_eq!(split.find_by_name_kind("list_head", BtfKind::Struct), Some(2), "base types stay");
    let t = split.type_by_id(4).unwrap();
    let names: Vec<&str> = t.members().map(|x| split.str_at(x.name_off).unwrap()).collect();
    assert_eq!(names, ["a", "link"]);
    assert_eq!(split.size_of(5).unwrap(), 8);
    assert_eq!(split.skip_mods(t.members().nth(1).unwrap().type_id), 2);
    // A reference past both is refused; so is the same blob without its base.
    m.words.extend_from_slice(&[0, 2 << 24, 9]);
    assert!(Btf::parse_split(&m.bytes(), &base_btf).unwrap_err().message().contains("type [6] refers to type [9]"));
    assert!(Btf::parse(&m.bytes()).is_err());
}
