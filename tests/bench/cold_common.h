/*
 * Shared by cold_bpfl.c and cold_libbpf.c: the whole of a tool's start as the
 * cold-start benchmark (bench_cold.c) measures it, in a fresh process each time:
 *
 *   cold_X open|load OBJECT [PIN_ROOT]
 *
 * reads OBJECT into memory (as a skeleton embeds it), opens it from there and,
 * with `load`, loads it, prints its peak RSS in kB (VmHWM: wait4's ru_maxrss
 * would carry the spawning parent's peak across exec) and exits, status 0 on
 * success. The parent reads the child's CPU time from wait4().
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return !strcmp(argv[1], "load");
}

/* Prints this process's peak RSS (kB) on stdout: the last thing it does. */
static int cold_exit(int rc)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long hwm = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6)) hwm = atol(line + 6);
	if (f) fclose(f);
	printf("%ld\n", hwm);
	return rc ? rc : hwm < 0 ? 4 : 0;
}
