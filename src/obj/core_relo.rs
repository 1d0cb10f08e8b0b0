//! CO-RE ("compile once, run everywhere") relocations, applied without a
//! kernel: the object's own BTF (`local`), a target BTF (the running kernel's,
//! read by the caller) and the relocation records in, patched instructions
//! out.
//!
//! The semantics are libbpf's (`tools/lib/bpf/relo_core.c`), rewritten:
//! - an access string `"0:1:2"` is parsed against the local root type: the
//!   first number indexes the root as an array, the rest pick struct/union
//!   members (by index) or array elements;
//! - candidates are the target types of a compatible kind whose name, without
//!   a `___flavor` suffix, equals the local one's;
//! - a candidate matches when the same path exists in it, member by member
//!   *by name* (looking through anonymous struct/union members), with
//!   compatible field types; every matching candidate must agree on the result;
//! - when nothing matches, existence checks give 0, type-based relocations
//!   give 0, and the rest poison the instruction (`call 0xbad2310`) so that
//!   the verifier rejects the program only if that instruction is reachable.

use crate::btf::{essential_name, Btf, BtfKind, IndexedBtf, Type};
use crate::error::{Error, Result};
use crate::insn;

/// A relocation that cannot be applied: the caller adds which one it was.
fn why<T>(msg: String) -> Result<T> {
    Err(Error::unsupported(msg))
}

/// `enum bpf_core_relo_kind`.
#[allow(missing_docs)]
pub mod kind {
    pub const FIELD_BYTE_OFFSET: u32 = 0;
    pub const FIELD_BYTE_SIZE: u32 = 1;
    pub const FIELD_EXISTS: u32 = 2;
    pub const FIELD_SIGNED: u32 = 3;
    pub const FIELD_LSHIFT_U64: u32 = 4;
    pub const FIELD_RSHIFT_U64: u32 = 5;
    pub const TYPE_ID_LOCAL: u32 = 6;
    pub const TYPE_ID_TARGET: u32 = 7;
    pub const TYPE_EXISTS: u32 = 8;
    pub const TYPE_SIZE: u32 = 9;
    pub const ENUMVAL_EXISTS: u32 = 10;
    pub const ENUMVAL_VALUE: u32 = 11;
    pub const TYPE_MATCHES: u32 = 12;
}

/// The name libbpf gives a relocation kind.
pub fn kind_name(k: u32) -> &'static str {
    match k {
        kind::FIELD_BYTE_OFFSET => "byte_off",
        kind::FIELD_BYTE_SIZE => "byte_sz",
        kind::FIELD_EXISTS => "field_exists",
        kind::FIELD_SIGNED => "signed",
        kind::FIELD_LSHIFT_U64 => "lshift_u64",
        kind::FIELD_RSHIFT_U64 => "rshift_u64",
        kind::TYPE_ID_LOCAL => "local_type_id",
        kind::TYPE_ID_TARGET => "target_type_id",
        kind::TYPE_EXISTS => "type_exists",
        kind::TYPE_SIZE => "type_size",
        kind::ENUMVAL_EXISTS => "enumval_exists",
        kind::ENUMVAL_VALUE => "enumval_value",
        kind::TYPE_MATCHES => "type_matches",
        _ => "unknown",
    }
}

fn is_field(k: u32) -> bool {
    k <= kind::FIELD_RSHIFT_U64
}
fn is_type(k: u32) -> bool {
    matches!(k, kind::TYPE_ID_LOCAL | kind::TYPE_ID_TARGET | kind::TYPE_EXISTS | kind::TYPE_SIZE | kind::TYPE_MATCHES)
}
fn is_enumval(k: u32) -> bool {
    matches!(k, kind::ENUMVAL_EXISTS | kind::ENUMVAL_VALUE)
}

/// The immediate of a poisoned instruction: `call 0xbad2310` (an invalid helper).
pub const POISON_IMM: i32 = 0xbad2310;

