//! Objects: open (file or memory), set globals, load, attach everything,
//! list and find programs and maps, close.

use super::args::{bytes_arg, bytes_mut, opt_str, out, read_opts, str_arg};
use super::errors::{guard, set_last_error};
use super::handles::{self, Children, Entry, Kind, ObjCell};
use super::link::add_link;
use super::types::{bpfl_load_opts, bpfl_map, bpfl_object, bpfl_open_opts, bpfl_program};
use crate::error::{Error, Result};
use crate::object::{LoadOptions, Object, OpenOptions};
use parking_lot::Mutex;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

/// Give an opened object, its programs and its maps their handles (all or,
/// when the table is full, none).
fn register_object(obj: Object) -> Result<u64> {
    let progs = obj.programs().to_vec();
    let maps = obj.maps().to_vec();
    let cell = Arc::new(ObjCell { obj: Mutex::new(obj), children: Mutex::new(Children::default()) });
    let oh = handles::insert(Entry::Object(cell.clone()))?;
    let r = (|| {
        let mut ch = cell.children.lock();
        for p in progs {
            let name = CString::new(p.name()).unwrap_or_default();
            let section = CString::new(p.section()).unwrap_or_default();
            ch.programs.push(handles::insert(Entry::Program { owner: oh, prog: p, name, section })?);
        }
        for (idx, m) in maps.into_iter().enumerate() {
            let name = CString::new(m.name()).unwrap_or_default();
            ch.maps.push(handles::insert(Entry::Map { owner: Some(oh), idx, map: m, name })?);
        }
        Ok(oh)
    })();
    if r.is_err() {
        close_object(oh)?;
    }
    r
}

/// Remove an object's handle and its children's: links first (detached),
/// then programs and maps, all dropped outside the table lock.
fn close_object(oh: u64) -> Result<()> {
    let entry = handles::remove(oh, Kind::Object)?;
    let Entry::Object(cell) = entry else { return Err(handles::stale(oh, Kind::Object)) };
    let ch = std::mem::take(&mut *cell.children.lock());
    handles::release(handles::remove_many(&ch.links));
    handles::release(handles::remove_many(&ch.programs));
    handles::release(handles::remove_many(&ch.maps));
    drop(cell);
    Ok(())
}

/// # Safety
/// `opts` is NULL or a `bpfl_open_opts` with `sz` set, whose strings are NULL or NUL-terminated.
unsafe fn open_opts(opts: *const bpfl_open_opts) -> Result<OpenOptions> {
    let null = std::ptr::null();
    let d = bpfl_open_opts { sz: 0, object_name: null, pin_root_path: null, btf_custom_path: null, kconfig: null, kernel_log_level: 0 };
    let o = read_opts(opts, d, "bpfl_open_opts")?;
    Ok(OpenOptions {
        name: opt_str(o.object_name, "bpfl_open_opts.object_name")?,
        pin_root: opt_str(o.pin_root_path, "bpfl_open_opts.pin_root_path")?,
        btf_custom_path: opt_str(o.btf_custom_path, "bpfl_open_opts.btf_custom_path")?,
        kconfig: opt_str(o.kconfig, "bpfl_open_opts.kconfig")?,
        kernel_log_level: o.kernel_log_level,
    })
}

/// Open a BPF ELF object file: parse it, list its programs and maps. Nothing
/// is created in the kernel until `bpfl_object_load`. `opts` may be NULL.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `opts` is NULL or a
/// `struct bpfl_open_opts` with `sz` set; `out_obj` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_open_file(path: *const c_char, opts: *const bpfl_open_opts, out_obj: *mut bpfl_object) -> c_int {
    guard(|| {
        let path = str_arg(path, "path")?;
        let out_obj = out(out_obj, "out_obj")?;
        let o = open_opts(opts)?;
        let obj = Object::open_file(path, &o)?;
        out_obj.id = register_object(obj)?;
        Ok(0)
    })
}

/// Open a BPF ELF object from `len` bytes at `buf` (copied). `opts` may be NULL.
///
/// # Safety
/// `buf` is NULL or `len` readable bytes; `opts` is NULL or a
/// `struct bpfl_open_opts` with `sz` set; `out_obj` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_open_mem(buf: *const c_void, len: usize, opts: *const bpfl_open_opts, out_obj: *mut bpfl_object) -> c_int {
    guard(|| {
        let data = bytes_arg(buf, len, "buf")?;
        let out_obj = out(out_obj, "out_obj")?;
        let o = open_opts(opts)?;
        let obj = Object::open_mem(data, &o)?;
        out_obj.id = register_object(obj)?;
        Ok(0)
    })
}

/// Set global variable `var` of the object's data sections (a `const volatile`
/// in `.rodata`, or `.data`/`.bss`) to `len` bytes at `val`, before load.
/// `len` must be the variable's size.
///
/// # Safety
/// `var` is NULL or a NUL-terminated string; `val` is NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_set_rodata(obj: bpfl_object, var: *const c_char, val: *const c_void, len: usize) -> c_int {
    guard(|| {
        let var = str_arg(var, "var")?;
        let val = bytes_arg(val, len, "val")?;
        let cell = handles::object(obj.id)?;
        let mut o = cell.lock()?;
        o.set_global(var, val)?;
        Ok(0)
    })
}

