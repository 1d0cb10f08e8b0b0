/*
 * skel_count: the skeleton example. Built from a header that `bpfl gen
 * skeleton` makes of build/bpf/skel_count.o (bpf/skel_count.bpf.c), so no
 * object file and no struct layout is written by hand:
 *
 *   bpfl gen skeleton build/bpf/skel_count.o --lang c -o skel_count.skel.h
 *   cc -std=c11 -I include -I . skel_count.c target/release/libbpfl.a -lpthread -ldl -lm -lrt
 *   sudo ./a.out 25            (or: make skel-examples; see docs/skeletons.md)
 *
 * It sets the .rodata filter to its own pid before load, sets .data's step
 * to 3 after load (through the kernel's mapped memory), calls getppid() N
 * times (and has a child call it N times, which the filter leaves out), then
 * reads .bss's total through the skeleton and through the .bss map, the
 * counts map and the ring buffer's events. The test compares these lines:
 *   calls: N
 *   total: 3N (.bss map: 3N)
 *   counts: N calls, last step 3
 *   events: N, seq sum 3N(N+1)/2, fields ok
 */
#define _DEFAULT_SOURCE
#include "skel_count.skel.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct tally {
	uint32_t tgid;
	uint64_t n, seq_sum, bad;
};

static int on_event(void *ctx, const void *data, size_t size)
{
	struct tally *t = ctx;
	struct event e;

	if (size < sizeof(e)) {
		t->bad++;
		return 0;
	}
	memcpy(&e, data, sizeof(e));
	t->n++;
	t->seq_sum += e.stamp.seq;
	/* flags (bits 0..2) is 5; the union's total is the sequence number. */
	if (e.tgid != t->tgid || e.tag != 0xab || e.stamp.kind != 7 || (e.flags_cpu_lo & 7) != 5 ||
	    e.u.total != e.stamp.seq || e.comm[0] == 0 || e.task == 0)
		t->bad++;
	return 0;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "skel_count: %s: %s\n", what, *bpfl_last_error() ? bpfl_last_error() : strerror(rc < 0 ? -rc : rc));
	return 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	struct tally t = { (uint32_t)getpid(), 0, 0, 0 };
	struct skel_count *s = skel_count__open();
	bpfl_ringbuf rb = { 0 };
	struct counter c = { 0 };
	struct skel_count__bss bss;
	uint32_t zero = 0;
	int rc;

	if (!s)
		return fail("open", errno);
	s->rodata->target_tgid = t.tgid; /* before load: the program's constant */
	if ((rc = skel_count__load(s)) || (rc = skel_count__attach(s)))
		goto out;
	s->data->step = 3; /* after load: the live map */
	pid_t child = fork();
	if (child == 0) {
		for (int i = 0; i < n; i++)
			getppid();
		_exit(0);
	}
	waitpid(child, NULL, 0);
	for (int i = 0; i < n; i++)
		getppid();
	printf("calls: %d\n", n);
	if ((rc = bpfl_map_lookup(s->maps.bss, &zero, sizeof(zero), &bss, sizeof(bss))))
		goto out;
	printf("total: %" PRIu64 " (.bss map: %" PRIu64 ")\n", s->bss->total, bss.total);
	rc = bpfl_map_lookup(s->maps.counts, &t.tgid, sizeof(t.tgid), &c, sizeof(c));
	if (rc && rc != -ENOENT)
		goto out;
	printf("counts: %" PRIu64 " calls, last step %u\n", c.calls, c.last_step);
	if ((rc = bpfl_ringbuf_new(s->maps.events, on_event, &t, NULL, &rb)) < 0 || (rc = bpfl_ringbuf_consume(rb)) < 0)
		goto out;
	printf("events: %" PRIu64 ", seq sum %" PRIu64 ", fields %s\n", t.n, t.seq_sum, t.bad ? "BAD" : "ok");
	rc = 0;
out:
	if (rc)
		fail("skeleton", rc);
	if (rb.id)
		bpfl_ringbuf_free(rb);
	skel_count__destroy(s);
	return rc ? 1 : 0;
}