/// One CO-RE relocation of an assembled program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relo {
    /// Instruction index in the assembled program.
    pub insn: usize,
    /// Root type id in the object's BTF.
    pub type_id: u32,
    /// Access string offset in the object's BTF strings.
    pub access_str_off: u32,
    /// `enum bpf_core_relo_kind`.
    pub kind: u32,
}

/// An instruction poisoned because its relocation found nothing in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poisoned {
    /// Instruction index in the assembled program.
    pub insn: usize,
    /// The relocation, described (kind, type and field path).
    pub what: String,
}

/// Follows typedefs and qualifiers: (id, type).
fn skip<'a>(btf: &'a Btf, id: u32) -> (u32, Type<'a>) {
    let id = btf.skip_mods(id);
    (id, btf.type_by_id(id).unwrap_or(Type { name_off: 0, info: 0, size_or_type: 0, extra: &[] }))
}

fn is_composite(t: &Type) -> bool {
    matches!(t.kind(), BtfKind::Struct | BtfKind::Union)
}
fn is_any_enum(t: &Type) -> bool {
    matches!(t.kind(), BtfKind::Enum | BtfKind::Enum64)
}
fn kflag(t: &Type) -> bool {
    t.info >> 31 != 0
}
/// Bit offset of member `i` (the bitfield size lives in the top byte with kflag).
fn member_bit_offset(t: &Type, i: usize) -> u32 {
    let off = t.extra[i * 3 + 2];
    if kflag(t) {
        off & 0x00ff_ffff
    } else {
        off
    }
}
fn member_bitfield_size(t: &Type, i: usize) -> u32 {
    if kflag(t) {
        t.extra[i * 3 + 2] >> 24
    } else {
        0
    }
}
fn member(t: &Type, i: usize) -> (u32, u32) {
    (t.extra[i * 3], t.extra[i * 3 + 1])
}
/// Kinds that may stand for each other: equal, or enum and enum64.
fn kinds_compat(a: &Type, b: &Type) -> bool {
    a.kind() == b.kind() || (is_any_enum(a) && is_any_enum(b))
}
fn int_offset(t: &Type) -> u32 {
    (t.extra.first().copied().unwrap_or(0) >> 16) & 0xff
}
const INT_SIGNED: u32 = 1;
fn int_encoding(t: &Type) -> u32 {
    (t.extra.first().copied().unwrap_or(0) >> 24) & 0xf
}
/// Name and value of enumerator `i` (enum or enum64); the value as libbpf gives it.
fn enumerator(t: &Type, i: usize) -> (u32, u64) {
    if t.kind() == BtfKind::Enum {
        (t.extra[i * 2], t.extra[i * 2 + 1] as i32 as i64 as u64)
    } else {
        (t.extra[i * 3], t.extra[i * 3 + 1] as u64 | (t.extra[i * 3 + 2] as u64) << 32)
    }
}

const MAX_SPEC_LEN: usize = 64;

/// One step of an access path: a struct/union member (with its name) or an
/// array element (no name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Acc<'a> {
    /// The struct/union (member access), or the element type (array access).
    type_id: u32,
    idx: u32,
    name: Option<&'a [u8]>,
}

/// An access path resolved against one BTF.
#[derive(Debug, Clone)]
struct Spec<'a> {
    btf: &'a Btf,
    root: u32,
    /// Named member and array steps (anonymous members are folded in).
    acc: Vec<Acc<'a>>,
    /// Every index of the access string (target: with anonymous members).
    raw: Vec<u32>,
    bit_offset: u64,
}

fn parse_access(s: &str) -> Result<Vec<u32>> {
    if s.is_empty() {
        return why("empty access string".into());
    }
    let raw: Vec<u32> = s.split(':').map(|p| p.parse::<u32>().map_err(|_| Error::unsupported(format!("bad access string '{s}'")))).collect::<std::result::Result<_, _>>()?;
    if raw.len() > MAX_SPEC_LEN {
        return why(format!("access string '{s}' is too long"));
    }
    Ok(raw)
}

