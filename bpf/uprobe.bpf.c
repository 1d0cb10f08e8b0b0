/* Uprobes: count calls of a user function, sum its first argument, and
 * record its return value. The caller names the target at attach time. */
#include <bpfl/bpf_helpers.h>

/* [0] calls, [1] sum of first arguments, [2] returns, [3] last return value */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void add(__u32 k, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&stats, &k);
	if (p)
		__sync_fetch_and_add(p, v);
}

/* max_entries 0: the loader gives it one slot per possible CPU, as libbpf does. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("uprobe")
int on_call(struct pt_regs *ctx)
{
	add(0, 1);
	add(1, PT_REGS_PARM1(ctx));
	return 0;
}

SEC("uretprobe")
int on_return(struct pt_regs *ctx)
{
	__u32 k = 3;
	__u64 rc = PT_REGS_RC(ctx);
	add(2, 1);
	bpf_map_update_elem(&stats, &k, &rc, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
