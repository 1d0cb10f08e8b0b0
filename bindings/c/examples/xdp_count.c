/*
 * xdp_count: attach xdp_count.o's XDP packet counter to the interface named
 * on the command line and print packets per second (every packet passes).
 *
 *   cc -std=c11 -I include xdp_count.c target/release/libbpfl.a -lpthread -ldl -lm -lrt
 *   sudo ./a.out build/bpf/xdp_count.o veth0 [SECONDS]     (0 or none: until Ctrl-C)
 *
 * Output: "attached to veth0 (ifindex 7, generic mode)", then one line a
 * second "veth0: 12 packets/s (40 in all)", and at the end "total: 40".
 */
#define _DEFAULT_SOURCE
#include <bpfl.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int fail(const char *what, int rc)
{
	fprintf(stderr, "xdp_count: %s: %s (%s)\n", what, bpfl_last_error(), strerror(-rc));
	if (rc == -EPERM)
		fprintf(stderr, "xdp_count: attaching XDP programs needs root\n");
	return 1;
}

/* The per-CPU counters of key 0, summed. */
static int total(bpfl_map m, uint64_t *out)
{
	size_t sz;
	int rc = bpfl_map_value_buf_size(m, &sz);
	if (rc < 0)
		return rc;
	uint64_t *v = calloc(1, sz);
	uint32_t zero = 0;
	if (!v)
		return -ENOMEM;
	rc = bpfl_map_lookup(m, &zero, sizeof zero, v, sz);
	*out = 0;
	for (size_t i = 0; rc == 0 && i < sz / sizeof *v; i++)
		*out += v[i];
	free(v);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s XDP_COUNT.O INTERFACE [SECONDS]\n", argv[0]);
		return 2;
	}
	long seconds = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
	uint32_t ifindex;
	bpfl_object obj;
	bpfl_program prog;
	bpfl_map packets;
	bpfl_link link;
	int rc = bpfl_ifindex(argv[2], &ifindex);
	if (rc < 0)
		return fail(argv[2], rc);
	if ((rc = bpfl_object_open_file(argv[1], NULL, &obj)) < 0)
		return fail(argv[1], rc);
	if ((rc = bpfl_object_load(obj, NULL)) < 0 || (rc = bpfl_object_find_program(obj, "xdp_count", &prog)) < 0 ||
	    (rc = bpfl_object_find_map(obj, "packets", &packets)) < 0) {
		bpfl_object_close(obj);
		return fail("load", rc);
	}
	/* Generic mode: every interface has it (native needs driver support). */
	BPFL_OPTS(bpfl_xdp_opts, xo, .mode = BPFL_XDP_MODE_GENERIC);
	if ((rc = bpfl_program_attach_xdp(prog, ifindex, &xo, &link)) < 0) {
		bpfl_object_close(obj);
		return fail("attach", rc);
	}
	printf("attached to %s (ifindex %" PRIu32 ", generic mode)\n", argv[2], ifindex);
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	uint64_t last = 0, now = 0;
	for (long i = 0; !stop && (seconds <= 0 || i < seconds); i++) {
		sleep(1);
		if ((rc = total(packets, &now)) < 0)
			break;
		printf("%s: %" PRIu64 " packets/s (%" PRIu64 " in all)\n", argv[2], now - last, now);
		fflush(stdout);
		last = now;
	}
	printf("total: %" PRIu64 "\n", now);
	bpfl_link_destroy(link); /* bpfl_object_close would detach it too */
	bpfl_object_close(obj);
	return rc < 0 ? fail("read", rc) : 0;
}
