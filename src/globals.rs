//! Global variables and `BPF_F_MMAPABLE` arrays without system calls.
//!
//! A global data map (`.data`, `.bss`, `.rodata` and their `.data.NAME`
//! kin) gets, on the first [`Object::find_variable`] before load, an *image*:
//! page-rounded anonymous memory holding its initial value. What is written
//! there is what the map is created with. At load, once every program is
//! in, the map (created `BPF_F_MMAPABLE`) is mapped over the image's address
//! with `MAP_FIXED`, so the same pointer now reads and writes the live map:
//! no syscall per access. `.rodata` (frozen) is mapped read-only. A map
//! that cannot be mapped (a reused or pinned map made without
//! `BPF_F_MMAPABLE`, a kernel before 5.5) has its image revoked
//! (`PROT_NONE`: an old pointer faults instead of silently reading stale
//! data) and `find_variable` says why with EOPNOTSUPP. A failed load leaves
//! images as they were (the mapping is the load's last step, and never fails it).
//!
//! The memory is shared with BPF programs running at the same time, so no
//! `&[u8]` is ever made of it (a data race on a Rust reference is undefined
//! behaviour): [`Shared`] reads and writes with volatile or atomic accesses only.

use crate::error::{Error, ErrorKind, Result};
use crate::map::Map;
use crate::obj::{map_flags, map_type as mt};
use crate::object::Object;
use crate::sys::region::Region;
use crate::sys::{self, Errno};
use parking_lot::Mutex;
use std::marker::PhantomData;
use std::os::fd::{AsFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// `BPF_F_RDONLY`: user space may not write the map.
const BPF_F_RDONLY: u32 = 1 << 3;

/// Types any bit pattern is a valid value of, with no padding and no
/// pointers: what [`Shared::get`] may read from memory BPF programs write.
///
/// # Safety
/// Implement it only for `#[repr(C)]` (or transparent) types whose every
/// byte is initialised for every value (no padding) and for which every bit
/// pattern is valid (no `bool`, `char`, enums, references or pointers).
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod {
    ($($t:ty),*) => { $(
        // SAFETY: plain integers and floats: every bit pattern is a value, no padding.
        unsafe impl Pod for $t {}
    )* };
}
pod!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);
// SAFETY: an array of Pod has no padding between its elements.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Bytes shared with BPF programs: a global variable ([`Object::find_variable`])
/// or a whole mmapable array ([`Map::mmap`]). Valid while what it was taken
/// from is borrowed; every access is volatile (or atomic), bounds-checked,
/// and refused on read-only memory (`.rodata` after load).
#[derive(Debug)]
pub struct Shared<'a> {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
    _life: PhantomData<&'a ()>,
}

/// A global variable's bytes: see [`Object::find_variable`].
pub type Variable<'a> = Shared<'a>;

// SAFETY: raw shared memory, accessed with volatile/atomic operations only.
unsafe impl Send for Shared<'_> {}
unsafe impl Sync for Shared<'_> {}

