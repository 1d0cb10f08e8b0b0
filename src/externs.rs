//! Extern symbols, the kernel side: what the running kernel says about the
//! externs [`crate::obj::externs`] found. `.kconfig` values come from the
//! kernel version, `/proc/kallsyms` and the kernel config (`/proc/config.gz`,
//! else `/boot/config-$(uname -r)`), each read only when an extern needs it;
//! `__ksym` variables and kfuncs are looked up in the kernel's BTF, typeless
//! `__ksym`s in `/proc/kallsyms`.

use std::sync::OnceLock;
use crate::btf::BtfKind;
use crate::error::{Error, Result};
use crate::log;
use crate::obj::externs::{self, Extern, ExternKind, KconfigInput};

/// What a `__ksym` extern resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ksym {
    /// A variable or function in the kernel's BTF (vmlinux): its type id.
    BtfId(u32),
    /// A typeless symbol's address.
    Addr(u64),
    /// A `__weak` symbol the kernel does not have: 0 (a kfunc call to it is poisoned).
    Missing,
    /// Not a `__ksym` extern.
    NotKsym,
}

/// The inflated contents of a gzip file (one member; the trailer is not checked).
pub fn gunzip(d: &[u8]) -> std::result::Result<Vec<u8>, String> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if d.len() < 18 || d[0] != 0x1f || d[1] != 0x8b || d[2] != 8 {
        return Err("not a gzip (deflate) file".into());
    }
    let flags = d[3];
    let mut pos = 10usize;
    if flags & FEXTRA != 0 {
        let n = u16::from_le_bytes([*d.get(pos).ok_or("truncated")?, *d.get(pos + 1).ok_or("truncated")?]) as usize;
        pos += 2 + n;
    }
    for f in [FNAME, FCOMMENT] {
        if flags & f != 0 {
            let end = d.get(pos..).and_then(|r| r.iter().position(|&b| b == 0)).ok_or("truncated header")?;
            pos += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    let body = d.get(pos..).ok_or("truncated header")?;
    miniz_oxide::inflate::decompress_to_vec(body).map_err(|e| format!("inflate: {e:?}"))
}

/// The running kernel's config text: `/proc/config.gz`, else `/boot/config-$(uname -r)`.
pub fn read_kernel_config() -> Result<String> {
    let gz = "/proc/config.gz";
    match std::fs::read(gz) {
        Ok(d) => {
            let text = gunzip(&d).map_err(|e| Error::parse(format!("kernel config '{gz}': {e}")))?;
            return Ok(String::from_utf8_lossy(&text).into_owned());
        }
        Err(e) => log::debug(&format!("kernel config: '{gz}': {e}; trying /boot")),
    }
    let path = format!("/boot/config-{}", release());
    std::fs::read_to_string(&path).map_err(|e| Error::from_io(e, format_args!("kernel config: neither '{gz}' nor '{path}' could be read")))
}

fn release() -> String {
    // SAFETY: uname fills a caller-provided struct.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    let b: Vec<u8> = u.release.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&b).into_owned()
}

/// The prefix of syscall wrappers on this architecture (`__x64_sys_bpf`).
fn syscall_prefix() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "__x64_",
        "x86" => "__ia32_",
        "aarch64" => "__arm64_",
        "s390x" => "__s390x_",
        "riscv64" => "__riscv_",
        "powerpc64" => "",
        _ => "",
    }
}

/// Addresses of `names` in `/proc/kallsyms`, read line by line (the file is
/// ~10 MB of text: never held whole) and only as far as needed.
fn lookup_kallsyms(names: &[&str]) -> Result<Vec<Option<u64>>> {
    use std::io::BufRead;
    let io = |e: std::io::Error| Error::from_io(e, "'/proc/kallsyms'");
    let mut r = std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open("/proc/kallsyms").map_err(io)?);
    let mut out = vec![None; names.len()];
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(io)? == 0 || externs::kallsyms_match_line(&line, names, &mut out) {
            return Ok(out);
        }
    }
}

/// Whether syscalls enter through arch wrappers (`__x64_sys_bpf`): a scan
/// of /proc/kallsyms, done once per process.
fn has_syscall_wrapper() -> Result<bool> {
    static HAS: OnceLock<bool> = OnceLock::new();
    if let Some(&h) = HAS.get() {
        return Ok(h);
    }
    let p = syscall_prefix();
    let h = !p.is_empty() && lookup_kallsyms(&[&format!("{p}sys_bpf")])?[0].is_some();
    Ok(*HAS.get_or_init(|| h))
}

