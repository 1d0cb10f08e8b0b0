//! The language-neutral part of `bpfl gen skeleton`: what the object holds
//! (programs, maps, data sections) and the records (structs and unions) its
//! BTF gives the maps' keys and values and the global variables, with every
//! field at the offset the kernel uses.
//!
//! The generators print these records in their language and insert explicit
//! padding wherever a field starts after the previous one ends; every field
//! here is aligned for its type by C's rules (a field that is not, in a
//! packed struct, becomes bytes), so a struct printed with that padding has
//! the kernel's layout in every language, which their size assertions check.
use bpfl::btf::{Btf, BtfKind};
use bpfl::obj::{section::attach_target, ObjectSpec};
use std::collections::HashMap;

/// A field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// An integer of 1, 2, 4 or 8 bytes; `char` for C's `char` (arrays of
    /// them are strings), `ptr` for a pointer kept as its address.
    Int { size: u32, signed: bool, char: bool },
    Float(u32),
    /// Bytes with no better type: 128-bit integers, bitfields sharing bytes,
    /// misaligned fields.
    Bytes(u32),
    /// A struct or union: an index in [`Layout::records`].
    Record(usize),
    Array(Box<Ty>, u32),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub off: u32,
    pub ty: Ty,
    pub size: u32,
    /// What a reader should know: the C type behind an integer (a pointer,
    /// an enum), the bits of a bitfield.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Record {
    /// The C name (`event`, `event__u` for an anonymous member type).
    pub name: String,
    pub union: bool,
    pub size: u32,
    pub align: u32,
    /// Sorted by offset (a union's all at 0).
    pub fields: Vec<Field>,
}

pub struct Prog {
    pub name: String,
    pub section: String,
    /// The section names a target: `attach` attaches it.
    pub auto_attach: bool,
}

pub struct MapInfo {
    /// As `bpfl_object_find_map` knows it (".rodata" for global data).
    pub name: String,
    /// An identifier: the name without dots.
    pub ident: String,
    pub key: Option<Ty>,
    pub value: Option<Ty>,
}

/// A data section (`.rodata`, `.data`, `.bss`, `.data.NAME`...) as a record.
pub struct DataSec {
    pub name: String,
    pub ident: String,
    /// Index of its record in [`Layout::records`].
    pub record: usize,
    /// Its variables in offset order: (name, offset); the generated code asks
    /// for the first one bpfl finds and subtracts its offset.
    pub vars: Vec<(String, u32)>,
}

pub struct Layout {
    pub records: Vec<Record>,
    pub progs: Vec<Prog>,
    pub maps: Vec<MapInfo>,
    pub datasecs: Vec<DataSec>,
    /// Records of types asked for by name (`--event`) or pointed to by a global.
    pub events: Vec<usize>,
}

pub fn ident(name: &str) -> String {
    let s: String = name.trim_start_matches('.').chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else {
        s
    }
}

struct Builder<'a> {
    btf: &'a Btf,
    records: Vec<Record>,
    by_id: HashMap<u32, usize>,
    names: HashMap<String, u32>,
    budget: u32,
}

