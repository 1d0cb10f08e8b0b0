/*
 * Built by tests/pkg/test_pkg.sh against an *installed* bpfl, with nothing but
 * `pkg-config --cflags --libs bpfl` (or --static). Loads seed_tp.o, attaches
 * it, calls getppid() N times and checks the count is exactly N.
 *   pkg_prog SEED_TP.O N      exit 0 ok, 1 failure, 77 no root / no bpf()
 */
#define _DEFAULT_SOURCE
#include <bpfl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	/* The library found at run time is the one the header came from. */
	printf("bpfl %s (header %s)\n", bpfl_version(), BPFL_VERSION_STRING);
	if (strcmp(bpfl_version(), BPFL_VERSION_STRING) != 0)
		return 1;
	if (geteuid() != 0)
		return 77;
	long n = atol(argv[2]);
	bpfl_object obj;
	int rc = bpfl_object_open_file(argv[1], NULL, &obj);
	if (rc == 0 && (rc = bpfl_object_load(obj, NULL)) == 0 && (rc = bpfl_object_attach_all(obj)) >= 0) {
		for (long i = 0; i < n; i++)
			getppid();
		uint32_t tgid = (uint32_t)getpid();
		uint64_t count = 0;
		bpfl_map map;
		if ((rc = bpfl_object_find_map(obj, "per_pid", &map)) == 0)
			rc = bpfl_map_lookup(map, &tgid, sizeof(tgid), &count, sizeof(count));
		if (rc == -ENOENT) /* no call counted: no entry */
			rc = 0;
		if (rc == 0) {
			printf("counted: %" PRIu64 " of %ld\n", count, n);
			bpfl_object_close(obj);
			return count == (uint64_t)n ? 0 : 1;
		}
	}
	fprintf(stderr, "pkg_prog: %s\n", *bpfl_last_error() ? bpfl_last_error() : strerror(-rc));
	return rc == -EPERM ? 77 : 1;
}
