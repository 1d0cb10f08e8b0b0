/* A bpf_map_elem iterator summing a u32 -> u64 map's values: apart from
 * kinds.bpf.c because some kernels (this project's Firecracker host) refuse
 * bpf_map_elem iterator programs with EPERM at load. */
#include <bpfl/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

static long (*bpf_seq_write)(void *m, const void *data, __u32 len) = (void *)127;

struct seq_file;
struct bpf_map;
struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));
struct bpf_iter__bpf_map_elem {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	void *key;
	void *value;
} __attribute__((preserve_access_index));

/* A u32 -> u64 map walked by a bpf_map_elem iterator. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

/* [0]: sum of the values walked, [1]: elements walked. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

/* Each element's value as 8 raw bytes, and the running sum in `totals`. */
SEC("iter/bpf_map_elem")
int sum_values(struct bpf_iter__bpf_map_elem *ctx)
{
	__u64 *val = ctx->value, *t;
	__u32 k = 0;
	__u64 v;

	if (!ctx->key || !val)
		return 0;
	v = *val;
	t = bpf_map_lookup_elem(&totals, &k);
	if (t)
		__sync_fetch_and_add(t, v);
	k = 1;
	t = bpf_map_lookup_elem(&totals, &k);
	if (t)
		__sync_fetch_and_add(t, 1);
	bpf_seq_write(ctx->meta->seq, &v, sizeof(v));
	return 0;
}
