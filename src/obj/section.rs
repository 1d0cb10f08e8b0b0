//! Program type from the ELF section name, following libbpf's conventions
//! (`kprobe/func`, `tracepoint/cat/name`, `tp/cat/name`, `xdp`, ...).
//!
//! A pattern ending in `+` matches the bare name or the name followed by `/`
//! and an attach target; a pattern without `+` matches exactly. Objects from
//! before libbpf 1.0 used looser names (`socket1`, `xdp_prog`, `kprobe_x`);
//! those still match by prefix for the legacy types, reported at debug level.

use crate::types::{AttachType, ProgramType};
/// The raw `u32` values, for the C ABI's side.
pub use crate::types::{attach_type, prog_type};

/// How bpfl attaches a program of this section automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoAttach {
    /// `kprobe/FUNC[+OFF]`.
    Kprobe,
    /// `kretprobe/FUNC`.
    Kretprobe,
    /// `tracepoint/CAT/NAME` or `tp/CAT/NAME`.
    Tracepoint,
    /// `raw_tracepoint/NAME` or `raw_tp/NAME`.
    RawTracepoint,
    /// `uprobe/BINARY:FUNC[+OFF]` (`uprobe` alone: the caller names the target).
    Uprobe,
    /// `uretprobe/BINARY:FUNC`.
    Uretprobe,
    /// No automatic attach (needs a target only the caller knows, or not implemented yet).
    None,
}

/// What a section name says about its program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionDef {
    /// The pattern that matched (`kprobe+`, `xdp`, ...).
    pub pattern: &'static str,
    /// `enum bpf_prog_type`.
    pub prog_type: ProgramType,
    /// `enum bpf_attach_type` the kernel expects at load time (0 when none).
    pub expected_attach_type: AttachType,
    /// Automatic attach.
    pub auto: AutoAttach,
    /// Sleepable (`.s` sections): `BPF_F_SLEEPABLE` at load.
    pub sleepable: bool,
    /// The kernel needs a BTF id of the attach target (fentry, tp_btf, lsm, ...): CO-RE territory.
    pub needs_btf_target: bool,
}

macro_rules! def {
    ($pat:expr, $pt:ident) => {
        def!($pat, $pt, UNSET, None)
    };
    ($pat:expr, $pt:ident, $at:expr) => {
        def!($pat, $pt, $at, None)
    };
    ($pat:expr, $pt:ident, $at:expr, $auto:ident) => {
        SectionDef { pattern: $pat, prog_type: ProgramType::$pt, expected_attach_type: $at, auto: AutoAttach::$auto, sleepable: false, needs_btf_target: false }
    };
    ($pat:expr, $pt:ident, $at:expr, $auto:ident, $sl:expr, $btf:expr) => {
        SectionDef { pattern: $pat, prog_type: ProgramType::$pt, expected_attach_type: $at, auto: AutoAttach::$auto, sleepable: $sl, needs_btf_target: $btf }
    };
}

use AttachType as at;
/// No expected attach type: the kernel takes 0 (it ignores the field for these program types).
const UNSET: AttachType = AttachType(0);

