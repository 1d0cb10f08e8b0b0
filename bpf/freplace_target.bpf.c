/* The program an freplace program replaces a function of: a tracepoint on
 * getpgid() of one process stores compute(21) in `result`. */
#include <bpfl/bpf_helpers.h>

const volatile __u32 target_tgid = 0;
__u64 result = 0;

__noinline int compute(int x)
{
	return x * 2;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int calls_compute(void *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	result = compute(21);
	return 0;
}

char _license[] SEC("license") = "GPL";
