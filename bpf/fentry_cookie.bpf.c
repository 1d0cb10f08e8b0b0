/* A tracing link with an attach cookie: fentry on nanosleep
 * counts this test's calls (tgid in `want`) under the cookie it was given. */
#include <bpfl/bpf_helpers.h>

static __u64 (*get_cookie)(void *ctx) = (void *)174;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} want SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u64);
	__type(value, __u64);
} by_cookie SEC(".maps");

SEC("fentry/__x64_sys_nanosleep")
int on_nanosleep(void *ctx)
{
	__u32 k = 0, *w = bpf_map_lookup_elem(&want, &k);
	__u64 c = get_cookie(ctx), one = 1, *p;
	if (!w || *w != (bpf_get_current_pid_tgid() >> 32))
		return 0;
	p = bpf_map_lookup_elem(&by_cookie, &c);
	if (p)
		__sync_fetch_and_add(p, 1);
	else
		bpf_map_update_elem(&by_cookie, &c, &one, BPF_NOEXIST);
	return 0;
}

char _license[] SEC("license") = "GPL";
