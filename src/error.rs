//! The one error type of bpfl. Every error carries the errno the C ABI returns
//! (negated) and a message that names what failed: the file, section, program,
//! map, and for a verifier rejection the kernel's log.

use std::fmt;

/// Result alias used throughout bpfl.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, broadly; the errno follows from it unless a syscall gave one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The ELF or BTF bytes are not a valid BPF object (`ENOEXEC`/`EINVAL`).
    Parse,
    /// A caller passed something wrong: null pointer, wrong size, wrong state.
    InvalidArgument,
    /// A named thing (program, map, file, tracepoint, symbol) does not exist.
    NotFound,
    /// The kernel or bpfl does not support what was asked.
    Unsupported,
    /// A handle that is null, stale, closed or of the wrong kind.
    BadHandle,
    /// The verifier refused a program; the message holds its log.
    Verifier,
    /// A system call failed with the given errno.
    Os,
}

/// An error with its errno and a message that carries the context.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{msg}")]
pub struct Error {
    kind: ErrorKind,
    errno: i32,
    msg: String,
}

impl Error {
    /// Build an error of `kind` with an explicit positive errno.
    pub fn new(kind: ErrorKind, errno: i32, msg: impl Into<String>) -> Self {
        Error { kind, errno: errno.abs(), msg: msg.into() }
    }
    /// Malformed ELF/BTF input.
    pub fn parse(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Parse, libc::EINVAL, msg)
    }
    /// A caller mistake.
    pub fn inval(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, libc::EINVAL, msg)
    }
    /// Something named does not exist.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, libc::ENOENT, msg)
    }
    /// Not supported by the kernel or by bpfl (yet).
    pub fn unsupported(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, libc::EOPNOTSUPP, msg)
    }
    /// A bad handle.
    pub fn bad_handle(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadHandle, libc::EBADF, msg)
    }
    /// A failed system call: `what` says what was being done.
    pub fn os(errno: i32, what: impl Into<String>) -> Self {
        let what = what.into();
        let errno = errno.abs();
        let desc = std::io::Error::from_raw_os_error(errno);
        Self::new(ErrorKind::Os, errno, format!("{what}: {desc}"))
    }
    /// A failed file operation: `NotFound` for ENOENT, else `Os`.
    pub fn from_io(e: std::io::Error, what: impl fmt::Display) -> Self {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        Self::new(if errno == libc::ENOENT { ErrorKind::NotFound } else { ErrorKind::Os }, errno, format!("{what}: {e}"))
    }
    /// The last OS error (errno) with context.
    pub fn last_os(what: impl Into<String>) -> Self {
        Self::os(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO), what)
    }
    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The positive errno this error maps to (the C ABI returns its negation).
    pub fn errno(&self) -> i32 {
        self.errno
    }
    /// The message, with context.
    pub fn message(&self) -> &str {
        &self.msg
    }
    /// Prefix the message with more context ("object 'x.o': ...").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.msg = format!("{ctx}: {}", self.msg);
        self
    }
}

/// Add context to a `Result`'s error.
pub trait ResultExt<T> {
    /// Prefix the error message with `ctx`.
    fn ctx(self, ctx: impl fmt::Display) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn ctx(self, ctx: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.context(ctx))
    }
}

/// The pure side's errors get the errno the C ABI has always returned for them.
impl From<bpfl_obj::Error> for Error {
    fn from(e: bpfl_obj::Error) -> Self {
        use bpfl_obj::ErrorKind as K;
        let (kind, errno) = match e.kind() {
            K::NotBpfObject => (ErrorKind::Parse, libc::ENOEXEC),
            K::ForeignByteOrder => (ErrorKind::Unsupported, libc::ENOEXEC),
            K::Malformed => (ErrorKind::Parse, libc::EINVAL),
            K::Unsupported => (ErrorKind::Unsupported, libc::EOPNOTSUPP),
            K::NotFound => (ErrorKind::NotFound, libc::ENOENT),
            K::Invalid => (ErrorKind::InvalidArgument, libc::EINVAL),
        };
        Error::new(kind, errno, e.to_string())
    }
}
