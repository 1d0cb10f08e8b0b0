/* Attach kinds beyond probes and tracepoints (issue 12): a perf_event
 * program counting the cpu-clock samples of one process per CPU; task
 * iterators printing every task (two of them, for BPF_LINK_UPDATE). The
 * bpf_map_elem iterator is in kinds_map_iter.bpf.c (some kernels refuse it). Kernel types are declared
 * with preserve_access_index: CO-RE finds their real layout. */
#include <bpfl/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

static long (*bpf_seq_printf)(void *m, const char *fmt, __u32 fmt_size, const void *data, __u32 data_len) = (void *)126;

struct seq_file;
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));
struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

const volatile __u32 target_tgid = 0;

#define MAX_CPUS 1024
/* Samples of target_tgid by CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} samples SEC(".maps");

SEC("perf_event")
int on_sample(void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 *v;

	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	v = bpf_map_lookup_elem(&samples, &cpu);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

/* One line per task: "TGID PID COMM". */
SEC("iter/task")
int list_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	__u64 args[3];

	if (!t)
		return 0;
	args[0] = t->tgid;
	args[1] = t->pid;
	args[2] = (__u64)(long)t->comm;
	bpf_seq_printf(ctx->meta->seq, "%d %d %s\n", sizeof("%d %d %s\n"), args, sizeof(args));
	return 0;
}

/* The same walk, marked: what BPF_LINK_UPDATE swaps in. */
SEC("iter/task")
int list_tasks_marked(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	__u64 args[2];

	if (!t)
		return 0;
	args[0] = t->tgid;
	args[1] = t->pid;
	bpf_seq_printf(ctx->meta->seq, "marked %d %d\n", sizeof("marked %d %d\n"), args, sizeof(args));
	return 0;
}
