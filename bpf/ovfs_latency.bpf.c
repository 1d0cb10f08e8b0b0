/* Read latency, in the style of the seed's overlayfs tracer (nimbpf's
 * example), for bindings/nim/examples/ovfslat.nim:
 *  - kprobe/kretprobe on ovl_read_iter: overlayfs reads, as the seed did;
 *  - tracepoints sys_enter_read/sys_exit_read: every read() syscall, the
 *    fallback on kernels without kprobes (or without overlayfs).
 * Each source has its own maps, so both can run at once. Legacy SEC("maps")
 * definitions, as nimbpf users wrote them. */
#include <bpfl/bpf_helpers.h>

/* <linux/stddef.h> defines __always_inline as plain __inline__: force it. */
#define INLINE inline __attribute__((always_inline))
#define MAX_MAP_ENTRIES 10240
#define SLOTS 64 /* histogram slot = log2(latency in ns) */

#define HASH_MAP(name, vtype) \
	struct bpf_map_def SEC("maps") name = { \
		.type = BPF_MAP_TYPE_HASH, .key_size = sizeof(__u32), \
		.value_size = sizeof(vtype), .max_entries = MAX_MAP_ENTRIES, }
#define HIST_MAP(name) \
	struct bpf_map_def SEC("maps") name = { \
		.type = BPF_MAP_TYPE_ARRAY, .key_size = sizeof(__u32), \
		.value_size = sizeof(__u64), .max_entries = SLOTS, }

/* kprobe source: start time per thread, then per process (tgid) reads,
 * total ns and bytes, and a histogram of latencies. */
HASH_MAP(ovfs_op_start_times, __u64);
HASH_MAP(ovfs_reads, __u64);
HASH_MAP(ovfs_read_ns, __u64);
HASH_MAP(ovfs_read_bytes, __u64);
HIST_MAP(ovfs_read_hist);

/* tracepoint source: the same for read() syscalls. */
HASH_MAP(sys_read_start_times, __u64);
HASH_MAP(sys_reads, __u64);
HASH_MAP(sys_read_ns, __u64);
HASH_MAP(sys_read_bytes, __u64);
HIST_MAP(sys_read_hist);

static INLINE __u32 log2_u64(__u64 v)
{
	__u32 r, shift;
	r = (v > 0xFFFFFFFFull) << 5; v >>= r;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (__u32)(v >> 1);
	return r;
}

static INLINE void add(void *map, __u32 key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);
	if (v)
		__sync_fetch_and_add(v, n);
	else
		bpf_map_update_elem(map, &key, &n, BPF_NOEXIST);
}

static INLINE void start(void *starts)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(starts, &tid, &ts, BPF_ANY);
}

static INLINE void finish(void *starts, void *reads, void *ns, void *bytes,
				   void *hist, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	__u64 *ts = bpf_map_lookup_elem(starts, &tid);
	if (!ts)
		return;
	__u64 delta = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(starts, &tid);
	add(reads, tgid, 1);
	add(ns, tgid, delta);
	if (ret > 0)
		add(bytes, tgid, (__u64)ret);
	__u32 slot = log2_u64(delta);
	if (slot >= SLOTS)
		slot = SLOTS - 1;
	__u64 *h = bpf_map_lookup_elem(hist, &slot);
	if (h)
		__sync_fetch_and_add(h, 1);
}

SEC("kprobe/ovl_read_iter")
int trace_ovl_read_iter(struct pt_regs *ctx)
{
	start(&ovfs_op_start_times);
	return 0;
}

SEC("kretprobe/ovl_read_iter")
int trace_ovl_read_iter_ret(struct pt_regs *ctx)
{
	finish(&ovfs_op_start_times, &ovfs_reads, &ovfs_read_ns, &ovfs_read_bytes,
	       &ovfs_read_hist, (long)PT_REGS_RC(ctx));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int trace_sys_enter_read(void *ctx)
{
	start(&sys_read_start_times);
	return 0;
}

/* struct trace_event_raw_sys_exit: 8 bytes of common fields, long id, long ret. */
struct sys_exit_args {
	__u64 common;
	long id;
	long ret;
};

SEC("tracepoint/syscalls/sys_exit_read")
int trace_sys_exit_read(struct sys_exit_args *ctx)
{
	finish(&sys_read_start_times, &sys_reads, &sys_read_ns, &sys_read_bytes,
	       &sys_read_hist, ctx->ret);
	return 0;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0xFFFFFFFE;