/// The table, most specific first where prefixes overlap.
pub static SECTION_DEFS: &[SectionDef] = &[
    def!("socket", SOCKET_FILTER),
    def!("sk_reuseport/migrate", SK_REUSEPORT, at::SK_REUSEPORT_SELECT_OR_MIGRATE),
    def!("sk_reuseport", SK_REUSEPORT, at::SK_REUSEPORT_SELECT),
    def!("kprobe+", KPROBE, UNSET, Kprobe),
    def!("kretprobe+", KPROBE, UNSET, Kretprobe),
    def!("uprobe+", KPROBE, UNSET, Uprobe),
    def!("uprobe.s+", KPROBE, UNSET, Uprobe, true, false),
    def!("uretprobe+", KPROBE, UNSET, Uretprobe),
    def!("uretprobe.s+", KPROBE, UNSET, Uretprobe, true, false),
    def!("kprobe.multi+", KPROBE, at::TRACE_KPROBE_MULTI),
    def!("kretprobe.multi+", KPROBE, at::TRACE_KPROBE_MULTI),
    def!("uprobe.multi+", KPROBE, at::TRACE_UPROBE_MULTI),
    def!("uretprobe.multi+", KPROBE, at::TRACE_UPROBE_MULTI),
    def!("ksyscall+", KPROBE),
    def!("kretsyscall+", KPROBE),
    def!("usdt+", KPROBE),
    def!("tc/ingress", SCHED_CLS, at::TCX_INGRESS),
    def!("tc/egress", SCHED_CLS, at::TCX_EGRESS),
    def!("tcx/ingress", SCHED_CLS, at::TCX_INGRESS),
    def!("tcx/egress", SCHED_CLS, at::TCX_EGRESS),
    def!("tc", SCHED_CLS),
    def!("classifier", SCHED_CLS),
    def!("action", SCHED_ACT),
    def!("netkit/primary", SCHED_CLS, at::NETKIT_PRIMARY),
    def!("netkit/peer", SCHED_CLS, at::NETKIT_PEER),
    def!("tracepoint+", TRACEPOINT, UNSET, Tracepoint),
    def!("tp+", TRACEPOINT, UNSET, Tracepoint),
    def!("raw_tracepoint+", RAW_TRACEPOINT, UNSET, RawTracepoint),
    def!("raw_tp+", RAW_TRACEPOINT, UNSET, RawTracepoint),
    def!("raw_tracepoint.w+", RAW_TRACEPOINT_WRITABLE, UNSET, RawTracepoint),
    def!("raw_tp.w+", RAW_TRACEPOINT_WRITABLE, UNSET, RawTracepoint),
    def!("tp_btf+", TRACING, at::TRACE_RAW_TP, None, false, true),
    def!("fentry+", TRACING, at::TRACE_FENTRY, None, false, true),
    def!("fmod_ret+", TRACING, at::MODIFY_RETURN, None, false, true),
    def!("fexit+", TRACING, at::TRACE_FEXIT, None, false, true),
    def!("fentry.s+", TRACING, at::TRACE_FENTRY, None, true, true),
    def!("fmod_ret.s+", TRACING, at::MODIFY_RETURN, None, true, true),
    def!("fexit.s+", TRACING, at::TRACE_FEXIT, None, true, true),
    def!("freplace+", EXT, UNSET, None, false, true),
    def!("lsm+", LSM, at::LSM_MAC, None, false, true),
    def!("lsm.s+", LSM, at::LSM_MAC, None, true, true),
    def!("iter+", TRACING, at::TRACE_ITER, None, false, true),
    def!("iter.s+", TRACING, at::TRACE_ITER, None, true, true),
    def!("syscall", SYSCALL, UNSET, None, true, false),
    def!("xdp.frags/devmap", XDP, at::XDP_DEVMAP),
    def!("xdp/devmap", XDP, at::XDP_DEVMAP),
    def!("xdp.frags/cpumap", XDP, at::XDP_CPUMAP),
    def!("xdp/cpumap", XDP, at::XDP_CPUMAP),
    def!("xdp.frags", XDP, at::XDP),
    def!("xdp", XDP, at::XDP),
    def!("perf_event", PERF_EVENT),
    def!("lwt_in", LWT_IN),
    def!("lwt_out", LWT_OUT),
    def!("lwt_xmit", LWT_XMIT),
    def!("lwt_seg6local", LWT_SEG6LOCAL),
    def!("sockops", SOCK_OPS, at::CGROUP_SOCK_OPS),
    def!("sk_skb/stream_parser", SK_SKB, at::SK_SKB_STREAM_PARSER),
    def!("sk_skb/stream_verdict", SK_SKB, at::SK_SKB_STREAM_VERDICT),
    def!("sk_skb/verdict", SK_SKB, at::SK_SKB_VERDICT),
    def!("sk_skb", SK_SKB),
    def!("sk_msg", SK_MSG, at::SK_MSG_VERDICT),
    def!("lirc_mode2", LIRC_MODE2, at::LIRC_MODE2),
    def!("flow_dissector", FLOW_DISSECTOR, at::FLOW_DISSECTOR),
    def!("cgroup_skb/ingress", CGROUP_SKB, at::CGROUP_INET_INGRESS),
    def!("cgroup_skb/egress", CGROUP_SKB, at::CGROUP_INET_EGRESS),
    def!("cgroup/skb", CGROUP_SKB),
    def!("cgroup/sock_create", CGROUP_SOCK, at::CGROUP_INET_SOCK_CREATE),
    def!("cgroup/sock_release", CGROUP_SOCK, at::CGROUP_INET_SOCK_RELEASE),
    def!("cgroup/sock", CGROUP_SOCK, at::CGROUP_INET_SOCK_CREATE),
    def!("cgroup/post_bind4", CGROUP_SOCK, at::CGROUP_INET4_POST_BIND),
    def!("cgroup/post_bind6", CGROUP_SOCK, at::CGROUP_INET6_POST_BIND),
    def!("cgroup/bind4", CGROUP_SOCK_ADDR, at::CGROUP_INET4_BIND),
    def!("cgroup/bind6", CGROUP_SOCK_ADDR, at::CGROUP_INET6_BIND),
    def!("cgroup/connect4", CGROUP_SOCK_ADDR, at::CGROUP_INET4_CONNECT),
    def!("cgroup/connect6", CGROUP_SOCK_ADDR, at::CGROUP_INET6_CONNECT),
    def!("cgroup/connect_unix", CGROUP_SOCK_ADDR, at::CGROUP_UNIX_CONNECT),
    def!("cgroup/sendmsg4", CGROUP_SOCK_ADDR, at::CGROUP_UDP4_SENDMSG),
    def!("cgroup/sendmsg6", CGROUP_SOCK_ADDR, at::CGROUP_UDP6_SENDMSG),
    def!("cgroup/sendmsg_unix", CGROUP_SOCK_ADDR, at::CGROUP_UNIX_SENDMSG),
    def!("cgroup/recvmsg4", CGROUP_SOCK_ADDR, at::CGROUP_UDP4_RECVMSG),
    def!("cgroup/recvmsg6", CGROUP_SOCK_ADDR, at::CGROUP_UDP6_RECVMSG),
    def!("cgroup/recvmsg_unix", CGROUP_SOCK_ADDR, at::CGROUP_UNIX_RECVMSG),
    def!("cgroup/getpeername4", CGROUP_SOCK_ADDR, at::CGROUP_INET4_GETPEERNAME),
    def!("cgroup/getpeername6", CGROUP_SOCK_ADDR, at::CGROUP_INET6_GETPEERNAME),
    def!("cgroup/getpeername_unix", CGROUP_SOCK_ADDR, at::CGROUP_UNIX_GETPEERNAME),
    def!("cgroup/getsockname4", CGROUP_SOCK_ADDR, at::CGROUP_INET4_GETSOCKNAME),
    def!("cgroup/getsockname6", CGROUP_SOCK_ADDR, at::CGROUP_INET6_GETSOCKNAME),
    def!("cgroup/getsockname_unix", CGROUP_SOCK_ADDR, at::CGROUP_UNIX_GETSOCKNAME),
    def!("cgroup/sysctl", CGROUP_SYSCTL, at::CGROUP_SYSCTL),
    def!("cgroup/getsockopt", CGROUP_SOCKOPT, at::CGROUP_GETSOCKOPT),
    def!("cgroup/setsockopt", CGROUP_SOCKOPT, at::CGROUP_SETSOCKOPT),
    def!("cgroup/dev", CGROUP_DEVICE, at::CGROUP_DEVICE),
    def!("struct_ops+", STRUCT_OPS),
    def!("struct_ops.s+", STRUCT_OPS, UNSET, None, true, false),
    def!("sk_lookup", SK_LOOKUP, at::SK_LOOKUP),
    def!("netfilter", NETFILTER, at::NETFILTER),
];

