//! The last pure step before a program goes to the kernel: its placeholder
//! instructions get the map fds and the `__ksym` values that the kernel side
//! found. Nothing here asks the kernel; the values come in as arguments.

use crate::externs::Extern;
use crate::{insn, AssembledProgram, Error, KsymRef, MapRef, Result};

/// What a `__ksym` extern is in the running kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsymValue {
    /// A variable or function in the kernel's BTF (vmlinux): its type id.
    BtfId(u32),
    /// A typeless symbol's address.
    Addr(u64),
    /// A `__weak` symbol the kernel does not have: 0 (a kfunc call to it is poisoned).
    Missing,
    /// Not a `__ksym` extern.
    NotKsym,
}

/// The helper number a call of a missing `__weak` kfunc gets (plus the
/// extern's index), as under libbpf: `invalid func unknown#2002000000`.
pub const POISON_KFUNC_BASE: i32 = 2_002_000_000;

impl AssembledProgram {
    /// Point every map reference at its map: `map_fds[i]` is map `i`'s fd.
    pub fn patch_map_fds(&mut self, map_fds: &[i32]) -> Result<()> {
        for r in &self.map_refs {
            let (at, m) = match *r {
                MapRef::Fd(at, m) | MapRef::Value(at, m, _) => (at, m),
            };
            let fd = *map_fds.get(m).ok_or_else(|| Error::invalid(format!("instruction {at}: map #{m} has no fd")))?;
            let src = if matches!(r, MapRef::Fd(..)) { insn::PSEUDO_MAP_FD } else { insn::PSEUDO_MAP_VALUE };
            insn::set_src_reg(&mut self.insns, at, src);
            insn::set_imm(&mut self.insns, at, fd);
            if let MapRef::Value(_, _, off) = *r {
                insn::set_imm(&mut self.insns, at + 1, off as i32);
            }
        }
        Ok(())
    }

    /// Fill every `__ksym` reference with what its extern resolved to
    /// (`values[i]` for `externs[i]`). Returns the calls of missing `__weak`
    /// kfuncs, which are poisoned: the verifier refuses them only if reachable.
    pub fn patch_ksyms(&mut self, externs: &[Extern], values: &[KsymValue]) -> Result<Vec<KsymRef>> {
        let mut poisoned = Vec::new();
        for r in &self.ksym_refs {
            let at = r.insn;
            let value = *values.get(r.ext).ok_or_else(|| Error::invalid(format!("instruction {at}: extern #{} has no value", r.ext)))?;
            let i = &mut self.insns;
            match (value, r.call) {
                (KsymValue::BtfId(id), false) => {
                    insn::set_src_reg(i, at, insn::PSEUDO_BTF_ID);
                    insn::set_imm(i, at, id as i32);
                    insn::set_imm(i, at + 1, 0); // vmlinux
                }
                (KsymValue::BtfId(id), true) => {
                    insn::set_src_reg(i, at, insn::PSEUDO_KFUNC_CALL);
                    insn::set_imm(i, at, id as i32);
                    insn::set_off(i, at, 0); // vmlinux
                }
                (KsymValue::Addr(a), false) => {
                    insn::set_src_reg(i, at, 0);
                    insn::set_imm(i, at, a as u32 as i32);
                    insn::set_imm(i, at + 1, (a >> 32) as u32 as i32);
                }
                (KsymValue::Missing, false) => {
                    insn::set_src_reg(i, at, 0);
                    insn::set_imm(i, at, 0);
                    insn::set_imm(i, at + 1, 0);
                }
                (KsymValue::Missing, true) => {
                    insn::set_src_reg(i, at, 0);
                    insn::set_imm(i, at, POISON_KFUNC_BASE + r.ext as i32);
                    poisoned.push(*r);
                }
                (k, call) => {
                    let name = externs.get(r.ext).map_or("?", |e| e.name.as_str());
                    return Err(Error::invalid(format!(
                        "extern '{name}' resolved to {k:?}, which cannot be {}",
                        if call { "called" } else { "loaded" }
                    )));
                }
            }
        }
        Ok(poisoned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(map_refs: Vec<MapRef>, ksym_refs: Vec<KsymRef>) -> AssembledProgram {
        AssembledProgram {
            insns: vec![0; 8 * 4],
            map_refs,
            ksym_refs,
            func_info: Vec::new(),
            line_info: Vec::new(),
            core_relos: Vec::new(),
        }
    }

    #[test]
    fn map_fds_and_values() {
        let mut p = prog(vec![MapRef::Fd(0, 1), MapRef::Value(2, 0, 16)], Vec::new());
        p.patch_map_fds(&[7, 9]).unwrap();
        assert_eq!((insn::src_reg(&p.insns, 0), insn::imm(&p.insns, 0)), (insn::PSEUDO_MAP_FD, 9));
        assert_eq!((insn::src_reg(&p.insns, 2), insn::imm(&p.insns, 2), insn::imm(&p.insns, 3)), (insn::PSEUDO_MAP_VALUE, 7, 16));
        assert!(prog(vec![MapRef::Fd(0, 5)], Vec::new()).patch_map_fds(&[7]).is_err());
    }

    #[test]
    fn ksyms_and_poisoned_weak_kfuncs() {
        let refs = vec![KsymRef { insn: 0, ext: 0, call: false }, KsymRef { insn: 2, ext: 1, call: true }];
        let mut p = prog(Vec::new(), refs.clone());
        let poisoned = p.patch_ksyms(&[], &[KsymValue::Addr(0x1_0000_0002), KsymValue::Missing]).unwrap();
        assert_eq!((insn::imm(&p.insns, 0), insn::imm(&p.insns, 1)), (2, 1));
        assert_eq!(insn::imm(&p.insns, 2), POISON_KFUNC_BASE + 1);
        assert_eq!(poisoned, vec![refs[1]]);
        let mut q = prog(Vec::new(), vec![KsymRef { insn: 0, ext: 0, call: true }]);
        let e = q.patch_ksyms(&[], &[KsymValue::Addr(1)]).unwrap_err();
        assert!(e.to_string().contains("cannot be called"), "{e}");
    }
}
