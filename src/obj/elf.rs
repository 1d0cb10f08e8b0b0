//! A small reader of relocatable ELF64 little-endian objects: section headers,
//! section names, the symbol table and its strings, and `REL`/`RELA` entries.
//! It reads only what a BPF object needs, lazily and without copying, and
//! checks every offset against the buffer: malformed input gives an error,
//! never a panic.
use crate::error::Error;

/// `ET_REL`.
pub const ET_REL: u16 = 1;
/// `SHT_PROGBITS`.
pub const SHT_PROGBITS: u32 = 1;
/// `SHT_SYMTAB`.
pub const SHT_SYMTAB: u32 = 2;
/// `SHT_RELA`.
pub const SHT_RELA: u32 = 4;
/// `SHT_NOBITS`.
pub const SHT_NOBITS: u32 = 8;
/// `SHT_REL`.
pub const SHT_REL: u32 = 9;
/// `SHF_EXECINSTR`.
pub const SHF_EXECINSTR: u64 = 4;
/// `STT_NOTYPE`.
pub const STT_NOTYPE: u8 = 0;
/// `STT_OBJECT`.
pub const STT_OBJECT: u8 = 1;
/// `STT_FUNC`.
pub const STT_FUNC: u8 = 2;
/// `STB_GLOBAL`.
pub const STB_GLOBAL: u8 = 1;
/// `STB_WEAK`.
pub const STB_WEAK: u8 = 2;
/// `STV_HIDDEN`: visibility in `st_other & 3`.
pub const STV_HIDDEN: u8 = 2;

const EHDR_SIZE: usize = 64;
const SHDR_SIZE: usize = 64;
const SYM_SIZE: usize = 24;
const SHN_XINDEX: u32 = 0xffff;

fn u16_at(d: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([d[o], d[o + 1]])
}
fn u32_at(d: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(d[o..o + 4].try_into().unwrap())
}
fn u64_at(d: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(d[o..o + 8].try_into().unwrap())
}

/// One section header (`Elf64_Shdr`), the fields bpfl uses.
#[derive(Debug, Clone, Copy)]
pub struct Shdr {
    pub sh_name: u32,
    pub sh_type: u32,
    pub sh_flags: u64,
    pub sh_offset: u64,
    pub sh_size: u64,
    pub sh_link: u32,
    pub sh_info: u32,
}

/// One symbol (`Elf64_Sym`).
#[derive(Debug, Clone, Copy)]
pub struct Sym {
    pub st_name: u32,
    pub st_info: u8,
    /// Visibility in the low two bits (`STV_HIDDEN` = 2).
    pub st_other: u8,
    pub st_shndx: usize,
    pub st_value: u64,
    pub st_size: u64,
}

impl Sym {
    /// `ELF64_ST_TYPE`.
    pub fn st_type(&self) -> u8 {
        self.st_info & 0xf
    }
}

/// One relocation (`Elf64_Rel`, or `Elf64_Rela` without its addend).
#[derive(Debug, Clone, Copy)]
pub struct Rel {
    pub r_offset: u64,
    pub r_sym: usize,
    pub r_type: u32,
}

/// A parsed ELF64 little-endian file (the header checks of the magic, class and
/// data encoding are the caller's).
#[derive(Debug)]
pub struct Elf<'a> {
    pub data: &'a [u8],
    pub e_type: u16,
    pub e_machine: u16,
    pub shdrs: Vec<Shdr>,
    shstrtab: &'a [u8],
    symtab: &'a [u8],
    strtab: &'a [u8],
}

/// `[off, off + len)` of `data`, or None when it is out of bounds.
fn range(data: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let len = usize::try_from(len).ok()?;
    data.get(start..start.checked_add(len)?)
}

/// The NUL-terminated string at `off` of a string table; empty when out of bounds.
pub fn cstr_at(tab: &[u8], off: u32) -> &[u8] {
    match tab.get(off as usize..) {
        Some(s) => &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())],
        None => &[],
    }
}

