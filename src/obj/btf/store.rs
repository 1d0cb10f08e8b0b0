//! Where a [`Btf`](super::Btf) keeps its type words and strings: its own
//! buffers (an object's BTF, fixed up in place), or memory that lives as long
//! as the process and is only read (the kernel's BTF, mapped read-only from
//! `/sys/kernel/btf/vmlinux` or read once): no copy of 5 MB per process.

use std::ops::{Deref, DerefMut};

/// A slice that is borrowed for the life of the process until something
/// writes to it; the first write copies it (copy on write, as `Cow`, but
/// indexable mutably, so the fix-ups read as writes to a slice).
#[derive(Debug, Clone)]
pub(crate) enum Store<T: 'static> {
    Owned(Vec<T>),
    Static(&'static [T]),
}

impl<T: Clone + 'static> Store<T> {
    /// The owned vector, copied from the static slice on first use.
    pub(crate) fn vec_mut(&mut self) -> &mut Vec<T> {
        if let Store::Static(s) = *self {
            *self = Store::Owned(s.to_vec());
        }
        match self {
            Store::Owned(v) => v,
            Store::Static(_) => unreachable!("made owned above"),
        }
    }
    pub(crate) fn extend_from_slice(&mut self, s: &[T]) {
        self.vec_mut().extend_from_slice(s)
    }
    /// True when the data is borrowed, not copied.
    pub(crate) fn is_static(&self) -> bool {
        matches!(self, Store::Static(_))
    }
}

impl<T: 'static> Deref for Store<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Store::Owned(v) => v,
            Store::Static(s) => s,
        }
    }
}

impl<T: Clone + 'static> DerefMut for Store<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.vec_mut()
    }
}

impl<T: PartialEq + 'static> PartialEq for Store<T> {
    fn eq(&self, o: &Self) -> bool {
        **self == **o
    }
}

impl<T> From<Vec<T>> for Store<T> {
    fn from(v: Vec<T>) -> Self {
        Store::Owned(v)
    }
}
