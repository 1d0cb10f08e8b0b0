//! What a user sets on a map between open and load, as libbpf's
//! `bpf_map__set_*` do: sizes, flags, NUMA node, the inner map of a
//! map-in-map, an existing map to use instead of creating one, where to pin
//! it, and whether to create it at all. Every setter refuses (EBUSY) once its
//! object is loading or loaded, and for a map opened from a pin.
//!
//! Global data maps (`.data`, `.bss`, `.rodata`, and their `.data.NAME`
//! kin) can change their value size: the new size must still hold every
//! variable of the section; the initial data is kept and zero-extended, so
//! an array that ends the section grows with the map (the program indexes
//! it up to the new size, the verifier checking against the map's value
//! size). Such a resized map is created without the section's BTF type,
//! which describes the old size.

use crate::error::{Error, ErrorKind, Result};
use crate::map::Map;
use crate::obj::map_type as mt;
use crate::sys;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;

/// `BPF_F_NUMA_NODE`: the kernel reads `numa_node` only with this flag.
const BPF_F_NUMA_NODE: u32 = 1 << 2;

/// A map's set-up before load.
#[derive(Debug)]
pub(crate) struct MapSetup {
    pub numa_node: Option<u32>,
    /// The inner map template for a map-in-map (instead of the definition's).
    pub inner: Option<OwnedFd>,
    /// An existing map to use instead of creating one.
    pub reuse: Option<OwnedFd>,
    /// Where to pin (and first look for a pinned map to reuse).
    pub pin_path: Option<String>,
    pub autocreate: bool,
    /// For a global data map: where its last variable ends, and whether it is `.kconfig`.
    pub data: Option<DataMap>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct DataMap {
    pub vars_end: u64,
    pub kconfig: bool,
}

impl Default for MapSetup {
    fn default() -> Self {
        MapSetup { numa_node: None, inner: None, reuse: None, pin_path: None, autocreate: true, data: None }
    }
}

/// What the load does with a map, read from its set-up at the start of the load.
pub(crate) struct MapPlan {
    pub autocreate: bool,
    pub reuse: Option<OwnedFd>,
    pub inner: Option<OwnedFd>,
    pub pin_path: Option<String>,
}

impl Map {
    fn configure<T>(&self, what: &str, f: impl FnOnce(&mut MapSetup) -> Result<T>) -> Result<T> {
        let mut s = self.setup.lock();
        if self.sealed.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                libc::EBUSY,
                format!("map '{}': {what} can only be set before its object is loaded (not on a created or pinned map)", self.name()),
            ));
        }
        f(&mut s)
    }

    pub(crate) fn seal(&self, on: bool) {
        let _s = self.setup.lock();
        self.sealed.store(on, Ordering::Release);
    }

    pub(crate) fn set_data_info(&self, vars_end: u64, kconfig: bool) {
        self.setup.lock().data = Some(DataMap { vars_end, kconfig });
    }

    /// Maximum number of entries to create the map with.
    pub fn set_max_entries(&self, n: u32) -> Result<()> {
        self.configure("max_entries", |s| {
            if s.data.is_some() && n != 1 {
                return Err(Error::inval(format!("map '{}': a global data map has exactly one entry", self.name())));
            }
            self.max_entries.store(n, Ordering::Relaxed);
            Ok(())
        })
    }

    /// Value size to create the map with (global data maps: see the module comment).
    pub fn set_value_size(&self, size: u32) -> Result<()> {
        self.configure("value_size", |s| {
            if let Some(d) = s.data {
                if self.mem.has_image() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        libc::EBUSY,
                        format!("map '{}': find_variable already gave out pointers into its image: set its value size before that", self.name()),
                    ));
                }
                if d.kconfig {
                    return Err(Error::inval(format!("map '{}': the .kconfig map's size is its externs'", self.name())));
                }
                if (size as u64) < d.vars_end || size == 0 {
                    return Err(Error::inval(format!(
                        "map '{}': value size {size} would cut its variables (the last one ends at byte {})",
                        self.name(),
                        d.vars_end
                    )));
                }
            }
            self.store_value_size(size);
            Ok(())
        })
    }

    /// Key size to create the map with.
    pub fn set_key_size(&self, size: u32) -> Result<()> {
        self.configure("key_size", |s| {
            if s.data.is_some() {
                return Err(Error::inval(format!("map '{}': a global data map's key is its 4-byte index", self.name())));
            }
            self.key_size.store(size, Ordering::Relaxed);
            Ok(())
        })
    }

    /// `map_flags` to create the map with (replacing the definition's).
    pub fn set_map_flags(&self, flags: u32) -> Result<()> {
        self.configure("map_flags", |_| {
            self.map_flags.store(flags, Ordering::Relaxed);
            Ok(())
        })
    }

    /// The NUMA node to allocate the map on (adds `BPF_F_NUMA_NODE` to its flags).
    pub fn set_numa_node(&self, node: u32) -> Result<()> {
        self.configure("the NUMA node", |s| {
            s.numa_node = Some(node);
            self.map_flags.fetch_or(BPF_F_NUMA_NODE, Ordering::Relaxed);
            Ok(())
        })
    }

    /// For a map-in-map: the map whose shape inner maps have (instead of the
    /// definition's template). The fd is duplicated.
    pub fn set_inner_map_fd(&self, fd: BorrowedFd<'_>) -> Result<()> {
        if !matches!(self.map_type(), mt::ARRAY_OF_MAPS | mt::HASH_OF_MAPS) {
            return Err(Error::inval(format!("map '{}' is not a map-in-map (type {})", self.name(), crate::obj::MapType(self.map_type()))));
        }
        sys::map_info(fd).map_err(|e| e.error(format!("map '{}': inner map fd is not a map", self.name())))?;
        let dup = sys::dup_fd(fd).map_err(|e| e.error("dup inner map fd"))?;
        self.configure("the inner map", |s| {
            s.inner = Some(dup);
            Ok(())
        })
    }

    /// Use the existing map `fd` (e.g. another object's) instead of creating
    /// this one: both objects then share it. At load it must match this
    /// map's type, key and value sizes and max_entries. The fd is duplicated.
    pub fn reuse_fd(&self, fd: BorrowedFd<'_>) -> Result<()> {
        let info = sys::map_info(fd).map_err(|e| e.error(format!("map '{}': reuse_fd: the fd is not a map", self.name())))?;
        if info.map_type != self.map_type() {
            return Err(Error::inval(format!(
                "map '{}': reuse_fd: the map is a {}, this one a {}",
                self.name(),
                crate::obj::MapType(info.map_type),
                crate::obj::MapType(self.map_type())
            )));
        }
        let dup = sys::dup_fd(fd).map_err(|e| e.error("dup reused map fd"))?;
        self.configure("the map to reuse", |s| {
            s.reuse = Some(dup);
            Ok(())
        })
    }

    /// Pin the map at `path` when it is created; if a map is already pinned
    /// there, use it instead (it must match).
    pub fn set_pin_path(&self, path: &str) -> Result<()> {
        if !path.starts_with('/') {
            return Err(Error::inval(format!("map '{}': pin path '{path}' is not absolute", self.name())));
        }
        self.configure("the pin path", |s| {
            s.pin_path = Some(path.to_string());
            Ok(())
        })
    }
    /// The pin path set with [`Map::set_pin_path`].
    pub fn pin_path(&self) -> Option<String> {
        self.setup.lock().pin_path.clone()
    }

    /// Create the map at load (default), or not: a program that uses a map
    /// not created fails to load, naming the map.
    pub fn set_autocreate(&self, on: bool) -> Result<()> {
        self.configure("autocreate", |s| {
            s.autocreate = on;
            Ok(())
        })
    }
    /// Whether the map is created at load.
    pub fn autocreate(&self) -> bool {
        self.setup.lock().autocreate
    }

    /// What the load does with this map (fds duplicated for the load).
    pub(crate) fn plan(&self) -> Result<MapPlan> {
        let s = self.setup.lock();
        let dup = |f: &Option<OwnedFd>| f.as_ref().map(|f| sys::dup_fd(f.as_fd()).map_err(|e| e.error(format!("map '{}': dup fd", self.name())))).transpose();
        Ok(MapPlan { autocreate: s.autocreate, reuse: dup(&s.reuse)?, inner: dup(&s.inner)?, pin_path: s.pin_path.clone() })
    }

    /// Take `fd` (from reuse_fd) as this map's, if it matches.
    pub(crate) fn adopt(&self, fd: OwnedFd) -> Result<()> {
        let info = sys::map_info(fd.as_fd()).map_err(|e| e.error(format!("map '{}': reused fd", self.name())))?;
        let existing = Map::new(self.name(), info.map_type, info.key_size, info.value_size, info.max_entries, info.map_flags);
        self.check_compatible(&existing, &format!("map '{}': the map given with reuse_fd", self.name()))?;
        self.set_fd(fd);
        Ok(())
    }
}
