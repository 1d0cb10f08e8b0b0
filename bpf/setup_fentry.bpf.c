/* A placeholder fentry target retargeted before load with
 * set_attach_target, as fsdist/fsslower do (fentry/dummy_file_read). */
#include <bpfl/bpf_helpers.h>

const volatile __u32 target_tgid = 0;
__u64 calls = 0;

SEC("fentry/dummy_bpfl_placeholder")
int retargeted(void *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 == target_tgid)
		__sync_fetch_and_add(&calls, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
