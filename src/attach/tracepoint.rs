//! Tracepoints (a perf event of the tracefs id), raw tracepoints and
//! BTF-targeted programs (`BPF_RAW_TRACEPOINT_OPEN`).

use super::attach_perf_event_cookie;
use crate::error::{Error, Result};
use crate::host::tracefs;
use crate::link::{Link, LinkKind};
use crate::sys;
use std::ffi::CString;
use std::os::fd::BorrowedFd;

/// Attach `prog` to tracepoint `category/name`.
pub(crate) fn tracepoint(prog: BorrowedFd<'_>, prog_name: &str, category: &str, name: &str, cookie: u64) -> Result<Link> {
    let what = format!("program '{prog_name}': tracepoint '{category}/{name}'");
    let id = tracefs::tracepoint_id(category, name).map_err(|e| e.context(format!("program '{prog_name}'")))?;
    let pfd = sys::perf_event_open_tracepoint(id).map_err(|e| e.error(format!("{what}: perf_event_open")))?;
    let link_fd = attach_perf_event_cookie(prog, &pfd, &what, cookie)?;
    Ok(Link::new(LinkKind::Tracepoint, format!("{category}/{name}"), link_fd, Some(pfd), None))
}

/// Attach a BTF-targeted program (tp_btf, fentry/fexit/fmod_ret, lsm) where
/// its load named (`attach_btf_id`).
pub(crate) fn btf_traced(prog: BorrowedFd<'_>, prog_name: &str, section: &str) -> Result<Link> {
    let fd = sys::raw_tracepoint_open(None, prog).map_err(|e| e.error(format!("program '{prog_name}': attach to '{section}'")))?;
    Ok(Link::new(LinkKind::RawTracepoint, section.to_string(), Some(fd), None, None))
}

/// [`btf_traced`] with an attach cookie: a tracing link through
/// `BPF_LINK_CREATE` (fentry/fexit/fmod_ret/lsm, Linux 5.19+).
pub(crate) fn btf_traced_cookie(prog: BorrowedFd<'_>, prog_name: &str, section: &str, attach_type: u32, cookie: u64) -> Result<Link> {
    use crate::obj::section::attach_type as at;
    if cookie == 0 {
        return btf_traced(prog, prog_name, section);
    }
    let what = format!("program '{prog_name}': attach to '{section}' with cookie {cookie:#x}");
    if ![at::TRACE_FENTRY, at::TRACE_FEXIT, at::MODIFY_RETURN, at::LSM_MAC].contains(&attach_type) {
        return Err(Error::unsupported(format!("{what}: attach cookies are for fentry, fexit, fmod_ret and lsm programs")));
    }
    let fd = sys::link_create_tracing(prog, attach_type, cookie).map_err(|e| match e.0 {
        libc::EINVAL | libc::E2BIG => Error::unsupported(format!(
            "{what}: cookies on fentry/fexit/fmod_ret/lsm links need Linux 5.19+ ({})",
            std::io::Error::from_raw_os_error(e.0)
        )),
        _ => e.error(what.clone()),
    })?;
    Ok(Link::new(LinkKind::RawTracepoint, section.to_string(), Some(fd), None, None))
}

/// Attach `prog` to raw tracepoint `name`.
pub(crate) fn raw_tracepoint(prog: BorrowedFd<'_>, prog_name: &str, name: &str) -> Result<Link> {
    let c = CString::new(name).map_err(|_| Error::inval("raw tracepoint name contains a NUL byte"))?;
    let fd = sys::raw_tracepoint_open(Some(&c), prog).map_err(|e| match e.0 {
        libc::ENOENT => Error::not_found(format!("program '{prog_name}': raw tracepoint '{name}' does not exist")),
        _ => e.error(format!("program '{prog_name}': raw tracepoint '{name}'")),
    })?;
    Ok(Link::new(LinkKind::RawTracepoint, name.to_string(), Some(fd), None, None))
}

