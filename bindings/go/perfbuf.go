package bpfl

/*
#include <stdint.h>
#include <bpfl.h>
int bpfl_go_perfbuf_new(bpfl_map map, size_t page_cnt, int with_lost, uintptr_t handle, bpfl_perfbuf *out);
*/
import "C"

import (
	"runtime/cgo"
	"syscall"
	"time"
	"unsafe"
)

// PerfBuffer consumes a perf event array map (BPF_MAP_TYPE_PERF_EVENT_ARRAY)
// that BPF programs write to with bpf_perf_event_output(ctx, &map,
// BPF_F_CURRENT_CPU, ...): it opens a ring on each online CPU and stores
// them in the map.
//
// The callbacks run in the goroutine that calls Poll or Consume. onSample
// gets the CPU the sample was written on and its bytes, valid only during
// the call (copy what you keep); the kernel pads samples, so data may be up
// to 7 bytes longer than what the program wrote. Samples come in order
// within a CPU, not across CPUs. onSample returning non-zero stops the poll
// as for RingBuffer; a panic goes on in the goroutine that polled.
type PerfBuffer struct {
	h        C.bpfl_perfbuf
	c        consumer
	onSample func(cpu int, data []byte) int
	onLost   func(cpu int, lost uint64)
}

//export bpflGoPerfbufSample
func bpflGoPerfbufSample(ctx C.uintptr_t, cpu C.int, data unsafe.Pointer, size C.uint32_t) C.int {
	pb := cgo.Handle(ctx).Value().(*PerfBuffer)
	b := unsafe.Slice((*byte)(data), int(size))
	return C.int(pb.c.callback(func() int { return pb.onSample(int(cpu), b) }))
}

//export bpflGoPerfbufLost
func bpflGoPerfbufLost(ctx C.uintptr_t, cpu C.int, lost C.uint64_t) {
	pb := cgo.Handle(ctx).Value().(*PerfBuffer)
	pb.c.callback(func() int { pb.onLost(int(cpu), uint64(lost)); return 0 })
}

// NewPerfBuffer consumes perf event array m (its object loaded) with
// pageCount data pages per CPU (a power of two; 0: 8). onLost, called when
// the kernel reports samples dropped because a CPU's ring was full, may be
// nil. A map of another type, or a bad pageCount, gives EINVAL.
func NewPerfBuffer(m *Map, pageCount int, onSample func(cpu int, data []byte) int, onLost func(cpu int, lost uint64)) (*PerfBuffer, error) {
	if onSample == nil {
		return nil, goError("bpfl_perfbuf_new", syscall.EINVAL, "the sample callback is nil")
	}
	if pageCount < 0 {
		return nil, goError("bpfl_perfbuf_new", syscall.EINVAL, "page count %d is negative", pageCount)
	}
	pb := &PerfBuffer{onSample: onSample, onLost: onLost}
	h := cgo.NewHandle(pb)
	withLost := C.int(0)
	if onLost != nil {
		withLost = 1
	}
	if _, err := call("bpfl_perfbuf_new", func() C.int {
		return C.bpfl_go_perfbuf_new(m.h, C.size_t(pageCount), withLost, C.uintptr_t(h), &pb.h)
	}); err != nil {
		h.Delete()
		return nil, err
	}
	pb.c.handles = []cgo.Handle{h}
	return pb, nil
}

// Poll waits up to timeout (negative: for ever, 0: not at all) for samples,
// then reads the rings of the CPUs that have some. It returns the number of
// samples (0 when the time ran out), or the value onSample stopped it with.
// A signal does not end the wait early.
func (pb *PerfBuffer) Poll(timeout time.Duration) (int, error) {
	return pb.c.run("bpfl_perfbuf_poll", true, timeout, func(ms int) (int, error) {
		return call("bpfl_perfbuf_poll", func() C.int { return C.bpfl_perfbuf_poll(pb.h, C.int(ms)) })
	})
}

// Consume reads every CPU's ring now, without waiting, and returns as Poll does.
func (pb *PerfBuffer) Consume() (int, error) {
	return pb.c.run("bpfl_perfbuf_consume", false, 0, func(int) (int, error) {
		return call("bpfl_perfbuf_consume", func() C.int { return C.bpfl_perfbuf_consume(pb.h) })
	})
}

// EpollFD is an epoll file descriptor that becomes readable when a CPU's
// ring has samples (owned by the PerfBuffer, valid until Close).
func (pb *PerfBuffer) EpollFD() (int, error) {
	return call("bpfl_perfbuf_epoll_fd", func() C.int { return C.bpfl_perfbuf_epoll_fd(pb.h) })
}

// Close removes the rings from the map, unmaps and closes them (a poll in
// flight ends first). A second Close returns an error matching ErrClosed.
func (pb *PerfBuffer) Close() error {
	return pb.c.closeWith(func() error {
		_, err := call("bpfl_perfbuf_free", func() C.int { return C.bpfl_perfbuf_free(pb.h) })
		return err
	})
}
