/* Every newer BTF kind in one object: FLOAT, DECL_TAG, TYPE_TAG, ENUM64,
 * VAR/DATASEC, a global FUNC. The test loads it with each kind "missing"
 * (BPFL_FORCE_NO_BTF_FEATURE), so that bpfl rewrites it, and checks the
 * kernel took the rewritten BTF and the program still ran. */
#include <bpfl/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user_ptr __attribute__((btf_type_tag("user")))

struct sample {
	float f;
	double d;
	int tagged __tag("field_tag");
};

enum big {
	BIG_A = 1,
	BIG_B = 0x300000000ULL,
};

const volatile __u32 target_tgid = 0;
enum big big_seen = BIG_A;
int __user_ptr *user_ptr;
__u64 calls __tag("var_tag");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sample);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

/* A global function: verified on its own, where the kernel has func linkage. */
__noinline __tag("fn_tag") int global_add(int a, int b)
{
	return a + b;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int btf_kinds(void *ctx)
{
	__u32 k0 = 0, k1 = 1, k2 = 2;
	__u64 v;
	struct sample *s;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	calls++;
	v = global_add(40, 2);
	bpf_map_update_elem(&out, &k0, &v, BPF_ANY);
	v = (__u64)BIG_B >> 32;
	bpf_map_update_elem(&out, &k1, &v, BPF_ANY);
	v = calls + (user_ptr ? 100 : 0) + big_seen * 10;
	bpf_map_update_elem(&out, &k2, &v, BPF_ANY);
	s = bpf_map_lookup_elem(&samples, &k0);
	if (s)
		s->tagged = 7;
	return 0;
}

char _license[] SEC("license") = "GPL";
