//! Extern symbols of an object, the pure side: what each one is (from the
//! object's BTF), where `.kconfig` values go, and the `.kconfig` values
//! themselves computed from what the kernel side read (kernel version,
//! feature answers, the kernel config text).
//!
//! The semantics are libbpf's (`bpf_object__collect_externs`,
//! `bpf_object__resolve_externs`), rewritten:
//! - an extern is an undefined ELF symbol (global or weak) whose BTF VAR or
//!   FUNC sits in the DATASEC `.kconfig` or `.ksyms`;
//! - `.kconfig` externs are laid out in one read-only array map, ordered by
//!   alignment (largest first), then size, then name; they may be `bool`,
//!   `char`, `enum libbpf_tristate`, integers of 1/2/4/8 bytes, or `char[N]`;
//! - `LINUX_KERNEL_VERSION`, `LINUX_HAS_BPF_COOKIE` and
//!   `LINUX_HAS_SYSCALL_WRAPPER` are computed; `CONFIG_*` come from the
//!   kernel config, where `=y`/`=n`/`=m` give 1/0/2 for bool and tristate and
//!   the character itself for `char`, numbers are parsed (decimal, 0x hex, 0
//!   octal) and range-checked, and `"strings"` fill `char[N]`;
//! - a weak extern nobody knows is 0; a strong one is an error naming it.

use crate::btf::{Btf, BtfKind, TypeData, WalkBudget, MAX_RESOLVE_STEPS};
use crate::error::{Error, Result};

/// What a `.kconfig` extern's C type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KcfgType {
    /// `bool` (1 byte).
    Bool,
    /// `char` (or any 1-byte integer): `y`/`n`/`m` as the character, or a number.
    Char,
    /// `enum libbpf_tristate`: no 0, yes 1, module 2.
    Tristate,
    /// An integer of 2, 4 or 8 bytes.
    Int,
    /// `char[N]`: a string.
    CharArr,
}

/// A `.kconfig` extern's slot in the `.kconfig` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kconfig {
    /// The C type.
    pub ty: KcfgType,
    /// Size in bytes.
    pub size: u32,
    /// Alignment in bytes.
    pub align: u32,
    /// Whether an integer is signed.
    pub signed: bool,
    /// Offset in the `.kconfig` map's value.
    pub offset: u32,
}

/// What an extern is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternKind {
    /// A `__kconfig` variable.
    Kconfig(Kconfig),
    /// A `__ksym` variable: typed (`type_id` is its local type, qualifiers
    /// skipped) or typeless (`type_id` 0: `extern const void sym __ksym`).
    Ksym {
        /// The local BTF type of the variable, 0 when typeless.
        type_id: u32,
    },
    /// A `__ksym` function: a kfunc.
    Kfunc {
        /// The local BTF `FUNC_PROTO`.
        proto: u32,
    },
}

/// One extern symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extern {
    /// The symbol's name.
    pub name: String,
    /// Declared `__weak`: unresolved means 0 instead of an error.
    pub weak: bool,
    /// Its VAR or FUNC in the object's BTF.
    pub btf_id: u32,
    /// What it is.
    pub kind: ExternKind,
}

impl Extern {
    /// The `.kconfig` slot, for a `__kconfig` extern.
    pub fn kconfig(&self) -> Option<&Kconfig> {
        match &self.kind {
            ExternKind::Kconfig(k) => Some(k),
            _ => None,
        }
    }
}

const BTF_INT_SIGNED: u32 = 1;
const BTF_INT_BOOL: u32 = 4;

fn kcfg_type(btf: &Btf, id: u32) -> Option<(KcfgType, bool)> {
    kcfg_type_depth(btf, id, 2)
}

/// `depth` bounds the array nesting looked through (char[N] needs one level;
/// a crafted array of itself must not recurse forever).
fn kcfg_type_depth(btf: &Btf, id: u32, depth: u32) -> Option<(KcfgType, bool)> {
    let id = btf.skip_mods(id);
    let t = btf.type_by_id(id)?;
    match t.kind() {
        BtfKind::Int => {
            let TypeData::Int(enc) = t.data() else { return None };
            let enc = (enc >> 24) & 0xf;
            let size = t.size_or_type;
            if enc & BTF_INT_BOOL != 0 {
                return (size == 1).then_some((KcfgType::Bool, false));
            }
            let signed = enc & BTF_INT_SIGNED != 0;
            match size {
                1 => Some((KcfgType::Char, signed)),
                2 | 4 | 8 => Some((KcfgType::Int, signed)),
                _ => None,
            }
        }
        BtfKind::Enum | BtfKind::Enum64 if btf.name_of(id) == "libbpf_tristate" => Some((KcfgType::Tristate, false)),
        BtfKind::Array => {
            let (elem, _, n) = t.array()?;
            (depth > 0 && n > 0 && matches!(kcfg_type_depth(btf, elem, depth - 1), Some((KcfgType::Char, _)))).then_some((KcfgType::CharArr, false))
        }
        _ => None,
    }
}