fn utf8(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

impl<'a> Elf<'a> {
    /// Reads the header, the section headers and locates the string and symbol tables.
    pub fn parse(data: &'a [u8]) -> Result<Elf<'a>, Error> {
        if data.len() < EHDR_SIZE {
            return Err(Error::malformed(format!("{} bytes is too short for an ELF64 header", data.len())));
        }
        let e_type = u16_at(data, 16);
        let e_machine = u16_at(data, 18);
        let e_shoff = u64_at(data, 40);
        let e_shentsize = u16_at(data, 58) as usize;
        let mut shnum = u16_at(data, 60) as u64;
        let mut shstrndx = u16_at(data, 62) as u32;
        if e_shoff == 0 {
            return Ok(Elf { data, e_type, e_machine, shdrs: Vec::new(), shstrtab: &[], symtab: &[], strtab: &[] });
        }
        if e_shentsize != SHDR_SIZE {
            return Err(Error::malformed(format!("section header size {e_shentsize} is not {SHDR_SIZE}")));
        }
        let first = range(data, e_shoff, SHDR_SIZE as u64).ok_or_else(|| Error::malformed(format!("section headers at {e_shoff:#x} are past the end of the file ({:#x} bytes)", data.len())))?;
        // More than 0xff00 sections: the real count and string table index live in section 0.
        if shnum == 0 {
            shnum = u64_at(first, 32);
        }
        if shstrndx == SHN_XINDEX {
            shstrndx = u32_at(first, 40);
        }
        let table = shnum
            .checked_mul(SHDR_SIZE as u64)
            .and_then(|len| range(data, e_shoff, len))
            .ok_or_else(|| Error::malformed(format!("{shnum} section headers at {e_shoff:#x} run past the end of the file ({:#x} bytes)", data.len())))?;
        let shdrs: Vec<Shdr> = table
            .chunks_exact(SHDR_SIZE)
            .map(|h| Shdr {
                sh_name: u32_at(h, 0),
                sh_type: u32_at(h, 4),
                sh_flags: u64_at(h, 8),
                sh_offset: u64_at(h, 24),
                sh_size: u64_at(h, 32),
                sh_link: u32_at(h, 40),
                sh_info: u32_at(h, 44),
            })
            .collect();
        let mut elf = Elf { data, e_type, e_machine, shdrs, shstrtab: &[], symtab: &[], strtab: &[] };
        if shstrndx != 0 {
            elf.shstrtab = elf.section_data(shstrndx as usize).map_err(|e| e.context("section name table"))?;
        }
        if let Some(i) = elf.shdrs.iter().position(|s| s.sh_type == SHT_SYMTAB) {
            let sym = elf.section_data(i).map_err(|e| e.context("symbol table"))?;
            elf.symtab = &sym[..sym.len() / SYM_SIZE * SYM_SIZE];
            let link = elf.shdrs[i].sh_link as usize;
            elf.strtab = elf.section_data(link).map_err(|e| e.context("symbol string table"))?;
        }
        Ok(elf)
    }

    /// The bytes of section `i` (empty for `SHT_NOBITS`).
    pub fn section_data(&self, i: usize) -> Result<&'a [u8], Error> {
        let s = self.shdrs.get(i).ok_or_else(|| Error::malformed(format!("section #{i} does not exist ({} sections)", self.shdrs.len())))?;
        if s.sh_type == SHT_NOBITS {
            return Ok(&[]);
        }
        range(self.data, s.sh_offset, s.sh_size)
            .ok_or_else(|| Error::malformed(format!("section #{i}: offset {:#x} + size {:#x} is past the end of the file ({:#x} bytes)", s.sh_offset, s.sh_size, self.data.len())))
    }

    /// The name of a section header, as bytes ("" when out of bounds).
    pub fn shname_bytes(&self, s: &Shdr) -> &'a [u8] {
        cstr_at(self.shstrtab, s.sh_name)
    }

    /// The name of a section header ("" when out of bounds or not UTF-8).
    pub fn shname(&self, s: &Shdr) -> &'a str {
        utf8(self.shname_bytes(s))
    }

    /// The name of section `i` ("" when there is no such section).
    pub fn sec_name(&self, i: usize) -> &'a str {
        self.shdrs.get(i).map_or("", |s| self.shname(s))
    }

    /// Number of symbols, the null symbol included.
    pub fn nsyms(&self) -> usize {
        self.symtab.len() / SYM_SIZE
    }

    /// Symbol `i`.
    pub fn sym(&self, i: usize) -> Option<Sym> {
        let b = self.symtab.get(i.checked_mul(SYM_SIZE)?..)?.get(..SYM_SIZE)?;
        Some(Sym { st_name: u32_at(b, 0), st_info: b[4], st_other: b[5], st_shndx: u16_at(b, 6) as usize, st_value: u64_at(b, 8), st_size: u64_at(b, 16) })
    }

    /// All symbols, in table order.
    pub fn syms(&self) -> impl Iterator<Item = Sym> + '_ {
        (0..self.nsyms()).filter_map(|i| self.sym(i))
    }

    /// A symbol's name, as bytes.
    pub fn sym_name_bytes(&self, s: &Sym) -> &'a [u8] {
        cstr_at(self.strtab, s.st_name)
    }

    /// A symbol's name ("" when out of bounds or not UTF-8).
    pub fn sym_name(&self, s: &Sym) -> &'a str {
        utf8(self.sym_name_bytes(s))
    }

    /// The entries of a `SHT_REL`/`SHT_RELA` section `i`.
    pub fn rels(&self, i: usize) -> Result<impl ExactSizeIterator<Item = Rel> + 'a, Error> {
        let entsize = if self.shdrs[i].sh_type == SHT_RELA { 24 } else { 16 };
        let d = self.section_data(i)?;
        if d.len() % entsize != 0 {
            return Err(Error::malformed(format!("relocation section '{}' is {} bytes, not a whole number of {entsize}-byte entries", self.sec_name(i), d.len())));
        }
        Ok(d.chunks_exact(entsize).map(|r| {
            let info = u64_at(r, 8);
            Rel { r_offset: u64_at(r, 0), r_sym: (info >> 32) as usize, r_type: info as u32 }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF: header, one PROGBITS section, shstrtab, symtab, strtab, one REL.
    fn tiny() -> Vec<u8> {
        let mut d = vec![0u8; 64];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[16] = 1; // ET_REL
        d[18] = 247; // EM_BPF
        let text_off = d.len();
        d.extend_from_slice(&[0u8; 16]);
        let shstr_off = d.len();
        let shstr = b"\0.text\0.shstrtab\0.symtab\0.strtab\0.rel.text\0";
        d.extend_from_slice(shstr);
        let str_off = d.len();
        d.extend_from_slice(b"\0f\0");
        let sym_off = d.len();
        d.extend_from_slice(&[0u8; 24]);
        let mut s = [0u8; 24];
        s[0] = 1; // "f"
        s[4] = STT_FUNC;
        s[6] = 1; // .text
        d.extend_from_slice(&s);
        let rel_off = d.len();
        d.extend_from_slice(&8u64.to_le_bytes());
        d.extend_from_slice(&((1u64 << 32) | 10).to_le_bytes());
        let shoff = d.len();
        let sh = |name: u32, ty: u32, flags: u64, off: usize, size: usize, link: u32, info: u32| {
            let mut h = [0u8; 64];
            h[0..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&ty.to_le_bytes());
            h[8..16].copy_from_slice(&flags.to_le_bytes());
            h[24..32].copy_from_slice(&(off as u64).to_le_bytes());
            h[32..40].copy_from_slice(&(size as u64).to_le_bytes());
            h[40..44].copy_from_slice(&link.to_le_bytes());
            h[44..48].copy_from_slice(&info.to_le_bytes());
            h.to_vec()
        };
        let mut t = sh(0, 0, 0, 0, 0, 0, 0);
        t.extend(sh(1, SHT_PROGBITS, 6, text_off, 16, 0, 0));
        t.extend(sh(7, 3, 0, shstr_off, shstr.len(), 0, 0));
        t.extend(sh(17, SHT_SYMTAB, 0, sym_off, 48, 4, 0));
        t.extend(sh(25, 3, 0, str_off, 3, 0, 0));
        t.extend(sh(33, SHT_REL, 0, rel_off, 16, 3, 1));
        d.extend(t);
        d[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
        d[58] = 64;
        d[60] = 6;
        d[62] = 2;
        d
    }

    #[test]
    fn reads_sections_symbols_and_relocations() {
        let d = tiny();
        let elf = Elf::parse(&d).unwrap();
        assert_eq!((elf.e_type, elf.e_machine), (ET_REL, 247));
        assert_eq!(elf.shdrs.len(), 6);
        assert_eq!(elf.sec_name(1), ".text");
        assert_eq!(elf.sec_name(5), ".rel.text");
        assert_eq!(elf.sec_name(99), "");
        assert_eq!(elf.nsyms(), 2);
        let f = elf.sym(1).unwrap();
        assert_eq!((elf.sym_name(&f), f.st_type(), f.st_shndx), ("f", STT_FUNC, 1));
        assert!(elf.sym(2).is_none());
        let r: Vec<Rel> = elf.rels(5).unwrap().collect();
        assert_eq!((r.len(), r[0].r_offset, r[0].r_sym, r[0].r_type), (1, 8, 1, 10));
        assert_eq!(elf.section_data(1).unwrap().len(), 16);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let d = tiny();
        assert!(Elf::parse(&d[..63]).is_err());
        // Section headers past the end.
        assert!(Elf::parse(&d[..d.len() - 1]).is_err());
        let mut bad = d.clone();
        bad[58] = 40;
        assert!(Elf::parse(&bad).unwrap_err().message().contains("header size"));
        // Every truncation and every single-byte corruption: no panic.
        for cut in 0..d.len() {
            let _ = Elf::parse(&d[..cut]);
        }
        for i in 0..d.len() {
            for v in [0u8, 0x7f, 0xff] {
                let mut b = d.clone();
                b[i] = v;
                if let Ok(e) = Elf::parse(&b) {
                    for k in 0..e.shdrs.len() {
                        let _ = e.section_data(k);
                        let _ = e.sec_name(k);
                        if matches!(e.shdrs[k].sh_type, SHT_REL | SHT_RELA) {
                            if let Ok(r) = e.rels(k) {
                                r.for_each(drop);
                            }
                        }
                    }
                    e.syms().for_each(|s| assert!(e.sym_name(&s).len() < b.len()));
                }
            }
        }
    }
}
