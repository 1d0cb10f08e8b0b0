/* The syscall instruction, for programs of tests/bench that define their own
 * syscall() (bench.c, cold_common.h) to tell time spent inside bpf() from the
 * library's own work: their definition cannot call glibc's. */
#ifndef BENCH_RAW_SYSCALL_H
#define BENCH_RAW_SYSCALL_H

#include <errno.h>
#include <stdarg.h>

/* The six arguments a syscall(n, ...) definition received, into long args[6]. */
#define RAW_SYSCALL_ARGS(n, args)                                   \
	do {                                                        \
		va_list ap_;                                        \
		va_start(ap_, n);                                   \
		for (int i_ = 0; i_ < 6; i_++) (args)[i_] = va_arg(ap_, long); \
		va_end(ap_);                                        \
	} while (0)

static inline long do_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* glibc's syscall() result: -1 with errno set for a kernel error. */
static inline long raw_syscall_result(long r)
{
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#endif
