/* A netfilter program (Linux 6.4+; an object of its own so that older
 * kernels still load cgroup_sock.o): counts the packets of its hook. */
#include <bpfl/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} nf_packets SEC(".maps");

SEC("netfilter")
int nf_count(void *ctx)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&nf_packets, &zero);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 1; /* NF_ACCEPT */
}

char LICENSE[] SEC("license") = "GPL";
