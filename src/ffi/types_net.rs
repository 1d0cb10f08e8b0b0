//! The header's types of networking and test runs (kept apart from
//! `types.rs` only so parallel work merges cleanly; the same rules hold:
//! `sz` first, fields only ever appended).

use std::ffi::c_void;

/// Where an XDP program runs, for `bpfl_xdp_opts.mode`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_xdp_mode {
    /// The driver's (native) hook where it has one, else generic.
    BPFL_XDP_MODE_AUTO = 0,
    /// Generic (skb) mode: any interface.
    BPFL_XDP_MODE_GENERIC = 1,
    /// Native (driver) mode.
    BPFL_XDP_MODE_NATIVE = 2,
    /// Offloaded to the NIC.
    BPFL_XDP_MODE_OFFLOAD = 3,
}

/// What `bpfl_xdp_info.attached` says (the kernel's `XDP_ATTACHED_*`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_xdp_attached {
    BPFL_XDP_ATTACHED_NONE = 0,
    BPFL_XDP_ATTACHED_NATIVE = 1,
    BPFL_XDP_ATTACHED_GENERIC = 2,
    BPFL_XDP_ATTACHED_OFFLOAD = 3,
    /// Programs in more than one mode.
    BPFL_XDP_ATTACHED_MULTI = 4,
}

/// Flags of `bpfl_xdp_opts.flags` (netlink path).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_xdp_flags {
    /// Fail if a program is attached already (`XDP_FLAGS_UPDATE_IF_NOEXIST`).
    BPFL_XDP_UPDATE_IF_NOEXIST = 1,
}

/// Packet direction for tc and TCX attaches.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_tc_direction {
    BPFL_TC_INGRESS = 0,
    BPFL_TC_EGRESS = 1,
}

/// Flags of `bpfl_tcx_opts.flags` (the kernel's `BPF_F_BEFORE` ...).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_tcx_flags {
    /// Before the program or link `relative` names (none: first).
    BPFL_TCX_BEFORE = 1 << 3,
    /// After it (none: last).
    BPFL_TCX_AFTER = 1 << 4,
    /// `relative` is an id, not an fd.
    BPFL_TCX_ID = 1 << 5,
    /// `relative` is a link, not a program.
    BPFL_TCX_LINK = 1 << 13,
}

/// Options of `bpfl_program_test_run`. Set `sz` to `sizeof(struct bpfl_test_run_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_test_run_opts {
    pub sz: usize,
    /// The packet in (NULL with size 0: none).
    pub data_in: *const c_void,
    pub data_size_in: usize,
    /// Where the packet out goes (NULL: not wanted), and its capacity.
    pub data_out: *mut c_void,
    pub data_size_out: usize,
    /// The context in (`struct xdp_md`, `struct __sk_buff`...; Linux 5.2+).
    pub ctx_in: *const c_void,
    pub ctx_size_in: usize,
    /// Where the context out goes (NULL: not wanted), and its capacity.
    pub ctx_out: *mut c_void,
    pub ctx_size_out: usize,
    /// Runs (0 and 1: once); the duration is their mean.
    pub repeat: u32,
    /// `BPF_F_TEST_RUN_ON_CPU` (1), `BPF_F_TEST_XDP_LIVE_FRAMES` (2).
    pub flags: u32,
    /// The CPU, with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
    /// Frames per batch with live XDP frames (0: the kernel's default).
    pub batch_size: u32,
}

/// What `bpfl_program_test_run` reports. Set `sz` to `sizeof(struct bpfl_test_run_result)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_test_run_result {
    pub sz: usize,
    /// The program's return value (`XDP_DROP`, `TC_ACT_OK`...).
    pub retval: u32,
    /// Mean time of one run, in nanoseconds.
    pub duration_ns: u32,
    /// Bytes written to `data_out`.
    pub data_size_out: usize,
    /// Bytes written to `ctx_out`.
    pub ctx_size_out: usize,
}

/// Options of `bpfl_program_attach_xdp`. Set `sz` to `sizeof(struct bpfl_xdp_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_xdp_opts {
    pub sz: usize,
    /// A `bpfl_xdp_mode`.
    pub mode: u32,
    /// `bpfl_xdp_flags` (netlink path).
    pub flags: u32,
    /// Replace the program with this fd, failing if another is attached
    /// (takes the netlink path); 0 or negative: replace nothing.
    pub replace_prog_fd: i32,
    /// Use netlink (`IFLA_XDP`) even where BPF links exist (Linux 5.9+).
    pub netlink: bool,
}

/// What `bpfl_xdp_query` reports. Set `sz` to `sizeof(struct bpfl_xdp_info)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_xdp_info {
    pub sz: usize,
    /// A `bpfl_xdp_attached`.
    pub attached: u32,
    /// The attached program's id, when one mode has one (0: none).
    pub prog_id: u32,
    pub drv_prog_id: u32,
    pub skb_prog_id: u32,
    pub hw_prog_id: u32,
}

/// Options of `bpfl_program_attach_tcx`. Set `sz` to `sizeof(struct bpfl_tcx_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_tcx_opts {
    pub sz: usize,
    /// A `bpfl_tc_direction`.
    pub direction: u32,
    /// `bpfl_tcx_flags`: where among the attached programs this one goes.
    pub flags: u32,
    /// The program or link (fd, or id with `BPFL_TCX_ID`) the flags place it against.
    pub relative: u32,
    /// Fail unless the list is at this revision (0: any).
    pub expected_revision: u64,
}

/// Options of `bpfl_program_attach_tc`. Set `sz` to `sizeof(struct bpfl_tc_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_tc_opts {
    pub sz: usize,
    /// A `bpfl_tc_direction`.
    pub direction: u32,
    /// Filter priority (0: the kernel picks).
    pub priority: u16,
    /// Filter handle (0: the kernel picks).
    pub handle: u32,
}

/// Whose traffic a netkit program sees, for `bpfl_netkit_opts.side`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_netkit_side {
    /// The program's section's (`netkit/primary`, `netkit/peer`); primary otherwise.
    BPFL_NETKIT_FROM_SECTION = 0,
    /// What the primary device sends (`BPF_NETKIT_PRIMARY`).
    BPFL_NETKIT_PRIMARY = 1,
    /// What the peer device sends (`BPF_NETKIT_PEER`), attached through the primary.
    BPFL_NETKIT_PEER = 2,
}

/// Options of `bpfl_program_attach_netkit`. Set `sz` to `sizeof(struct bpfl_netkit_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_netkit_opts {
    pub sz: usize,
    /// A `bpfl_netkit_side`.
    pub side: u32,
    /// `bpfl_tcx_flags`: where among the attached programs this one goes.
    pub flags: u32,
    /// The program or link (fd, or id with `BPFL_TCX_ID`) the flags place it against.
    pub relative: u32,
    /// Fail unless the list is at this revision (0: any).
    pub expected_revision: u64,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::size_of;
    assert!(size_of::<bpfl_test_run_opts>() == 88 && size_of::<bpfl_test_run_result>() == 32);
    assert!(size_of::<bpfl_xdp_opts>() == 24 && size_of::<bpfl_xdp_info>() == 32);
    assert!(size_of::<bpfl_tcx_opts>() == 32 && size_of::<bpfl_tc_opts>() == 24);
    assert!(size_of::<bpfl_netkit_opts>() == 32);
};
