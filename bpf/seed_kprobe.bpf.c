/* The seed's own use: kprobe/kretprobe on a kernel function, legacy maps,
 * and a version section that bpfl fills in from the running kernel. */
#include "seed_common.h"

__u32 _version SEC("version") = 0xFFFFFFFE;

SEC("kprobe/__x64_sys_getppid")
int trace_getppid(struct pt_regs *ctx)
{
	bump(0);
	return 0;
}

SEC("kretprobe/__x64_sys_getppid")
int trace_getppid_ret(struct pt_regs *ctx)
{
	bump(1);
	return 0;
}
