/* Hidden and weak global functions taking pointers, the pattern of libbpf's
 * usdt.bpf.h: verified as global functions they would be refused (a pointer
 * argument may be NULL: "invalid mem access 'mem_or_null'"); the loader gives
 * them static linkage in the BTF, as libbpf does, so they are verified in
 * their callers' context. */
#include <bpfl/bpf_helpers.h>

#define __hidden __attribute__((visibility("hidden")))

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

struct spec {
	__u64 base;
	__u64 scale;
};

/* No NULL checks: fine for callers, refused if verified alone. */
__hidden __noinline int hidden_arg(const struct spec *s, __u64 x, __u64 *res)
{
	*res = s->base + x * s->scale;
	return 0;
}

__weak __noinline int weak_add(__u64 *acc, __u64 v)
{
	*acc += v;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int use_hidden(void *ctx)
{
	struct spec s = { .base = 100, .scale = 3 };
	__u64 r = 0, acc = 5;
	__u32 k0 = 0, k1 = 1;
	__u64 *v;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	hidden_arg(&s, 7, &r);
	weak_add(&acc, 37);
	v = bpf_map_lookup_elem(&out, &k0);
	if (v)
		*v = r;
	v = bpf_map_lookup_elem(&out, &k1);
	if (v)
		*v = acc;
	return 0;
}

char _license[] SEC("license") = "GPL";
