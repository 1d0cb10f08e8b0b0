/* What `bpfl run` shows, for its test: counters of getppid calls by
 * target_tgid in a hash map (a struct value with an enum and a char array),
 * a per-CPU array, .bss and .data globals, and one event per call to a ring
 * buffer and to a perf buffer (struct ev, the one struct of its size, so
 * `bpfl run` guesses the records' type). Every rodata value is set with
 * `bpfl run --set` (tag read as one volatile word: a memcpy from it would be
 * folded to its initial value). xdp_pass has no attach target of its own. */
#include <bpfl/bpf_helpers.h>

enum mode { MODE_OFF = 0, MODE_COUNT = 1, MODE_TRACE = 2 };

const volatile __u32 target_tgid = 0;
const volatile enum mode mode = MODE_OFF;
const volatile char tag[8] = "none";
const volatile __s16 bias = 0;

struct stats {
	__u64 calls;
	enum mode mode;
	char tag[8];
};

struct ev {
	__u32 tgid;
	__u32 seq;
	char tag[8];
	enum mode mode;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct stats);
} per_tgid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* Puts struct ev in the object's BTF (which describes globals, maps and
 * functions, not locals), so a reader of `events` can find it. */
struct ev *unused_ev __attribute__((unused));

__u64 total_calls = 0;
__s32 delta = -3;

SEC("tp/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;

	if (tgid != target_tgid)
		return 0;
	struct stats *s = bpf_map_lookup_elem(&per_tgid, &tgid);
	if (!s) {
		struct stats init = { .mode = mode };
		*(__u64 *)init.tag = *(const volatile __u64 *)tag;
		bpf_map_update_elem(&per_tgid, &tgid, &init, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&per_tgid, &tgid);
		if (!s)
			return 0;
	}
	__u32 seq = __sync_fetch_and_add(&s->calls, 1);
	__u64 *c = bpf_map_lookup_elem(&pcpu, &zero);
	if (c)
		*c += 1;
	__sync_fetch_and_add(&total_calls, 1);
	delta += bias;
	struct ev *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->tgid = tgid;
		e->seq = seq;
		*(__u64 *)e->tag = *(const volatile __u64 *)tag;
		e->mode = mode;
		struct ev p = *e;
		bpf_ringbuf_submit(e, 0);
		bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &p, sizeof(p));
	}
	return 0;
}

SEC("xdp")
int xdp_pass(void *ctx)
{
	return 2; /* XDP_PASS */
}

char _license[] SEC("license") = "GPL";
