/* Sizes and offsets of bpfl.h's structs, for test_bpfl's ABI check. */
#include <bpfl.h>
#include <stddef.h>

void bpfl_nim_test_layout(long *r)
{
	r[0] = sizeof(struct bpfl_open_opts);
	r[1] = sizeof(struct bpfl_load_opts);
	r[2] = sizeof(struct bpfl_program_info);
	r[3] = sizeof(struct bpfl_kprobe_opts);
	r[4] = offsetof(struct bpfl_kprobe_opts, mode);
	r[5] = sizeof(struct bpfl_map_info);
	r[6] = offsetof(struct bpfl_map_info, fd);
	r[7] = offsetof(struct bpfl_program_info, insn_cnt);
	r[8] = sizeof(struct bpfl_uprobe_opts);
	r[9] = offsetof(struct bpfl_uprobe_opts, pid);
	r[10] = sizeof(struct bpfl_ringbuf_opts);
	r[11] = sizeof(struct bpfl_perfbuf_opts);
	r[12] = offsetof(struct bpfl_perfbuf_opts, page_cnt);
	r[13] = sizeof(struct bpfl_usdt_opts);
	r[14] = sizeof(struct bpfl_uprobe_multi_opts);
	r[15] = offsetof(struct bpfl_uprobe_multi_opts, retprobe);
	r[16] = sizeof(struct bpfl_kprobe_multi_opts);
	r[17] = offsetof(struct bpfl_kprobe_multi_opts, session);
	r[18] = sizeof(struct bpfl_ksyscall_opts);
	r[19] = offsetof(struct bpfl_ksyscall_opts, mode);
	r[20] = sizeof(struct bpfl_tracepoint_opts);
	r[21] = offsetof(struct bpfl_uprobe_opts, cookie);
}

/* The networking and test-run structs. */
void bpfl_nim_test_layout_net(long *r)
{
	r[0] = sizeof(struct bpfl_test_run_opts);
	r[1] = offsetof(struct bpfl_test_run_opts, batch_size);
	r[2] = sizeof(struct bpfl_test_run_result);
	r[3] = offsetof(struct bpfl_test_run_result, ctx_size_out);
	r[4] = sizeof(struct bpfl_xdp_opts);
	r[5] = offsetof(struct bpfl_xdp_opts, netlink);
	r[6] = sizeof(struct bpfl_xdp_info);
	r[7] = sizeof(struct bpfl_tcx_opts);
	r[8] = offsetof(struct bpfl_tcx_opts, expected_revision);
	r[9] = sizeof(struct bpfl_tc_opts);
	r[10] = offsetof(struct bpfl_tc_opts, handle);
}

/* bpfl_netkit_opts: size and the offset of its last field. */
void bpfl_nim_test_layout_netkit(long *r)
{
	r[0] = sizeof(struct bpfl_netkit_opts);
	r[1] = offsetof(struct bpfl_netkit_opts, expected_revision);
}
