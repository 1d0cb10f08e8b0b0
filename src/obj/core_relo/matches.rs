//! `TYPE_MATCHES` (`bpf_core_type_matches()`): a stricter relation than
//! compatibility. The rules (libbpf's and the kernel's, written anew):
//! - names match when their essential names (without `___flavor`) are equal;
//!   an anonymous target matches only an anonymous local;
//! - ints: same size and signedness; enums (enum or enum64 either side):
//!   same size, and each local enumerator's name exists in the target;
//! - structs and unions: same kind, and each local member has a target member
//!   of the same name whose type matches (the target may have more);
//! - behind a pointer a struct or union matches a forward declaration of the
//!   same kind, and a forward declaration the struct or union it declares;
//! - pointers and arrays (same length) recurse; function prototypes need the
//!   same number of parameters, each matching, and a matching return type.

use super::{enumerator, int_encoding, is_any_enum, kflag, member, skip, INT_SIGNED};
use crate::btf::{essential_name, Btf, BtfKind};

/// How deep types are followed before giving up (libbpf's limit).
const MAX_DEPTH: u32 = 32;

/// Whether local type `l` matches target type `t`.
pub fn types_match(local: &Btf, l: u32, target: &Btf, t: u32) -> bool {
    matches(local, l, target, t, false, MAX_DEPTH)
}

fn names_match(local: &Btf, lname: u32, target: &Btf, tname: u32) -> bool {
    let ln = local.str_bytes_at(lname).unwrap_or(b"");
    let tn = target.str_bytes_at(tname).unwrap_or(b"");
    if tn.is_empty() {
        return ln.is_empty();
    }
    essential_name(ln) == essential_name(tn)
}

fn matches(local: &Btf, l: u32, target: &Btf, t: u32, behind_ptr: bool, depth: u32) -> bool {
    if depth == 0 {
        return false;
    }
    let (_, lt) = skip(local, l);
    let (_, tt) = skip(target, t);
    if !names_match(local, lt.name_off, target, tt.name_off) {
        return false;
    }
    let (lk, tk) = (lt.kind(), tt.kind());
    let recur = |l: u32, t: u32, behind_ptr: bool| matches(local, l, target, t, behind_ptr, depth - 1);
    match lk {
        BtfKind::Void => tk == BtfKind::Void,
        BtfKind::Fwd => {
            let union = kflag(&lt);
            if tk == BtfKind::Fwd {
                union == kflag(&tt)
            } else {
                behind_ptr && ((tk == BtfKind::Struct && !union) || (tk == BtfKind::Union && union))
            }
        }
        BtfKind::Enum | BtfKind::Enum64 => {
            is_any_enum(&tt)
                && lt.size_or_type == tt.size_or_type
                && lt.vlen() <= tt.vlen()
                && (0..lt.vlen()).all(|i| (0..tt.vlen()).any(|j| names_match(local, enumerator(&lt, i).0, target, enumerator(&tt, j).0)))
        }
        BtfKind::Struct | BtfKind::Union => {
            if lk == tk {
                // Behind a pointer only the kind matters: the pointee is not read by size.
                behind_ptr || composites_match(local, &lt, target, &tt, behind_ptr, depth)
            } else {
                behind_ptr && tk == BtfKind::Fwd && (lk == BtfKind::Union) == kflag(&tt)
            }
        }
        BtfKind::Int => lk == tk && lt.size_or_type == tt.size_or_type && int_encoding(&lt) & INT_SIGNED == int_encoding(&tt) & INT_SIGNED,
        BtfKind::Ptr => lk == tk && recur(lt.size_or_type, tt.size_or_type, true),
        BtfKind::Array => match (lt.array(), tt.array()) {
            (Some((le, _, ln)), Some((te, _, tn))) => ln == tn && recur(le, te, behind_ptr),
            _ => false,
        },
        BtfKind::FuncProto => {
            lk == tk && lt.vlen() == tt.vlen() && lt.params().zip(tt.params()).all(|(lp, tp)| recur(lp.1, tp.1, behind_ptr)) && recur(lt.size_or_type, tt.size_or_type, behind_ptr)
        }
        _ => false,
    }
}

