//! `bpfl run --set VAR=VALUE`: a global's new value, typed through BTF:
//! integers (decimal, 0x hex, negative for signed types, range-checked),
//! bool (true/false), enums by name or number, floats, char arrays from a
//! string (NUL-padded), anything else as hex bytes of the variable's size.
use crate::Failure;
use bpfl::btf::{Btf, BtfKind, TypeData};

/// The type id of global `var`, from the DATASECs of the object's BTF.
fn var_type(btf: &Btf, var: &str) -> Option<u32> {
    btf.types()
        .filter(|(_, t)| t.kind() == BtfKind::Datasec)
        .flat_map(|(_, t)| t.secinfos().collect::<Vec<_>>())
        .filter_map(|si| btf.type_by_id(si.type_id))
        .find(|v| btf.str_at(v.name_off) == Some(var))
        .map(|v| v.size_or_type)
}

pub fn encode(btf: &Btf, var: &str, value: &str) -> Result<Vec<u8>, Failure> {
    let bad = |why: String| Failure::Usage(format!("run: --set {var}={value}: {why}"));
    let ty = var_type(btf, var).ok_or_else(|| bad("the object has no global of that name (with BTF)".into()))?;
    let id = btf.skip_mods(ty);
    let t = btf.type_by_id(id).ok_or_else(|| bad("its BTF type is missing".into()))?;
    let size = btf.size_of(id).map_err(|e| bad(e.to_string()))? as usize;
    match (t.kind(), t.data()) {
        (BtfKind::Int, TypeData::Int(enc)) if enc & (8 << 24) != 0 => match value {
            "true" | "1" => Ok(vec![1]),
            "false" | "0" => Ok(vec![0]),
            _ => Err(bad("a bool is true or false".into())),
        },
        (BtfKind::Int, TypeData::Int(enc)) => int(value, size, enc & (1 << 24) != 0).map_err(bad),
        (BtfKind::Enum, TypeData::Enum(vals)) => {
            match vals.iter().find(|(n, _)| btf.str_at(*n) == Some(value)) {
                Some((_, v)) => Ok(i64::from(*v).to_ne_bytes()[..size].to_vec()),
                None => int(value, size, t.info & (1 << 31) != 0).map_err(|_| bad(format!("not a value of enum {}", btf.name_of(id)))),
            }
        }
        (BtfKind::Enum64, TypeData::Enum64(vals)) => match vals.iter().find(|(n, _, _)| btf.str_at(*n) == Some(value)) {
            Some((_, lo, hi)) => Ok((u64::from(*hi) << 32 | u64::from(*lo)).to_ne_bytes()[..size].to_vec()),
            None => int(value, size, t.info & (1 << 31) != 0).map_err(|_| bad(format!("not a value of enum {}", btf.name_of(id)))),
        },
        (BtfKind::Float, _) => match (size, value.parse::<f64>()) {
            (4, Ok(f)) => Ok((f as f32).to_ne_bytes().to_vec()),
            (8, Ok(f)) => Ok(f.to_ne_bytes().to_vec()),
            _ => Err(bad("not a number".into())),
        },
        (BtfKind::Array, TypeData::Array { elem, .. }) if is_char(btf, elem) => {
            if value.len() > size {
                return Err(bad(format!("the string is {} bytes, the array {size}", value.len())));
            }
            let mut b = value.as_bytes().to_vec();
            b.resize(size, 0);
            Ok(b)
        }
        _ => hex(value, size).ok_or_else(|| bad(format!("a {} is given as {size} bytes of hex", btf.name_of(id)))),
    }
}

fn is_char(btf: &Btf, id: u32) -> bool {
    let id = btf.skip_mods(id);
    matches!(btf.type_by_id(id).map(|t| (t.kind(), t.size_or_type)), Some((BtfKind::Int, 1)))
}

/// An integer of `size` bytes: decimal or 0x hex, in the type's range.
fn int(s: &str, size: usize, signed: bool) -> Result<Vec<u8>, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let mag = match digits.strip_prefix("0x") {
        Some(h) => u128::from_str_radix(h, 16),
        None => digits.parse::<u128>(),
    }
    .map_err(|_| "not an integer".to_string())?;
    let bits = 8 * size as u32;
    let (min, max): (i128, i128) = if signed { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) } else { (0, (1i128 << bits) - 1) };
    let v = if neg { -(mag as i128) } else { mag as i128 };
    if mag > u64::MAX as u128 || v < min || v > max || size > 8 {
        return Err(format!("out of range for a {}{}-bit integer ({min}..={max})", if signed { "signed " } else { "" }, bits));
    }
    Ok((v as i64).to_ne_bytes()[..size].to_vec())
}

fn hex(s: &str, size: usize) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let b: Option<Vec<u8>> = (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|x| u8::from_str_radix(x, 16).ok())).collect();
    b.filter(|b| b.len() == size)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ints_in_range() {
        assert_eq!(super::int("-2", 2, true).unwrap(), (-2i16).to_ne_bytes());
        assert_eq!(super::int("0xff", 1, false).unwrap(), [0xff]);
        assert!(super::int("256", 1, false).is_err());
        assert!(super::int("-1", 4, false).is_err());
        assert!(super::int("x", 4, false).is_err());
    }
}
