//! The C ABI: `extern "C"` functions over validated handles. Every function
//! returns 0 (or a count) or a negative errno, sets the thread's last error
//! message on failure, and never lets a panic cross into C.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod buffers;
pub mod handles;

use crate::attach::{KprobeOptions, ProbeMode, UprobeOptions};
use crate::error::{Error, Result};
use crate::map::Map;
use crate::object::{LoadOptions, Object, OpenOptions};
use handles::{Children, Entry, Kind, ObjCell};
use parking_lot::Mutex;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Flags of `bpfl_map_update` (the kernel's BPF_ANY, BPF_NOEXIST, BPF_EXIST).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_update_flags {
    /// Create or update.
    BPFL_ANY = 0,
    /// Create only; -EEXIST if the key exists.
    BPFL_NOEXIST = 1,
    /// Update only; -ENOENT if the key is absent.
    BPFL_EXIST = 2,
}

/// An open BPF object (ELF file). 0 is the null handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_object {
    pub id: u64,
}
/// A program of an object. Valid until its object is closed.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_program {
    pub id: u64,
}
/// A map: of an object (valid until the object is closed) or opened from a pin.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_map {
    pub id: u64,
}
/// An attachment of a program. Destroying it detaches the program.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_link {
    pub id: u64,
}

/// Log levels for `bpfl_set_log_callback`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_log_level {
    BPFL_LOG_ERROR = 0,
    BPFL_LOG_WARN = 1,
    BPFL_LOG_INFO = 2,
    BPFL_LOG_DEBUG = 3,
}

/// kprobe mechanisms for `bpfl_kprobe_opts.mode`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_probe_mode {
    /// The perf kprobe PMU where the kernel has it, else tracefs `kprobe_events`.
    BPFL_PROBE_AUTO = 0,
    /// Only the perf kprobe PMU.
    BPFL_PROBE_PMU = 1,
    /// Only tracefs `kprobe_events`.
    BPFL_PROBE_LEGACY = 2,
}

/// Options of `bpfl_object_open_file` / `bpfl_object_open_mem`. Set `sz` to `sizeof(struct bpfl_open_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_open_opts {
    pub sz: usize,
    /// Object name (prefix of global data map names in the kernel); NULL: from the file name.
    pub object_name: *const c_char,
    /// Directory for `LIBBPF_PIN_BY_NAME` maps; NULL: `/sys/fs/bpf`.
    pub pin_root_path: *const c_char,
}

/// Options of `bpfl_object_load`. Set `sz` to `sizeof(struct bpfl_load_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_load_opts {
    pub sz: usize,
    /// Verifier log level for every program (0: a log only when a program is rejected).
    pub log_level: u32,
    /// `kern_version` given to the kernel; 0: the running kernel's (whatever the object's `version` says).
    pub kern_version: u32,
}

/// Options of `bpfl_program_attach_kprobe`. Set `sz` to `sizeof(struct bpfl_kprobe_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_kprobe_opts {
    pub sz: usize,
    /// Offset into the function.
    pub offset: u64,
    /// Attach at return (kretprobe).
    pub retprobe: bool,
    /// A `bpfl_probe_mode`.
    pub mode: u32,
}

/// Options of `bpfl_program_attach_uprobe`. Set `sz` to `sizeof(struct bpfl_uprobe_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_uprobe_opts {
    pub sz: usize,
    /// Added to the function's address; with no function, the file offset.
    pub offset: u64,
    /// Attach at return (uretprobe).
    pub retprobe: bool,
    /// Only this process; 0 or -1: every process that runs the binary.
    pub pid: i32,
}

/// What `bpfl_program_info` reports. Set `sz` to `sizeof(struct bpfl_program_info)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_program_info {
    pub sz: usize,
    /// Function name; valid while the object is open.
    pub name: *const c_char,
    /// ELF section; valid while the object is open.
    pub section: *const c_char,
    /// `enum bpf_prog_type` (0 for a section bpfl does not know).
    pub prog_type: u32,
    /// `enum bpf_attach_type` given at load.
    pub expected_attach_type: u32,
    /// File descriptor once loaded, else -1.
    pub fd: i32,
    /// Instructions (after linking, once loaded).
    pub insn_cnt: u32,
}

