//! The kernel's program, map and attach types (`enum bpf_prog_type`,
//! `enum bpf_map_type`, `enum bpf_attach_type`) as newtypes over the `u32` of
//! the uapi, so that a message names `BPF_MAP_TYPE_HASH` rather than `1`.
//! A value bpfl does not know is still carried (the kernel may know it) and
//! prints as `map type 99`.

use std::fmt;

/// One list per uapi enum gives the newtype, its associated constants, the
/// kernel's names, and a module of bare `u32` constants for code that talks
/// to the C ABI.
macro_rules! uapi_enum {
    ($(#[$doc:meta])* $ty:ident, $raw:ident, $prefix:literal, $what:literal { $($name:ident = $v:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $ty(pub u32);

        #[allow(missing_docs)]
        impl $ty {
            $(pub const $name: $ty = $ty($v);)*

            /// The raw value, as the kernel's ABI takes it.
            pub const fn as_u32(self) -> u32 {
                self.0
            }

            /// The kernel's name of the value, None when bpfl does not know it.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some(concat!($prefix, stringify!($name))),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!($what, " {}"), self.0),
                }
            }
        }

        impl From<$ty> for u32 {
            fn from(t: $ty) -> u32 {
                t.0
            }
        }

        /// The same values as bare `u32`s, for code on the C ABI's side.
        #[allow(missing_docs)]
        pub mod $raw {
            $(pub const $name: u32 = $v;)*
        }
    };
}

uapi_enum! {
    /// `enum bpf_prog_type`.
    ProgramType, prog_type, "BPF_PROG_TYPE_", "program type" {
        UNSPEC = 0,
        SOCKET_FILTER = 1,
        KPROBE = 2,
        SCHED_CLS = 3,
        SCHED_ACT = 4,
        TRACEPOINT = 5,
        XDP = 6,
        PERF_EVENT = 7,
        CGROUP_SKB = 8,
        CGROUP_SOCK = 9,
        LWT_IN = 10,
        LWT_OUT = 11,
        LWT_XMIT = 12,
        SOCK_OPS = 13,
        SK_SKB = 14,
        CGROUP_DEVICE = 15,
        SK_MSG = 16,
        RAW_TRACEPOINT = 17,
        CGROUP_SOCK_ADDR = 18,
        LWT_SEG6LOCAL = 19,
        LIRC_MODE2 = 20,
        SK_REUSEPORT = 21,
        FLOW_DISSECTOR = 22,
        CGROUP_SYSCTL = 23,
        RAW_TRACEPOINT_WRITABLE = 24,
        CGROUP_SOCKOPT = 25,
        TRACING = 26,
        STRUCT_OPS = 27,
        EXT = 28,
        LSM = 29,
        SK_LOOKUP = 30,
        SYSCALL = 31,
        NETFILTER = 32,
    }
}

uapi_enum! {
    /// `enum bpf_map_type`.
    MapType, map_type, "BPF_MAP_TYPE_", "map type" {
        UNSPEC = 0,
        HASH = 1,
        ARRAY = 2,
        PROG_ARRAY = 3,
        PERF_EVENT_ARRAY = 4,
        PERCPU_HASH = 5,
        PERCPU_ARRAY = 6,
        STACK_TRACE = 7,
        CGROUP_ARRAY = 8,
        LRU_HASH = 9,
        LRU_PERCPU_HASH = 10,
        LPM_TRIE = 11,
        ARRAY_OF_MAPS = 12,
        HASH_OF_MAPS = 13,
        DEVMAP = 14,
        SOCKMAP = 15,
        CPUMAP = 16,
        XSKMAP = 17,
        SOCKHASH = 18,
        CGROUP_STORAGE = 19,
        REUSEPORT_SOCKARRAY = 20,
        PERCPU_CGROUP_STORAGE = 21,
        QUEUE = 22,
        STACK = 23,
        SK_STORAGE = 24,
        DEVMAP_HASH = 25,
        STRUCT_OPS = 26,
        RINGBUF = 27,
        INODE_STORAGE = 28,
        TASK_STORAGE = 29,
        BLOOM_FILTER = 30,
        USER_RINGBUF = 31,
        CGRP_STORAGE = 32,
        ARENA = 33,
    }
}

