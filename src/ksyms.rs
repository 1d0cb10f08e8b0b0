//! The running kernel's values for an object's externs (the ones
//! [`crate::obj::externs`] found in its BTF): the `.kconfig` map's bytes,
//! from the kernel version, `/proc/kallsyms` and the kernel config, each read
//! only when an extern needs it; and `__ksym` symbols: variables and kfuncs
//! looked up in the kernel's BTF, typeless ones in `/proc/kallsyms`.
//! The facts themselves come from [`crate::host`].

use crate::btf::BtfKind;
use crate::host;
use crate::error::{Error, Result};
use crate::obj::patch::KsymValue;
use crate::log;
use crate::obj::externs::{self, Extern, ExternKind, KconfigInput};

/// The `.kconfig` map's value for `externs` (`size` bytes); `extra` is
/// config text whose values override the host's.
pub fn kconfig_value(externs: &[Extern], size: u32, extra: Option<&str>) -> Result<Vec<u8>> {
    let kver = host::kver::running();
    let has = |n: &str| externs.iter().any(|e| e.kconfig().is_some() && e.name == n);
    let has_syscall_wrapper = has("LINUX_HAS_SYSCALL_WRAPPER") && host::kallsyms::has_syscall_wrapper()?;
    let mut config = if externs::needs_config(externs) {
        match host::kconfig::read_kernel_config() {
            Ok(c) => Some(c),
            Err(e) => {
                log::warn(&format!("{e}: CONFIG_* externs that are __weak are 0"));
                None
            }
        }
    } else {
        None
    };
    // Later lines win: the caller's values after the host's.
    if let Some(x) = extra {
        let c = config.get_or_insert_with(String::new);
        c.push('\n');
        c.push_str(x);
    }
    let input = KconfigInput {
        kernel_version: kver,
        // bpf_get_attach_cookie() came with Linux 5.15.
        has_bpf_cookie: kver >= host::kver::kernel_version(5, 15, 0),
        has_syscall_wrapper,
        config: config.as_deref(),
    };
    Ok(externs::kconfig_data(externs, size, &input)?)
}

/// Resolves every `__ksym` extern against the running kernel (one entry per extern).
pub fn resolve_ksyms(obj: &crate::obj::ObjectSpec) -> Result<Vec<KsymValue>> {
    let mut out = vec![KsymValue::NotKsym; obj.externs.len()];
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
        let k = host::vmlinux::kernel_btf().map_err(|err| err.context(format!("extern '{}' (__ksym) is looked up in the kernel's BTF", e.name)))?;
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
                KsymValue::BtfId(id)
            }
            None if e.weak => KsymValue::Missing,
            None => return Err(Error::not_found(format!("extern '{}' (__ksym): no {what} '{}' in the kernel's BTF (vmlinux; module BTF is not searched)", e.name, e.name))),
        };
    }
    if !typeless.is_empty() {
        let names: Vec<&str> = typeless.iter().map(|&i| obj.externs[i].name.as_str()).collect();
        let found = host::kallsyms::lookup(&names)?;
        for (&i, a) in typeless.iter().zip(found) {
            let e = &obj.externs[i];
            out[i] = match a {
                Some(0) if !e.weak => return Err(Error::os(libc::EPERM, format!("extern '{}' (__ksym): /proc/kallsyms hides addresses (kernel.kptr_restrict; run as root)", e.name))),
                Some(a) => KsymValue::Addr(a),
                None if e.weak => KsymValue::Missing,
                None => return Err(Error::not_found(format!("extern '{}' (__ksym): no symbol '{}' in /proc/kallsyms", e.name, e.name))),
            };
        }
    }
    Ok(out)
}

/// A kfunc's local prototype against the kernel's: same number of
/// parameters, compatible return and parameter types.
/// A pointer to a forward declaration (`struct sock;`, as BPF C declares a
/// kfunc's argument types) matches a pointer to a struct or union of the name.
fn fwd_ptr_compat(local: &crate::btf::Btf, l: u32, target: &crate::btf::Btf, t: u32) -> bool {
    let pointee = |b: &crate::btf::Btf, id: u32| {
        let p = b.type_by_id(b.skip_mods(id)).filter(|t| t.kind() == BtfKind::Ptr)?;
        let id = b.skip_mods(p.size_or_type);
        Some((b.type_by_id(id)?.kind(), b.name_of(id).to_string()))
    };
    match (pointee(local, l), pointee(target, t)) {
        (Some((BtfKind::Fwd, ln)), Some((BtfKind::Struct | BtfKind::Union, tn))) => ln == tn,
        _ => false,
    }
}

fn func_protos_compat(local: &crate::btf::Btf, l: u32, target: &crate::btf::Btf, t: u32) -> bool {
    let (Some(lp), Some(tp)) = (local.type_by_id(l), target.type_by_id(t)) else { return false };
    if lp.kind() != BtfKind::FuncProto || tp.kind() != BtfKind::FuncProto || lp.vlen() != tp.vlen() {
        return false;
    }
    let compat = |a: u32, b: u32| (a == 0 && b == 0) || (a != 0 && b != 0 && (crate::obj::core_relo::types_compat(local, a, target, b) || fwd_ptr_compat(local, a, target, b)));
    compat(lp.size_or_type, tp.size_or_type) && lp.params().zip(tp.params()).all(|(a, b)| compat(a.1, b.1))
}
