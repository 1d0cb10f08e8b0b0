/* Replaces compute() of freplace_target.bpf.c (set_attach_target(prog_fd, "compute")). */
#include <bpfl/bpf_helpers.h>

SEC("freplace/compute")
int new_compute(int x)
{
	return x + 1000;
}

char _license[] SEC("license") = "GPL";
