/* CO-RE against a module's BTF: struct bpfl_mod_thing is in no vmlinux; the
 * test gives bpfl a module BTF (split on the kernel's) that has it, with `b`
 * at byte 12 instead of the local 4, and a size of 16 instead of 8. */
#include <bpfl/bpf_helpers.h>

struct bpfl_mod_thing {
	int a;
	int b;
} __attribute__((preserve_access_index));

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

static __always_inline void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("tp/syscalls/sys_enter_getppid")
int core_module(void *ctx)
{
	struct bpfl_mod_thing *t = 0;

	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	put(0, __builtin_preserve_field_info(t->b, 0));
	put(1, __builtin_preserve_type_info(*(struct bpfl_mod_thing *)0, 0));
	put(2, __builtin_preserve_type_info(*(struct bpfl_mod_thing *)0, 1));
	put(3, 77);
	return 0;
}

char _license[] SEC("license") = "GPL";
