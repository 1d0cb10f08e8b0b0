/* CO-RE TYPE_MATCHES (bpf_core_type_matches()) against the running kernel's
 * BTF: local types that match the kernel's and local types that do not. Each
 * result goes to `out`, for the test process only. */
#include <bpfl/bpf_helpers.h>

#define type_exists(T) __builtin_preserve_type_info(*(T *)0, 0)
#define type_matches(T) __builtin_preserve_type_info(*(T *)0, 2)

/* The kernel's: struct list_head { struct list_head *next, *prev; }. */
struct list_head___same {
	struct list_head___same *next, *prev;
};
/* A subset of the members matches too. */
struct list_head___subset {
	struct list_head___subset *prev;
};
/* prev is a pointer in the kernel, not an int. */
struct list_head___int {
	struct list_head___int *next;
	int prev;
};
/* struct callback_head { struct callback_head *next; void (*func)(struct callback_head *); } */
struct callback_head___fn {
	struct callback_head___fn *next;
	void (*func)(struct callback_head___fn *head);
};
/* The function pointer takes two arguments here. */
struct callback_head___fn2 {
	struct callback_head___fn2 *next;
	void (*func)(struct callback_head___fn2 *head, int extra);
};
/* task_struct exists, but has no member of this name. */
struct task_struct___extra {
	int no_such_member_in_the_kernel;
};
enum bpf_map_type___some {
	BPF_MAP_TYPE_HASH___some = 1,
	BPF_MAP_TYPE_RINGBUF___some = 2,
};
enum bpf_map_type___unknown {
	BPF_MAP_TYPE_NO_SUCH_THING___unknown = 1,
};
typedef int pid_t___signed;
typedef unsigned int pid_t___unsigned;

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 12);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

static __always_inline void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("tp/syscalls/sys_enter_getppid")
int core_matches(void *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	put(0, type_matches(struct list_head___same));
	put(1, type_matches(struct list_head___subset));
	put(2, type_matches(struct list_head___int));
	put(3, type_matches(struct callback_head___fn));
	put(4, type_matches(struct callback_head___fn2));
	put(5, type_exists(struct task_struct___extra));
	put(6, type_matches(struct task_struct___extra));
	put(7, type_matches(enum bpf_map_type___some));
	put(8, type_matches(enum bpf_map_type___unknown));
	put(9, type_matches(pid_t___signed));
	put(10, type_matches(pid_t___unsigned));
	put(11, 77);
	return 0;
}

char _license[] SEC("license") = "GPL";