pub fn build(spec: &ObjectSpec, events: &[String]) -> Result<Layout, String> {
    let progs = spec
        .programs
        .iter()
        .map(|p| Prog { name: p.name.clone(), section: p.section.clone(), auto_attach: attach_target(&p.section).is_some() })
        .collect();
    let Some(btf) = &spec.btf else {
        if !events.is_empty() {
            return Err("the object has no BTF: no type to generate".into());
        }
        let maps = spec.maps.iter().map(|m| MapInfo { name: m.name.clone(), ident: ident(&m.name), key: None, value: None }).collect();
        return Ok(Layout { records: vec![], progs, maps, datasecs: vec![], events: vec![] });
    };
    let mut b = Builder { btf, records: vec![], by_id: HashMap::new(), names: HashMap::new(), budget: 100_000 };
    let mut maps = vec![];
    for m in &spec.maps {
        // A data section's map has its DATASEC as value: that is the section's record.
        let internal = m.name.starts_with('.');
        let ty = |b: &mut Builder, id: u32, what| if id == 0 || internal { Ok(None) } else { b.ty(id, &format!("{}__{what}", ident(&m.name))).map(Some) };
        let key = ty(&mut b, m.btf_key_type_id, "key")?;
        let value = ty(&mut b, m.btf_value_type_id, "value")?;
        // `.data` and a map named `data` would share an identifier: the later one gets a suffix.
        let mut id = ident(&m.name);
        while maps.iter().any(|x: &MapInfo| x.ident == id) {
            id.push('2');
        }
        maps.push(MapInfo { name: m.name.clone(), ident: id, key, value });
    }
    let mut datasecs = vec![];
    let mut pointees = vec![];
    for (_, t) in btf.types().filter(|(_, t)| t.kind() == BtfKind::Datasec) {
        let name = btf.str_at(t.name_off).unwrap_or("");
        let data = [".rodata", ".data", ".bss"].iter().any(|p| name == *p || name.starts_with(&format!("{p}.")));
        if !data || !spec.maps.iter().any(|m| m.name == name) {
            continue;
        }
        let mut fields = vec![];
        let mut vars = vec![];
        for si in t.secinfos() {
            let Some(var) = btf.type_by_id(si.type_id).filter(|v| v.kind() == BtfKind::Var) else { continue };
            let vname = btf.str_at(var.name_off).unwrap_or("").to_string();
            let ty = b.ty(var.size_or_type, &format!("{}__{vname}", ident(name)))?;
            pointees.extend(b.pointee(var.size_or_type));
            vars.push((vname.clone(), si.offset));
            fields.push(Field { name: vname, off: si.offset, ty, size: si.size, note: b.note(var.size_or_type) });
        }
        if vars.is_empty() {
            continue;
        }
        let record = b.push(ident(name), false, t.size_or_type, fields);
        datasecs.push(DataSec { name: name.to_string(), ident: ident(name), record, vars });
    }
    let mut ev = vec![];
    for e in events {
        let id = btf
            .find_by_name_kind(e, BtfKind::Struct)
            .or_else(|| btf.find_by_name_kind(e, BtfKind::Union))
            .or_else(|| btf.find_by_name_kind(e, BtfKind::Typedef))
            .ok_or_else(|| format!("--event {e}: the object's BTF has no struct, union or typedef of that name"))?;
        match b.ty(id, e)? {
            Ty::Record(r) => ev.push(r),
            _ => return Err(format!("--event {e}: not a struct or union")),
        }
    }
    for id in pointees {
        if let Ty::Record(r) = b.ty(id, "")? {
            if !ev.contains(&r) {
                ev.push(r);
            }
        }
    }
    Ok(Layout { records: b.records, progs, maps, datasecs, events: ev })
}

