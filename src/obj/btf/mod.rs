//! BTF and BTF.ext: a pure parser and writer (bytes in, structures out).
//!
//! What the loader needs today: the type table (read by the `.maps` parser,
//! `crate::maps`), the `DATASEC` fix-ups clang leaves to the loader (section sizes
//! and variable offsets), and `func_info`/`line_info` from `.BTF.ext` so the
//! verifier can point at C source lines. The type table is kept whole, with
//! every kind the kernel knows, because CO-RE (`crate::core_relo`) walks it,
//! in the object's BTF and in the kernel's.
//!
//! Layouts are the kernel's uapi (`include/uapi/linux/btf.h`). Little-endian
//! only, as on every host bpfl runs on.

#[cfg(test)]
mod cycle_tests;
mod ext;
mod index;
#[cfg(test)]
pub(crate) mod tests;
mod sanitize;
mod store;
mod write;

pub use ext::{BtfExt, CoreRelo, FuncInfo, LineInfo};
pub use index::{essential_name, IndexedBtf};
pub use sanitize::{probe_blob, BtfFeatures};

use crate::error::{Error, Result};
use store::Store;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::malformed(msg))
}

const BTF_MAGIC: u16 = 0xeb9f;

/// The BTF kinds (`BTF_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum BtfKind {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

impl BtfKind {
    fn from_u32(k: u32) -> Option<Self> {
        use BtfKind::*;
        Some(match k {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }
}

/// A struct or union member (`struct btf_member`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name_off: u32,
    pub type_id: u32,
    /// Bit offset (with the bitfield size in the top 8 bits when kflag is set).
    pub offset: u32,
}

/// One variable of a `DATASEC` (`struct btf_var_secinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarSecinfo {
    pub type_id: u32,
    pub offset: u32,
    pub size: u32,
}

/// What follows `struct btf_type`, by kind (decoded on demand by [`Type::data`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeData {
    None,
    /// `BTF_KIND_INT`: encoding, offset and bits.
    Int(u32),
    Array { elem: u32, index: u32, nelems: u32 },
    Members(Vec<Member>),
    /// `BTF_KIND_ENUM`: (name_off, value).
    Enum(Vec<(u32, i32)>),
    /// `BTF_KIND_FUNC_PROTO`: (name_off, type).
    Params(Vec<(u32, u32)>),
    /// `BTF_KIND_VAR`: linkage.
    Var(u32),
    Datasec(Vec<VarSecinfo>),
    /// `BTF_KIND_DECL_TAG`: component index.
    DeclTag(i32),
    /// `BTF_KIND_ENUM64`: (name_off, lo32, hi32).
    Enum64(Vec<(u32, u32, u32)>),
}

/// One type: `struct btf_type` and a view of the words that follow it. Cheap
/// to copy; it borrows the [`Btf`] it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Type<'a> {
    pub name_off: u32,
    pub info: u32,
    /// `size` for sized kinds, `type` for the referring ones.
    pub size_or_type: u32,
    /// The words after `struct btf_type` (members, params, secinfos, ...).
    pub extra: &'a [u32],
}

fn kind_of(info: u32) -> BtfKind {
    BtfKind::from_u32((info >> 24) & 0x1f).unwrap_or(BtfKind::Void)
}