impl Shared<'_> {
    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether it may be written (false for `.rodata` after load and maps
    /// user space may not write).
    pub fn is_writable(&self) -> bool {
        self.writable
    }
    /// The address, for unsafe code and the C ABI: stable from the first
    /// `find_variable` until the object closes. Writing where
    /// [`Shared::is_writable`] is false faults.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    fn at(&self, offset: usize, n: usize, write: bool) -> Result<*mut u8> {
        if !matches!(offset.checked_add(n), Some(end) if end <= self.len) {
            return Err(Error::inval(format!("{n} bytes at offset {offset} do not fit in {} bytes", self.len)));
        }
        if write && !self.writable {
            return Err(Error::new(ErrorKind::InvalidArgument, libc::EPERM, "this memory is read-only (.rodata after load, or a map user space may not write)"));
        }
        // SAFETY: offset + n <= len, inside the region.
        Ok(unsafe { self.ptr.as_ptr().add(offset) })
    }

    /// Copy `buf.len()` bytes from `offset` into `buf` (volatile byte reads).
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        let p = self.at(offset, buf.len(), false)?;
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: p..p+buf.len() is inside the mapping (checked by `at`).
            *b = unsafe { p.add(i).read_volatile() };
        }
        Ok(())
    }

    /// Copy `data` to `offset` (volatile byte writes).
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        let p = self.at(offset, data.len(), true)?;
        for (i, &b) in data.iter().enumerate() {
            // SAFETY: inside the mapping and writable (checked by `at`).
            unsafe { p.add(i).write_volatile(b) };
        }
        Ok(())
    }

    /// Every byte, copied.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.len];
        self.read(0, &mut v).expect("in bounds");
        v
    }

    /// The value of type `T` at `offset` (one volatile read when aligned).
    pub fn get_at<T: Pod>(&self, offset: usize) -> Result<T> {
        let p = self.at(offset, std::mem::size_of::<T>(), false)? as *const T;
        if aligned(p) {
            // SAFETY: in bounds, aligned, and T: Pod takes any bytes.
            return Ok(unsafe { p.read_volatile() });
        }
        let mut v = std::mem::MaybeUninit::<T>::uninit();
        // SAFETY: the MaybeUninit is std::mem::size_of::<T>() writable bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, std::mem::size_of::<T>()) };
        self.read(offset, out)?;
        // SAFETY: every byte was written, and T: Pod takes any bytes.
        Ok(unsafe { v.assume_init() })
    }

    /// Store `v` at `offset` (one volatile write when aligned).
    pub fn set_at<T: Pod>(&self, offset: usize, v: T) -> Result<()> {
        let p = self.at(offset, std::mem::size_of::<T>(), true)? as *mut T;
        if aligned(p) {
            // SAFETY: in bounds, aligned, writable.
            unsafe { p.write_volatile(v) };
            return Ok(());
        }
        // SAFETY: a Pod value is std::mem::size_of::<T>() initialised bytes.
        let bytes = unsafe { std::slice::from_raw_parts(&v as *const T as *const u8, std::mem::size_of::<T>()) };
        self.write(offset, bytes)
    }

    fn check_size<T>(&self) -> Result<()> {
        if std::mem::size_of::<T>() != self.len {
            return Err(Error::inval(format!("a {}-byte {} does not match the variable's {} bytes", std::mem::size_of::<T>(), std::any::type_name::<T>(), self.len)));
        }
        Ok(())
    }

    /// The whole variable as a `T` (its size must be the variable's).
    pub fn get<T: Pod>(&self) -> Result<T> {
        self.check_size::<T>()?;
        self.get_at(0)
    }

    /// Set the whole variable (`T`'s size must be the variable's).
    pub fn set<T: Pod>(&self, v: T) -> Result<()> {
        self.check_size::<T>()?;
        self.set_at(0, v)
    }

    /// The `u64` at `offset` as an atomic (aligned, writable memory only):
    /// `fetch_add` from user space on a counter BPF increments too.
    pub fn atomic_u64(&self, offset: usize) -> Result<&AtomicU64> {
        let p = self.at(offset, 8, true)?;
        if !aligned(p as *const AtomicU64) {
            return Err(Error::inval(format!("offset {offset} is not 8-byte aligned")));
        }
        // SAFETY: aligned, in bounds, writable, valid for the borrow of self;
        // the memory is only ever accessed atomically or volatilely.
        Ok(unsafe { &*(p as *const AtomicU64) })
    }

    /// The `u32` at `offset` as an atomic (aligned, writable memory only).
    pub fn atomic_u32(&self, offset: usize) -> Result<&AtomicU32> {
        let p = self.at(offset, 4, true)?;
        if !aligned(p as *const AtomicU32) {
            return Err(Error::inval(format!("offset {offset} is not 4-byte aligned")));
        }
        // SAFETY: as in atomic_u64.
        Ok(unsafe { &*(p as *const AtomicU32) })
    }
}

/// What backs a map's shared memory.
#[derive(Debug, Default)]
enum State {
    /// Nothing mapped (yet).
    #[default]
    None,
    /// Before load: the data section's image, the map's initial value.
    Image(Region),
    /// The map itself, mapped.
    Live { region: Region, writable: bool },
    /// The image could not follow the map at load: kept inaccessible (old
    /// pointers fault, the address is not reused), with why.
    Revoked { _region: Region, why: String },
    /// Closed through the C ABI: unmapped.
    Closed,
}

/// A map's shared memory (a field of [`Map`]).
#[derive(Debug, Default)]
pub(crate) struct MapMem(Mutex<State>);

/// Set when map creation found the kernel without `BPF_F_MMAPABLE`.
static KERNEL_LACKS_MMAPABLE: AtomicBool = AtomicBool::new(false);