/// Old-style prefixes accepted by loaders before libbpf 1.0 (`socket1`, `xdp_prog`).
static LEGACY_PREFIXES: &[(&str, &str)] = &[
    ("socket", "socket"),
    ("xdp", "xdp"),
    ("classifier", "classifier"),
    ("action", "action"),
    ("kprobe", "kprobe+"),
    ("kretprobe", "kretprobe+"),
    ("tracepoint", "tracepoint+"),
    ("raw_tracepoint", "raw_tracepoint+"),
    ("perf_event", "perf_event"),
];

/// Look up a section name. Returns the definition and whether it matched only
/// through the legacy prefix rule.
pub fn lookup(section: &str) -> Option<(&'static SectionDef, bool)> {
    for d in SECTION_DEFS {
        if let Some(base) = d.pattern.strip_suffix('+') {
            if section == base || (section.len() > base.len() && section.starts_with(base) && section.as_bytes()[base.len()] == b'/') {
                return Some((d, false));
            }
        } else if section == d.pattern {
            return Some((d, false));
        }
    }
    for (pfx, pat) in LEGACY_PREFIXES {
        if section.starts_with(pfx) {
            return SECTION_DEFS.iter().find(|d| d.pattern == *pat).map(|d| (d, true));
        }
    }
    None
}