fn size(btf: &Btf, id: u32) -> Result<u64> {
    // The kind is the relocation's (unsupported), not the BTF's.
    btf.size_of(id).map(u64::from).map_err(|e| Error::unsupported(e.message()))
}

/// A flexible array member: `T x[0]` (or `[]`), last member of its struct.
fn is_flex(btf: &Btf, prev: Option<&Acc>, nelems: u32) -> bool {
    match prev {
        Some(Acc { name: Some(_), type_id, idx }) if nelems == 0 => btf.type_by_id(*type_id).is_some_and(|t| *idx as usize + 1 == t.vlen()),
        _ => false,
    }
}

/// Parses the local access path of a relocation.
fn parse_spec<'a>(btf: &'a Btf, type_id: u32, access: &str, k: u32) -> Result<Spec<'a>> {
    let raw = parse_access(access)?;
    let mut spec = Spec { btf, root: type_id, acc: Vec::new(), raw: raw.clone(), bit_offset: 0 };
    if btf.type_by_id(type_id).is_none() {
        return why(format!("type [{type_id}] does not exist in the object's BTF"));
    }
    if is_type(k) {
        if raw != [0] {
            return why(format!("type-based relocation with access string '{access}' (expected '0')"));
        }
        return Ok(spec);
    }
    let (mut id, t) = skip(btf, type_id);
    let first = raw[0];
    if is_enumval(k) {
        if !is_any_enum(&t) || raw.len() > 1 || first as usize >= t.vlen() {
            return why(format!("enum value relocation with access string '{access}' on a type that is not an enum with that many values"));
        }
        let name = btf.str_bytes_at(enumerator(&t, first as usize).0).unwrap_or(b"");
        spec.acc.push(Acc { type_id: id, idx: first, name: Some(name) });
        return Ok(spec);
    }
    if !is_field(k) {
        return why(format!("unknown relocation kind {k}"));
    }
    spec.acc.push(Acc { type_id: id, idx: first, name: None });
    spec.bit_offset = first as u64 * size(btf, id)? * 8;
    for &i in &raw[1..] {
        let (sid, t) = skip(btf, id);
        id = sid;
        if is_composite(&t) {
            if i as usize >= t.vlen() {
                return why(format!("member index {i} out of range in access string '{access}'"));
            }
            spec.bit_offset += member_bit_offset(&t, i as usize) as u64;
            let (name_off, mtype) = member(&t, i as usize);
            let name = btf.str_bytes_at(name_off).unwrap_or(b"");
            if !name.is_empty() {
                spec.acc.push(Acc { type_id: id, idx: i, name: Some(name) });
            }
            id = mtype;
        } else if let Some((elem, _, nelems)) = t.array() {
            let (eid, _) = skip(btf, elem);
            if !is_flex(btf, spec.acc.last(), nelems) && i >= nelems {
                return why(format!("array index {i} out of range ({nelems} elements) in access string '{access}'"));
            }
            spec.acc.push(Acc { type_id: eid, idx: i, name: None });
            spec.bit_offset += i as u64 * size(btf, eid)? * 8;
            id = eid;
        } else {
            return why(format!("access string '{access}' steps into type [{id}], which is neither struct, union nor array"));
        }
    }
    Ok(spec)
}

/// Whether local type `l` and target type `t` may stand for each other as a
/// field's type.
fn fields_compat(local: &Btf, l: u32, target: &Btf, t: u32) -> bool {
    let (mut l, mut t) = (l, t);
    for _ in 0..32 {
        let (_, lt) = skip(local, l);
        let (_, tt) = skip(target, t);
        if is_composite(&lt) && is_composite(&tt) {
            return true;
        }
        if !kinds_compat(&lt, &tt) {
            return false;
        }
        match lt.kind() {
            BtfKind::Ptr | BtfKind::Float => return true,
            BtfKind::Fwd | BtfKind::Enum | BtfKind::Enum64 => {
                let ln = local.str_bytes_at(lt.name_off).unwrap_or(b"");
                let tn = target.str_bytes_at(tt.name_off).unwrap_or(b"");
                return essential_name(ln) == essential_name(tn);
            }
            BtfKind::Int => return int_offset(&lt) == 0 && int_offset(&tt) == 0,
            BtfKind::Array => {
                l = lt.array().expect("array").0;
                t = tt.array().expect("array").0;
            }
            _ => return false,
        }
    }
    false
}