impl<'a> Type<'a> {
    pub fn kind(&self) -> BtfKind {
        kind_of(self.info)
    }
    pub fn vlen(&self) -> usize {
        (self.info & 0xffff) as usize
    }
    /// `BTF_KIND_ARRAY`: (elem, index, nelems).
    pub fn array(&self) -> Option<(u32, u32, u32)> {
        match (self.kind(), self.extra) {
            (BtfKind::Array, &[e, i, n]) => Some((e, i, n)),
            _ => None,
        }
    }
    fn extra_of(&self, kinds: &[BtfKind]) -> &'a [u32] {
        if kinds.contains(&self.kind()) {
            self.extra
        } else {
            &[]
        }
    }
    /// Members of a struct or union (none for other kinds).
    pub fn members(&self) -> impl Iterator<Item = Member> + 'a {
        self.extra_of(&[BtfKind::Struct, BtfKind::Union]).chunks_exact(3).map(|m| Member { name_off: m[0], type_id: m[1], offset: m[2] })
    }
    /// Variables of a `DATASEC` (none for other kinds).
    pub fn secinfos(&self) -> impl Iterator<Item = VarSecinfo> + 'a {
        self.extra_of(&[BtfKind::Datasec]).chunks_exact(3).map(|v| VarSecinfo { type_id: v[0], offset: v[1], size: v[2] })
    }
    /// Parameters of a `FUNC_PROTO`: (name_off, type); none for other kinds.
    pub fn params(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.extra_of(&[BtfKind::FuncProto]).chunks_exact(2).map(|p| (p[0], p[1]))
    }
    /// What follows `struct btf_type`, decoded (allocates for the vlen kinds).
    pub fn data(&self) -> TypeData {
        let x = self.extra;
        match self.kind() {
            BtfKind::Int => TypeData::Int(x[0]),
            BtfKind::Var => TypeData::Var(x[0]),
            BtfKind::DeclTag => TypeData::DeclTag(x[0] as i32),
            BtfKind::Array => TypeData::Array { elem: x[0], index: x[1], nelems: x[2] },
            BtfKind::Struct | BtfKind::Union => TypeData::Members(self.members().collect()),
            BtfKind::Enum => TypeData::Enum(x.chunks_exact(2).map(|e| (e[0], e[1] as i32)).collect()),
            BtfKind::FuncProto => TypeData::Params(self.params().collect()),
            BtfKind::Datasec => TypeData::Datasec(self.secinfos().collect()),
            BtfKind::Enum64 => TypeData::Enum64(x.chunks_exact(3).map(|e| (e[0], e[1], e[2])).collect()),
            _ => TypeData::None,
        }
    }
}

/// A parsed `.BTF` blob, kept flat: the type section as little-endian words and
/// the word offset of each type, so that parsing allocates three buffers
/// whatever the number of types, and the fix-ups are writes in place.
#[derive(Debug, Clone)]
pub struct Btf {
    /// The type section (borrowed, for the kernel's BTF: see [`Btf::parse_static`]).
    words: Store<u32>,
    /// `offs[id]` is the word offset of type `id` (`offs[0]`, `void`, is
    /// unused); `offs[len]` is `words.len()`, so type `id` ends at `offs[id + 1]`.
    offs: Vec<u32>,
    strings: Store<u8>,
    /// Ids of the `DATASEC`s and of the `extern` variables (linkage > 1): the
    /// fix-ups visit these only.
    datasecs: Vec<u32>,
    extern_vars: Vec<u32>,
    /// Ids of the `extern` functions (kfuncs).
    extern_funcs: Vec<u32>,
}

fn u32_at(d: &[u8], off: usize) -> Result<u32> {
    match d.get(off..off.wrapping_add(4)) {
        Some(b) if off <= usize::MAX - 4 => Ok(u32::from_le_bytes(b.try_into().unwrap())),
        _ => err(format!("truncated at byte {off}")),
    }
}

/// Validates a `.BTF`/`.BTF.ext` header and returns (header length, the rest).
fn header(d: &[u8], what: &str) -> Result<usize> {
    if d.len() < 8 {
        return err(format!("{what}: {} bytes is too short for a header", d.len()));
    }
    let magic = u16::from_le_bytes([d[0], d[1]]);
    if magic == BTF_MAGIC.swap_bytes() {
        return err(format!("{what}: big-endian BTF is not supported"));
    }
    if magic != BTF_MAGIC {
        return err(format!("{what}: bad magic {magic:#06x}"));
    }
    if d[2] != 1 {
        return err(format!("{what}: version {} is not supported", d[2]));
    }
    let hdr_len = u32_at(d, 4)? as usize;
    if hdr_len < 8 || hdr_len > d.len() {
        return err(format!("{what}: header length {hdr_len} is out of bounds"));
    }
    Ok(hdr_len)
}

