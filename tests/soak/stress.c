/* make tsan-stress (or make stress): the C ABI used from several threads at
 * once, built to run under ThreadSanitizer:
 *   1. use while closing: threads look up, update and walk a map while the
 *      main thread closes its object (they must get 0, -ENOENT or -EBADF);
 *   2. many loaders at once: threads open, load, attach and close objects;
 *   3. poll while freeing: a thread polls a ring buffer (and a perf buffer)
 *      while the main thread frees it, or closes the map's object.
 *   stress BPF_DIR [ROUNDS]      (root; exit 0 passed, 1 failed, 77 skipped) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <bpfl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "common.h"

static const char *dir;
static atomic_long unexpected;

static char *path(const char *name)
{
	static __thread char buf[512];
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static void bad(const char *what, int rc)
{
	fprintf(stderr, "stress: %s: unexpected %d\n", what, rc);
	atomic_fetch_add(&unexpected, 1);
}

/* ---- 1. use while closing ---- */
struct user {
	struct bpfl_map map;
	pthread_t t;
	long ops;
};

static void *use_map(void *arg)
{
	struct user *u = arg;
	uint32_t k = 0, next;
	uint64_t v = 1;
	for (;;) {
		int r = bpfl_map_update(u->map, &k, 4, &v, 8, BPFL_ANY);
		if (r == -EBADF)
			return NULL;
		if (r)
			bad("update", r);
		r = bpfl_map_lookup(u->map, &k, 4, &v, 8);
		if (r && r != -EBADF && r != -ENOENT) /* another thread may have deleted it */
			bad("lookup", r);
		r = bpfl_map_next_key(u->map, NULL, &next, 4);
		if (r && r != -EBADF && r != -ENOENT)
			bad("next_key", r);
		r = bpfl_map_delete(u->map, &k, 4);
		if (r && r != -EBADF && r != -ENOENT)
			bad("delete", r);
		u->ops++;
	}
}

static long use_while_closing(int rounds)
{
	long ops = 0;
	for (int i = 0; i < rounds; i++) {
		struct bpfl_object o;
		struct user u[3];
		if (bpfl_object_open_file(path("seed_tp.o"), NULL, &o) || bpfl_object_load(o, NULL)) {
			bad("open+load", -1);
			return ops;
		}
		for (int j = 0; j < 3; j++) {
			u[j].ops = 0;
			bpfl_object_find_map(o, "per_pid", &u[j].map);
			pthread_create(&u[j].t, NULL, use_map, &u[j]);
		}
		usleep(200 + (i % 7) * 100);
		int r = bpfl_object_close(o);
		if (r)
			bad("close", r);
		for (int j = 0; j < 3; j++) {
			pthread_join(u[j].t, NULL);
			ops += u[j].ops;
		}
	}
	return ops;
}

/* ---- 2. many loaders at once ---- */
static int loader_rounds;
static char pin_root[128];
static void *loader(void *arg)
{
	(void)arg;
	for (int i = 0; i < loader_rounds; i++) {
		struct bpfl_object o;
		BPFL_OPTS(bpfl_open_opts, oo, .pin_root_path = pin_root);
		int r = bpfl_object_open_file(path(i % 2 ? "seed_tp.o" : "modern.o"), &oo, &o);
		if (r) {
			bad("loader open", r);
			continue;
		}
		if (i % 2 == 0) {
			uint32_t me = getpid();
			bpfl_object_set_rodata(o, "target_tgid", &me, 4);
		}
		/* modern.o pins a map by name: under /sys/fs/bpf/bpfl-stress-PID. */
		r = bpfl_object_load(o, NULL);
		if (r && r != -EEXIST)
			bad("loader load", r);
		if (!r && bpfl_object_attach_all(o) < 0)
			bad("loader attach_all", -1);
		syscall(SYS_getppid);
		if ((r = bpfl_object_close(o)))
			bad("loader close", r);
	}
	return NULL;
}

