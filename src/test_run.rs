//! Running a loaded program on test input (`BPF_PROG_TEST_RUN`): a packet
//! and/or a context in, the program's return value, the time it took and
//! the packet and context it left out. What XDP, tc and socket programs are
//! tested with in CI, without a network.

use crate::error::{Error, ErrorKind, Result};
use crate::sys;
use std::os::fd::BorrowedFd;

/// `BPF_F_TEST_RUN_ON_CPU`: run on [`TestRunOptions::cpu`] (raw tracepoints).
pub const TEST_RUN_ON_CPU: u32 = 1 << 0;
/// `BPF_F_TEST_XDP_LIVE_FRAMES`: send XDP frames for real (5.18+).
pub const TEST_XDP_LIVE_FRAMES: u32 = 1 << 1;

/// What to run a program on. Empty input and `None` outputs are not sent.
#[derive(Debug, Default)]
pub struct TestRunOptions<'a> {
    /// The packet (XDP, tc, socket filters...).
    pub data_in: &'a [u8],
    /// Where the packet the program left goes; too small a buffer is an error
    /// that says how large it must be.
    pub data_out: Option<&'a mut [u8]>,
    /// The context in (`struct xdp_md`, `struct __sk_buff`...; Linux 5.2+).
    pub ctx_in: &'a [u8],
    /// Where the context the program left goes.
    pub ctx_out: Option<&'a mut [u8]>,
    /// Run this many times (0 and 1: once); the duration is the mean.
    pub repeat: u32,
    /// `TEST_RUN_ON_CPU`, `TEST_XDP_LIVE_FRAMES`.
    pub flags: u32,
    /// The CPU, with `TEST_RUN_ON_CPU`.
    pub cpu: u32,
    /// Frames per batch with `TEST_XDP_LIVE_FRAMES` (0: the kernel's default).
    pub batch_size: u32,
}

/// What a test run gave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (`XDP_DROP`, `TC_ACT_OK`...).
    pub retval: u32,
    /// Mean time of one run, in nanoseconds.
    pub duration_ns: u32,
    /// Bytes of packet written to `data_out`.
    pub data_size_out: usize,
    /// Bytes of context written to `ctx_out`.
    pub ctx_size_out: usize,
}

/// Run `prog` (named `name`) on `o`.
pub(crate) fn test_run(prog: BorrowedFd<'_>, name: &str, o: TestRunOptions<'_>) -> Result<TestRunResult> {
    let what = format!("program '{name}': test run (BPF_PROG_TEST_RUN)");
    let v = crate::host::kver::running();
    if o.data_out.is_some() && v != 0 && v < crate::host::kver::kernel_version(5, 0, 0) {
        // Before 5.0 the kernel ignores the output size and writes the whole packet.
        return Err(Error::unsupported(format!("{what}: data_out needs Linux 5.0 (the kernel honours data_size_out since then)")));
    }
    let (has_dout, has_cout) = (o.data_out.is_some(), o.ctx_out.is_some());
    let dcap = o.data_out.as_deref().map_or(0, <[u8]>::len);
    let ccap = o.ctx_out.as_deref().map_or(0, <[u8]>::len);
    let has_ctx = !o.ctx_in.is_empty() || has_cout;
    let mut t = sys::TestRun {
        data_in: o.data_in,
        data_out: o.data_out,
        ctx_in: o.ctx_in,
        ctx_out: o.ctx_out,
        repeat: o.repeat,
        flags: o.flags,
        cpu: o.cpu,
        batch_size: o.batch_size,
    };
    // SAFETY: kernels before 5.0 never get a data_out (refused above).
    let (r, out) = unsafe { sys::prog_test_run(prog, &mut t) };
    match r {
        Ok(()) => Ok(TestRunResult {
            retval: out.retval,
            duration_ns: out.duration,
            data_size_out: if has_dout { out.data_size_out as usize } else { 0 },
            ctx_size_out: if has_cout { out.ctx_size_out as usize } else { 0 },
        }),
        Err(sys::Errno(libc::ENOSPC)) => {
            let (need, cap, which) = if has_dout && out.data_size_out as usize > dcap { (out.data_size_out, dcap, "data_out") } else { (out.ctx_size_out, ccap, "ctx_out") };
            Err(Error::new(ErrorKind::InvalidArgument, libc::ENOSPC, format!("{what}: {which} holds {cap} bytes; the program's output is {need} bytes")))
        }
        Err(sys::Errno(sys::ENOTSUPP | libc::EOPNOTSUPP)) => {
            Err(Error::unsupported(format!("{what}: this kernel cannot test-run programs of this type")))
        }
        Err(sys::Errno(libc::EINVAL)) if has_ctx && v != 0 && v < crate::host::kver::kernel_version(5, 2, 0) => {
            Err(Error::unsupported(format!("{what}: a context in or out needs Linux 5.2")))
        }
        Err(e) => Err(e.error(what)),
    }
}
