// SPDX-License-Identifier: GPL-2.0
/* An experiment for benchmark 4: dump a u32 -> u64 map with a BPF iterator
 * (iter/bpf_map_elem), one packed 12-byte record per entry, read from user
 * space with read(). Loaded with libbpf by the benchmark (bpfl does not load
 * iterator programs yet): it shows what such support would give. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/bpf_map_elem")
int dump_u32_u64(struct bpf_iter__bpf_map_elem *ctx)
{
	__u32 *key = ctx->key;
	__u64 *val = ctx->value;
	struct {
		__u32 k;
		__u64 v;
	} __attribute__((packed)) rec;

	if (!key || !val)
		return 0;
	rec.k = *key;
	rec.v = *val;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