/// Whether local type `l` and target type `t` are compatible (type-based relocations).
pub fn types_compat(local: &Btf, l: u32, target: &Btf, t: u32) -> bool {
    types_compat_depth(local, l, target, t, 32)
}

fn types_compat_depth(local: &Btf, l: u32, target: &Btf, t: u32, depth: u32) -> bool {
    if depth == 0 {
        return false;
    }
    let (_, lt) = skip(local, l);
    let (_, tt) = skip(target, t);
    if !kinds_compat(&lt, &tt) {
        return false;
    }
    match lt.kind() {
        BtfKind::Void | BtfKind::Struct | BtfKind::Union | BtfKind::Enum | BtfKind::Enum64 | BtfKind::Fwd => true,
        BtfKind::Int => int_offset(&lt) == 0 && int_offset(&tt) == 0,
        BtfKind::Ptr => types_compat_depth(local, lt.size_or_type, target, tt.size_or_type, depth - 1),
        BtfKind::Array => types_compat_depth(local, lt.array().expect("array").0, target, tt.array().expect("array").0, depth - 1),
        BtfKind::FuncProto => {
            lt.vlen() == tt.vlen()
                && lt.params().zip(tt.params()).all(|(lp, tp)| types_compat_depth(local, lp.1, target, tp.1, depth - 1))
                && types_compat_depth(local, lt.size_or_type, target, tt.size_or_type, depth - 1)
        }
        _ => false,
    }
}

/// Looks for the member `name` (with local type `ltype`) in target
/// struct/union `tid`, through anonymous members; extends `spec` and returns
/// the member's type id when found.
fn match_member<'a>(local: &Btf, name: &[u8], ltype: u32, target: &'a Btf, tid: u32, spec: &mut Spec<'a>) -> Result<Option<u32>> {
    let (tid, t) = skip(target, tid);
    if !is_composite(&t) {
        return Ok(None);
    }
    for i in 0..t.vlen() {
        let off = member_bit_offset(&t, i) as u64;
        let (mname_off, mtype) = member(&t, i);
        if spec.raw.len() >= MAX_SPEC_LEN {
            return why("access path too deep in the target".into());
        }
        spec.bit_offset += off;
        spec.raw.push(i as u32);
        let mname = target.str_bytes_at(mname_off).unwrap_or(b"");
        if mname.is_empty() {
            if is_composite(&skip(target, mtype).1) {
                if let Some(found) = match_member(local, name, ltype, target, mtype, spec)? {
                    return Ok(Some(found));
                }
            }
        } else if mname == name {
            if !fields_compat(local, ltype, target, mtype) {
                return Ok(None);
            }
            spec.acc.push(Acc { type_id: tid, idx: i as u32, name: Some(mname) });
            return Ok(Some(mtype));
        }
        spec.bit_offset -= off;
        spec.raw.pop();
    }
    Ok(None)
}