impl MapMem {
    /// Whether an image was handed out (a data map may not be resized then).
    pub(crate) fn has_image(&self) -> bool {
        matches!(*self.0.lock(), State::Image(_))
    }

    /// The image's bytes (the initial value to create the map with), if it has one.
    pub(crate) fn image_bytes(&self, len: usize) -> Option<Vec<u8>> {
        match &*self.0.lock() {
            State::Image(r) => Some(shared(r.as_ptr(), len.min(r.len()), true).to_vec()),
            _ => None,
        }
    }

    /// Write `data` at `offset` of the image, if there is one (set_global
    /// and set_map_initial_value keep it the truth).
    pub(crate) fn write_image(&self, offset: usize, data: &[u8]) {
        if let State::Image(r) = &*self.0.lock() {
            let _ = shared(r.as_ptr(), r.len(), true).write(offset, data);
        }
    }

    /// The image, made from `initial` the first time.
    fn image(&self, map: &Map, initial: Option<&[u8]>) -> Result<(*mut u8, bool)> {
        let mut s = self.0.lock();
        if let State::None = *s {
            let size = map.value_size() as usize;
            let r = Region::anon(size).map_err(|e| e.error(format!("map '{}': allocating its image", map.name())))?;
            if let Some(d) = initial {
                shared(r.as_ptr(), size, true).write(0, &d[..d.len().min(size)])?;
            }
            *s = State::Image(r);
        }
        match &*s {
            State::Image(r) => Ok((r.as_ptr(), true)),
            _ => Err(map_not_created(map)),
        }
    }

    /// The live mapping, made the first time (after load).
    fn live(&self, map: &Map, variable: bool) -> Result<(*mut u8, bool)> {
        let mut s = self.0.lock();
        if let State::None = *s {
            let fd = map_fd(map)?;
            let want_writable = mmap_mode(map, &fd, variable)?;
            let (region, writable) = map_shared(map, &fd, mmap_len(map), want_writable)?;
            *s = State::Live { region, writable };
        }
        match &*s {
            State::Live { region, writable } => Ok((region.as_ptr(), *writable)),
            State::Revoked { why, .. } => Err(Error::new(ErrorKind::Unsupported, if variable { libc::EOPNOTSUPP } else { libc::EINVAL }, why.clone())),
            State::Closed => Err(Error::bad_handle(format!("map '{}' is closed", map.name()))),
            State::None | State::Image(_) => Err(map_not_created(map)),
        }
    }

    /// At the end of a load: map the kernel's map over the image, if there is
    /// one. Never fails the load: a map that cannot be mapped has its image
    /// revoked, with why (said by the next find_variable).
    fn map_over_image(&self, map: &Map) {
        let mut s = self.0.lock();
        let State::Image(mut region) = std::mem::take(&mut *s) else { return };
        let r = (|| {
            let fd = map_fd(map)?;
            let want_writable = mmap_mode(map, &fd, true)?;
            // Probe first (a failed MAP_FIXED may leave the range unmapped),
            // which also finds whether the kernel lets us write it.
            let (_probe, writable) = map_shared(map, &fd, region.len(), want_writable)?;
            region.map_over(fd.as_fd(), writable).map_err(|e| mmap_error(map, e))?;
            Ok::<bool, Error>(writable)
        })();
        *s = match r {
            Ok(writable) => State::Live { region, writable },
            Err(e) => {
                let why = format!("{}: pointers find_variable gave into its image before load are revoked (accessing them faults); read and write the map with lookup/update", e.message());
                crate::log::warn(&why);
                let _ = region.revoke();
                State::Revoked { _region: region, why }
            }
        };
    }

    /// Unmap now (the C ABI closing the map's handle; its pointers are invalid from now on).
    pub(crate) fn close(&self) {
        *self.0.lock() = State::Closed;
    }
}

fn aligned<T>(p: *const T) -> bool {
    p as usize % std::mem::align_of::<T>() == 0
}

fn shared<'a>(p: *mut u8, len: usize, writable: bool) -> Shared<'a> {
    Shared { ptr: NonNull::new(p).expect("mapped"), len, writable, _life: PhantomData }
}

/// The map's fd for mmap; a map left out of the load says so.
fn map_fd(map: &Map) -> Result<OwnedFd> {
    if map.fd().is_err() && !map.autocreate() {
        return Err(Error::inval(format!("map '{}' was not created (its autocreate is off)", map.name())));
    }
    map.dup_fd()
}

