/* A hostile object (issue 15): its uprobe section names a character device,
 * which attach must refuse (not read /dev/zero until memory runs out). */
#include <bpfl/bpf_helpers.h>

SEC("uprobe//dev/zero:main")
int on_zero(struct pt_regs *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
