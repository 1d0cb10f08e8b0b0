/*
 * Test fixture for the `pinned` example: loads modern.o with its pin root set
 * to PIN_DIR (so `pinned_counts` is pinned by name there), makes its programs
 * count NGETPID getpid() and NGETTID gettid() calls of this process, adds
 * pinned_counts[9] = 0xdeadbeef from user space, pins `by_kind` and `percpu`
 * too, and closes the object: the pins (and their values) stay.
 *
 * Then PIN_DIR holds, written by the BPF programs:
 *   pinned_counts: 0 => NGETPID, 1 => NGETTID, 9 => 3735928559
 *   by_kind:       0 => NGETPID, 1 => NGETTID, 2 => NGETPID, 3 => 4660
 *   percpu:        0 => per-CPU values summing to NGETPID + NGETTID
 *
 * Exit: 0 done, 1 failure, 77 no root / no bpf().
 */
#define _GNU_SOURCE
#include <bpfl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TRY(call)                                                                              \
	do {                                                                                   \
		int rc_ = (call);                                                              \
		if (rc_ < 0) {                                                                 \
			fprintf(stderr, "pin_fixture: %s: %s (%s)\n", #call, bpfl_last_error(),  \
				strerror(-rc_));                                                 \
			return 1;                                                              \
		}                                                                              \
	} while (0)

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s BPF_DIR PIN_DIR NGETPID NGETTID\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0)
		return 77;
	long ngetpid = atol(argv[3]), ngettid = atol(argv[4]);
	char path[4096];
	snprintf(path, sizeof(path), "%s/modern.o", argv[1]);
	if (mkdir(argv[2], 0700) < 0 && errno != EEXIST) {
		perror("pin_fixture: mkdir");
		return 1;
	}

	BPFL_OPTS(bpfl_open_opts, oo, .pin_root_path = argv[2]);
	bpfl_object obj;
	TRY(bpfl_object_open_file(path, &oo, &obj));
	uint32_t tgid = (uint32_t)getpid();
	TRY(bpfl_object_set_rodata(obj, "target_tgid", &tgid, sizeof(tgid)));
	int rc = bpfl_object_load(obj, NULL);
	if (rc == -EPERM || rc == -ENOSYS) {
		fprintf(stderr, "pin_fixture: %s\n", bpfl_last_error());
		return 77;
	}
	TRY(rc);
	TRY(bpfl_object_attach_all(obj));
	for (long i = 0; i < ngetpid; i++)
		syscall(SYS_getpid);
	for (long i = 0; i < ngettid; i++)
		syscall(SYS_gettid);

	bpfl_map counts, by_kind, percpu;
	TRY(bpfl_object_find_map(obj, "pinned_counts", &counts));
	TRY(bpfl_object_find_map(obj, "by_kind", &by_kind));
	TRY(bpfl_object_find_map(obj, "percpu", &percpu));
	uint32_t k = 9;
	uint64_t v = 0xdeadbeef;
	TRY(bpfl_map_update(counts, &k, sizeof(k), &v, sizeof(v), BPFL_NOEXIST));
	snprintf(path, sizeof(path), "%s/by_kind", argv[2]);
	TRY(bpfl_map_pin(by_kind, path));
	snprintf(path, sizeof(path), "%s/percpu", argv[2]);
	TRY(bpfl_map_pin(percpu, path));
	TRY(bpfl_object_close(obj));
	printf("pinned under %s\n", argv[2]);
	return 0;
}