/// What `bpfl_map_info` reports. Set `sz` to `sizeof(struct bpfl_map_info)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_map_info {
    pub sz: usize,
    /// Map name (".data", ".rodata", ".bss" for global data); valid while the map handle is.
    pub name: *const c_char,
    /// `enum bpf_map_type`.
    pub map_type: u32,
    pub key_size: u32,
    /// Declared value size (per-CPU maps: of one CPU's value).
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// File descriptor once created, else -1.
    pub fd: i32,
}

/// Log callback: `level` is a `bpfl_log_level`, `msg` a NUL-terminated line.
pub type bpfl_log_fn = Option<unsafe extern "C" fn(level: c_int, msg: *const c_char, ctx: *mut c_void)>;

/// The last error of a thread. A missing key is an everyday outcome of
/// lookups and the end of every iteration, so its message is only written
/// when someone asks for it: the hot path stores two words.
enum LastError {
    Msg(CString),
    /// -ENOENT from a map call: (map handle, what was missing).
    Missing(u64, &'static str),
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const { RefCell::new(LastError::Missing(0, "")) };
}

fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = LastError::Msg(c));
}

/// Return -ENOENT for a key that is not in map `h`, with a message made on demand.
fn missing(h: u64, what: &'static str) -> Result<c_int> {
    LAST_ERROR.with(|l| *l.borrow_mut() = LastError::Missing(h, what));
    Ok(-libc::ENOENT)
}

/// Run an export's body: errors become negative errnos with a message, panics become -EIO.
fn guard(f: impl FnOnce() -> Result<c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_last_error(e.message());
            -e.errno().max(1)
        }
        Err(p) => {
            let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
            set_last_error(&format!("internal error in bpfl (please report): panic: {what}"));
            -libc::EIO
        }
    }
}

unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    CStr::from_ptr(p).to_str().map_err(|_| Error::inval(format!("{what} is not valid UTF-8")))
}

unsafe fn opt_str(p: *const c_char, what: &str) -> Result<Option<String>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, what).map(|s| Some(s.to_string()))
    }
}

fn out<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: non-null checked; the caller promises it points to a T.
    unsafe { p.as_mut() }.ok_or_else(|| Error::inval(format!("{what} is NULL")))
}

unsafe fn bytes_arg<'a>(p: *const c_void, len: usize, what: &str) -> Result<&'a [u8]> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    Ok(std::slice::from_raw_parts(p as *const u8, len))
}

unsafe fn bytes_mut<'a>(p: *mut c_void, len: usize, what: &str) -> Result<&'a mut [u8]> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    Ok(std::slice::from_raw_parts_mut(p as *mut u8, len))
}

/// Read an options struct whose first field is its size: fields the caller
/// does not know of stay at their defaults; fields we do not know of must be zero.
unsafe fn read_opts<T: Copy>(p: *const T, default: T, what: &str) -> Result<T> {
    if p.is_null() {
        return Ok(default);
    }
    let sz = *(p as *const usize);
    let ours = std::mem::size_of::<T>();
    if sz < std::mem::size_of::<usize>() {
        return Err(Error::inval(format!("{what}.sz is {sz}: set it to sizeof(struct {what})")));
    }
    if sz > ours {
        let extra = std::slice::from_raw_parts((p as *const u8).add(ours), sz - ours);
        if extra.iter().any(|&b| b != 0) {
            return Err(Error::new(crate::error::ErrorKind::InvalidArgument, libc::E2BIG, format!("{what} sets fields this bpfl does not know ({sz} > {ours} bytes)")));
        }
    }
    let mut v = default;
    std::ptr::copy_nonoverlapping(p as *const u8, &mut v as *mut T as *mut u8, sz.min(ours));
    Ok(v)
}

