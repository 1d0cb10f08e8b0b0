/* A legacy map definition with an eighth field bpfl does not know, set to a
 * non-zero value: opening must fail with a clear error, not guess. */
#include <bpfl/bpf_helpers.h>

struct bpf_map_def_ext {
	unsigned int type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node;
	unsigned int future_field;
};

struct bpf_map_def_ext SEC("maps") odd = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 16,
	.future_field = 7,
};

SEC("tracepoint/syscalls/sys_enter_getppid")
int uses_odd(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&odd, &k);
	return v ? 1 : 0;
}

char _license[] SEC("license") = "GPL";
