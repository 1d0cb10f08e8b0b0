/* netkit programs (Linux 6.7+): count the UDP datagrams to one port that
 * a netkit device sends, and drop them or let the next program decide.
 * netkit hands its programs an Ethernet frame (zero addresses in L3 mode). */
#include <bpfl/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>

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
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;
	__u32 zero = 0, *port;

	if ((void *)(ip + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return 0;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return 0;
	port = bpf_map_lookup_elem(&nk_cfg, &zero);
	return port && *port && udp->dest == __builtin_bswap16((__u16)*port);
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
