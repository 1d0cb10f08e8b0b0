/* Networking programs for the XDP/tc tests: count (and for XDP drop) the UDP
 * datagrams to one port, and decide by a packet's first byte for test runs. */
#include <bpfl/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include "udp_match.h"

/* [0]: the UDP destination port to count, host order (set by the test). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cfg SEC(".maps");

/* [0] XDP, [1] tc (netlink cls_bpf), [2] TCX: datagrams to the port. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* Whether [data, end) is an IPv4 UDP datagram to the configured port. */
static __always_inline int is_ours(void *data, void *end)
{
	__u32 zero = 0, *port = bpf_map_lookup_elem(&cfg, &zero);

	return port && udp_to_port(data, end, *port);
}

static __always_inline void count(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("xdp")
int xdp_count_drop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (!is_ours(data, end))
		return XDP_PASS;
	count(0);
	return XDP_DROP;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	if (is_ours((void *)(long)skb->data, (void *)(long)skb->data_end))
		count(1);
	return TC_ACT_OK;
}

SEC("tc/egress")
int tcx_count(struct __sk_buff *skb)
{
	if (is_ours((void *)(long)skb->data, (void *)(long)skb->data_end))
		count(2);
	return TC_ACT_OK;
}

/* For test runs: drop a packet whose first byte is 0xdd, pass any other,
 * and mark what it passes by setting its second byte to 0x42. */
SEC("xdp")
int xdp_by_byte(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	if ((void *)(p + 2) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	if (p[0] == 0xdd)
		return XDP_DROP;
	p[1] = 0x42;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