/// Write an info struct the caller sized with `sz`.
unsafe fn write_info<T: Copy>(p: *mut T, v: T, what: &str) -> Result<()> {
    if p.is_null() {
        return Err(Error::inval(format!("{what} is NULL")));
    }
    let sz = *(p as *const usize);
    if sz < std::mem::size_of::<usize>() {
        return Err(Error::inval(format!("{what}.sz is {sz}: set it to sizeof(struct {what})")));
    }
    let n = sz.min(std::mem::size_of::<T>());
    std::ptr::copy_nonoverlapping(&v as *const T as *const u8, p as *mut u8, n);
    *(p as *mut usize) = sz;
    Ok(())
}

/// The library version, "MAJOR.MINOR.PATCH".
#[no_mangle]
pub extern "C" fn bpfl_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The message of the last failure on this thread ("" if none). Valid until
/// the next failing bpfl call on this thread.
#[no_mangle]
pub extern "C" fn bpfl_last_error() -> *const c_char {
    LAST_ERROR.with(|l| {
        let mut l = l.borrow_mut();
        if let LastError::Missing(h, what) = *l {
            let msg = if h == 0 {
                String::new()
            } else {
                let name = handles::with_map(h, |m| Ok(m.name().to_string())).unwrap_or_else(|_| "?".into());
                format!("map '{name}': {what}")
            };
            *l = LastError::Msg(CString::new(msg).unwrap_or_default());
        }
        match &*l {
            LastError::Msg(c) => c.as_ptr(),
            LastError::Missing(..) => unreachable!("materialised above"),
        }
    })
}

struct CbCtx(*mut c_void);
impl CbCtx {
    fn get(&self) -> *mut c_void {
        self.0
    }
}
// SAFETY: the caller of bpfl_set_log_callback promises ctx may be used from any thread.
unsafe impl Send for CbCtx {}
unsafe impl Sync for CbCtx {}

/// Send log messages up to `max_level` (a `bpfl_log_level`) to `fn(level, msg, ctx)`;
/// NULL restores the default (stderr when `BPFL_LOG=error|warn|info|debug` is set).
/// The callback may be called from any thread that calls bpfl.
#[no_mangle]
pub extern "C" fn bpfl_set_log_callback(cb: bpfl_log_fn, ctx: *mut c_void, max_level: c_int) -> c_int {
    guard(|| {
        let level = match max_level {
            0 => crate::log::Level::Error,
            1 => crate::log::Level::Warn,
            2 => crate::log::Level::Info,
            3 => crate::log::Level::Debug,
            _ => return Err(Error::inval(format!("log level {max_level} is not a bpfl_log_level"))),
        };
        match cb {
            None => crate::log::set_sink(None, level),
            Some(f) => {
                let ctx = CbCtx(ctx);
                crate::log::set_sink(
                    Some(Box::new(move |lvl, msg| {
                        let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
                        // SAFETY: a C function pointer the caller registered, with its own context.
                        unsafe { f(lvl as c_int, c.as_ptr(), ctx.get()) }
                    })),
                    level,
                );
            }
        }
        Ok(0)
    })
}

fn register_object(obj: Object) -> u64 {
    let progs = obj.programs().to_vec();
    let maps = obj.maps().to_vec();
    let cell = Arc::new(ObjCell { obj: Mutex::new(obj), children: Mutex::new(Children::default()) });
    let oh = handles::insert(Entry::Object(cell.clone()));
    let mut ch = cell.children.lock();
    for p in progs {
        let name = CString::new(p.name()).unwrap_or_default();
        let section = CString::new(p.section()).unwrap_or_default();
        ch.programs.push(handles::insert(Entry::Program { owner: oh, prog: p, name, section }));
    }
    for (idx, m) in maps.into_iter().enumerate() {
        let name = CString::new(m.name()).unwrap_or_default();
        ch.maps.push(handles::insert(Entry::Map { owner: Some(oh), idx, map: m, name }));
    }
    oh
}

fn open_opts(opts: *const bpfl_open_opts) -> Result<OpenOptions> {
    let o = unsafe { read_opts(opts, bpfl_open_opts { sz: 0, object_name: std::ptr::null(), pin_root_path: std::ptr::null() }, "bpfl_open_opts")? };
    Ok(OpenOptions { name: unsafe { opt_str(o.object_name, "bpfl_open_opts.object_name")? }, pin_root: unsafe { opt_str(o.pin_root_path, "bpfl_open_opts.pin_root_path")? } })
}

