/*
 * Shared by cold_bpfl.c and cold_libbpf.c: the whole of a tool's start as the
 * cold-start benchmark (bench_cold.c) measures it, in a fresh process each time:
 *
 *   cold_X open|load OBJECT [PIN_ROOT]
 *
 * reads OBJECT into memory (as a skeleton embeds it), opens it from there and,
 * with `load`, loads it, and exits, status 0 on success, printing three
 * figures: its peak RSS in kB (VmHWM: wait4's ru_maxrss would carry the
 * spawning parent's peak across exec), the CPU time of the open (and load)
 * in ns, and the part of it spent inside bpf() calls. The parent reads the
 * whole process's CPU time from wait4().
 *
 * Why the two CPU figures: the kernel charges a process's CPU to user or
 * system by which one each 4 ms tick (HZ=250 here) caught, so the user/system
 * split of a 5-20 ms process is noise, and this VM has no PMU to count user
 * cycles. The CPU clock is exact, and so is the time inside bpf() measured
 * here: what is left is the library's own work (its code, and the kernel work
 * it asks for besides bpf(): reading files, page faults).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include "self_measure.h"

static double cold_bpf_ns, cold_t0;

static double cold_cpu_ns(clockid_t clk)
{
	struct timespec t;
	clock_gettime(clk, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* bpfl (static) and libbpf (static) both call bpf() through syscall(): this
 * definition, which times it. */
long syscall(long n, ...)
{
	long x[6];
	RAW_SYSCALL_ARGS(n, x);
	double t0 = n == __NR_bpf ? cold_cpu_ns(CLOCK_THREAD_CPUTIME_ID) : 0;
	long r = do_syscall6(n, x[0], x[1], x[2], x[3], x[4], x[5]);
	if (n == __NR_bpf) cold_bpf_ns += cold_cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	return raw_syscall_result(r);
}

static void *cold_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) free(buf), buf = NULL;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* argv checked, file read; returns 1 for load, 0 for open only, -1 on a usage error. */
static int cold_args(int argc, char **argv, void **buf, size_t *len)
{
	if (argc < 3 || argc > 4 || (strcmp(argv[1], "open") && strcmp(argv[1], "load"))) {
		fprintf(stderr, "usage: %s open|load OBJECT [PIN_ROOT]\n", argv[0]);
		return -1;
	}
	*buf = cold_read(argv[2], len);
	if (!*buf) {
		fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[2]);
		return -1;
	}
	cold_t0 = cold_cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	return !strcmp(argv[1], "load");
}

/* Prints this process's peak RSS (kB), the CPU time since cold_args (ns)
 * and the part inside bpf() (ns) on stdout: the last thing it does. */
static int cold_exit(int rc)
{
	double work = cold_cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - cold_t0;
	long hwm = vm_hwm_kb();
	printf("%ld %.0f %.0f\n", hwm, work, cold_bpf_ns);
	return rc ? rc : hwm < 0 ? 4 : 0;
}
