//! Maps in the kernel: typed-size access with every size checked before the
//! syscall, iteration, batch reads, clearing, pinning.

use crate::error::{Error, Result};
use crate::obj::{map_type as mt, MapOrigin, MapSpec, MapType};
use crate::host::cpus::possible_cpus;
use crate::sys::{self, Errno};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use crate::quiesce;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicUsize, Ordering};
use crate::map_setup::MapSetup;

/// `BPF_ANY`: create or update.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create only.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: update only.
pub const BPF_EXIST: u64 = 2;

/// A map: its attributes, and once created or opened, its file descriptor.
#[derive(Debug)]
pub struct Map {
    name: String,
    map_type: u32,
    pub(crate) key_size: AtomicU32,
    pub(crate) value_size: AtomicU32,
    /// [`Map::value_buf_size`], kept with `value_size` (see [`Map::store_value_size`]);
    /// `usize::MAX` for a per-CPU map when the number of possible CPUs is unknown.
    pub(crate) value_buf: AtomicUsize,
    pub(crate) max_entries: AtomicU32,
    pub(crate) map_flags: AtomicU32,
    /// What the user set between open and load (see `map_setup.rs`).
    pub(crate) setup: Mutex<MapSetup>,
    /// Set while the object loads, once it is loaded, and for maps opened from a pin.
    pub(crate) sealed: AtomicBool,
    /// The fd readers use (-1: none), valid inside a [`quiesce::with_read`] section.
    fd: AtomicI32,
    /// Owner of that fd: replaced only by [`Map::set_fd`] and [`Map::reset_all`].
    owned: Mutex<Option<OwnedFd>>,
    /// A struct_ops map's value, made at load (it holds the programs' fds).
    struct_ops_value: Mutex<Option<Vec<u8>>>,
    /// Its values in shared memory, once mapped (`globals.rs`).
    pub(crate) mem: crate::globals::MapMem,
}

fn is_percpu(t: u32) -> bool {
    matches!(t, mt::PERCPU_HASH | mt::PERCPU_ARRAY | mt::LRU_PERCPU_HASH | mt::PERCPU_CGROUP_STORAGE)
}

/// A per-CPU value buffer: each CPU's value padded to 8 bytes, for `cpus` CPUs.
fn percpu_buf(value_size: u32, cpus: usize) -> usize {
    (value_size as usize).div_ceil(8) * 8 * cpus
}

/// The value buffer size of a map of type `t` with values of `value_size`
/// bytes; `usize::MAX` (no buffer matches) when it is per-CPU and the
/// number of possible CPUs is unknown.
fn value_buf(t: u32, value_size: u32) -> usize {
    if !is_percpu(t) {
        return value_size as usize;
    }
    crate::host::cpus::possible_cpus_known().map_or(usize::MAX, |n| percpu_buf(value_size, n))
}

fn is_array_like(t: u32) -> bool {
    matches!(t, mt::ARRAY | mt::PERCPU_ARRAY | mt::PERF_EVENT_ARRAY)
}

impl Map {
    pub(crate) fn new(name: &str, map_type: u32, key_size: u32, value_size: u32, max_entries: u32, map_flags: u32) -> Map {
        Map {
            name: name.to_string(),
            map_type,
            key_size: AtomicU32::new(key_size),
            value_size: AtomicU32::new(value_size),
            value_buf: AtomicUsize::new(value_buf(map_type, value_size)),
            max_entries: AtomicU32::new(max_entries),
            map_flags: AtomicU32::new(map_flags),
            setup: Mutex::new(MapSetup::default()),
            sealed: AtomicBool::new(false),
            fd: AtomicI32::new(-1),
            owned: Mutex::new(None),
            struct_ops_value: Mutex::new(None),
            mem: Default::default(),
        }
    }

    pub(crate) fn set_fd(&self, fd: OwnedFd) {
        let mut owned = self.owned.lock();
        let raw = fd.as_raw_fd();
        let old = owned.replace(fd);
        self.fd.store(raw, Ordering::Release);
        if old.is_some() {
            quiesce::synchronize();
        }
        drop(old);
    }

