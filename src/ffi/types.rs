//! Every type the header declares: handles, enums, options and info structs,
//! callback types. They are the ABI, so they live together where a change to
//! any of them is seen at once. Options and info structs start with `sz`
//! (see [`super::args::read_opts`] and [`super::args::write_info`]): new
//! fields are only ever appended.

use std::ffi::{c_char, c_int, c_void};

/// An open BPF object (ELF file). 0 is the null handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_object {
    pub id: u64,
}
/// A program of an object. Valid until its object is closed.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_program {
    pub id: u64,
}
/// A map: of an object (valid until the object is closed) or opened from a pin.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_map {
    pub id: u64,
}
/// An attachment of a program. Destroying it detaches the program.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_link {
    pub id: u64,
}
/// A ring buffer consumer (`bpfl_ringbuf_new`). 0 is the null handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_ringbuf {
    pub id: u64,
}

/// A perf buffer consumer (`bpfl_perfbuf_new`). 0 is the null handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpfl_perfbuf {
    pub id: u64,
}

/// Flags of `bpfl_map_update` (the kernel's BPF_ANY, BPF_NOEXIST, BPF_EXIST).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_update_flags {
    /// Create or update.
    BPFL_ANY = 0,
    /// Create only; -EEXIST if the key exists.
    BPFL_NOEXIST = 1,
    /// Update only; -ENOENT if the key is absent.
    BPFL_EXIST = 2,
}

/// Log levels for `bpfl_set_log_callback`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_log_level {
    BPFL_LOG_ERROR = 0,
    BPFL_LOG_WARN = 1,
    BPFL_LOG_INFO = 2,
    BPFL_LOG_DEBUG = 3,
}

/// kprobe mechanisms for `bpfl_kprobe_opts.mode`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum bpfl_probe_mode {
    /// The perf kprobe PMU where the kernel has it, else tracefs `kprobe_events`.
    BPFL_PROBE_AUTO = 0,
    /// Only the perf kprobe PMU.
    BPFL_PROBE_PMU = 1,
    /// Only tracefs `kprobe_events`.
    BPFL_PROBE_LEGACY = 2,
}

/// Options of `bpfl_object_open_file` / `bpfl_object_open_mem`. Set `sz` to `sizeof(struct bpfl_open_opts)`;
/// callers built when it ended at `pin_root_path` (sz 24) keep working.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_open_opts {
    pub sz: usize,
    /// Object name (prefix of global data map names in the kernel); NULL: from the file name.
    pub object_name: *const c_char,
    /// Directory for `LIBBPF_PIN_BY_NAME` maps; NULL: `/sys/fs/bpf`.
    pub pin_root_path: *const c_char,
    /// A BTF file as the target of CO-RE relocations instead of
    /// `/sys/kernel/btf/vmlinux` (read at open); NULL: the kernel's. BTF
    /// attach targets (fentry, tp_btf, lsm) always use the kernel's.
    pub btf_custom_path: *const c_char,
    /// Kernel config text (`"CONFIG_X=y\nCONFIG_Y=100\n"`) whose values
    /// override the host's for `__kconfig` externs; NULL: the host's only.
    pub kconfig: *const c_char,
    /// Verifier log level for every program of the object (a program's own
    /// `bpfl_program_set_log_level` overrides it); 0: a log only on refusal.
    pub kernel_log_level: u32,
}


/// Options of `bpfl_object_load`. Set `sz` to `sizeof(struct bpfl_load_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_load_opts {
    pub sz: usize,
    /// Verifier log level for every program (0: a log only when a program is rejected).
    pub log_level: u32,
    /// `kern_version` given to the kernel; 0: the running kernel's (whatever the object's `version` says).
    pub kern_version: u32,
}

/// Options of `bpfl_program_attach_kprobe`. Set `sz` to `sizeof(struct bpfl_kprobe_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_kprobe_opts {
    pub sz: usize,
    /// Offset into the function.
    pub offset: u64,
    /// Attach at return (kretprobe).
    pub retprobe: bool,
    /// A `bpfl_probe_mode`.
    pub mode: u32,
    /// What `bpf_get_attach_cookie()` gives the program (0: none; Linux 5.15+ otherwise).
    pub cookie: u64,
}

