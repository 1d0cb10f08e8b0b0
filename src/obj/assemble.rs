//! BPF-to-BPF calls: a program and every function it calls, copied into one
//! instruction stream with the calls pointed at the copies. Map, global data
//! and extern references are listed for the loader to patch; no file
//! descriptor is involved.

use crate::error::{Error, Result};
use crate::{core_relo, insn, AssembledProgram, KsymRef, MapRef, ObjectSpec, ProgramSpec, RelocTarget};

/// A run of instructions copied into the program: (section, first instruction
/// in the section, length, offset in the assembled program).
type Chunk = (usize, usize, usize, usize);

/// A program with every function it calls appended, in the order first called.
pub(crate) fn assemble(obj: &ObjectSpec, p: &ProgramSpec) -> Result<AssembledProgram> {
    let mut chunks: Vec<Chunk> = vec![(p.sec, p.start, p.len, 0)];
    let main = &obj.code[&p.sec];
    let mut out = AssembledProgram { insns: main.insns[p.start * 8..(p.start + p.len) * 8].to_vec(), map_refs: Vec::new(), ksym_refs: Vec::new(), func_info: Vec::new(), line_info: Vec::new(), core_relos: Vec::new() };
    let mut ci = 0;
    while ci < chunks.len() {
        let (sec, start, len, new_off) = chunks[ci];
        let code = &obj.code[&sec];
        let mut i = 0;
        while i < len {
            let sec_idx = start + i;
            let at = new_off + i;
            let op = insn::code(&code.insns, sec_idx);
            let src = insn::src_reg(&code.insns, sec_idx);
            let reloc = code.relocs.binary_search_by_key(&sec_idx, |r| r.0).ok().map(|k| &code.relocs[k].1);
            let is_call = op == insn::CALL && src == insn::PSEUDO_CALL;
            let is_func_addr = op == insn::LD_IMM64 && src == insn::PSEUDO_FUNC;
            if op == insn::CALL && src == insn::PSEUDO_KFUNC_CALL && !matches!(reloc, Some(RelocTarget::Kfunc(_))) {
                return Err(Error::unsupported(format!("instruction {sec_idx} in '{}': a kfunc call with no extern symbol", code.name)));
            }
            match reloc {
                Some(RelocTarget::Map(m)) => out.map_refs.push(MapRef::Fd(at, *m)),
                Some(RelocTarget::MapValue(m, off)) => out.map_refs.push(MapRef::Value(at, *m, *off)),
                Some(&RelocTarget::Extern(e, addend)) => match (obj.externs[e].kconfig(), obj.kconfig_map) {
                    (Some(k), Some(m)) => {
                        let off = k.offset as i64 + addend as i64;
                        if off < 0 || off >= obj.maps[m].value_size as i64 {
                            return Err(Error::malformed(format!("instruction {sec_idx} in '{}': offset {off} is outside '.kconfig'", code.name)));
                        }
                        out.map_refs.push(MapRef::Value(at, m, off as u32));
                    }
                    _ => out.ksym_refs.push(KsymRef { insn: at, ext: e, call: false }),
                },
                Some(&RelocTarget::Kfunc(e)) => out.ksym_refs.push(KsymRef { insn: at, ext: e, call: true }),
                _ => {}
            }
            let target = match reloc {
                Some(RelocTarget::Code(tsec, tidx)) => Some((*tsec, *tidx)),
                Some(RelocTarget::Kfunc(_)) => None,
                None if is_call => {
                    let t = sec_idx as i64 + insn::imm(&code.insns, sec_idx) as i64 + 1;
                    if t < 0 || t as usize >= code.insns.len() / 8 {
                        return Err(Error::malformed(format!("instruction {sec_idx} in '{}': call target {t} outside the section", code.name)));
                    }
                    Some((sec, t as usize))
                }
                _ => None,
            };
            if let Some((tsec, tidx)) = target {
                if !(is_call || is_func_addr || reloc.is_some()) {
                    return Err(Error::malformed(format!("instruction {sec_idx} in '{}': code relocation on a non-call", code.name)));
                }
                // Already appended?
                let dest = match chunks.iter().find(|c| c.0 == tsec && tidx >= c.1 && tidx < c.1 + c.2) {
                    Some(c) => c.3 + (tidx - c.1),
                    None => {
                        let tcode = &obj.code[&tsec];
                        // Functions are sorted and do not overlap (`add_programs`): a
                        // binary search, where a scan per call was quadratic in functions.
                        let k = tcode.funcs.partition_point(|f| f.0 <= tidx);
                        let f = k
                            .checked_sub(1)
                            .map(|k| &tcode.funcs[k])
                            .filter(|f| tidx < f.0 + f.1)
                            .ok_or_else(|| Error::malformed(format!("call into '{}' at instruction {tidx}, which is in no function", tcode.name)))?;
                        let off = out.insns.len() / 8;
                        out.insns.extend_from_slice(&tcode.insns[f.0 * 8..(f.0 + f.1) * 8]);
                        chunks.push((tsec, f.0, f.1, off));
                        off + (tidx - f.0)
                    }
                };
                insn::set_imm(&mut out.insns, at, (dest as i64 - at as i64 - 1) as i32);
                if op == insn::CALL {
                    insn::set_src_reg(&mut out.insns, at, insn::PSEUDO_CALL);
                } else {
                    insn::set_src_reg(&mut out.insns, at, insn::PSEUDO_FUNC);
                }
            }
            i += if op == insn::LD_IMM64 { 2 } else { 1 };
        }
        ci += 1;
    }
    remap_ext_info(obj, &chunks, &mut out);
    Ok(out)
}

