/* The other half of legacy_linked.o (see legacy_link_a.bpf.c): a 20-byte
 * legacy definition, keyed by the calling process's tgid. */
#include <bpfl/bpf_helpers.h>

struct old_bpf_map_def {
	unsigned int type, key_size, value_size, max_entries, map_flags;
};

struct old_bpf_map_def SEC("maps") counts_b = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 64,
};

SEC("tracepoint/syscalls/sys_exit_getppid")
int count_b(void *ctx)
{
	__u32 k = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts_b, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts_b, &k, &one, BPF_NOEXIST);
	return 0;
}

char _license[] SEC("license") = "GPL";