/// `[off, off+len)` relative to `base`, checked against `d`.
fn sub<'a>(d: &'a [u8], base: usize, off: u32, len: u32, what: &str) -> Result<&'a [u8]> {
    let start = base.checked_add(off as usize);
    let end = start.and_then(|s| s.checked_add(len as usize));
    match (start, end) {
        (Some(s), Some(e)) if e <= d.len() => Ok(&d[s..e]),
        _ => err(format!("{what} (offset {off}, length {len}) runs past the end ({} bytes)", d.len())),
    }
}

/// Words after `struct btf_type`, by kind: (fixed, per vlen item).
const EXTRA_WORDS: [(u8, u8); 20] = {
    let mut t = [(0u8, 0u8); 20];
    t[BtfKind::Int as usize] = (1, 0);
    t[BtfKind::Var as usize] = (1, 0);
    t[BtfKind::DeclTag as usize] = (1, 0);
    t[BtfKind::Array as usize] = (3, 0);
    t[BtfKind::Struct as usize] = (0, 3);
    t[BtfKind::Union as usize] = (0, 3);
    t[BtfKind::Datasec as usize] = (0, 3);
    t[BtfKind::Enum64 as usize] = (0, 3);
    t[BtfKind::Enum as usize] = (0, 2);
    t[BtfKind::FuncProto as usize] = (0, 2);
    t
};

/// Number of words after `struct btf_type` for a type of `kind` with `vlen`.
fn extra_words(kind: BtfKind, vlen: usize) -> usize {
    let (fixed, per) = EXTRA_WORDS[kind as usize];
    fixed as usize + per as usize * vlen
}

/// Calls `f` with every type id a type refers to.
#[inline(always)]
fn for_each_ref(kind: BtfKind, size_or_type: u32, x: &[u32], mut f: impl FnMut(u32)) {
    match kind {
        BtfKind::Ptr | BtfKind::Typedef | BtfKind::Volatile | BtfKind::Const | BtfKind::Restrict | BtfKind::Func | BtfKind::Var | BtfKind::DeclTag | BtfKind::TypeTag => f(size_or_type),
        BtfKind::FuncProto => {
            f(size_or_type);
            x.chunks_exact(2).for_each(|p| f(p[1]));
        }
        BtfKind::Array => {
            f(x[0]);
            f(x[1]);
        }
        BtfKind::Struct | BtfKind::Union => x.chunks_exact(3).for_each(|m| f(m[1])),
        BtfKind::Datasec => x.chunks_exact(3).for_each(|v| f(v[0])),
        _ => {}
    }
}

impl Btf {
    /// Parses a `.BTF` section.
    pub fn parse(d: &[u8]) -> Result<Btf> {
        Self::parse_on(d, None, None)
    }

    /// Parses BTF that stays in memory, unchanged, as long as the process
    /// (the kernel's, mapped read-only or read once): the types and strings
    /// are read where they are, not copied. `words` is the same memory as
    /// `bytes` seen as native (little-endian) words, which the caller can
    /// make (an aligned mapping) and this crate, without `unsafe`, cannot.
    /// Other memory, or a misaligned type section, is copied as by [`Btf::parse`].
    /// For the kernel's own BTF only: the layout is checked, but not that every
    /// type reference and name offset is in range (the kernel checked them).
    /// A bad one would give `None` where it is followed, as for a missing type.
    pub fn parse_static(bytes: &'static [u8], words: &'static [u32]) -> Result<Btf> {
        let same = std::ptr::eq(bytes.as_ptr(), words.as_ptr() as *const u8) && words.len() == bytes.len() / 4;
        Self::parse_on(bytes, None, same.then_some((bytes, words)))
    }