/// Matches the local path against target candidate `cand`.
fn match_spec<'a>(local: &Spec, target: &'a Btf, cand: u32, k: u32) -> Result<Option<Spec<'a>>> {
    let mut spec = Spec { btf: target, root: cand, acc: Vec::new(), raw: Vec::new(), bit_offset: 0 };
    if k == kind::TYPE_MATCHES {
        return Ok(matches::types_match(local.btf, local.root, target, cand).then_some(spec));
    }
    if is_type(k) {
        return Ok(types_compat(local.btf, local.root, target, cand).then_some(spec));
    }
    if is_enumval(k) {
        let (tid, t) = skip(target, cand);
        if !is_any_enum(&t) {
            return Ok(None);
        }
        let lname = essential_name(local.acc[0].name.unwrap_or(b""));
        for i in 0..t.vlen() {
            let n = target.str_bytes_at(enumerator(&t, i).0).unwrap_or(b"");
            if essential_name(n) == lname {
                spec.acc.push(Acc { type_id: tid, idx: i as u32, name: Some(n) });
                spec.raw.push(i as u32);
                return Ok(Some(spec));
            }
        }
        return Ok(None);
    }
    let mut tid = cand;
    for (i, la) in local.acc.iter().enumerate() {
        if let Some(name) = la.name {
            let (_, lt) = skip(local.btf, la.type_id);
            let ltype = member(&lt, la.idx as usize).1;
            match match_member(local.btf, name, ltype, target, tid, &mut spec)? {
                Some(next) => tid = next,
                None => return Ok(None),
            }
        } else {
            if i > 0 {
                let (_, t) = skip(target, tid);
                let Some((elem, _, nelems)) = t.array() else { return Ok(None) };
                if !is_flex(target, spec.acc.last(), nelems) && la.idx >= nelems {
                    return Ok(None);
                }
                tid = skip(target, elem).0;
            }
            if spec.raw.len() >= MAX_SPEC_LEN {
                return why("access path too deep in the target".into());
            }
            spec.acc.push(Acc { type_id: tid, idx: la.idx, name: None });
            spec.raw.push(la.idx);
            spec.bit_offset += la.idx as u64 * size(target, tid)? * 8;
        }
    }
    Ok(Some(spec))
}

/// The value a relocation takes for one spec (the local one: what the
/// compiler put in the instruction; a target's: what it must become).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Value {
    val: u64,
    /// Byte size of the field (byte offset relocations of whole fields).
    size: u64,
    /// Type of that field.
    type_id: u32,
    /// The instruction must hold the local value (false for bitfields).
    validate: bool,
    /// Nothing matched and the relocation has no "absent" value.
    poison: bool,
    /// The field's size changed in a way a load cannot follow (signed
    /// integers, structs): poisons memory accesses only.
    fail_memsz: bool,
}

