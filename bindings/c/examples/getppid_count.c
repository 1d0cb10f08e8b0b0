/*
 * getppid_count: load seed_tp.o, attach its two getppid tracepoints, call
 * getppid() N times and print what the BPF programs counted for this process.
 *
 *   cc -std=c11 -I include getppid_count.c target/release/libbpfl.a -lpthread -ldl -lm -lrt
 *   sudo ./a.out build/bpf/seed_tp.o 25
 *
 * Output (the last line is the one to compare with N):
 *   attached 2 programs
 *   getppid() calls: 25
 *   enter: 25  exit: 25
 *   counted: 25
 */
#define _DEFAULT_SOURCE
#include <bpfl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The key of seed_tp.o's `by_key` map. */
struct pid_key {
	uint32_t tgid;
	uint32_t kind; /* 0: sys_enter_getppid, 1: sys_exit_getppid */
};

static int fail(const char *what, int rc)
{
	fprintf(stderr, "getppid_count: %s: %s\n", what, *bpfl_last_error() ? bpfl_last_error() : strerror(-rc));
	return 1;
}

/* map[key] as a u64; an absent key reads as 0. */
static int read_u64(bpfl_object obj, const char *name, const void *key, size_t key_size, uint64_t *out)
{
	bpfl_map map;
	int rc = bpfl_object_find_map(obj, name, &map);
	if (rc < 0)
		return rc;
	rc = bpfl_map_lookup(map, key, key_size, out, sizeof(*out));
	if (rc == -ENOENT) {
		*out = 0;
		return 0;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SEED_TP.O [N]\n", argv[0]);
		return 2;
	}
	char *end;
	long n = argc == 3 ? strtol(argv[2], &end, 10) : 10;
	if (n < 0 || (argc == 3 && *end)) {
		fprintf(stderr, "getppid_count: N must be a non-negative number\n");
		return 2;
	}

	bpfl_object obj;
	int rc = bpfl_object_open_file(argv[1], NULL, &obj);
	if (rc < 0)
		return fail("open", rc);
	rc = bpfl_object_load(obj, NULL);
	if (rc < 0) {
		fail("load", rc);
		bpfl_object_close(obj);
		return 1;
	}
	rc = bpfl_object_attach_all(obj);
	if (rc < 0) {
		fail("attach", rc);
		bpfl_object_close(obj);
		return 1;
	}
	printf("attached %d programs\n", rc);

	for (long i = 0; i < n; i++)
		getppid();
	printf("getppid() calls: %ld\n", n);

	uint32_t tgid = (uint32_t)getpid();
	struct pid_key enter = { tgid, 0 }, exit_ = { tgid, 1 };
	uint64_t counted, nenter, nexit;
	if ((rc = read_u64(obj, "per_pid", &tgid, sizeof(tgid), &counted)) < 0 ||
	    (rc = read_u64(obj, "by_key", &enter, sizeof(enter), &nenter)) < 0 ||
	    (rc = read_u64(obj, "by_key", &exit_, sizeof(exit_), &nexit)) < 0) {
		fail("read map", rc);
		bpfl_object_close(obj);
		return 1;
	}
	printf("enter: %" PRIu64 "  exit: %" PRIu64 "\n", nenter, nexit);
	printf("counted: %" PRIu64 "\n", counted);

	/* Closing the object detaches the programs and frees the maps. */
	bpfl_object_close(obj);
	return 0;
}
