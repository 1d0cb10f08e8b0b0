/* A reuseport selector and a flow dissector that leave proof of running
 * (issue 11): the sk_reuseport program steers each UDP datagram to the
 * socket in slot (first payload byte % 4) of a REUSEPORT_SOCKARRAY; the
 * flow dissector fills IPv4/UDP flow keys and counts its runs. */
#include <bpfl/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>

static long (*bpf_sk_select_reuseport)(struct sk_reuseport_md *reuse, void *map, void *key, __u64 flags) = (void *)82;

#define RP_SOCKS 4

struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(max_entries, RP_SOCKS);
	__type(key, __u32);
	__type(value, __u64);
} rp_socks SEC(".maps");

/* [0..3] datagrams steered to slot i, [4] selections the kernel refused,
 * [5] datagrams too short to carry a payload byte. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 6);
	__type(key, __u32);
	__type(value, __u64);
} rp_counts SEC(".maps");

/* [0] dissector runs, [1] IPv4 UDP flows dissected, [2] other packets. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} fd_counts SEC(".maps");

static __always_inline void bump(void *map, __u32 k)
{
	__u64 *c = bpf_map_lookup_elem(map, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("sk_reuseport")
int rp_select(struct sk_reuseport_md *md)
{
	/* For UDP, data starts at the UDP header; the payload follows it. */
	__u8 *p = (__u8 *)md->data + sizeof(struct udphdr);
	__u32 key;

	if ((void *)(p + 1) > md->data_end) {
		bump(&rp_counts, 5);
		return SK_DROP;
	}
	key = p[0] % RP_SOCKS;
	if (bpf_sk_select_reuseport(md, &rp_socks, &key, 0)) {
		bump(&rp_counts, 4);
		return SK_DROP;
	}
	bump(&rp_counts, key);
	return SK_PASS;
}

SEC("flow_dissector")
int dissect_ipv4_udp(struct __sk_buff *skb)
{
	struct bpf_flow_keys *k = skb->flow_keys;
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip;
	struct udphdr *udp;
	__u16 nhoff = k->nhoff, thoff;

	bump(&fd_counts, 0);
	/* Bounded offsets, so the verifier can track the packet ranges. */
	if (k->n_proto != __builtin_bswap16(ETH_P_IP) || nhoff > 256)
		goto other;
	ip = data + nhoff;
	if ((void *)(ip + 1) > end || ip->ihl < 5)
		goto other;
	k->addr_proto = ETH_P_IP;
	k->ip_proto = ip->protocol;
	k->ipv4_src = ip->saddr;
	k->ipv4_dst = ip->daddr;
	thoff = nhoff + ip->ihl * 4;
	if (thoff > 512)
		goto other;
	k->thoff = thoff;
	if (ip->protocol != IPPROTO_UDP)
		goto other;
	udp = data + thoff;
	if ((void *)(udp + 1) > end)
		goto other;
	k->sport = udp->source;
	k->dport = udp->dest;
	bump(&fd_counts, 1);
	return BPF_OK;
other:
	bump(&fd_counts, 2);
	return BPF_DROP;
}

char LICENSE[] SEC("license") = "GPL";
