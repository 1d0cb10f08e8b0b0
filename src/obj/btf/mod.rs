//! BTF and BTF.ext: a pure parser and writer (bytes in, structures out).
//!
//! What the loader needs today: the `.maps` definitions (`__uint`, `__type`,
//! `__array`), the `DATASEC` fix-ups clang leaves to the loader (section sizes
//! and variable offsets), and `func_info`/`line_info` from `.BTF.ext` so the
//! verifier can point at C source lines. The type table is kept whole, with
//! every kind the kernel knows, because CO-RE (`crate::obj::core`) walks it,
//! in the object's BTF and in the kernel's.
//!
//! Layouts are the kernel's uapi (`include/uapi/linux/btf.h`). Little-endian
//! only, as on every host bpfl runs on.

/// Why a BTF blob could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BtfError(pub String);

type Result<T> = std::result::Result<T, BtfError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(BtfError(msg.into()))
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
    /// The type section.
    words: Vec<u32>,
    /// `offs[id]` is the word offset of type `id` (`offs[0]`, `void`, is
    /// unused); `offs[len]` is `words.len()`, so type `id` ends at `offs[id + 1]`.
    offs: Vec<u32>,
    strings: Vec<u8>,
    /// Ids of the `DATASEC`s and of the `extern` variables (linkage > 1): the
    /// fix-ups visit these only.
    datasecs: Vec<u32>,
    extern_vars: Vec<u32>,
    /// Ids of the `extern` functions (kfuncs).
    extern_funcs: Vec<u32>,
}

