// The C side of RingBuffer and PerfBuffer: bpfl calls these trampolines with
// the context given at creation, a cgo.Handle (an integer, never a Go
// pointer), and they call the Go functions exported by ringbuf.go and
// perfbuf.go.
#include <stdint.h>
#include <bpfl.h>
#include "_cgo_export.h"

static int ringbuf_trampoline(void *ctx, const void *data, size_t size)
{
	return bpflGoRingbufSample((uintptr_t)ctx, (void *)data, size);
}

static int perfbuf_sample_trampoline(void *ctx, int cpu, const void *data, uint32_t size)
{
	return bpflGoPerfbufSample((uintptr_t)ctx, cpu, (void *)data, size);
}

static void perfbuf_lost_trampoline(void *ctx, int cpu, uint64_t lost)
{
	bpflGoPerfbufLost((uintptr_t)ctx, cpu, lost);
}

int bpfl_go_ringbuf_new(bpfl_map map, uintptr_t handle, bpfl_ringbuf *out)
{
	return bpfl_ringbuf_new(map, ringbuf_trampoline, (void *)handle, NULL, out);
}

int bpfl_go_ringbuf_add(bpfl_ringbuf rb, bpfl_map map, uintptr_t handle)
{
	return bpfl_ringbuf_add(rb, map, ringbuf_trampoline, (void *)handle);
}

int bpfl_go_perfbuf_new(bpfl_map map, size_t page_cnt, int with_lost, uintptr_t handle, bpfl_perfbuf *out)
{
	struct bpfl_perfbuf_opts opts = { .sz = sizeof(opts), .page_cnt = page_cnt };

	return bpfl_perfbuf_new(map, perfbuf_sample_trampoline, with_lost ? perfbuf_lost_trampoline : NULL,
				(void *)handle, &opts, out);
}
