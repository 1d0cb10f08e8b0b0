// SPDX-License-Identifier: GPL-2.0
/* A typed __ksym: the per-CPU `bpf_prog_active`, which a tracepoint program
 * runs with at 1 on its CPU. The kernel resolves the BTF id the loader gives
 * to an address through kallsyms, so a kernel without CONFIG_KALLSYMS_ALL
 * refuses it ("failed to find the address for kernel symbol"). */
#include <bpfl/bpf_helpers.h>

extern const int bpf_prog_active __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} active SEC(".maps");

const volatile __u32 target_tgid = 0;

SEC("tp/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	const int *p = bpf_this_cpu_ptr(&bpf_prog_active);
	__u32 k = 0;
	__u64 v = *p;
	bpf_map_update_elem(&active, &k, &v, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