/// Open a BPF ELF object file: parse it, list its programs and maps. Nothing
/// is created in the kernel until `bpfl_object_load`. `opts` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_open_file(path: *const c_char, opts: *const bpfl_open_opts, out_obj: *mut bpfl_object) -> c_int {
    guard(|| {
        let path = str_arg(path, "path")?;
        let out_obj = out(out_obj, "out_obj")?;
        let o = open_opts(opts)?;
        let obj = Object::open_file(path, &o)?;
        out_obj.id = register_object(obj);
        Ok(0)
    })
}

/// Open a BPF ELF object from `len` bytes at `buf` (copied). `opts` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_open_mem(buf: *const c_void, len: usize, opts: *const bpfl_open_opts, out_obj: *mut bpfl_object) -> c_int {
    guard(|| {
        let data = bytes_arg(buf, len, "buf")?;
        let out_obj = out(out_obj, "out_obj")?;
        let o = open_opts(opts)?;
        let obj = Object::open_mem(data, &o)?;
        out_obj.id = register_object(obj);
        Ok(0)
    })
}

/// Set global variable `var` of the object's data sections (a `const volatile`
/// in `.rodata`, or `.data`/`.bss`) to `len` bytes at `val`, before load.
/// `len` must be the variable's size.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_set_rodata(obj: bpfl_object, var: *const c_char, val: *const c_void, len: usize) -> c_int {
    guard(|| {
        let var = str_arg(var, "var")?;
        let val = bytes_arg(val, len, "val")?;
        let cell = handles::object(obj.id)?;
        let mut o = cell.obj.lock();
        o.set_global(var, val)?;
        Ok(0)
    })
}

/// Create the maps, relocate and load every program. On a verifier rejection
/// the error message names the program and holds the verifier log. On any
/// failure nothing is left in the kernel and the object can be closed (or loaded again).
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_load(obj: bpfl_object, opts: *const bpfl_load_opts) -> c_int {
    guard(|| {
        let o = read_opts(opts, bpfl_load_opts { sz: 0, log_level: 0, kern_version: 0 }, "bpfl_load_opts")?;
        let cell = handles::object(obj.id)?;
        let mut ob = cell.obj.lock();
        ob.load(&LoadOptions { log_level: o.log_level, kern_version: (o.kern_version != 0).then_some(o.kern_version) })?;
        Ok(0)
    })
}

fn add_link(owner: Option<u64>, link: crate::Link) -> Result<u64> {
    let h = handles::insert(Entry::Link { owner, link: Mutex::new(Some(link)) });
    if let Some(oh) = owner {
        match handles::object(oh) {
            Ok(cell) => cell.children.lock().links.push(h),
            Err(e) => {
                // The object was closed meanwhile: undo.
                drop(handles::remove(h, Kind::Link));
                return Err(e);
            }
        }
    }
    Ok(h)
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
            let o = cell.obj.lock();
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
        let entry = handles::remove(obj.id, Kind::Object)?;
        let Entry::Object(cell) = entry else { unreachable!("kind checked") };
        let ch = std::mem::take(&mut *cell.children.lock());
        // Links first (detach), then maps and programs; dropped outside the table lock.
        handles::release(handles::remove_many(&ch.links));
        handles::release(handles::remove_many(&ch.programs));
        handles::release(handles::remove_many(&ch.maps));
        drop(cell);
        Ok(0)
    })
}

/// The object's name.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_name(obj: bpfl_object, buf: *mut c_char, len: usize) -> c_int {
    guard(|| {
        let cell = handles::object(obj.id)?;
        let name = cell.obj.lock().name().to_string();
        let b = bytes_mut(buf as *mut c_void, len, "buf")?;
        if b.len() <= name.len() {
            return Err(Error::new(crate::error::ErrorKind::InvalidArgument, libc::ENOSPC, format!("buffer of {len} bytes is too small for '{name}'")));
        }
        b[..name.len()].copy_from_slice(name.as_bytes());
        b[name.len()] = 0;
        Ok(0)
    })
}

