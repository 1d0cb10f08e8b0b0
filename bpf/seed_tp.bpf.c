/* The seed's format on tracepoints: counts getppid() calls per process. */
#include "seed_common.h"

SEC("tracepoint/syscalls/sys_enter_getppid")
int enter_getppid(void *ctx)
{
	bump(0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getppid")
int exit_getppid(void *ctx)
{
	bump(1);
	return 0;
}