    /// True when the types and strings are read in place (see [`Btf::parse_static`]).
    pub fn is_borrowed(&self) -> bool {
        self.words.is_static() && self.strings.is_static()
    }

    /// Parses split BTF (a kernel module's, `/sys/kernel/btf/<module>`) on
    /// top of its `base` (the kernel's): its type ids continue after the
    /// base's and its string offsets after the base's strings. The result
    /// holds both, so ids and names are looked up as in one BTF.
    pub fn parse_split(d: &[u8], base: &Btf) -> Result<Btf> {
        Self::parse_on(d, Some(base), None)
    }

    /// `inplace`: `d` itself, 'static, and as words (see [`Btf::parse_static`]).
    fn parse_on(d: &[u8], base: Option<&Btf>, inplace: Option<(&'static [u8], &'static [u32])>) -> Result<Btf> {
        let hdr_len = header(d, ".BTF")?;
        if hdr_len < 24 {
            return err(format!(".BTF: header length {hdr_len} is too short"));
        }
        let type_off = u32_at(d, 8)?;
        let type_len = u32_at(d, 12)?;
        let str_off = u32_at(d, 16)?;
        let str_len = u32_at(d, 20)?;
        let tdata = sub(d, hdr_len, type_off, type_len, ".BTF type section")?;
        let strings = sub(d, hdr_len, str_off, str_len, ".BTF string section")?;
        if (base.is_none() && strings.first().is_some_and(|&b| b != 0)) || strings.last().is_some_and(|&b| b != 0) {
            return err(".BTF: the string section must start and end with NUL");
        }
        // Split BTF goes after its base: one id space, one string section.
        let (mut words, mut offs, all_strings, (mut datasecs, mut extern_vars, mut extern_funcs)) = match base {
            Some(b) => (b.words.clone(), b.offs[..b.offs.len() - 1].to_vec(), Store::from([&b.strings[..], strings].concat()), (b.datasecs.clone(), b.extern_vars.clone(), b.extern_funcs.clone())),
            None => (Store::from(Vec::new()), vec![0], Store::from(Vec::new()), (Vec::new(), Vec::new(), Vec::new())),
        };
        let first = words.len();
        // In place when the type section is whole words of the 'static memory.
        let start = hdr_len + type_off as usize;
        let borrowed = inplace.filter(|_| base.is_none() && start % 4 == 0).and_then(|(b, w)| Some((w.get(start / 4..start / 4 + tdata.len() / 4)?, b.get(hdr_len + str_off as usize..)?.get(..strings.len())?)));
        // The kernel's own BTF (the only 'static one) was checked by the kernel
        // as it booted: its references and name offsets are not checked again
        // (a bad one would still give `None` from `type_by_id`/`str_at`, never UB).
        let trusted = borrowed.is_some();
        let all_strings = match borrowed {
            Some((w, st)) => {
                words = Store::Static(w);
                Store::Static(st)
            }
            None => {
                words.vec_mut().extend(tdata.chunks_exact(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())));
                if base.is_none() {
                    Store::from(strings.to_vec())
                } else {
                    all_strings
                }
            }
        };
        let nw = words.len();
        // A guess at the number of types (most take 3 to 6 words).
        offs.reserve((nw - first) / 4 + 2);
        let str_end = all_strings.len().max(1);
        let mut max_ref = 0u32;
        let mut pos = first;
        let words_ref: &[u32] = &words;
        while pos < nw {
            let words = words_ref;
            let id = offs.len();
            if pos + 3 > nw {
                return err(format!(".BTF: type [{id}] is truncated at byte {}", (pos - first) * 4));
            }
            let (name_off, info, size_or_type) = (words[pos], words[pos + 1], words[pos + 2]);
            let k = (info >> 24) & 0x1f;
            let kind = match BtfKind::from_u32(k) {
                Some(k) if k != BtfKind::Void => k,
                _ => return err(format!(".BTF: type [{id}] has unknown kind {k}")),
            };
            let end = pos + 3 + extra_words(kind, (info & 0xffff) as usize);
            if end > nw {
                return err(format!(".BTF: type [{id}] is truncated at byte {}", (nw - first) * 4));
            }
            if !trusted {
                if name_off as usize >= str_end {
                    return err(format!(".BTF: type [{id}] has name offset {name_off} outside the string section"));
                }
                for_each_ref(kind, size_or_type, &words[pos + 3..end], |r| max_ref = max_ref.max(r));
            }
            match kind {
                BtfKind::Datasec => datasecs.push(id as u32),
                BtfKind::Var if words[pos + 3] > 1 => extern_vars.push(id as u32),
                BtfKind::Func if info & 0xffff > 1 => extern_funcs.push(id as u32),
                _ => {}
            }
            offs.push(pos as u32);
            pos = end;
        }
        if tdata.len() % 4 != 0 {
            return err(format!(".BTF: type [{}] is truncated at byte {}", offs.len(), (nw - first) * 4));
        }
        offs.push(nw as u32);
        let btf = Btf { words, offs, strings: all_strings, datasecs, extern_vars, extern_funcs };
        if max_ref as usize >= btf.len() {
            btf.check_refs()?;
        }
        Ok(btf)
    }

    /// Every type id a type refers to must exist (names the first that does not).
    fn check_refs(&self) -> Result<()> {
        let n = self.len() as u32;
        for id in 1..n {
            let t = self.type_at(id as usize);
            let mut bad = None;
            for_each_ref(t.kind(), t.size_or_type, t.extra, |r| {
                if r >= n && bad.is_none() {
                    bad = Some(r);
                }
            });
            if let Some(r) = bad {
                return err(format!(".BTF: type [{id}] refers to type [{r}], which does not exist ({} types)", n - 1));
            }
        }
        Ok(())
    }

    /// Number of types, `void` included.
    pub fn len(&self) -> usize {
        self.offs.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    /// Type `id`, which must be in 1..len.
    fn type_at(&self, id: usize) -> Type<'_> {
        let (s, e) = (self.offs[id] as usize, self.offs[id + 1] as usize);
        let w = &self.words[s..e];
        Type { name_off: w[0], info: w[1], size_or_type: w[2], extra: &w[3..] }
    }

    pub fn type_by_id(&self, id: u32) -> Option<Type<'_>> {
        let id = id as usize;
        if id == 0 {
            Some(Type { name_off: 0, info: 0, size_or_type: 0, extra: &[] })
        } else if id < self.len() {
            Some(self.type_at(id))
        } else {
            None
        }
    }

    /// All types but `void`, with their ids.
    pub fn types(&self) -> impl Iterator<Item = (u32, Type<'_>)> + '_ {
        (1..self.len()).map(|id| (id as u32, self.type_at(id)))
    }

    /// (id, name offset) of every named type, in id order: a pass over the
    /// first word of each type only.
    pub(crate) fn type_names(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let w = &self.words[..];
        self.offs[1..self.offs.len() - 1].iter().enumerate().map(move |(i, &o)| (i as u32 + 1, w[o as usize])).filter(|&(_, n)| n != 0)
    }

    /// The string section from `off` on (the string there and all after it).
    pub(crate) fn strings_from(&self, off: u32) -> Option<&[u8]> {
        self.strings.get(off as usize..)
    }

    /// The NUL-terminated string at `off` of the string section, as bytes.
    pub fn str_bytes_at(&self, off: u32) -> Option<&[u8]> {
        str_bytes(&self.strings, off)
    }

    /// The NUL-terminated string at `off` of the string section.
    pub fn str_at(&self, off: u32) -> Option<&str> {
        std::str::from_utf8(self.str_bytes_at(off)?).ok()
    }

    pub fn name_of(&self, id: u32) -> &str {
        self.type_by_id(id).and_then(|t| self.str_at(t.name_off)).unwrap_or("")
    }

    /// The first type of `kind` named `name`.
    pub fn find_by_name_kind(&self, name: &str, kind: BtfKind) -> Option<u32> {
        let name = name.as_bytes();
        if kind == BtfKind::Datasec {
            return self.datasecs.iter().copied().find(|&id| self.str_bytes_at(self.words[self.offs[id as usize] as usize]) == Some(name));
        }
        (1..self.len()).find(|&id| {
            let w = &self.words[self.offs[id] as usize..];
            kind_of(w[1]) == kind && self.str_bytes_at(w[0]) == Some(name)
        }).map(|id| id as u32)
    }

    /// Follows typedefs and qualifiers to the type they name.
    pub fn skip_mods(&self, mut id: u32) -> u32 {
        for _ in 0..64 {
            match self.type_by_id(id) {
                Some(t) if matches!(t.kind(), BtfKind::Typedef | BtfKind::Volatile | BtfKind::Const | BtfKind::Restrict | BtfKind::TypeTag) => id = t.size_or_type,
                _ => break,
            }
        }
        id
    }

    /// `sizeof` the type, as the C compiler saw it. Iterative, and bounded:
    /// a crafted blob may make a type refer to itself (an array of itself, a
    /// typedef cycle), which must give an error, not a stack overflow.
    pub fn size_of(&self, id: u32) -> Result<u32> {
        let (start, mut id, mut mul) = (id, id, 1u32);
        for _ in 0..MAX_RESOLVE_STEPS {
            let t = self.type_by_id(id).ok_or_else(|| Error::malformed(format!("type [{id}] does not exist")))?;
            let size = match t.kind() {
                BtfKind::Int | BtfKind::Struct | BtfKind::Union | BtfKind::Enum | BtfKind::Enum64 | BtfKind::Float | BtfKind::Datasec => t.size_or_type,
                BtfKind::Ptr => 8,
                BtfKind::Typedef | BtfKind::Volatile | BtfKind::Const | BtfKind::Restrict | BtfKind::TypeTag | BtfKind::Var => {
                    id = t.size_or_type;
                    continue;
                }
                BtfKind::Array => {
                    let (elem, _, nelems) = t.array().expect("an array");
                    mul = mul.checked_mul(nelems).ok_or_else(|| Error::malformed(format!("array type [{id}] is too large")))?;
                    id = elem;
                    continue;
                }
                k => return err(format!("type [{id}] ({k:?}) has no size")),
            };
            return size.checked_mul(mul).ok_or_else(|| Error::malformed(format!("type [{start}] is too large")));
        }
        err(format!("type [{start}]: its size needs more than {MAX_RESOLVE_STEPS} steps through arrays, typedefs and qualifiers (a cycle?)"))
    }
}

/// The longest chain of arrays, typedefs and qualifiers a walk follows
/// before it calls the blob malformed (clang never emits more than a few;
/// a crafted blob may loop).
pub const MAX_RESOLVE_STEPS: u32 = 64;

/// A budget for walks that branch (struct members, function parameters):
/// bounds the total work however the types refer to one another, so that a
/// crafted blob with shared or cyclic references cannot make a walk
/// exponential or endless.
#[derive(Debug, Clone, Copy)]
pub struct WalkBudget(u32);

impl Default for WalkBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl WalkBudget {
    /// Enough for any real type graph a relocation or layout walks.
    pub fn new() -> WalkBudget {
        WalkBudget(1 << 16)
    }

    /// Takes one step; false when the budget is spent.
    pub fn step(&mut self) -> bool {
        self.0 = self.0.saturating_sub(1);
        self.0 > 0
    }
}

/// The NUL-terminated string at `off` of a string section.
fn str_bytes(strings: &[u8], off: u32) -> Option<&[u8]> {
    let s = strings.get(off as usize..)?;
    let end = s.iter().position(|&b| b == 0)?;
    Some(&s[..end])
}