fn count(obj: bpfl_object, out_n: *mut usize, programs: bool) -> c_int {
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
#[no_mangle]
pub extern "C" fn bpfl_object_program_count(obj: bpfl_object, out_n: *mut usize) -> c_int {
    count(obj, out_n, true)
}

/// Number of maps in the object (global data included).
#[no_mangle]
pub extern "C" fn bpfl_object_map_count(obj: bpfl_object, out_n: *mut usize) -> c_int {
    count(obj, out_n, false)
}

/// Program number `idx` of the object.
#[no_mangle]
pub extern "C" fn bpfl_object_program_at(obj: bpfl_object, idx: usize, out_prog: *mut bpfl_program) -> c_int {
    guard(|| {
        let o = out(out_prog, "out_prog")?;
        o.id = child_at(obj, idx, true)?;
        Ok(0)
    })
}

/// Map number `idx` of the object.
#[no_mangle]
pub extern "C" fn bpfl_object_map_at(obj: bpfl_object, idx: usize, out_map: *mut bpfl_map) -> c_int {
    guard(|| {
        let o = out(out_map, "out_map")?;
        o.id = child_at(obj, idx, false)?;
        Ok(0)
    })
}

/// The program named `name` (its C function name); -ENOENT if none.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_find_program(obj: bpfl_object, name: *const c_char, out_prog: *mut bpfl_program) -> c_int {
    guard(|| {
        let name = str_arg(name, "name")?;
        let o = out(out_prog, "out_prog")?;
        let cell = handles::object(obj.id)?;
        let ob = cell.obj.lock();
        let i = ob.programs().iter().position(|p| p.name() == name).ok_or_else(|| Error::not_found(format!("object '{}' has no program '{name}'", ob.name())))?;
        o.id = cell.children.lock().programs[i];
        Ok(0)
    })
}

/// The map named `name` (global data: ".data", ".rodata", ".bss"); -ENOENT if none.
#[no_mangle]
pub unsafe extern "C" fn bpfl_object_find_map(obj: bpfl_object, name: *const c_char, out_map: *mut bpfl_map) -> c_int {
    guard(|| {
        let name = str_arg(name, "name")?;
        let o = out(out_map, "out_map")?;
        let cell = handles::object(obj.id)?;
        let ob = cell.obj.lock();
        let i = ob.maps().iter().position(|m| m.name() == name).ok_or_else(|| Error::not_found(format!("object '{}' has no map '{name}'", ob.name())))?;
        o.id = cell.children.lock().maps[i];
        Ok(0)
    })
}

/// Describe a program.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_get_info(prog: bpfl_program, info: *mut bpfl_program_info) -> c_int {
    guard(|| {
        let v = handles::with(prog.id, Kind::Program, |e| match e {
            Entry::Program { prog, name, section, .. } => Ok(bpfl_program_info {
                sz: 0,
                name: name.as_ptr(),
                section: section.as_ptr(),
                prog_type: prog.prog_type(),
                expected_attach_type: prog.expected_attach_type(),
                fd: prog.fd().unwrap_or(-1),
                insn_cnt: prog.insn_count(),
            }),
            _ => unreachable!("kind checked"),
        })?;
        write_info(info, v, "bpfl_program_info")?;
        Ok(0)
    })
}

/// The program's file descriptor (owned by bpfl); -EINVAL before load.
#[no_mangle]
pub extern "C" fn bpfl_program_fd(prog: bpfl_program, out_fd: *mut c_int) -> c_int {
    guard(|| {
        let o = out(out_fd, "out_fd")?;
        let (_, p) = handles::program(prog.id)?;
        *o = p.fd()?;
        Ok(0)
    })
}

fn attach_with(prog: bpfl_program, out_link: *mut bpfl_link, f: impl FnOnce(&crate::Program) -> Result<crate::Link>) -> c_int {
    guard(|| {
        let o = out(out_link, "out_link")?;
        let (owner, p) = handles::program(prog.id)?;
        let l = f(&p)?;
        o.id = add_link(Some(owner), l)?;
        Ok(0)
    })
}

