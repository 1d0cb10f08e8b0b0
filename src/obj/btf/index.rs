//! An index over a BTF's named types by essential name (the name without a
//! `___flavor` suffix), so that looking a name up in the kernel's BTF (over
//! 100,000 types) is a binary search rather than a scan.

use super::{Btf, BtfKind};

/// The essential part of a name: `task_struct___v2` -> `task_struct` (the
/// last `X___Y` separator, X and Y not underscores, cuts the flavor).
pub fn essential_name(name: &[u8]) -> &[u8] {
    let n = name.len();
    if n >= 5 {
        for i in (0..=n - 5).rev() {
            let s = &name[i..];
            if s[0] != b'_' && &s[1..4] == b"___" && s[4] != b'_' {
                return &name[..i + 1];
            }
        }
    }
    name
}

fn hash_name(name: &[u8]) -> u64 {
    // FNV-1a.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A BTF (the kernel's, typically) with an index of its named types by
/// essential name: what CO-RE, kfunc/ksym resolution and BTF attach points
/// search, many times per object.
#[derive(Debug)]
pub struct IndexedBtf {
    /// The indexed BTF.
    pub btf: Btf,
    /// (hash of the essential name, type id), sorted.
    index: Vec<(u64, u32)>,
}

impl IndexedBtf {
    /// Indexes `btf`'s named types.
    pub fn new(btf: Btf) -> IndexedBtf {
        let mut index: Vec<(u64, u32)> = btf
            .types()
            .filter(|(_, t)| t.name_off != 0)
            .filter_map(|(id, t)| btf.str_bytes_at(t.name_off).map(|n| (hash_name(essential_name(n)), id)))
            .collect();
        index.sort_unstable();
        IndexedBtf { btf, index }
    }

    /// Ids of the types whose essential name is `name` (any kind), in id order.
    pub fn by_essential_name<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = u32> + 'a {
        let h = hash_name(name);
        let start = self.index.partition_point(|e| e.0 < h);
        self.index[start..]
            .iter()
            .take_while(move |e| e.0 == h)
            .map(|e| e.1)
            .filter(move |&id| self.btf.type_by_id(id).and_then(|t| self.btf.str_bytes_at(t.name_off)).is_some_and(|n| essential_name(n) == name))
    }

    /// The type named exactly `name` of kind `kind`.
    pub fn find(&self, name: &str, kind: BtfKind) -> Option<u32> {
        self.by_essential_name(essential_name(name.as_bytes()))
            .find(|&id| self.btf.type_by_id(id).is_some_and(|t| t.kind() == kind) && self.btf.name_of(id) == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_names() {
        assert_eq!(essential_name(b"task_struct___mine"), b"task_struct");
        assert_eq!(essential_name(b"task_struct"), b"task_struct");
        assert_eq!(essential_name(b"a___b___c"), b"a___b");
        assert_eq!(essential_name(b"__x"), b"__x");
        assert_eq!(essential_name(b"x____y"), b"x____y"); // 4 underscores: Y would start with '_'
        assert_eq!(essential_name(b"x___"), b"x___");
        assert_eq!(essential_name(b"___x"), b"___x");
    }
}