/// `_Alignof` a type, as the compiler lays it out; None when unknown, or
/// when the types loop or branch beyond any real layout (a crafted blob).
pub fn align_of(btf: &Btf, id: u32) -> Option<u32> {
    align_of_bounded(btf, id, MAX_RESOLVE_STEPS, &mut WalkBudget::new())
}

fn align_of_bounded(btf: &Btf, id: u32, depth: u32, budget: &mut WalkBudget) -> Option<u32> {
    if depth == 0 || !budget.step() {
        return None;
    }
    let id = btf.skip_mods(id);
    let t = btf.type_by_id(id)?;
    match t.kind() {
        BtfKind::Int | BtfKind::Enum | BtfKind::Enum64 | BtfKind::Float => Some(t.size_or_type.clamp(1, 8)),
        BtfKind::Ptr => Some(8),
        BtfKind::Array => align_of_bounded(btf, t.array()?.0, depth - 1, budget),
        BtfKind::Struct | BtfKind::Union => {
            let mut a = 1;
            for m in t.members() {
                a = a.max(align_of_bounded(btf, m.type_id, depth - 1, budget)?);
            }
            Some(a)
        }
        _ => None,
    }
}

/// Finds what each undefined symbol `(name, weak)` is in the object's BTF and
/// lays out the `.kconfig` externs. Returns the externs (`.kconfig` ones
/// first, in layout order) and the size of the `.kconfig` map's value (0 when
/// there is none).
pub fn collect(btf: &Btf, syms: &[(String, bool)]) -> Result<(Vec<Extern>, u32)> {
    // (name, VAR/FUNC id, is .kconfig) of every entry of the two extern sections.
    let mut described: Vec<(&str, u32, bool)> = Vec::new();
    for (sec, is_kcfg) in [(".kconfig", true), (".ksyms", false)] {
        let Some(ds) = btf.find_by_name_kind(sec, BtfKind::Datasec) else { continue };
        for v in btf.type_by_id(ds).expect("found").secinfos() {
            described.push((btf.name_of(v.type_id), v.type_id, is_kcfg));
        }
    }
    let mut out = Vec::with_capacity(syms.len());
    for (name, weak) in syms {
        let Some(&(_, id, is_kcfg)) = described.iter().find(|d| d.0 == name) else {
            return Err(Error::malformed(format!(
                "extern symbol '{name}' is neither __kconfig nor __ksym (no entry in the BTF DATASEC '.kconfig' or '.ksyms')"
            )));
        };
        let t = btf.type_by_id(id).expect("secinfo types exist");
        let kind = match (t.kind(), is_kcfg) {
            (BtfKind::Var, true) => {
                let ty = t.size_or_type;
                let bad = |why: &str| Error::unsupported(format!("extern '{name}' (__kconfig): {why}"));
                let (kt, signed) = kcfg_type(btf, ty).ok_or_else(|| bad("its type is not bool, char, an integer, enum libbpf_tristate or char[N]"))?;
                let size = btf.size_of(ty).map_err(|e| bad(e.message()))?;
                let align = align_of(btf, ty).ok_or_else(|| bad("its alignment is unknown"))?;
                ExternKind::Kconfig(Kconfig { ty: kt, size, align, signed, offset: 0 })
            }
            (BtfKind::Var, false) => {
                let tid = btf.skip_mods(t.size_or_type);
                ExternKind::Ksym { type_id: tid }
            }
            (BtfKind::Func, false) => ExternKind::Kfunc { proto: t.size_or_type },
            (k, _) => return Err(Error::unsupported(format!("extern '{name}': a {k:?} in '{}' is not supported", if is_kcfg { ".kconfig" } else { ".ksyms" }))),
        };
        out.push(Extern { name: name.clone(), weak: *weak, btf_id: id, kind });
    }
    // .kconfig first, by alignment (largest first), size, then name; ksyms after, by name.
    out.sort_by(|a, b| match (a.kconfig(), b.kconfig()) {
        (Some(x), Some(y)) => y.align.cmp(&x.align).then(x.size.cmp(&y.size)).then(a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    let mut off = 0u32;
    for e in &mut out {
        if let ExternKind::Kconfig(k) = &mut e.kind {
            k.offset = (off + k.align - 1) / k.align * k.align;
            off = k.offset + k.size;
        }
    }
    Ok((out, off))
}

/// What the kernel side found out for the computed `.kconfig` externs.
#[derive(Debug, Clone, Default)]
pub struct KconfigInput<'a> {
    /// `LINUX_KERNEL_VERSION`.
    pub kernel_version: u32,
    /// `LINUX_HAS_BPF_COOKIE`.
    pub has_bpf_cookie: bool,
    /// `LINUX_HAS_SYSCALL_WRAPPER`.
    pub has_syscall_wrapper: bool,
    /// The kernel config text (`/proc/config.gz` inflated, or `/boot/config-*`),
    /// when it could be read; needed only for `CONFIG_*` externs.
    pub config: Option<&'a str>,
}

/// Whether any extern is a `CONFIG_*` one (then the kernel config must be read).
pub fn needs_config(externs: &[Extern]) -> bool {
    externs.iter().any(|e| e.kconfig().is_some() && e.name.starts_with("CONFIG_"))
}

fn put(buf: &mut [u8], k: &Kconfig, v: u64) {
    let off = k.offset as usize;
    let n = k.size as usize;
    buf[off..off + n].copy_from_slice(&v.to_le_bytes()[..n]);
}

/// `y`, `n` or `m` into a bool, tristate or char.
fn set_tri(buf: &mut [u8], name: &str, k: &Kconfig, c: u8) -> Result<()> {
    let v = match (k.ty, c) {
        (KcfgType::Char, _) => c as u64,
        (KcfgType::Bool | KcfgType::Tristate, b'y') => 1,
        (KcfgType::Bool | KcfgType::Tristate, b'n') => 0,
        (KcfgType::Tristate, b'm') => 2,
        (KcfgType::Bool, _) => return Err(Error::invalid(format!("extern '{name}' (__kconfig): value '{}' needs a tristate or char, not bool", c as char))),
        _ => return Err(Error::invalid(format!("extern '{name}' (__kconfig): value '{}' needs a bool, tristate or char type", c as char))),
    };
    put(buf, k, v);
    Ok(())
}

fn parse_num(s: &str, signed: bool) -> Option<u64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) if signed => (true, r),
        Some(_) => return None,
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mag = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        u64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<u64>().ok()?
    };
    if neg {
        if mag > 1 << 63 {
            return None;
        }
        Some((mag as i64).wrapping_neg() as u64)
    } else {
        Some(mag)
    }
}