/// `func_info`, `line_info` and CO-RE relocations of the chunks, remapped to
/// the assembled program's instruction indices.
fn remap_ext_info(obj: &ObjectSpec, chunks: &[Chunk], out: &mut AssembledProgram) {
    if let Some(ext) = &obj.btf_ext {
        for &(sec, start, len, new_off) in chunks {
            let sname = &obj.code[&sec].name;
            let at = |byte_off: u32| (new_off + byte_off as usize / 8 - start) as u32;
            if let Some((_, recs)) = ext.func_info.iter().find(|(n, _)| n == sname) {
                out.func_info.extend(in_chunk(recs, |r| r.insn_off, start, len).iter().map(|r| (at(r.insn_off), r.type_id)));
            }
            if let Some((_, recs)) = ext.line_info.iter().find(|(n, _)| n == sname) {
                out.line_info.extend(in_chunk(recs, |r| r.insn_off, start, len).iter().map(|r| [at(r.insn_off), r.file_name_off, r.line_off, r.line_col]));
            }
            if let Some((_, recs)) = ext.core_relos.iter().find(|(n, _)| n == sname) {
                out.core_relos.extend(
                    in_chunk(recs, |r| r.insn_off, start, len)
                        .iter()
                        .map(|r| core_relo::Relo { insn: at(r.insn_off) as usize, type_id: r.type_id, access_str_off: r.access_str_off, kind: r.kind }),
                );
            }
        }
    }
}

/// The records of instructions `start..start + len`: `recs` are in `insn_off`
/// order ([`crate::btf::BtfExt::parse`] sorts them), so two binary searches
/// find them, where a scan of the section's records per program made loading
/// quadratic in programs (every program scanned every program's line info).
fn in_chunk<T>(recs: &[T], insn_off: impl Fn(&T) -> u32, start: usize, len: usize) -> &[T] {
    let lo = recs.partition_point(|r| (insn_off(r) as usize / 8) < start);
    let hi = lo + recs[lo..].partition_point(|r| (insn_off(r) as usize / 8) < start + len);
    &recs[lo..hi]
}
