//! BTF and BTF.ext: a pure parser and writer (bytes in, structures out).
//!
//! What the loader needs today: the `.maps` definitions (`__uint`, `__type`,
//! `__array`), the `DATASEC` fix-ups clang leaves to the loader (section sizes
//! and variable offsets), and `func_info`/`line_info` from `.BTF.ext` so the
//! verifier can point at C source lines. The type table is kept whole, with
//! every kind the kernel knows, because CO-RE (the next step) walks it; the
//! CO-RE records of `.BTF.ext` are parsed already.
//!
//! Layouts are the kernel's uapi (`include/uapi/linux/btf.h`). Little-endian
//! only, as on every host bpfl runs on.

use std::collections::HashMap;

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

/// What follows `struct btf_type`, by kind.
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

/// One type (`struct btf_type` and what follows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type {
    pub name_off: u32,
    pub info: u32,
    /// `size` for sized kinds, `type` for the referring ones.
    pub size_or_type: u32,
    pub data: TypeData,
}

impl Type {
    pub fn kind(&self) -> BtfKind {
        BtfKind::from_u32((self.info >> 24) & 0x1f).unwrap_or(BtfKind::Void)
    }
    pub fn vlen(&self) -> usize {
        (self.info & 0xffff) as usize
    }
    fn set_vlen(&mut self, n: usize) {
        self.info = (self.info & !0xffff) | (n as u32 & 0xffff);
    }
}

/// A parsed `.BTF` blob.
#[derive(Debug, Clone)]
pub struct Btf {
    /// Index 0 is `void`; ids are indices.
    types: Vec<Type>,
    strings: Vec<u8>,
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

struct Reader<'a> {
    d: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32> {
        let b = self.d.get(self.pos..self.pos + 4).ok_or_else(|| BtfError(format!("truncated at byte {}", self.pos)))?;
        self.pos += 4;
        Ok(u32::from_le_bytes(b.try_into().unwrap()))
    }
}