fn set_num(buf: &mut [u8], name: &str, k: &Kconfig, text: &str) -> Result<()> {
    if !matches!(k.ty, KcfgType::Int | KcfgType::Char) {
        return Err(Error::invalid(format!("extern '{name}' (__kconfig): value '{text}' needs an integer or char type")));
    }
    let v = parse_num(text, k.signed).ok_or_else(|| Error::invalid(format!("extern '{name}' (__kconfig): value '{text}' is not a number")))?;
    let bits = k.size * 8;
    let fits = if bits == 64 {
        k.signed || !text.starts_with('-')
    } else if k.signed {
        let s = v as i64;
        s >= -(1i64 << (bits - 1)) && s < (1i64 << (bits - 1))
    } else {
        v < (1u64 << bits)
    };
    if !fits {
        return Err(Error::invalid(format!("extern '{name}' (__kconfig): value {text} does not fit in {} bytes", k.size)));
    }
    put(buf, k, v);
    Ok(())
}

fn set_str(buf: &mut [u8], name: &str, k: &Kconfig, s: &str) -> Result<()> {
    if k.ty != KcfgType::CharArr {
        return Err(Error::invalid(format!("extern '{name}' (__kconfig): a string value needs a char array")));
    }
    let off = k.offset as usize;
    let room = k.size as usize - 1; // keep the NUL
    let b = s.as_bytes();
    let n = b.len().min(room);
    buf[off..off + n].copy_from_slice(&b[..n]);
    buf[off + n..off + k.size as usize].fill(0);
    Ok(())
}