/// The attach target written after the section's first `/`: `kprobe/do_sys_open+16` gives `do_sys_open+16`.
pub fn attach_target(section: &str) -> Option<&str> {
    section.split_once('/').map(|(_, t)| t).filter(|t| !t.is_empty())
}

/// The kernel BTF type a BTF-targeted program attaches to, as libbpf names
/// it: (type name, whether it is a `typedef` rather than a `func`).
/// `tp_btf/NAME` is `typedef btf_trace_NAME`, `lsm/HOOK` is `bpf_lsm_HOOK`,
/// `iter/NAME` is `bpf_iter_NAME`; fentry/fexit/fmod_ret name the function.
/// None when the section names no target (or for `freplace`, which attaches
/// to another BPF program).
pub fn btf_attach_target(def: &SectionDef, section: &str) -> Option<(String, bool)> {
    let t = attach_target(section)?;
    let base = def.pattern.trim_end_matches('+').trim_end_matches(".s");
    Some(match base {
        "tp_btf" => (format!("btf_trace_{t}"), true),
        "lsm" => (format!("bpf_lsm_{t}"), false),
        "iter" => (format!("bpf_iter_{t}"), false),
        "fentry" | "fexit" | "fmod_ret" => (t.to_string(), false),
        _ => return None,
    })
}

/// "section 'X' is not a program type bpfl knows", with the nearest known
/// name when the section looks like a typo of one.
pub fn unknown_message(section: &str) -> String {
    match suggest(section) {
        Some(s) => format!("section '{section}' is not a program type bpfl knows: did you mean '{s}'?"),
        None => format!("section '{section}' is not a program type bpfl knows"),
    }
}

/// The known section name nearest to the part of `section` before its
/// first `/`, by edit distance: `tracepont/syscalls/x` gives `tracepoint/`.
/// None when that part is known already or nothing is close (more than a
/// third of its letters would change), so a custom name gets no guess.
pub fn suggest(section: &str) -> Option<String> {
    let (head, has_target) = match section.split_once('/') {
        Some((h, _)) => (h, true),
        None => (section, false),
    };
    let mut best: Option<(usize, &str, bool)> = None;
    for d in SECTION_DEFS {
        let (base, plus) = d.pattern.strip_suffix('+').map_or((d.pattern, false), |b| (b, true));
        let (name, rest) = base.split_once('/').map_or((base, false), |(n, _)| (n, true));
        let dist = edit_distance(head, name);
        // The table is most specific first: on a tie the earlier name stays.
        if best.map_or(true, |(b, _, _)| dist < b) {
            best = Some((dist, name, plus || rest));
        }
    }
    let (dist, name, takes_target) = best?;
    if head.is_empty() || dist == 0 || dist > (head.len() / 3).max(1) {
        return None;
    }
    Some(if takes_target && has_target { format!("{name}/") } else { name.to_string() })
}

