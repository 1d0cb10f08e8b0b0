//! BTF for kernels that lack newer kinds: what the kernel takes is probed
//! (on the kernel side, with [`probe_blob`]'s tiny blobs), and the object's
//! BTF is rewritten so that every kind it does not take becomes one it does,
//! of the same size where a size matters, keeping type ids (map and func
//! info records refer to them):
//!
//! | missing | becomes |
//! |---|---|
//! | `VAR` / `DATASEC` (5.2) | `INT` of 1 byte / `STRUCT` of the variables, `.` in its name made `_` |
//! | `FUNC` / `FUNC_PROTO` (5.0) | `TYPEDEF` / `ENUM` (func info is then left out) |
//! | global `FUNC` linkage (5.6) | static |
//! | `FLOAT` (5.13) | empty `STRUCT` of its size |
//! | `DECL_TAG` (5.16) | `INT` of 1 byte |
//! | `TYPE_TAG` (5.17) | `CONST` |
//! | `ENUM64` (6.0) | `UNION` of its size, one 1-byte member per enumerator |

use super::{str_bytes, Btf, BtfKind};

/// BTF kinds and features a kernel may lack (each `true` when it has it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BtfFeatures {
    /// `FUNC` and `FUNC_PROTO` (Linux 5.0).
    pub func: bool,
    /// `FUNC` with global linkage (5.6).
    pub func_global: bool,
    /// `VAR` and `DATASEC` (5.2).
    pub datasec: bool,
    /// `FLOAT` (5.13).
    pub float: bool,
    /// `DECL_TAG` (5.16).
    pub decl_tag: bool,
    /// `TYPE_TAG` (5.17).
    pub type_tag: bool,
    /// `ENUM64` (6.0).
    pub enum64: bool,
}

impl BtfFeatures {
    /// Every feature present (a current kernel).
    pub const ALL: BtfFeatures = BtfFeatures { func: true, func_global: true, datasec: true, float: true, decl_tag: true, type_tag: true, enum64: true };

    /// The features by the names [`BtfFeatures::set`] takes.
    pub const NAMES: [&'static str; 7] = ["func", "func_global", "datasec", "float", "decl_tag", "type_tag", "enum64"];

    /// As a real kernel has them: a decl tag names a variable or function,
    /// so a kernel without `VAR` or `FUNC` cannot take it, and global linkage
    /// needs `FUNC` (each of these came later than what it needs).
    pub fn consistent(mut self) -> BtfFeatures {
        self.func_global &= self.func;
        self.decl_tag &= self.func && self.datasec;
        self
    }

    /// The flag of feature `name` (one of [`BtfFeatures::NAMES`]).
    pub fn flag(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "func" => &mut self.func,
            "func_global" => &mut self.func_global,
            "datasec" => &mut self.datasec,
            "float" => &mut self.float,
            "decl_tag" => &mut self.decl_tag,
            "type_tag" => &mut self.type_tag,
            "enum64" => &mut self.enum64,
            _ => return None,
        })
    }
}

/// A tiny blob the kernel takes only if it has feature `name` (one of
/// [`BtfFeatures::NAMES`]).
pub fn probe_blob(name: &str) -> Option<Vec<u8>> {
    const INT: u32 = BtfKind::Int as u32;
    let mut b = Blob::default();
    let int = |b: &mut Blob| b.t("int", INT, 0, 4, &[(1 << 24) | 32]); // [1] signed int
    match name {
        "func" | "func_global" => {
            int(&mut b);
            let x = b.s("x");
            b.t("", BtfKind::FuncProto as u32, 1, 1, &[x, 1]); // [2] int (int x)
            b.t("f", BtfKind::Func as u32, (name == "func_global") as u32, 2, &[]); // [3]
        }
        "datasec" => {
            int(&mut b);
            b.t("x", BtfKind::Var as u32, 0, 1, &[1]); // [2] global int x
            b.t("data", BtfKind::Datasec as u32, 1, 4, &[2, 0, 4]); // [3]
        }
        "float" => b.t("float", BtfKind::Float as u32, 0, 4, &[]),
        "decl_tag" => {
            int(&mut b);
            b.t("x", BtfKind::Var as u32, 0, 1, &[1]); // [2]
            b.t("tag", BtfKind::DeclTag as u32, 0, 2, &[u32::MAX]); // [3] on the variable
        }
        "type_tag" => {
            int(&mut b);
            b.t("tag", BtfKind::TypeTag as u32, 0, 1, &[]); // [2]
            b.t("", BtfKind::Ptr as u32, 0, 2, &[]); // [3]
        }
        "enum64" => {
            let a = b.s("A");
            b.t("e", BtfKind::Enum64 as u32, 1, 8, &[a, 1, 1]);
        }
        _ => return None,
    }
    Some(b.bytes())
}

