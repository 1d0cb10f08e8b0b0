//! `.BTF.ext`: `func_info`, `line_info` and CO-RE relocation records, grouped
//! by ELF section.

use super::{err, header, sub, u32_at, Btf, Result};
use crate::error::Error;

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

/// A parsed `.BTF.ext`, grouped by ELF section name; each section's records
/// in `insn_off` order (a stable sort: records at one offset keep their order).
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
        let bad_name = || Error::malformed(format!(".BTF.ext {what}: section name offset {sec_off} is not in .BTF's strings"));
        let sec = btf.str_bytes_at(sec_off).ok_or_else(bad_name)?;
        let bytes = n.checked_mul(rec_size).filter(|b| pos + b <= d.len());
        let bytes = bytes.ok_or_else(|| Error::malformed(format!(".BTF.ext {what}: {n} records for '{}' run past the end", String::from_utf8_lossy(sec))))?;
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
        // In instruction order (compilers write them so; the sort is stable and
        // linear then), so a program's records are found by binary search.
        ext.func_info.iter_mut().for_each(|(_, v)| v.sort_by_key(|r| r.insn_off));
        ext.line_info.iter_mut().for_each(|(_, v)| v.sort_by_key(|r| r.insn_off));
        ext.core_relos.iter_mut().for_each(|(_, v)| v.sort_by_key(|r| r.insn_off));
        Ok(ext)
    }
}
