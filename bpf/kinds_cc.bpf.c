/* A TCP congestion control written in BPF (struct_ops, issue 12): Reno, by
 * the kernel's own tcp_reno_* kfuncs, with each callback counted in
 * `cc_calls` so a test sees them run. Registered through a BPF link
 * (.struct_ops.link, Linux 6.4+); kinds_cc_legacy.bpf.c builds the same
 * with a map update (.struct_ops). The name is fixed: one registration at
 * a time. */
#include <bpfl/bpf_helpers.h>

#ifndef CC_SECTION
#define CC_SECTION ".struct_ops.link"
#endif

char LICENSE[] SEC("license") = "GPL";

struct sock;

/* The members bpfl fills, matched by name to the kernel's struct. */
struct tcp_congestion_ops {
	void (*init)(struct sock *sk);
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	char name[16];
};

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

/* [0] init, [1] ssthresh, [2] cong_avoid, [3] undo_cwnd. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} cc_calls SEC(".maps");

static __always_inline void count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&cc_calls, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("struct_ops/bpfl_cc_init")
void bpfl_cc_init(unsigned long long *ctx)
{
	count(0);
}

SEC("struct_ops/bpfl_cc_ssthresh")
__u32 bpfl_cc_ssthresh(unsigned long long *ctx)
{
	count(1);
	return tcp_reno_ssthresh((struct sock *)ctx[0]);
}

SEC("struct_ops/bpfl_cc_cong_avoid")
void bpfl_cc_cong_avoid(unsigned long long *ctx)
{
	count(2);
	tcp_reno_cong_avoid((struct sock *)ctx[0], (__u32)ctx[1], (__u32)ctx[2]);
}

SEC("struct_ops/bpfl_cc_undo_cwnd")
__u32 bpfl_cc_undo_cwnd(unsigned long long *ctx)
{
	count(3);
	return tcp_reno_undo_cwnd((struct sock *)ctx[0]);
}

SEC(CC_SECTION)
struct tcp_congestion_ops bpfl_cc = {
	.init = (void *)bpfl_cc_init,
	.ssthresh = (void *)bpfl_cc_ssthresh,
	.cong_avoid = (void *)bpfl_cc_cong_avoid,
	.undo_cwnd = (void *)bpfl_cc_undo_cwnd,
	.name = "bpfl_cc",
};