/// A minimal BTF writer: types as words, strings appended.
struct Blob {
    words: Vec<u32>,
    strs: Vec<u8>,
}
impl Default for Blob {
    fn default() -> Blob {
        Blob { words: Vec::new(), strs: vec![0] }
    }
}
impl Blob {
    fn s(&mut self, s: &str) -> u32 {
        let off = self.strs.len() as u32;
        self.strs.extend_from_slice(s.as_bytes());
        self.strs.push(0);
        off
    }
    fn t(&mut self, name: &str, kind: u32, vlen: u32, size_or_type: u32, extra: &[u32]) {
        let n = if name.is_empty() { 0 } else { self.s(name) };
        self.words.extend_from_slice(&[n, kind << 24 | vlen, size_or_type]);
        self.words.extend_from_slice(extra);
    }
    fn bytes(&self) -> Vec<u8> {
        let tlen = self.words.len() as u32 * 4;
        let mut out = vec![0x9f, 0xeb, 1, 0];
        for v in [24u32, 0, tlen, tlen, self.strs.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(self.words.iter().flat_map(|w| w.to_le_bytes()));
        out.extend_from_slice(&self.strs);
        out
    }
}

fn info(kind: BtfKind, vlen: usize) -> u32 {
    (kind as u32) << 24 | vlen as u32
}

impl Btf {
    /// A copy of this BTF the kernel with `f` takes (see the module's
    /// table); the same BTF when it has every feature. Ids do not change:
    /// a type added for `ENUM64` goes last.
    pub fn sanitized(&self, f: &BtfFeatures) -> Btf {
        let mut b = self.clone();
        let f = &f.consistent();
        if *f == BtfFeatures::ALL {
            return b;
        }
        let mut int1: Option<u32> = None; // a 1-byte int for ENUM64 members, added on demand
        let mut param_name: Option<u32> = None;
        for id in 1..self.len() {
            let base = b.offs[id] as usize;
            let (inf, kind) = (b.words[base + 1], self.type_at(id).kind());
            let vlen = (inf & 0xffff) as usize;
            let w = &mut b.words;
            match kind {
                BtfKind::Var if !f.datasec => {
                    w[base + 1] = info(BtfKind::Int, 0);
                    w[base + 2] = 1;
                    w[base + 3] = 8; // 8 bits, no encoding
                }
                BtfKind::Datasec if !f.datasec => {
                    w[base + 1] = info(BtfKind::Struct, vlen);
                    for v in 0..vlen {
                        let s = base + 3 + 3 * v;
                        let (ty, off) = (w[s], w[s + 1]);
                        let var_name = w[b.offs[ty as usize] as usize];
                        w[s..s + 3].copy_from_slice(&[var_name, ty, off * 8]);
                    }
                    let name = str_bytes(&b.strings, w[base]).unwrap_or(&[]).to_vec();
                    if name.contains(&b'.') {
                        let fixed: Vec<u8> = name.iter().map(|&c| if c == b'.' { b'_' } else { c }).collect();
                        w[base] = push_str(b.strings.vec_mut(), &fixed);
                    }
                }
                BtfKind::FuncProto if !f.func => {
                    w[base + 1] = info(BtfKind::Enum, vlen);
                    w[base + 2] = 4;
                    for p in 0..vlen {
                        let s = base + 3 + 2 * p;
                        if w[s] == 0 {
                            // Enumerators need names; parameters of function pointer types have none.
                            w[s] = *param_name.get_or_insert_with(|| push_str(b.strings.vec_mut(), b"param"));
                        }
                        w[s + 1] = p as u32;
                    }
                }
                BtfKind::Func if !f.func => w[base + 1] = info(BtfKind::Typedef, 0),
                BtfKind::Func if !f.func_global && vlen == 1 => w[base + 1] = info(BtfKind::Func, 0),
                BtfKind::Float if !f.float => w[base + 1] = info(BtfKind::Struct, 0),
                BtfKind::DeclTag if !f.decl_tag => {
                    w[base] = 0;
                    w[base + 1] = info(BtfKind::Int, 0);
                    w[base + 2] = 1;
                    w[base + 3] = 8;
                }
                BtfKind::TypeTag if !f.type_tag => {
                    w[base] = 0;
                    w[base + 1] = info(BtfKind::Const, 0);
                }
                BtfKind::Enum64 if !f.enum64 => {
                    let int1 = *int1.get_or_insert_with(|| b.push_int1());
                    let w = &mut b.words;
                    w[base + 1] = info(BtfKind::Union, vlen);
                    for e in 0..vlen {
                        let s = base + 3 + 3 * e;
                        w[s + 1] = int1;
                        w[s + 2] = 0;
                    }
                }
                _ => {}
            }
        }
        b
    }

