/* The seed's style: legacy SEC("maps") definitions, a license and a version
 * section. Shared by seed_tp.bpf.c (tracepoints, runs on any kernel) and
 * seed_kprobe.bpf.c (kprobes, as nimbpf's users wrote them). */
#include <bpfl/bpf_helpers.h>

/* calls[0] counts entries, calls[1] exits, for every process. */
struct bpf_map_def SEC("maps") calls = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 2,
};

/* Entries per process (tgid): a u64 value and the same count as a u16,
 * so the seed's fetchUint64FromMap and fetchUint16FromMap both have a map. */
struct bpf_map_def SEC("maps") per_pid = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1024,
};

struct bpf_map_def SEC("maps") per_pid16 = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u16),
	.max_entries = 1024,
};

/* A struct key, as the seed's README shows ("a normal nim object"). */
struct pid_key {
	__u32 tgid;
	__u32 kind; /* 0 enter, 1 exit */
};

struct bpf_map_def SEC("maps") by_key = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(struct pid_key),
	.value_size = sizeof(__u64),
	.max_entries = 1024,
};

static __always_inline void bump(__u32 kind)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1;
	__u16 one16 = 1;
	__u64 *c = bpf_map_lookup_elem(&calls, &kind);
	if (c)
		__sync_fetch_and_add(c, 1);
	struct pid_key k = { .tgid = tgid, .kind = kind };
	__u64 *bk = bpf_map_lookup_elem(&by_key, &k);
	if (bk)
		__sync_fetch_and_add(bk, 1);
	else
		bpf_map_update_elem(&by_key, &k, &one, BPF_NOEXIST);
	if (kind != 0)
		return;
	__u64 *v = bpf_map_lookup_elem(&per_pid, &tgid);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&per_pid, &tgid, &one, BPF_NOEXIST);
	__u16 *v16 = bpf_map_lookup_elem(&per_pid16, &tgid);
	if (v16)
		*v16 += 1;
	else
		bpf_map_update_elem(&per_pid16, &tgid, &one16, BPF_NOEXIST);
}

char _license[] SEC("license") = "GPL";