/// Levenshtein distance over bytes (section names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean() {
        assert_eq!(suggest("tracepont/syscalls/x").as_deref(), Some("tracepoint/"));
        assert_eq!(
            unknown_message("tracepont/syscalls/x"),
            "section 'tracepont/syscalls/x' is not a program type bpfl knows: did you mean 'tracepoint/'?"
        );
        assert_eq!(suggest("kprobee/do_sys_open").as_deref(), Some("kprobe/"));
        assert_eq!(suggest("xdpp").as_deref(), Some("xdp"));
        assert_eq!(suggest("fentyr/vfs_read").as_deref(), Some("fentry/"));
        assert_eq!(suggest("cgroupp/connect4").as_deref(), Some("cgroup/"));
        assert_eq!(suggest("raw_tracepiont/sys_enter").as_deref(), Some("raw_tracepoint/"));
        // Nothing close, or not a typo: no guess.
        assert_eq!(suggest("my_section"), None);
        assert_eq!(suggest("foo/bar"), None);
        assert_eq!(suggest(""), None);
        assert_eq!(suggest("xdp/bogus"), None);
        assert_eq!(unknown_message("my_section"), "section 'my_section' is not a program type bpfl knows");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn btf_attach_targets() {
        let t = |s: &str| btf_attach_target(lookup(s).unwrap().0, s);
        assert_eq!(t("fentry/vfs_read"), Some(("vfs_read".into(), false)));
        assert_eq!(t("fexit.s/do_x"), Some(("do_x".into(), false)));
        assert_eq!(t("tp_btf/sched_switch"), Some(("btf_trace_sched_switch".into(), true)));
        assert_eq!(t("lsm.s/file_open"), Some(("bpf_lsm_file_open".into(), false)));
        assert_eq!(t("iter/task"), Some(("bpf_iter_task".into(), false)));
        assert_eq!(t("fentry"), None);
        assert_eq!(t("freplace/f"), None);
    }

    #[test]
    fn libbpf_conventions() {
        let k = lookup("kprobe/do_sys_open").unwrap().0;
        assert_eq!((k.prog_type, k.auto), (ProgramType::KPROBE, AutoAttach::Kprobe));
        assert_eq!(lookup("kretprobe/x").unwrap().0.auto, AutoAttach::Kretprobe);
        assert_eq!(lookup("uprobe//bin/bash:readline").unwrap().0.auto, AutoAttach::Uprobe);
        assert_eq!(attach_target("uretprobe//bin/bash:readline"), Some("/bin/bash:readline"));
        assert_eq!(lookup("uretprobe").unwrap().0.auto, AutoAttach::Uretprobe);
        assert_eq!(attach_target("uprobe"), None);
        let tp = lookup("tp/syscalls/sys_enter_getpid").unwrap().0;
        assert_eq!((tp.prog_type, tp.auto), (ProgramType::TRACEPOINT, AutoAttach::Tracepoint));
        assert_eq!(lookup("tracepoint/a/b").unwrap().0.prog_type, ProgramType::TRACEPOINT);
        assert_eq!(lookup("raw_tp/sys_enter").unwrap().0.prog_type, ProgramType::RAW_TRACEPOINT);
        assert_eq!(lookup("raw_tp.w/x").unwrap().0.prog_type, ProgramType::RAW_TRACEPOINT_WRITABLE);
        assert_eq!(lookup("xdp").unwrap().0.expected_attach_type, AttachType::XDP);
        assert_eq!(lookup("xdp/devmap").unwrap().0.expected_attach_type, AttachType::XDP_DEVMAP);
        assert_eq!(lookup("cgroup/connect4").unwrap().0.prog_type, ProgramType::CGROUP_SOCK_ADDR);
        assert!(lookup("fentry/do_unlinkat").unwrap().0.needs_btf_target);
        assert!(lookup("lsm.s/file_open").unwrap().0.sleepable);
        // "kprobe" must not swallow "kprobe.multi"
        assert_eq!(lookup("kprobe.multi/x").unwrap().0.expected_attach_type, AttachType::TRACE_KPROBE_MULTI);
        assert_eq!(lookup("socket").unwrap().1, false);
    }

    #[test]
    fn legacy_and_unknown() {
        let (d, legacy) = lookup("socket1").unwrap();
        assert!(legacy);
        assert_eq!(d.prog_type, ProgramType::SOCKET_FILTER);
        assert!(lookup("xdp_prog").unwrap().1);
        assert!(lookup("license").is_none());
        assert!(lookup("my_section").is_none());
        assert!(lookup(".text").is_none());
    }

    #[test]
    fn targets() {
        assert_eq!(attach_target("kprobe/do_sys_open+16"), Some("do_sys_open+16"));
        assert_eq!(attach_target("tp/syscalls/sys_enter_getpid"), Some("syscalls/sys_enter_getpid"));
        assert_eq!(attach_target("kprobe/"), None);
        assert_eq!(attach_target("xdp"), None);
    }
}
