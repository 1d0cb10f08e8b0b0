//! rtnetlink: a `NETLINK_ROUTE` socket that sends one request and reads its
//! replies up to the kernel's ack, with the kernel's extended-ack text on
//! errors. The bytes are built and parsed by the pure [`msg`] module.

pub(crate) mod msg;

use super::{Errno, SysResult};
use msg::{Builder, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A refused netlink request: the errno and what the kernel said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NlError {
    pub errno: Errno,
    /// The extended ack message ("Exclusivity flag on, cannot modify"), when sent.
    pub msg: Option<String>,
}

impl NlError {
    fn of(errno: Errno) -> NlError {
        NlError { errno, msg: None }
    }
    /// An [`crate::Error`] saying `what` failed, with the kernel's words.
    pub(crate) fn error(&self, what: impl Into<String>) -> crate::Error {
        let what = what.into();
        match &self.msg {
            Some(m) => self.errno.error(format!("{what} ({m})")),
            None => self.errno.error(what),
        }
    }
}

/// One reply message: its type and payload.
pub(crate) type Reply = (u16, Vec<u8>);

/// A `NETLINK_ROUTE` socket.
pub(crate) struct NlSocket {
    fd: OwnedFd,
    seq: u32,
}

fn setsockopt_int(fd: &OwnedFd, level: i32, opt: i32, v: i32) -> SysResult<()> {
    // SAFETY: an int option, its size given.
    let r = unsafe { libc::setsockopt(fd.as_raw_fd(), level, opt, &v as *const i32 as *const libc::c_void, 4) };
    if r < 0 { Err(Errno::last()) } else { Ok(()) }
}

impl NlSocket {
    pub(crate) fn open() -> SysResult<NlSocket> {
        // SAFETY: plain socket(2).
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
        if fd < 0 {
            return Err(Errno::last());
        }
        // SAFETY: a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Error text from the kernel (4.12+), and only the header of our request back.
        let _ = setsockopt_int(&fd, libc::SOL_NETLINK, libc::NETLINK_EXT_ACK, 1);
        let _ = setsockopt_int(&fd, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, 1);
        // Never wait for ever on a kernel that does not answer.
        let tv = libc::timeval { tv_sec: 5, tv_usec: 0 };
        // SAFETY: a timeval, its size given.
        unsafe { libc::setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv as *const _ as *const libc::c_void, std::mem::size_of::<libc::timeval>() as u32) };
        Ok(NlSocket { fd, seq: 1 })
    }

    /// Send `b` (with `NLM_F_REQUEST | NLM_F_ACK` added) and return the
    /// replies that came before the ack (or, for a dump, before its end).
    pub(crate) fn request(&mut self, b: Builder, flags_dump: bool) -> Result<Vec<Reply>, NlError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut m = b.finish(seq);
        let f = u16::from_ne_bytes([m[6], m[7]]) | NLM_F_REQUEST | NLM_F_ACK | if flags_dump { NLM_F_DUMP } else { 0 };
        m[6..8].copy_from_slice(&f.to_ne_bytes());
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: `m` and `addr` are live and sized as given.
        let r = unsafe {
            libc::sendto(self.fd.as_raw_fd(), m.as_ptr() as *const libc::c_void, m.len(), 0, &addr as *const _ as *const libc::sockaddr, std::mem::size_of::<libc::sockaddr_nl>() as u32)
        };
        if r < 0 {
            return Err(NlError::of(Errno::last()));
        }
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            // SAFETY: the kernel writes at most `buf.len()` bytes.
            let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, buf.len(), libc::MSG_TRUNC) };
            if n < 0 {
                let e = Errno::last();
                if e.0 == libc::EINTR {
                    continue;
                }
                return Err(NlError::of(e));
            }
            if n as usize > buf.len() {
                return Err(NlError { errno: Errno(libc::EMSGSIZE), msg: Some(format!("a netlink reply of {n} bytes did not fit")) });
            }
            let msgs = msg::messages(&buf[..n as usize]).map_err(|m| NlError { errno: Errno(libc::EBADMSG), msg: Some(m) })?;
            for m in msgs {
                if m.seq != seq {
                    continue; // a late reply to an earlier request
                }
                match m.ty {
                    NLMSG_ERROR => {
                        let (err, text) = msg::error_reply(&m).map_err(|t| NlError { errno: Errno(libc::EBADMSG), msg: Some(t) })?;
                        if err != 0 {
                            return Err(NlError { errno: Errno(err), msg: text });
                        }
                        return Ok(out);
                    }
                    NLMSG_DONE => {
                        // A dump's end, with its status; an ack that may follow is
                        // dropped by the next request's sequence check.
                        let err = m.payload.get(..4).map_or(0, |b| -i32::from_ne_bytes(b.try_into().unwrap()));
                        return if err > 0 { Err(NlError::of(Errno(err))) } else { Ok(out) };
                    }
                    ty => out.push((ty, m.payload.to_vec())),
                }
            }
        }
    }
}

/// The index of interface `name` in the caller's network namespace.
pub(crate) fn if_nametoindex(name: &str) -> SysResult<u32> {
    let c = CString::new(name).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: a NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 { Err(Errno::last()) } else { Ok(i) }
}
