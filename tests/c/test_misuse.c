/* The C ABI under misuse: NULL for every pointer argument of every export,
 * wrong sizes, stale / double-closed / wrong-kind / forged handles for every
 * handle-taking call, calls racing a close on another thread, and callbacks
 * (log, ring buffer, perf buffer) that call back into bpfl. Nothing here may
 * crash, hang, or trip a sanitizer; every misuse is a clean negative errno.
 *
 *   test_misuse [BPF_DIR]   (else $BPFL_BPF_DIR, else build/bpf)
 * Last line: "N passed, N failed". Exit 0 all passed, 1 a failure, 77 skipped
 * (not root). tests/c/misuse.sh checks that every export of include/bpfl.h
 * is named in this file. */
#include <bpfl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int passed, failed;
static const char *dir;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (cond) {                                                                \
			passed++;                                                          \
		} else {                                                                   \
			failed++;                                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
			fprintf(stderr, __VA_ARGS__);                                      \
			fprintf(stderr, " [last error: %s]\n", bpfl_last_error());        \
		}                                                                          \
	} while (0)
/* `call` returns `want` and leaves a message (for errors). */
#define EXPECT(call, want)                                                                 \
	do {                                                                               \
		int r_ = (call);                                                           \
		CHECK(r_ == (want), "%s = %d, want %d", #call, r_, (want));                \
		if ((want) < 0 && r_ == (want))                                            \
			CHECK(bpfl_last_error()[0] != 0, "%s left no message", #call);    \
	} while (0)
#define OK(call) EXPECT(call, 0)

static char *path(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* ---- the live fixture: one of each kind of handle --------------------------- */

static struct bpfl_object obj;
static struct bpfl_program prog, perf_prog;
static struct bpfl_map events, perf_events, failures, pinned;
static struct bpfl_link link_;
static struct bpfl_ringbuf rb;
static struct bpfl_perfbuf pb;
static char pin_path[128];
static uint32_t tgid;

static int count_record(void *ctx, const void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(int *)ctx;
	return 0;
}
static int count_sample(void *ctx, int cpu, const void *data, uint32_t size)
{
	(void)cpu;
	(void)data;
	(void)size;
	++*(int *)ctx;
	return 0;
}
static int ring_count, perf_count;

static int setup(void)
{
	if (bpfl_object_open_file(path("ringbuf.o"), NULL, &obj))
		return -1;
	tgid = (uint32_t)getpid();
	if (bpfl_object_set_rodata(obj, "target_tgid", &tgid, sizeof(tgid)) || bpfl_object_load(obj, NULL))
		return -1;
	if (bpfl_object_find_program(obj, "rb_getpid", &prog) || bpfl_object_find_program(obj, "perf_getpid", &perf_prog) ||
	    bpfl_object_find_map(obj, "events", &events) || bpfl_object_find_map(obj, "perf_events", &perf_events) ||
	    bpfl_object_find_map(obj, "failures", &failures))
		return -1;
	if (bpfl_program_attach(prog, &link_))
		return -1;
	snprintf(pin_path, sizeof(pin_path), "/sys/fs/bpf/bpfl_misuse_%d", (int)getpid());
	unlink(pin_path);
	if (bpfl_map_pin(failures, pin_path) || bpfl_map_open_pinned(pin_path, &pinned))
		return -1;
	if (bpfl_ringbuf_new(events, count_record, &ring_count, NULL, &rb))
		return -1;
	if (bpfl_perfbuf_new(perf_events, count_sample, NULL, &perf_count, NULL, &pb))
		return -1;
	return 0;
}

/* Every live fixture handle still works (after a misuse aimed at it). */
static void fixture_intact(const char *after)
{
	uint32_t k = 0;
	uint64_t v;
	size_t n;
	int fd;
	struct bpfl_program_info pi = { .sz = sizeof(pi) };
	CHECK(bpfl_object_program_count(obj, &n) == 0 && n == 3, "object after %s", after);
	CHECK(bpfl_program_get_info(prog, &pi) == 0, "program after %s", after);
	CHECK(bpfl_link_fd(link_, &fd) == 0 && fd >= 0, "link after %s", after);
	CHECK(bpfl_map_lookup(failures, &k, sizeof(k), &v, sizeof(v)) == 0, "map after %s", after);
	CHECK(bpfl_map_lookup(pinned, &k, sizeof(k), &v, sizeof(v)) == 0, "pinned map after %s", after);
	CHECK(bpfl_ringbuf_epoll_fd(rb) >= 0, "ring buffer after %s", after);
	CHECK(bpfl_perfbuf_epoll_fd(pb) >= 0, "perf buffer after %s", after);
}

/* ---- 1. NULL for every pointer argument --------------------------------------- */

static void test_nulls(void)
{
	struct bpfl_object o;
	struct bpfl_program p;
	struct bpfl_map m;
	struct bpfl_link l;
	struct bpfl_ringbuf r;
	struct bpfl_perfbuf q;
	uint32_t k = 0;
	uint64_t v = 0;
	char buf[64];
	size_t n;
	int fd;
	void *vp;
	size_t vn;

	CHECK(bpfl_version() != NULL && bpfl_version()[0], "bpfl_version");
	CHECK(bpfl_last_error() != NULL, "bpfl_last_error");
	OK(bpfl_set_log_callback(NULL, NULL, BPFL_LOG_ERROR)); /* NULL cb: the default */

	EXPECT(bpfl_object_open_file(NULL, NULL, &o), -EINVAL);
	EXPECT(bpfl_object_open_file(path("seed_tp.o"), NULL, NULL), -EINVAL);
	EXPECT(bpfl_object_open_mem(NULL, 16, NULL, &o), -EINVAL);
	EXPECT(bpfl_object_open_mem(buf, sizeof(buf), NULL, NULL), -EINVAL);
	struct bpfl_open_opts oo = { .sz = sizeof(oo), .object_name = NULL, .pin_root_path = NULL };
	OK(bpfl_object_open_file(path("seed_tp.o"), &oo, &o)); /* NULL strings in opts: the defaults */
	OK(bpfl_object_close(o));

	EXPECT(bpfl_object_set_rodata(obj, NULL, &v, 4), -EINVAL);
	EXPECT(bpfl_object_set_rodata(obj, "target_tgid", NULL, 4), -EINVAL);
	EXPECT(bpfl_object_name(obj, NULL, 16), -EINVAL);
	EXPECT(bpfl_object_program_count(obj, NULL), -EINVAL);
	EXPECT(bpfl_object_map_count(obj, NULL), -EINVAL);
	EXPECT(bpfl_object_program_at(obj, 0, NULL), -EINVAL);
	EXPECT(bpfl_object_map_at(obj, 0, NULL), -EINVAL);
	EXPECT(bpfl_object_find_program(obj, NULL, &p), -EINVAL);
	EXPECT(bpfl_object_find_program(obj, "rb_getpid", NULL), -EINVAL);
	EXPECT(bpfl_object_find_map(obj, NULL, &m), -EINVAL);
	EXPECT(bpfl_object_find_map(obj, "events", NULL), -EINVAL);
	EXPECT(bpfl_object_find_variable(obj, NULL, &vp, &vn), -EINVAL);
	EXPECT(bpfl_object_find_variable(obj, "target_tgid", NULL, &vn), -EINVAL);
	EXPECT(bpfl_object_find_variable(obj, "target_tgid", &vp, NULL), -EINVAL);
	EXPECT(bpfl_object_find_variable(obj, "no_such_variable", &vp, &vn), -ENOENT);
	EXPECT(bpfl_map_mmap(events, NULL, &vn), -EINVAL);
	EXPECT(bpfl_map_mmap(events, &vp, NULL), -EINVAL);
	EXPECT(bpfl_map_mmap(events, &vp, &vn), -EINVAL); /* a ring buffer is not an mmapable array */
	/* bpfl_object_load's, bpfl_object_attach_all's and bpfl_object_close's only pointer is opts (NULL: defaults). */

	EXPECT(bpfl_program_get_info(prog, NULL), -EINVAL);
	EXPECT(bpfl_program_fd(prog, NULL), -EINVAL);
	EXPECT(bpfl_program_attach(prog, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_kprobe(prog, NULL, NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_kprobe(prog, "do_nanosleep", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_uprobe(prog, NULL, "main", NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_uprobe(prog, "/proc/self/exe", "main", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_tracepoint(prog, NULL, "sys_enter_getpid", &l), -EINVAL);
	EXPECT(bpfl_program_attach_tracepoint(prog, "syscalls", NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_tracepoint(prog, "syscalls", "sys_enter_getpid", NULL), -EINVAL);
	EXPECT(bpfl_program_attach_raw_tracepoint(prog, NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_usdt(prog, 0, NULL, "p", "n", NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_usdt(prog, 0, "/proc/self/exe", NULL, "n", NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_usdt(prog, 0, "/proc/self/exe", "p", NULL, NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_usdt(prog, 0, "/proc/self/exe", "p", "n", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_uprobe_multi(prog, 0, NULL, "main", NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_uprobe_multi(prog, 0, "/proc/self/exe", "main", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_kprobe_multi(prog, "do_nano*", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_ksyscall(prog, NULL, NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_ksyscall(prog, "getpid", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_tracepoint_opts(prog, NULL, "sys_enter_getpid", NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_tracepoint_opts(prog, "syscalls", "sys_enter_getpid", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_trace_opts(prog, NULL, NULL), -EINVAL);
	{
		/* An impossible count with a real array: refused before the array is read. */
		uint64_t one = 1;
		struct bpfl_uprobe_multi_opts mo = { .sz = sizeof(mo), .offsets = &one, .cnt = (size_t)-1 };
		EXPECT(bpfl_program_attach_uprobe_multi(prog, 0, "/proc/self/exe", NULL, &mo, &l), -EINVAL);
		struct bpfl_kprobe_multi_opts kmo = { .sz = sizeof(kmo), .addrs = &one, .cnt = (size_t)-1 };
		EXPECT(bpfl_program_attach_kprobe_multi(prog, NULL, &kmo, &l), -EINVAL);
	}
	EXPECT(bpfl_program_attach_raw_tracepoint(prog, "sys_enter", NULL), -EINVAL);

	EXPECT(bpfl_link_fd(link_, NULL), -EINVAL);
	/* bpfl_link_destroy takes no pointer. */
	EXPECT(bpfl_link_pin(link_, NULL), -EINVAL);
	EXPECT(bpfl_link_open_pinned(NULL, &l), -EINVAL);
	EXPECT(bpfl_link_open_pinned(pin_path, NULL), -EINVAL);
	EXPECT(bpfl_link_get_info(link_, NULL), -EINVAL);
	EXPECT(bpfl_iter_create(link_, NULL), -EINVAL);
	/* bpfl_link_update's only pointer is opts (NULL: no old-program check); bpfl_link_detach and bpfl_link_update_map take none. */
	EXPECT(bpfl_perf_event_open(NULL, 0, &fd), -EINVAL);
	struct bpfl_perf_event_spec spec = { .sz = sizeof(spec), .perf_type = 1, .period = 1000, .freq = true };
	EXPECT(bpfl_perf_event_open(&spec, 0, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_perf_event(perf_prog, 0, NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_iter(prog, NULL, NULL), -EINVAL);
	EXPECT(bpfl_map_attach_struct_ops(failures, NULL), -EINVAL);

	EXPECT(bpfl_map_get_info(failures, NULL), -EINVAL);
	EXPECT(bpfl_map_value_buf_size(failures, NULL), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, NULL, 4, &v, 8), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, &k, 4, NULL, 8), -EINVAL);
	EXPECT(bpfl_map_update(failures, NULL, 4, &v, 8, 0), -EINVAL);
	EXPECT(bpfl_map_update(failures, &k, 4, NULL, 8, 0), -EINVAL);
	EXPECT(bpfl_map_delete(pinned, NULL, 4), -EINVAL);
	OK(bpfl_map_next_key(failures, NULL, &k, 4)); /* NULL key: the first key */
	EXPECT(bpfl_map_next_key(failures, &k, NULL, 4), -EINVAL);
	EXPECT(bpfl_map_read_all(failures, NULL, buf, 1, &n), -EINVAL);
	EXPECT(bpfl_map_read_all(failures, buf, NULL, 1, &n), -EINVAL);
	EXPECT(bpfl_map_read_all(failures, buf, buf + 8, 1, NULL), -EINVAL);
	{ /* The batch calls: every pointer (count is set to 0 on every refusal). */
		uint32_t bk[2] = { 0, 1 };
		uint64_t bv[2] = { 0, 0 };
		unsigned char cur[8];
		size_t bn = 2;
		EXPECT(bpfl_map_update_batch(failures, NULL, 8, bv, 16, &bn, NULL), -EINVAL);
		CHECK(bn == 0, "count reset on refusal: %zu", bn);
		bn = 2;
		EXPECT(bpfl_map_update_batch(failures, bk, 8, NULL, 16, &bn, NULL), -EINVAL);
		EXPECT(bpfl_map_update_batch(failures, bk, 8, bv, 16, NULL, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_delete_batch(pinned, NULL, 8, &bn, NULL), -EINVAL);
		EXPECT(bpfl_map_delete_batch(pinned, bk, 8, NULL, NULL), -EINVAL);
		EXPECT(bpfl_map_batch_cursor_size(failures, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_batch(failures, NULL, NULL, 8, bk, 8, bv, 16, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_batch(failures, NULL, cur, 8, NULL, 8, bv, 16, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_batch(failures, NULL, cur, 8, bk, 8, NULL, 16, &bn, NULL), -EINVAL);
		EXPECT(bpfl_map_lookup_batch(failures, NULL, cur, 8, bk, 8, bv, 16, NULL, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_and_delete_batch(pinned, NULL, NULL, 8, bk, 8, bv, 16, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_and_delete_batch(pinned, NULL, cur, 8, NULL, 8, bv, 16, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_and_delete_batch(pinned, NULL, cur, 8, bk, 8, NULL, 16, &bn, NULL), -EINVAL);
		EXPECT(bpfl_map_lookup_and_delete_batch(pinned, NULL, cur, 8, bk, 8, bv, 16, NULL, NULL), -EINVAL);
		/* Sizes: short buffers, counts no buffer holds, a short cursor, a bad opts.sz. */
		bn = 2;
		EXPECT(bpfl_map_update_batch(failures, bk, 7, bv, 16, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_update_batch(failures, bk, 8, bv, 15, &bn, NULL), -EINVAL);
		bn = SIZE_MAX;
		EXPECT(bpfl_map_update_batch(failures, bk, 8, bv, 16, &bn, NULL), -EINVAL);
		bn = SIZE_MAX / 4;
		EXPECT(bpfl_map_update_batch(failures, bk, 8, bv, 16, &bn, NULL), -EINVAL);
		bn = 1ULL << 33;
		EXPECT(bpfl_map_update_batch(failures, bk, SIZE_MAX, bv, 16, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_delete_batch(pinned, bk, 7, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_batch(failures, NULL, cur, 3, bk, 8, bv, 16, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_batch(failures, NULL, cur, 8, bk, 8, bv, 8, &bn, NULL), -EINVAL);
		bn = 2;
		EXPECT(bpfl_map_lookup_and_delete_batch(pinned, cur, cur, 2, bk, 8, bv, 16, &bn, NULL), -EINVAL);
		struct bpfl_map_batch_opts bo = { .sz = 1 };
		bn = 2;
		EXPECT(bpfl_map_update_batch(failures, bk, 8, bv, 16, &bn, &bo), -EINVAL);
		CHECK(bn == 0, "count reset on refusal: %zu", bn);
	}
	EXPECT(bpfl_map_open_pinned(NULL, &m), -EINVAL);
	EXPECT(bpfl_map_open_pinned(pin_path, NULL), -EINVAL);
	EXPECT(bpfl_map_pin(failures, NULL), -EINVAL);
	EXPECT(bpfl_map_set_initial_value(failures, NULL, 8), -EINVAL);
	/* bpfl_map_clear and bpfl_map_close take no pointer. */

	/* Set-up calls: NULLs, bad fds, and EBUSY on a loaded object or a pinned map. */
	{
		bool b;
		uint32_t f;
		size_t ln;
		char lb[16];
		EXPECT(bpfl_program_autoload(prog, NULL), -EINVAL);
		EXPECT(bpfl_program_flags(prog, NULL), -EINVAL);
		EXPECT(bpfl_program_log(prog, NULL, 16, &ln), -EINVAL);
		EXPECT(bpfl_program_log(prog, lb, 16, NULL), -EINVAL);
		EXPECT(bpfl_program_set_attach_target(prog, 0, NULL), -EINVAL);
		EXPECT(bpfl_program_set_autoload(prog, false), -EBUSY);
		EXPECT(bpfl_program_set_type(prog, 1), -EBUSY);
		EXPECT(bpfl_program_set_type(prog, 0), -EINVAL);
		EXPECT(bpfl_program_set_expected_attach_type(prog, 1), -EBUSY);
		EXPECT(bpfl_program_set_attach_target(prog, 0, "do_nanosleep"), -EBUSY);
		EXPECT(bpfl_program_set_flags(prog, 1), -EBUSY);
		EXPECT(bpfl_program_set_log_level(prog, 1), -EBUSY);
		OK(bpfl_program_autoload(prog, &b));
		OK(bpfl_program_flags(prog, &f));
		EXPECT(bpfl_map_set_pin_path(failures, NULL), -EINVAL);
		EXPECT(bpfl_map_autocreate(failures, NULL), -EINVAL);
		EXPECT(bpfl_map_set_inner_map_fd(failures, -1), -EBADF);
		EXPECT(bpfl_map_reuse_fd(failures, -1), -EBADF);
		EXPECT(bpfl_map_reuse_fd(failures, 0), -EINVAL); /* stdin is no map */
		EXPECT(bpfl_map_set_max_entries(failures, 1), -EBUSY);
		EXPECT(bpfl_map_set_value_size(failures, 8), -EBUSY);
		EXPECT(bpfl_map_set_key_size(failures, 4), -EBUSY);
		EXPECT(bpfl_map_set_map_flags(failures, 0), -EBUSY);
		EXPECT(bpfl_map_set_numa_node(failures, 0), -EBUSY);
		EXPECT(bpfl_map_set_autocreate(pinned, false), -EBUSY);
		EXPECT(bpfl_map_set_pin_path(pinned, "/sys/fs/bpf/x"), -EBUSY);
		OK(bpfl_map_autocreate(failures, &b));
	}

	EXPECT(bpfl_ringbuf_new(events, NULL, NULL, NULL, &r), -EINVAL);
	EXPECT(bpfl_ringbuf_new(events, count_record, NULL, NULL, NULL), -EINVAL);
	EXPECT(bpfl_ringbuf_add(rb, events, NULL, NULL), -EINVAL);
	/* bpfl_ringbuf_poll, bpfl_ringbuf_consume, bpfl_ringbuf_epoll_fd, bpfl_ringbuf_free take no pointer. */
	EXPECT(bpfl_perfbuf_new(perf_events, NULL, NULL, NULL, NULL, &q), -EINVAL);
	EXPECT(bpfl_perfbuf_new(perf_events, count_sample, NULL, NULL, NULL, NULL), -EINVAL);
	/* bpfl_perfbuf_poll, bpfl_perfbuf_consume, bpfl_perfbuf_epoll_fd, bpfl_perfbuf_free take no pointer. */

	EXPECT(bpfl_program_attach_cgroup(prog, 0, NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_cgroup_path(prog, NULL, NULL, &l), -EINVAL);
	EXPECT(bpfl_program_attach_cgroup_path(prog, "/sys/fs/cgroup", NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_socket(prog, 0, NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_sockmap(prog, failures, NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_netns(prog, -1, NULL, NULL), -EINVAL);
	EXPECT(bpfl_program_attach_netns_path(prog, NULL, NULL, NULL), -EINVAL); /* NULL path: this process's */
	EXPECT(bpfl_program_attach_netfilter(prog, 2, 3, 0, NULL, NULL), -EINVAL);
	EXPECT(bpfl_query_programs(0, 0, NULL, 0, NULL), -EINVAL);
	EXPECT(bpfl_query_programs(0, 0, NULL, 4, &n), -EINVAL);
	EXPECT(bpfl_query_programs(0, 0, (uint32_t *)buf, SIZE_MAX / 2, &n), -EINVAL);
	EXPECT(bpfl_map_set_inner(failures, NULL, 4, failures), -EINVAL);
	/* bpfl_map_set_prog and bpfl_map_clear_slot take no pointer. */
	(void)fd;
	fixture_intact("NULL arguments");
}

/* ---- 2. wrong sizes --------------------------------------------------------- */

/* An options struct followed by a tail bpfl does not know. */
#define OPTS_TAIL(type, name) struct { struct type o; uint64_t tail[2]; } name
static void test_sizes(void)
{
	struct bpfl_object o;
	struct bpfl_link l;
	struct bpfl_ringbuf r;
	struct bpfl_perfbuf q;
	uint32_t k = 0, k8[2] = { 0, 0 };
	uint64_t v = 0, v2[2];
	char buf[64];
	size_t n;

	/* sz too small, too big with a non-zero tail (E2BIG), too big with a zero tail (fine). */
	OPTS_TAIL(bpfl_open_opts, op) = { { .sz = 0 }, { 0, 0 } };
	EXPECT(bpfl_object_open_file(path("seed_tp.o"), &op.o, &o), -EINVAL);
	op.o.sz = 4;
	EXPECT(bpfl_object_open_file(path("seed_tp.o"), &op.o, &o), -EINVAL);
	op.o.sz = sizeof(op);
	op.tail[1] = 1;
	EXPECT(bpfl_object_open_file(path("seed_tp.o"), &op.o, &o), -E2BIG);
	EXPECT(bpfl_object_open_mem(buf, sizeof(buf), &op.o, &o), -E2BIG);
	op.tail[1] = 0;
	OK(bpfl_object_open_file(path("seed_tp.o"), &op.o, &o));
	OPTS_TAIL(bpfl_load_opts, lo) = { { .sz = 1 }, { 0, 0 } };
	EXPECT(bpfl_object_load(o, &lo.o), -EINVAL);
	lo.o.sz = sizeof(lo);
	lo.tail[0] = 7;
	EXPECT(bpfl_object_load(o, &lo.o), -E2BIG);
	OK(bpfl_object_close(o));

	OPTS_TAIL(bpfl_kprobe_opts, ko) = { { .sz = 2 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_kprobe(prog, "do_nanosleep", &ko.o, &l), -EINVAL);
	ko.o.sz = sizeof(ko);
	ko.tail[1] = 1;
	EXPECT(bpfl_program_attach_kprobe(prog, "do_nanosleep", &ko.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_uprobe_opts, uo) = { { .sz = 0 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_uprobe(prog, "/proc/self/exe", "main", &uo.o, &l), -EINVAL);
	uo.o.sz = sizeof(uo);
	uo.tail[0] = 1;
	EXPECT(bpfl_program_attach_uprobe(prog, "/proc/self/exe", "main", &uo.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_link_update_opts, luo) = { { .sz = 2 }, { 0, 0 } };
	EXPECT(bpfl_link_update(link_, prog, &luo.o), -EINVAL);
	luo.o.sz = sizeof(luo);
	luo.tail[1] = 1;
	EXPECT(bpfl_link_update(link_, prog, &luo.o), -E2BIG);
	OPTS_TAIL(bpfl_perf_event_opts, peo) = { { .sz = 1 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_perf_event(perf_prog, 0, &peo.o, &l), -EINVAL);
	peo.o.sz = sizeof(peo);
	peo.tail[0] = 1;
	EXPECT(bpfl_program_attach_perf_event(perf_prog, 0, &peo.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_iter_opts, io) = { { .sz = 4 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_iter(prog, &io.o, &l), -EINVAL);
	io.o.sz = sizeof(io);
	io.tail[1] = 5;
	EXPECT(bpfl_program_attach_iter(prog, &io.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_perf_event_spec, ps) = { { .sz = 3 }, { 0, 0 } };
	int pfd;
	EXPECT(bpfl_perf_event_open(&ps.o, 0, &pfd), -EINVAL);
	ps.o.sz = sizeof(ps);
	ps.tail[0] = 2;
	EXPECT(bpfl_perf_event_open(&ps.o, 0, &pfd), -E2BIG);
	struct bpfl_link_info li = { .sz = 3 };
	EXPECT(bpfl_link_get_info(link_, &li), -EINVAL);
	OPTS_TAIL(bpfl_usdt_opts, so) = { { .sz = 0 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_usdt(prog, 0, "/proc/self/exe", "p", "n", &so.o, &l), -EINVAL);
	so.o.sz = sizeof(so);
	so.tail[1] = 1;
	EXPECT(bpfl_program_attach_usdt(prog, 0, "/proc/self/exe", "p", "n", &so.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_uprobe_multi_opts, umo) = { { .sz = 1 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_uprobe_multi(prog, 0, "/proc/self/exe", "main", &umo.o, &l), -EINVAL);
	umo.o.sz = sizeof(umo);
	umo.tail[0] = 1;
	EXPECT(bpfl_program_attach_uprobe_multi(prog, 0, "/proc/self/exe", "main", &umo.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_kprobe_multi_opts, kmo) = { { .sz = 1 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_kprobe_multi(prog, "do_nano*", &kmo.o, &l), -EINVAL);
	kmo.o.sz = sizeof(kmo);
	kmo.tail[1] = 1;
	EXPECT(bpfl_program_attach_kprobe_multi(prog, "do_nano*", &kmo.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_ksyscall_opts, kso) = { { .sz = 2 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_ksyscall(prog, "getpid", &kso.o, &l), -EINVAL);
	kso.o.sz = sizeof(kso);
	kso.tail[0] = 1;
	EXPECT(bpfl_program_attach_ksyscall(prog, "getpid", &kso.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_tracepoint_opts, tpo) = { { .sz = 0 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_tracepoint_opts(prog, "syscalls", "sys_enter_getpid", &tpo.o, &l), -EINVAL);
	tpo.o.sz = sizeof(tpo);
	tpo.tail[1] = 1;
	EXPECT(bpfl_program_attach_tracepoint_opts(prog, "syscalls", "sys_enter_getpid", &tpo.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_trace_opts, tro) = { { .sz = 0 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_trace_opts(prog, &tro.o, &l), -EINVAL);
	tro.o.sz = sizeof(tro);
	tro.tail[1] = 1;
	EXPECT(bpfl_program_attach_trace_opts(prog, &tro.o, &l), -E2BIG);
	OPTS_TAIL(bpfl_ringbuf_opts, ro) = { { .sz = 3 }, { 0, 0 } };
	EXPECT(bpfl_ringbuf_new(events, count_record, NULL, &ro.o, &r), -EINVAL);
	ro.o.sz = sizeof(ro);
	ro.tail[1] = 9;
	EXPECT(bpfl_ringbuf_new(events, count_record, NULL, &ro.o, &r), -E2BIG);
	OPTS_TAIL(bpfl_perfbuf_opts, po) = { { .sz = 1 }, { 0, 0 } };
	EXPECT(bpfl_perfbuf_new(perf_events, count_sample, NULL, NULL, &po.o, &q), -EINVAL);
	po.o.sz = sizeof(po);
	po.tail[0] = 1;
	EXPECT(bpfl_perfbuf_new(perf_events, count_sample, NULL, NULL, &po.o, &q), -E2BIG);

	/* Page counts: powers of two whose size would wrap, and non-powers. */
	size_t bad_pages[] = { 3, 6, (size_t)1 << 63, (size_t)1 << 52, SIZE_MAX };
	for (size_t i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++) {
		BPFL_OPTS(bpfl_perfbuf_opts, p, .page_cnt = bad_pages[i]);
		EXPECT(bpfl_perfbuf_new(perf_events, count_sample, NULL, NULL, &p, &q), -EINVAL);
	}
	BPFL_OPTS(bpfl_perfbuf_opts, huge, .page_cnt = (size_t)1 << 63);
	bpfl_perfbuf_new(perf_events, count_sample, NULL, NULL, &huge, &q);
	CHECK(strstr(bpfl_last_error(), "too large") != NULL, "page_cnt 2^63 says why: %s", bpfl_last_error());

	/* Info structs: sz 0 refused; a small sz gets only what fits; a big one keeps its tail. */
	struct { struct bpfl_map_info i; uint64_t tail; } mi = { { .sz = 0 }, 0x5a5a5a5a5a5a5a5aULL };
	EXPECT(bpfl_map_get_info(failures, &mi.i), -EINVAL);
	mi.i.sz = sizeof(size_t);
	OK(bpfl_map_get_info(failures, &mi.i));
	CHECK(mi.i.name == NULL, "sz = 8 wrote past sz");
	mi.i.sz = sizeof(mi);
	OK(bpfl_map_get_info(failures, &mi.i));
	CHECK(mi.tail == 0x5a5a5a5a5a5a5a5aULL && mi.i.key_size == 4, "tail kept, fields set");
	struct bpfl_program_info pi = { .sz = 1 };
	EXPECT(bpfl_program_get_info(prog, &pi), -EINVAL);

	/* Key and value sizes: every mismatch, and sizes no buffer can have. */
	EXPECT(bpfl_map_lookup(failures, &k, 3, &v, 8), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, k8, 8, &v, 8), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, &k, 4, &v, 4), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, &k, 4, v2, 16), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, &k, SIZE_MAX, &v, 8), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, &k, 4, &v, SIZE_MAX), -EINVAL);
	EXPECT(bpfl_map_lookup(failures, &k, 0, &v, 8), -EINVAL);
	EXPECT(bpfl_map_update(failures, &k, 4, &v, 7, 0), -EINVAL);
	EXPECT(bpfl_map_update(failures, &k, SIZE_MAX / 2 + 2, &v, 8, 0), -EINVAL);
	EXPECT(bpfl_map_update(failures, &k, 4, &v, 8, 99), -EINVAL);
	EXPECT(bpfl_map_delete(pinned, &k, 2), -EINVAL);
	EXPECT(bpfl_map_next_key(failures, &k, k8, 8), -EINVAL);
	EXPECT(bpfl_map_next_key(failures, NULL, k8, SIZE_MAX), -EINVAL);
	EXPECT(bpfl_map_read_all(failures, buf, buf, SIZE_MAX, &n), -EINVAL);
	EXPECT(bpfl_map_read_all(failures, buf, buf, SIZE_MAX / 4, &n), -EINVAL);
	EXPECT(bpfl_map_set_initial_value(failures, &v, 3), -EINVAL);
	EXPECT(bpfl_map_set_initial_value(failures, &v, SIZE_MAX), -EINVAL);
	EXPECT(bpfl_object_set_rodata(obj, "target_tgid", &v, 3), -EINVAL);
	EXPECT(bpfl_object_set_rodata(obj, "target_tgid", &v, SIZE_MAX), -EINVAL);
	EXPECT(bpfl_object_open_mem(buf, SIZE_MAX, NULL, &o), -EINVAL);
	EXPECT(bpfl_object_open_mem(buf, 0, NULL, &o), -ENOEXEC);
	EXPECT(bpfl_object_name(obj, buf, 0), -ENOSPC);
	EXPECT(bpfl_object_name(obj, buf, 3), -ENOSPC);
	EXPECT(bpfl_object_name(obj, buf, SIZE_MAX), -EINVAL);
	EXPECT(bpfl_object_program_at(obj, SIZE_MAX, &(struct bpfl_program){ 0 }), -EINVAL);
	EXPECT(bpfl_object_map_at(obj, 1000, &(struct bpfl_map){ 0 }), -EINVAL);
	EXPECT(bpfl_set_log_callback(NULL, NULL, 99), -EINVAL);
	EXPECT(bpfl_set_log_callback(NULL, NULL, -1), -EINVAL);
	fixture_intact("wrong sizes");
}

/* ---- networking and test runs: NULLs and sizes --------------------------------- */

static void test_net_misuse(void)
{
	struct bpfl_link l;
	uint32_t idx;
	char buf[64] = { 0 };

	EXPECT(bpfl_program_test_run(prog, NULL, NULL), -EINVAL);
	struct bpfl_test_run_result rr = { .sz = sizeof(rr) };
	BPFL_OPTS(bpfl_test_run_opts, ro, .data_in = NULL, .data_size_in = 8);
	EXPECT(bpfl_program_test_run(prog, &ro, &rr), -EINVAL); /* NULL data with a size */
	ro.data_in = buf;
	ro.data_size_in = SIZE_MAX;
	EXPECT(bpfl_program_test_run(prog, &ro, &rr), -EINVAL); /* no buffer is that large */
	ro.data_size_in = sizeof(buf);
	ro.data_out = buf;
	ro.data_size_out = SIZE_MAX / 2 + 2;
	EXPECT(bpfl_program_test_run(prog, &ro, &rr), -EINVAL);
	rr.sz = 0;
	ro.data_size_out = sizeof(buf);
	EXPECT(bpfl_program_test_run(prog, &ro, &rr), -EINVAL); /* result sz 0 */
	OPTS_TAIL(bpfl_test_run_opts, rt) = { { .sz = sizeof(rt) }, { 0, 1 } };
	rr.sz = sizeof(rr);
	EXPECT(bpfl_program_test_run(prog, &rt.o, &rr), -E2BIG);

	EXPECT(bpfl_program_attach_xdp(prog, 1, NULL, NULL), -EINVAL);
	OPTS_TAIL(bpfl_xdp_opts, xo) = { { .sz = 2 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_xdp(prog, 1, &xo.o, &l), -EINVAL);
	xo.o.sz = sizeof(xo);
	xo.tail[0] = 1;
	EXPECT(bpfl_program_attach_xdp(prog, 1, &xo.o, &l), -E2BIG);
	EXPECT(bpfl_program_attach_xdp(prog, 1, NULL, &l), -EINVAL); /* not an XDP program */
	EXPECT(bpfl_xdp_query(1, NULL), -EINVAL);
	struct bpfl_xdp_info xi = { .sz = 0 };
	EXPECT(bpfl_xdp_query(1, &xi), -EINVAL);
	xi.sz = sizeof(xi);
	EXPECT(bpfl_xdp_query(999999, &xi), -ENOENT);
	{
		uint32_t qids[2];
		size_t qn = 7;
		EXPECT(bpfl_query_programs_ifindex(1, 46, qids, NULL, 2, NULL, NULL), -EINVAL);          /* NULL out_count */
		EXPECT(bpfl_query_programs_ifindex(1, 46, NULL, qids, 2, &qn, NULL), -EINVAL);           /* NULL ids, room */
		EXPECT(bpfl_query_programs_ifindex(1, 46, qids, NULL, SIZE_MAX / 2, &qn, NULL), -EINVAL); /* no such buffer */
		EXPECT(bpfl_query_programs_ifindex(1, 0, qids, NULL, 2, &qn, NULL), -EINVAL);            /* ifindex read as an fd */
		EXPECT(bpfl_query_programs_ifindex(0, 46, qids, NULL, 2, &qn, NULL), -EINVAL);
		CHECK(qn == 7, "a refused query wrote no count");
	}

	EXPECT(bpfl_program_attach_tcx(prog, 1, NULL, NULL), -EINVAL);
	OPTS_TAIL(bpfl_tcx_opts, txo) = { { .sz = sizeof(txo) }, { 1, 0 } };
	EXPECT(bpfl_program_attach_tcx(prog, 1, &txo.o, &l), -E2BIG);
	BPFL_OPTS(bpfl_tcx_opts, txd, .direction = 7);
	EXPECT(bpfl_program_attach_tcx(prog, 1, &txd, &l), -EINVAL);
	EXPECT(bpfl_program_attach_netkit(prog, 1, NULL, NULL), -EINVAL);
	OPTS_TAIL(bpfl_netkit_opts, nko) = { { .sz = sizeof(nko) }, { 1, 0 } };
	EXPECT(bpfl_program_attach_netkit(prog, 1, &nko.o, &l), -E2BIG);
	BPFL_OPTS(bpfl_netkit_opts, nkd, .side = 7);
	EXPECT(bpfl_program_attach_netkit(prog, 1, &nkd, &l), -EINVAL);
	EXPECT(bpfl_program_attach_tc(prog, 1, NULL, NULL), -EINVAL);
	OPTS_TAIL(bpfl_tc_opts, tco) = { { .sz = 1 }, { 0, 0 } };
	EXPECT(bpfl_program_attach_tc(prog, 1, &tco.o, &l), -EINVAL);
	tco.o.sz = sizeof(tco);
	tco.tail[1] = 3;
	EXPECT(bpfl_program_attach_tc(prog, 1, &tco.o, &l), -E2BIG);
	EXPECT(bpfl_program_attach_tc(prog, 1, NULL, &l), -EINVAL); /* not a tc program */

	EXPECT(bpfl_ifindex(NULL, &idx), -EINVAL);
	EXPECT(bpfl_ifindex("lo", NULL), -EINVAL);
	EXPECT(bpfl_ifindex("", &idx), -EINVAL);
	EXPECT(bpfl_ifindex("a/b", &idx), -EINVAL);
	EXPECT(bpfl_ifindex("nosuchif0", &idx), -ENOENT);
	OK(bpfl_ifindex("lo", &idx));
	CHECK(idx == 1, "lo is interface 1, got %u", idx);
	fixture_intact("networking misuse");
}

/* The kernel-wide listing: NULL out-pointers, sz 0, ids that do not exist. */
static void test_loaded_misuse(void)
{
	uint32_t next = 0;
	EXPECT(bpfl_loaded_program_next_id(0, NULL), -EINVAL);
	EXPECT(bpfl_loaded_map_next_id(0, NULL), -EINVAL);
	EXPECT(bpfl_loaded_link_next_id(0, NULL), -EINVAL);
	EXPECT(bpfl_loaded_program_next_id(UINT32_MAX, &next), 0); /* past INT_MAX: the end, not EINVAL */
	EXPECT(bpfl_loaded_link_next_id(UINT32_MAX, &next), 0);
	EXPECT(bpfl_loaded_program_next_id(0, &next), 1); /* this test's own programs are there */
	struct bpfl_loaded_program pi = { .sz = 0 };
	EXPECT(bpfl_loaded_program_info(next, NULL), -EINVAL);
	EXPECT(bpfl_loaded_program_info(next, &pi), -EINVAL); /* sz 0 */
	pi.sz = sizeof(pi);
	EXPECT(bpfl_loaded_program_info(0, &pi), -ENOENT);
	EXPECT(bpfl_loaded_program_info(UINT32_MAX, &pi), -ENOENT);
	struct bpfl_loaded_map mi = { .sz = 0 };
	EXPECT(bpfl_loaded_map_info(1, NULL), -EINVAL);
	EXPECT(bpfl_loaded_map_info(1, &mi), -EINVAL);
	mi.sz = sizeof(mi);
	EXPECT(bpfl_loaded_map_info(0, &mi), -ENOENT);
	struct bpfl_loaded_link li = { .sz = 0 };
	EXPECT(bpfl_loaded_link_info(1, NULL), -EINVAL);
	EXPECT(bpfl_loaded_link_info(1, &li), -EINVAL);
	li.sz = sizeof(li);
	EXPECT(bpfl_loaded_link_info(0, &li), -ENOENT);
	fixture_intact("kernel-wide listing misuse");
}

/* ---- 3. bad handles for every handle-taking call ----------------------------- */

enum kind { K_OBJECT = 1, K_PROGRAM, K_MAP, K_LINK, K_RINGBUF, K_PERFBUF };
static const char *kind_name[] = { "", "object", "program", "map", "link", "ringbuf", "perfbuf" };

/* Each handle-taking call, with valid other arguments. */
static uint32_t hk;
static uint64_t hv;
static char hbuf[64];
static int h_set_rodata(uint64_t h) { return bpfl_object_set_rodata((struct bpfl_object){ h }, "target_tgid", &tgid, 4); }
static int h_load(uint64_t h) { return bpfl_object_load((struct bpfl_object){ h }, NULL); }
static int h_attach_all(uint64_t h) { return bpfl_object_attach_all((struct bpfl_object){ h }); }
static int h_obj_close(uint64_t h) { return bpfl_object_close((struct bpfl_object){ h }); }
static int h_obj_name(uint64_t h) { return bpfl_object_name((struct bpfl_object){ h }, hbuf, sizeof(hbuf)); }
static int h_prog_count(uint64_t h) { size_t n; return bpfl_object_program_count((struct bpfl_object){ h }, &n); }
static int h_map_count(uint64_t h) { size_t n; return bpfl_object_map_count((struct bpfl_object){ h }, &n); }
static int h_prog_at(uint64_t h) { struct bpfl_program p; return bpfl_object_program_at((struct bpfl_object){ h }, 0, &p); }
static int h_map_at(uint64_t h) { struct bpfl_map m; return bpfl_object_map_at((struct bpfl_object){ h }, 0, &m); }
static int h_find_prog(uint64_t h) { struct bpfl_program p; return bpfl_object_find_program((struct bpfl_object){ h }, "rb_getpid", &p); }
static int h_find_map(uint64_t h) { struct bpfl_map m; return bpfl_object_find_map((struct bpfl_object){ h }, "events", &m); }
static int h_find_var(uint64_t h) { void *p; size_t n; return bpfl_object_find_variable((struct bpfl_object){ h }, "target_tgid", &p, &n); }
static int h_map_mmap(uint64_t h) { void *p; size_t n; return bpfl_map_mmap((struct bpfl_map){ h }, &p, &n); }
static int h_prog_info(uint64_t h) { struct bpfl_program_info i = { .sz = sizeof(i) }; return bpfl_program_get_info((struct bpfl_program){ h }, &i); }
static int h_prog_fd(uint64_t h) { int fd; return bpfl_program_fd((struct bpfl_program){ h }, &fd); }
static int h_attach(uint64_t h) { struct bpfl_link l; return bpfl_program_attach((struct bpfl_program){ h }, &l); }
static int h_kprobe(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_kprobe((struct bpfl_program){ h }, "do_nanosleep", NULL, &l); }
static int h_uprobe(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_uprobe((struct bpfl_program){ h }, "/proc/self/exe", "main", NULL, &l); }
static int h_tp(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_tracepoint((struct bpfl_program){ h }, "syscalls", "sys_enter_getpid", &l); }
static int h_usdt(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_usdt((struct bpfl_program){ h }, 0, "/proc/self/exe", "p", "n", NULL, &l); }
static int h_uprobe_multi(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_uprobe_multi((struct bpfl_program){ h }, 0, "/proc/self/exe", "main", NULL, &l); }
static int h_kprobe_multi(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_kprobe_multi((struct bpfl_program){ h }, "do_nano*", NULL, &l); }
static int h_ksyscall(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_ksyscall((struct bpfl_program){ h }, "getpid", NULL, &l); }
static int h_tp_opts(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_tracepoint_opts((struct bpfl_program){ h }, "syscalls", "sys_enter_getpid", NULL, &l); }
static int h_trace_opts(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_trace_opts((struct bpfl_program){ h }, NULL, &l); }
static int h_raw_tp(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_raw_tracepoint((struct bpfl_program){ h }, "sys_enter", &l); }
static int h_cgroup(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_cgroup((struct bpfl_program){ h }, 0, NULL, &l); }
static int h_cgroup_path(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_cgroup_path((struct bpfl_program){ h }, "/sys/fs/cgroup", NULL, &l); }
static int h_socket(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_socket((struct bpfl_program){ h }, 0, NULL, &l); }
static int h_sockmap(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_sockmap((struct bpfl_program){ h }, failures, NULL, &l); }
static int h_sockmap_map(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_sockmap(prog, (struct bpfl_map){ h }, NULL, &l); }
static int h_netns(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_netns((struct bpfl_program){ h }, -1, NULL, &l); }
static int h_netns_path(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_netns_path((struct bpfl_program){ h }, NULL, NULL, &l); }
static int h_netfilter(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_netfilter((struct bpfl_program){ h }, 2, 3, 0, NULL, &l); }
static int h_set_prog(uint64_t h) { return bpfl_map_set_prog((struct bpfl_map){ h }, 0, prog); }
static int h_set_prog_prog(uint64_t h) { return bpfl_map_set_prog(failures, 0, (struct bpfl_program){ h }); }
static int h_set_inner(uint64_t h) { return bpfl_map_set_inner((struct bpfl_map){ h }, &hk, 4, failures); }
static int h_set_inner_inner(uint64_t h) { return bpfl_map_set_inner(failures, &hk, 4, (struct bpfl_map){ h }); }
static int h_clear_slot(uint64_t h) { return bpfl_map_clear_slot((struct bpfl_map){ h }, 0); }
static int h_test_run(uint64_t h) { struct bpfl_test_run_result r = { .sz = sizeof(r) }; return bpfl_program_test_run((struct bpfl_program){ h }, NULL, &r); }
static int h_xdp(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_xdp((struct bpfl_program){ h }, 1, NULL, &l); }
static int h_tcx(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_tcx((struct bpfl_program){ h }, 1, NULL, &l); }
static int h_netkit(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_netkit((struct bpfl_program){ h }, 1, NULL, &l); }
static int h_tc(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_tc((struct bpfl_program){ h }, 1, NULL, &l); }
static int h_link_destroy(uint64_t h) { return bpfl_link_destroy((struct bpfl_link){ h }); }
static int h_link_fd(uint64_t h) { int fd; return bpfl_link_fd((struct bpfl_link){ h }, &fd); }
static int h_link_pin(uint64_t h) { return bpfl_link_pin((struct bpfl_link){ h }, "/sys/fs/bpf/bpfl_misuse_never"); }
static int h_link_update(uint64_t h) { return bpfl_link_update((struct bpfl_link){ h }, prog, NULL); }
static int h_link_update_prog(uint64_t h) { return bpfl_link_update(link_, (struct bpfl_program){ h }, NULL); }
static int h_link_info(uint64_t h) { struct bpfl_link_info i = { .sz = sizeof(i) }; return bpfl_link_get_info((struct bpfl_link){ h }, &i); }
static int h_link_detach(uint64_t h) { return bpfl_link_detach((struct bpfl_link){ h }); }
static int h_link_update_map(uint64_t h) { return bpfl_link_update_map((struct bpfl_link){ h }, failures); }
static int h_link_update_map_m(uint64_t h) { return bpfl_link_update_map(link_, (struct bpfl_map){ h }); }
static int h_iter_create(uint64_t h) { int fd; return bpfl_iter_create((struct bpfl_link){ h }, &fd); }
static int h_perf_event(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_perf_event((struct bpfl_program){ h }, 0, NULL, &l); }
static int h_iter(uint64_t h) { struct bpfl_link l; return bpfl_program_attach_iter((struct bpfl_program){ h }, NULL, &l); }
static int h_struct_ops(uint64_t h) { struct bpfl_link l; return bpfl_map_attach_struct_ops((struct bpfl_map){ h }, &l); }
static int h_map_info(uint64_t h) { struct bpfl_map_info i = { .sz = sizeof(i) }; return bpfl_map_get_info((struct bpfl_map){ h }, &i); }
static int h_value_size(uint64_t h) { size_t n; return bpfl_map_value_buf_size((struct bpfl_map){ h }, &n); }
static int h_lookup(uint64_t h) { return bpfl_map_lookup((struct bpfl_map){ h }, &hk, 4, &hv, 8); }
static int h_update(uint64_t h) { return bpfl_map_update((struct bpfl_map){ h }, &hk, 4, &hv, 8, 0); }
static int h_delete(uint64_t h) { return bpfl_map_delete((struct bpfl_map){ h }, &hk, 4); }
static int h_next_key(uint64_t h) { uint32_t n; return bpfl_map_next_key((struct bpfl_map){ h }, NULL, &n, 4); }
static int h_clear(uint64_t h) { return bpfl_map_clear((struct bpfl_map){ h }); }
static int h_update_batch(uint64_t h) { size_t n = 1; return bpfl_map_update_batch((struct bpfl_map){ h }, &hk, 4, &hv, 8, &n, NULL); }
static int h_delete_batch(uint64_t h) { size_t n = 1; return bpfl_map_delete_batch((struct bpfl_map){ h }, &hk, 4, &n, NULL); }
static int h_cursor_size(uint64_t h) { size_t n; return bpfl_map_batch_cursor_size((struct bpfl_map){ h }, &n); }
static int h_lookup_batch(uint64_t h) { size_t n = 1; return bpfl_map_lookup_batch((struct bpfl_map){ h }, NULL, hbuf + 48, 8, hbuf, 4, hbuf + 8, 8, &n, NULL); }
static int h_lookup_and_delete_batch(uint64_t h) { size_t n = 1; return bpfl_map_lookup_and_delete_batch((struct bpfl_map){ h }, NULL, hbuf + 48, 8, hbuf, 4, hbuf + 8, 8, &n, NULL); }
static int h_read_all(uint64_t h) { size_t n; return bpfl_map_read_all((struct bpfl_map){ h }, hbuf, hbuf + 32, 1, &n); }
static int h_pin(uint64_t h) { return bpfl_map_pin((struct bpfl_map){ h }, "/sys/fs/bpf/bpfl_misuse_never"); }
static int h_initial(uint64_t h) { return bpfl_map_set_initial_value((struct bpfl_map){ h }, &hv, 8); }
static int h_set_autoload(uint64_t h) { return bpfl_program_set_autoload((struct bpfl_program){ h }, true); }
static int h_autoload(uint64_t h) { bool b; return bpfl_program_autoload((struct bpfl_program){ h }, &b); }
static int h_set_type(uint64_t h) { return bpfl_program_set_type((struct bpfl_program){ h }, 1); }
static int h_set_eat(uint64_t h) { return bpfl_program_set_expected_attach_type((struct bpfl_program){ h }, 1); }
static int h_set_target(uint64_t h) { return bpfl_program_set_attach_target((struct bpfl_program){ h }, 0, "do_nanosleep"); }
static int h_set_flags(uint64_t h) { return bpfl_program_set_flags((struct bpfl_program){ h }, 0); }
static int h_flags(uint64_t h) { uint32_t f; return bpfl_program_flags((struct bpfl_program){ h }, &f); }
static int h_set_log_level(uint64_t h) { return bpfl_program_set_log_level((struct bpfl_program){ h }, 1); }
static int h_log(uint64_t h) { size_t n; return bpfl_program_log((struct bpfl_program){ h }, hbuf, sizeof(hbuf), &n); }
static int h_set_max(uint64_t h) { return bpfl_map_set_max_entries((struct bpfl_map){ h }, 1); }
static int h_set_vs(uint64_t h) { return bpfl_map_set_value_size((struct bpfl_map){ h }, 8); }
static int h_set_ks(uint64_t h) { return bpfl_map_set_key_size((struct bpfl_map){ h }, 4); }
static int h_set_mflags(uint64_t h) { return bpfl_map_set_map_flags((struct bpfl_map){ h }, 0); }
static int h_set_numa(uint64_t h) { return bpfl_map_set_numa_node((struct bpfl_map){ h }, 0); }
static int h_set_inner_map_fd(uint64_t h) { return bpfl_map_set_inner_map_fd((struct bpfl_map){ h }, 0); }
static int h_reuse(uint64_t h) { return bpfl_map_reuse_fd((struct bpfl_map){ h }, 0); }
static int h_set_pin_path(uint64_t h) { return bpfl_map_set_pin_path((struct bpfl_map){ h }, "/sys/fs/bpf/bpfl_misuse_never"); }
static int h_set_autocreate(uint64_t h) { return bpfl_map_set_autocreate((struct bpfl_map){ h }, true); }
static int h_autocreate(uint64_t h) { bool b; return bpfl_map_autocreate((struct bpfl_map){ h }, &b); }
static int h_map_close(uint64_t h) { return bpfl_map_close((struct bpfl_map){ h }); }
static int h_rb_new(uint64_t h) { struct bpfl_ringbuf r; return bpfl_ringbuf_new((struct bpfl_map){ h }, count_record, NULL, NULL, &r); }
static int h_pb_new(uint64_t h) { struct bpfl_perfbuf q; return bpfl_perfbuf_new((struct bpfl_map){ h }, count_sample, NULL, NULL, NULL, &q); }
static int h_rb_add_map(uint64_t h) { return bpfl_ringbuf_add(rb, (struct bpfl_map){ h }, count_record, NULL); }
static int h_rb_add(uint64_t h) { return bpfl_ringbuf_add((struct bpfl_ringbuf){ h }, events, count_record, NULL); }
static int h_rb_poll(uint64_t h) { return bpfl_ringbuf_poll((struct bpfl_ringbuf){ h }, 0); }
static int h_rb_consume(uint64_t h) { return bpfl_ringbuf_consume((struct bpfl_ringbuf){ h }); }
static int h_rb_epoll(uint64_t h) { return bpfl_ringbuf_epoll_fd((struct bpfl_ringbuf){ h }); }
static int h_rb_free(uint64_t h) { return bpfl_ringbuf_free((struct bpfl_ringbuf){ h }); }
static int h_pb_poll(uint64_t h) { return bpfl_perfbuf_poll((struct bpfl_perfbuf){ h }, 0); }
static int h_pb_consume(uint64_t h) { return bpfl_perfbuf_consume((struct bpfl_perfbuf){ h }); }
static int h_pb_epoll(uint64_t h) { return bpfl_perfbuf_epoll_fd((struct bpfl_perfbuf){ h }); }
static int h_pb_free(uint64_t h) { return bpfl_perfbuf_free((struct bpfl_perfbuf){ h }); }

static const struct hcall {
	const char *name;
	enum kind kind;
	int (*fn)(uint64_t);
} hcalls[] = {
	{ "bpfl_object_set_rodata", K_OBJECT, h_set_rodata },
	{ "bpfl_object_load", K_OBJECT, h_load },
	{ "bpfl_object_attach_all", K_OBJECT, h_attach_all },
	{ "bpfl_object_close", K_OBJECT, h_obj_close },
	{ "bpfl_object_name", K_OBJECT, h_obj_name },
	{ "bpfl_object_program_count", K_OBJECT, h_prog_count },
	{ "bpfl_object_map_count", K_OBJECT, h_map_count },
	{ "bpfl_object_program_at", K_OBJECT, h_prog_at },
	{ "bpfl_object_map_at", K_OBJECT, h_map_at },
	{ "bpfl_object_find_program", K_OBJECT, h_find_prog },
	{ "bpfl_object_find_map", K_OBJECT, h_find_map },
	{ "bpfl_object_find_variable", K_OBJECT, h_find_var },
	{ "bpfl_map_mmap", K_MAP, h_map_mmap },
	{ "bpfl_program_get_info", K_PROGRAM, h_prog_info },
	{ "bpfl_program_fd", K_PROGRAM, h_prog_fd },
	{ "bpfl_program_attach", K_PROGRAM, h_attach },
	{ "bpfl_program_attach_kprobe", K_PROGRAM, h_kprobe },
	{ "bpfl_program_attach_uprobe", K_PROGRAM, h_uprobe },
	{ "bpfl_program_attach_tracepoint", K_PROGRAM, h_tp },
	{ "bpfl_program_attach_raw_tracepoint", K_PROGRAM, h_raw_tp },
	{ "bpfl_program_attach_cgroup", K_PROGRAM, h_cgroup },
	{ "bpfl_program_attach_cgroup_path", K_PROGRAM, h_cgroup_path },
	{ "bpfl_program_attach_socket", K_PROGRAM, h_socket },
	{ "bpfl_program_attach_sockmap", K_PROGRAM, h_sockmap },
	{ "bpfl_program_attach_sockmap (map)", K_MAP, h_sockmap_map },
	{ "bpfl_program_attach_netns", K_PROGRAM, h_netns },
	{ "bpfl_program_attach_netns_path", K_PROGRAM, h_netns_path },
	{ "bpfl_program_attach_netfilter", K_PROGRAM, h_netfilter },
	{ "bpfl_map_set_prog", K_MAP, h_set_prog },
	{ "bpfl_map_set_prog (program)", K_PROGRAM, h_set_prog_prog },
	{ "bpfl_map_set_inner", K_MAP, h_set_inner },
	{ "bpfl_map_set_inner (inner)", K_MAP, h_set_inner_inner },
	{ "bpfl_map_clear_slot", K_MAP, h_clear_slot },
	{ "bpfl_program_test_run", K_PROGRAM, h_test_run },
	{ "bpfl_program_attach_xdp", K_PROGRAM, h_xdp },
	{ "bpfl_program_attach_tcx", K_PROGRAM, h_tcx },
	{ "bpfl_program_attach_tc", K_PROGRAM, h_tc },
	{ "bpfl_program_attach_netkit", K_PROGRAM, h_netkit },
	{ "bpfl_program_attach_usdt", K_PROGRAM, h_usdt },
	{ "bpfl_program_attach_uprobe_multi", K_PROGRAM, h_uprobe_multi },
	{ "bpfl_program_attach_kprobe_multi", K_PROGRAM, h_kprobe_multi },
	{ "bpfl_program_attach_ksyscall", K_PROGRAM, h_ksyscall },
	{ "bpfl_program_attach_tracepoint_opts", K_PROGRAM, h_tp_opts },
	{ "bpfl_program_attach_trace_opts", K_PROGRAM, h_trace_opts },
	{ "bpfl_link_destroy", K_LINK, h_link_destroy },
	{ "bpfl_link_fd", K_LINK, h_link_fd },
	{ "bpfl_link_pin", K_LINK, h_link_pin },
	{ "bpfl_link_update", K_LINK, h_link_update },
	{ "bpfl_link_update (program)", K_PROGRAM, h_link_update_prog },
	{ "bpfl_link_get_info", K_LINK, h_link_info },
	{ "bpfl_link_detach", K_LINK, h_link_detach },
	{ "bpfl_link_update_map", K_LINK, h_link_update_map },
	{ "bpfl_link_update_map (map)", K_MAP, h_link_update_map_m },
	{ "bpfl_iter_create", K_LINK, h_iter_create },
	{ "bpfl_program_attach_perf_event", K_PROGRAM, h_perf_event },
	{ "bpfl_program_attach_iter", K_PROGRAM, h_iter },
	{ "bpfl_map_attach_struct_ops", K_MAP, h_struct_ops },
	{ "bpfl_map_get_info", K_MAP, h_map_info },
	{ "bpfl_map_value_buf_size", K_MAP, h_value_size },
	{ "bpfl_map_lookup", K_MAP, h_lookup },
	{ "bpfl_map_update", K_MAP, h_update },
	{ "bpfl_map_delete", K_MAP, h_delete },
	{ "bpfl_map_next_key", K_MAP, h_next_key },
	{ "bpfl_map_clear", K_MAP, h_clear },
	{ "bpfl_map_read_all", K_MAP, h_read_all },
	{ "bpfl_map_update_batch", K_MAP, h_update_batch },
	{ "bpfl_map_delete_batch", K_MAP, h_delete_batch },
	{ "bpfl_map_batch_cursor_size", K_MAP, h_cursor_size },
	{ "bpfl_map_lookup_batch", K_MAP, h_lookup_batch },
	{ "bpfl_map_lookup_and_delete_batch", K_MAP, h_lookup_and_delete_batch },
	{ "bpfl_map_pin", K_MAP, h_pin },
	{ "bpfl_map_set_initial_value", K_MAP, h_initial },
	{ "bpfl_map_close", K_MAP, h_map_close },
	{ "bpfl_program_set_autoload", K_PROGRAM, h_set_autoload },
	{ "bpfl_program_autoload", K_PROGRAM, h_autoload },
	{ "bpfl_program_set_type", K_PROGRAM, h_set_type },
	{ "bpfl_program_set_expected_attach_type", K_PROGRAM, h_set_eat },
	{ "bpfl_program_set_attach_target", K_PROGRAM, h_set_target },
	{ "bpfl_program_set_flags", K_PROGRAM, h_set_flags },
	{ "bpfl_program_flags", K_PROGRAM, h_flags },
	{ "bpfl_program_set_log_level", K_PROGRAM, h_set_log_level },
	{ "bpfl_program_log", K_PROGRAM, h_log },
	{ "bpfl_map_set_max_entries", K_MAP, h_set_max },
	{ "bpfl_map_set_value_size", K_MAP, h_set_vs },
	{ "bpfl_map_set_key_size", K_MAP, h_set_ks },
	{ "bpfl_map_set_map_flags", K_MAP, h_set_mflags },
	{ "bpfl_map_set_numa_node", K_MAP, h_set_numa },
	{ "bpfl_map_set_inner_map_fd", K_MAP, h_set_inner_map_fd },
	{ "bpfl_map_reuse_fd", K_MAP, h_reuse },
	{ "bpfl_map_set_pin_path", K_MAP, h_set_pin_path },
	{ "bpfl_map_set_autocreate", K_MAP, h_set_autocreate },
	{ "bpfl_map_autocreate", K_MAP, h_autocreate },
	{ "bpfl_ringbuf_new", K_MAP, h_rb_new },
	{ "bpfl_perfbuf_new", K_MAP, h_pb_new },
	{ "bpfl_ringbuf_add (map)", K_MAP, h_rb_add_map },
	{ "bpfl_ringbuf_add", K_RINGBUF, h_rb_add },
	{ "bpfl_ringbuf_poll", K_RINGBUF, h_rb_poll },
	{ "bpfl_ringbuf_consume", K_RINGBUF, h_rb_consume },
	{ "bpfl_ringbuf_epoll_fd", K_RINGBUF, h_rb_epoll },
	{ "bpfl_ringbuf_free", K_RINGBUF, h_rb_free },
	{ "bpfl_perfbuf_poll", K_PERFBUF, h_pb_poll },
	{ "bpfl_perfbuf_consume", K_PERFBUF, h_pb_consume },
	{ "bpfl_perfbuf_epoll_fd", K_PERFBUF, h_pb_epoll },
	{ "bpfl_perfbuf_free", K_PERFBUF, h_pb_free },
};
#define NCALLS (sizeof(hcalls) / sizeof(hcalls[0]))

/* The handle layout (src/ffi/handles.rs): kind (8) | generation (32) | slot + 1 (24). */
static uint64_t retag(uint64_t h, enum kind k) { return (h & ~(0xffULL << 56)) | ((uint64_t)k << 56); }
static uint64_t next_gen(uint64_t h) { return h + (1ULL << 24); }

static uint64_t live_of(enum kind k)
{
	switch (k) {
	case K_OBJECT: return obj.id;
	case K_PROGRAM: return prog.id;
	case K_MAP: return pinned.id;
	case K_LINK: return link_.id;
	case K_RINGBUF: return rb.id;
	case K_PERFBUF: return pb.id;
	}
	return 0;
}

/* A handle of each kind that was open and is closed now (double close included). */
static uint64_t closed[7];
static void make_closed_handles(void)
{
	struct bpfl_object o;
	struct bpfl_program p;
	struct bpfl_map m, rbm, pbm;
	struct bpfl_link l;
	struct bpfl_ringbuf r;
	struct bpfl_perfbuf q;
	OK(bpfl_object_open_file(path("ringbuf.o"), NULL, &o));
	OK(bpfl_object_set_rodata(o, "target_tgid", &tgid, 4));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "rb_getpid", &p));
	OK(bpfl_object_find_map(o, "events", &rbm));
	OK(bpfl_object_find_map(o, "perf_events", &pbm));
	OK(bpfl_program_attach(p, &l));
	OK(bpfl_map_open_pinned(pin_path, &m));
	OK(bpfl_ringbuf_new(rbm, count_record, NULL, NULL, &r));
	OK(bpfl_perfbuf_new(pbm, count_sample, NULL, NULL, NULL, &q));
	OK(bpfl_link_destroy(l));
	EXPECT(bpfl_link_destroy(l), -EBADF);
	OK(bpfl_map_close(m));
	EXPECT(bpfl_map_close(m), -EBADF);
	OK(bpfl_ringbuf_free(r));
	EXPECT(bpfl_ringbuf_free(r), -EBADF);
	OK(bpfl_perfbuf_free(q));
	EXPECT(bpfl_perfbuf_free(q), -EBADF);
	OK(bpfl_object_close(o));
	EXPECT(bpfl_object_close(o), -EBADF);
	closed[K_OBJECT] = o.id;
	closed[K_PROGRAM] = p.id; /* closed with its object */
	closed[K_MAP] = m.id;
	closed[K_LINK] = l.id;
	closed[K_RINGBUF] = r.id;
	closed[K_PERFBUF] = q.id;
	EXPECT(bpfl_map_lookup(rbm, &hk, 4, &hv, 8), -EBADF); /* an object's map, closed with it */
}

static void test_handles(void)
{
	make_closed_handles();
	srand(15);
	for (size_t c = 0; c < NCALLS; c++) {
		const struct hcall *hc = &hcalls[c];
		enum kind k = hc->kind;
		uint64_t bad[64];
		const char *what[64];
		int nb = 0;
		bad[nb] = closed[k], what[nb++] = "closed";
		bad[nb] = next_gen(live_of(k)), what[nb++] = "generation + 1";
		bad[nb] = next_gen(closed[k]), what[nb++] = "closed, generation + 1";
		bad[nb] = live_of(k) & 0x00ffffffffffffffULL, what[nb++] = "no kind";
		bad[nb] = retag(live_of(k), 7), what[nb++] = "kind 7";
		bad[nb] = retag(live_of(k), 0xff), what[nb++] = "kind 255";
		bad[nb] = live_of(k) & ~0xffffffULL, what[nb++] = "slot 0";
		bad[nb] = live_of(k) | 0xffffffULL, what[nb++] = "last slot";
		for (int i = 0; i < 8; i++) {
			uint64_t r = ((uint64_t)rand() << 40) ^ ((uint64_t)rand() << 20) ^ (uint64_t)rand();
			bad[nb] = r, what[nb++] = "random bits";
			bad[nb] = retag(r, k), what[nb++] = "random bits, right kind";
		}
		/* Forged: a live handle of every other kind under this call's kind tag, and the
		 * live handle of this kind under the others' (passed here as is: the wrong kind). */
		for (int o = K_OBJECT; o <= K_PERFBUF; o++) {
			if (o == (int)k)
				continue;
			bad[nb] = retag(live_of((enum kind)o), k), what[nb++] = kind_name[o];
			bad[nb] = live_of((enum kind)o), what[nb++] = "another kind's live handle";
		}
		for (int i = 0; i < nb; i++) {
			int r = hc->fn(bad[i]);
			CHECK(r == -EBADF, "%s(%s %s handle %#llx) = %d, want -EBADF", hc->name, what[i], kind_name[k], (unsigned long long)bad[i], r);
			CHECK(strstr(bpfl_last_error(), "internal error") == NULL, "%s: %s", hc->name, bpfl_last_error());
		}
		int r = hc->fn(0);
		CHECK(r == -EINVAL, "%s(null handle) = %d, want -EINVAL", hc->name, r);
	}
	fixture_intact("bad handles");
}

/* ---- 4. calls racing a close on another thread --------------------------------- */

struct racer {
	struct bpfl_map map;
	struct bpfl_ringbuf rb;
	struct bpfl_perfbuf pb;
	struct bpfl_program prog;
	volatile int stop;
	int bad; /* results other than success, -ENOENT, -EBADF */
	int after_close_ok;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	uint32_t k = 0;
	uint64_t v;
	int fd;
	while (!r->stop) {
		int a = bpfl_map_lookup(r->map, &k, 4, &v, 8);
		int b = bpfl_ringbuf_poll(r->rb, 1);
		int c = bpfl_perfbuf_poll(r->pb, 1);
		int d = bpfl_program_fd(r->prog, &fd);
		uint32_t bk[2];
		uint64_t bv[2];
		unsigned char cur[8];
		size_t bn = 2;
		int e = bpfl_map_lookup_batch(r->map, NULL, cur, sizeof(cur), bk, sizeof(bk), bv, sizeof(bv), &bn, NULL);
		if ((e != 0 && e != -ENOENT && e != -EBADF) || bn > 2)
			r->bad++;
		if ((a != 0 && a != -EBADF) || (b < 0 && b != -EBADF && b != -EBUSY) || (c < 0 && c != -EBADF && c != -EBUSY) || (d != 0 && d != -EBADF))
			r->bad++;
	}
	/* Everything is closed now. */
	r->after_close_ok = bpfl_map_lookup(r->map, &k, 4, &v, 8) == -EBADF && bpfl_ringbuf_poll(r->rb, 0) == -EBADF &&
			    bpfl_perfbuf_poll(r->pb, 0) == -EBADF && bpfl_program_fd(r->prog, &fd) == -EBADF &&
			    bpfl_map_update_batch(r->map, &k, 4, &v, 8, &(size_t){ 1 }, NULL) == -EBADF;
	return NULL;
}

static void test_close_races(void)
{
	for (int round = 0; round < 20; round++) {
		struct bpfl_object o;
		struct bpfl_map rbm, pbm;
		struct racer r[2];
		pthread_t t[2];
		memset(r, 0, sizeof(r));
		OK(bpfl_object_open_file(path("ringbuf.o"), NULL, &o));
		OK(bpfl_object_set_rodata(o, "target_tgid", &tgid, 4));
		OK(bpfl_object_load(o, NULL));
		OK(bpfl_object_find_map(o, "failures", &r[0].map));
		OK(bpfl_object_find_map(o, "events", &rbm));
		OK(bpfl_object_find_map(o, "perf_events", &pbm));
		OK(bpfl_object_find_program(o, "rb_getpid", &r[0].prog));
		OK(bpfl_ringbuf_new(rbm, count_record, NULL, NULL, &r[0].rb));
		OK(bpfl_perfbuf_new(pbm, count_sample, NULL, NULL, NULL, &r[0].pb));
		r[1] = r[0];
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, race, &r[i]);
		usleep(1000 * (round % 5));
		/* Close everything while both threads use it. */
		OK(bpfl_ringbuf_free(r[0].rb));
		OK(bpfl_object_close(o));
		OK(bpfl_perfbuf_free(r[0].pb));
		usleep(2000);
		for (int i = 0; i < 2; i++) {
			r[i].stop = 1;
			pthread_join(t[i], NULL);
			CHECK(r[i].bad == 0, "round %d thread %d: %d unexpected results", round, i, r[i].bad);
			CHECK(r[i].after_close_ok, "round %d thread %d: calls after close are not -EBADF", round, i);
		}
	}
}

/* ---- 5. callbacks that call back into bpfl ------------------------------------ */

static int log_calls, log_nested_ok, log_busy_ok;
static struct bpfl_object loading;
static void reentrant_log(int level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
	uint32_t k = 0;
	uint64_t v;
	char name[64];
	log_calls++;
	/* Replace the callback with itself, use a map, fail a call (which logs: dropped). */
	if (bpfl_set_log_callback(reentrant_log, NULL, BPFL_LOG_DEBUG) == 0 && bpfl_map_lookup(failures, &k, 4, &v, 8) == 0 &&
	    bpfl_object_open_file("/nonexistent/bpfl.o", NULL, &(struct bpfl_object){ 0 }) == -ENOENT)
		log_nested_ok++;
	/* The object this thread is loading: busy, refused rather than waited for. */
	if (loading.id) {
		int r = bpfl_object_name(loading, name, sizeof(name));
		if (r == -EDEADLK || r == 0)
			log_busy_ok++;
	}
}

static int ring_reentry_ok, ring_calls;
static struct bpfl_ringbuf reentrant_rb;
static int reentrant_record(void *ctx, const void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	uint32_t k = 0;
	uint64_t v;
	if (ring_calls++ == 0) {
		ring_reentry_ok = bpfl_ringbuf_poll(reentrant_rb, 0) == -EBUSY && bpfl_ringbuf_consume(reentrant_rb) == -EBUSY &&
				  bpfl_ringbuf_add(reentrant_rb, events, count_record, NULL) == -EBUSY && bpfl_ringbuf_epoll_fd(reentrant_rb) >= 0 &&
				  bpfl_map_lookup(failures, &k, 4, &v, 8) == 0 && bpfl_map_update(failures, &k, 4, &v, 8, 0) == 0 &&
				  bpfl_ringbuf_free(reentrant_rb) == 0 && bpfl_ringbuf_free(reentrant_rb) == -EBADF;
	}
	return 0;
}

static int perf_reentry_ok, perf_calls;
static struct bpfl_perfbuf reentrant_pb;
static int reentrant_sample(void *ctx, int cpu, const void *data, uint32_t size)
{
	(void)ctx;
	(void)cpu;
	(void)data;
	(void)size;
	uint32_t k = 0;
	uint64_t v;
	if (perf_calls++ == 0) {
		perf_reentry_ok = bpfl_perfbuf_poll(reentrant_pb, 0) == -EBUSY && bpfl_perfbuf_consume(reentrant_pb) == -EBUSY &&
				  bpfl_perfbuf_epoll_fd(reentrant_pb) >= 0 && bpfl_map_lookup(failures, &k, 4, &v, 8) == 0 &&
				  bpfl_perfbuf_free(reentrant_pb) == 0 && bpfl_perfbuf_free(reentrant_pb) == -EBADF;
	}
	return 0;
}

static void test_reentrant_callbacks(void)
{
	/* Log: a callback that replaces itself, logs, and touches the object being loaded. */
	OK(bpfl_set_log_callback(reentrant_log, NULL, BPFL_LOG_DEBUG));
	OK(bpfl_object_open_file(path("ringbuf.o"), NULL, &loading));
	OK(bpfl_object_set_rodata(loading, "target_tgid", &tgid, 4));
	OK(bpfl_object_load(loading, NULL));
	OK(bpfl_set_log_callback(NULL, NULL, BPFL_LOG_ERROR));
	CHECK(log_calls > 0, "the log callback ran (%d)", log_calls);
	CHECK(log_nested_ok == log_calls, "nested calls from the log callback: %d of %d worked", log_nested_ok, log_calls);
	CHECK(log_busy_ok == log_calls, "the loading object from the log callback: %d of %d clean", log_busy_ok, log_calls);
	struct bpfl_object l = loading;
	loading.id = 0;
	OK(bpfl_object_close(l));

	/* Ring and perf buffers: records from getpid, callbacks that poll, use maps and free their own buffer. */
	struct bpfl_link pl;
	OK(bpfl_program_attach(perf_prog, &pl));
	CHECK(bpfl_ringbuf_consume(rb) >= 0, "drop what is there");
	OK(bpfl_ringbuf_new(events, reentrant_record, NULL, NULL, &reentrant_rb));
	OK(bpfl_perfbuf_new(perf_events, reentrant_sample, NULL, NULL, NULL, &reentrant_pb));
	for (int i = 0; i < 4; i++)
		syscall(SYS_getpid);
	int r = bpfl_ringbuf_poll(reentrant_rb, 1000);
	CHECK(r > 0, "ring poll = %d", r);
	CHECK(ring_reentry_ok, "ring buffer callback re-entry (%d calls)", ring_calls);
	EXPECT(bpfl_ringbuf_poll(reentrant_rb, 0), -EBADF);
	r = bpfl_perfbuf_poll(reentrant_pb, 1000);
	CHECK(r > 0, "perf poll = %d", r);
	CHECK(perf_reentry_ok, "perf buffer callback re-entry (%d calls)", perf_calls);
	EXPECT(bpfl_perfbuf_poll(reentrant_pb, 0), -EBADF);
	OK(bpfl_link_destroy(pl));
	fixture_intact("re-entrant callbacks");
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "FAIL: test_misuse hung (deadlock?) for 120 s\n";
	ssize_t w = write(2, m, sizeof(m) - 1);
	(void)w;
	_exit(1);
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : getenv("BPFL_BPF_DIR") ? getenv("BPFL_BPF_DIR") : "build/bpf";
	if (geteuid() != 0) {
		printf("SKIPPED: the C ABI misuse suite loads BPF objects into the kernel: run it as root\n");
		return 77;
	}
	signal(SIGALRM, on_alarm);
	alarm(120);
	if (setup()) {
		fprintf(stderr, "FAIL: set-up (objects from %s): %s\n", dir, bpfl_last_error());
		printf("%d passed, %d failed\n", passed, failed + 1);
		return 1;
	}
	test_nulls();
	test_sizes();
	test_net_misuse();
	test_loaded_misuse();
	test_handles();
	test_close_races();
	test_reentrant_callbacks();

	/* Tear down, then everything is stale. */
	OK(bpfl_perfbuf_free(pb));
	OK(bpfl_ringbuf_free(rb));
	OK(bpfl_link_destroy(link_));
	OK(bpfl_map_close(pinned));
	EXPECT(bpfl_map_close(failures), -EINVAL); /* an object's map */
	OK(bpfl_object_close(obj));
	EXPECT(bpfl_map_lookup(failures, &hk, 4, &hv, 8), -EBADF);
	unlink(pin_path);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
