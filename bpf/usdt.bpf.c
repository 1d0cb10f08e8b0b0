/* USDT: record the arguments of probe bpfltest:req (tests/usdt/usdt_target.c)
 * as read through bpfl/usdt.bpf.h, and count the auto-attached probe
 * bpfltest:auto. Also uprobe.multi and attach cookies: count per cookie. */
#include <bpfl/bpf_helpers.h>
#include <bpfl/usdt.bpf.h>

/* [0..7] the 8 arguments, [8] hits, [9] arg count, [10] usdt cookie, [11] tgid,
 * [12] auto hits, [13] auto arg 0, [14] auto arg 1 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __s64);
} seen SEC(".maps");

static __always_inline void put(__u32 k, __s64 v)
{
	bpf_map_update_elem(&seen, &k, &v, BPF_ANY);
}

SEC("usdt")
int on_req(struct pt_regs *ctx)
{
	long v;
	for (int i = 0; i < 8; i++) {
		if (bpf_usdt_arg(ctx, i, &v) == 0)
			put(i, v);
	}
	put(8, 1);
	put(9, bpf_usdt_arg_cnt(ctx));
	put(10, bpf_usdt_cookie(ctx));
	put(11, bpf_get_current_pid_tgid() >> 32);
	return 0;
}

SEC("usdt/usdt_target:bpfltest:auto")
int BPF_USDT(on_auto, int seven, int argc)
{
	put(12, 1);
	put(13, seven);
	put(14, argc);
	return 0;
}

static __u64 (*get_cookie)(void *ctx) = (void *)174;

/* cookie -> calls, for uprobe.multi, uprobes and tracepoints with cookies */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u64);
} by_cookie SEC(".maps");

static __always_inline void count_cookie(void *ctx)
{
	__u64 c = get_cookie(ctx), one = 1;
	__u64 *p = bpf_map_lookup_elem(&by_cookie, &c);
	if (p)
		__sync_fetch_and_add(p, 1);
	else
		bpf_map_update_elem(&by_cookie, &c, &one, BPF_NOEXIST);
}

SEC("uprobe.multi")
int on_multi(struct pt_regs *ctx)
{
	count_cookie(ctx);
	return 0;
}

SEC("uprobe")
int on_single(struct pt_regs *ctx)
{
	count_cookie(ctx);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int on_tp(void *ctx)
{
	/* only this test's process (tgid in the map's key 0 slot of seen[15]) */
	__u32 k = 15;
	__s64 *want = bpf_map_lookup_elem(&seen, &k);
	if (want && *want == (bpf_get_current_pid_tgid() >> 32))
		count_cookie(ctx);
	return 0;
}

char _license[] SEC("license") = "GPL";
