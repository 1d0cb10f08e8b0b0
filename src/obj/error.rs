//! The one error type of the pure side. It knows no errno: the kind says what
//! went wrong, and the main crate maps each kind to the errno the C ABI
//! returns (see `impl From<bpfl_obj::Error> for bpfl::Error`).

use std::fmt;

/// Result alias of the pure side.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bytes are not an ELF file, or not one for BPF.
    NotBpfObject,
    /// A big-endian (bpfeb) object, which a little-endian host cannot load.
    ForeignByteOrder,
    /// The ELF or BTF bytes are malformed or inconsistent.
    Malformed,
    /// Valid input using something bpfl does not support (yet).
    Unsupported,
    /// A named thing (program, variable, extern value) does not exist.
    NotFound,
    /// A caller passed something wrong (a value that does not fit, a bad index).
    Invalid,
}

/// An error: its kind, the message, and the context it happened in
/// (outermost first), shown as `context: ...: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    context: Vec<String>,
    message: String,
}

impl Error {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, context: Vec::new(), message: message.into() }
    }
    /// Malformed ELF or BTF input.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Malformed, message)
    }
    /// Not supported by bpfl (yet).
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    /// Something named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// A caller mistake.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The innermost message, without context.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The context, outermost first.
    pub fn context_chain(&self) -> &[String] {
        &self.context
    }
    /// Wrap in more context ("object 'x.o'").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.context.insert(0, ctx.to_string());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.context {
            write!(f, "{c}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
