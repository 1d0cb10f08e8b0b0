/* Sizes and offsets of struct bpfl_map_batch_opts, for test_batch's ABI check. */
#include <bpfl.h>
#include <stddef.h>

long bpfl_nim_batch_layout(int i)
{
	long r[] = { sizeof(struct bpfl_map_batch_opts), offsetof(struct bpfl_map_batch_opts, elem_flags),
		     offsetof(struct bpfl_map_batch_opts, flags) };
	return r[i];
}