/// Every local member has a same-named target member of a matching type.
fn composites_match(local: &Btf, lt: &crate::btf::Type, target: &Btf, tt: &crate::btf::Type, behind_ptr: bool, depth: u32) -> bool {
    if lt.vlen() > tt.vlen() {
        return false;
    }
    (0..lt.vlen()).all(|i| {
        let (lname, ltype) = member(lt, i);
        (0..tt.vlen()).any(|j| {
            let (tname, ttype) = member(tt, j);
            names_match(local, lname, target, tname) && matches(local, ltype, target, ttype, behind_ptr, depth - 1)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::types_match;
    use crate::btf::tests::B;
    use crate::btf::Btf;

    /// Kinds: 1 int, 2 ptr, 3 array, 4 struct, 5 union, 6 enum, 7 fwd, 8 typedef, 13 func_proto.
    fn ints(b: &mut B) {
        b.t("int", 1, 0, 4, &[(1 << 24) | 32]); // [1] signed int
        b.t("unsigned int", 1, 0, 4, &[32]); // [2]
        b.t("long", 1, 0, 8, &[(1 << 24) | 64]); // [3]
    }

    /// `struct task { int pid; unsigned int flags; struct task *parent; }` and friends.
    fn target() -> Btf {
        let mut b = B::new();
        ints(&mut b);
        let (pid, flags, parent, a, c) = (b.s("pid"), b.s("flags"), b.s("parent"), b.s("A"), b.s("C"));
        b.t("task", 4, 3, 16, &[pid, 1, 0, flags, 2, 32, parent, 5, 64]); // [4]
        b.t("", 2, 0, 4, &[]); // [5] struct task *
        b.t("state", 6, 2, 4, &[a, 0, c, 2]); // [6] enum state { A, C }
        b.t("task_t", 8, 0, 4, &[]); // [7] typedef struct task task_t
        b.t("opaque", 7, 0, 0, &[]); // [8] fwd struct opaque
        b.t("", 2, 0, 8, &[]); // [9] struct opaque *
        b.t("", 3, 0, 0, &[1, 1, 4]); // [10] int[4]
        Btf::parse(&b.bytes()).unwrap()
    }

    #[test]
    fn ints_structs_enums_and_pointers() {
        let t = target();
        let mut b = B::new();
        ints(&mut b);
        let (pid, flags, parent) = (b.s("pid"), b.s("flags"), b.s("parent"));
        b.t("task", 4, 1, 4, &[pid, 1, 0]); // [4] a subset: matches
        b.t("task___v2", 4, 2, 12, &[flags, 2, 0, parent, 6, 32]); // [5] flavor, subset with a pointer
        b.t("", 2, 0, 4, &[]); // [6] struct task *
        b.t("task___bad", 4, 1, 4, &[pid, 2, 0]); // [7] pid unsigned: no match
        b.t("task___long", 4, 1, 8, &[pid, 3, 0]); // [8] pid long: no match
        let a = b.s("A");
        b.t("state", 6, 1, 4, &[a, 0]); // [9] enum with a subset of names
        let z = b.s("Z");
        b.t("state___z", 6, 1, 4, &[z, 0]); // [10] unknown name
        b.t("state___8", 6, 1, 8, &[a, 0]); // [11] wrong size
        b.t("opaque", 4, 0, 0, &[]); // [12] struct opaque (the target only declares it)
        b.t("", 2, 0, 12, &[]); // [13] struct opaque *
        b.t("", 3, 0, 0, &[1, 1, 4]); // [14] int[4]
        b.t("", 3, 0, 0, &[1, 1, 5]); // [15] int[5]
        let l = Btf::parse(&b.bytes()).unwrap();
        assert!(types_match(&l, 1, &t, 1), "int / int");
        assert!(!types_match(&l, 1, &t, 2), "signedness differs");
        assert!(!types_match(&l, 1, &t, 3), "size differs");
        assert!(types_match(&l, 4, &t, 4), "member subset");
        assert!(types_match(&l, 5, &t, 4), "flavour, pointer member");
        assert!(!types_match(&l, 4, &t, 6), "struct vs enum");
        assert!(!types_match(&l, 7, &t, 4), "member signedness");
        assert!(!types_match(&l, 8, &t, 4), "member size");
        assert!(types_match(&l, 9, &t, 6), "enum names subset");
        assert!(!types_match(&l, 10, &t, 6), "enum name missing");
        assert!(!types_match(&l, 11, &t, 6), "enum size");
        assert!(types_match(&l, 6, &t, 5), "pointer to struct task");
        assert!(types_match(&l, 4, &t, 7), "typedef skipped on the target");
        assert!(!types_match(&l, 12, &t, 8), "struct vs fwd: not behind a pointer");
        assert!(types_match(&l, 13, &t, 9), "behind a pointer: struct matches its fwd");
        assert!(types_match(&l, 14, &t, 10), "int[4]");
        assert!(!types_match(&l, 15, &t, 10), "array length");
    }
}