    /// Close the fds of several maps (a failed load undoes itself, a closed
    /// handle lets go at once), waiting once for operations in flight.
    pub(crate) fn set_struct_ops_value(&self, v: Vec<u8>) {
        *self.struct_ops_value.lock() = Some(v);
    }

    pub(crate) fn struct_ops_value(&self) -> Option<Vec<u8>> {
        self.struct_ops_value.lock().clone()
    }

    pub(crate) fn reset_all<'a>(maps: impl IntoIterator<Item = &'a Map>) {
        let mut closing = Vec::new();
        for m in maps {
            if let Some(fd) = m.owned.lock().take() {
                m.fd.store(-1, Ordering::Release);
                closing.push(fd);
            }
        }
        if !closing.is_empty() {
            // Operations in flight finish with the old fds before they are
            // closed (their numbers could otherwise be reused under them).
            quiesce::synchronize();
        }
    }

    /// Set the value size (before the map is created), and with it the value buffer size.
    pub(crate) fn store_value_size(&self, size: u32) {
        self.value_size.store(size, Ordering::Relaxed);
        self.value_buf.store(value_buf(self.map_type, size), Ordering::Relaxed);
    }

    /// [`Map::with_fd`] for the hot path: None when the map has no fd, or
    /// this thread has no fast read section (the general path then runs).
    #[inline(always)]
    pub(crate) fn with_fd_fast<T>(&self, f: impl FnOnce(BorrowedFd<'_>) -> T) -> Option<T> {
        quiesce::try_with_read(|| match self.fd.load(Ordering::Acquire) {
            // SAFETY: as in `with_fd`.
            fd if fd >= 0 => Some(f(unsafe { BorrowedFd::borrow_raw(fd) })),
            _ => None,
        })
        .flatten()
    }

    /// Run `f` with the fd, holding it open for the duration (a concurrent
    /// close waits; concurrent operations do not wait for each other).
    #[inline]
    pub(crate) fn with_fd<T>(&self, f: impl FnOnce(BorrowedFd<'_>) -> Result<T>) -> Result<T> {
        quiesce::with_read(|| match self.fd.load(Ordering::Acquire) {
            // SAFETY: a published fd stays open until every read section that
            // saw it has ended (set_fd and reset_all synchronise before closing).
            fd if fd >= 0 => f(unsafe { BorrowedFd::borrow_raw(fd) }),
            _ => Err(self.not_created()),
        })
    }

    fn not_created(&self) -> Error {
        Error::inval(format!("map '{}' is not created yet: load the object first", self.name))
    }

    /// Bring an object's map into the kernel: reuse the map pinned at `pin`
    /// when there is one (it must match the definition), else create it (with
    /// the object's BTF types when the kernel takes them), fill it with
    /// `initial` (global data), freeze read-only data, and pin it at `pin`.
    /// Returns the path it pinned, for a failed load to undo.
    pub(crate) fn create(
        &self,
        spec: &MapSpec,
        inner: Option<OwnedFd>,
        btf: Option<BorrowedFd<'_>>,
        initial: Option<&[u8]>,
        pin: Option<String>,
    ) -> Result<Option<String>> {
        let what = format!("map '{}'", spec.name);
        if let Some(path) = pin.as_deref().filter(|p| std::path::Path::new(p).exists()) {
            return self.reuse_pinned(spec, path).map(|()| None).map_err(|e| e.context(&what));
        }
        let numa_node = self.setup.lock().numa_node.unwrap_or(spec.numa_node);
        let mut p = sys::MapCreate {
            map_type: spec.map_type.as_u32(),
            key_size: self.key_size(),
            value_size: self.value_size(),
            max_entries: self.max_entries(),
            map_flags: self.map_flags(),
            inner_map_fd: inner.as_ref().map(|f| f.as_fd()),
            numa_node,
            name: &spec.kernel_name,
            btf_fd: None,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
            map_extra: spec.map_extra,
            btf_vmlinux_value_type_id: 0,
        };
        // Sizes changed from the definition no longer match its BTF types: create without them.
        let resized = (self.key_size(), self.value_size()) != (spec.key_size, spec.value_size);
        // The kernel refuses a key type without a value type (a prog array's `__array` values).
        let typed = spec.btf_value_type_id != 0;
        if btf.is_some() && !resized && typed && spec.map_type.takes_btf_key_value() {
            p.btf_fd = btf;
            p.btf_key_type_id = spec.btf_key_type_id;
            p.btf_value_type_id = spec.btf_value_type_id;
        }
        let data = matches!(spec.origin, MapOrigin::Data(_));
        let fd = match crate::globals::map_create(&mut p, data) {
            Ok(fd) => fd,
            Err(e) if p.btf_fd.is_some() => {
                crate::log::debug(&format!("{what}: creation with BTF types failed ({e}); retrying without"));
                p.btf_fd = None;
                p.btf_key_type_id = 0;
                p.btf_value_type_id = 0;
                crate::globals::map_create(&mut p, data).map_err(|e| create_error(e, &what, &p))?
            }
            Err(e) => return Err(create_error(e, &what, &p)),
        };
        self.set_fd(fd);
        if let MapOrigin::Data(sec) = &spec.origin {
            if let Some(d) = initial {
                self.update(&0u32.to_le_bytes(), d, 0).map_err(|e| e.context(format!("initialising '{sec}'")))?;
            }
            if sec.starts_with(".rodata") || sec == ".kconfig" {
                self.freeze()?;
            }
        }
        if let Some(path) = &pin {
            self.pin(path)?;
        }
        Ok(pin)
    }

    /// Take the map pinned at `path` as this one, if it matches the definition.
    fn reuse_pinned(&self, spec: &MapSpec, path: &str) -> Result<()> {
        let existing = Map::open_pinned(path)?;
        self.check_compatible(&existing, &format!("the map pinned at '{path}'"))?;
        crate::log::info(&format!("map '{}': reusing the map pinned at '{path}'", spec.name));
        let fd = existing.dup_fd()?;
        self.set_fd(fd);
        Ok(())
    }

    /// Refuse an existing map (pinned, or given with reuse_fd) that is not what this one is set up as.
    pub(crate) fn check_compatible(&self, existing: &Map, what: &str) -> Result<()> {
        let have = (existing.map_type, existing.key_size(), existing.value_size(), existing.max_entries());
        let want = (self.map_type, self.key_size(), self.value_size(), self.max_entries());
        if have != want {
            return Err(Error::inval(format!(
                "{what} does not match the definition (type/key/value/max_entries {}/{}/{}/{} vs {}/{}/{}/{})",
                MapType(have.0),
                have.1,
                have.2,
                have.3,
                MapType(want.0),
                want.1,
                want.2,
                want.3
            )));
        }
        Ok(())
    }

    /// Open a map pinned on a bpffs (`/sys/fs/bpf/...`).
    pub fn open_pinned(path: &str) -> Result<Map> {
        let c = CString::new(path).map_err(|_| Error::inval("pin path contains a NUL byte"))?;
        let fd = sys::obj_get(&c).map_err(|e| match e.0 {
            libc::ENOENT => missing_dir_note(Error::not_found(format!("no pinned object at '{path}'")), path),
            // The kernel says EACCES/EPERM for a path that exists but is not on a bpffs.
            libc::EACCES | libc::EPERM if !crate::host::bpffs::on_bpffs(path) => e.error(format!("open pinned map '{path}': the path is not on a bpffs (mount -t bpf bpf /sys/fs/bpf)")),
            _ => e.error(format!("open pinned map '{path}'")),
        })?;
        // The map info call answers for programs too (and reads their info
        // as a map's): ask what the fd is first. Without /proc, the info call decides.
        match sys::bpf_fd_kind(fd.as_fd()) {
            Ok(sys::BpfFdKind::Map) | Err(_) => {}
            Ok(k) => return Err(Error::inval(format!("'{path}' is pinned, but it is {}, not a map", k.noun()))),
        }
        let info = sys::map_info(fd.as_fd()).map_err(|e| {
            if e.0 == libc::EINVAL {
                Error::inval(format!("'{path}' is pinned, but it is not a map"))
            } else {
                e.error(format!("read info of pinned '{path}'"))
            }
        })?;
        let name = path.rsplit('/').next().unwrap_or(path);
        let m = Map::new(name, info.map_type, info.key_size, info.value_size, info.max_entries, info.map_flags);
        m.sealed.store(true, Ordering::Release); // it exists: nothing to set up
        m.set_fd(fd);
        Ok(m)
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// `enum bpf_map_type`.
    pub fn map_type(&self) -> u32 {
        self.map_type
    }
    /// Key size.
    #[inline]
    pub fn key_size(&self) -> u32 {
        self.key_size.load(Ordering::Relaxed)
    }
    /// Declared value size.
    pub fn value_size(&self) -> u32 {
        self.value_size.load(Ordering::Relaxed)
    }
    /// Maximum number of entries.
    pub fn max_entries(&self) -> u32 {
        self.max_entries.load(Ordering::Relaxed)
    }
    /// Flags.
    pub fn map_flags(&self) -> u32 {
        self.map_flags.load(Ordering::Relaxed)
    }
    /// The size of the value buffer that lookup and update take: the value
    /// size, or for per-CPU maps `round_up(value_size, 8) * possible CPUs`.
    #[inline]
    pub fn value_buf_size(&self) -> usize {
        if is_percpu(self.map_type) {
            percpu_buf(self.value_size(), possible_cpus())
        } else {
            self.value_size() as usize
        }
    }
    /// The file descriptor, once the map exists in the kernel. It stays
    /// valid while the map (its object, or its own handle) is open.
    pub fn fd(&self) -> Result<RawFd> {
        match self.fd.load(Ordering::Acquire) {
            fd if fd >= 0 => Ok(fd),
            _ => Err(self.not_created()),
        }
    }

    /// A file descriptor of the map of the caller's own (`F_DUPFD_CLOEXEC`):
    /// it stays open when the map's object is closed.
    pub fn dup_fd(&self) -> Result<OwnedFd> {
        self.with_fd(|fd| sys::dup_fd(fd).map_err(|e| e.error(format!("map '{}': dup fd", self.name))))
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() != self.key_size() as usize {
            return Err(Error::inval(format!("map '{}': key is {} bytes, the map's keys are {} bytes", self.name, key.len(), self.key_size())));
        }
        Ok(())
    }

    /// The kernel fills per-CPU values for every possible CPU: without
    /// their number, a value buffer cannot be sized safely.
    #[inline]
    pub(crate) fn check_cpus_known(&self) -> Result<()> {
        if is_percpu(self.map_type) && crate::host::cpus::possible_cpus_known().is_none() {
            return Err(Error::unsupported(format!(
                "map '{}': per-CPU values cannot be sized: the number of possible CPUs is unknown (/sys/devices/system/cpu/possible unreadable)",
                self.name
            )));
        }
        Ok(())
    }

    fn check_value(&self, len: usize) -> Result<()> {
        self.check_cpus_known()?;
        let want = self.value_buf_size();
        if len != want {
            let pc = if is_percpu(self.map_type) { format!(" ({} bytes x {} possible CPUs)", self.value_size(), possible_cpus()) } else { String::new() };
            return Err(Error::inval(format!("map '{}': value buffer is {len} bytes, the map's values are {want} bytes{pc}", self.name)));
        }
        Ok(())
    }

    /// Look up `key`; `Ok(false)` when it is absent.
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.check_key(key)?;
        self.check_value(value.len())?;
        // SAFETY: check_value made `value` the kernel's value size for this map
        // (the map was created with, or its info reports, these sizes).
        self.with_fd(|fd| match unsafe { sys::map_lookup(fd, key, value, 0) } {
            Ok(()) => Ok(true),
            Err(Errno(libc::ENOENT)) => Ok(false),
            Err(e) => Err(self.lookup_error(e)),
        })
    }

    /// A failed lookup, worded (the fast path of the C ABI words it the same).
    pub(crate) fn lookup_error(&self, e: Errno) -> Error {
        e.error(format!("map '{}': lookup", self.name))
    }

    /// Create or update `key` (`flags`: [`BPF_ANY`], [`BPF_NOEXIST`], [`BPF_EXIST`]).
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.check_key(key)?;
        self.check_value(value.len())?;
        self.with_fd(|fd| sys::map_update(fd, key, value, flags).map_err(|e| self.update_error(e)))
    }

    /// A failed update, worded (the fast path of the C ABI words it the same).
    pub(crate) fn update_error(&self, e: Errno) -> Error {
        match e.0 {
            libc::EEXIST => Error::new(crate::error::ErrorKind::Os, e.0, format!("map '{}': update: key exists (BPF_NOEXIST)", self.name)),
            libc::ENOENT => Error::not_found(format!("map '{}': update: key does not exist (BPF_EXIST)", self.name)),
            libc::E2BIG => Error::new(crate::error::ErrorKind::Os, e.0, format!("map '{}': update: the map is full ({} entries)", self.name, self.max_entries())),
            _ => e.error(format!("map '{}': update", self.name)),
        }
    }

    /// Delete `key`; `Ok(false)` when it was absent.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.check_key(key)?;
        self.with_fd(|fd| match sys::map_delete(fd, key) {
            Ok(()) => Ok(true),
            Err(Errno(libc::ENOENT)) => Ok(false),
            Err(e) => Err(self.delete_error(e)),
        })
    }

    /// A failed delete, worded (the fast path of the C ABI words it the same).
    pub(crate) fn delete_error(&self, e: Errno) -> Error {
        e.error(format!("map '{}': delete", self.name))
    }

    /// The key after `key` (the first key for None); `Ok(false)` at the end.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool> {
        if let Some(k) = key {
            self.check_key(k)?;
        }
        if next.len() != self.key_size() as usize {
            return Err(Error::inval(format!("map '{}': next-key buffer is {} bytes, the map's keys are {} bytes", self.name, next.len(), self.key_size())));
        }
        // SAFETY: `next` was checked to be exactly the map's key size.
        self.with_fd(|fd| match unsafe { sys::map_next_key(fd, key, next) } {
            Ok(()) => Ok(true),
            Err(Errno(libc::ENOENT)) => Ok(false),
            Err(e) => Err(self.next_key_error(e)),
        })
    }

    /// A failed next-key, worded (the fast path of the C ABI words it the same).
    pub(crate) fn next_key_error(&self, e: Errno) -> Error {
        e.error(format!("map '{}': next key", self.name))
    }

    /// Every key, in the kernel's order.
    pub fn keys(&self) -> Keys<'_> {
        Keys { map: self, cur: None, done: false }
    }

    /// Remove every entry: delete each key of a hash-like map, zero each value of an array.
    pub fn clear(&self) -> Result<()> {
        self.with_fd(|fd| self.clear_fd(fd))
    }

    fn clear_fd(&self, fd: BorrowedFd<'_>) -> Result<()> {
        if is_array_like(self.map_type) {
            let zero = vec![0u8; self.value_buf_size()];
            for i in 0..self.max_entries() {
                sys::map_update(fd, &i.to_le_bytes(), &zero, BPF_ANY).map_err(|e| e.error(format!("map '{}': clear slot {i}", self.name)))?;
            }
            return Ok(());
        }
        // Collect then delete: deleting while walking restarts the walk on hash maps.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut cur: Option<Vec<u8>> = None;
        loop {
            let mut next = vec![0u8; self.key_size() as usize];
            // SAFETY: `next` is a key long.
            match unsafe { sys::map_next_key(fd, cur.as_deref(), &mut next) } {
                Ok(()) => {}
                Err(Errno(libc::ENOENT)) => break,
                Err(e) => return Err(e.error(format!("map '{}': next key", self.name))),
            }
            keys.push(next.clone());
            cur = Some(next);
        }
        for k in keys {
            match sys::map_delete(fd, &k) {
                Ok(()) | Err(Errno(libc::ENOENT)) => {}
                Err(e) => return Err(e.error(format!("map '{}': clear", self.name))),
            }
        }
        Ok(())
    }

    /// Read up to `capacity` entries into `keys` and `values` (packed, key_size
    /// and [`Map::value_buf_size`] strides) and return how many were read.
    /// Uses `BPF_MAP_LOOKUP_BATCH` where the kernel and map type have it, and
    /// next-key plus lookup otherwise.
    pub fn read_all(&self, keys: &mut [u8], values: &mut [u8], capacity: usize) -> Result<usize> {
        self.check_cpus_known()?;
        let ks = self.key_size() as usize;
        let vs = self.value_buf_size();
        if keys.len() < capacity * ks || values.len() < capacity * vs {
            return Err(Error::inval(format!("map '{}': buffers too small for {capacity} entries ({ks}-byte keys, {vs}-byte values)", self.name)));
        }
        self.with_fd(|fd| self.read_all_fd(fd, keys, values, capacity))
    }

    fn read_all_fd(&self, fd: BorrowedFd<'_>, keys: &mut [u8], values: &mut [u8], capacity: usize) -> Result<usize> {
        let (ks, vs) = (self.key_size() as usize, self.value_buf_size());
        match self.read_batch(fd, keys, values, capacity) {
            Ok(n) => return Ok(n),
            Err(e) if matches!(e.0, libc::EINVAL | sys::ENOTSUPP | libc::EOPNOTSUPP | libc::ENOSYS) => {}
            Err(e) => return Err(e.error(format!("map '{}': batch lookup", self.name))),
        }
        let mut n = 0;
        let mut cur: Option<Vec<u8>> = None;
        while n < capacity {
            let kslot = &mut keys[n * ks..(n + 1) * ks];
            // SAFETY: `kslot` is a key long.
            match unsafe { sys::map_next_key(fd, cur.as_deref(), kslot) } {
                Ok(()) => {}
                Err(Errno(libc::ENOENT)) => break,
                Err(e) => return Err(e.error(format!("map '{}': next key", self.name))),
            }
            let k = kslot.to_vec();
            // SAFETY: the slot is value_buf_size() long, the kernel's value size for this map.
            match unsafe { sys::map_lookup(fd, &k, &mut values[n * vs..(n + 1) * vs], 0) } {
                Ok(()) => n += 1,
                Err(Errno(libc::ENOENT)) => {} // deleted meanwhile
                Err(e) => return Err(e.error(format!("map '{}': lookup", self.name))),
            }
            cur = Some(k);
        }
        Ok(n)
    }

    fn read_batch(&self, fd: BorrowedFd<'_>, keys: &mut [u8], values: &mut [u8], capacity: usize) -> std::result::Result<usize, Errno> {
        let ks = self.key_size() as usize;
        let vs = self.value_buf_size();
        // The resume token is a key for hash maps, a u32 index for arrays.
        let tok = ks.max(4);
        let mut in_tok = vec![0u8; tok];
        let mut out_tok = vec![0u8; tok];
        let mut n = 0usize;
        let mut first = true;
        while n < capacity {
            let want = (capacity - n) as u32;
            // SAFETY: `want` keys and values fit in the slices from slot `n` on
            // (read_all checked the buffers hold `capacity` of each, in the
            // kernel's sizes), and both tokens are max(key size, 4) long.
            let batch = unsafe {
                sys::map_lookup_batch(
                    fd,
                    if first { None } else { Some(&in_tok) },
                    &mut out_tok,
                    &mut keys[n * ks..capacity * ks],
                    &mut values[n * vs..capacity * vs],
                    want,
                )
            };
            n += batch.count as usize;
            match batch.status {
                Ok(()) => {}
                Err(Errno(libc::ENOENT)) => break,
                // A hash bucket larger than the room left: the caller falls back to key-by-key reading.
                Err(Errno(libc::ENOSPC)) => return Err(Errno(libc::EINVAL)),
                Err(e) => return Err(e),
            }
            std::mem::swap(&mut in_tok, &mut out_tok);
            first = false;
        }
        Ok(n)
    }

    /// Pin the map at `path` on a bpffs.
    pub fn pin(&self, path: &str) -> Result<()> {
        let c = CString::new(path).map_err(|_| Error::inval("pin path contains a NUL byte"))?;
        self.with_fd(|fd| {
            sys::obj_pin(fd, &c).map_err(|e| {
                let err = e.error(format!("map '{}': pin at '{path}'", self.name));
                match (e.0, std::path::Path::new(path).parent()) {
                    (libc::ENOENT, Some(dir)) => err.note(missing_pin_dir_hint(&dir.to_string_lossy())),
                    _ => err,
                }
            })
        })
    }

    /// Freeze the map: no more writes from user space.
    pub fn freeze(&self) -> Result<()> {
        self.with_fd(|fd| sys::map_freeze(fd).map_err(|e| e.error(format!("map '{}': freeze", self.name))))
    }
}