/// A map definition read from `.maps`; `None` where the field is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BtfMapDef {
    pub name: String,
    pub map_type: Option<u32>,
    pub key_size: Option<u32>,
    pub value_size: Option<u32>,
    pub key_type_id: Option<u32>,
    pub value_type_id: Option<u32>,
    pub max_entries: Option<u32>,
    pub map_flags: Option<u32>,
    pub numa_node: Option<u32>,
    pub pinning: Option<u32>,
    pub map_extra: Option<u64>,
    /// The inner map of a map-in-map (`__array(values, struct inner)`).
    pub inner: Option<Box<BtfMapDef>>,
    /// Field names bpfl does not know (a definition using them is refused).
    pub unknown_fields: Vec<String>,
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
        if strings.first().is_some_and(|&b| b != 0) || strings.last().is_some_and(|&b| b != 0) {
            return err(".BTF: the string section must start and end with NUL");
        }
        let words: Vec<u32> = tdata.chunks_exact(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())).collect();
        let nw = words.len();
        // A guess at the number of types (most take 3 to 6 words).
        let mut offs: Vec<u32> = Vec::with_capacity(nw / 4 + 2);
        offs.push(0);
        let str_end = strings.len().max(1);
        let mut max_ref = 0u32;
        let (mut datasecs, mut extern_vars, mut extern_funcs) = (Vec::new(), Vec::new(), Vec::new());
        let mut pos = 0usize;
        while pos < nw {
            let id = offs.len();
            if pos + 3 > nw {
                return err(format!(".BTF: type [{id}] is truncated at byte {}", pos * 4));
            }
            let (name_off, info, size_or_type) = (words[pos], words[pos + 1], words[pos + 2]);
            let k = (info >> 24) & 0x1f;
            let kind = match BtfKind::from_u32(k) {
                Some(k) if k != BtfKind::Void => k,
                _ => return err(format!(".BTF: type [{id}] has unknown kind {k}")),
            };
            let end = pos + 3 + extra_words(kind, (info & 0xffff) as usize);
            if end > nw {
                return err(format!(".BTF: type [{id}] is truncated at byte {}", nw * 4));
            }
            if name_off as usize >= str_end {
                return err(format!(".BTF: type [{id}] has name offset {name_off} outside the string section"));
            }
            for_each_ref(kind, size_or_type, &words[pos + 3..end], |r| max_ref = max_ref.max(r));
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
            return err(format!(".BTF: type [{}] is truncated at byte {}", offs.len(), nw * 4));
        }
        offs.push(nw as u32);
        let btf = Btf { words, offs, strings: strings.to_vec(), datasecs, extern_vars, extern_funcs };
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

    /// `sizeof` the type, as the C compiler saw it.
    pub fn size_of(&self, id: u32) -> Result<u32> {
        let mut id = id;
        for _ in 0..64 {
            let t = self.type_by_id(id).ok_or_else(|| BtfError(format!("type [{id}] does not exist")))?;
            match t.kind() {
                BtfKind::Int | BtfKind::Struct | BtfKind::Union | BtfKind::Enum | BtfKind::Enum64 | BtfKind::Float | BtfKind::Datasec => return Ok(t.size_or_type),
                BtfKind::Ptr => return Ok(8),
                BtfKind::Typedef | BtfKind::Volatile | BtfKind::Const | BtfKind::Restrict | BtfKind::TypeTag | BtfKind::Var => id = t.size_or_type,
                BtfKind::Array => {
                    let (elem, _, nelems) = t.array().expect("an array");
                    let e = self.size_of(elem)?;
                    return e.checked_mul(nelems).ok_or_else(|| BtfError(format!("array type [{id}] is too large")));
                }
                k => return err(format!("type [{id}] ({k:?}) has no size")),
            }
        }
        err(format!("type [{id}]: typedef chain too long"))
    }

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
                let var = self.type_by_id(tid).filter(|t| t.kind() == BtfKind::Var).ok_or_else(|| BtfError(format!("DATASEC '{}' entry [{tid}] is not a variable", lossy(sec))))?;
                let vname = str_bytes(&self.strings, var.name_off).unwrap_or(&[]);
                let off = sym_off(key, sec, vname).ok_or_else(|| BtfError(format!("DATASEC '{}': variable '{}' has no symbol", lossy(sec), lossy(vname))))?;
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
        self.words = words;
        self.offs = offs;
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

    /// The map definitions of `.maps`, in section order.
    pub fn map_defs(&self) -> Result<Vec<BtfMapDef>> {
        let Some(sec) = self.find_by_name_kind(".maps", BtfKind::Datasec) else {
            return err("no DATASEC '.maps' in .BTF");
        };
        let mut vars: Vec<VarSecinfo> = self.type_at(sec as usize).secinfos().collect();
        vars.sort_by_key(|v| v.offset);
        let mut out = Vec::with_capacity(vars.len());
        for v in vars {
            let Some(var) = self.type_by_id(v.type_id).filter(|t| t.kind() == BtfKind::Var) else {
                return err(format!("'.maps' entry [{}] is not a variable", v.type_id));
            };
            let name = self.str_at(var.name_off).unwrap_or("").to_string();
            out.push(self.map_def(&name, var.size_or_type, 0)?);
        }
        Ok(out)
    }

    /// The integer of `__uint(name, n)`: `int (*name)[n]`.
    fn uint_field(&self, map: &str, field: &str, id: u32) -> Result<u32> {
        let bad = || BtfError(format!("map '{map}': field '{field}' is not __uint(...)"));
        let p = self.type_by_id(self.skip_mods(id)).filter(|t| t.kind() == BtfKind::Ptr).ok_or_else(bad)?;
        match self.type_by_id(self.skip_mods(p.size_or_type)).and_then(|t| t.array()) {
            Some((_, _, nelems)) => Ok(nelems),
            None => Err(bad()),
        }
    }

    /// The type of `__type(name, T)`: `T *name`.
    fn type_field(&self, map: &str, field: &str, id: u32) -> Result<u32> {
        self.type_by_id(self.skip_mods(id)).filter(|t| t.kind() == BtfKind::Ptr).map(|t| t.size_or_type).ok_or_else(|| BtfError(format!("map '{map}': field '{field}' is not __type(...)")))
    }

    fn map_def(&self, name: &str, type_id: u32, depth: u32) -> Result<BtfMapDef> {
        let sid = self.skip_mods(type_id);
        let t = self.type_by_id(sid).filter(|t| t.kind() == BtfKind::Struct).ok_or_else(|| BtfError(format!("map '{name}': its definition is not a struct")))?;
        let mut d = BtfMapDef { name: name.to_string(), ..Default::default() };
        for m in t.members() {
            let field = self.str_at(m.name_off).unwrap_or("");
            let u = |f: &str| self.uint_field(name, f, m.type_id);
            match field {
                "type" => d.map_type = Some(u(field)?),
                "max_entries" => d.max_entries = Some(u(field)?),
                "map_flags" => d.map_flags = Some(u(field)?),
                "numa_node" => d.numa_node = Some(u(field)?),
                "pinning" => d.pinning = Some(u(field)?),
                "map_extra" => d.map_extra = Some(u(field)? as u64),
                "key_size" | "value_size" => {
                    let v = u(field)?;
                    let slot = if field == "key_size" { &mut d.key_size } else { &mut d.value_size };
                    if slot.is_some_and(|s| s != v) {
                        return err(format!("map '{name}': {field} {v} contradicts the size of its __type ({})", slot.unwrap()));
                    }
                    *slot = Some(v);
                }
                "key" | "value" => {
                    let tid = self.type_field(name, field, m.type_id)?;
                    let size = self.size_of(tid).map_err(|e| BtfError(format!("map '{name}': {field}: {e}")))?;
                    let (slot, tslot) = if field == "key" { (&mut d.key_size, &mut d.key_type_id) } else { (&mut d.value_size, &mut d.value_type_id) };
                    if slot.is_some_and(|s| s != size) {
                        return err(format!("map '{name}': __type({field}) is {size} bytes but {field}_size says {}", slot.unwrap()));
                    }
                    *slot = Some(size);
                    *tslot = Some(tid);
                }
                "values" => {
                    // __array(values, struct inner): `struct inner *values[]`.
                    let arr = self.type_by_id(self.skip_mods(m.type_id)).and_then(|t| t.array());
                    let Some((elem, _, _)) = arr else {
                        return err(format!("map '{name}': field 'values' is not __array(...)"));
                    };
                    let ptr = self.type_by_id(self.skip_mods(elem)).filter(|t| t.kind() == BtfKind::Ptr);
                    let Some(ptr) = ptr else {
                        return err(format!("map '{name}': __array(values, ...) must name a struct"));
                    };
                    let target = self.skip_mods(ptr.size_or_type);
                    let is_map_in_map = matches!(d.map_type, Some(12 | 13)) || d.map_type.is_none();
                    if is_map_in_map && self.type_by_id(target).is_some_and(|t| t.kind() == BtfKind::Struct) && depth == 0 {
                        d.inner = Some(Box::new(self.map_def(&format!("{name}.inner"), target, depth + 1)?));
                    } else if !is_map_in_map {
                        // PROG_ARRAY of programs: the slots are filled from .rel.maps.
                    } else {
                        return err(format!("map '{name}': nested map-in-map is not supported"));
                    }
                    // Map-in-map and prog-array values are fds (u32).
                    d.value_size.get_or_insert(4);
                }
                other => d.unknown_fields.push(other.to_string()),
            }
        }
        Ok(d)
    }
}

