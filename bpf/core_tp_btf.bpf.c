/* A BTF-typed tracepoint (tp_btf): loaded with the kernel BTF id of
 * `btf_trace_sys_enter` as its attach point, attached with
 * BPF_RAW_TRACEPOINT_OPEN. It counts getpid() calls of one process and reads
 * the task's tgid through a CO-RE relocation from the typed argument-free
 * bpf_get_current_task(). */
#include <bpfl/bpf_helpers.h>

struct task_struct___tp {
	int tgid;
} __attribute__((preserve_access_index));

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

/* sys_enter(struct pt_regs *regs, long id): ctx[1] is the syscall number. */
SEC("tp_btf/sys_enter")
int on_sys_enter(__u64 *ctx)
{
	struct task_struct___tp *t = (void *)bpf_get_current_task();
	__u32 k = 0;
	__u64 *v;
	int tgid = 0;

	if (ctx[1] != 39 /* __NR_getpid on x86-64 */ || bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	v = bpf_map_lookup_elem(&hits, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_probe_read_kernel(&tgid, sizeof(tgid), &t->tgid);
	k = 1;
	v = bpf_map_lookup_elem(&hits, &k);
	if (v)
		*v = tgid;
	return 0;
}

char _license[] SEC("license") = "GPL";