/// Where a `LIBBPF_PIN_BY_NAME` map is pinned: `root/name`, with `root`
/// normalised (`.`, `..` and repeated `/` resolved by name) and `name` one
/// plain file name, so that the path stays under the root whatever the
/// object says (a map named `../x` is refused, not pinned beside the root).
pub(crate) fn pin_path(root: &str, name: &str) -> Result<String> {
    crate::obj::maps::check_pin_name(name)?;
    let mut parts: Vec<&str> = Vec::new();
    for c in root.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if root.starts_with('/') => {}
            c => parts.push(c),
        }
    }
    let root = format!("{}{}", if root.starts_with('/') { "/" } else { "" }, parts.join("/"));
    let path = if root.is_empty() || root.ends_with('/') { format!("{root}{name}") } else { format!("{root}/{name}") };
    let p = std::path::Path::new(&path);
    if p.parent() != Some(std::path::Path::new(if root.is_empty() { "" } else { &root })) || p.file_name().and_then(|n| n.to_str()) != Some(name) {
        return Err(Error::inval(format!("map '{name}': pin path '{path}' is not directly under the pin root '{root}'")));
    }
    Ok(path)
}

fn create_error(e: Errno, what: &str, p: &sys::MapCreate<'_>) -> Error {
    match e.0 {
        libc::EINVAL if p.max_entries == 0 || (p.value_size == 0 && p.map_type == mt::STACK_TRACE) => Error::os(
            e.0,
            format!("{what}: create: max_entries {} / value_size {}: size it at run time with set_max_entries / set_value_size before load", p.max_entries, p.value_size),
        ),
        libc::EPERM => Error::os(e.0, format!("{what}: create (bpf() not permitted: run as root or with CAP_BPF, and check the memlock limit)")),
        _ => e.error(format!("{what}: create")),
    }
}

