/* make soak: N cycles (default 10,000) of open, load, attach, map
 * operations and close of a real object, through the C ABI; every 1,000
 * cycles the fds, RSS and BPF objects are printed. Fails when this
 * process's fds or BPF fds grow, or a cycle does not do what it should.
 *   soak BPF_DIR [N]       (root) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <bpfl.h>
#include <errno.h>
#include <stdlib.h>
#include "common.h"

static int fail(const char *what, int rc)
{
	fprintf(stderr, "soak: %s: %d (%s)\n", what, rc, bpfl_last_error());
	return 1;
}

/* One cycle: seed_tp.o counts this process's getppid() calls per pid. */
static int cycle(const char *obj)
{
	struct bpfl_object o;
	struct bpfl_map per_pid, calls;
	int rc;
	if ((rc = bpfl_object_open_file(obj, NULL, &o)))
		return fail("open", rc);
	if ((rc = bpfl_object_load(o, NULL)))
		return fail("load", rc);
	if ((rc = bpfl_object_attach_all(o)) != 2)
		return fail("attach_all", rc);
	syscall(SYS_getppid);
	syscall(SYS_getppid);
	if ((rc = bpfl_object_find_map(o, "per_pid", &per_pid)) || (rc = bpfl_object_find_map(o, "calls", &calls)))
		return fail("find_map", rc);
	uint32_t me = getpid(), other = 1;
	uint64_t v = 0, w = 7;
	if ((rc = bpfl_map_lookup(per_pid, &me, 4, &v, 8)) || v != 2)
		return fail("per_pid[me] is not 2", rc ? rc : (int)v);
	if ((rc = bpfl_map_update(per_pid, &other, 4, &w, 8, BPFL_ANY)) || (rc = bpfl_map_lookup(per_pid, &other, 4, &v, 8)) || v != 7)
		return fail("update+lookup", rc);
	if ((rc = bpfl_map_delete(per_pid, &other, 4)) || bpfl_map_delete(per_pid, &other, 4) != -ENOENT)
		return fail("delete", rc);
	if ((rc = bpfl_object_close(o)))
		return fail("close", rc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: soak BPF_DIR [N]\n");
		return 2;
	}
	long n = argc > 2 ? atol(argv[2]) : 10000;
	char obj[512];
	snprintf(obj, sizeof(obj), "%s/seed_tp.o", argv[1]);
	if (getuid() != 0) {
		printf("SKIPPED: the soak loads BPF programs: run it as root\n");
		return 77;
	}
	/* One cycle first: the library's one-time state (kernel BTF, caches) is not a leak. */
	if (cycle(obj))
		return 1;
	struct counts first = counts_now();
	print_counts("start", 1, first);
	struct counts c = first;
	for (long i = 1; i <= n; i++) {
		if (cycle(obj))
			return 1;
		if (i % 1000 == 0 || i == n) {
			c = counts_now();
			print_counts("cycles", i, c);
		}
	}
	printf("soak: %ld cycles; fds %d -> %d, bpf fds %d -> %d, RSS %ld -> %ld kB\n", n, first.fds, c.fds, first.bpf_fds, c.bpf_fds, first.rss_kb, c.rss_kb);
	if (c.fds > first.fds || c.bpf_fds > first.bpf_fds) {
		printf("FAIL: file descriptors grew\n");
		return 1;
	}
	return 0;
}
