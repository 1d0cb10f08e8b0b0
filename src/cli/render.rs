//! Map keys and values rendered through their BTF types: integers, enums
//! (by name), structs and unions (with field names, bitfields included),
//! arrays, char arrays as strings, floats, pointers; the variables of a
//! DATASEC (.bss, .data) one by one; anything else (and any size mismatch)
//! as hex. Shared by `bpfl map` and `bpfl run`.
use bpfl::btf::{Btf, BtfKind, TypeData};

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `bytes` as a value of type `id`.
pub fn render(btf: &Btf, id: u32, bytes: &[u8]) -> String {
    render_depth(btf, id, bytes, 0)
}

fn render_depth(btf: &Btf, id: u32, bytes: &[u8], depth: u32) -> String {
    let id = btf.skip_mods(id);
    let (Some(t), Ok(size)) = (btf.type_by_id(id), btf.size_of(id)) else { return hex(bytes) };
    if depth > 16 || (size as usize) > bytes.len() {
        return hex(bytes);
    }
    let bytes = &bytes[..size as usize];
    match (t.kind(), t.data()) {
        (BtfKind::Int, TypeData::Int(enc)) => int(bytes, enc & (1 << 24) != 0),
        (BtfKind::Enum, TypeData::Enum(vals)) => {
            let signed = t.info & (1 << 31) != 0;
            let v = int_val(bytes, signed);
            let hit = vals.iter().find(|(_, x)| if signed { i128::from(*x) == v } else { i128::from(*x as u32) == v });
            hit.and_then(|(n, _)| btf.str_at(*n)).map_or_else(|| v.to_string(), str::to_string)
        }
        (BtfKind::Enum64, TypeData::Enum64(vals)) => {
            let signed = t.info & (1 << 31) != 0;
            let v = int_val(bytes, signed);
            let hit = vals.iter().find(|(_, lo, hi)| {
                let x = u64::from(*hi) << 32 | u64::from(*lo);
                if signed { i128::from(x as i64) == v } else { i128::from(x) == v }
            });
            hit.and_then(|(n, _, _)| btf.str_at(*n)).map_or_else(|| v.to_string(), str::to_string)
        }
        (BtfKind::Float, _) if size == 4 => f32::from_ne_bytes(bytes.try_into().unwrap_or_default()).to_string(),
        (BtfKind::Float, _) if size == 8 => f64::from_ne_bytes(bytes.try_into().unwrap_or_default()).to_string(),
        (BtfKind::Ptr, _) => format!("0x{:x}", int_val(bytes, false)),
        (BtfKind::Struct | BtfKind::Union, TypeData::Members(ms)) => {
            let kflag = t.info & (1 << 31) != 0;
            let fields: Vec<String> = ms
                .iter()
                .map(|m| {
                    let name = btf.str_at(m.name_off).unwrap_or("");
                    let (bit_off, bits) = if kflag { (m.offset & 0xff_ffff, m.offset >> 24) } else { (m.offset, 0) };
                    let value = if bits != 0 || bit_off % 8 != 0 {
                        bitfield(bytes, bit_off, if bits != 0 { bits } else { btf.size_of(m.type_id).unwrap_or(0) * 8 })
                    } else {
                        render_depth(btf, m.type_id, bytes.get(bit_off as usize / 8..).unwrap_or(&[]), depth + 1)
                    };
                    format!("{name}: {value}")
                })
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        (BtfKind::Array, TypeData::Array { elem, nelems, .. }) => {
            let esz = btf.size_of(elem).unwrap_or(0) as usize;
            if esz == 0 {
                return hex(bytes);
            }
            if is_char(btf, elem) {
                return c_string(bytes);
            }
            let items: Vec<String> = (0..nelems as usize).map(|i| render_depth(btf, elem, &bytes[i * esz..], depth + 1)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => hex(bytes),
    }
}

/// A per-CPU value (`bytes` holds one value per possible CPU, each
/// `value_size` bytes rounded up to 8): integers summed when `sum`, else
/// (and for any other type) every CPU's value listed.
pub fn per_cpu(btf: &Btf, id: u32, bytes: &[u8], value_size: usize, sum: bool) -> String {
    let stride = (value_size + 7) & !7;
    let t = btf.type_by_id(btf.skip_mods(id));
    if let (true, Some(TypeData::Int(enc))) = (sum, t.map(|t| t.data())) {
        let total: i128 = bytes.chunks(stride).map(|c| int_val(&c[..value_size.min(c.len())], enc & (1 << 24) != 0)).sum();
        return total.to_string();
    }
    let cpus: Vec<String> = bytes.chunks(stride).map(|c| render(btf, id, c)).collect();
    format!("per-CPU [{}]", cpus.join(", "))
}

/// The variables of a DATASEC (a `.bss` or `.data` map's value), each as
/// (name, value); None when `id` is not a DATASEC.
pub fn datasec_vars(btf: &Btf, id: u32, bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let t = btf.type_by_id(id)?;
    let TypeData::Datasec(vars) = t.data() else { return None };
    let mut out = Vec::new();
    for v in vars {
        let (Some(var), Some(b)) = (btf.type_by_id(v.type_id), bytes.get(v.offset as usize..(v.offset + v.size) as usize)) else { continue };
        out.push((btf.str_at(var.name_off).unwrap_or("?").to_string(), render(btf, var.size_or_type, b)));
    }
    Some(out)
}

/// Whether `id` is a C `char` (what a char array is shown as a string for).
fn is_char(btf: &Btf, id: u32) -> bool {
    let id = btf.skip_mods(id);
    match btf.type_by_id(id).map(|t| (t.data(), t.size_or_type)) {
        Some((TypeData::Int(enc), 1)) => enc & (4 << 24) != 0 || btf.name_of(id) == "char",
        _ => false,
    }
}

/// A char array: up to its first NUL, quoted, non-printable bytes escaped.
fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let mut s = String::from("\"");
    for &c in &b[..end] {
        match c {
            b'"' | b'\\' => s.extend(['\\', c as char]),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// An unsigned bitfield of `bits` bits at bit `off` (little-endian layout).
fn bitfield(b: &[u8], off: u32, bits: u32) -> String {
    let start = off as usize / 8;
    let mut v = [0u8; 16];
    let n = b.len().saturating_sub(start).min(16);
    v[..n].copy_from_slice(&b[start..start + n]);
    let x = u128::from_le_bytes(v) >> (off % 8);
    if bits == 0 || bits > 64 {
        return "?".into();
    }
    (x & ((1u128 << bits) - 1)).to_string()
}

fn int(b: &[u8], signed: bool) -> String {
    if b.len() == 16 {
        let v = u128::from_ne_bytes(b.try_into().unwrap_or_default());
        return if signed { (v as i128).to_string() } else { v.to_string() };
    }
    int_val(b, signed).to_string()
}

/// An integer of up to 8 bytes, sign-extended when `signed`.
pub fn int_val(b: &[u8], signed: bool) -> i128 {
    let mut v = [0u8; 8];
    let n = b.len().min(8);
    v[..n].copy_from_slice(&b[..n]);
    let u = u64::from_ne_bytes(v);
    if !signed || n == 0 {
        return i128::from(u);
    }
    let shift = 64 - 8 * n as u32;
    i128::from(((u << shift) as i64) >> shift)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ints() {
        assert_eq!(super::int(&[0xff], true), "-1");
        assert_eq!(super::int(&[0xff], false), "255");
        assert_eq!(super::int(&42u32.to_ne_bytes(), false), "42");
        assert_eq!(super::int(&(-5i64).to_ne_bytes(), true), "-5");
    }

    #[test]
    fn strings_and_bitfields() {
        assert_eq!(super::c_string(b"hi\0zz"), "\"hi\"");
        assert_eq!(super::c_string(b"a\"\x01"), "\"a\\\"\\x01\"");
        assert_eq!(super::bitfield(&[0b1011_0000, 0x01], 4, 5), "27");
    }
}