/// Create the maps, relocate and load every program. On a verifier rejection
/// the error message names the program and holds the verifier log. On any
/// failure nothing is left in the kernel and the object can be closed (or loaded again).
///
/// # Safety
/// `opts` is NULL or a `struct bpfl_load_opts` with `sz` set.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_load(obj: bpfl_object, opts: *const bpfl_load_opts) -> c_int {
    guard(|| {
        let o = read_opts(opts, bpfl_load_opts { sz: 0, log_level: 0, kern_version: 0 }, "bpfl_load_opts")?;
        let cell = handles::object(obj.id)?;
        let mut ob = cell.lock()?;
        ob.load(&LoadOptions { log_level: o.log_level, kern_version: (o.kern_version != 0).then_some(o.kern_version) })?;
        Ok(0)
    })
}

/// Attach every loaded program whose section names its target (`kprobe/FUNC`,
/// `kretprobe/FUNC`, `tracepoint/CAT/NAME`, `raw_tracepoint/NAME`). Links are
/// owned by the object (closed with it). Returns how many were attached;
/// programs that could not be attached are logged and skipped, and only if
/// none could be attached while some should have is their first error returned.
#[no_mangle]
pub extern "C" fn bpfl_object_attach_all(obj: bpfl_object) -> c_int {
    guard(|| {
        let cell = handles::object(obj.id)?;
        let (links, errors) = {
            let o = cell.lock()?;
            if !o.is_loaded() {
                return Err(Error::inval(format!("object '{}' is not loaded", o.name())));
            }
            o.attach_all()
        };
        let n = links.len();
        for (_, l) in links {
            add_link(Some(obj.id), l)?;
        }
        match errors.into_iter().next() {
            Some((_, e)) if n == 0 => Err(e),
            Some((_, e)) => {
                set_last_error(e.message());
                Ok(n as c_int)
            }
            None => Ok(n as c_int),
        }
    })
}

/// Close an object: detach its links, close every map and program fd. Its
/// program, map and link handles become stale. A second close gives -EBADF.
#[no_mangle]
pub extern "C" fn bpfl_object_close(obj: bpfl_object) -> c_int {
    guard(|| {
        close_object(obj.id)?;
        Ok(0)
    })
}

/// The object's name.
///
/// # Safety
/// `buf` is NULL or `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_name(obj: bpfl_object, buf: *mut c_char, len: usize) -> c_int {
    guard(|| {
        let cell = handles::object(obj.id)?;
        let name = cell.lock()?.name().to_string();
        let b = bytes_mut(buf as *mut c_void, len, "buf")?;
        if b.len() <= name.len() {
            return Err(Error::new(crate::error::ErrorKind::InvalidArgument, libc::ENOSPC, format!("buffer of {len} bytes is too small for '{name}'")));
        }
        b[..name.len()].copy_from_slice(name.as_bytes());
        b[name.len()] = 0;
        Ok(0)
    })
}

/// # Safety
/// `out_n` is NULL or a writable `usize`.
unsafe fn count(obj: bpfl_object, out_n: *mut usize, programs: bool) -> c_int {
    guard(|| {
        let o = out(out_n, "out")?;
        let cell = handles::object(obj.id)?;
        let ch = cell.children.lock();
        *o = if programs { ch.programs.len() } else { ch.maps.len() };
        Ok(0)
    })
}

fn child_at(obj: bpfl_object, idx: usize, programs: bool) -> Result<u64> {
    let cell = handles::object(obj.id)?;
    let ch = cell.children.lock();
    let v = if programs { &ch.programs } else { &ch.maps };
    v.get(idx).copied().ok_or_else(|| Error::inval(format!("index {idx} is out of range (the object has {})", v.len())))
}

/// Number of programs in the object.
///
/// # Safety
/// `out_n` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_program_count(obj: bpfl_object, out_n: *mut usize) -> c_int {
    count(obj, out_n, true)
}

/// Number of maps in the object (global data included).
///
/// # Safety
/// `out_n` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_map_count(obj: bpfl_object, out_n: *mut usize) -> c_int {
    count(obj, out_n, false)
}

/// Program number `idx` of the object.
///
/// # Safety
/// `out_prog` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_program_at(obj: bpfl_object, idx: usize, out_prog: *mut bpfl_program) -> c_int {
    guard(|| {
        let o = out(out_prog, "out_prog")?;
        o.id = child_at(obj, idx, true)?;
        Ok(0)
    })
}

/// Map number `idx` of the object.
///
/// # Safety
/// `out_map` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_map_at(obj: bpfl_object, idx: usize, out_map: *mut bpfl_map) -> c_int {
    guard(|| {
        let o = out(out_map, "out_map")?;
        o.id = child_at(obj, idx, false)?;
        Ok(0)
    })
}

/// The program named `name` (its C function name); -ENOENT if none.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out_prog` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_find_program(obj: bpfl_object, name: *const c_char, out_prog: *mut bpfl_program) -> c_int {
    guard(|| {
        let name = str_arg(name, "name")?;
        let o = out(out_prog, "out_prog")?;
        let cell = handles::object(obj.id)?;
        let ob = cell.lock()?;
        let i = ob.programs().iter().position(|p| p.name() == name).ok_or_else(|| Error::not_found(format!("object '{}' has no program '{name}'", ob.name())))?;
        o.id = cell.children.lock().programs[i];
        Ok(0)
    })
}

/// The map named `name` (global data: ".data", ".rodata", ".bss"); -ENOENT if none.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out_map` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_find_map(obj: bpfl_object, name: *const c_char, out_map: *mut bpfl_map) -> c_int {
    guard(|| {
        let name = str_arg(name, "name")?;
        let o = out(out_map, "out_map")?;
        let cell = handles::object(obj.id)?;
        let ob = cell.lock()?;
        let i = ob.maps().iter().position(|m| m.name() == name).ok_or_else(|| Error::not_found(format!("object '{}' has no map '{name}'", ob.name())))?;
        o.id = cell.children.lock().maps[i];
        Ok(0)
    })
}