/// Applies one config value (the text after `=`) to extern `e`.
fn set_value(buf: &mut [u8], e: &Extern, k: &Kconfig, value: &str) -> Result<()> {
    match value.as_bytes() {
        [c @ (b'y' | b'n' | b'm')] => set_tri(buf, &e.name, k, *c),
        [b'"', .., b'"'] => set_str(buf, &e.name, k, &value[1..value.len() - 1]),
        [b'"', ..] => Err(Error::invalid(format!("extern '{}' (__kconfig): unterminated string {value}", e.name))),
        _ => set_num(buf, &e.name, k, value),
    }
}

/// Computes the `.kconfig` map's value: `size` bytes with every `.kconfig`
/// extern at its offset. Pure: the kernel facts and config text come in.
pub fn kconfig_data(externs: &[Extern], size: u32, input: &KconfigInput) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; size as usize];
    let mut set = vec![false; externs.len()];
    for (i, e) in externs.iter().enumerate() {
        let Some(k) = e.kconfig() else { continue };
        match e.name.as_str() {
            "LINUX_KERNEL_VERSION" => set_num(&mut buf, &e.name, k, &input.kernel_version.to_string())?,
            "LINUX_HAS_BPF_COOKIE" => set_flag(&mut buf, e, k, input.has_bpf_cookie)?,
            "LINUX_HAS_SYSCALL_WRAPPER" => set_flag(&mut buf, e, k, input.has_syscall_wrapper)?,
            n if n.starts_with("LINUX_") => return Err(Error::unsupported(format!("extern '{n}' (__kconfig): unknown LINUX_* extern (bpfl knows LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER)"))),
            n if n.starts_with("CONFIG_") => continue,
            n => return Err(Error::unsupported(format!("extern '{n}' (__kconfig): only CONFIG_* and LINUX_* externs can be __kconfig"))),
        }
        set[i] = true;
    }
    if let Some(text) = input.config {
        for line in text.lines() {
            let line = line.trim_end();
            // "# CONFIG_FOO is not set": n for the types that take it.
            let (name, value) = if let Some(n) = line.strip_prefix("# ").and_then(|l| l.strip_suffix(" is not set")) {
                (n, None)
            } else if line.starts_with("CONFIG_") {
                match line.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => continue,
                }
            } else {
                continue;
            };
            let Some(i) = externs.iter().position(|e| e.name == name && e.kconfig().is_some()) else { continue };
            let e = &externs[i];
            let k = e.kconfig().expect("kconfig");
            match value {
                Some(v) => set_value(&mut buf, e, k, v).map_err(|err| err.context("kernel config"))?,
                None if matches!(k.ty, KcfgType::Bool | KcfgType::Tristate | KcfgType::Char) => set_tri(&mut buf, &e.name, k, b'n')?,
                None => continue,
            }
            set[i] = true;
        }
    }
    for (i, e) in externs.iter().enumerate() {
        if e.kconfig().is_some() && !set[i] && !e.weak {
            let why = if input.config.is_some() { "not in the kernel config" } else { "the kernel config could not be read (/proc/config.gz, /boot/config-$(uname -r))" };
            return Err(Error::not_found(format!("extern '{}' (__kconfig) is not __weak and has no value: {why}", e.name)));
        }
    }
    Ok(buf)
}

/// A computed yes/no: 1/0 in an integer, y/n otherwise.
fn set_flag(buf: &mut [u8], e: &Extern, k: &Kconfig, b: bool) -> Result<()> {
    if k.ty == KcfgType::Int {
        put(buf, k, b as u64);
        Ok(())
    } else {
        set_tri(buf, &e.name, k, if b { b'y' } else { b'n' })
    }
}

