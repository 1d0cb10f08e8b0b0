//! Writing BTF back for the kernel: the `DATASEC` fix-ups clang leaves to the
//! loader, the sanitising the kernel needs, and the blob itself.

use super::{str_bytes, Btf, BtfKind, Result, BTF_MAGIC};
use crate::error::Error;

impl Btf {
    /// Gives each `DATASEC` its section's size and each variable its symbol's
    /// offset, which clang leaves to the loader (as libbpf does).
    pub fn fixup_datasecs(&mut self, sec_size: &dyn Fn(&str) -> Option<u32>, sym_off: &dyn Fn(&str, &str) -> Option<u32>) -> Result<()> {
        fn utf8(b: &[u8]) -> &str {
            std::str::from_utf8(b).unwrap_or("")
        }
        self.fixup_datasecs_with(|sec| sec_size(utf8(sec)).map(|size| (size, ())), |_, sec, var| sym_off(utf8(sec), utf8(var)))
    }

    /// [`Btf::fixup_datasecs`] with names as bytes (no UTF-8 checks): `section`
    /// gives the size of the section of that name and a key for it (its index,
    /// say), and `sym_off` the offset of a variable by that key, the section
    /// name and the variable name.
    pub fn fixup_datasecs_with<K: Copy>(&mut self, mut section: impl FnMut(&[u8]) -> Option<(u32, K)>, mut sym_off: impl FnMut(K, &[u8], &[u8]) -> Option<u32>) -> Result<()> {
        let mut sorted: Vec<[u32; 3]> = Vec::new();
        for &id in &self.datasecs {
            let base = self.offs[id as usize] as usize;
            let (name_off, info) = (self.words[base], self.words[base + 1]);
            let sec = str_bytes(&self.strings, name_off).unwrap_or(&[]);
            let Some((size, key)) = section(sec) else {
                // Externs (.kconfig, .ksyms) have no ELF section; nothing to fix.
                continue;
            };
            let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let vlen = (info & 0xffff) as usize;
            let mut in_order = true;
            let mut last = 0u32;
            for j in 0..vlen {
                let v = base + 3 + 3 * j;
                let tid = self.words[v];
                let var = self.type_by_id(tid).filter(|t| t.kind() == BtfKind::Var).ok_or_else(|| Error::malformed(format!("DATASEC '{}' entry [{tid}] is not a variable", lossy(sec))))?;
                let vname = str_bytes(&self.strings, var.name_off).unwrap_or(&[]);
                let off = sym_off(key, sec, vname).ok_or_else(|| Error::malformed(format!("DATASEC '{}': variable '{}' has no symbol", lossy(sec), lossy(vname))))?;
                let vsize = if self.words[v + 2] == 0 { self.size_of(tid)? } else { self.words[v + 2] };
                self.words[v + 1] = off;
                self.words[v + 2] = vsize;
                in_order &= j == 0 || off >= last;
                last = off;
            }
            if !in_order {
                let vars = &mut self.words[base + 3..base + 3 + 3 * vlen];
                sorted.clear();
                sorted.extend(vars.chunks_exact(3).map(|v| [v[0], v[1], v[2]]));
                sorted.sort_by_key(|v| v[1]);
                for (dst, src) in vars.chunks_exact_mut(3).zip(&sorted) {
                    dst.copy_from_slice(src);
                }
            }
            self.words[base + 2] = size;
        }
        Ok(())
    }

    /// Makes the blob acceptable to the kernel: variables that are `extern`
    /// (linkage 2, which the kernel refuses) become static, typeless ones
    /// (`const void`) become `int`, `extern` functions (kfuncs) become global
    /// with every parameter named, and `DATASEC`s the fix-up could not size
    /// (`.ksyms`) are emptied, with a size of 4 as the kernel wants one.
    pub fn sanitize_for_kernel(&mut self) {
        let int_id = (1..self.len() as u32).find(|&id| self.type_by_id(id).is_some_and(|t| t.kind() == BtfKind::Int && t.size_or_type == 4));
        for i in 0..self.extern_vars.len() {
            let base = self.offs[self.extern_vars[i] as usize] as usize;
            self.words[base + 3] = 0;
            if self.skip_mods(self.words[base + 2]) == 0 {
                if let Some(int_id) = int_id {
                    self.words[base + 2] = int_id;
                }
            }
        }
        for i in 0..self.extern_funcs.len() {
            let base = self.offs[self.extern_funcs[i] as usize] as usize;
            let (name_off, proto) = (self.words[base], self.words[base + 2]);
            self.words[base + 1] = (self.words[base + 1] & !0xffff) | 1;
            if self.type_by_id(proto).is_some_and(|t| t.kind() == BtfKind::FuncProto) {
                let (s, e) = (self.offs[proto as usize] as usize + 3, self.offs[proto as usize + 1] as usize);
                for p in self.words[s..e].chunks_exact_mut(2) {
                    if p[1] != 0 && p[0] == 0 {
                        p[0] = name_off;
                    }
                }
            }
        }
        let empty: Vec<usize> = self
            .datasecs
            .iter()
            .map(|&id| id as usize)
            .filter(|&id| {
                let base = self.offs[id] as usize;
                self.words[base + 2] == 0 && self.words[base + 1] & 0xffff != 0
            })
            .collect();
        if empty.is_empty() {
            return;
        }
        // Dropping secinfos shortens the type section: rebuild it (rare: externs only).
        let mut words = Vec::with_capacity(self.words.len());
        let mut offs = Vec::with_capacity(self.offs.len());
        offs.push(0);
        let mut next = empty.iter().peekable();
        for id in 1..self.len() {
            let (s, e) = (self.offs[id] as usize, self.offs[id + 1] as usize);
            offs.push(words.len() as u32);
            if next.peek() == Some(&&id) {
                next.next();
                // The kernel refuses a DATASEC of size 0 (an empty one it takes, since 5.12).
                words.extend_from_slice(&[self.words[s], self.words[s + 1] & !0xffff, self.words[s + 2].max(4)]);
            } else {
                words.extend_from_slice(&self.words[s..e]);
            }
        }
        offs.push(words.len() as u32);
        self.words = words.into();
        self.offs = offs;
    }

    /// Gives the functions named `static` linkage in the BTF. For hidden
    /// and weak global functions (as libbpf does): the kernel verifies a
    /// global function alone, for any argument (a pointer may be NULL), but
    /// one nobody outside the object can call or replace is verified in its
    /// callers' context, where their pointers are known valid.
    pub fn make_funcs_static(&mut self, names: &[&[u8]]) {
        if names.is_empty() {
            return;
        }
        for id in 1..self.len() {
            let base = self.offs[id] as usize;
            let info = self.words[base + 1];
            if (info >> 24) & 0x1f == BtfKind::Func as u32 && info & 0xffff == 1 && names.contains(&str_bytes(&self.strings, self.words[base]).unwrap_or(&[])) {
                self.words[base + 1] = info & !0xffff;
            }
        }
    }

    /// The `.BTF` blob, as the kernel takes it (`BPF_BTF_LOAD`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let tlen = self.words.len() * 4;
        let mut out = Vec::with_capacity(24 + tlen + self.strings.len());
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.push(1); // version
        out.push(0); // flags
        for v in [24u32, 0, tlen as u32, tlen as u32, self.strings.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(self.words.iter().flat_map(|w| w.to_le_bytes()));
        out.extend_from_slice(&self.strings);
        out
    }
}
