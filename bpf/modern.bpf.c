/* Today's style: BTF-defined maps (one pinned by name), global data in
 * .rodata/.data/.bss, and a non-inlined subprogram shared by two programs. */
#include <bpfl/bpf_helpers.h>
#include <asm/unistd.h>

/* Set by the loader between open and load (bpfl_object_set_rodata). */
const volatile __u32 target_tgid = 0;
/* .data: read by the raw tracepoint and copied into by_kind[3]. */
__u64 magic = 0x1234;
/* .bss: calls of the subprogram for target_tgid. */
__u64 hits = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_counts SEC(".maps");

/* [0] getpid (tp/), [1] gettid (tracepoint/), [2] getpid (raw_tracepoint), [3] magic */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} by_kind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu SEC(".maps");

static __noinline int count(__u32 kind)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 zero = 0;
	__u64 one = 1;

	if (tgid != target_tgid)
		return 0;
	__u64 *v = bpf_map_lookup_elem(&by_kind, &kind);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&pinned_counts, &kind);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&pinned_counts, &kind, &one, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&percpu, &zero);
	if (v)
		*v += 1;
	__sync_fetch_and_add(&hits, 1);
	return 1;
}

SEC("tp/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	count(0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_gettid")
int on_gettid(void *ctx)
{
	count(1);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 k = 2, m = 3;
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid || ctx->args[1] != __NR_getpid)
		return 0;
	__u64 *v = bpf_map_lookup_elem(&by_kind, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&by_kind, &m);
	if (v)
		*v = magic;
	return 0;
}

char _license[] SEC("license") = "GPL";
