//! BPF iterators (Linux 5.8+): an `iter/TARGET` program made into an
//! iterator link (`BPF_LINK_CREATE`, `BPF_TRACE_ITER`, with the target's
//! parameters), and [`Iter`], one pass of its output read as a stream
//! (`BPF_ITER_CREATE`, then `read()` until the end).

use crate::error::{Error, Result};
use crate::link::{Link, LinkKind};
use crate::sys;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// The parameters of an iterator (`union bpf_iter_link_info`): set those of
/// the target, if any; an iterator over every object sets none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IterOptions {
    /// `bpf_map_elem`, `bpf_sk_storage_map`, `sockmap`: the map to walk.
    pub map_fd: Option<RawFd>,
    /// `cgroup`: where to start (fd or id, not both; neither: the root) and
    /// the walk order (`enum bpf_cgroup_iter_order`: 1 self only, 2
    /// descendants pre-order, 3 post-order, 4 ancestors up).
    pub cgroup_fd: Option<RawFd>,
    pub cgroup_id: u64,
    pub cgroup_order: u32,
    /// `task`, `task_file`, `task_vma`: one thread (`tid`), one process
    /// (`pid`, or a pidfd) only (Linux 6.1+).
    pub tid: u32,
    pub pid: u32,
    pub pid_fd: Option<RawFd>,
}

impl IterOptions {
    /// The 16 bytes of `union bpf_iter_link_info`, or none when nothing is set.
    fn encode(&self) -> Result<Vec<u8>> {
        let fd = |f: Option<RawFd>, what: &str| match f {
            Some(v) if v < 0 => Err(Error::inval(format!("iterator option {what} is negative ({v})"))),
            Some(v) => Ok(v as u32),
            None => Ok(0),
        };
        let map = self.map_fd.is_some();
        let cgroup = self.cgroup_fd.is_some() || self.cgroup_id != 0 || self.cgroup_order != 0;
        let task = self.tid != 0 || self.pid != 0 || self.pid_fd.is_some();
        if [map, cgroup, task].iter().filter(|&&b| b).count() > 1 {
            return Err(Error::inval("iterator options: set the map, the cgroup or the task parameters, not several"));
        }
        let mut b = vec![0u8; 16];
        let (w0, w1, w2): (u32, u32, u64) = if map {
            (fd(self.map_fd, "map_fd")?, 0, 0)
        } else if cgroup {
            if self.cgroup_fd.is_some() && self.cgroup_id != 0 {
                return Err(Error::inval("iterator options: give the cgroup by fd or by id, not both"));
            }
            (self.cgroup_order, fd(self.cgroup_fd, "cgroup_fd")?, self.cgroup_id)
        } else if task {
            (self.tid, self.pid, fd(self.pid_fd, "pid_fd")? as u64)
        } else {
            return Ok(Vec::new());
        };
        b[0..4].copy_from_slice(&w0.to_ne_bytes());
        b[4..8].copy_from_slice(&w1.to_ne_bytes());
        if cgroup {
            b[8..16].copy_from_slice(&w2.to_ne_bytes());
        } else {
            b[8..12].copy_from_slice(&(w2 as u32).to_ne_bytes());
        }
        Ok(b)
    }
}

/// Make an iterator link of an `iter/TARGET` program.
pub(crate) fn iter(prog: BorrowedFd<'_>, prog_name: &str, section: &str, opts: &IterOptions) -> Result<Link> {
    let info = opts.encode()?;
    let target = section.split_once('/').map_or(section, |(_, t)| t).to_string();
    let what = format!("program '{prog_name}': iterator '{target}'");
    let fd = sys::link_create_iter(prog, crate::obj::section::attach_type::TRACE_ITER, &info).map_err(|e| match e.0 {
        libc::EINVAL | libc::EBADF if info.is_empty() && ["bpf_map_elem", "bpf_sk_storage_map", "sockmap"].contains(&target.as_str()) => {
            Error::inval(format!("{what}: this iterator walks one map: give its fd (map_fd)"))
        }
        libc::EINVAL if target.starts_with("task") && (opts.tid != 0 || opts.pid != 0 || opts.pid_fd.is_some()) => {
            e.error(format!("{what}: task iterator parameters (tid, pid, pid_fd) need Linux 6.1"))
        }
        libc::EINVAL => e.error(format!("{what}: BPF_LINK_CREATE (BPF iterators need Linux 5.8; check the parameters)")),
        _ => e.error(format!("{what}: BPF_LINK_CREATE")),
    })?;
    Ok(Link::new(LinkKind::Iter, target, Some(fd), None, None))
}

/// One pass of an iterator's output: `read()` gives what the program wrote
/// with `bpf_seq_printf`/`bpf_seq_write`, then end of file. Each
/// [`Iter::new`] starts a new pass over the objects.
#[derive(Debug)]
pub struct Iter {
    file: std::fs::File,
}

impl Iter {
    /// Start a pass of iterator link `link` (`BPF_ITER_CREATE`).
    pub fn new(link: &Link) -> Result<Iter> {
        let fd = link.bpf_link_fd("be read as an iterator")?;
        let fd = sys::iter_create(fd).map_err(|e| match e.0 {
            libc::EINVAL | libc::EOPNOTSUPP => Error::inval(format!("link '{}' is not a BPF iterator link (BPF_ITER_CREATE)", link.target())),
            _ => e.error(format!("link '{}': BPF_ITER_CREATE", link.target())),
        })?;
        Ok(Iter { file: std::fs::File::from(fd) })
    }
    /// The fd to read (owned by the `Iter`).
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
    /// Give up the fd to the caller.
    pub fn into_raw_fd(self) -> RawFd {
        std::os::fd::IntoRawFd::into_raw_fd(self.file)
    }
    /// Read the whole output.
    pub fn read_all(mut self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut self.file, &mut v).map_err(|e| Error::from_io(e, "reading the iterator"))?;
        Ok(v)
    }
}

impl std::io::Read for Iter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::IterOptions;
    #[test]
    fn iter_link_info_bytes() {
        assert!(IterOptions::default().encode().unwrap().is_empty());
        let m = IterOptions { map_fd: Some(7), ..Default::default() }.encode().unwrap();
        assert_eq!(m, [7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let t = IterOptions { pid: 42, ..Default::default() }.encode().unwrap();
        assert_eq!(&t[0..12], &[0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0]);
        let c = IterOptions { cgroup_order: 2, cgroup_id: 9, ..Default::default() }.encode().unwrap();
        assert_eq!(&c[0..16], &[2, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        assert!(IterOptions { map_fd: Some(3), pid: 1, ..Default::default() }.encode().is_err());
        assert!(IterOptions { cgroup_fd: Some(3), cgroup_id: 1, ..Default::default() }.encode().is_err());
    }
}