fn u32_at(d: &[u8], off: usize) -> Result<u32> {
    Reader { d, pos: off }.u32()
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
        let strings = sub(d, hdr_len, str_off, str_len, ".BTF string section")?.to_vec();
        if strings.first().is_some_and(|&b| b != 0) || strings.last().is_some_and(|&b| b != 0) {
            return err(".BTF: the string section must start and end with NUL");
        }
        let mut types = vec![Type { name_off: 0, info: 0, size_or_type: 0, data: TypeData::None }];
        let mut r = Reader { d: tdata, pos: 0 };
        while r.pos < tdata.len() {
            let id = types.len();
            let name_off = r.u32()?;
            let info = r.u32()?;
            let size_or_type = r.u32()?;
            let k = (info >> 24) & 0x1f;
            let kind = BtfKind::from_u32(k).filter(|k| *k != BtfKind::Void).ok_or_else(|| BtfError(format!(".BTF: type [{id}] has unknown kind {k}")))?;
            let vlen = (info & 0xffff) as usize;
            let data = match kind {
                BtfKind::Int => TypeData::Int(r.u32()?),
                BtfKind::Array => TypeData::Array { elem: r.u32()?, index: r.u32()?, nelems: r.u32()? },
                BtfKind::Struct | BtfKind::Union => {
                    let mut v = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        v.push(Member { name_off: r.u32()?, type_id: r.u32()?, offset: r.u32()? });
                    }
                    TypeData::Members(v)
                }
                BtfKind::Enum => {
                    let mut v = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        v.push((r.u32()?, r.u32()? as i32));
                    }
                    TypeData::Enum(v)
                }
                BtfKind::FuncProto => {
                    let mut v = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        v.push((r.u32()?, r.u32()?));
                    }
                    TypeData::Params(v)
                }
                BtfKind::Var => TypeData::Var(r.u32()?),
                BtfKind::Datasec => {
                    let mut v = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        v.push(VarSecinfo { type_id: r.u32()?, offset: r.u32()?, size: r.u32()? });
                    }
                    TypeData::Datasec(v)
                }
                BtfKind::DeclTag => TypeData::DeclTag(r.u32()? as i32),
                BtfKind::Enum64 => {
                    let mut v = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        v.push((r.u32()?, r.u32()?, r.u32()?));
                    }
                    TypeData::Enum64(v)
                }
                _ => TypeData::None,
            };
            if name_off as usize >= strings.len().max(1) {
                return err(format!(".BTF: type [{id}] has name offset {name_off} outside the string section"));
            }
            types.push(Type { name_off, info, size_or_type, data });
        }
        let btf = Btf { types, strings };
        btf.check_refs()?;
        Ok(btf)
    }

    /// Every type id a type refers to must exist.
    fn check_refs(&self) -> Result<()> {
        let n = self.types.len() as u32;
        let bad = |id: usize, r: u32| err(format!(".BTF: type [{id}] refers to type [{r}], which does not exist ({} types)", n - 1));
        for (id, t) in self.types.iter().enumerate().skip(1) {
            let refs: Vec<u32> = match (&t.data, t.kind()) {
                (_, BtfKind::Ptr | BtfKind::Typedef | BtfKind::Volatile | BtfKind::Const | BtfKind::Restrict | BtfKind::Func | BtfKind::Var | BtfKind::DeclTag | BtfKind::TypeTag | BtfKind::FuncProto) => vec![t.size_or_type],
                _ => vec![],
            };
            let more: Vec<u32> = match &t.data {
                TypeData::Array { elem, index, .. } => vec![*elem, *index],
                TypeData::Members(m) => m.iter().map(|m| m.type_id).collect(),
                TypeData::Params(p) => p.iter().map(|p| p.1).collect(),
                TypeData::Datasec(v) => v.iter().map(|v| v.type_id).collect(),
                _ => vec![],
            };
            for r in refs.into_iter().chain(more) {
                if r >= n {
                    return bad(id, r);
                }
            }
        }
        Ok(())
    }

    /// Number of types, `void` included.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    pub fn type_by_id(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    /// The NUL-terminated string at `off` of the string section.
    pub fn str_at(&self, off: u32) -> Option<&str> {
        let s = self.strings.get(off as usize..)?;
        let end = s.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&s[..end]).ok()
    }

    pub fn name_of(&self, id: u32) -> &str {
        self.type_by_id(id).and_then(|t| self.str_at(t.name_off)).unwrap_or("")
    }

    /// The first type of `kind` named `name`.
    pub fn find_by_name_kind(&self, name: &str, kind: BtfKind) -> Option<u32> {
        self.types.iter().enumerate().skip(1).find(|(_, t)| t.kind() == kind && self.str_at(t.name_off) == Some(name)).map(|(i, _)| i as u32)
    }

    /// Follows typedefs and qualifiers to the type they name.
    pub fn skip_mods(&self, mut id: u32) -> u32 {
        for _ in 0..64 {
            match self.type_by_id(id).map(|t| t.kind()) {
                Some(BtfKind::Typedef | BtfKind::Volatile | BtfKind::Const | BtfKind::Restrict | BtfKind::TypeTag) => id = self.types[id as usize].size_or_type,
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
                    let TypeData::Array { elem, nelems, .. } = t.data else { unreachable!() };
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
        for id in 1..self.types.len() {
            if self.types[id].kind() != BtfKind::Datasec {
                continue;
            }
            let sec = self.str_at(self.types[id].name_off).unwrap_or("").to_string();
            let Some(size) = sec_size(&sec) else {
                // Externs (.kconfig, .ksyms) have no ELF section; nothing to fix.
                continue;
            };
            let TypeData::Datasec(vars) = &self.types[id].data else { continue };
            let mut vars = vars.clone();
            for v in vars.iter_mut() {
                let var = self.type_by_id(v.type_id).filter(|t| t.kind() == BtfKind::Var).ok_or_else(|| BtfError(format!("DATASEC '{sec}' entry [{}] is not a variable", v.type_id)))?;
                let vname = self.str_at(var.name_off).unwrap_or("");
                v.offset = sym_off(&sec, vname).ok_or_else(|| BtfError(format!("DATASEC '{sec}': variable '{vname}' has no symbol")))?;
                if v.size == 0 {
                    v.size = self.size_of(v.type_id)?;
                }
            }
            vars.sort_by_key(|v| v.offset);
            let t = &mut self.types[id];
            t.size_or_type = size;
            t.data = TypeData::Datasec(vars);
        }
        Ok(())
    }

    /// Makes the blob acceptable to the kernel: variables that are `extern`
    /// (linkage 2, which the kernel refuses) become static, and `DATASEC`s the
    /// fix-up could not size (externs) are emptied.
    pub fn sanitize_for_kernel(&mut self) {
        for t in self.types.iter_mut() {
            match (t.kind(), &mut t.data) {
                (BtfKind::Var, TypeData::Var(linkage)) if *linkage > 1 => *linkage = 0,
                (BtfKind::Datasec, TypeData::Datasec(v)) if t.size_or_type == 0 && !v.is_empty() => {
                    v.clear();
                    t.set_vlen(0);
                }
                _ => {}
            }
        }
    }

    /// The `.BTF` blob, as the kernel takes it (`BPF_BTF_LOAD`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut types = Vec::new();
        let mut put = |v: u32| types.extend_from_slice(&v.to_le_bytes());
        for t in self.types.iter().skip(1) {
            put(t.name_off);
            put(t.info);
            put(t.size_or_type);
            match &t.data {
                TypeData::None => {}
                TypeData::Int(v) | TypeData::Var(v) => put(*v),
                TypeData::DeclTag(v) => put(*v as u32),
                TypeData::Array { elem, index, nelems } => {
                    put(*elem);
                    put(*index);
                    put(*nelems);
                }
                TypeData::Members(m) => m.iter().for_each(|m| {
                    put(m.name_off);
                    put(m.type_id);
                    put(m.offset);
                }),
                TypeData::Enum(e) => e.iter().for_each(|e| {
                    put(e.0);
                    put(e.1 as u32);
                }),
                TypeData::Params(p) => p.iter().for_each(|p| {
                    put(p.0);
                    put(p.1);
                }),
                TypeData::Datasec(v) => v.iter().for_each(|v| {
                    put(v.type_id);
                    put(v.offset);
                    put(v.size);
                }),
                TypeData::Enum64(e) => e.iter().for_each(|e| {
                    put(e.0);
                    put(e.1);
                    put(e.2);
                }),
            }
        }
        let mut out = Vec::with_capacity(24 + types.len() + self.strings.len());
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.push(1); // version
        out.push(0); // flags
        for v in [24u32, 0, types.len() as u32, types.len() as u32, self.strings.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&types);
        out.extend_from_slice(&self.strings);
        out
    }

    /// The map definitions of `.maps`, in section order.
    pub fn map_defs(&self) -> Result<Vec<BtfMapDef>> {
        let Some(sec) = self.find_by_name_kind(".maps", BtfKind::Datasec) else {
            return err("no DATASEC '.maps' in .BTF");
        };
        let TypeData::Datasec(vars) = &self.types[sec as usize].data else { unreachable!() };
        let mut vars = vars.clone();
        vars.sort_by_key(|v| v.offset);
        let mut out = Vec::new();
        for v in vars {
            let var = &self.types[v.type_id as usize];
            if var.kind() != BtfKind::Var {
                return err(format!("'.maps' entry [{}] is not a variable", v.type_id));
            }
            let name = self.str_at(var.name_off).unwrap_or("").to_string();
            out.push(self.map_def(&name, var.size_or_type, 0)?);
        }
        Ok(out)
    }

    /// The integer of `__uint(name, n)`: `int (*name)[n]`.
    fn uint_field(&self, map: &str, field: &str, id: u32) -> Result<u32> {
        let bad = || BtfError(format!("map '{map}': field '{field}' is not __uint(...)"));
        let p = self.type_by_id(self.skip_mods(id)).filter(|t| t.kind() == BtfKind::Ptr).ok_or_else(bad)?;
        match self.type_by_id(self.skip_mods(p.size_or_type)) {
            Some(Type { data: TypeData::Array { nelems, .. }, .. }) => Ok(*nelems),
            _ => Err(bad()),
        }
    }

    /// The type of `__type(name, T)`: `T *name`.
    fn type_field(&self, map: &str, field: &str, id: u32) -> Result<u32> {
        self.type_by_id(self.skip_mods(id)).filter(|t| t.kind() == BtfKind::Ptr).map(|t| t.size_or_type).ok_or_else(|| BtfError(format!("map '{map}': field '{field}' is not __type(...)")))
    }

    fn map_def(&self, name: &str, type_id: u32, depth: u32) -> Result<BtfMapDef> {
        let sid = self.skip_mods(type_id);
        let t = self.type_by_id(sid).filter(|t| t.kind() == BtfKind::Struct).ok_or_else(|| BtfError(format!("map '{name}': its definition is not a struct")))?;
        let TypeData::Members(members) = &t.data else { unreachable!() };
        let mut d = BtfMapDef { name: name.to_string(), ..Default::default() };
        for m in members {
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
                    let arr = self.type_by_id(self.skip_mods(m.type_id));
                    let Some(Type { data: TypeData::Array { elem, .. }, .. }) = arr else {
                        return err(format!("map '{name}': field 'values' is not __array(...)"));
                    };
                    let ptr = self.type_by_id(self.skip_mods(*elem)).filter(|t| t.kind() == BtfKind::Ptr);
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

/// A `bpf_core_relo` record (CO-RE), kept for the CO-RE work.
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

fn ext_records<T>(btf: &Btf, d: &[u8], what: &str, min_rec: usize, mut rec: impl FnMut(&[u8]) -> T) -> Result<Vec<(String, Vec<T>)>> {
    if d.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader { d, pos: 0 };
    let rec_size = r.u32()? as usize;
    if rec_size < min_rec || rec_size % 4 != 0 {
        return err(format!(".BTF.ext {what}: record size {rec_size} is invalid (need {min_rec}+)"));
    }
    let mut out: Vec<(String, Vec<T>)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    while r.pos < d.len() {
        let sec_off = r.u32()?;
        let n = r.u32()? as usize;
        let sec = btf.str_at(sec_off).ok_or_else(|| BtfError(format!(".BTF.ext {what}: section name offset {sec_off} is not in .BTF's strings")))?.to_string();
        let bytes = n.checked_mul(rec_size).filter(|b| r.pos + b <= d.len()).ok_or_else(|| BtfError(format!(".BTF.ext {what}: {n} records for '{sec}' run past the end")))?;
        let recs: Vec<T> = d[r.pos..r.pos + bytes].chunks_exact(rec_size).map(&mut rec).collect();
        r.pos += bytes;
        match seen.get(&sec) {
            Some(&i) => out[i].1.extend(recs),
            None => {
                seen.insert(sec.clone(), out.len());
                out.push((sec, recs));
            }
        }
    }
    Ok(out)
}

fn le(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap())
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
            func_info: ext_records(btf, fi, "func_info", 8, |b| FuncInfo { insn_off: le(b, 0), type_id: le(b, 1) })?,
            line_info: ext_records(btf, li, "line_info", 16, |b| LineInfo { insn_off: le(b, 0), file_name_off: le(b, 1), line_off: le(b, 2), line_col: le(b, 3) })?,
            core_relos: Vec::new(),
        };
        if hdr_len >= 32 {
            let cr = sub(d, hdr_len, u32_at(d, 24)?, u32_at(d, 28)?, ".BTF.ext core_relo")?;
            ext.core_relos = ext_records(btf, cr, "core_relo", 16, |b| CoreRelo { insn_off: le(b, 0), type_id: le(b, 1), access_str_off: le(b, 2), kind: le(b, 3) })?;
        }
        Ok(ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny BTF writer for tests: types as raw u32 words, strings by name.
    #[derive(Default)]
    struct B {
        words: Vec<u32>,
        strs: Vec<u8>,
    }
    impl B {
        fn new() -> B {
            B { words: vec![], strs: vec![0] }
        }
        fn s(&mut self, s: &str) -> u32 {
            if s.is_empty() {
                return 0;
            }
            let off = self.strs.len() as u32;
            self.strs.extend_from_slice(s.as_bytes());
            self.strs.push(0);
            off
        }
        fn t(&mut self, name: &str, kind: u32, vlen: u32, st: u32, extra: &[u32]) {
            let n = self.s(name);
            self.words.extend_from_slice(&[n, kind << 24 | vlen, st]);
            self.words.extend_from_slice(extra);
        }
        fn bytes(&self) -> Vec<u8> {
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
        assert_eq!(Btf::parse(&btf.to_bytes()).unwrap().types, btf.types);
        btf.fixup_datasecs(&|s| (s == ".maps").then_some(64), &|s, v| (s == ".maps" && v == "counts").then_some(32)).unwrap();
        let id = btf.find_by_name_kind(".maps", BtfKind::Datasec).unwrap();
        let t = btf.type_by_id(id).unwrap();
        assert_eq!(t.size_or_type, 64);
        assert_eq!(t.data, TypeData::Datasec(vec![VarSecinfo { type_id: 12, offset: 32, size: 32 }]));
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
}
