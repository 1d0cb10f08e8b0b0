/* CO-RE: local definitions that deliberately differ from the kernel's, read
 * through relocations that bpfl resolves against /sys/kernel/btf/vmlinux.
 * Every result goes to `out` for the test process only (target_tgid). */
#include <bpfl/bpf_helpers.h>

/* No libbpf: the builtins by hand (kinds as in libbpf's bpf_core_read.h). */
#define field_size(f) __builtin_preserve_field_info(f, 1)
#define field_exists(f) __builtin_preserve_field_info(f, 2)
#define field_signed(f) __builtin_preserve_field_info(f, 3)
#define type_exists(T) __builtin_preserve_type_info(*(T *)0, 0)
#define type_size(T) __builtin_preserve_type_info(*(T *)0, 1)
#define type_id_target(T) __builtin_btf_type_id(*(T *)0, 1)
#define enum_exists(E, v) __builtin_preserve_enum_value(*(E *)v, 0)
#define enum_value(E, v) __builtin_preserve_enum_value(*(E *)v, 1)

/* The kernel has pid before tgid, real_parent well after, comm further on. */
struct task_struct___mine {
	char comm[16];
	int tgid;
	struct task_struct___mine *real_parent;
	int pid;
	int no_such_field_in_the_kernel;
} __attribute__((preserve_access_index));

/* comm is char[16] in the kernel: its size is relocated. */
struct task_struct___small {
	char comm[4];
	unsigned int pid; /* pid_t is signed in the kernel */
} __attribute__((preserve_access_index));

/* The kernel's is two pointers (16 bytes). */
struct list_head___mine {
	void *next;
} __attribute__((preserve_access_index));

struct no_such_type_in_the_kernel {
	int x;
};

enum bpf_map_type___mine {
	BPF_MAP_TYPE_RINGBUF___mine = 99,
	BPF_MAP_TYPE_NO_SUCH_THING___mine = 100,
};

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

static __always_inline void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("tp/syscalls/sys_enter_getpid")
int core_fields(void *ctx)
{
	struct task_struct___mine *t = (void *)bpf_get_current_task();
	struct task_struct___mine *parent = 0;
	struct task_struct___small *s = (void *)t;
	int pid = 0, tgid = 0, ptgid = 0, x = 0;
	char comm[16] = {};

	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	bpf_probe_read_kernel(&pid, sizeof(pid), &t->pid);
	bpf_probe_read_kernel(&tgid, sizeof(tgid), &t->tgid);
	bpf_probe_read_kernel(&parent, sizeof(parent), &t->real_parent);
	bpf_probe_read_kernel(&ptgid, sizeof(ptgid), &parent->tgid);
	bpf_probe_read_kernel(comm, sizeof(comm), &t->comm);
	put(0, pid);
	put(1, tgid);
	put(2, ptgid);
	put(3, field_exists(t->pid));
	put(4, field_exists(t->no_such_field_in_the_kernel));
	put(5, type_size(struct list_head___mine));
	put(6, type_exists(struct no_such_type_in_the_kernel));
	put(7, enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine));
	put(8, enum_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_NO_SUCH_THING___mine));
	put(9, field_size(s->comm));
	/* Guarded: the poisoned read is dead code once the check is 0. */
	if (field_exists(t->no_such_field_in_the_kernel)) {
		bpf_probe_read_kernel(&x, sizeof(x), &t->no_such_field_in_the_kernel);
		put(10, x);
	} else {
		put(10, 77);
	}
	put(11, type_id_target(struct task_struct___mine));
	put(12, field_signed(s->pid));
	put(13, *(__u64 *)&comm[0]);
	put(14, *(__u64 *)&comm[8]);
	put(15, enum_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine));
	return 0;
}

char _license[] SEC("license") = "GPL";