impl MapType {
    /// Whether the kernel takes BTF key/value types for this map type. These
    /// refuse them (ENOTSUPP or EINVAL), and a refused creation can cost the
    /// kernel tens of milliseconds (a sockmap's teardown waits for RCU), so
    /// they are created without them from the start.
    pub const fn takes_btf_key_value(self) -> bool {
        !matches!(
            self,
            MapType::PERF_EVENT_ARRAY
                | MapType::CGROUP_ARRAY
                | MapType::STACK_TRACE
                | MapType::ARRAY_OF_MAPS
                | MapType::HASH_OF_MAPS
                | MapType::DEVMAP
                | MapType::DEVMAP_HASH
                | MapType::CPUMAP
                | MapType::XSKMAP
                | MapType::SOCKMAP
                | MapType::SOCKHASH
                | MapType::QUEUE
                | MapType::STACK
        )
    }
}

uapi_enum! {
    /// `enum bpf_attach_type`.
    AttachType, attach_type, "BPF_", "attach type" {
        CGROUP_INET_INGRESS = 0,
        CGROUP_INET_EGRESS = 1,
        CGROUP_INET_SOCK_CREATE = 2,
        CGROUP_SOCK_OPS = 3,
        SK_SKB_STREAM_PARSER = 4,
        SK_SKB_STREAM_VERDICT = 5,
        CGROUP_DEVICE = 6,
        SK_MSG_VERDICT = 7,
        CGROUP_INET4_BIND = 8,
        CGROUP_INET6_BIND = 9,
        CGROUP_INET4_CONNECT = 10,
        CGROUP_INET6_CONNECT = 11,
        CGROUP_INET4_POST_BIND = 12,
        CGROUP_INET6_POST_BIND = 13,
        CGROUP_UDP4_SENDMSG = 14,
        CGROUP_UDP6_SENDMSG = 15,
        LIRC_MODE2 = 16,
        FLOW_DISSECTOR = 17,
        CGROUP_SYSCTL = 18,
        CGROUP_UDP4_RECVMSG = 19,
        CGROUP_UDP6_RECVMSG = 20,
        CGROUP_GETSOCKOPT = 21,
        CGROUP_SETSOCKOPT = 22,
        TRACE_RAW_TP = 23,
        TRACE_FENTRY = 24,
        TRACE_FEXIT = 25,
        MODIFY_RETURN = 26,
        LSM_MAC = 27,
        TRACE_ITER = 28,
        CGROUP_INET4_GETPEERNAME = 29,
        CGROUP_INET6_GETPEERNAME = 30,
        CGROUP_INET4_GETSOCKNAME = 31,
        CGROUP_INET6_GETSOCKNAME = 32,
        XDP_DEVMAP = 33,
        CGROUP_INET_SOCK_RELEASE = 34,
        XDP_CPUMAP = 35,
        SK_LOOKUP = 36,
        XDP = 37,
        SK_SKB_VERDICT = 38,
        SK_REUSEPORT_SELECT = 39,
        SK_REUSEPORT_SELECT_OR_MIGRATE = 40,
        PERF_EVENT = 41,
        TRACE_KPROBE_MULTI = 42,
        LSM_CGROUP = 43,
        STRUCT_OPS = 44,
        NETFILTER = 45,
        TCX_INGRESS = 46,
        TCX_EGRESS = 47,
        TRACE_UPROBE_MULTI = 48,
        CGROUP_UNIX_CONNECT = 49,
        CGROUP_UNIX_SENDMSG = 50,
        CGROUP_UNIX_RECVMSG = 51,
        CGROUP_UNIX_GETPEERNAME = 52,
        CGROUP_UNIX_GETSOCKNAME = 53,
        NETKIT_PRIMARY = 54,
        NETKIT_PEER = 55,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_print_their_kernel_names() {
        assert_eq!(MapType::HASH.to_string(), "BPF_MAP_TYPE_HASH");
        assert_eq!(MapType(99).to_string(), "map type 99");
        assert_eq!(ProgramType::KPROBE.name(), Some("BPF_PROG_TYPE_KPROBE"));
        assert_eq!(AttachType::TRACE_FENTRY.to_string(), "BPF_TRACE_FENTRY");
        assert_eq!(AttachType(1000).to_string(), "attach type 1000");
        assert_eq!(map_type::RINGBUF, MapType::RINGBUF.as_u32());
    }
}
