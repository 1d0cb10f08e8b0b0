//! Where a global data map's variables end: the smallest value size a
//! resized `.data`/`.bss`/`.rodata` map may have.

use crate::{MapOrigin, ObjectSpec};

impl ObjectSpec {
    /// For global data map `idx`: the end of its last variable (0 when it
    /// has no named variable); None for other maps.
    pub fn data_vars_end(&self, idx: usize) -> Option<u64> {
        let m = self.maps.get(idx)?;
        if !matches!(m.origin, MapOrigin::Data(_)) {
            return None;
        }
        if Some(idx) == self.kconfig_map {
            return Some(m.value_size as u64);
        }
        Some(self.data_syms.iter().filter(|d| d.0 == m.shndx).map(|d| d.2 + d.3).max().unwrap_or(0))
    }
}

/// A global variable of a data section: the map that holds it, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalVar {
    /// Index in [`ObjectSpec::maps`] of its data map.
    pub map: usize,
    /// Byte offset in the map's value.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

impl ObjectSpec {
    /// The global variable `name` of a `.data*`, `.rodata*` or `.bss*`
    /// section (the one [`ObjectSpec::set_global`] would set).
    pub fn global_var(&self, name: &str) -> Option<GlobalVar> {
        let &(shndx, _, offset, size) = self.data_syms.iter().find(|d| d.1 == name)?;
        let map = self.maps.iter().position(|m| matches!(m.origin, MapOrigin::Data(_)) && m.shndx == shndx)?;
        Some(GlobalVar { map, offset, size })
    }
}
