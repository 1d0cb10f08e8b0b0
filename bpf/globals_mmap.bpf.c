/* Globals and arrays without syscalls (issue 13): user space sets
 * `target_tgid` (.rodata) and `value_in` (.data) through the pointers
 * bpfl_object_find_variable gives, and reads `hits` and `value_out` (.bss)
 * the same way after load; `counts` is an mmapable array read through
 * bpfl_map_mmap; `plain` is an array that is not mmapable. */
#include <bpfl/bpf_helpers.h>

const volatile __u32 target_tgid = 0;
__u64 value_in = 0x1111;
__u64 hits = 0;
__u64 value_out = 0;
__u32 extra[4] SEC(".data.extra") = { 1, 2, 3, 4 };
__u32 extra_sum = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 one = 1, two = 2;
	__u64 *v;

	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	__sync_fetch_and_add(&hits, 1);
	value_out = value_in;
	extra_sum = extra[0] + extra[1] + extra[2] + extra[3];
	v = bpf_map_lookup_elem(&counts, &one);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&counts, &two);
	if (v)
		*v = value_in * 2;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
