//go:build cgo

package bpfl

import (
	"errors"
	"math"
	"runtime/cgo"
	"sync"
	"syscall"
	"time"
)

// consumer is what RingBuffer and PerfBuffer share: the cgo handles their C
// callbacks carry, and the state of the poll in flight.
//
// bpfl lets a consumer be freed while a poll runs (even from its callback);
// the poll then goes on to its end. So the handles are deleted by whichever
// comes last: Close, or the end of the poll in flight.
type consumer struct {
	mu      sync.Mutex
	handles []cgo.Handle
	polling bool
	closed  bool

	// Set by the callbacks of the poll in flight (only its goroutine runs them).
	stopped  bool
	stopVal  int
	panicked bool
	panicVal any
}

// run makes one poll (wait) or consume (!wait) with f, which calls bpfl
// with a timeout in milliseconds. A second poll at the same time (from
// another goroutine, or from a callback) gets EBUSY, as bpfl would give it.
func (c *consumer) run(op string, wait bool, timeout time.Duration, f func(ms int) (int, error)) (int, error) {
	c.mu.Lock()
	if c.polling {
		c.mu.Unlock()
		return 0, goError(op, syscall.EBUSY, "this buffer is being polled already (by another goroutine, or from its own callback)")
	}
	c.polling = true
	c.stopped, c.stopVal, c.panicked, c.panicVal = false, 0, false, nil
	c.mu.Unlock()
	defer c.end()
	if !wait {
		return c.result(f(0))
	}
	return pollLoop(timeout, func(ms int) (int, error) { return c.result(f(ms)) })
}

// end closes the poll begun by run; a panic of the callback goes on in the
// polling goroutine.
func (c *consumer) end() {
	c.mu.Lock()
	c.polling = false
	panicked, panicVal := c.panicked, c.panicVal
	c.panicked, c.panicVal = false, nil
	if c.closed {
		c.deleteHandles()
	}
	c.mu.Unlock()
	if panicked {
		panic(panicVal)
	}
}

// result turns bpfl's result into Go's: a callback's negative stop value is
// a result, not an errno.
func (c *consumer) result(n int, err error) (int, error) {
	var e *Error
	if c.stopped && c.stopVal < 0 && errors.As(err, &e) && int(e.Errno) == -c.stopVal {
		return c.stopVal, nil
	}
	return n, err
}

// callback runs fn, the user's callback, for the C trampolines: a non-zero
// result is remembered (it stops the poll), and so is a panic, which must
// not unwind through bpfl's frames.
func (c *consumer) callback(fn func() int) (rv int) {
	defer func() {
		if p := recover(); p != nil {
			c.panicked, c.panicVal = true, p
			rv = -int(syscall.ECANCELED)
		}
	}()
	rv = fn()
	if rv != 0 {
		c.stopped, c.stopVal = true, rv
	}
	return rv
}

// closeWith frees the consumer with free (a bpfl_*_free call); the handles
// go now, or at the end of the poll in flight.
func (c *consumer) closeWith(free func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := free(); err != nil {
		return err
	}
	c.closed = true
	if !c.polling {
		c.deleteHandles()
	}
	return nil
}

func (c *consumer) deleteHandles() {
	for _, h := range c.handles {
		h.Delete()
	}
	c.handles = nil
}

// pollLoop calls poll(ms) with timeout in milliseconds (negative: forever),
// again with what is left of it when a signal interrupts the wait (the Go
// runtime sends itself signals).
func pollLoop(timeout time.Duration, poll func(ms int) (int, error)) (int, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		ms := -1
		switch {
		case timeout == 0:
			ms = 0
		case timeout > 0:
			left := time.Until(deadline)
			if left < 0 {
				left = 0
			}
			ms = int((left + time.Millisecond - 1) / time.Millisecond)
			if ms > math.MaxInt32 {
				ms = math.MaxInt32
			}
		}
		n, err := poll(ms)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		return n, err
	}
}
