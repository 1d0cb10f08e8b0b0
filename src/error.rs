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

/// An error: what went wrong broadly (`kind`), the errno the C ABI returns
/// (negated), the innermost reason, the context it was raised in (program,
/// object...) and, for a verifier rejection, the kernel's log. The message is
/// rendered from these fields once, when they change; code that needs a part
/// reads the field, never the message.
///
/// Boxed, so that a `Result<T>` is a pointer wider than `T`: the map
/// operations return one on every call, and moving a 150-byte error slot
/// through each layer cost more than the rest of the C ABI's work.
#[derive(Debug, Clone)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    errno: i32,
    reason: String,
    /// Innermost first: `["program 'p'", "object 'o'"]`.
    context: Vec<String>,
    /// The object named in the context, if any (see [`Error::in_object`]).
    object: Option<String>,
    /// Lines that follow the reason ("last source line: ...").
    notes: Vec<String>,
    verifier_log: Option<String>,
    rendered: String,
}

impl Error {
    /// Build an error of `kind` with an explicit positive errno.
    pub fn new(kind: ErrorKind, errno: i32, msg: impl Into<String>) -> Self {
        let reason = msg.into();
        Error(Box::new(Inner {
            kind,
            errno: errno.abs(),
            rendered: reason.clone(),
            reason,
            context: Vec::new(),
            object: None,
            notes: Vec::new(),
            verifier_log: None,
        }))
    }
    /// The verifier refused a program: `reason` is its last complaint,
    /// `source_line` the C line it printed last (with BTF line info), `log` all of it.
    pub fn verifier(errno: i32, reason: &str, source_line: Option<&str>, log: &str) -> Self {
        let mut e = Self::new(
            ErrorKind::Verifier,
            errno,
            format!("the verifier rejected it ({}): {reason}", std::io::Error::from_raw_os_error(errno.abs())),
        );
        if let Some(line) = source_line {
            e.0.notes.push(format!("last source line: {line}"));
        }
        e.0.verifier_log = Some(log.trim_end().to_string());
        e.render();
        e
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
        self.0.kind
    }
    /// The positive errno this error maps to (the C ABI returns its negation).
    pub fn errno(&self) -> i32 {
        self.0.errno
    }
    /// The whole message: context, reason, notes and any verifier log.
    pub fn message(&self) -> &str {
        &self.0.rendered
    }
    /// What failed, without the context it failed in.
    pub fn reason(&self) -> &str {
        &self.0.reason
    }
    /// The context, innermost first.
    pub fn context_chain(&self) -> &[String] {
        &self.0.context
    }
    /// The object this error happened in, once [`Error::in_object`] said so.
    pub fn object(&self) -> Option<&str> {
        self.0.object.as_deref()
    }
    /// The verifier's log, for a verifier rejection.
    pub fn verifier_log(&self) -> Option<&str> {
        self.0.verifier_log.as_deref()
    }
    /// Add the context this error happened in ("program 'x'").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.0.context.push(ctx.to_string());
        self.render();
        self
    }
    /// Say which object this happened in, once: an error that names its
    /// object already keeps the name it has.
    pub fn in_object(self, name: &str) -> Self {
        if self.0.object.is_some() {
            return self;
        }
        let mut e = self.context(format_args!("object '{name}'"));
        e.0.object = Some(name.to_string());
        e
    }
    /// Add a line after the reason (before any verifier log).
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.0.notes.push(note.into());
        self.render();
        self
    }

    fn render(&mut self) {
        let mut s = String::new();
        for c in self.0.context.iter().rev() {
            s.push_str(c);
            s.push_str(": ");
        }
        s.push_str(&self.0.reason);
        for n in &self.0.notes {
            s.push('\n');
            s.push_str(n);
        }
        if let Some(log) = &self.0.verifier_log {
            s.push_str("\n--- verifier log ---\n");
            s.push_str(log);
        }
        self.0.rendered = s;
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.rendered)
    }
}

impl std::error::Error for Error {}

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

/// The pure side's errors get the errno the C ABI has always returned for
/// them, and keep their context chain.
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
        e.context_chain().iter().rev().fold(Error::new(kind, errno, e.message()), |err, c| err.context(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_rendered_from_the_fields() {
        let e = Error::verifier(libc::EACCES, "R1 invalid mem access", Some("x = *p;"), "0: r1 = 0\nR1 invalid mem access\n")
            .note("a note")
            .context("program 'p'")
            .in_object("o")
            .in_object("ignored.o");
        assert_eq!(e.kind(), ErrorKind::Verifier);
        assert_eq!(e.errno(), libc::EACCES);
        assert_eq!(e.object(), Some("o"));
        assert_eq!(e.context_chain(), ["program 'p'", "object 'o'"]);
        assert_eq!(e.verifier_log(), Some("0: r1 = 0\nR1 invalid mem access"));
        assert_eq!(
            e.message(),
            "object 'o': program 'p': the verifier rejected it (Permission denied (os error 13)): R1 invalid mem access\n\
             last source line: x = *p;\na note\n--- verifier log ---\n0: r1 = 0\nR1 invalid mem access"
        );
        assert_eq!(e.to_string(), e.message());
    }
}
