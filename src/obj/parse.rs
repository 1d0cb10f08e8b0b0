//! The order of the parse: header, sections, symbols, programs, BTF (with the
//! externs it describes), maps, relocations. Each step lives with its noun.

use crate::btf::{Btf, BtfExt};
use crate::elf::Elf;
use crate::error::{Error, Result};
use crate::sections::{Sections, Symbols};
use crate::{externs, maps, relocs, sections, FastMap, ObjectSpec};

pub(crate) fn parse(data: &[u8], obj_name: String) -> Result<ObjectSpec> {
    let elf = sections::parse_header(data)?;
    let mut obj = ObjectSpec {
        name: obj_name,
        license: String::new(),
        kern_version: None,
        programs: Vec::new(),
        maps: Vec::new(),
        btf: None,
        btf_ext: None,
        warnings: Vec::new(),
        externs: Vec::new(),
        kconfig_map: None,
        code: FastMap::default(),
        data_syms: Vec::new(),
    };
    let secs = sections::scan_sections(&mut obj, data, &elf)?;
    let mut syms = sections::scan_symbols(&mut obj, &elf, &secs)?;
    sections::add_programs(&mut obj)?;
    load_btf(&mut obj, &elf, &secs, &syms)?;
    maps::add_legacy(&mut obj, data, &elf, &secs, &mut syms)?;
    maps::add_btf_defined(&mut obj, &elf, &secs, &syms)?;
    maps::add_global_data(&mut obj, data, &elf, &secs)?;
    relocs::resolve_all(&mut obj, &elf, &secs)?;
    Ok(obj)
}

/// `.BTF`, with the externs it describes, fixed up and sanitised for the
/// kernel, and `.BTF.ext`. A BTF the object can do without is dropped with
/// a warning; `.maps` cannot do without it.
fn load_btf(obj: &mut ObjectSpec, elf: &Elf, secs: &Sections, syms: &Symbols) -> Result<()> {
    let Some(b) = secs.btf else { return Ok(()) };
    let mut btf = match Btf::parse(b) {
        Ok(btf) => btf,
        Err(e) if secs.btf_maps.is_some() => return Err(Error::malformed(format!("section '.BTF' is malformed and '.maps' needs it: {e}"))),
        Err(e) => {
            obj.warnings.push(format!(".BTF ignored: {e}"));
            return Ok(());
        }
    };
    let mut kconfig_size = 0;
    if !syms.undefined.is_empty() {
        let (ex, size) = externs::collect(&btf, &syms.undefined)?;
        obj.externs = ex;
        kconfig_size = size;
    }
    // `.kconfig` has no ELF section: its size and offsets are bpfl's layout.
    const KCONFIG: usize = usize::MAX;
    let exts = &obj.externs;
    let section = |n: &[u8]| match n {
        b".kconfig" if kconfig_size > 0 => Some((kconfig_size, KCONFIG)),
        _ => secs.names.iter().position(|s| *s == n).map(|i| (elf.shdrs[i].sh_size as u32, i)),
    };
    let sym_off = |i: usize, _: &[u8], var: &[u8]| {
        if i == KCONFIG {
            exts.iter().find(|e| e.name.as_bytes() == var).and_then(|e| e.kconfig()).map(|k| k.offset)
        } else {
            syms.vars.get(&(i, var)).copied()
        }
    };
    if let Err(e) = btf.fixup_datasecs_with(section, sym_off) {
        obj.warnings.push(format!(".BTF ignored: {e}"));
        return Ok(());
    }
    btf.sanitize_for_kernel();
    btf.make_funcs_static(&syms.static_funcs);
    if let Some(e) = secs.btf_ext {
        match BtfExt::parse(e, &btf) {
            Ok(x) => obj.btf_ext = Some(x),
            Err(e) => obj.warnings.push(format!(".BTF.ext ignored: {e}")),
        }
    }
    obj.btf = Some(btf);
    Ok(())
}
