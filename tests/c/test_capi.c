/* C ABI tests: only include/bpfl.h and libbpfl.a, against the real kernel.
 *   test_capi BPF_DIR     exit 0 all passed, 1 a failure, 77 skipped (no root/bpf()) */
#include <bpfl.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures, checks;
static const char *dir;

#define CHECK(cond, ...)                                                              \
	do {                                                                          \
		checks++;                                                             \
		if (!(cond)) {                                                        \
			failures++;                                                   \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                 \
			fprintf(stderr, " [last error: %s]\n", bpfl_last_error());   \
		}                                                                     \
	} while (0)
#define OK(call) CHECK((call) == 0, "%s", #call)

static char *path(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int open_fds(void)
{
	char p[64];
	int n = 0;
	for (int fd = 0; fd < 4096; fd++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n += access(p, F_OK) == 0;
	}
	return n;
}

static uint64_t lookup_u64(struct bpfl_map m, const void *key, size_t ks, int *err)
{
	uint64_t v = 0;
	*err = bpfl_map_lookup(m, key, ks, &v, sizeof(v));
	return v;
}

static void test_null_and_bad_arguments(void)
{
	struct bpfl_object o;
	CHECK(strlen(bpfl_version()) >= 5, "version '%s'", bpfl_version());
	CHECK(bpfl_object_open_file(NULL, NULL, &o) == -EINVAL, "NULL path");
	CHECK(bpfl_object_open_file(path("seed_tp.o"), NULL, NULL) == -EINVAL, "NULL out");
	CHECK(bpfl_object_open_file("/nonexistent/x.o", NULL, &o) == -ENOENT, "missing file");
	CHECK(strstr(bpfl_last_error(), "/nonexistent/x.o") != NULL, "error names the file: %s", bpfl_last_error());
	CHECK(bpfl_object_open_mem("garbage", 7, NULL, &o) == -ENOEXEC, "garbage ELF");
	CHECK(strstr(bpfl_last_error(), "not an ELF") != NULL, "%s", bpfl_last_error());
	CHECK(bpfl_object_open_mem(NULL, 10, NULL, &o) == -EINVAL, "NULL buffer");
	/* Options structs: too small a size, and unknown non-zero fields. */
	struct { struct bpfl_open_opts o; uint64_t future; } big = { { .sz = sizeof(big) }, 1 };
	CHECK(bpfl_object_open_file(path("seed_tp.o"), &big.o, &o) == -E2BIG, "unknown opts fields");
	big.future = 0;
	CHECK(bpfl_object_open_file(path("seed_tp.o"), &big.o, &o) == 0, "zero tail is fine");
	CHECK(bpfl_object_close(o) == 0, "close");
	struct bpfl_open_opts tiny = { .sz = 1 };
	CHECK(bpfl_object_open_file(path("seed_tp.o"), &tiny, &o) == -EINVAL, "sz too small");
	/* The null handle, a made-up one. */
	struct bpfl_object zero = { 0 }, bogus = { 0x0123456789abcdefULL };
	CHECK(bpfl_object_load(zero, NULL) == -EINVAL, "null handle");
	CHECK(bpfl_object_load(bogus, NULL) == -EBADF, "bogus handle");
	CHECK(bpfl_object_open_file(path("bad_maps.o"), NULL, &o) == -EINVAL, "bad legacy map");
	CHECK(strstr(bpfl_last_error(), "odd") != NULL, "names the map: %s", bpfl_last_error());
}

static void test_seed_tp(void)
{
	struct bpfl_object o;
	struct bpfl_map per_pid, per_pid16, by_key, calls;
	struct bpfl_program p;
	size_t n = 0;
	int err;

	OK(bpfl_object_open_file(path("seed_tp.o"), NULL, &o));
	OK(bpfl_object_program_count(o, &n));
	CHECK(n == 2, "%zu programs", n);
	OK(bpfl_object_program_at(o, 0, &p));
	BPFL_OPTS(bpfl_program_info, pi);
	OK(bpfl_program_get_info(p, &pi));
	CHECK(strncmp(pi.section, "tracepoint/", 11) == 0, "section %s", pi.section);
	CHECK(pi.fd == -1, "fd before load %d", pi.fd);
	OK(bpfl_object_find_map(o, "per_pid", &per_pid));
	CHECK(bpfl_map_lookup(per_pid, &n, 4, &n, 8) == -EINVAL, "lookup before load");
	CHECK(bpfl_object_find_map(o, "nope", &calls) == -ENOENT, "missing map");
	OK(bpfl_object_load(o, NULL));
	CHECK(bpfl_object_load(o, NULL) == -EINVAL, "double load");
	CHECK(bpfl_object_attach_all(o) == 2, "attach_all");
	OK(bpfl_object_find_map(o, "per_pid16", &per_pid16));
	OK(bpfl_object_find_map(o, "by_key", &by_key));
	OK(bpfl_object_find_map(o, "calls", &calls));

	for (int i = 0; i < 11; i++)
		syscall(SYS_getppid);
	uint32_t me = getpid();
	CHECK(lookup_u64(per_pid, &me, 4, &err) == 11 && err == 0, "per_pid[me] (err %d)", err);
	uint16_t v16 = 0;
	OK(bpfl_map_lookup(per_pid16, &me, 4, &v16, 2));
	CHECK(v16 == 11, "per_pid16 %u", v16);
	struct { uint32_t tgid, kind; } k = { me, 1 };
	CHECK(lookup_u64(by_key, &k, sizeof(k), &err) == 11, "by_key exits (err %d)", err);

	/* Sizes are checked: the seed read 2 bytes of an 8-byte value. */
	CHECK(bpfl_map_lookup(per_pid, &me, 4, &v16, 2) == -EINVAL, "short value buffer");
	CHECK(strstr(bpfl_last_error(), "per_pid") != NULL, "message names the map: %s", bpfl_last_error());
	CHECK(bpfl_map_lookup(per_pid, &k, 8, &n, 8) == -EINVAL, "long key");
	CHECK(bpfl_map_lookup(per_pid, NULL, 4, &n, 8) == -EINVAL, "NULL key");

	/* update / delete / next_key / read_all / clear. */
	uint32_t other = 0xfffffff0u;
	uint64_t val = 42;
	OK(bpfl_map_update(per_pid, &other, 4, &val, 8, BPFL_NOEXIST));
	CHECK(bpfl_map_update(per_pid, &other, 4, &val, 8, BPFL_NOEXIST) == -EEXIST, "NOEXIST on existing");
	CHECK(lookup_u64(per_pid, &other, 4, &err) == 42, "updated value");
	uint32_t first, next;
	int keys = 0;
	for (err = bpfl_map_next_key(per_pid, NULL, &first, 4); err == 0; err = bpfl_map_next_key(per_pid, &first, &next, 4), first = next)
		keys++;
	CHECK(err == -ENOENT && keys >= 2, "iterated %d keys, end %d", keys, err);
	uint32_t ks[1024];
	uint64_t vs[1024];
	size_t got = 0;
	OK(bpfl_map_read_all(per_pid, ks, vs, 1024, &got));
	int found = 0;
	for (size_t i = 0; i < got; i++)
		found += (ks[i] == other && vs[i] == 42) + (ks[i] == me && vs[i] == 11);
	CHECK(got == (size_t)keys && found == 2, "read_all got %zu (keys %d), found %d", got, keys, found);
	OK(bpfl_map_delete(per_pid, &other, 4));
	CHECK(bpfl_map_delete(per_pid, &other, 4) == -ENOENT, "delete twice");
	CHECK(bpfl_map_lookup(per_pid, &other, 4, &val, 8) == -ENOENT, "deleted");
	CHECK(strcmp(bpfl_last_error(), "map 'per_pid': no such key") == 0, "missing-key message: %s", bpfl_last_error());
	OK(bpfl_map_clear(by_key));
	CHECK(bpfl_map_next_key(by_key, NULL, &k, sizeof(k)) == -ENOENT, "cleared");

	/* Wrong kinds: a map handle where a program is expected. */
	struct bpfl_program as_prog = { per_pid.id };
	CHECK(bpfl_program_attach(as_prog, &(struct bpfl_link){ 0 }) == -EBADF, "wrong kind");
	CHECK(bpfl_map_close(per_pid) == -EINVAL, "object maps close with their object");

	/* Kprobes: attach on a host without them says so. */
	struct bpfl_object ko;
	struct bpfl_program kp;
	struct bpfl_link kl;
	OK(bpfl_object_open_file(path("seed_kprobe.o"), NULL, &ko));
	OK(bpfl_object_load(ko, NULL));
	OK(bpfl_object_program_at(ko, 0, &kp));
	err = bpfl_program_attach(kp, &kl);
	if (access("/sys/bus/event_source/devices/kprobe", F_OK) != 0 && access("/sys/kernel/tracing/kprobe_events", F_OK) != 0) {
		CHECK(err == -EOPNOTSUPP, "kprobe attach %d", err);
		CHECK(strstr(bpfl_last_error(), "kprobes are not supported by this kernel") != NULL, "%s", bpfl_last_error());
	} else {
		CHECK(err == 0, "kprobe attach on a kernel with kprobes: %d", err);
		if (err == 0)
			OK(bpfl_link_destroy(kl));
	}
	OK(bpfl_object_close(ko));

	/* Links: detach by destroying; counts stop. */
	struct bpfl_object o2;
	struct bpfl_program p2;
	struct bpfl_link l2;
	struct bpfl_map m2;
	OK(bpfl_object_open_file(path("seed_tp.o"), NULL, &o2));
	OK(bpfl_object_load(o2, NULL));
	OK(bpfl_object_find_program(o2, "enter_getppid", &p2));
	OK(bpfl_program_attach_tracepoint(p2, "syscalls", "sys_enter_getppid", &l2));
	OK(bpfl_object_find_map(o2, "per_pid", &m2));
	syscall(SYS_getppid);
	syscall(SYS_getppid);
	CHECK(lookup_u64(m2, &me, 4, &err) == 2, "per_pid after 2 calls");
	OK(bpfl_link_destroy(l2));
	CHECK(bpfl_link_destroy(l2) == -EBADF, "double destroy");
	syscall(SYS_getppid);
	CHECK(lookup_u64(m2, &me, 4, &err) == 2, "no counting after detach");
	OK(bpfl_object_close(o2));

	/* Close: every handle of the object becomes stale. */
	OK(bpfl_object_close(o));
	CHECK(bpfl_object_close(o) == -EBADF, "double close");
	CHECK(bpfl_map_lookup(per_pid, &me, 4, &val, 8) == -EBADF, "stale map handle");
	CHECK(bpfl_program_get_info(p, &pi) == -EBADF, "stale program handle");
}

static void test_modern_rodata_pin(void)
{
	struct bpfl_object o;
	struct bpfl_map by_kind, pc, percpu;
	char root[128];
	int err;
	snprintf(root, sizeof(root), "/sys/fs/bpf/bpfl-capi-%d", getpid());
	mkdir(root, 0700);
	BPFL_OPTS(bpfl_open_opts, oo, .pin_root_path = root);
	OK(bpfl_object_open_file(path("modern.o"), &oo, &o));
	uint32_t me = getpid();
	OK(bpfl_object_set_rodata(o, "target_tgid", &me, sizeof(me)));
	CHECK(bpfl_object_set_rodata(o, "target_tgid", &me, 2) == -EINVAL, "wrong size");
	CHECK(bpfl_object_set_rodata(o, "nope", &me, 4) == -ENOENT, "unknown variable");
	OK(bpfl_object_load(o, NULL));
	CHECK(bpfl_object_set_rodata(o, "target_tgid", &me, 4) == -EINVAL, "after load");
	CHECK(bpfl_object_attach_all(o) == 3, "attach_all");
	for (int i = 0; i < 4; i++)
		syscall(SYS_getpid);
	syscall(SYS_gettid);
	OK(bpfl_object_find_map(o, "by_kind", &by_kind));
	OK(bpfl_object_find_map(o, "pinned_counts", &pc));
	OK(bpfl_object_find_map(o, "percpu", &percpu));
	uint32_t k0 = 0, k1 = 1, k2 = 2, k3 = 3;
	CHECK(lookup_u64(by_kind, &k0, 4, &err) == 4, "by_kind[0]");
	CHECK(lookup_u64(by_kind, &k1, 4, &err) == 1, "by_kind[1]");
	CHECK(lookup_u64(by_kind, &k2, 4, &err) == 4, "by_kind[2]");
	CHECK(lookup_u64(by_kind, &k3, 4, &err) == 0x1234, "by_kind[3] = magic");
	size_t bs = 0;
	OK(bpfl_map_value_buf_size(percpu, &bs));
	CHECK(bs >= 8 && bs % 8 == 0, "per-CPU buffer %zu", bs);
	uint64_t *pv = calloc(1, bs), sum = 0;
	CHECK(bpfl_map_lookup(percpu, &k0, 4, pv, 8) == -EINVAL || bs == 8, "per-CPU needs the whole buffer");
	OK(bpfl_map_lookup(percpu, &k0, 4, pv, bs));
	for (size_t i = 0; i < bs / 8; i++)
		sum += pv[i];
	free(pv);
	CHECK(sum == 5, "per-CPU sum %llu", (unsigned long long)sum);
	OK(bpfl_object_close(o));

	/* The pin outlives the object. */
	char pin[256];
	struct bpfl_map pm;
	snprintf(pin, sizeof(pin), "%s/pinned_counts", root);
	OK(bpfl_map_open_pinned(pin, &pm));
	CHECK(lookup_u64(pm, &k0, 4, &err) == 4, "pinned value after close");
	BPFL_OPTS(bpfl_map_info, mi);
	OK(bpfl_map_get_info(pm, &mi));
	CHECK(mi.map_type == 1 && mi.key_size == 4 && mi.value_size == 8, "pinned map info");
	OK(bpfl_map_close(pm));
	CHECK(bpfl_map_close(pm) == -EBADF, "double close of pinned map");
	CHECK(bpfl_map_open_pinned("/sys/fs/bpf/bpfl-no-such-pin", &pm) == -ENOENT, "missing pin");
	unlink(pin);
	rmdir(root);
}

/* Issue 15: special files are refused, not read or blocked on; a pinned
 * program is not opened as a map. */
static void test_hostile_paths(void)
{
	struct bpfl_object o;
	struct bpfl_map m;
	char fifo[128], pin[128];
	CHECK(bpfl_object_open_file("/dev/zero", NULL, &o) == -EINVAL, "object /dev/zero");
	CHECK(strstr(bpfl_last_error(), "is a character device, not a regular file") != NULL, "%s", bpfl_last_error());
	CHECK(bpfl_object_open_file("/tmp", NULL, &o) == -EINVAL, "object directory");
	CHECK(strstr(bpfl_last_error(), "is a directory") != NULL, "%s", bpfl_last_error());
	snprintf(fifo, sizeof(fifo), "/tmp/bpfl-capi-fifo-%d", getpid());
	unlink(fifo);
	CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
	CHECK(bpfl_object_open_file(fifo, NULL, &o) == -EINVAL, "object FIFO (no writer: must not block)");
	CHECK(strstr(bpfl_last_error(), "is a FIFO") != NULL, "%s", bpfl_last_error());
	unlink(fifo);

	OK(bpfl_object_open_file(path("uprobe.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	struct bpfl_program p;
	struct bpfl_link l;
	OK(bpfl_object_find_program(o, "on_call", &p));
	CHECK(bpfl_program_attach_uprobe(p, "/dev/zero", "main", NULL, &l) == -EINVAL, "uprobe on /dev/zero");
	CHECK(strstr(bpfl_last_error(), "is a character device") != NULL, "%s", bpfl_last_error());
	int fd = -1;
	OK(bpfl_program_fd(p, &fd));
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/bpfl-capi-prog-%d", getpid());
	unlink(pin);
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uint64_t)(uintptr_t)pin;
	attr.bpf_fd = fd;
	CHECK(syscall(SYS_bpf, BPF_OBJ_PIN, &attr, sizeof(attr)) == 0, "pin a program: %s", strerror(errno));
	CHECK(bpfl_map_open_pinned(pin, &m) == -EINVAL, "a pinned program opened as a map");
	CHECK(strstr(bpfl_last_error(), "is pinned, but it is a program, not a map") != NULL, "%s", bpfl_last_error());
	unlink(pin);
	OK(bpfl_object_close(o));
}

static int logged;
static void on_log(int level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(*(int *)ctx)++;
}

static void test_verifier_rejection(void)
{
	struct bpfl_object o;
	int before = open_fds();
	OK(bpfl_set_log_callback(on_log, &logged, BPFL_LOG_DEBUG));
	OK(bpfl_object_open_file(path("bad_verifier.o"), NULL, &o));
	int err = bpfl_object_load(o, NULL);
	CHECK(err == -EACCES || err == -EINVAL, "verifier rejection %d", err);
	const char *e = bpfl_last_error();
	CHECK(strstr(e, "deref_without_check") != NULL, "names the program: %s", e);
	CHECK(strstr(e, "verifier log") != NULL && strstr(e, "R0") != NULL, "carries the log: %s", e);
	CHECK(logged > 0, "log callback was called");
	OK(bpfl_set_log_callback(NULL, NULL, BPFL_LOG_WARN));
	OK(bpfl_object_close(o));
	CHECK(open_fds() == before, "fds leaked: %d -> %d", before, open_fds());
}

/* Uprobes on a function of this program, found by name in /proc/self/exe. */
__attribute__((noinline, used)) uint64_t capi_uprobe_target(uint64_t x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

static void test_uprobe(void)
{
	struct bpfl_object o;
	struct bpfl_program p;
	struct bpfl_link l;
	struct bpfl_map stats;
	int err;
	OK(bpfl_object_open_file(path("uprobe.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "on_call", &p));
	OK(bpfl_object_find_map(o, "stats", &stats));
	BPFL_OPTS(bpfl_uprobe_opts, uo, .pid = getpid());
	OK(bpfl_program_attach_uprobe(p, "/proc/self/exe", "capi_uprobe_target", &uo, &l));
	for (uint64_t i = 1; i <= 4; i++)
		capi_uprobe_target(i * 10);
	uint32_t k0 = 0, k1 = 1;
	CHECK(lookup_u64(stats, &k0, 4, &err) == 4, "uprobe calls");
	CHECK(lookup_u64(stats, &k1, 4, &err) == 100, "uprobe argument sum");
	OK(bpfl_link_destroy(l));
	CHECK(bpfl_program_attach_uprobe(p, "/proc/self/exe", "no_such_fn_here", NULL, &l) == -ENOENT, "missing symbol");
	CHECK(strstr(bpfl_last_error(), "no_such_fn_here") != NULL, "%s", bpfl_last_error());
	CHECK(bpfl_program_attach_uprobe(p, NULL, "x", NULL, &l) == -EINVAL, "NULL binary");
	OK(bpfl_object_close(o));
}

/* Lookups from several threads while handles come and go. */
static struct bpfl_map shared_map;
static void *reader(void *arg)
{
	uint32_t k = 0;
	uint64_t v;
	long bad = 0;
	for (int i = 0; i < 20000; i++) {
		int r = bpfl_map_lookup(shared_map, &k, 4, &v, 8);
		bad += r != 0 && r != -EBADF;
	}
	*(long *)arg = bad;
	return NULL;
}

static void test_threads_and_close_race(void)
{
	struct bpfl_object o;
	OK(bpfl_object_open_file(path("seed_tp.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_map(o, "calls", &shared_map));
	pthread_t t[4];
	long bad[4] = { 0 };
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, reader, &bad[i]);
	usleep(2000);
	OK(bpfl_object_close(o)); /* readers then get -EBADF, never a crash */
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(bad[i] == 0, "thread %d saw %ld unexpected results", i, bad[i]);
	}
}


/* Ring buffer records: struct event (16 bytes) then struct event2 (24), seq in order. */
struct rb_seen {
	uint32_t tgid, next_seq, records, bad, stop_after;
};

static int on_record(void *ctx, const void *data, size_t size)
{
	struct rb_seen *s = ctx;
	const uint32_t *w = data;
	uint64_t marker;
	int second = s->records % 2;
	memcpy(&marker, (const char *)data + 8, 8);
	if (size != (second ? 24u : 16u) || w[0] != s->tgid || w[1] != s->next_seq ||
	    marker != ((second ? 0xb0b0000000000000ULL : 0xfeedf00d00000000ULL) | s->next_seq))
		s->bad++;
	s->records++;
	if (second)
		s->next_seq++;
	return s->stop_after && s->records == s->stop_after ? 1000 : 0;
}

struct pb_seen {
	uint32_t tgid, samples, bad;
	uint64_t lost, seen_mask;
};

static int on_sample(void *ctx, int cpu, const void *data, uint32_t size)
{
	struct pb_seen *s = ctx;
	const uint32_t *w = data;
	if (size < 16 || w[0] != s->tgid || w[1] >= 64 || cpu < 0)
		s->bad++;
	else
		s->seen_mask |= 1ULL << w[1];
	s->samples++;
	return 0;
}

static void on_lost(void *ctx, int cpu, uint64_t lost)
{
	(void)cpu;
	((struct pb_seen *)ctx)->lost += lost;
}

static void test_ringbuf_perfbuf(void)
{
	struct bpfl_object o;
	struct bpfl_map events, small, perf_events;
	struct bpfl_program rbp, pbp;
	struct bpfl_link l;
	struct bpfl_ringbuf rb, rb2;
	struct bpfl_perfbuf pb;
	int fds = open_fds();
	uint32_t me = getpid();
	OK(bpfl_object_open_file(path("ringbuf.o"), NULL, &o));
	OK(bpfl_object_set_rodata(o, "target_tgid", &me, sizeof(me)));
	OK(bpfl_object_find_map(o, "events", &events));
	OK(bpfl_object_find_map(o, "small", &small));
	OK(bpfl_object_find_map(o, "perf_events", &perf_events));
	struct rb_seen rs = { .tgid = me };
	CHECK(bpfl_ringbuf_new(events, on_record, &rs, NULL, &rb) == -EINVAL, "before load");
	CHECK(strstr(bpfl_last_error(), "not created yet") != NULL, "%s", bpfl_last_error());
	OK(bpfl_object_load(o, NULL));
	/* Wrong map types, NULL callback, bad options. */
	CHECK(bpfl_ringbuf_new(perf_events, on_record, &rs, NULL, &rb) == -EINVAL, "perf array as ring buffer");
	CHECK(strcmp(bpfl_last_error(), "map 'perf_events' is a BPF_MAP_TYPE_PERF_EVENT_ARRAY, not a ring buffer (BPF_MAP_TYPE_RINGBUF)") == 0, "%s", bpfl_last_error());
	CHECK(bpfl_perfbuf_new(events, on_sample, on_lost, NULL, NULL, &pb) == -EINVAL, "ring buffer as perf array");
	CHECK(strstr(bpfl_last_error(), "map 'events' is a BPF_MAP_TYPE_RINGBUF, not a perf event array") != NULL, "%s", bpfl_last_error());
	CHECK(bpfl_ringbuf_new(events, NULL, &rs, NULL, &rb) == -EINVAL, "NULL callback");
	BPFL_OPTS(bpfl_perfbuf_opts, po, .page_cnt = 3);
	CHECK(bpfl_perfbuf_new(perf_events, on_sample, on_lost, NULL, &po, &pb) == -EINVAL, "page_cnt 3");

	/* Ring buffer: exactly N records pairs in order, the discarded ones skipped. */
	BPFL_OPTS(bpfl_ringbuf_opts, ro);
	OK(bpfl_ringbuf_new(events, on_record, &rs, &ro, &rb));
	CHECK(bpfl_ringbuf_epoll_fd(rb) >= 0, "epoll fd");
	CHECK(bpfl_ringbuf_poll(rb, 0) == 0, "empty");
	OK(bpfl_object_find_program(o, "rb_getpid", &rbp));
	OK(bpfl_program_attach(rbp, &l));
	for (int i = 0; i < 10; i++)
		syscall(SYS_getpid);
	int total = 0;
	for (int tries = 0; tries < 50 && total < 20; tries++) {
		int n = bpfl_ringbuf_poll(rb, 100);
		CHECK(n >= 0, "poll %d", n);
		total += n > 0 ? n : 0;
	}
	CHECK(total == 20 && rs.records == 20 && rs.next_seq == 10 && rs.bad == 0, "total %d records %u next %u bad %u", total, rs.records, rs.next_seq, rs.bad);
	/* A callback's non-zero return stops the poll and is returned. */
	for (int i = 0; i < 2; i++)
		syscall(SYS_getpid);
	rs.stop_after = 21;
	CHECK(bpfl_ringbuf_consume(rb) == 1000, "stopped");
	CHECK(rs.records == 21, "one record before stopping: %u", rs.records);
	CHECK(bpfl_ringbuf_consume(rb) == 3, "the rest");
	CHECK(rs.bad == 0 && rs.next_seq == 12, "bad %u next %u", rs.bad, rs.next_seq);
	/* Wrong kind: a ring buffer handle as a perf buffer. */
	CHECK(bpfl_perfbuf_poll((struct bpfl_perfbuf){ rb.id }, 0) == -EBADF, "wrong kind");
	CHECK(strstr(bpfl_last_error(), "a ring buffer handle was passed where a perf buffer handle is expected") != NULL, "%s", bpfl_last_error());
	/* A second consumer, freed before the object is closed. */
	struct rb_seen rs2 = { .tgid = me };
	OK(bpfl_ringbuf_new(small, on_record, &rs2, NULL, &rb2));
	OK(bpfl_ringbuf_free(rb2));
	CHECK(bpfl_ringbuf_free(rb2) == -EBADF, "double free");

	/* Perf buffer: all N samples, any CPU. */
	struct pb_seen ps = { .tgid = me };
	po.page_cnt = 8;
	OK(bpfl_perfbuf_new(perf_events, on_sample, on_lost, &ps, &po, &pb));
	CHECK(bpfl_perfbuf_epoll_fd(pb) >= 0, "perf epoll fd");
	OK(bpfl_object_find_program(o, "perf_getpid", &pbp));
	OK(bpfl_program_attach(pbp, &l));
	for (int i = 0; i < 10; i++)
		syscall(SYS_getpid);
	total = 0;
	for (int tries = 0; tries < 50 && total < 10; tries++) {
		int n = bpfl_perfbuf_poll(pb, 100);
		CHECK(n >= 0, "perf poll %d", n);
		total += n > 0 ? n : 0;
	}
	CHECK(total == 10 && ps.samples == 10 && ps.seen_mask == 0x3ff && ps.bad == 0 && ps.lost == 0, "samples %u mask %llx bad %u lost %llu", ps.samples,
	      (unsigned long long)ps.seen_mask, ps.bad, (unsigned long long)ps.lost);
	OK(bpfl_perfbuf_free(pb));
	CHECK(bpfl_perfbuf_poll(pb, 0) == -EBADF, "stale perf buffer");

	/* The ring buffer outlives its object: closed first, freed after. */
	OK(bpfl_object_close(o));
	CHECK(bpfl_ringbuf_new(events, on_record, &rs, NULL, &rb2) == -EBADF, "stale map handle");
	/* rb_getpid stayed attached through the perf part: 10 getpids, 20 records. */
	rs.stop_after = 0;
	CHECK(bpfl_ringbuf_consume(rb) == 20, "records read after the object is closed");
	CHECK(rs.bad == 0 && rs.next_seq == 22, "bad %u next %u", rs.bad, rs.next_seq);
	CHECK(bpfl_ringbuf_consume(rb) == 0, "then none");
	OK(bpfl_ringbuf_free(rb));
	CHECK(bpfl_ringbuf_poll(rb, 0) == -EBADF, "stale ring buffer");
	CHECK(strstr(bpfl_last_error(), "ring buffer handle") != NULL, "%s", bpfl_last_error());
	CHECK(open_fds() == fds, "fds %d -> %d", fds, open_fds());
}


/* Issue 10: set up between open and load, through the C ABI. */
static struct bpfl_object setup_open(const struct bpfl_open_opts *opts)
{
	struct bpfl_object o = {0};
	struct bpfl_program p;
	struct bpfl_map m;
	uint32_t tgid = getpid();
	OK(bpfl_object_open_file(path("setup.o"), opts, &o));
	OK(bpfl_object_set_rodata(o, "target_tgid", &tgid, sizeof(tgid)));
	OK(bpfl_object_find_map(o, "sized", &m));
	OK(bpfl_map_set_max_entries(m, 37));
	OK(bpfl_object_find_program(o, "post_bind", &p));
	OK(bpfl_program_set_expected_attach_type(p, 12 /* BPF_CGROUP_INET4_POST_BIND */));
	OK(bpfl_object_find_program(o, "bad", &p));
	OK(bpfl_program_set_autoload(p, false));
	return o;
}

static void test_setup(void)
{
	struct bpfl_open_opts opts = {.sz = sizeof(opts), .kconfig = "CONFIG_BPFL_TEST_VALUE=77\n"};
	struct bpfl_object o = setup_open(&opts), o2;
	struct bpfl_program bad, good, retyped;
	struct bpfl_map sized, shared, shared2, bss, optional;
	struct bpfl_program_info pi = {.sz = sizeof(pi)};
	struct bpfl_map_info mi = {.sz = sizeof(mi)};
	bool on = true;
	uint32_t k, flags = 99;
	uint64_t v = 0;
	size_t n = 0;
	char log[256];
	int err, fd;

	OK(bpfl_object_find_program(o, "bad", &bad));
	OK(bpfl_object_find_program(o, "good", &good));
	OK(bpfl_object_find_program(o, "retyped", &retyped));
	OK(bpfl_object_find_map(o, "sized", &sized));
	OK(bpfl_object_find_map(o, "shared", &shared));
	OK(bpfl_object_find_map(o, ".bss", &bss));
	OK(bpfl_object_find_map(o, "optional", &optional));
	OK(bpfl_program_autoload(bad, &on));
	CHECK(!on, "autoload of 'bad' is off");
	OK(bpfl_program_flags(good, &flags));
	CHECK(flags == 0, "flags %u", flags);
	OK(bpfl_program_set_type(retyped, 3 /* BPF_PROG_TYPE_SCHED_CLS */));
	OK(bpfl_program_set_log_level(good, 1));
	OK(bpfl_map_get_info(sized, &mi));
	CHECK(mi.max_entries == 37, "max_entries %u before load", mi.max_entries);
	OK(bpfl_object_load(o, NULL));
	/* the kernel took the sizes: 37 entries, the 38th is refused */
	for (k = 0; k < 37; k++)
		OK(bpfl_map_update(sized, &k, sizeof(k), &v, sizeof(v), BPFL_ANY));
	err = bpfl_map_update(sized, &k, sizeof(k), &v, sizeof(v), BPFL_ANY);
	CHECK(err == -E2BIG, "38th entry: %d", err);
	OK(bpfl_program_get_info(bad, &pi));
	CHECK(pi.fd == -1, "a program with autoload off has no fd (%d)", pi.fd);
	OK(bpfl_program_get_info(retyped, &pi));
	CHECK(pi.prog_type == 3, "retyped as SCHED_CLS: %u", pi.prog_type);
	/* the log of a program with a log level */
	err = bpfl_program_log(good, NULL, 0, &n);
	CHECK(err == -ENOSPC && n > 0, "log size query: %d, %zu", err, n);
	{
		char *full = malloc(n + 1);
		OK(bpfl_program_log(good, full, n + 1, &n));
		CHECK(strstr(full, "processed ") != NULL, "verifier log: %.80s", full);
		free(full);
		err = bpfl_program_log(good, log, 4, &n);
		CHECK(err == -ENOSPC, "a short buffer: %d", err);
	}
	/* setters after load: -EBUSY */
	err = bpfl_program_set_autoload(bad, true);
	CHECK(err == -EBUSY, "set_autoload after load: %d", err);
	err = bpfl_map_set_max_entries(sized, 5);
	CHECK(err == -EBUSY, "set_max_entries after load: %d", err);
	/* the kconfig override reaches the program */
	CHECK(bpfl_object_attach_all(o) == 1, "attach_all");
	syscall(SYS_getpgid, 0);
	k = 0;
	{
		uint8_t b[64] = {0};
		size_t vs = 0;
		OK(bpfl_map_value_buf_size(bss, &vs));
		OK(bpfl_map_lookup(bss, &k, sizeof(k), b, vs));
		memcpy(&v, b, 8);
		CHECK(v == 77, "CONFIG_BPFL_TEST_VALUE seen by the program: %llu", (unsigned long long)v);
	}
	/* reuse_fd: a second object shares `shared` */
	o2 = setup_open(NULL);
	OK(bpfl_object_find_map(o2, "shared", &shared2));
	OK(bpfl_map_get_info(shared, &mi));
	fd = mi.fd;
	OK(bpfl_map_reuse_fd(shared2, fd));
	{
		struct bpfl_map opt2;
		OK(bpfl_object_find_map(o2, "optional", &opt2));
		OK(bpfl_map_set_autocreate(opt2, false));
		err = bpfl_object_load(o2, NULL);
		CHECK(err == -EINVAL && strstr(bpfl_last_error(), "map 'optional'"), "autocreate off: %d", err);
		struct bpfl_program uo;
		OK(bpfl_object_find_program(o2, "uses_optional", &uo));
		OK(bpfl_program_set_autoload(uo, false));
	}
	OK(bpfl_object_load(o2, NULL));
	v = 1234;
	OK(bpfl_map_update(shared2, &k, sizeof(k), &v, sizeof(v), BPFL_ANY));
	v = lookup_u64(shared, &k, sizeof(k), &err);
	CHECK(err == 0 && v == 1234, "shared map: %llu", (unsigned long long)v);
	OK(bpfl_object_close(o2));
	OK(bpfl_object_close(o));
	/* a caller built with the 24-byte bpfl_open_opts */
	{
		struct bpfl_open_opts old = {.sz = 24};
		OK(bpfl_object_open_file(path("setup.o"), &old, &o));
		OK(bpfl_object_close(o));
	}
	/* a missing target BTF file: a clear error at open */
	opts = (struct bpfl_open_opts){.sz = sizeof(opts), .btf_custom_path = "/nonexistent/vmlinux.btf"};
	err = bpfl_object_open_file(path("core_refused.o"), &opts, &o);
	CHECK(err == -ENOENT && strstr(bpfl_last_error(), "/nonexistent/vmlinux.btf"), "missing btf_custom_path: %d", err);
}
#include "test_cgroup_sock.h"
#include "test_globals.h"
#include "test_net2.h"
#include "test_loaded.h"
#include "test_batch.h"
/* Test runs, XDP and tc through the C ABI on a veth pair made here. */
static void test_net(void)
{
	struct bpfl_object o = {0};
	struct bpfl_program byte = {0}, cnt = {0}, tc = {0};
	struct bpfl_link l = {0};
	unsigned char pkt[64] = {0xdd}, outp[64];
	char cmd[256], a[32], b[32];
	uint32_t idx = 0;
	OK(bpfl_object_open_file(path("net.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "xdp_by_byte", &byte));
	OK(bpfl_object_find_program(o, "xdp_count_drop", &cnt));
	OK(bpfl_object_find_program(o, "tc_count", &tc));

	BPFL_OPTS(bpfl_test_run_opts, ro, .data_in = pkt, .data_size_in = sizeof pkt);
	BPFL_OPTS(bpfl_test_run_result, rr);
	OK(bpfl_program_test_run(byte, &ro, &rr));
	CHECK(rr.retval == 1, "first byte 0xdd: XDP_DROP, got %u", rr.retval);
	pkt[0] = 0x11;
	ro.data_out = outp;
	ro.data_size_out = sizeof outp;
	ro.repeat = 5;
	OK(bpfl_program_test_run(byte, &ro, &rr));
	CHECK(rr.retval == 2 && rr.data_size_out == 64 && outp[1] == 0x42, "XDP_PASS and the packet out: %u %zu %x", rr.retval, rr.data_size_out, outp[1]);
	ro.data_size_out = 8;
	CHECK(bpfl_program_test_run(byte, &ro, &rr) == -ENOSPC, "short data_out");
	CHECK(strstr(bpfl_last_error(), "64 bytes") != NULL, "%s", bpfl_last_error());
	CHECK(bpfl_program_test_run(byte, &ro, NULL) == -EINVAL, "NULL result");

	snprintf(a, sizeof a, "bca%d", (int)getpid());
	snprintf(b, sizeof b, "bcb%d", (int)getpid());
	snprintf(cmd, sizeof cmd, "ip link add %s type veth peer name %s && ip link set %s up && ip link set %s up", a, b, a, b);
	if (system(cmd) != 0) {
		printf("SKIPPED (inside test_net): cannot make a veth pair\n");
		bpfl_object_close(o);
		return;
	}
	OK(bpfl_ifindex(a, &idx));
	CHECK(bpfl_ifindex("nosuchif0", &idx) == -ENOENT, "missing interface");
	OK(bpfl_ifindex(a, &idx));
	BPFL_OPTS(bpfl_xdp_info, xi);
	for (int nl = 0; nl < 2; nl++) {
		BPFL_OPTS(bpfl_xdp_opts, xo, .mode = BPFL_XDP_MODE_GENERIC, .netlink = nl);
		OK(bpfl_program_attach_xdp(cnt, idx, &xo, &l));
		OK(bpfl_xdp_query(idx, &xi));
		CHECK(xi.attached == BPFL_XDP_ATTACHED_GENERIC && xi.skb_prog_id != 0, "attached %u id %u (netlink %d)", xi.attached, xi.skb_prog_id, nl);
		OK(bpfl_link_destroy(l));
		OK(bpfl_xdp_query(idx, &xi));
		CHECK(xi.attached == BPFL_XDP_ATTACHED_NONE && xi.prog_id == 0, "detached (netlink %d)", nl);
	}
	xi.sz = 0;
	CHECK(bpfl_xdp_query(idx, &xi) == -EINVAL, "info sz 0");
	BPFL_OPTS(bpfl_xdp_opts, bad, .mode = 9);
	CHECK(bpfl_program_attach_xdp(cnt, idx, &bad, &l) == -EINVAL, "bad mode");
	CHECK(bpfl_program_attach_xdp(tc, idx, NULL, &l) == -EINVAL, "a tc program as XDP");

	BPFL_OPTS(bpfl_tc_opts, to, .direction = BPFL_TC_EGRESS, .priority = 4);
	OK(bpfl_program_attach_tc(tc, idx, &to, &l));
	snprintf(cmd, sizeof cmd, "tc filter show dev %s egress | grep -q 'pref 4 bpf.*tc_count.*direct-action'", a);
	CHECK(system(cmd) == 0, "the filter is there");
	OK(bpfl_link_destroy(l));
	snprintf(cmd, sizeof cmd, "tc qdisc show dev %s | grep -q clsact", a);
	CHECK(system(cmd) != 0, "no clsact qdisc left");
	BPFL_OPTS(bpfl_tcx_opts, txo, .direction = BPFL_TC_EGRESS);
	int r = bpfl_program_attach_tcx(tc, idx, &txo, &l);
	CHECK(r == 0 || r == -EOPNOTSUPP, "tcx: %d %s", r, bpfl_last_error());
	if (r == 0) {
		int fd = -1;
		OK(bpfl_link_fd(l, &fd));
		CHECK(fd >= 0, "a TCX link has an fd");
		OK(bpfl_link_destroy(l));
	}
	snprintf(cmd, sizeof cmd, "ip link del %s", a);
	CHECK(system(cmd) == 0, "%s", cmd);
}

/* Issue 12: iterators, link update/info/pin/open, perf events. */
static void test_kinds(void)
{
	struct bpfl_object o;
	struct bpfl_program tasks, marked, sample;
	struct bpfl_link it, opened, pl;
	struct bpfl_map samples;
	char want[64], pin[128], buf[1 << 16];
	uint32_t me = getpid();
	OK(bpfl_object_open_file(path("kinds.o"), NULL, &o));
	OK(bpfl_object_set_rodata(o, "target_tgid", &me, sizeof(me)));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "list_tasks", &tasks));
	OK(bpfl_object_find_program(o, "list_tasks_marked", &marked));
	OK(bpfl_object_find_program(o, "on_sample", &sample));
	BPFL_OPTS(bpfl_iter_opts, io, .pid = me);
	OK(bpfl_program_attach_iter(tasks, &io, &it));
	int fd = -1;
	OK(bpfl_iter_create(it, &fd));
	ssize_t n, len = 0;
	while (fd >= 0 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	snprintf(want, sizeof(want), "%u %u ", me, me);
	CHECK(strstr(buf, want) == buf, "task iterator output: %s", buf);
	BPFL_OPTS(bpfl_link_info, li);
	OK(bpfl_link_get_info(it, &li));
	CHECK(li.link_type == 4 && strcmp(li.name, "task") == 0 && li.task_pid == me, "iter info %u %s %u", li.link_type, li.name, li.task_pid);
	uint32_t old_prog = li.prog_id;
	BPFL_OPTS(bpfl_link_update_opts, uo, .old_prog = marked);
	CHECK(bpfl_link_update(it, tasks, &uo) == -EPERM, "old program check");
	uo.old_prog = tasks;
	OK(bpfl_link_update(it, marked, &uo));
	OK(bpfl_link_get_info(it, &li));
	CHECK(li.prog_id != old_prog, "updated program id");
	CHECK(bpfl_link_detach(it) == -EOPNOTSUPP, "iterator links take no BPF_LINK_DETACH");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/bpfl-capi-iter-%d", getpid());
	OK(bpfl_link_pin(it, pin));
	OK(bpfl_link_open_pinned(pin, &opened));
	OK(bpfl_link_destroy(it));
	fd = -1;
	OK(bpfl_iter_create(opened, &fd));
	len = 0;
	while (fd >= 0 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	snprintf(want, sizeof(want), "marked %u %u\n", me, me);
	CHECK(strcmp(buf, want) == 0, "pinned iterator runs the updated program: %s", buf);
	OK(bpfl_link_destroy(opened));
	unlink(pin);
	CHECK(bpfl_link_open_pinned(pin, &opened) == -ENOENT, "missing link pin");

	/* cpu-clock at 1000 Hz on this CPU while it burns 200 ms. */
	BPFL_OPTS(bpfl_perf_event_spec, ps, .perf_type = 1, .config = 0, .period = 1000, .freq = true);
	int cpu = sched_getcpu();
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
	int pfd = -1;
	OK(bpfl_perf_event_open(&ps, cpu, &pfd));
	OK(bpfl_program_attach_perf_event(sample, pfd, NULL, &pl));
	close(pfd);
	CHECK(bpfl_program_attach_perf_event(tasks, 0, NULL, &it) == -EINVAL, "not a perf_event program");
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	volatile uint64_t x = 0;
	do {
		for (int i = 0; i < 10000; i++)
			x += i;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 200);
	OK(bpfl_link_get_info(pl, &li));
	CHECK(li.link_type == 7, "perf event link type %u", li.link_type);
	OK(bpfl_link_destroy(pl));
	int err;
	uint32_t k = cpu;
	OK(bpfl_object_find_map(o, "samples", &samples));
	uint64_t got = lookup_u64(samples, &k, 4, &err);
	CHECK(got >= 4 && got <= 400, "%llu cpu-clock samples in 200 ms", (unsigned long long)got);
	OK(bpfl_object_close(o));
}

/* struct_ops: a BPF TCP congestion control over loopback (issue 12). */
static void *cc_receiver(void *arg)
{
	int ls = *(int *)arg, s = accept(ls, NULL, NULL);
	static size_t total;
	char buf[65536];
	ssize_t n;
	total = 0;
	while (s >= 0 && (n = read(s, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	close(s);
	return &total;
}

static void test_struct_ops(void)
{
	struct bpfl_object o;
	struct bpfl_map cc, calls;
	struct bpfl_link l;
	OK(bpfl_object_open_file(path("kinds_cc.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_map(o, "bpfl_cc", &cc));
	OK(bpfl_object_find_map(o, "cc_calls", &calls));
	CHECK(bpfl_map_attach_struct_ops(calls, &l) == -EINVAL, "not a struct_ops map");
	OK(bpfl_map_attach_struct_ops(cc, &l));
	BPFL_OPTS(bpfl_link_info, li);
	OK(bpfl_link_get_info(l, &li));
	CHECK(li.link_type == 9 && li.map_id > 0, "struct_ops link info %u %u", li.link_type, li.map_id);

	int ls = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	bind(ls, (struct sockaddr *)&a, sizeof(a));
	listen(ls, 1);
	getsockname(ls, (struct sockaddr *)&a, &al);
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "bpfl_cc", 7) == 0, "select bpfl_cc: %s", strerror(errno));
	pthread_t t;
	pthread_create(&t, NULL, cc_receiver, &ls);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0, "connect");
	char name[16] = { 0 };
	socklen_t nl = sizeof(name);
	getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, name, &nl);
	CHECK(strcmp(name, "bpfl_cc") == 0, "TCP_CONGESTION is %s", name);
	static char chunk[65536];
	for (int i = 0; i < 16; i++)
		for (size_t off = 0; off < sizeof(chunk);) {
			ssize_t n = write(c, chunk + off, sizeof(chunk) - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	close(c);
	void *got;
	pthread_join(t, &got);
	close(ls);
	CHECK(*(size_t *)got == 1 << 20, "received %zu bytes", *(size_t *)got);
	int err;
	uint32_t k0 = 0, k2 = 2;
	CHECK(lookup_u64(calls, &k0, 4, &err) > 0, "init ran");
	CHECK(lookup_u64(calls, &k2, 4, &err) > 0, "cong_avoid ran");
	OK(bpfl_link_destroy(l));
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "bpfl_cc", 7) != 0, "bpfl_cc unregistered");
	close(c);
	OK(bpfl_object_close(o));
}

/* The USDT/uprobe target (tests/usdt/usdt_target.c) next to the BPF directory. */
static pid_t spawn_target(const char *arg)
{
	char exe[600];
	snprintf(exe, sizeof(exe), "%s/../usdt_target", dir);
	pid_t pid = fork();
	if (pid == 0) {
		execl(exe, exe, arg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int exit_code(pid_t pid)
{
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* USDT through the C ABI: arguments of every kind, the semaphore, the cookie;
 * uprobe.multi with cookies; a tracepoint with a cookie. */
static void test_usdt_and_cookies(void)
{
	struct bpfl_object o;
	struct bpfl_program req, multi, tp;
	struct bpfl_map seen, by_cookie;
	struct bpfl_link l;
	char exe[600];
	snprintf(exe, sizeof(exe), "%s/../usdt_target", dir);
	OK(bpfl_object_open_file(path("usdt.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "on_req", &req));
	OK(bpfl_object_find_program(o, "on_multi", &multi));
	OK(bpfl_object_find_program(o, "on_tp", &tp));
	OK(bpfl_object_find_map(o, "seen", &seen));
	OK(bpfl_object_find_map(o, "by_cookie", &by_cookie));

	struct bpfl_usdt_opts uo = { .sz = sizeof(uo), .cookie = 0xabc };
	CHECK(bpfl_program_attach_usdt(req, 0, exe, "bpfltest", "nope", &uo, &l) == -ENOENT, "missing probe");
	CHECK(strstr(bpfl_last_error(), "bpfltest:req") != NULL, "lists the probes: %s", bpfl_last_error());
	OK(bpfl_program_attach_usdt(req, 0, exe, "bpfltest", "req", &uo, &l));
	pid_t pid = spawn_target(NULL);
	for (int i = 0; i < 200; i++) { /* until it sleeps in its loop, its SIGUSR1 handler set */
		char p[64], st[512] = { 0 };
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		FILE *f = fopen(p, "r");
		if (f) {
			size_t n = fread(st, 1, sizeof(st) - 1, f);
			fclose(f);
			char *r = n ? strrchr(st, ')') : NULL;
			if (r && r[1] == ' ' && r[2] == 'S')
				break;
		}
		usleep(5000);
	}
	kill(pid, SIGUSR1);
	CHECK(exit_code(pid) == 0, "target fired with its semaphore set");
	int64_t want[] = { 42, -1234567890123LL, -77, 0x1122334455667788LL, 1, 31000, -5, -7 }, v;
	for (uint32_t k = 0; k < 8; k++) {
		v = 0;
		OK(bpfl_map_lookup(seen, &k, 4, &v, 8));
		CHECK(v == want[k], "argument %u: %lld", k, (long long)v);
	}
	uint32_t kc = 10;
	OK(bpfl_map_lookup(seen, &kc, 4, &v, 8));
	CHECK(v == 0xabc, "usdt cookie %lld", (long long)v);
	OK(bpfl_link_destroy(l));

	const char *syms[] = { "bpfl_multi_1", "bpfl_multi_2", "bpfl_multi_3" };
	uint64_t cookies[] = { 7, 8, 9 };
	struct bpfl_uprobe_multi_opts mo = { .sz = sizeof(mo), .syms = syms, .cookies = cookies, .cnt = 3 };
	OK(bpfl_program_attach_uprobe_multi(multi, 0, exe, NULL, &mo, &l));
	CHECK(exit_code(spawn_target("m")) == 0, "multi target");
	int err;
	for (int i = 0; i < 3; i++)
		CHECK(lookup_u64(by_cookie, &cookies[i], 8, &err) == (uint64_t)i + 1, "cookie %llu", (unsigned long long)cookies[i]);
	OK(bpfl_link_destroy(l));
	CHECK(bpfl_program_attach_uprobe_multi(multi, 0, exe, "bpfl_multi_*", &mo, &l) == -EINVAL, "pattern and syms");
	CHECK(bpfl_program_attach_uprobe_multi(multi, 0, exe, "no_such_fn_*", NULL, &l) == -ENOENT, "pattern matching nothing");

	struct bpfl_tracepoint_opts to = { .sz = sizeof(to), .cookie = 0x77 };
	int64_t me = getpid();
	uint32_t k15 = 15;
	OK(bpfl_map_update(seen, &k15, 4, &me, 8, BPFL_ANY));
	OK(bpfl_program_attach_tracepoint_opts(tp, "syscalls", "sys_enter_getppid", &to, &l));
	for (int i = 0; i < 4; i++)
		syscall(SYS_getppid);
	OK(bpfl_link_destroy(l));
	uint64_t c77 = 0x77;
	CHECK(lookup_u64(by_cookie, &c77, 8, &err) == 4, "tracepoint cookie count");
	struct bpfl_trace_opts tro = { .sz = sizeof(tro), .cookie = 1 };
	CHECK(bpfl_program_attach_trace_opts(tp, &tro, &l) == -EINVAL, "trace cookie on a tracepoint program");

	/* kprobe kinds: the host has no kprobes and no fprobe, the VMs do. */
	struct bpfl_program km;
	struct bpfl_object o2;
	OK(bpfl_object_open_file(path("probe_multi.o"), NULL, &o2));
	OK(bpfl_object_load(o2, NULL));
	OK(bpfl_object_find_program(o2, "on_kmulti", &km));
	int r = bpfl_program_attach_kprobe_multi(km, "__x64_sys_getppi?", NULL, &l);
	if (r == 0)
		OK(bpfl_link_destroy(l));
	else
		CHECK(r == -EOPNOTSUPP && strstr(bpfl_last_error(), "CONFIG_FPROBE") != NULL, "kprobe.multi: %d", r);
	struct bpfl_ksyscall_opts ko = { .sz = sizeof(ko), .cookie = 5 };
	OK(bpfl_object_find_program(o2, "on_kprobe", &km));
	r = bpfl_program_attach_ksyscall(km, "getppid", &ko, &l);
	if (r == 0)
		OK(bpfl_link_destroy(l));
	else
		CHECK(r == -EOPNOTSUPP && strstr(bpfl_last_error(), "kprobes") != NULL, "ksyscall: %d", r);
	OK(bpfl_object_close(o2));
	OK(bpfl_object_close(o));
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : "build/bpf";
	if (geteuid() != 0) {
		fprintf(stderr, "SKIPPED: C ABI kernel tests need root and bpf()\n");
		return 77;
	}
	test_null_and_bad_arguments();
	test_seed_tp();
	test_modern_rodata_pin();
	test_hostile_paths();
	test_verifier_rejection();
	test_uprobe();
	test_usdt_and_cookies();
	test_threads_and_close_race();
	test_ringbuf_perfbuf();
	test_setup();
	test_cgroup_sock();
	test_net();
	test_net2();
	test_kinds();
	test_struct_ops();
	test_globals();
	test_loaded_listing();
	test_batch();
	printf("C ABI tests: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