/// A `bpf_func_info` record; `insn_off` in bytes from the section start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncInfo {
    pub insn_off: u32,
    pub type_id: u32,
}

/// A `bpf_line_info` record; `insn_off` in bytes from the section start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInfo {
    pub insn_off: u32,
    pub file_name_off: u32,
    pub line_off: u32,
    pub line_col: u32,
}

impl LineInfo {
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }
    pub fn col(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

/// A `bpf_core_relo` record (CO-RE), applied by `crate::obj::core`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreRelo {
    pub insn_off: u32,
    pub type_id: u32,
    pub access_str_off: u32,
    pub kind: u32,
}

/// A parsed `.BTF.ext`, grouped by ELF section name.
#[derive(Debug, Clone, Default)]
pub struct BtfExt {
    pub func_info: Vec<(String, Vec<FuncInfo>)>,
    pub line_info: Vec<(String, Vec<LineInfo>)>,
    pub core_relos: Vec<(String, Vec<CoreRelo>)>,
}

/// The records of one `.BTF.ext` part, grouped by section; each record's first
/// `N` bytes are decoded by `rec` (larger records, from newer compilers, have
/// fields bpfl does not read).
fn ext_records<T, const N: usize>(btf: &Btf, d: &[u8], what: &str, rec: impl Fn(&[u8; N]) -> T) -> Result<Vec<(String, Vec<T>)>> {
    let min_rec = N;
    if d.is_empty() {
        return Ok(Vec::new());
    }
    let rec_size = u32_at(d, 0)? as usize;
    if rec_size < min_rec || rec_size % 4 != 0 {
        return err(format!(".BTF.ext {what}: record size {rec_size} is invalid (need {min_rec}+)"));
    }
    let mut out: Vec<(String, Vec<T>)> = Vec::new();
    let mut pos = 4;
    while pos < d.len() {
        let sec_off = u32_at(d, pos)?;
        let n = u32_at(d, pos + 4)? as usize;
        pos += 8;
        let bad_name = || BtfError(format!(".BTF.ext {what}: section name offset {sec_off} is not in .BTF's strings"));
        let sec = btf.str_bytes_at(sec_off).ok_or_else(bad_name)?;
        let bytes = n.checked_mul(rec_size).filter(|b| pos + b <= d.len());
        let bytes = bytes.ok_or_else(|| BtfError(format!(".BTF.ext {what}: {n} records for '{}' run past the end", String::from_utf8_lossy(sec))))?;
        let part = &d[pos..pos + bytes];
        pos += bytes;
        // Sections are few: a linear search beats hashing their names.
        let v = match out.iter().position(|(name, _)| name.as_bytes() == sec) {
            Some(i) => &mut out[i].1,
            None => {
                let name = std::str::from_utf8(sec).map_err(|_| bad_name())?;
                out.push((name.to_string(), Vec::with_capacity(n)));
                &mut out.last_mut().expect("pushed").1
            }
        };
        if rec_size == N {
            v.extend(part.as_chunks::<N>().0.iter().map(&rec));
        } else {
            v.extend(part.chunks_exact(rec_size).map(|r| rec(r[..N].try_into().expect("N bytes"))));
        }
    }
    Ok(out)
}

