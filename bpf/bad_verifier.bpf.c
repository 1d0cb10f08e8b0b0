/* Must be rejected by the verifier: a hash lookup dereferenced without a
 * NULL check. Tests check that the caller gets the program, errno and log. */
#include <bpfl/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} m SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int deref_without_check(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&m, &k);
	return *v; /* no NULL check: the verifier refuses this */
}

char _license[] SEC("license") = "GPL";
