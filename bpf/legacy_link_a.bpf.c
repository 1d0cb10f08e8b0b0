/* Half of a `maps` section linked from two files (bpftool gen object, see
 * the Makefile's legacy_linked.o): this half uses the 7-field (28-byte)
 * struct bpf_map_def, the other the 5-field (20-byte) one of old libbpf, so
 * only each symbol's st_size tells where each definition ends. */
#include <bpfl/bpf_helpers.h>

struct bpf_map_def SEC("maps") counts_a = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 4,
};

/* Set by the test: only its own calls count. */
const volatile __u32 target_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_a(void *ctx)
{
	__u32 k = 2;
	__u64 *v;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	v = bpf_map_lookup_elem(&counts_a, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