/// The NUL-terminated string at `off` of a string section.
fn str_bytes(strings: &[u8], off: u32) -> Option<&[u8]> {
    let s = strings.get(off as usize..)?;
    let end = s.iter().position(|&b| b == 0)?;
    Some(&s[..end])
}

fn le<const N: usize>(b: &[u8; N], i: usize) -> u32 {
    u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]])
}

impl BtfExt {
    /// Parses `.BTF.ext`; section names are looked up in `btf`'s strings.
    pub fn parse(d: &[u8], btf: &Btf) -> Result<BtfExt> {
        let hdr_len = header(d, ".BTF.ext")?;
        if hdr_len < 24 {
            return err(format!(".BTF.ext: header length {hdr_len} is too short"));
        }
        let fi = sub(d, hdr_len, u32_at(d, 8)?, u32_at(d, 12)?, ".BTF.ext func_info")?;
        let li = sub(d, hdr_len, u32_at(d, 16)?, u32_at(d, 20)?, ".BTF.ext line_info")?;
        let mut ext = BtfExt {
            func_info: ext_records::<_, 8>(btf, fi, "func_info", |b| FuncInfo { insn_off: le(b, 0), type_id: le(b, 1) })?,
            line_info: ext_records::<_, 16>(btf, li, "line_info", |b| LineInfo { insn_off: le(b, 0), file_name_off: le(b, 1), line_off: le(b, 2), line_col: le(b, 3) })?,
            core_relos: Vec::new(),
        };
        if hdr_len >= 32 {
            let cr = sub(d, hdr_len, u32_at(d, 24)?, u32_at(d, 28)?, ".BTF.ext core_relo")?;
            ext.core_relos = ext_records::<_, 16>(btf, cr, "core_relo", |b| CoreRelo { insn_off: le(b, 0), type_id: le(b, 1), access_str_off: le(b, 2), kind: le(b, 3) })?;
        }
        Ok(ext)
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
    fn maps_btf() -> Vec<u8> {
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
    fn parses_btf_map_definitions() {
        let btf = Btf::parse(&maps_btf()).unwrap();
        assert_eq!(btf.len(), 14);
        let defs = btf.map_defs().unwrap();
        assert_eq!(defs.len(), 1);
        let d = &defs[0];
        assert_eq!(d.name, "counts");
        assert_eq!(d.map_type, Some(1));
        assert_eq!(d.max_entries, Some(16));
        assert_eq!((d.key_size, d.value_size), (Some(4), Some(8)));
        assert_eq!((d.key_type_id, d.value_type_id), (Some(7), Some(9)));
        assert!(d.unknown_fields.is_empty());
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
        assert!(err.0.contains("'counts' has no symbol"), "{err}");
    }

    #[test]
    fn rejects_malformed_blobs() {
        let good = maps_btf();
        assert!(Btf::parse(&good[..10]).is_err());
        let mut bad = good.clone();
        bad[0] = 0x00;
        assert!(Btf::parse(&bad).unwrap_err().0.contains("magic"));
        let mut be = good.clone();
        be[0] = 0xeb;
        be[1] = 0x9f;
        assert!(Btf::parse(&be).unwrap_err().0.contains("big-endian"));
        // Type section longer than the blob.
        let mut long = good.clone();
        long[12] = 0xff;
        long[13] = 0xff;
        assert!(Btf::parse(&long).unwrap_err().0.contains("runs past the end"));
        // Truncated in the middle of a type.
        let mut b = B::new();
        b.t("int", 1, 0, 4, &[]);
        assert!(Btf::parse(&b.bytes()).is_err());
        // Reference to a type that does not exist.
        let mut b = B::new();
        b.t("", 2, 0, 7, &[]);
        assert!(Btf::parse(&b.bytes()).unwrap_err().0.contains("does not exist"));
        // Unknown kind.
        let mut b = B::new();
        b.t("x", 31, 0, 0, &[]);
        assert!(Btf::parse(&b.bytes()).unwrap_err().0.contains("unknown kind"));
    }

    #[test]
    fn unknown_map_fields_are_reported() {
        let mut b = B::new();
        b.t("int", 1, 0, 4, &[32]); // [1]
        b.t("", 3, 0, 0, &[1, 1, 2]); // [2] int[2]
        b.t("", 2, 0, 2, &[]); // [3]
        let (ty, odd) = (b.s("type"), b.s("frobnicate"));
        b.t("", 4, 2, 16, &[ty, 3, 0, odd, 3, 64]); // [4]
        b.t("m", 14, 0, 4, &[1]); // [5]
        b.t(".maps", 15, 1, 0, &[5, 0, 16]); // [6]
        let defs = Btf::parse(&b.bytes()).unwrap().map_defs().unwrap();
        assert_eq!(defs[0].map_type, Some(2));
        assert_eq!(defs[0].unknown_fields, vec!["frobnicate".to_string()]);
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
            assert!(e.0.contains("type [2] refers to type [9]"), "{e}");
        }
        // A type section that is not a whole number of words.
        let mut d = b.bytes();
        d[12] += 1;
        assert!(Btf::parse(&d).unwrap_err().0.contains("truncated"));
        // A name offset outside the strings.
        let mut b = B::new();
        b.words.extend_from_slice(&[999, 1 << 24, 4, 32]);
        assert!(Btf::parse(&b.bytes()).unwrap_err().0.contains("name offset"));
    }
}
