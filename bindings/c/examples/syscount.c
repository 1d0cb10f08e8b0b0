/* bpfl demo: the busiest processes by system call count, live.
 *
 * Loads syscount.o (one program on tracepoint/raw_syscalls/sys_enter that
 * counts calls per process in a hash map), attaches it, and every second
 * prints the top processes, read from the map in one batch.
 *
 *   syscount [OBJECT] [SECONDS]     (root; defaults: build/bpf/syscount.o, 5)
 */
#define _POSIX_C_SOURCE 200809L
#include <bpfl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct proc_stat {
	uint64_t count;
	char comm[16];
};

struct row {
	uint32_t pid;
	uint64_t delta;
	uint64_t total;
	char comm[17];
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "syscount: %s: %s\n", what, *bpfl_last_error() ? bpfl_last_error() : strerror(-err));
	return 1;
}

static int by_delta(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->delta != y->delta)
		return x->delta < y->delta ? 1 : -1;
	return x->total < y->total ? 1 : (x->total > y->total ? -1 : 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Previous totals, to print calls per second: a small open-addressing table. */
#define PREV_SLOTS 32768
static struct { uint32_t pid; uint64_t total; } prev[PREV_SLOTS];

static uint64_t *prev_slot(uint32_t pid)
{
	uint32_t h = (pid * 2654435761u) % PREV_SLOTS;
	for (int i = 0; i < PREV_SLOTS; i++, h = (h + 1) % PREV_SLOTS) {
		if (prev[h].pid == pid || prev[h].pid == 0) {
			prev[h].pid = pid;
			return &prev[h].total;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "build/bpf/syscount.o";
	int seconds = argc > 2 ? atoi(argv[2]) : 5;
	struct bpfl_object obj;
	struct bpfl_map counts;
	BPFL_OPTS(bpfl_map_info, info);
	int err;

	printf("bpfl %s: loading %s\n", bpfl_version(), path);
	if ((err = bpfl_object_open_file(path, NULL, &obj)))
		return fail("open", err);
	if ((err = bpfl_object_load(obj, NULL)))
		return fail("load", err);
	if ((err = bpfl_object_attach_all(obj)) < 0)
		return fail("attach", err);
	if ((err = bpfl_object_find_map(obj, "counts", &counts)) || (err = bpfl_map_get_info(counts, &info)))
		return fail("map 'counts'", err);

	size_t cap = info.max_entries;
	uint32_t *keys = calloc(cap, sizeof(*keys));
	struct proc_stat *vals = calloc(cap, sizeof(*vals));
	struct row *rows = calloc(cap, sizeof(*rows));
	if (!keys || !vals || !rows) {
		fprintf(stderr, "syscount: out of memory\n");
		return 1;
	}
	printf("attached to raw_syscalls/sys_enter; top processes by system calls per second, %d s\n", seconds);
	for (int tick = 1; tick <= seconds; tick++) {
		size_t n = 0;
		sleep_ms(1000);
		if ((err = bpfl_map_read_all(counts, keys, vals, cap, &n)))
			return fail("read", err);
		uint64_t all = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t *p = prev_slot(keys[i]);
			rows[i].pid = keys[i];
			rows[i].total = vals[i].count;
			rows[i].delta = vals[i].count - (p ? *p : 0);
			if (p)
				*p = vals[i].count;
			memcpy(rows[i].comm, vals[i].comm, 16);
			rows[i].comm[16] = 0;
			all += rows[i].delta;
		}
		qsort(rows, n, sizeof(*rows), by_delta);
		printf("\n[%d/%d] %zu processes, %llu syscalls/s\n", tick, seconds, n, (unsigned long long)all);
		printf("%8s  %-16s %12s %14s\n", "PID", "COMM", "CALLS/s", "TOTAL");
		for (size_t i = 0; i < n && i < 10; i++)
			printf("%8u  %-16s %12llu %14llu\n", rows[i].pid, rows[i].comm, (unsigned long long)rows[i].delta,
			       (unsigned long long)rows[i].total);
		fflush(stdout);
	}
	free(keys);
	free(vals);
	free(rows);
	if ((err = bpfl_object_close(obj)))
		return fail("close", err);
	printf("\ndetached and closed.\n");
	return 0;
}
