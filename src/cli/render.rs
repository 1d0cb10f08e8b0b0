//! Map keys and values rendered through their BTF types: integers, enums,
//! structs, unions and arrays; anything else (and any size mismatch) as hex.
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
        (BtfKind::Enum | BtfKind::Enum64, _) => int(bytes, false),
        (BtfKind::Struct | BtfKind::Union, TypeData::Members(ms)) => {
            let kflag = t.info & (1 << 31) != 0;
            let fields: Vec<String> = ms
                .iter()
                .map(|m| {
                    let name = btf.str_at(m.name_off).unwrap_or("");
                    let (bit_off, bits) = if kflag { (m.offset & 0xff_ffff, m.offset >> 24) } else { (m.offset, 0) };
                    let value = if bits != 0 || bit_off % 8 != 0 {
                        "?".to_string() // a bitfield
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
            let items: Vec<String> = (0..nelems as usize).map(|i| render_depth(btf, elem, &bytes[i * esz..], depth + 1)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => hex(bytes),
    }
}

fn int(b: &[u8], signed: bool) -> String {
    let mut v = [0u8; 8];
    let n = b.len().min(8);
    v[..n].copy_from_slice(&b[..n]);
    let u = u64::from_ne_bytes(v);
    if !signed || n == 0 {
        return u.to_string();
    }
    let shift = 64 - 8 * n as u32;
    (((u << shift) as i64) >> shift).to_string()
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
}
