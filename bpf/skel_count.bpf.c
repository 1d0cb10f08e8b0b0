/* The skeleton test's and examples' program (bpfl gen skeleton): counts
 * getppid() calls of one process.
 *   .rodata target_tgid   the process counted (set through the skeleton before load)
 *   .data   step          added per call (written through the skeleton after load:
 *                         the live, mmap'd map)
 *   .bss    total         the sum, read through the skeleton
 *   counts                hash tgid -> struct counter (calls, and the last step)
 *   events                ring buffer of struct event, one per call
 * The structs hold padding, a nested struct, an array, a union, a bitfield
 * and a pointer, so that the generated layouts are tested against the kernel
 * data they describe. */
#include <bpfl/bpf_helpers.h>

struct counter {
	__u64 calls;
	__u32 last_step;
	/* 4 bytes of padding */
};

struct stamp {
	__u8 kind;
	/* 7 bytes of padding */
	__u64 seq;
};

struct event {
	__u32 tgid;
	__u16 flags : 3, cpu_lo : 13;
	__u8 tag;
	/* 1 byte of padding */
	struct stamp stamp;
	char comm[16];
	union {
		__u64 total;
		__u32 half[2];
	} u;
	void *task; /* a kernel pointer, as u64 */
};

const volatile __u32 target_tgid = 0;
__u32 step = 1;
__u64 total = 0;
/* Ties struct event to this object's BTF for the skeleton (the ring buffer
 * map names no type): a global of the type, or `--event event`. */
struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct counter);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid != target_tgid)
		return 0;
	__u32 s = step;
	__u64 t = __sync_add_and_fetch(&total, s);
	struct counter *c = bpf_map_lookup_elem(&counts, &tgid);
	if (c) {
		__sync_fetch_and_add(&c->calls, 1);
		c->last_step = s;
	} else {
		struct counter init = { .calls = 1, .last_step = s };
		bpf_map_update_elem(&counts, &tgid, &init, BPF_NOEXIST);
	}
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->tgid = tgid;
	e->flags = 5;
	e->cpu_lo = bpf_get_smp_processor_id() & 0x1fff;
	e->tag = 0xab;
	e->stamp.kind = 7;
	e->stamp.seq = t;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->u.total = t;
	e->task = (void *)bpf_get_current_task();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
