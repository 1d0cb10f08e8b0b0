/* Static initial values in `.maps` (issue 10, item 4): a prog array whose
 * slots 0 and 2 name programs, and map-in-map outers whose slots name inner
 * maps. The loader fills them; the programs show the kernel used them. */
#include <bpfl/bpf_helpers.h>

const volatile __u32 target_tgid = 0;

/* hits[0]: callee_a ran; [1]: callee_b ran; [2]: the tail call to the empty
 * slot 1 fell through; [3]: read through outer[1]; [4]: through hash_outer[7]. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int ours(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int callee_a(void *ctx)
{
	hit(0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int callee_b(void *ctx)
{
	hit(1);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = {
		[0] = (void *)&callee_a,
		[2] = (void *)&callee_b,
	},
};

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [1] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_map);
} hash_outer SEC(".maps") = {
	.values = { [7] = &inner_a },
};

static __always_inline void bump_inner(void *outer_map, __u32 slot, __u32 k)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(outer_map, &slot);
	__u64 *v;

	if (!inner)
		return;
	v = bpf_map_lookup_elem(inner, &zero);
	if (v) {
		__sync_fetch_and_add(v, 1);
		hit(k);
	}
}

/* getppid enter: through both outers, then a tail call to slot 0. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int caller_enter(void *ctx)
{
	if (!ours())
		return 0;
	bump_inner(&outer, 1, 3);
	bump_inner(&hash_outer, 7, 4);
	bpf_tail_call(ctx, &jmp, 0);
	return 0;
}

/* getppid exit: a tail call to the empty slot 1 falls through, then slot 2 lands. */
SEC("tracepoint/syscalls/sys_exit_getppid")
int caller_exit(void *ctx)
{
	if (!ours())
		return 0;
	bpf_tail_call(ctx, &jmp, 1);
	hit(2);
	bpf_tail_call(ctx, &jmp, 2);
	return 0;
}

char _license[] SEC("license") = "GPL";
