// SPDX-License-Identifier: GPL-2.0
/* Externs resolved by the loader: .kconfig values (computed ones, CONFIG_*
 * of several types, a __weak one nobody has), a typeless __ksym address, a
 * __weak __ksym and a __weak kfunc that do not exist, and two kfunc calls.
 * On getpid() by target_tgid, each value goes into results[i]. */
#include <bpfl/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool CONFIG_BPF __kconfig;
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig;
extern char CONFIG_BPF_JIT __kconfig __weak;
extern unsigned long long CONFIG_HZ __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig;
extern bool CONFIG_BPFL_NO_SUCH_OPTION __kconfig __weak;

extern const void bpf_prog_get __ksym;
extern const void bpfl_no_such_symbol __ksym __weak;

/* Kfuncs since 6.2: __weak, so older kernels load the object and skip them. */
extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;
extern void bpfl_no_such_kfunc(void) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

const volatile __u32 target_tgid = 0;

static __always_inline void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&results, &k, &v, 0);
}

SEC("tp/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__u64 host = 0;
	__builtin_memcpy(&host, CONFIG_DEFAULT_HOSTNAME, 8);
	put(0, LINUX_KERNEL_VERSION);
	put(1, LINUX_HAS_BPF_COOKIE);
	put(2, LINUX_HAS_SYSCALL_WRAPPER);
	put(3, CONFIG_BPF);
	put(4, CONFIG_BPF_SYSCALL);
	put(5, CONFIG_BPF_JIT);
	put(6, CONFIG_HZ);
	put(7, host);
	put(8, CONFIG_BPFL_NO_SUCH_OPTION);
	put(9, (__u64)&bpf_prog_get);
	put(10, (__u64)&bpfl_no_such_symbol);
	put(11, bpf_ksym_exists(bpfl_no_such_kfunc));
	if (bpf_ksym_exists(bpfl_no_such_kfunc))
		bpfl_no_such_kfunc();
	if (bpf_ksym_exists(bpf_rcu_read_lock)) {
		bpf_rcu_read_lock();
		put(12, 1);
		bpf_rcu_read_unlock();
	} else {
		put(12, 2);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