/// Attach where the program's section says (`kprobe/FUNC[+OFF]`, `kretprobe/FUNC`,
/// `tracepoint/CAT/NAME`, `tp/CAT/NAME`, `raw_tracepoint/NAME`).
#[no_mangle]
pub extern "C" fn bpfl_program_attach(prog: bpfl_program, out_link: *mut bpfl_link) -> c_int {
    attach_with(prog, out_link, |p| p.attach())
}

/// Attach a kprobe program to kernel function `func` (`opts` may be NULL).
/// Uses the perf kprobe PMU, or tracefs `kprobe_events` where the PMU is missing.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_kprobe(prog: bpfl_program, func: *const c_char, opts: *const bpfl_kprobe_opts, out_link: *mut bpfl_link) -> c_int {
    let r = (|| -> Result<KprobeOptions> {
        let o = read_opts(opts, bpfl_kprobe_opts { sz: 0, offset: 0, retprobe: false, mode: 0 }, "bpfl_kprobe_opts")?;
        let mode = match o.mode {
            0 => ProbeMode::Auto,
            1 => ProbeMode::Pmu,
            2 => ProbeMode::Legacy,
            m => return Err(Error::inval(format!("bpfl_kprobe_opts.mode {m} is not a bpfl_probe_mode"))),
        };
        Ok(KprobeOptions { offset: o.offset, retprobe: o.retprobe, mode })
    })();
    let func = str_arg(func, "func");
    attach_with(prog, out_link, |p| {
        let ko = r?;
        p.attach_kprobe(func?, &ko)
    })
}

/// Attach a kprobe-type program (section `uprobe`/`uretprobe`) to a user
/// function: `func` in the ELF file `binary` (executable or shared library;
/// a bare name is searched in PATH or the library directories), plus
/// `opts->offset`. With `func` NULL, `opts->offset` is the file offset.
/// `opts` may be NULL. Uses the perf uprobe PMU.
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_uprobe(
    prog: bpfl_program,
    binary: *const c_char,
    func: *const c_char,
    opts: *const bpfl_uprobe_opts,
    out_link: *mut bpfl_link,
) -> c_int {
    let o = read_opts(opts, bpfl_uprobe_opts { sz: 0, offset: 0, retprobe: false, pid: -1 }, "bpfl_uprobe_opts");
    let bin = str_arg(binary, "binary");
    let func = if func.is_null() { Ok(None) } else { str_arg(func, "func").map(Some) };
    attach_with(prog, out_link, |p| {
        let o = o?;
        let uo = UprobeOptions { offset: o.offset, retprobe: o.retprobe, pid: if o.pid == 0 { -1 } else { o.pid } };
        p.attach_uprobe(bin?, func?, &uo)
    })
}

/// Attach a tracepoint program to `category/name` (as in tracefs `events/`).
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_tracepoint(prog: bpfl_program, category: *const c_char, name: *const c_char, out_link: *mut bpfl_link) -> c_int {
    let (c, n) = (str_arg(category, "category"), str_arg(name, "name"));
    attach_with(prog, out_link, |p| p.attach_tracepoint(c?, n?))
}

/// Attach a raw tracepoint program to `name` (e.g. "sys_enter").
#[no_mangle]
pub unsafe extern "C" fn bpfl_program_attach_raw_tracepoint(prog: bpfl_program, name: *const c_char, out_link: *mut bpfl_link) -> c_int {
    let n = str_arg(name, "name");
    attach_with(prog, out_link, |p| p.attach_raw_tracepoint(n?))
}

/// Detach and free a link. A second call gives -EBADF.
#[no_mangle]
pub extern "C" fn bpfl_link_destroy(link: bpfl_link) -> c_int {
    guard(|| {
        let e = handles::remove(link.id, Kind::Link)?;
        if let Entry::Link { owner: Some(oh), .. } = &e {
            if let Ok(cell) = handles::object(*oh) {
                cell.children.lock().links.retain(|&h| h != link.id);
            }
        }
        if let Entry::Link { link: l, .. } = e {
            if let Some(l) = l.into_inner() {
                l.detach()?;
            }
        }
        Ok(0)
    })
}