    /// Appends `unsigned char`-like 1-byte int type; returns its id.
    fn push_int1(&mut self) -> u32 {
        let name = push_str(self.strings.vec_mut(), b"enum64_byte");
        self.words.extend_from_slice(&[name, info(BtfKind::Int, 0), 1, 8]);
        self.offs.push(self.words.len() as u32);
        (self.len() - 1) as u32
    }
}

fn push_str(strings: &mut Vec<u8>, s: &[u8]) -> u32 {
    let off = strings.len() as u32;
    strings.extend_from_slice(s);
    strings.push(0);
    off
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_blobs_parse() {
        for n in BtfFeatures::NAMES {
            let b = Btf::parse(&probe_blob(n).unwrap()).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert!(b.len() >= 2, "{n}");
        }
        assert!(probe_blob("nope").is_none());
    }

    #[test]
    fn every_kind_rewritten_and_ids_kept() {
        // Each probe blob, with its feature off, has none of its kind left.
        for n in BtfFeatures::NAMES {
            let btf = Btf::parse(&probe_blob(n).unwrap()).unwrap();
            let mut f = BtfFeatures::ALL;
            *f.flag(n).unwrap() = false;
            let s = Btf::parse(&btf.sanitized(&f).to_bytes()).unwrap();
            assert!(s.len() >= btf.len(), "{n}: ids kept");
            for (id, t) in s.types() {
                let bad = match n {
                    "func" => matches!(t.kind(), BtfKind::Func | BtfKind::FuncProto),
                    "func_global" => t.kind() == BtfKind::Func && t.vlen() != 0,
                    "datasec" => matches!(t.kind(), BtfKind::Var | BtfKind::Datasec),
                    "float" => t.kind() == BtfKind::Float,
                    "decl_tag" => t.kind() == BtfKind::DeclTag,
                    "type_tag" => t.kind() == BtfKind::TypeTag,
                    _ => t.kind() == BtfKind::Enum64,
                };
                assert!(!bad, "{n}: type [{id}] is still {:?}", t.kind());
            }
        }
        // DATASEC -> STRUCT: members named after the variables, bit offsets, '.' gone.
        let btf = Btf::parse(&probe_blob("datasec").unwrap()).unwrap();
        let mut f = BtfFeatures::ALL;
        f.datasec = false;
        let s = btf.sanitized(&f);
        let t = s.type_by_id(3).unwrap();
        assert_eq!((t.kind(), t.size_or_type, s.name_of(3)), (BtfKind::Struct, 4, "data"));
        let m = t.members().next().unwrap();
        assert_eq!((s.str_at(m.name_off), m.type_id, m.offset), (Some("x"), 2, 0));
        // ENUM64 -> UNION of its size.
        let btf = Btf::parse(&probe_blob("enum64").unwrap()).unwrap();
        let mut f = BtfFeatures::ALL;
        f.enum64 = false;
        let s = btf.sanitized(&f);
        assert_eq!((s.type_by_id(1).unwrap().kind(), s.size_of(1).unwrap()), (BtfKind::Union, 8));
        assert_eq!(s.len(), 3, "a 1-byte int added last");
    }
}
