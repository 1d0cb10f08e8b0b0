/* cgroup and socket programs for the attach tests (issue 11): a connect4
 * port rewrite, an egress byte counter, a socket filter, a sockmap redirect,
 * a tail-call dispatcher whose slots user space fills, and map-in-map. */
#include <bpfl/bpf_helpers.h>

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)26;
static long (*bpf_msg_redirect_map)(struct sk_msg_md *msg, void *map, __u32 key, __u64 flags) = (void *)60;

/* conf[0]: the port connect4 rewrites, conf[1]: the port it rewrites to
 * (both as ctx->user_port holds them: network order in the low 16 bits). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} conf SEC(".maps");

/* [0] connect4 rewrites, [1] egress packets, [2] egress bytes, [3] filter
 * drops, [4] sk_msg redirects, [5] tail-call target runs, [6] dispatcher
 * fall-throughs, [7] sk_lookup runs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void bump(__u32 k, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, by);
}

SEC("cgroup/connect4")
int connect4_rewrite(struct bpf_sock_addr *ctx)
{
	__u32 k0 = 0, k1 = 1;
	__u32 *from = bpf_map_lookup_elem(&conf, &k0);
	__u32 *to = bpf_map_lookup_elem(&conf, &k1);
	if (from && to && *from && ctx->user_port == *from) {
		ctx->user_port = *to;
		bump(0, 1);
	}
	return 1;
}

SEC("cgroup_skb/egress")
int egress_count(struct __sk_buff *skb)
{
	bump(1, 1);
	bump(2, skb->len);
	return 1;
}

/* Drops datagrams whose first byte is 'x'. */
SEC("socket")
int drop_x(struct __sk_buff *skb)
{
	char c = 0;
	if (bpf_skb_load_bytes(skb, 0, &c, 1) == 0 && c == 'x') {
		bump(3, 1);
		return 0;
	}
	return skb->len;
}

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} socks SEC(".maps");

/* A message whose first byte is 'r' goes to the ingress of socks[1]; the rest pass. */
SEC("sk_msg")
int msg_redirect(struct sk_msg_md *msg)
{
	char *data = msg->data, *end = msg->data_end;
	if (data + 1 > end || data[0] != 'r')
		return SK_PASS;
	bump(4, 1);
	return bpf_msg_redirect_map(msg, &socks, 1, BPF_F_INGRESS);
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump SEC(".maps");

/* Tail-calls slot 0; an empty slot falls through and passes the datagram. */
SEC("socket")
int dispatch(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jump, 0);
	bump(6, 1);
	return skb->len;
}

/* The tail-call target: drops. */
SEC("socket")
int target_drop(struct __sk_buff *skb)
{
	bump(5, 1);
	return 0;
}

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};
struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

/* Counts each datagram in whichever map outer[0] holds. */
SEC("socket")
int count_inner(struct __sk_buff *skb)
{
	__u32 zero = 0;
	void *m = bpf_map_lookup_elem(&outer, &zero);
	if (m) {
		__u64 *v = bpf_map_lookup_elem(m, &zero);
		if (v)
			__sync_fetch_and_add(v, 1);
	}
	return skb->len;
}

/* Passes every lookup: attached to a network namespace of the test's. */
SEC("sk_lookup")
int lookup_pass(struct bpf_sk_lookup *ctx)
{
	bump(7, 1);
	return SK_PASS;
}

/* Attached, queried and detached only (it leaves flow keys as they are). */
SEC("flow_dissector")
int dissect_nothing(struct __sk_buff *skb)
{
	return BPF_OK;
}

char LICENSE[] SEC("license") = "GPL";
