//! Looking a BTF's named types up by essential name (the name without a
//! `___flavor` suffix), lazily: see [`IndexedBtf`].

use super::{Btf, BtfKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// A BTF (the kernel's, typically) that answers "which types have this
/// essential name" for CO-RE, kfunc/ksym resolution and BTF attach points.
///
/// Lazily: nothing is built when it is made (it is made once per process, for
/// the kernel's 100,000-odd types, and a tool asks for a dozen names). A name
/// is looked up by one pass over the types' names, and remembered; [`prepare`]
/// looks up many names in one pass, which is what an object's load does with
/// the root types of all its CO-RE relocations. The first pass keeps each
/// type's filter key (2 bytes a type), so later passes scan only those. The pass reads four bytes of
/// each name against a 64-kbit filter of the wanted names' first four bytes,
/// so a type whose name cannot match costs a few loads, not a hash.
///
/// [`prepare`]: IndexedBtf::prepare
#[derive(Debug)]
pub struct IndexedBtf {
    /// The indexed BTF.
    pub btf: Btf,
    memo: Mutex<Memo>,
}

#[derive(Debug, Default)]
struct Memo {
    /// Essential name -> ids of the types with that name, in id order.
    names: HashMap<Box<[u8]>, Arc<[u32]>>,
    /// The filter key of every type's name (`keys[id - 1]`), kept by the first
    /// pass (2 bytes a type), so that later passes (a ksym, an attach point)
    /// scan this array instead of the types and their names.
    keys: Option<Box<[u16]>>,
}

/// The filter key of a name: a hash of its first four bytes (those after
/// its NUL taken as 0), in 16 bits.
#[inline]
fn key4(s: &[u8]) -> usize {
    let v = match s.get(..4) {
        Some(b) => u32::from_le_bytes(b.try_into().unwrap()),
        None => s.iter().rev().fold(0u32, |v, &b| v << 8 | b as u32),
    };
    // Bytes from the first NUL on are zeroed (branch-free: the classic zero-byte test).
    let z = v.wrapping_sub(0x0101_0101) & !v & 0x8080_8080;
    let v = if z == 0 { v } else { v & ((1u64 << (z.trailing_zeros() & !7)) - 1) as u32 };
    (v.wrapping_mul(0x9e37_79b1) >> 16) as usize
}

/// The keys under which the names with essential name `n` are found: its
/// own, and, when it is shorter than four bytes, that of `n___...`.
fn keys_of(n: &[u8]) -> [usize; 2] {
    let own = key4(n);
    if n.len() >= 4 || n.is_empty() {
        return [own, own];
    }
    [own, key4(&[n, b"___"].concat())]
}

impl IndexedBtf {
    /// Wraps `btf`; costs nothing until a name is asked for.
    pub fn new(btf: Btf) -> IndexedBtf {
        IndexedBtf { btf, memo: Mutex::new(Memo::default()) }
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        // A panic elsewhere cannot leave the map half-written: entries are inserted whole.
        self.memo.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Looks up all `names` (essential names) not looked up yet, in one pass.
    pub fn prepare<'n>(&self, names: impl IntoIterator<Item = &'n [u8]>) {
        let mut memo = self.memo();
        let mut wanted: HashMap<&[u8], Vec<u32>> = HashMap::new();
        for n in names {
            if !memo.names.contains_key(n) {
                wanted.entry(n).or_default();
            }
        }
        if wanted.is_empty() {
            return;
        }
        let mut filter = vec![0u64; 1024];
        let mut set = |k: usize| filter[k / 64] |= 1 << (k % 64);
        for n in wanted.keys() {
            keys_of(n).into_iter().for_each(&mut set);
        }
        let passes = |k: usize| filter[k / 64] & 1 << (k % 64) != 0;
        let mut check = |id: u32, name_off: u32| {
            let Some(s) = self.btf.strings_from(name_off) else { return };
            let full = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
            if let Some(ids) = wanted.get_mut(essential_name(full)) {
                ids.push(id);
            }
        };
        match &memo.keys {
            Some(keys) => {
                for (i, &k) in keys.iter().enumerate() {
                    let id = i as u32 + 1;
                    if passes(k as usize) {
                        match self.btf.type_by_id(id) {
                            Some(t) if t.name_off != 0 => check(id, t.name_off),
                            _ => {}
                        }
                    }
                }
            }
            None => {
                let mut keys = vec![0u16; self.btf.len().saturating_sub(1)].into_boxed_slice();
                for (id, name_off) in self.btf.type_names() {
                    let Some(s) = self.btf.strings_from(name_off) else { continue };
                    let k = key4(s);
                    keys[id as usize - 1] = k as u16;
                    if passes(k) {
                        check(id, name_off);
                    }
                }
                memo.keys = Some(keys);
            }
        }
        for (n, ids) in wanted {
            memo.names.insert(n.into(), ids.into());
        }
    }

    /// Ids of the types whose essential name is `name` (any kind), in id order.
    pub fn by_essential_name(&self, name: &[u8]) -> impl Iterator<Item = u32> + 'static {
        let hit = self.memo().names.get(name).cloned();
        let ids = hit.unwrap_or_else(|| {
            self.prepare([name]);
            self.memo().names.get(name).cloned().unwrap_or_else(|| Arc::from([]))
        });
        (0..ids.len()).map(move |i| ids[i])
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
    fn filter_keys_stop_at_the_nul() {
        assert_eq!(key4(b"ab\0xyz"), key4(b"ab"));
        assert_eq!(key4(b"abcdef\0"), key4(b"abcd"));
        assert_eq!(key4(b"\0abc"), key4(b""));
        assert_eq!(key4(b"a\xff\0q"), key4(b"a\xff"));
        assert_ne!(key4(b"abc\0"), key4(b"abd\0"));
        assert_eq!(keys_of(b"ab")[1], key4(b"ab___x"));
    }

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
