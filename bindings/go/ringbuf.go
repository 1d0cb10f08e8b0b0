package bpfl

/*
#include <stdint.h>
#include <bpfl.h>
int bpfl_go_ringbuf_new(bpfl_map map, uintptr_t handle, bpfl_ringbuf *out);
int bpfl_go_ringbuf_add(bpfl_ringbuf rb, bpfl_map map, uintptr_t handle);
*/
import "C"

import (
	"runtime/cgo"
	"syscall"
	"time"
	"unsafe"
)

// RingBuffer consumes BPF ring buffer maps (BPF_MAP_TYPE_RINGBUF): Poll and
// Consume call each map's callback with each record, in the order the BPF
// programs submitted them. Records a program discarded never show up.
//
// The callbacks run in the goroutine that calls Poll or Consume, one at a
// time. The data slice a callback gets points into the kernel's ring: it is
// valid only during the call (copy what you keep). A callback returning
// non-zero stops the poll after its record, and Poll/Consume return that
// value with a nil error (use a negative one to tell it from a count). A
// callback that panics stops the poll, and the panic goes on in the
// goroutine that polled.
//
// A RingBuffer is independent of the map's Object: Close it before or after
// closing the object.
type RingBuffer struct {
	h C.bpfl_ringbuf
	c consumer
}

type ringbufCallback struct {
	c  *consumer
	fn func(data []byte) int
}

//export bpflGoRingbufSample
func bpflGoRingbufSample(ctx C.uintptr_t, data unsafe.Pointer, size C.size_t) C.int {
	cb := cgo.Handle(ctx).Value().(*ringbufCallback)
	b := unsafe.Slice((*byte)(data), int(size))
	return C.int(cb.c.callback(func() int { return cb.fn(b) }))
}

// NewRingBuffer consumes ring buffer map m (its object loaded), calling fn
// for each record. A map of another type gives EINVAL.
func NewRingBuffer(m *Map, fn func(data []byte) int) (*RingBuffer, error) {
	if fn == nil {
		return nil, goError("bpfl_ringbuf_new", syscall.EINVAL, "the callback is nil")
	}
	rb := &RingBuffer{}
	h := cgo.NewHandle(&ringbufCallback{c: &rb.c, fn: fn})
	if _, err := call("bpfl_ringbuf_new", func() C.int { return C.bpfl_go_ringbuf_new(m.h, C.uintptr_t(h), &rb.h) }); err != nil {
		h.Delete()
		return nil, err
	}
	rb.c.handles = []cgo.Handle{h}
	return rb, nil
}

// Add consumes ring buffer map m too, calling fn for its records: one Poll
// then serves several maps. Not while a poll is in flight (EBUSY).
func (rb *RingBuffer) Add(m *Map, fn func(data []byte) int) error {
	if fn == nil {
		return goError("bpfl_ringbuf_add", syscall.EINVAL, "the callback is nil")
	}
	rb.c.mu.Lock()
	defer rb.c.mu.Unlock()
	if rb.c.closed {
		return goError("bpfl_ringbuf_add", syscall.EBADF, "the ring buffer is closed")
	}
	h := cgo.NewHandle(&ringbufCallback{c: &rb.c, fn: fn})
	if _, err := call("bpfl_ringbuf_add", func() C.int { return C.bpfl_go_ringbuf_add(rb.h, m.h, C.uintptr_t(h)) }); err != nil {
		h.Delete()
		return err
	}
	rb.c.handles = append(rb.c.handles, h)
	return nil
}

// Poll waits up to timeout (negative: for ever, 0: not at all) for records,
// then calls the callbacks for every record of the rings that have some.
// It returns the number of records consumed (0 when the time ran out), or
// the value a callback stopped it with. A signal does not end the wait
// early: Poll waits again for the rest of the timeout.
func (rb *RingBuffer) Poll(timeout time.Duration) (int, error) {
	return rb.c.run("bpfl_ringbuf_poll", true, timeout, func(ms int) (int, error) {
		return call("bpfl_ringbuf_poll", func() C.int { return C.bpfl_ringbuf_poll(rb.h, C.int(ms)) })
	})
}

// Consume calls the callbacks for every record now in the rings, without
// waiting, and returns as Poll does.
func (rb *RingBuffer) Consume() (int, error) {
	return rb.c.run("bpfl_ringbuf_consume", false, 0, func(int) (int, error) {
		return call("bpfl_ringbuf_consume", func() C.int { return C.bpfl_ringbuf_consume(rb.h) })
	})
}

// EpollFD is an epoll file descriptor that becomes readable when a ring has
// records, for an event loop of your own (then call Consume). It is owned
// by the RingBuffer and valid until Close.
func (rb *RingBuffer) EpollFD() (int, error) {
	return call("bpfl_ringbuf_epoll_fd", func() C.int { return C.bpfl_ringbuf_epoll_fd(rb.h) })
}

// Close unmaps the rings and closes their file descriptors (a poll in
// flight ends first). A second Close returns an error matching ErrClosed.
func (rb *RingBuffer) Close() error {
	return rb.c.closeWith(func() error {
		_, err := call("bpfl_ringbuf_free", func() C.int { return C.bpfl_ringbuf_free(rb.h) })
		return err
	})
}
