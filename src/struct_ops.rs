//! struct_ops on the kernel side (the object's side is
//! [`crate::obj::struct_ops`]): the kernel's type for each variable (its
//! `bpf_struct_ops_NAME` value type and member layout, from the kernel's
//! BTF), the programs' load targets (`attach_btf_id` = the kernel struct,
//! `expected_attach_type` = the member's index), the map's creation and its
//! value (program fds and data members at the kernel's offsets), and the
//! registration: [`Map::attach_struct_ops`] (a BPF link for
//! `.struct_ops.link` maps, Linux 6.4+; a map update for `.struct_ops`),
//! [`Link::update_map`], and unregistration when the link goes.

use crate::btf::BtfKind;
use crate::error::{Error, Result};
use crate::link::{Link, LinkKind};
use crate::map::Map;
use crate::obj::struct_ops::{StructOpsSpec, BPF_F_LINK};
use crate::obj::{MapSpec, ObjectSpec};
use crate::sys;
use std::os::fd::{AsFd, BorrowedFd, RawFd};

/// `BPF_STRUCT_OPS` attach type of a struct_ops link.
const BPF_STRUCT_OPS: u32 = crate::obj::section::attach_type::STRUCT_OPS;

/// The kernel's side of a struct_ops type.
struct KernelOps {
    /// `struct NAME` in vmlinux BTF.
    struct_id: u32,
    /// `struct bpf_struct_ops_NAME`: the map's value type.
    value_id: u32,
    value_size: u32,
    /// Offset of the `data` member (the `struct NAME`) in the value.
    data_off: u32,
    /// (name, byte offset, size) of each member of `struct NAME`, in order.
    members: Vec<(String, u32, u32)>,
}

fn kernel_ops(type_name: &str) -> Result<KernelOps> {
    let k = crate::host::vmlinux::kernel_btf().map_err(|e| e.context("struct_ops needs the kernel's BTF"))?;
    let b = &k.btf;
    let struct_id = k.find(type_name, BtfKind::Struct).ok_or_else(|| Error::not_found(format!("struct_ops: the kernel has no 'struct {type_name}'")))?;
    let vname = format!("bpf_struct_ops_{type_name}");
    let value_id = k.find(&vname, BtfKind::Struct).ok_or_else(|| {
        Error::unsupported(format!("struct_ops: this kernel does not take BPF implementations of '{type_name}' (no '{vname}'; struct_ops needs Linux 5.6, tcp_congestion_ops since 5.6, others later)"))
    })?;
    let vt = b.type_by_id(value_id).expect("found by id");
    let data_off = vt.members().find(|m| b.str_at(m.name_off) == Some("data")).map(|m| m.offset / 8).ok_or_else(|| Error::parse(format!("kernel BTF: '{vname}' has no 'data' member")))?;
    let st = b.type_by_id(struct_id).expect("found by id");
    let mut members = Vec::new();
    for m in st.members() {
        members.push((b.str_at(m.name_off).unwrap_or("").to_string(), m.offset / 8, b.size_of(m.type_id).unwrap_or(0)));
    }
    Ok(KernelOps { struct_id, value_id, value_size: vt.size_or_type, data_off, members })
}

/// For each program, its struct_ops load target: (`attach_btf_id`,
/// `expected_attach_type`), or None for programs of other kinds. A
/// struct_ops program no variable uses is refused: the kernel would be
/// asked to load it for nothing it could say.
pub(crate) fn program_targets(file: &ObjectSpec) -> Result<Vec<Option<(u32, u32)>>> {
    let mut out = vec![None; file.programs.len()];
    for so in &file.struct_ops {
        let k = kernel_ops(&so.type_name).map_err(|e| e.context(format!("struct_ops '{}'", so.name)))?;
        for m in so.members.iter().filter(|m| m.prog.is_some()) {
            let idx = k.members.iter().position(|(n, _, _)| *n == m.name).ok_or_else(|| {
                Error::not_found(format!("struct_ops '{}': the kernel's 'struct {}' has no member '{}'", so.name, so.type_name, m.name))
            })?;
            out[m.prog.expect("filtered")] = Some((k.struct_id, idx as u32));
        }
    }
    for (i, p) in file.programs.iter().enumerate() {
        if out[i].is_none() && p.prog_type() == crate::obj::ProgramType::STRUCT_OPS {
            return Err(Error::inval(format!("program '{}' (section '{}') is used by no .struct_ops variable", p.name, p.section)));
        }
    }
    Ok(out)
}

/// Create the map of struct_ops variable `so`.
pub(crate) fn create_map(map: &Map, so: &StructOpsSpec, spec: &MapSpec, btf: Option<BorrowedFd<'_>>) -> Result<()> {
    let what = format!("struct_ops map '{}'", so.name);
    let k = kernel_ops(&so.type_name).map_err(|e| e.context(&what))?;
    let btf = btf.ok_or_else(|| Error::unsupported(format!("{what}: the kernel refused the object's BTF, which struct_ops maps need")))?;
    let p = sys::MapCreate {
        map_type: spec.map_type.as_u32(),
        key_size: 4,
        value_size: k.value_size,
        max_entries: 1,
        map_flags: spec.map_flags,
        name: &spec.kernel_name,
        btf_fd: Some(btf),
        btf_vmlinux_value_type_id: k.value_id,
        ..Default::default()
    };
    let fd = sys::map_create(&p).map_err(|e| match e.0 {
        libc::EINVAL if spec.map_flags & BPF_F_LINK != 0 => {
            e.error(format!("{what}: BPF_MAP_CREATE (`.struct_ops.link` maps, registered by a link, need Linux 6.4; use `.struct_ops` before)"))
        }
        _ => e.error(format!("{what}: BPF_MAP_CREATE")),
    })?;
    map.set_fd(fd);
    Ok(())
}

