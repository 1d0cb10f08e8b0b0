/* A CO-RE relocation (preserve_access_index): bpfl does not apply CO-RE yet,
 * so loading must refuse this program rather than run it with the field
 * offsets it was compiled with. */
#include <bpfl/bpf_helpers.h>

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int read_tgid(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int tgid = 0;
	__u32 k = 0;
	__u64 v;

	bpf_probe_read_kernel(&tgid, sizeof(tgid), &t->tgid);
	v = tgid;
	bpf_map_update_elem(&seen, &k, &v, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