impl Builder<'_> {
    fn step(&mut self) -> Result<(), String> {
        self.budget = self.budget.checked_sub(1).ok_or("the BTF is too deep or cyclic to lay out")?;
        Ok(())
    }

    /// A named struct or union a global points to (`struct event *unused`).
    fn pointee(&self, id: u32) -> Option<u32> {
        let t = self.btf.type_by_id(self.btf.skip_mods(id))?;
        let p = self.btf.skip_mods(t.size_or_type);
        let pt = self.btf.type_by_id(p)?;
        (t.kind() == BtfKind::Ptr && matches!(pt.kind(), BtfKind::Struct | BtfKind::Union) && pt.name_off != 0).then_some(t.size_or_type)
    }

    /// The C type behind an integer field, when it is not plain.
    fn note(&self, id: u32) -> Option<String> {
        let t = self.btf.type_by_id(self.btf.skip_mods(id))?;
        let name = self.btf.str_at(t.name_off).unwrap_or("");
        match t.kind() {
            BtfKind::Ptr => Some("a pointer (its address)".into()),
            BtfKind::Enum | BtfKind::Enum64 => Some(format!("enum {name}")),
            _ => None,
        }
    }

    /// The type of BTF type `id`; `hint` names it when it is anonymous.
    fn ty(&mut self, id: u32, hint: &str) -> Result<Ty, String> {
        self.step()?;
        let btf = self.btf;
        let t = btf.type_by_id(id).ok_or_else(|| format!("BTF type [{id}] does not exist"))?;
        let name = btf.str_at(t.name_off).unwrap_or("");
        Ok(match t.kind() {
            BtfKind::Typedef => match btf.type_by_id(btf.skip_mods(t.size_or_type)) {
                // `typedef struct { ... } name_t`: the struct takes the typedef's name.
                Some(u) if matches!(u.kind(), BtfKind::Struct | BtfKind::Union) && u.name_off == 0 => self.ty(btf.skip_mods(t.size_or_type), name)?,
                _ => self.ty(t.size_or_type, hint)?,
            },
            BtfKind::Const | BtfKind::Volatile | BtfKind::Restrict | BtfKind::TypeTag => self.ty(t.size_or_type, hint)?,
            BtfKind::Int => {
                let enc = t.extra.first().copied().unwrap_or(0);
                let size = t.size_or_type;
                match size {
                    1 | 2 | 4 | 8 => Ty::Int { size, signed: enc & (1 << 24) != 0, char: size == 1 && (enc & (1 << 25) != 0 || name == "char") },
                    _ => Ty::Bytes(size),
                }
            }
            BtfKind::Enum | BtfKind::Enum64 => match t.size_or_type {
                s @ (1 | 2 | 4 | 8) => Ty::Int { size: s, signed: t.info & (1 << 31) != 0, char: false },
                s => Ty::Bytes(s),
            },
            BtfKind::Ptr => Ty::Int { size: 8, signed: false, char: false },
            BtfKind::Float => Ty::Float(t.size_or_type),
            BtfKind::Array => {
                let (elem, _, n) = t.array().expect("an array");
                Ty::Array(Box::new(self.ty(elem, hint)?), n)
            }
            BtfKind::Struct | BtfKind::Union => self.record(id, if name.is_empty() { hint } else { name })?,
            k => return Err(format!("BTF type [{id}] ({k:?}) has no layout a skeleton can give")),
        })
    }

    fn record(&mut self, id: u32, name: &str) -> Result<Ty, String> {
        if let Some(&r) = self.by_id.get(&id) {
            return Ok(Ty::Record(r));
        }
        let t = self.btf.type_by_id(id).expect("checked by ty");
        let union = t.kind() == BtfKind::Union;
        let kflag = t.info & (1 << 31) != 0;
        let mut items: Vec<Field> = vec![];
        let mut bits: Vec<(u32, u32, u32, String, u32)> = vec![]; // (bit off, bits, unit size, name, type)
        for (i, m) in t.members().enumerate() {
            let mname = match self.btf.str_at(m.name_off).unwrap_or("") {
                "" => format!("anon{i}"),
                n => n.to_string(),
            };
            let (bit_off, nbits) = if kflag { (m.offset & 0xff_ffff, m.offset >> 24) } else { (m.offset, 0) };
            let size = self.btf.size_of(m.type_id).map_err(|e| e.to_string())?;
            if nbits != 0 || bit_off % 8 != 0 {
                bits.push((bit_off, if nbits == 0 { size * 8 } else { nbits }, size, mname, m.type_id));
                continue;
            }
            let hint = format!("{name}__{mname}");
            let ty = self.ty(m.type_id, &hint)?;
            items.push(Field { name: mname, off: bit_off / 8, ty, size, note: self.note(m.type_id) });
        }
        let bf = bitfields(&bits, &items);
        items.extend(bf);
        let r = self.push(name.to_string(), union, t.size_or_type, items);
        self.by_id.insert(id, r);
        Ok(Ty::Record(r))
    }

    /// Adds a record of `fields` (any order): misaligned fields become
    /// bytes, and in a struct whose size is not a multiple of its fields'
    /// alignment (packed) every field does.
    fn push(&mut self, name: String, union: bool, size: u32, mut fields: Vec<Field>) -> usize {
        fields.sort_by_key(|f| f.off);
        let align_of = |rs: &[Record], t: &Ty| align(rs, t);
        for f in fields.iter_mut() {
            if f.off % align_of(&self.records, &f.ty) != 0 {
                f.note = Some(format!("misaligned {}", f.note.clone().unwrap_or_else(|| "field".into())));
                f.ty = Ty::Bytes(f.size);
            }
        }
        let mut al = fields.iter().map(|f| align_of(&self.records, &f.ty)).max().unwrap_or(1);
        if size % al != 0 {
            for f in fields.iter_mut().filter(|f| align(&self.records, &f.ty) > 1) {
                f.note = Some(format!("in a packed struct; {}", f.note.clone().unwrap_or_else(|| "bytes".into())));
                f.ty = Ty::Bytes(f.size);
            }
            al = 1;
        }
        let n = self.names.entry(name.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { name } else { format!("{name}_{n}") };
        self.records.push(Record { name, union, size, align: al, fields });
        self.records.len() - 1
    }
}