/* ---- 3. poll while freeing ---- */
static int on_sample(void *ctx, const void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}
static int on_perf(void *ctx, int cpu, const void *data, uint32_t size)
{
	(void)ctx, (void)cpu, (void)data, (void)size;
	return 0;
}

struct poller {
	struct bpfl_ringbuf rb;
	struct bpfl_perfbuf pb;
	int perf;
	long polls;
};

static void *poll_until_gone(void *arg)
{
	struct poller *p = arg;
	for (;;) {
		int ms = p->polls % 2; /* a busy poll, then a waiting one */
		int r = p->perf ? bpfl_perfbuf_poll(p->pb, ms) : bpfl_ringbuf_poll(p->rb, ms);
		if (r == -EBADF)
			return NULL;
		if (r < 0 && r != -EINTR && r != -EBUSY)
			bad("poll", r);
		p->polls++;
	}
}

static long poll_while_freeing(int rounds)
{
	long polls = 0;
	for (int i = 0; i < rounds; i++) {
		struct bpfl_object o;
		struct bpfl_map m;
		struct poller p = { .perf = i % 2 };
		pthread_t t;
		if (bpfl_object_open_file(path("ringbuf.o"), NULL, &o) || bpfl_object_load(o, NULL)) {
			bad("ringbuf.o open+load", -1);
			return polls;
		}
		int r = bpfl_object_find_map(o, p.perf ? "perf_events" : "events", &m);
		if (!r)
			r = p.perf ? bpfl_perfbuf_new(m, on_perf, NULL, NULL, NULL, &p.pb) : bpfl_ringbuf_new(m, on_sample, NULL, NULL, &p.rb);
		if (r) {
			bad("buffer new", r);
			bpfl_object_close(o);
			return polls;
		}
		pthread_create(&t, NULL, poll_until_gone, &p);
		usleep(1000 + (i % 5) * 500);
		/* Half the rounds close the object first: the consumer outlives it. */
		if (i % 4 < 2 && (r = bpfl_object_close(o)))
			bad("close under poll", r);
		r = p.perf ? bpfl_perfbuf_free(p.pb) : bpfl_ringbuf_free(p.rb);
		if (r)
			bad("free under poll", r);
		pthread_join(t, NULL);
		if (i % 4 >= 2 && (r = bpfl_object_close(o)))
			bad("close", r);
		polls += p.polls;
	}
	return polls;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: stress BPF_DIR [ROUNDS]\n");
		return 2;
	}
	dir = argv[1];
	int rounds = argc > 2 ? atoi(argv[2]) : 100;
	if (getuid() != 0) {
		printf("SKIPPED: the stress test loads BPF programs: run it as root\n");
		return 77;
	}
	struct counts before = counts_now();
	long ops = use_while_closing(rounds);
	printf("stress: use while closing: %d rounds, %ld map operations before the close\n", rounds, ops);
	pthread_t t[4];
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/bpfl-stress-%d", getpid());
	mkdir(pin_root, 0700);
	loader_rounds = rounds / 2 > 0 ? rounds / 2 : 1;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, loader, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	char pin[192];
	snprintf(pin, sizeof(pin), "%s/pinned_counts", pin_root);
	unlink(pin);
	rmdir(pin_root);
	printf("stress: many loaders at once: 4 threads x %d open/load/attach/close\n", loader_rounds);
	long polls = poll_while_freeing(rounds);
	printf("stress: poll while freeing: %d rounds (ring and perf buffers), %ld polls\n", rounds, polls);
	struct counts after = counts_now();
	print_counts("before", 0, before);
	print_counts("after", 0, after);
	long u = atomic_load(&unexpected);
	if (after.bpf_fds > before.bpf_fds) {
		printf("FAIL: %d BPF fds left behind\n", after.bpf_fds - before.bpf_fds);
		u++;
	}
	printf("stress: %s (%ld unexpected results)\n", u ? "FAILED" : "passed", u);
	return u ? 1 : 0;
}