/// Options of `bpfl_program_attach_uprobe`. Set `sz` to `sizeof(struct bpfl_uprobe_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_uprobe_opts {
    pub sz: usize,
    /// Added to the function's address; with no function, the file offset.
    pub offset: u64,
    /// Attach at return (uretprobe).
    pub retprobe: bool,
    /// Only this process; 0 or -1: every process that runs the binary.
    pub pid: i32,
    /// What `bpf_get_attach_cookie()` gives the program (0: none; Linux 5.15+ otherwise).
    pub cookie: u64,
}

/// What `bpfl_program_info` reports. Set `sz` to `sizeof(struct bpfl_program_info)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_program_info {
    pub sz: usize,
    /// Function name; valid while the object is open.
    pub name: *const c_char,
    /// ELF section; valid while the object is open.
    pub section: *const c_char,
    /// `enum bpf_prog_type` (0 for a section bpfl does not know).
    pub prog_type: u32,
    /// `enum bpf_attach_type` given at load.
    pub expected_attach_type: u32,
    /// File descriptor once loaded, else -1.
    pub fd: i32,
    /// Instructions (after linking, once loaded).
    pub insn_cnt: u32,
}

/// What `bpfl_map_info` reports. Set `sz` to `sizeof(struct bpfl_map_info)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_map_info {
    pub sz: usize,
    /// Map name (".data", ".rodata", ".bss" for global data); valid while the map handle is.
    pub name: *const c_char,
    /// `enum bpf_map_type`.
    pub map_type: u32,
    pub key_size: u32,
    /// Declared value size (per-CPU maps: of one CPU's value).
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// File descriptor once created, else -1.
    pub fd: i32,
}

/// Options of `bpfl_ringbuf_new`. Set `sz` to `sizeof(struct bpfl_ringbuf_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_ringbuf_opts {
    pub sz: usize,
}

/// Options of `bpfl_perfbuf_new`. Set `sz` to `sizeof(struct bpfl_perfbuf_opts)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpfl_perfbuf_opts {
    pub sz: usize,
    /// Data pages per CPU, a power of two; 0: 8.
    pub page_cnt: usize,
}

/// Log callback: `level` is a `bpfl_log_level`, `msg` a NUL-terminated line.
pub type bpfl_log_fn = Option<unsafe extern "C" fn(level: c_int, msg: *const c_char, ctx: *mut c_void)>;

/// Called for each ring buffer record: `size` bytes at `data`, valid only
/// during the call. Return 0 to go on; anything else stops the poll, which
/// returns that value (use a negative one to tell it from a record count).
pub type bpfl_ringbuf_sample_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, data: *const c_void, size: usize) -> c_int>;

/// Called for each perf buffer sample written on `cpu`: `size` bytes at
/// `data`, valid only during the call; the kernel pads samples, so `size`
/// may exceed what the program wrote by up to 7 bytes. Return 0 to go on;
/// anything else stops the poll, which returns that value.
pub type bpfl_perfbuf_sample_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_int, data: *const c_void, size: u32) -> c_int>;

/// Called when the kernel reports `lost` samples dropped on `cpu` (its ring was full).
pub type bpfl_perfbuf_lost_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_int, lost: u64)>;

// The layouts C programs were compiled against (64-bit): a change here breaks
// existing binaries even when the regenerated header looks fine.
#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::size_of;
    assert!(size_of::<bpfl_object>() == 8 && size_of::<bpfl_program>() == 8 && size_of::<bpfl_map>() == 8 && size_of::<bpfl_link>() == 8);
    assert!(size_of::<bpfl_ringbuf>() == 8 && size_of::<bpfl_perfbuf>() == 8);
    assert!(size_of::<bpfl_open_opts>() == 48 && size_of::<bpfl_load_opts>() == 16);
    assert!(size_of::<bpfl_kprobe_opts>() == 32 && size_of::<bpfl_uprobe_opts>() == 32);
    assert!(size_of::<bpfl_program_info>() == 40 && size_of::<bpfl_map_info>() == 40);
    assert!(size_of::<bpfl_ringbuf_opts>() == 8 && size_of::<bpfl_perfbuf_opts>() == 16);
};