/// The file descriptor of a link (BPF link, or the perf event it hangs on).
#[no_mangle]
pub extern "C" fn bpfl_link_fd(link: bpfl_link, out_fd: *mut c_int) -> c_int {
    guard(|| {
        let o = out(out_fd, "out_fd")?;
        *o = handles::with(link.id, Kind::Link, |e| match e {
            Entry::Link { link, .. } => Ok(link.lock().as_ref().map_or(-1, |l| l.fd())),
            _ => unreachable!("kind checked"),
        })?;
        Ok(0)
    })
}

/// Describe a map.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_get_info(map: bpfl_map, info: *mut bpfl_map_info) -> c_int {
    guard(|| {
        let v = handles::with(map.id, Kind::Map, |e| match e {
            Entry::Map { map, name, .. } => Ok(bpfl_map_info {
                sz: 0,
                name: name.as_ptr(),
                map_type: map.map_type(),
                key_size: map.key_size(),
                value_size: map.value_size(),
                max_entries: map.max_entries(),
                map_flags: map.map_flags(),
                fd: map.fd().unwrap_or(-1),
            }),
            _ => unreachable!("kind checked"),
        })?;
        write_info(info, v, "bpfl_map_info")?;
        Ok(0)
    })
}

/// The size of the value buffer lookup and update take: the value size, or
/// for per-CPU maps `round_up(value_size, 8) * possible CPUs`.
#[no_mangle]
pub extern "C" fn bpfl_map_value_buf_size(map: bpfl_map, out_size: *mut usize) -> c_int {
    guard(|| {
        let o = out(out_size, "out_size")?;
        *o = handles::with_map(map.id, |m| Ok(m.value_buf_size()))?;
        Ok(0)
    })
}

/// Look up `key`. `key_size` and `value_size` must be the map's (see
/// `bpfl_map_value_buf_size`); -ENOENT when the key is absent.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_lookup(map: bpfl_map, key: *const c_void, key_size: usize, value: *mut c_void, value_size: usize) -> c_int {
    guard(|| {
        let k = bytes_arg(key, key_size, "key")?;
        let v = bytes_mut(value, value_size, "value")?;
        handles::with_map(map.id, |m| if m.lookup(k, v)? { Ok(0) } else { missing(map.id, "no such key") })
    })
}

/// Create or update `key` (`flags`: 0 BPF_ANY, 1 BPF_NOEXIST, 2 BPF_EXIST).
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_update(map: bpfl_map, key: *const c_void, key_size: usize, value: *const c_void, value_size: usize, flags: u64) -> c_int {
    guard(|| {
        let k = bytes_arg(key, key_size, "key")?;
        let v = bytes_arg(value, value_size, "value")?;
        handles::with_map(map.id, |m| m.update(k, v, flags).map(|_| 0))
    })
}

/// Delete `key`; -ENOENT when it is absent.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_delete(map: bpfl_map, key: *const c_void, key_size: usize) -> c_int {
    guard(|| {
        let k = bytes_arg(key, key_size, "key")?;
        handles::with_map(map.id, |m| if m.delete(k)? { Ok(0) } else { missing(map.id, "no such key") })
    })
}

/// Write the key after `key` (the first key when `key` is NULL) to `next_key`;
/// -ENOENT after the last key. Both buffers are `key_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_next_key(map: bpfl_map, key: *const c_void, next_key: *mut c_void, key_size: usize) -> c_int {
    guard(|| {
        let k = if key.is_null() { None } else { Some(bytes_arg(key, key_size, "key")?) };
        let n = bytes_mut(next_key, key_size, "next_key")?;
        handles::with_map(map.id, |m| if m.next_key(k, n)? { Ok(0) } else { missing(map.id, "no more keys") })
    })
}

/// Remove every entry (hash-like maps), or zero every value (arrays).
#[no_mangle]
pub extern "C" fn bpfl_map_clear(map: bpfl_map) -> c_int {
    guard(|| handles::with_map(map.id, |m| m.clear().map(|_| 0)))
}

