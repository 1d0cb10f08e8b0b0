/* CO-RE: an unguarded read of a field the kernel does not have. bpfl poisons
 * the instruction (as libbpf does) and the verifier, reaching it, refuses the
 * program; the error must say which relocation it was. */
#include <bpfl/bpf_helpers.h>

struct task_struct___gone {
	int no_such_field_in_the_kernel;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int core_poisoned(void *ctx)
{
	struct task_struct___gone *t = (void *)bpf_get_current_task();
	int x = 0;
	__u32 k = 0;
	__u64 v;

	bpf_probe_read_kernel(&x, sizeof(x), &t->no_such_field_in_the_kernel);
	v = x;
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
