/* The demo: system calls per process, from the raw_syscalls tracepoint. */
#include <bpfl/bpf_helpers.h>

struct proc_stat {
	__u64 count;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct proc_stat);
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscalls(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct proc_stat *s = bpf_map_lookup_elem(&counts, &tgid);
	if (s) {
		__sync_fetch_and_add(&s->count, 1);
		return 0;
	}
	struct proc_stat init = { .count = 1 };
	bpf_get_current_comm(init.comm, sizeof(init.comm));
	bpf_map_update_elem(&counts, &tgid, &init, BPF_NOEXIST);
	return 0;
}

char _license[] SEC("license") = "GPL";