/// Read up to `capacity` entries: keys packed into `keys` (key_size each),
/// values into `values` (`bpfl_map_value_buf_size` each), using batch
/// syscalls where the kernel has them. `*out_count` receives the number read.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_read_all(map: bpfl_map, keys: *mut c_void, values: *mut c_void, capacity: usize, out_count: *mut usize) -> c_int {
    guard(|| {
        let o = out(out_count, "out_count")?;
        let (ks, vs) = handles::with_map(map.id, |m| Ok((m.key_size() as usize, m.value_buf_size())))?;
        let kb = bytes_mut(keys, capacity.checked_mul(ks).ok_or_else(|| Error::inval("capacity overflows"))?, "keys")?;
        let vb = bytes_mut(values, capacity.checked_mul(vs).ok_or_else(|| Error::inval("capacity overflows"))?, "values")?;
        *o = handles::with_map(map.id, |m| m.read_all(kb, vb, capacity))?;
        Ok(0)
    })
}

/// Open a map pinned on a bpffs (e.g. "/sys/fs/bpf/my_map"). Close it with `bpfl_map_close`.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_open_pinned(path: *const c_char, out_map: *mut bpfl_map) -> c_int {
    guard(|| {
        let path = str_arg(path, "path")?;
        let o = out(out_map, "out_map")?;
        let m = Map::open_pinned(path)?;
        let name = CString::new(m.name()).unwrap_or_default();
        o.id = handles::insert(Entry::Map { owner: None, idx: 0, map: Arc::new(m), name });
        Ok(0)
    })
}

/// Pin a created map at `path` on a bpffs.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_pin(map: bpfl_map, path: *const c_char) -> c_int {
    guard(|| {
        let path = str_arg(path, "path")?;
        handles::with_map(map.id, |m| m.pin(path).map(|_| 0))
    })
}

/// Set the initial contents of a global data map (`.data`, `.rodata`, `.bss`)
/// before its object is loaded; `len` must be the map's value size.
#[no_mangle]
pub unsafe extern "C" fn bpfl_map_set_initial_value(map: bpfl_map, data: *const c_void, len: usize) -> c_int {
    guard(|| {
        let d = bytes_arg(data, len, "data")?;
        let (owner, idx) = handles::with(map.id, Kind::Map, |e| match e {
            Entry::Map { owner, idx, .. } => Ok((*owner, *idx)),
            _ => unreachable!("kind checked"),
        })?;
        let oh = owner.ok_or_else(|| Error::inval("a map opened from a pin has no initial value"))?;
        let cell = handles::object(oh)?;
        let mut ob = cell.obj.lock();
        ob.set_map_initial_value(idx, d)?;
        Ok(0)
    })
}

/// Close a map opened with `bpfl_map_open_pinned`. Maps of an object are
/// closed with their object: for those this returns -EINVAL and does nothing.
#[no_mangle]
pub extern "C" fn bpfl_map_close(map: bpfl_map) -> c_int {
    guard(|| {
        let owned = handles::with(map.id, Kind::Map, |e| match e {
            Entry::Map { owner, .. } => Ok(owner.is_some()),
            _ => unreachable!("kind checked"),
        })?;
        if owned {
            return Err(Error::inval("this map belongs to an object: close the object instead"));
        }
        handles::release([handles::remove(map.id, Kind::Map)?]);
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_version_macros_match_cargo() {
        let cfg = include_str!("../../cbindgen.toml");
        for (name, v) in [("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")), ("MINOR", env!("CARGO_PKG_VERSION_MINOR")), ("PATCH", env!("CARGO_PKG_VERSION_PATCH"))] {
            assert!(cfg.contains(&format!("#define BPFL_VERSION_{name} {v}\n")), "cbindgen.toml BPFL_VERSION_{name} != {v}");
        }
        assert!(cfg.contains(&format!("#define BPFL_VERSION_STRING \"{}\"", env!("CARGO_PKG_VERSION"))));
    }
}
