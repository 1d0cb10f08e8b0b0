/* Maps for the batch operation tests (bpfl_map_*_batch): filled, read,
 * drained and emptied from user space in batches of 10,000.
 *   hash:        u32 -> u64, room for 12,000 (10,000 written).
 *   percpu_hash: u32 -> u32 per CPU (4-byte values: each CPU's slot is
 *                rounded up to 8 bytes in the batch buffers).
 *   array:       u32 -> u64, 10,000 slots.
 *   progs, rb:   map types the kernel does not batch.
 * batch_probe (XDP, test runs): copies hash[4242] to `seen`, so a test can
 * check the program sees what a batch wrote. */
#include <bpfl/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 12000);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 12000);
	__type(key, __u32);
	__type(value, __u32);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 10000);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

__u64 seen = 0;

SEC("xdp")
int batch_probe(struct xdp_md *ctx)
{
	__u32 k = 4242;
	__u64 *v = bpf_map_lookup_elem(&hash, &k);

	seen = v ? *v : ~0ULL;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
