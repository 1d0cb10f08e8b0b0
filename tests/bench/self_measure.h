/* What the programs of tests/bench (bench.c, and cold_common.h's separate
 * executables) measure of themselves: their bpf() calls, through their own
 * syscall() (which cannot call glibc's: the syscall instruction is here),
 * and their peak RSS. */
#ifndef BENCH_SELF_MEASURE_H
#define BENCH_SELF_MEASURE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* This address space's peak RSS in kB (VmHWM in /proc/self/status), -1 if unread. */
static long vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long hwm = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6)) hwm = atol(line + 6);
	if (f) fclose(f);
	return hwm;
}

#endif