fn field_value(k: u32, spec: Option<&Spec>) -> Result<Value> {
    let mut v = Value { validate: true, ..Default::default() };
    if k == kind::FIELD_EXISTS {
        v.val = spec.is_some() as u64;
        return Ok(v);
    }
    let Some(spec) = spec else {
        v.poison = true;
        return Ok(v);
    };
    let btf = spec.btf;
    let acc = spec.acc.last().expect("a field spec has a root");
    let Some(_) = acc.name else {
        // An array element (or the root itself).
        match k {
            kind::FIELD_BYTE_OFFSET => {
                v.val = spec.bit_offset / 8;
                v.size = size(btf, acc.type_id)?;
                v.type_id = acc.type_id;
            }
            kind::FIELD_BYTE_SIZE => v.val = size(btf, acc.type_id)?,
            _ => return why(format!("{} cannot be applied to an array element", kind_name(k))),
        }
        return Ok(v);
    };
    let (_, t) = skip(btf, acc.type_id);
    let (_, mtype) = member(&t, acc.idx as usize);
    let (fid, mt) = skip(btf, mtype);
    let bit_off = spec.bit_offset;
    let mut bit_sz = member_bitfield_size(&t, acc.idx as usize) as u64;
    let bitfield = bit_sz > 0;
    let (byte_sz, byte_off);
    if bitfield {
        let mut sz = mt.size_or_type as u64;
        if sz == 0 {
            return why("bitfield of a type without size".into());
        }
        let mut off = bit_off / 8 / sz * sz;
        while bit_off + bit_sz - off * 8 > sz * 8 {
            if sz >= 8 {
                return why("bitfield cannot be read with a 64-bit load".into());
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        byte_sz = sz;
        byte_off = off;
    } else {
        byte_sz = size(btf, fid)?;
        byte_off = bit_off / 8;
        bit_sz = byte_sz * 8;
    }
    v.validate = !bitfield;
    match k {
        kind::FIELD_BYTE_OFFSET => {
            v.val = byte_off;
            if !bitfield {
                v.size = byte_sz;
                v.type_id = fid;
            }
        }
        kind::FIELD_BYTE_SIZE => v.val = byte_sz,
        kind::FIELD_SIGNED => {
            v.val = ((is_any_enum(&mt) && kflag(&mt)) || (mt.kind() == BtfKind::Int && int_encoding(&mt) & INT_SIGNED != 0)) as u64;
            v.validate = true;
        }
        kind::FIELD_LSHIFT_U64 => v.val = 64 - (bit_off + bit_sz - byte_off * 8),
        kind::FIELD_RSHIFT_U64 => {
            v.val = 64 - bit_sz;
            v.validate = true;
        }
        _ => return why(format!("unknown field relocation kind {k}")),
    }
    Ok(v)
}

fn type_value(k: u32, spec: Option<&Spec>) -> Result<Value> {
    let mut v = Value { validate: true, ..Default::default() };
    let Some(spec) = spec else { return Ok(v) };
    v.val = match k {
        kind::TYPE_ID_LOCAL | kind::TYPE_ID_TARGET => spec.root as u64,
        kind::TYPE_EXISTS | kind::TYPE_MATCHES => 1,
        kind::TYPE_SIZE => size(spec.btf, spec.root)?,
        _ => return why(format!("unknown type relocation kind {k}")),
    };
    Ok(v)
}

fn enum_value(k: u32, spec: Option<&Spec>) -> Result<Value> {
    let mut v = Value { validate: true, ..Default::default() };
    match (k, spec) {
        (kind::ENUMVAL_EXISTS, s) => v.val = s.is_some() as u64,
        (kind::ENUMVAL_VALUE, None) => v.poison = true,
        (kind::ENUMVAL_VALUE, Some(s)) => {
            let (_, t) = skip(s.btf, s.acc[0].type_id);
            v.val = enumerator(&t, s.acc[0].idx as usize).1;
        }
        _ => return why(format!("unknown enum relocation kind {k}")),
    }
    Ok(v)
}

fn value(k: u32, spec: Option<&Spec>) -> Result<Value> {
    if is_field(k) {
        field_value(k, spec)
    } else if is_type(k) {
        type_value(k, spec)
    } else {
        enum_value(k, spec)
    }
}

/// `[id] struct foo.bar[2].baz (0:1:2:0)`: the relocation's path, for messages.
fn describe(btf: &Btf, type_id: u32, access: &str, k: u32) -> String {
    let t = btf.type_by_id(type_id);
    let kind = t.map_or("?", |t| match t.kind() {
        BtfKind::Struct => "struct ",
        BtfKind::Union => "union ",
        BtfKind::Enum | BtfKind::Enum64 => "enum ",
        BtfKind::Typedef => "typedef ",
        _ => "",
    });
    let mut s = format!("[{type_id}] {kind}{}", btf.name_of(type_id));
    if let Ok(spec) = parse_spec(btf, type_id, access, k) {
        for a in spec.acc.iter().skip(if is_enumval(k) { 0 } else { 1 }) {
            match a.name {
                Some(n) if is_enumval(k) => s += &format!("::{}", String::from_utf8_lossy(n)),
                Some(n) => s += &format!(".{}", String::from_utf8_lossy(n)),
                None => s += &format!("[{}]", a.idx),
            }
        }
        if is_field(k) && spec.acc.first().is_some_and(|a| a.idx != 0) {
            s = format!("{s} (root index {})", spec.acc[0].idx);
        }
    }
    format!("{s} ({access})")
}

use insn::{CLASS_ALU, CLASS_ALU64, CLASS_LD, CLASS_LDX, CLASS_ST, CLASS_STX};

fn poison(insns: &mut [u8], at: usize) {
    if insn::code(insns, at) == insn::LD_IMM64 && (at + 2) * 8 <= insns.len() {
        poison_one(insns, at + 1);
    }
    poison_one(insns, at);
}
fn poison_one(insns: &mut [u8], at: usize) {
    // `call POISON_IMM` with no registers and no offset.
    insns[at * insn::INSN_SIZE..(at + 1) * insn::INSN_SIZE].fill(0);
    insn::set_code(insns, at, insn::CALL);
    insn::set_imm(insns, at, POISON_IMM);
}

fn mem_size_bytes(code: u8) -> u64 {
    match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

/// Writes `new` into the instruction, after checking it holds `orig`.
/// Returns true when the instruction had to be poisoned instead.
fn patch(insns: &mut [u8], at: usize, orig: &Value, new: &Value) -> Result<bool> {
    if new.poison {
        poison(insns, at);
        return Ok(true);
    }
    let code = insn::code(insns, at);
    match insn::class(code) {
        CLASS_ALU | CLASS_ALU64 => {
            if code & 0x08 != 0 {
                return why(format!("ALU instruction (opcode {code:#04x}) with a register source"));
            }
            let imm = insn::imm(insns, at);
            if orig.validate && imm as i64 as u64 != orig.val {
                return why(format!("instruction holds {imm}, expected the local value {}", orig.val));
            }
            insn::set_imm(insns, at, new.val as i32);
        }
        CLASS_LDX | CLASS_ST | CLASS_STX => {
            let off = insn::off(insns, at);
            if orig.validate && off as i64 as u64 != orig.val {
                return why(format!("memory access at offset {off}, expected the local value {}", orig.val));
            }
            if new.val > i16::MAX as u64 {
                return why(format!("offset {} is too large for a memory access", new.val));
            }
            if new.fail_memsz {
                poison(insns, at);
                return Ok(true);
            }
            insn::set_off(insns, at, new.val as i16);
            if orig.size != new.size {
                let have = mem_size_bytes(code);
                if have != orig.size {
                    return why(format!("memory access of {have} bytes, expected {}", orig.size));
                }
                let bits = match new.size {
                    1 => 0x10,
                    2 => 0x08,
                    4 => 0x00,
                    8 => 0x18,
                    s => return why(format!("field of {s} bytes cannot be accessed by one instruction")),
                };
                insn::set_code(insns, at, (code & !0x18) | bits);
            }
        }
        CLASS_LD if code == insn::LD_IMM64 => {
            let b = |i: usize| insns[at * 8 + i];
            if (at + 2) * 8 > insns.len() || insn::src_reg(insns, at) != 0 || insn::off(insns, at) != 0 || b(8) != 0 || b(9) != 0 || insn::off(insns, at + 1) != 0 {
                return why("ld_imm64 of an unexpected form".into());
            }
            let imm = insn::imm(insns, at) as u32 as u64 | (insn::imm(insns, at + 1) as u32 as u64) << 32;
            if orig.validate && imm != orig.val {
                return why(format!("ld_imm64 holds {imm}, expected the local value {}", orig.val));
            }
            insn::set_imm(insns, at, new.val as u32 as i32);
            insn::set_imm(insns, at + 1, (new.val >> 32) as u32 as i32);
        }
        _ => return why(format!("instruction (opcode {code:#04x}) cannot take a CO-RE relocation")),
    }
    Ok(false)
}

/// Whether a whole-field load may change size: pointers, and unsigned
/// integers (zero extension keeps the value).
fn mem_size_adjustable(local: &Btf, l: u32, target: &Btf, t: u32) -> bool {
    let (_, lt) = skip(local, l);
    let (_, tt) = skip(target, t);
    (lt.kind() == BtfKind::Ptr && tt.kind() == BtfKind::Ptr)
        || (lt.kind() == BtfKind::Int && tt.kind() == BtfKind::Int && int_encoding(&lt) & INT_SIGNED == 0 && int_encoding(&tt) & INT_SIGNED == 0)
}

/// Resolves one relocation: (local value, target value). Errors are
/// messages without the relocation's description (the caller adds it).
fn resolve(local: &Btf, target: &IndexedBtf, r: &Relo, access: &str) -> Result<(Value, Value)> {
    let k = r.kind;
    if k > kind::TYPE_MATCHES {
        return why(format!("unknown relocation kind {k}"));
    }
    let lspec = parse_spec(local, r.type_id, access, k)?;
    let orig = value(k, Some(&lspec))?;
    if k == kind::TYPE_ID_LOCAL {
        return Ok((orig, orig));
    }
    let lt = local.type_by_id(r.type_id).expect("checked by parse_spec");
    let lname = local.str_bytes_at(lt.name_off).unwrap_or(b"");
    if lname.is_empty() {
        return why("the root type is anonymous (CO-RE needs a named struct, union, enum or typedef)".into());
    }
    let mut chosen: Option<(Spec, Value)> = None;
    for cand in target.by_essential_name(essential_name(lname)) {
        let ct = target.btf.type_by_id(cand).expect("indexed");
        if !kinds_compat(&lt, &ct) {
            continue;
        }
        let Some(tspec) = match_spec(&lspec, &target.btf, cand, k)? else { continue };
        let mut v = value(k, Some(&tspec))?;
        v.validate = orig.validate;
        match &chosen {
            None => chosen = Some((tspec, v)),
            Some((first, fv)) => {
                if is_field(k) && first.bit_offset != tspec.bit_offset {
                    return why(format!(
                        "ambiguous: kernel types [{}] and [{}] both match, with the field at bit {} and {}",
                        first.root, tspec.root, first.bit_offset, tspec.bit_offset
                    ));
                }
                if fv.poison != v.poison || fv.val != v.val {
                    return why(format!("ambiguous: kernel types [{}] and [{}] both match, giving {} and {}", first.root, tspec.root, fv.val, v.val));
                }
            }
        }
    }
    let mut new = match chosen {
        Some((_, v)) => v,
        None => {
            let mut v = value(k, None)?;
            v.validate = orig.validate;
            v
        }
    };
    if is_field(k) && !new.poison && orig.size != new.size && !mem_size_adjustable(local, orig.type_id, &target.btf, new.type_id) {
        new.fail_memsz = true;
    }
    Ok((orig, new))
}

/// Applies `relos` to `insns` (an assembled program). Returns the instructions
/// poisoned because their relocation found nothing in the target; an error
/// names the relocation (index, instruction, kind, type and field path).
pub fn relocate(local: &Btf, target: &IndexedBtf, insns: &mut [u8], relos: &[Relo]) -> Result<Vec<Poisoned>> {
    let mut poisoned = Vec::new();
    let n = insns.len() / 8;
    for (i, r) in relos.iter().enumerate() {
        let access = local.str_at(r.access_str_off).unwrap_or("");
        let what = || format!("{} of {}", kind_name(r.kind), describe(local, r.type_id, access, r.kind));
        let fail = |e: Error| e.context(format!("CO-RE relocation #{i} at instruction {}, {}", r.insn, what()));
        if r.insn >= n {
            return Err(fail(Error::unsupported("the instruction is outside the program")));
        }
        let (orig, new) = resolve(local, target, r, access).map_err(&fail)?;
        if patch(insns, r.insn, &orig, &new).map_err(fail)? {
            let why = if new.fail_memsz {
                "the field's size differs in the kernel and the load cannot be resized"
            } else {
                "not found in the kernel's BTF (vmlinux, nor a loaded module's)"
            };
            poisoned.push(Poisoned { insn: r.insn, what: format!("{}: {why}", what()) });
        }
    }
    Ok(poisoned)
}

mod matches;
pub use matches::types_match;

#[cfg(test)]
mod tests;
