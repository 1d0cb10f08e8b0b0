/* A CO-RE relocation (preserve_access_index) on a local two-field
 * task_struct. bpfl once refused this program rather than load it with the
 * compiled offsets (tgid at 4); it now relocates tgid to the kernel's offset.
 * The map is keyed by the helper's tgid so that other processes calling
 * getpid() do not disturb the check. */
#include <bpfl/bpf_helpers.h>

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int read_tgid(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int tgid = 0;
	__u32 k = bpf_get_current_pid_tgid() >> 32;
	__u64 v;

	bpf_probe_read_kernel(&tgid, sizeof(tgid), &t->tgid);
	v = tgid;
	bpf_map_update_elem(&seen, &k, &v, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