/// Bitfields as the integers that hold them: each unit (an aligned integer
/// of the member's declared size) is one field named after its members, with
/// their bits in a note. A unit that would overlap a plain field shrinks to
/// the bytes its bits touch; units that overlap each other (mixed sizes)
/// merge into one run of bytes.
fn bitfields(bits: &[(u32, u32, u32, String, u32)], plain: &[Field]) -> Vec<Field> {
    let mut units: Vec<(u32, u32, Vec<usize>)> = vec![]; // (byte off, size, members)
    for (i, (off, n, size, _, _)) in bits.iter().enumerate() {
        let size = if matches!(size, 1 | 2 | 4 | 8) { *size } else { 1 };
        let mut u = (off / (size * 8) * size, size);
        let clash = plain.iter().any(|f| f.off < u.0 + u.1 && u.0 < f.off + f.size);
        if clash || off + n > (u.0 + u.1) * 8 {
            u = (off / 8, (off + n).div_ceil(8) - off / 8);
        }
        match units.iter_mut().find(|x| x.0 < u.0 + u.1 && u.0 < x.0 + x.1) {
            Some(x) => {
                let (s, e) = (x.0.min(u.0), (x.0 + x.1).max(u.0 + u.1));
                x.0 = s;
                x.1 = e - s;
                x.2.push(i);
            }
            None => units.push((u.0, u.1, vec![i])),
        }
    }
    units
        .into_iter()
        .map(|(off, size, members)| {
            let names: Vec<&str> = members.iter().map(|&i| bits[i].3.as_str()).collect();
            let parts: Vec<String> = members
                .iter()
                .map(|&i| {
                    let (b, n) = (bits[i].0 - off * 8, bits[i].1);
                    format!("{}: bits {b}..{}", bits[i].3, b + n - 1)
                })
                .collect();
            let ty = if matches!(size, 1 | 2 | 4 | 8) && off % size == 0 { Ty::Int { size, signed: false, char: false } } else { Ty::Bytes(size) };
            Field { name: names.join("_"), off, ty, size, note: Some(format!("bitfields, bit 0 the lowest of the little-endian unit: {}", parts.join("; "))) }
        })
        .collect()
}

/// C's alignment of a type.
pub fn align(records: &[Record], t: &Ty) -> u32 {
    match t {
        Ty::Int { size, .. } => *size,
        Ty::Float(s) => *s,
        Ty::Bytes(_) => 1,
        Ty::Record(r) => records[*r].align,
        Ty::Array(e, _) => align(records, e),
    }
}

/// Which records each record uses, in an order where a record comes after
/// those it contains (the generated languages want that, C above all).
pub fn order(records: &[Record]) -> Vec<usize> {
    fn visit(rs: &[Record], i: usize, seen: &mut Vec<bool>, out: &mut Vec<usize>) {
        if seen[i] {
            return;
        }
        seen[i] = true;
        for f in &rs[i].fields {
            let mut t = &f.ty;
            while let Ty::Array(e, _) = t {
                t = e;
            }
            if let Ty::Record(r) = t {
                visit(rs, *r, seen, out);
            }
        }
        out.push(i);
    }
    let mut seen = vec![false; records.len()];
    let mut out = vec![];
    for i in 0..records.len() {
        visit(records, i, &mut seen, &mut out);
    }
    out
}

/// The gaps a generator pads: for each field, the bytes of padding before
/// it; then the trailing padding. Union members all start at 0.
pub fn gaps(r: &Record) -> (Vec<u32>, u32) {
    let mut end = 0;
    let mut before = vec![];
    for f in &r.fields {
        if r.union {
            before.push(0);
            end = end.max(f.size);
        } else {
            before.push(f.off.saturating_sub(end));
            end = end.max(f.off + f.size);
        }
    }
    (before, r.size.saturating_sub(end))
}