fn map_not_created(map: &Map) -> Error {
    Error::inval(format!("map '{}' is not created yet: load the object first", map.name()))
}

fn mmap_error(map: &Map, e: Errno) -> Error {
    e.error(format!("map '{}': mmap", map.name()))
}

/// Map `fd` where the kernel chooses: writable if wanted and allowed (a
/// frozen map refuses a writable mapping with EPERM), else read-only.
fn map_shared(map: &Map, fd: &OwnedFd, len: usize, want_writable: bool) -> Result<(Region, bool)> {
    if want_writable {
        match Region::map_shared(fd.as_fd(), len, true) {
            Ok(r) => return Ok((r, true)),
            Err(Errno(libc::EPERM | libc::EACCES)) => {}
            Err(e) => return Err(mmap_error(map, e)),
        }
    }
    Region::map_shared(fd.as_fd(), len, false).map(|r| (r, false)).map_err(|e| mmap_error(map, e))
}

/// `round_up(value_size, 8) * max_entries`: the bytes of an array's values
/// as the kernel lays them out for mmap (each value 8-byte aligned).
fn mmap_len(map: &Map) -> usize {
    (map.value_size() as usize + 7) / 8 * 8 * map.max_entries() as usize
}

/// Whether the map in the kernel can be mmap'd, and writable: asked of the
/// kernel (a reused or pinned map has its own flags).
fn mmap_mode(map: &Map, fd: &OwnedFd, variable: bool) -> Result<bool> {
    let info = sys::map_info(fd.as_fd()).map_err(|e| e.error(format!("map '{}': info", map.name())))?;
    let errno = if variable { libc::EOPNOTSUPP } else { libc::EINVAL };
    if info.map_type != mt::ARRAY {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            errno,
            format!("map '{}' is a {}: only a BPF_MAP_TYPE_ARRAY created with BPF_F_MMAPABLE can be mmap'd", map.name(), crate::obj::MapType(info.map_type)),
        ));
    }
    if info.map_flags & map_flags::MMAPABLE == 0 {
        let why = if KERNEL_LACKS_MMAPABLE.load(Ordering::Relaxed) {
            "this kernel has no mmapable arrays (BPF_F_MMAPABLE needs Linux 5.5)".to_string()
        } else {
            "it was created without BPF_F_MMAPABLE (its map_flags, or the pinned or reused map it is)".to_string()
        };
        return Err(Error::new(if variable { ErrorKind::Unsupported } else { ErrorKind::InvalidArgument }, errno, format!("map '{}' cannot be mmap'd: {why}", map.name())));
    }
    // Frozen maps (.rodata, .kconfig) and BPF_F_RDONLY maps map read-only.
    let frozen = map.data_section().is_some_and(|s| s.starts_with(".rodata") || s == ".kconfig");
    Ok(!frozen && info.map_flags & BPF_F_RDONLY == 0)
}

/// `BPF_MAP_CREATE` for an object's map: a global data map on a kernel
/// without `BPF_F_MMAPABLE` (before 5.5) is created without it.
pub(crate) fn map_create(p: &mut sys::MapCreate<'_>, data: bool) -> sys::SysResult<OwnedFd> {
    match sys::map_create(p) {
        Err(Errno(libc::EINVAL)) if data && p.map_flags & map_flags::MMAPABLE != 0 && !kernel_has_mmapable() => {
            crate::log::debug("the kernel has no BPF_F_MMAPABLE (Linux 5.5): global data maps are created without it (reached by syscalls only)");
            KERNEL_LACKS_MMAPABLE.store(true, Ordering::Relaxed);
            p.map_flags &= !map_flags::MMAPABLE;
            sys::map_create(p)
        }
        r => r,
    }
}

/// Whether the kernel takes `BPF_F_MMAPABLE` (asked once, only after a refusal).
fn kernel_has_mmapable() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        let p = sys::MapCreate { map_type: mt::ARRAY, key_size: 4, value_size: 8, max_entries: 1, map_flags: map_flags::MMAPABLE, name: "bpfl_mmap_probe", ..Default::default() };
        !matches!(sys::map_create(&p), Err(Errno(libc::EINVAL)))
    })
}

