/* kprobe.multi, kprobes with cookies and ksyscall: count calls of this test's
 * process (tgid in `want`) per attach cookie. */
#include <bpfl/bpf_helpers.h>

static __u64 (*get_cookie)(void *ctx) = (void *)174;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} want SEC(".maps");

/* cookie -> calls; ksyscall entry/return use cookies 1000/1001 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u64);
} by_cookie SEC(".maps");

static __always_inline void count(__u64 c)
{
	__u32 k = 0, *w = bpf_map_lookup_elem(&want, &k);
	__u64 one = 1, *p;
	if (!w || *w != (bpf_get_current_pid_tgid() >> 32))
		return;
	p = bpf_map_lookup_elem(&by_cookie, &c);
	if (p)
		__sync_fetch_and_add(p, 1);
	else
		bpf_map_update_elem(&by_cookie, &c, &one, BPF_NOEXIST);
}

SEC("kprobe.multi")
int on_kmulti(struct pt_regs *ctx)
{
	count(get_cookie(ctx));
	return 0;
}

SEC("kprobe")
int on_kprobe(struct pt_regs *ctx)
{
	count(get_cookie(ctx));
	return 0;
}

SEC("ksyscall/getppid")
int on_sys_getppid(struct pt_regs *ctx)
{
	count(1000);
	return 0;
}

SEC("kretsyscall/getppid")
int on_sys_getppid_ret(struct pt_regs *ctx)
{
	count(1001);
	return 0;
}

char _license[] SEC("license") = "GPL";