/// Iterator over a map's keys (see [`Map::keys`]).
pub struct Keys<'a> {
    map: &'a Map,
    cur: Option<Vec<u8>>,
    done: bool,
}

impl Iterator for Keys<'_> {
    type Item = Result<Vec<u8>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut next = vec![0u8; self.map.key_size() as usize];
        match self.map.next_key(self.cur.as_deref(), &mut next) {
            Ok(true) => {
                self.cur = Some(next.clone());
                Some(Ok(next))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

// Slots that hold programs and maps: tail-call dispatchers and map-in-map, set from user space.
impl Map {
    /// Put `prog` in slot `index` of this `BPF_MAP_TYPE_PROG_ARRAY`: a
    /// `bpf_tail_call(ctx, map, index)` lands there from now on.
    pub fn set_prog(&self, index: u32, prog: &crate::Program) -> Result<()> {
        if self.map_type != mt::PROG_ARRAY {
            return Err(Error::inval(format!("map '{}' is a {}, not a BPF_MAP_TYPE_PROG_ARRAY", self.name, MapType(self.map_type))));
        }
        prog.with_fd(|p| self.update(&index.to_ne_bytes(), &(p.as_raw_fd() as u32).to_ne_bytes(), BPF_ANY))
            .map_err(|e| e.context(format!("program '{}' into slot {index}", prog.name())))
    }

    /// Put map `inner` at `key` of this `BPF_MAP_TYPE_ARRAY_OF_MAPS` or
    /// `BPF_MAP_TYPE_HASH_OF_MAPS` (the kernel checks it matches the inner map's definition).
    pub fn set_inner(&self, key: &[u8], inner: &Map) -> Result<()> {
        if ![mt::ARRAY_OF_MAPS, mt::HASH_OF_MAPS].contains(&self.map_type) {
            return Err(Error::inval(format!("map '{}' is a {}, not a map of maps", self.name, MapType(self.map_type))));
        }
        inner.with_fd(|i| self.update(key, &(i.as_raw_fd() as u32).to_ne_bytes(), BPF_ANY)).map_err(|e| match e.errno() {
            libc::EINVAL => e.note(format!("map '{}' must match the inner map definition of '{}' (type, key and value sizes, flags)", inner.name, self.name)),
            _ => e,
        })
    }

    /// Empty slot `index` of a `BPF_MAP_TYPE_PROG_ARRAY` or
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`; `Ok(false)` when it was empty.
    pub fn clear_slot(&self, index: u32) -> Result<bool> {
        if ![mt::PROG_ARRAY, mt::ARRAY_OF_MAPS].contains(&self.map_type) {
            return Err(Error::inval(format!(
                "map '{}' is a {}, not a BPF_MAP_TYPE_PROG_ARRAY or BPF_MAP_TYPE_ARRAY_OF_MAPS (delete the key instead)",
                self.name,
                MapType(self.map_type)
            )));
        }
        self.delete(&index.to_ne_bytes())
    }
}

#[cfg(test)]
mod pin_path_tests {
    use super::pin_path;

    #[test]
    fn pin_paths_stay_under_the_root() {
        assert_eq!(pin_path("/sys/fs/bpf", "counts").unwrap(), "/sys/fs/bpf/counts");
        assert_eq!(pin_path("/sys/fs/bpf/", "counts").unwrap(), "/sys/fs/bpf/counts");
        assert_eq!(pin_path("/sys/fs/bpf/a/../b/./", "m").unwrap(), "/sys/fs/bpf/b/m");
        assert_eq!(pin_path("/../sys//fs/bpf", "m").unwrap(), "/sys/fs/bpf/m");
        assert_eq!(pin_path("pins/../x", "m").unwrap(), "x/m");
        assert_eq!(pin_path("/", "m").unwrap(), "/m");
        for bad in ["../x", "..", ".", "", "a/b", "/abs", "x\0"] {
            let e = pin_path("/sys/fs/bpf", bad).unwrap_err();
            assert!(e.to_string().contains("plain file name"), "{bad}: {e}");
        }
    }
}

/// `e` with the missing-directory hint when `path`'s directory does not
/// exist (an ENOENT of a pin or of a pinned object's lookup).
pub(crate) fn missing_dir_note(e: Error, path: &str) -> Error {
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => e.note(missing_pin_dir_hint(&dir.to_string_lossy())),
        _ => e,
    }
}

/// The hint for a pin that failed with ENOENT: the kernel says only that,
/// and the cause is almost always the directory.
pub(crate) fn missing_pin_dir_hint(dir: &str) -> String {
    format!("the directory '{dir}' does not exist: create it (mkdir -p) or mount bpffs there")
}
