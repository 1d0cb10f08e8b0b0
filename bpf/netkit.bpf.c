/* netkit programs (Linux 6.7+): count the UDP datagrams to one port that
 * a netkit device sends, and drop them or let the next program decide.
 * netkit hands its programs an Ethernet frame (zero addresses in L3 mode). */
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
} nk_cfg SEC(".maps");

/* [0] primary drops, [1] primary "next" passes, [2] peer drops. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} nk_counts SEC(".maps");

static __always_inline int is_ours(struct __sk_buff *skb)
{
	__u32 zero = 0, *port = bpf_map_lookup_elem(&nk_cfg, &zero);

	return port && udp_to_port((void *)(long)skb->data, (void *)(long)skb->data_end, *port);
}

static __always_inline void count(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&nk_counts, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
}

/* TC_ACT_SHOT is NETKIT_DROP, TC_ACT_OK NETKIT_PASS, TC_ACT_UNSPEC NETKIT_NEXT. */
SEC("netkit/primary")
int nk_primary_drop(struct __sk_buff *skb)
{
	if (!is_ours(skb))
		return TC_ACT_OK;
	count(0);
	return TC_ACT_SHOT;
}

SEC("netkit/primary")
int nk_primary_next(struct __sk_buff *skb)
{
	if (is_ours(skb))
		count(1);
	return TC_ACT_UNSPEC;
}

SEC("netkit/peer")
int nk_peer_drop(struct __sk_buff *skb)
{
	if (!is_ours(skb))
		return TC_ACT_OK;
	count(2);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