/// The map value of `so`: its programs' fds and its data members at the
/// kernel's offsets, in `struct bpf_struct_ops_NAME`.
pub(crate) fn map_value(so: &StructOpsSpec, prog_fds: &[RawFd]) -> Result<Vec<u8>> {
    let what = format!("struct_ops '{}'", so.name);
    let k = kernel_ops(&so.type_name).map_err(|e| e.context(&what))?;
    let mut v = vec![0u8; k.value_size as usize];
    for m in &so.members {
        let local = &so.data[m.offset as usize..(m.offset + m.size) as usize];
        let Some(&(_, koff, ksize)) = k.members.iter().find(|(n, _, _)| *n == m.name) else {
            if m.prog.is_some() || local.iter().any(|&b| b != 0) {
                return Err(Error::not_found(format!("{what}: the kernel's 'struct {}' has no member '{}'", so.name, m.name)));
            }
            continue;
        };
        let at = (k.data_off + koff) as usize;
        if let Some(p) = m.prog {
            let fd = prog_fds.get(p).copied().filter(|&f| f >= 0).ok_or_else(|| Error::inval(format!("{what}: the program of '{}' is not loaded", m.name)))?;
            v[at..at + 8].copy_from_slice(&(fd as u64).to_ne_bytes());
        } else if !m.func && local.iter().any(|&b| b != 0) {
            if ksize != m.size {
                return Err(Error::inval(format!("{what}: member '{}' is {} bytes here, {ksize} in the kernel", m.name, m.size)));
            }
            v[at..at + ksize as usize].copy_from_slice(local);
        }
    }
    Ok(v)
}

impl Map {
    /// Register this struct_ops map with the kernel (a TCP congestion
    /// control becomes selectable, ...). A `.struct_ops.link` map gets a BPF
    /// link (Linux 6.4+); a `.struct_ops` map is registered by a map update.
    /// Dropping the link unregisters it in both cases.
    pub fn attach_struct_ops(&self) -> Result<Link> {
        let (value, fd) = self.struct_ops_ready()?;
        let what = format!("struct_ops map '{}'", self.name());
        let link = self.map_flags() & BPF_F_LINK != 0;
        set_value(fd.as_fd(), &value, link, &what)?;
        if !link {
            // Registered now; deleting the element unregisters.
            let name = what.clone();
            let undo = move || sys::map_delete(fd.as_fd(), &0u32.to_ne_bytes()).map_err(|e| e.error(format!("{name}: unregister (delete)")));
            return Ok(Link::with_unregister(LinkKind::StructOps, self.name().to_string(), Box::new(undo)));
        }
        let l = sys::link_create_raw(fd.as_fd(), 0, BPF_STRUCT_OPS).map_err(|e| register_error(e, &format!("{what}: BPF_LINK_CREATE")))?;
        Ok(Link::new(LinkKind::StructOps, self.name().to_string(), Some(l), None, None))
    }

    /// The value to register and an fd of the map, once the object is loaded.
    fn struct_ops_ready(&self) -> Result<(Vec<u8>, std::os::fd::OwnedFd)> {
        if self.map_type() != crate::obj::map_type::STRUCT_OPS {
            return Err(Error::inval(format!("map '{}' is not a struct_ops map (type {})", self.name(), crate::obj::MapType(self.map_type()))));
        }
        let value = self.struct_ops_value().ok_or_else(|| Error::inval(format!("struct_ops map '{}' is not loaded: load the object first", self.name())))?;
        Ok((value, self.dup_fd()?))
    }
}

/// Write the value (for a `.struct_ops` map, that registers it). A
/// `.struct_ops.link` map whose value is in already (an earlier attach that
/// failed, a link dropped) answers EBUSY: it is ready as it is.
fn set_value(fd: BorrowedFd<'_>, value: &[u8], link: bool, what: &str) -> Result<()> {
    match sys::map_update(fd, &0u32.to_ne_bytes(), value, 0) {
        Err(e) if link && e.0 == libc::EBUSY => Ok(()),
        r => r.map_err(|e| register_error(e, what)),
    }
}

fn register_error(e: sys::Errno, what: &str) -> Error {
    match e.0 {
        libc::EEXIST => Error::new(crate::ErrorKind::Os, libc::EEXIST, format!("{what}: registered already, or its name is taken by another registration")),
        libc::EBUSY => Error::new(crate::ErrorKind::Os, libc::EBUSY, format!("{what}: in use (registered already)")),
        _ => e.error(format!("{what}: register")),
    }
}

impl Link {
    /// Switch a struct_ops link to another loaded struct_ops map of the same
    /// type (`BPF_LINK_UPDATE`, Linux 6.4+): users of the old one move over.
    pub fn update_map(&self, map: &Map) -> Result<()> {
        let (value, fd) = map.struct_ops_ready()?;
        let what = format!("struct_ops map '{}'", map.name());
        if map.map_flags() & BPF_F_LINK == 0 {
            return Err(Error::inval(format!("{what}: only `.struct_ops.link` maps can replace another in a link")));
        }
        set_value(fd.as_fd(), &value, true, &what)?;
        self.update_fds(fd.as_fd(), None, map.name())
    }
}
