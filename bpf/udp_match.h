/* Shared by the network test programs (bpf/net.bpf.c, bpf/netkit.bpf.c):
 * whether a frame is an IPv4 UDP datagram to a given port. */
#ifndef BPFL_TEST_UDP_MATCH_H
#define BPFL_TEST_UDP_MATCH_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>

/* [data, end) is an Ethernet frame; `port` (host order) 0 matches nothing. */
static __always_inline int udp_to_port(void *data, void *end, __u32 port)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;

	if (!port || (void *)(ip + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return 0;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return 0;
	return udp->dest == __builtin_bswap16((__u16)port);
}

#endif
