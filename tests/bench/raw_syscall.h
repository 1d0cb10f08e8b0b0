/* The syscall instruction, for programs of tests/bench that define their own
 * syscall() (bench.c, cold_common.h) to tell time spent inside bpf() from the
 * library's own work: their definition cannot call glibc's. */
#ifndef BENCH_RAW_SYSCALL_H
#define BENCH_RAW_SYSCALL_H

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

#endif