impl Map {
    /// The section of a global data map (`.data`, `.rodata.str`, ...), if it is one.
    fn data_section(&self) -> Option<&str> {
        let n = self.name();
        [".data", ".bss", ".rodata", ".kconfig"].iter().any(|p| n == *p || n.strip_prefix(p).is_some_and(|r| r.starts_with('.'))).then_some(n)
    }

    /// The map's values in shared memory, after load: a `BPF_MAP_TYPE_ARRAY`
    /// created with `BPF_F_MMAPABLE` (global data maps are), mapped once and
    /// kept until the map is dropped. Its length is
    /// `round_up(value_size, 8) * max_entries`: value `i` is at `i *
    /// round_up(value_size, 8)`. Read-only for `.rodata` and `BPF_F_RDONLY` maps.
    pub fn mmap(&self) -> Result<Shared<'_>> {
        let (p, writable) = self.mem.live(self, false)?;
        Ok(shared(p, mmap_len(self), writable))
    }
}

impl Object {
    /// Global variable `name` of a `.data*`, `.bss*` or `.rodata*` section,
    /// read and written in place. Before load it is the section's image:
    /// what is written becomes the initial value. At load the map is mapped
    /// over that same address, so the pointer ([`Shared::as_ptr`]) stays the
    /// same from the first call until the object is dropped and, after load,
    /// reaches the live map with no syscall (`.rodata` read-only). After load,
    /// a map that cannot be mmap'd gives `ErrorKind::Unsupported` (EOPNOTSUPP).
    pub fn find_variable(&self, name: &str) -> Result<Variable<'_>> {
        let v = self.file().global_var(name).ok_or_else(|| {
            Error::not_found(format!("object '{}' has no global variable '{name}' (in .data, .bss, .rodata or a .data.*/.bss.*/.rodata.* section)", self.name()))
        })?;
        let map = &self.maps()[v.map];
        let (base, writable) = if self.is_loaded() { map.mem.live(map, true)? } else { map.mem.image(map, self.file().maps[v.map].data.as_deref())? };
        let (off, size) = (v.offset as usize, v.size as usize);
        if off + size > map.value_size() as usize {
            return Err(Error::parse(format!("global variable '{name}' lies outside its section")));
        }
        // SAFETY: off + size is within the map's value, inside the mapping.
        Ok(shared(unsafe { base.add(off) }, size, writable))
    }

    /// The last step of a load: every data map with an image is mapped over it.
    pub(crate) fn map_images(maps: &[Arc<Map>]) {
        for m in maps {
            m.mem.map_over_image(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_memory_accessors_check_bounds_alignment_and_writability() {
        let r = Region::anon(64).unwrap();
        let s = shared(r.as_ptr(), 16, true);
        s.set_at(0, 0x1122_3344_5566_7788u64).unwrap();
        assert_eq!(s.get_at::<u64>(0).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(s.get_at::<u32>(1).unwrap(), 0x5566_7788u32 >> 8 | 0x44 << 24, "unaligned reads copy bytes");
        s.set_at(3, 0xaabbu16).unwrap();
        let mut b = [0u8; 2];
        s.read(3, &mut b).unwrap();
        assert_eq!(b, 0xaabbu16.to_ne_bytes());
        assert_eq!(s.get_at::<u64>(9).unwrap_err().errno(), libc::EINVAL, "past the end");
        assert_eq!(s.read(usize::MAX, &mut b).unwrap_err().errno(), libc::EINVAL, "offset overflow");
        assert_eq!(s.get::<u64>().unwrap_err().errno(), libc::EINVAL, "get needs the whole size");
        assert_eq!(s.get::<[u64; 2]>().unwrap()[1], 0);
        assert_eq!(s.atomic_u64(4).unwrap_err().errno(), libc::EINVAL, "misaligned atomic");
        s.atomic_u64(8).unwrap().fetch_add(5, Ordering::Relaxed);
        assert_eq!(s.get_at::<u64>(8).unwrap(), 5);
        let ro = shared(r.as_ptr(), 16, false);
        assert_eq!(ro.get_at::<u64>(8).unwrap(), 5);
        assert_eq!(ro.set_at(8, 1u64).unwrap_err().errno(), libc::EPERM);
        assert_eq!(ro.write(0, &[1]).unwrap_err().errno(), libc::EPERM);
        assert_eq!(ro.atomic_u32(0).unwrap_err().errno(), libc::EPERM);
    }
}
