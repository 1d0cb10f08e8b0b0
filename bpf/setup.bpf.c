/* Set up between open and load (issue 10): a program that loads, one the
 * verifier refuses (only loadable with autoload off), one that uses a map
 * that may not be created, a hash map sized at run time (max_entries 0 in
 * the object), a shared counter for reuse_fd, a __kconfig value the user
 * overrides, and a `.data.buf` array that grows with its map. */
#include <bpfl/bpf_helpers.h>

const volatile __u32 target_tgid = 0;
const volatile __u32 poke_at = 0;

extern int CONFIG_BPFL_TEST_VALUE __kconfig __weak;

/* Grows with its map (bpfl_map_set_value_size on ".data.buf"). */
char buf[4] SEC(".data.buf") = "abc";
__u64 seen_kconfig = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 0); /* sized by the loader, as tools do */
	__type(key, __u32);
	__type(value, __u64);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} shared SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} optional SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

/* Inner maps shaped like `struct inner`, unless set_inner_map_fd says otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpgid")
int good(void *ctx)
{
	__u32 zero = 0, i = poke_at;
	__u64 *v;

	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	v = bpf_map_lookup_elem(&shared, &zero);
	if (v)
		__sync_fetch_and_add(v, 1);
	seen_kconfig = CONFIG_BPFL_TEST_VALUE;
	if (i < 4096)
		buf[i] = 42; /* past the declared array: valid only once the map grew */
	return 0;
}

SEC("socket")
int bad(void *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&shared, &k);
	return *v; /* no NULL check: the verifier refuses this program */
}

SEC("socket")
int uses_optional(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&optional, &k);
	return v ? 1 : 0;
}

SEC("socket")
int uses_sized(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&sized, &k);
	return v ? 1 : 0;
}

/* Loads only with expected attach type BPF_CGROUP_INET4_POST_BIND (src_port
 * is not readable at sock_create). */
SEC("cgroup/sock_create")
int post_bind(struct bpf_sock *sk)
{
	return sk->src_port == 4242 ? 0 : 1;
}

/* A plain XDP program, loaded as a TC classifier with set_type. */
SEC("xdp")
int retyped(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
