//! What is loaded in the kernel, system-wide: programs, maps and links, by
//! id (every process's, not only this one's objects). Walk the ids with
//! `bpfl_loaded_*_next_id`, read each with `bpfl_loaded_*_info` into a
//! sized struct the caller owns: nothing is allocated for C. Needs
//! CAP_SYS_ADMIN (-EPERM otherwise).

use super::args::{out, write_info};
use super::errors::guard;
use crate::error::Result;
use crate::host::loaded;
use std::ffi::{c_char, c_int};

/// A program loaded in the kernel. Set `sz` to `sizeof(struct bpfl_loaded_program)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_loaded_program {
    pub sz: usize,
    /// The kernel's id.
    pub id: u32,
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// The name given at load, NUL-terminated.
    pub name: [c_char; 16],
    /// The kernel's tag (a hash of the instructions).
    pub tag: [u8; 8],
    /// Instructions after the verifier's rewrites, in bytes.
    pub xlated_len: u32,
    /// JITed code in bytes (0: not JITed).
    pub jited_len: u32,
    /// When it was loaded, nanoseconds since boot.
    pub load_time: u64,
    pub created_by_uid: u32,
    /// How many maps it uses.
    pub nr_map_ids: u32,
}

/// A map in the kernel. Set `sz` to `sizeof(struct bpfl_loaded_map)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_loaded_map {
    pub sz: usize,
    pub id: u32,
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// The name given at creation, NUL-terminated.
    pub name: [c_char; 16],
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// Its BTF object's id (0: none).
    pub btf_id: u32,
}

/// A link in the kernel. Set `sz` to `sizeof(struct bpfl_loaded_link)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_loaded_link {
    pub sz: usize,
    pub id: u32,
    /// `enum bpf_link_type`.
    pub link_type: u32,
    /// The id of the program it holds.
    pub prog_id: u32,
}

fn name16(s: &str) -> [c_char; 16] {
    let mut n = [0 as c_char; 16];
    for (d, b) in n.iter_mut().zip(s.bytes().take(15)) {
        *d = b as c_char;
    }
    n
}

fn tag8(hex: &str) -> [u8; 8] {
    let mut t = [0u8; 8];
    for (i, d) in t.iter_mut().enumerate() {
        *d = hex.get(2 * i..2 * i + 2).and_then(|x| u8::from_str_radix(x, 16).ok()).unwrap_or(0);
    }
    t
}

/// Refuse a NULL or unsized `info` before asking the kernel anything.
///
/// # Safety
/// `p` is NULL or points to a readable struct starting with its `sz`.
unsafe fn check_out<T>(p: *mut T, what: &str) -> Result<()> {
    if p.is_null() {
        return Err(crate::Error::inval(format!("{what} is NULL")));
    }
    let sz = *(p as *const usize);
    if sz < std::mem::size_of::<usize>() {
        return Err(crate::Error::inval(format!("{what}.sz is {sz}: set it to sizeof(struct {what})")));
    }
    Ok(())
}

/// 1 with the next id in `*next_id`, 0 after the last.
unsafe fn next_into(next_id: *mut u32, f: impl FnOnce() -> Result<Option<u32>>) -> c_int {
    guard(|| {
        let o = out(next_id, "next_id")?;
        Ok(match f()? {
            Some(n) => {
                *o = n;
                1
            }
            None => 0,
        })
    })
}

/// The id of the first program after `id` (0: the first of all) in
/// `*next_id`: returns 1, or 0 after the last one.
///
/// # Safety
/// `next_id` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_loaded_program_next_id(id: u32, next_id: *mut u32) -> c_int {
    next_into(next_id, || loaded::program_next_id(id))
}

/// As `bpfl_loaded_program_next_id`, for maps.
///
/// # Safety
/// `next_id` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_loaded_map_next_id(id: u32, next_id: *mut u32) -> c_int {
    next_into(next_id, || loaded::map_next_id(id))
}

/// As `bpfl_loaded_program_next_id`, for links.
///
/// # Safety
/// `next_id` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_loaded_link_next_id(id: u32, next_id: *mut u32) -> c_int {
    next_into(next_id, || loaded::link_next_id(id))
}

/// The program with kernel id `id`; -ENOENT when there is none (any more).
///
/// # Safety
/// `info` is NULL or a writable `struct bpfl_loaded_program` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_loaded_program_info(id: u32, info: *mut bpfl_loaded_program) -> c_int {
    guard(|| {
        check_out(info, "bpfl_loaded_program")?;
        let p = loaded::program_info(id)?;
        let v = bpfl_loaded_program {
            sz: 0,
            id: p.id,
            prog_type: p.prog_type,
            name: name16(&p.name),
            tag: tag8(&p.tag),
            xlated_len: p.xlated_len,
            jited_len: p.jited_len,
            load_time: p.load_time,
            created_by_uid: p.created_by_uid,
            nr_map_ids: p.nr_map_ids,
        };
        write_info(info, v, "bpfl_loaded_program")?;
        Ok(0)
    })
}

/// The map with kernel id `id`; -ENOENT when there is none.
///
/// # Safety
/// `info` is NULL or a writable `struct bpfl_loaded_map` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_loaded_map_info(id: u32, info: *mut bpfl_loaded_map) -> c_int {
    guard(|| {
        check_out(info, "bpfl_loaded_map")?;
        let m = loaded::map_info(id)?;
        let v = bpfl_loaded_map {
            sz: 0,
            id: m.id,
            map_type: m.map_type,
            name: name16(&m.name),
            key_size: m.key_size,
            value_size: m.value_size,
            max_entries: m.max_entries,
            map_flags: m.map_flags,
            btf_id: m.btf_id,
        };
        write_info(info, v, "bpfl_loaded_map")?;
        Ok(0)
    })
}

/// The link with kernel id `id`; -ENOENT when there is none.
///
/// # Safety
/// `info` is NULL or a writable `struct bpfl_loaded_link` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_loaded_link_info(id: u32, info: *mut bpfl_loaded_link) -> c_int {
    guard(|| {
        check_out(info, "bpfl_loaded_link")?;
        let l = loaded::link_info(id)?;
        write_info(info, bpfl_loaded_link { sz: 0, id: l.id, link_type: l.link_type, prog_id: l.prog_id }, "bpfl_loaded_link")?;
        Ok(0)
    })
}