/// The `.kconfig` map's value for `externs` (`size` bytes).
pub fn kconfig_value(externs: &[Extern], size: u32) -> Result<Vec<u8>> {
    let kver = crate::kver::running();
    let has = |n: &str| externs.iter().any(|e| e.kconfig().is_some() && e.name == n);
    let has_syscall_wrapper = has("LINUX_HAS_SYSCALL_WRAPPER") && has_syscall_wrapper()?;
    let config = if externs::needs_config(externs) {
        match read_kernel_config() {
            Ok(c) => Some(c),
            Err(e) => {
                log::warn(&format!("{e}: CONFIG_* externs that are __weak are 0"));
                None
            }
        }
    } else {
        None
    };
    let input = KconfigInput {
        kernel_version: kver,
        // bpf_get_attach_cookie() came with Linux 5.15.
        has_bpf_cookie: kver >= crate::kver::kernel_version(5, 15, 0),
        has_syscall_wrapper,
        config: config.as_deref(),
    };
    Ok(externs::kconfig_data(externs, size, &input)?)
}

/// Resolves every `__ksym` extern against the running kernel (one entry per extern).
pub fn resolve_ksyms(obj: &crate::obj::ObjectSpec) -> Result<Vec<Ksym>> {
    let mut out = vec![Ksym::NotKsym; obj.externs.len()];
    let mut typeless = Vec::new();
    for (i, e) in obj.externs.iter().enumerate() {
        let (kind, what, local) = match e.kind {
            ExternKind::Kconfig(_) => continue,
            ExternKind::Ksym { type_id: 0 } => {
                typeless.push(i);
                continue;
            }
            ExternKind::Ksym { type_id } => (BtfKind::Var, "variable", type_id),
            ExternKind::Kfunc { proto } => (BtfKind::Func, "function", proto),
        };
        let k = crate::vmlinux::kernel_btf().map_err(|err| err.context(format!("extern '{}' (__ksym) is looked up in the kernel's BTF", e.name)))?;
        out[i] = match k.find(&e.name, kind) {
            Some(id) => {
                let t = k.btf.type_by_id(id).expect("found").size_or_type;
                let local_btf = obj.btf.as_ref().ok_or_else(|| Error::parse(format!("extern '{}' (__ksym): the object's BTF was unusable", e.name)))?;
                let ok = match kind {
                    BtfKind::Var => crate::obj::core_relo::types_compat(local_btf, local, &k.btf, t),
                    _ => func_protos_compat(local_btf, local, &k.btf, t),
                };
                if !ok {
                    return Err(Error::inval(format!(
                        "extern '{}' (__ksym): its type does not match the kernel's {what} [{id}]",
                        e.name
                    )));
                }
                Ksym::BtfId(id)
            }
            None if e.weak => Ksym::Missing,
            None => return Err(Error::not_found(format!("extern '{}' (__ksym): no {what} '{}' in the kernel's BTF (vmlinux; module BTF is not searched)", e.name, e.name))),
        };
    }
    if !typeless.is_empty() {
        let names: Vec<&str> = typeless.iter().map(|&i| obj.externs[i].name.as_str()).collect();
        let found = lookup_kallsyms(&names)?;
        for (&i, a) in typeless.iter().zip(found) {
            let e = &obj.externs[i];
            out[i] = match a {
                Some(0) if !e.weak => return Err(Error::os(libc::EPERM, format!("extern '{}' (__ksym): /proc/kallsyms hides addresses (kernel.kptr_restrict; run as root)", e.name))),
                Some(a) => Ksym::Addr(a),
                None if e.weak => Ksym::Missing,
                None => return Err(Error::not_found(format!("extern '{}' (__ksym): no symbol '{}' in /proc/kallsyms", e.name, e.name))),
            };
        }
    }
    Ok(out)
}

/// A kfunc's local prototype against the kernel's: same number of
/// parameters, compatible return and parameter types.
fn func_protos_compat(local: &crate::btf::Btf, l: u32, target: &crate::btf::Btf, t: u32) -> bool {
    let (Some(lp), Some(tp)) = (local.type_by_id(l), target.type_by_id(t)) else { return false };
    if lp.kind() != BtfKind::FuncProto || tp.kind() != BtfKind::FuncProto || lp.vlen() != tp.vlen() {
        return false;
    }
    let compat = |a: u32, b: u32| (a == 0 && b == 0) || (a != 0 && b != 0 && crate::obj::core_relo::types_compat(local, a, target, b));
    compat(lp.size_or_type, tp.size_or_type) && lp.params().zip(tp.params()).all(|(a, b)| compat(a.1, b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gunzip_reads_what_gzip_wrote() {
        // `printf 'CONFIG_BPF=y\n' | gzip -n`, with the name flag set by hand to test header skipping.
        let text = b"CONFIG_BPF=y\nCONFIG_HZ=250\n";
        let deflated = miniz_oxide::deflate::compress_to_vec(text, 6);
        let mut gz = vec![0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(b"config\0");
        gz.extend_from_slice(&deflated);
        gz.extend_from_slice(&[0; 8]); // crc32 and size: not checked
        assert_eq!(gunzip(&gz).unwrap(), text);
        assert!(gunzip(b"not gzip at all, clearly").is_err());
    }
}