/// One `/proc/kallsyms` line against `names` (the first address of each
/// wins); true once every name has an address, so a reader can stop.
pub fn kallsyms_match_line(line: &str, names: &[&str], out: &mut [Option<u64>]) -> bool {
    let mut it = line.split_ascii_whitespace();
    if let (Some(addr), Some(_ty), Some(sym)) = (it.next(), it.next(), it.next()) {
        for (i, n) in names.iter().enumerate() {
            if out[i].is_none() && *n == sym {
                if let Ok(a) = u64::from_str_radix(addr, 16) {
                    out[i] = Some(a);
                }
            }
        }
    }
    out.iter().all(|o| o.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Looks up `names` in `/proc/kallsyms` text: the address of each, in order
    /// (None where absent). The first line naming a symbol wins.
    pub fn kallsyms_lookup(text: &str, names: &[&str]) -> Vec<Option<u64>> {
        let mut out = vec![None; names.len()];
        for line in text.lines() {
            if kallsyms_match_line(line, names, &mut out) {
                break;
            }
        }
        out
    }
    use crate::btf::tests::B;

    /// BTF with: int, bool, char, enum libbpf_tristate, char[16], u64, and
    /// `.kconfig`/`.ksyms` externs over them.
    fn btf() -> Btf {
        let mut b = B::new();
        b.t("int", 1, 0, 4, &[(BTF_INT_SIGNED << 24) | 32]); // [1]
        b.t("_Bool", 1, 0, 1, &[(BTF_INT_BOOL << 24) | 8]); // [2]
        b.t("char", 1, 0, 1, &[(BTF_INT_SIGNED << 24) | 8]); // [3]
        let (no, yes, m) = (b.s("TRI_NO"), b.s("TRI_YES"), b.s("TRI_MODULE"));
        b.t("libbpf_tristate", 6, 3, 4, &[no, 0, yes, 1, m, 2]); // [4]
        b.t("", 3, 0, 0, &[3, 1, 16]); // [5] char[16]
        b.t("u64", 1, 0, 8, &[64]); // [6]
        b.t("", 10, 0, 1, &[]); // [7] const int
        b.t("LINUX_KERNEL_VERSION", 14, 0, 7, &[2]); // [8]
        b.t("CONFIG_BPF", 14, 0, 2, &[2]); // [9] bool
        b.t("CONFIG_TRI", 14, 0, 4, &[2]); // [10] tristate
        b.t("CONFIG_C", 14, 0, 3, &[2]); // [11] char
        b.t("CONFIG_STR", 14, 0, 5, &[2]); // [12] char[16]
        b.t("CONFIG_HZ", 14, 0, 6, &[2]); // [13] u64
        b.t("CONFIG_MISSING", 14, 0, 2, &[2]); // [14] bool, weak
        b.t("CONFIG_NEG", 14, 0, 1, &[2]); // [15] int
        b.t("", 10, 0, 0, &[]); // [16] const void
        b.t("some_sym", 14, 0, 16, &[2]); // [17] typeless ksym
        b.t(".kconfig", 15, 8, 0, &[8, 0, 0, 9, 0, 0, 10, 0, 0, 11, 0, 0, 12, 0, 0, 13, 0, 0, 14, 0, 0, 15, 0, 0]); // [18]
        b.t(".ksyms", 15, 1, 0, &[17, 0, 0]); // [19]
        Btf::parse(&b.bytes()).unwrap()
    }

    fn syms() -> Vec<(String, bool)> {
        ["LINUX_KERNEL_VERSION", "CONFIG_BPF", "CONFIG_TRI", "CONFIG_C", "CONFIG_STR", "CONFIG_HZ", "CONFIG_MISSING", "CONFIG_NEG", "some_sym"]
            .iter()
            .map(|n| (n.to_string(), *n == "CONFIG_MISSING"))
            .collect()
    }

    fn slot<'a>(ex: &'a [Extern], n: &str) -> &'a Kconfig {
        ex.iter().find(|e| e.name == n).unwrap().kconfig().unwrap()
    }

    #[test]
    fn layout_by_alignment_size_and_name() {
        let (ex, size) = collect(&btf(), &syms()).unwrap();
        let order: Vec<&str> = ex.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            order,
            ["CONFIG_HZ", "CONFIG_NEG", "CONFIG_TRI", "LINUX_KERNEL_VERSION", "CONFIG_BPF", "CONFIG_C", "CONFIG_MISSING", "CONFIG_STR", "some_sym"]
        );
        assert_eq!(slot(&ex, "CONFIG_HZ").offset, 0);
        assert_eq!(slot(&ex, "CONFIG_NEG").offset, 8);
        assert_eq!(slot(&ex, "CONFIG_TRI").offset, 12);
        assert_eq!(slot(&ex, "LINUX_KERNEL_VERSION").offset, 16);
        assert_eq!(slot(&ex, "CONFIG_BPF").offset, 20);
        assert_eq!(slot(&ex, "CONFIG_STR").offset, 23);
        assert_eq!(size, 39);
        assert_eq!(slot(&ex, "CONFIG_TRI").ty, KcfgType::Tristate);
        assert_eq!(slot(&ex, "CONFIG_STR").ty, KcfgType::CharArr);
        assert_eq!(ex[8].kind, ExternKind::Ksym { type_id: 0 });
        assert!(needs_config(&ex));
        // A symbol in neither section is an error naming it.
        let e = collect(&btf(), &[("nowhere".into(), false)]).unwrap_err();
        assert!(e.message().contains("'nowhere'"), "{e}");
    }

    const CONFIG: &str = "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_BPF=y\nCONFIG_TRI=m\nCONFIG_C=y\nCONFIG_STR=\"a string that is too long\"\nCONFIG_HZ=0x3e8\nCONFIG_NEG=-5\n# CONFIG_OTHER is not set\nCONFIG_UNUSED=42\n";

    #[test]
    fn values_from_config_text() {
        let (ex, size) = collect(&btf(), &syms()).unwrap();
        let input = KconfigInput { kernel_version: 0x06122c, has_bpf_cookie: true, has_syscall_wrapper: true, config: Some(CONFIG) };
        let d = kconfig_data(&ex, size, &input).unwrap();
        let u = |n: &str| {
            let k = slot(&ex, n);
            let mut b = [0u8; 8];
            b[..k.size as usize].copy_from_slice(&d[k.offset as usize..(k.offset + k.size) as usize]);
            u64::from_le_bytes(b)
        };
        assert_eq!(u("LINUX_KERNEL_VERSION"), 0x06122c);
        assert_eq!(u("CONFIG_BPF"), 1);
        assert_eq!(u("CONFIG_TRI"), 2);
        assert_eq!(u("CONFIG_C"), b'y' as u64);
        assert_eq!(u("CONFIG_HZ"), 1000);
        assert_eq!(u("CONFIG_NEG") as u32 as i32, -5);
        assert_eq!(u("CONFIG_MISSING"), 0);
        let s = slot(&ex, "CONFIG_STR");
        assert_eq!(&d[s.offset as usize..(s.offset + 16) as usize], b"a string that i\0");
    }

    #[test]
    fn not_set_bad_values_and_missing_strong_externs() {
        let (ex, size) = collect(&btf(), &syms()).unwrap();
        let with = |cfg: &str| kconfig_data(&ex, size, &KconfigInput { kernel_version: 1, config: Some(cfg), ..Default::default() });
        let all = "CONFIG_BPF=y\nCONFIG_TRI=y\nCONFIG_C=n\nCONFIG_STR=\"\"\nCONFIG_HZ=250\nCONFIG_NEG=1\n";
        assert!(with(all).is_ok());
        // "is not set" is n for bool/tristate/char.
        let d = with(&all.replace("CONFIG_BPF=y", "# CONFIG_BPF is not set")).unwrap();
        assert_eq!(d[slot(&ex, "CONFIG_BPF").offset as usize], 0);
        // A strong extern without a value names itself.
        let e = with(&all.replace("CONFIG_HZ=250\n", "")).unwrap_err();
        assert!(e.message().contains("'CONFIG_HZ'") && e.message().contains("not in the kernel config"), "{e}");
        let e = kconfig_data(&ex, size, &KconfigInput::default()).unwrap_err();
        assert!(e.message().contains("could not be read"), "{e}");
        // Values that do not fit the type.
        assert!(with(&all.replace("CONFIG_BPF=y", "CONFIG_BPF=m")).unwrap_err().message().contains("CONFIG_BPF"));
        assert!(with(&all.replace("CONFIG_NEG=1", "CONFIG_NEG=0x100000000")).unwrap_err().message().contains("does not fit"));
        assert!(with(&all.replace("CONFIG_HZ=250", "CONFIG_HZ=-1")).is_err());
        assert!(with(&all.replace("CONFIG_HZ=250", "CONFIG_HZ=\"x\"")).is_err());
        assert!(with(&all.replace("CONFIG_HZ=250", "CONFIG_HZ=y")).is_err());
        assert!(with(&all.replace("CONFIG_HZ=250", "CONFIG_HZ=12abc")).is_err());
        assert_eq!(parse_num("017", false), Some(15));
        assert_eq!(parse_num("0", false), Some(0));
        assert_eq!(parse_num("-1", false), None);
    }

    #[test]
    fn kallsyms_text() {
        let text = "ffffffff81000000 T _text\nffffffff814dc400 T bpf_prog_get\nffffffffc0001000 t helper\t[mod]\n";
        assert_eq!(kallsyms_lookup(text, &["bpf_prog_get", "nope", "helper"]), vec![Some(0xffffffff814dc400), None, Some(0xffffffffc0001000)]);
    }
}
