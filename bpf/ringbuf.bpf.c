/* Ring buffer and perf buffer producers, on getpid of target_tgid. Each
 * program is attached alone by the test that needs it.
 *   rb_getpid:    to `events` (256 KiB): a reserved+submitted struct event,
 *                 a reserved+discarded one, then a bpf_ringbuf_output'd
 *                 struct event2; so the ring holds A, (discarded), B.
 *   small_getpid: the same to `small` (4 KiB: wraps around quickly).
 *   perf_getpid:  a struct event by bpf_perf_event_output to `perf_events`.
 * Markers tell the kinds apart and carry the sequence number. */
#include <bpfl/bpf_helpers.h>

const volatile __u32 target_tgid = 0;

#define MARK_RESERVED 0xfeedf00d00000000ULL
#define MARK_OUTPUT 0xb0b0000000000000ULL
#define MARK_DISCARDED 0xdeaddead00000000ULL
#define MARK_PERF 0x9e4f000000000000ULL

struct event {
	__u32 tgid;
	__u32 seq;
	__u64 marker;
};

struct event2 {
	__u32 tgid;
	__u32 seq;
	__u64 marker;
	__u64 extra;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* Failures: [0] events full, [1] small full, [2] perf output errors. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} failures SEC(".maps");

/* Sequence numbers in .bss (one caller thread: plain increments). */
__u32 rb_seq = 0, small_seq = 0, perf_seq = 0;

static __always_inline void failed(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&failures, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void produce(void *rb, __u32 *seqp, __u32 fail_key)
{
	__u32 seq = *seqp;
	__u32 tgid = target_tgid;

	*seqp = seq + 1;
	struct event *a = bpf_ringbuf_reserve(rb, sizeof(*a), 0);
	if (!a) {
		failed(fail_key);
		return;
	}
	a->tgid = tgid;
	a->seq = seq;
	a->marker = MARK_RESERVED | seq;
	struct event *d = bpf_ringbuf_reserve(rb, sizeof(*d), 0);
	if (!d) {
		bpf_ringbuf_submit(a, 0);
		failed(fail_key);
		return;
	}
	d->tgid = tgid;
	d->seq = seq;
	d->marker = MARK_DISCARDED | seq;
	struct event2 b = { .tgid = tgid, .seq = seq, .marker = MARK_OUTPUT | seq, .extra = ~(__u64)seq };
	if (bpf_ringbuf_output(rb, &b, sizeof(b), 0))
		failed(fail_key);
	bpf_ringbuf_discard(d, 0);
	bpf_ringbuf_submit(a, 0);
}

SEC("tp/syscalls/sys_enter_getpid")
int rb_getpid(void *ctx)
{
	if (mine())
		produce(&events, &rb_seq, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_getpid")
int small_getpid(void *ctx)
{
	if (mine())
		produce(&small, &small_seq, 1);
	return 0;
}

SEC("tp/syscalls/sys_enter_getpid")
int perf_getpid(void *ctx)
{
	if (!mine())
		return 0;
	struct event e = { .tgid = target_tgid, .seq = perf_seq, .marker = MARK_PERF | perf_seq };
	perf_seq = e.seq + 1;
	if (bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e)))
		failed(2);
	return 0;
}

char _license[] SEC("license") = "GPL";
