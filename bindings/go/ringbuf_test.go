package bpfl

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// ringbuf.o's markers (bpf/ringbuf.bpf.c).
const (
	markReserved  = 0xfeedf00d00000000
	markOutput    = 0xb0b0000000000000
	markDiscarded = 0xdeaddead00000000
	markPerf      = 0x9e4f000000000000
)

// myPid is read once: os.Getpid is a real getpid(2), which ringbuf.o's
// programs would see once attached.
var myPid = uint32(os.Getpid())

// record is a decoded struct event (16 bytes) or struct event2 (24 bytes).
type record struct {
	size   int
	tgid   uint32
	seq    uint32
	marker uint64
	extra  uint64
}

func u32At(b []byte, off int) uint32 { return *(*uint32)(unsafe.Pointer(&b[off])) }
func u64At(b []byte, off int) uint64 { return *(*uint64)(unsafe.Pointer(&b[off])) }

func decodeEvent(b []byte) record {
	r := record{size: len(b)}
	if len(b) >= 16 {
		r.tgid, r.seq, r.marker = u32At(b, 0), u32At(b, 4), u64At(b, 8)
	}
	if len(b) >= 24 {
		r.extra = u64At(b, 16)
	}
	return r
}

// checkRing checks that recs are, for seq from..from+n-1, the records
// rb_getpid/small_getpid submit: a 16-byte event then a 24-byte event2.
func checkRing(t *testing.T, what string, recs []record, from, n uint32) {
	t.Helper()
	if len(recs) != int(2*n) {
		t.Fatalf("%s: %d records, want %d: %+v", what, len(recs), 2*n, recs)
	}
	tgid := myPid
	for i := uint32(0); i < n; i++ {
		seq := from + i
		a, b := recs[2*i], recs[2*i+1]
		if want := (record{16, tgid, seq, markReserved | uint64(seq), 0}); a != want {
			t.Fatalf("%s: record %d = %+v, want %+v", what, 2*i, a, want)
		}
		if want := (record{24, tgid, seq, markOutput | uint64(seq), ^uint64(seq)}); b != want {
			t.Fatalf("%s: record %d = %+v, want %+v", what, 2*i+1, b, want)
		}
	}
}

func getpidN(n int) {
	for i := 0; i < n; i++ {
		syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
	}
}

func loadRingbufObj(t *testing.T) *Object {
	t.Helper()
	return load(t, "ringbuf.o", nil, func(o *Object) {
		if err := o.SetRodata("target_tgid", myPid); err != nil {
			t.Fatal(err)
		}
	})
}

func attachProg(t *testing.T, obj *Object, name string) *Link {
	t.Helper()
	l, err := mustProg(t, obj, name).Attach()
	if err != nil {
		t.Fatalf("attach %s: %v", name, err)
	}
	return l
}

func wantFailures(t *testing.T, obj *Object, key uint32, want uint64) {
	t.Helper()
	if v, err := Lookup[uint32, uint64](mustMap(t, obj, "failures"), key); err != nil || v != want {
		t.Fatalf("failures[%d] = %d, %v; want %d", key, v, err, want)
	}
}

func TestRingBuffer(t *testing.T) {
	obj := loadRingbufObj(t)
	objClosed := false
	defer func() {
		if !objClosed {
			obj.Close()
		}
	}()
	events := mustMap(t, obj, "events")

	var recs []record
	var onRecord func(r record) int // per phase: what the callback returns
	rb, err := NewRingBuffer(events, func(data []byte) int {
		r := decodeEvent(data)
		recs = append(recs, r)
		if r.marker&0xffffffff00000000 == markDiscarded {
			t.Errorf("a discarded record showed up: %+v", r)
		}
		if onRecord != nil {
			return onRecord(r)
		}
		return 0
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	take := func() []record { r := recs; recs = nil; return r }

	if n, err := rb.Consume(); n != 0 || err != nil {
		t.Fatalf("Consume on an empty ring = %d, %v", n, err)
	}
	link := attachProg(t, obj, "rb_getpid")
	defer link.Close()

	// N getpid calls: exactly 2N records, in order.
	const N = 100
	getpidN(N)
	if n, err := rb.Consume(); n != 2*N || err != nil {
		t.Fatalf("Consume = %d, %v; want %d", n, err, 2*N)
	}
	checkRing(t, "Consume", take(), 0, N)
	seq := uint32(N)

	// Nothing left: Poll waits out its timeout and returns 0.
	start := time.Now()
	if n, err := rb.Poll(60 * time.Millisecond); n != 0 || err != nil {
		t.Fatalf("Poll on an empty ring = %d, %v", n, err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("Poll(60ms) on an empty ring returned after %v", el)
	}

	// Poll wakes up for records produced while it waits (another thread).
	const N2 = 7
	done := make(chan struct{})
	go func() {
		time.Sleep(30 * time.Millisecond)
		getpidN(N2)
		close(done)
	}()
	total := 0
	for deadline := time.Now().Add(5 * time.Second); total < 2*N2 && time.Now().Before(deadline); {
		n, err := rb.Poll(time.Second)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		total += n
	}
	<-done
	if n, err := rb.Consume(); err != nil {
		t.Fatal(err)
	} else {
		total += n
	}
	if total != 2*N2 {
		t.Fatalf("Poll consumed %d records, want %d", total, 2*N2)
	}
	checkRing(t, "Poll", take(), seq, N2)
	seq += N2

	// A callback's non-zero value stops the poll after its record.
	getpidN(3) // 6 records
	onRecord = func(record) int {
		if len(recs) == 2 {
			return 7
		}
		return 0
	}
	if n, err := rb.Consume(); n != 7 || err != nil || len(recs) != 2 {
		t.Fatalf("Consume stopped by 7 = %d, %v after %d records; want 7, nil, 2", n, err, len(recs))
	}
	onRecord = func(record) int {
		if len(recs) == 3 {
			return -5
		}
		return 0
	}
	if n, err := rb.Consume(); n != -5 || err != nil || len(recs) != 3 {
		t.Fatalf("Consume stopped by -5 = %d, %v after %d records; want -5, nil, 3", n, err, len(recs))
	}
	onRecord = nil
	if n, err := rb.Consume(); n != 3 || err != nil {
		t.Fatalf("Consume after the stops = %d, %v; want 3", n, err)
	}
	checkRing(t, "stopped and resumed", take(), seq, 3)
	seq += 3

	// A panic in the callback goes on in the polling goroutine; the ring
	// goes on working.
	getpidN(1)
	onRecord = func(record) int { panic("boom from the callback") }
	func() {
		defer func() {
			if p := recover(); p != "boom from the callback" {
				t.Fatalf("recovered %v, want the callback's panic", p)
			}
		}()
		rb.Consume()
		t.Fatal("Consume did not panic")
	}()
	onRecord = nil
	if n, err := rb.Consume(); n != 1 || err != nil {
		t.Fatalf("Consume after a panic = %d, %v; want 1", n, err)
	}
	checkRing(t, "after a panic", take(), seq, 1)
	seq++

	// Polling again from the callback: EBUSY.
	getpidN(1)
	var nested error
	onRecord = func(record) int {
		if nested == nil {
			_, nested = rb.Poll(0)
		}
		return 0
	}
	if n, err := rb.Consume(); n != 2 || err != nil {
		t.Fatalf("Consume = %d, %v; want 2", n, err)
	}
	wantErrno(t, "Poll from the callback", nested, syscall.EBUSY)
	onRecord = nil
	checkRing(t, "nested poll", take(), seq, 1)
	seq++

	// The epoll fd becomes readable when the ring has records.
	fd, err := rb.EpollFD()
	if err != nil || fd < 0 {
		t.Fatalf("EpollFD() = %d, %v", fd, err)
	}
	evs := make([]syscall.EpollEvent, 4)
	if n, err := syscall.EpollWait(fd, evs, 0); n != 0 || err != nil {
		t.Fatalf("EpollWait on an empty ring = %d, %v", n, err)
	}
	getpidN(2)
	n, err := syscall.EpollWait(fd, evs, 1000)
	for errors.Is(err, syscall.EINTR) {
		n, err = syscall.EpollWait(fd, evs, 1000)
	}
	if n != 1 || err != nil {
		t.Fatalf("EpollWait with records = %d, %v; want 1", n, err)
	}
	if n, err := rb.Consume(); n != 4 || err != nil {
		t.Fatalf("Consume = %d, %v; want 4", n, err)
	}
	checkRing(t, "epoll", take(), seq, 2)
	seq += 2

	// The BPF side never failed, and the sequence counter agrees.
	wantFailures(t, obj, 0, 0)
	if v, err := Lookup[uint32, [3]uint32](mustMap(t, obj, ".bss"), 0); err != nil {
		t.Fatal(err)
	} else if v[0] != seq {
		t.Fatalf(".bss rb_seq = %d, want %d", v[0], seq)
	}

	// The consumer outlives its object; Close twice gives ErrClosed.
	link.Close()
	obj.Close()
	objClosed = true
	if n, err := rb.Consume(); n != 0 || err != nil {
		t.Fatalf("Consume after the object's Close = %d, %v", n, err)
	}
	if err := rb.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err = rb.Close()
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	wantErrno(t, "second Close", err, syscall.EBADF)
	_, err = rb.Poll(0)
	wantErrno(t, "Poll after Close", err, syscall.EBADF)
	_, err = rb.Consume()
	wantErrno(t, "Consume after Close", err, syscall.EBADF)
	wantErrno(t, "Add after Close", rb.Add(events, func([]byte) int { return 0 }), syscall.EBADF)
}

// Two maps, two callbacks, one poll; `small` (4 KiB) is read several times
// over so its positions wrap around.
func TestRingBufferAdd(t *testing.T) {
	obj := loadRingbufObj(t)
	defer obj.Close()
	var big, small []record
	rb, err := NewRingBuffer(mustMap(t, obj, "events"), func(d []byte) int { big = append(big, decodeEvent(d)); return 0 })
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	if err := rb.Add(mustMap(t, obj, "small"), func(d []byte) int { small = append(small, decodeEvent(d)); return 0 }); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "Add of a perf event array", rb.Add(mustMap(t, obj, "perf_events"), func([]byte) int { return 0 }), syscall.EINVAL)
	defer attachProg(t, obj, "rb_getpid").Close()
	defer attachProg(t, obj, "small_getpid").Close()

	// Each getpid takes 80 bytes of `small` (a discarded record included):
	// batches of 20 (1600 bytes) go round the 4 KiB ring ten times.
	const batch, rounds = 20, 26
	for r := uint32(0); r < rounds; r++ {
		getpidN(batch)
		n, err := rb.Poll(time.Second)
		if n != 4*batch || err != nil {
			t.Fatalf("round %d: Poll = %d, %v; want %d", r, n, err, 4*batch)
		}
		checkRing(t, fmt.Sprintf("events, round %d", r), big, r*batch, batch)
		checkRing(t, fmt.Sprintf("small, round %d", r), small, r*batch, batch)
		big, small = nil, nil
	}
	wantFailures(t, obj, 0, 0)
	wantFailures(t, obj, 1, 0)

	// Close from a callback: the poll in flight ends normally (its
	// callbacks stay valid), then the consumer is gone.
	var closeErr error
	var closer *RingBuffer
	closer, err = NewRingBuffer(mustMap(t, obj, "events"), func(d []byte) int {
		big = append(big, decodeEvent(d))
		if len(big) == 1 {
			closeErr = closer.Close()
		}
		return 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := closer.Add(mustMap(t, obj, "small"), func(d []byte) int { small = append(small, decodeEvent(d)); return 0 }); err != nil {
		t.Fatal(err)
	}
	if err := rb.Close(); err != nil {
		t.Fatal(err)
	}
	rb = closer
	getpidN(2)
	if n, err := rb.Consume(); n != 8 || err != nil || closeErr != nil {
		t.Fatalf("Consume that closes its buffer = %d, %v (Close: %v); want 8", n, err, closeErr)
	}
	checkRing(t, "events, closed in the callback", big, rounds*batch, 2)
	checkRing(t, "small, closed in the callback", small, rounds*batch, 2)
	if _, err := rb.Consume(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Consume after Close in a callback: %v, want ErrClosed", err)
	}
}

func TestBufferWrongMapType(t *testing.T) {
	obj := loadRingbufObj(t)
	defer obj.Close()
	nop := func([]byte) int { return 0 }
	nopSample := func(int, []byte) int { return 0 }
	_, err := NewRingBuffer(mustMap(t, obj, "perf_events"), nop)
	wantErrno(t, "NewRingBuffer(perf event array)", err, syscall.EINVAL)
	_, err = NewRingBuffer(mustMap(t, obj, "failures"), nop)
	wantErrno(t, "NewRingBuffer(array)", err, syscall.EINVAL)
	_, err = NewPerfBuffer(mustMap(t, obj, "events"), 8, nopSample, nil)
	wantErrno(t, "NewPerfBuffer(ring buffer)", err, syscall.EINVAL)
	_, err = NewPerfBuffer(mustMap(t, obj, "perf_events"), 3, nopSample, nil)
	wantErrno(t, "NewPerfBuffer(3 pages)", err, syscall.EINVAL)
	_, err = NewRingBuffer(mustMap(t, obj, "events"), nil)
	wantErrno(t, "NewRingBuffer(nil callback)", err, syscall.EINVAL)
}

// setAffinity pins the calling thread to cpu (or to *mask, when cpu < 0;
// nothing changes when mask is nil too) and returns the previous mask.
func setAffinity(t *testing.T, cpu int, mask *[16]uint64) [16]uint64 {
	t.Helper()
	var old [16]uint64
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(old), uintptr(unsafe.Pointer(&old))); e != 0 {
		t.Fatalf("sched_getaffinity: %v", e)
	}
	var m [16]uint64
	switch {
	case cpu >= 0:
		m[cpu/64] = 1 << (cpu % 64)
	case mask != nil:
		m = *mask
	default:
		return old
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m))); e != 0 {
		t.Fatalf("sched_setaffinity(cpu %d): %v", cpu, e)
	}
	return old
}

// allowedCPUs returns up to max CPUs this thread may run on.
func allowedCPUs(t *testing.T, max int) []int {
	t.Helper()
	mask := setAffinity(t, -1, nil)
	var cpus []int
	for i := 0; i < len(mask)*64 && len(cpus) < max; i++ {
		if mask[i/64]&(1<<(i%64)) != 0 {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) == 0 {
		t.Fatal("no CPU in the affinity mask")
	}
	return cpus
}

type sample struct {
	cpu int
	rec record
}

func TestPerfBuffer(t *testing.T) {
	obj := loadRingbufObj(t)
	defer obj.Close()
	var samples []sample
	var lost uint64
	var stopAt int
	pb, err := NewPerfBuffer(mustMap(t, obj, "perf_events"), 8, func(cpu int, data []byte) int {
		samples = append(samples, sample{cpu, decodeEvent(data)})
		if stopAt != 0 && len(samples) == stopAt {
			return -3
		}
		return 0
	}, func(cpu int, n uint64) { lost += n })
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	if n, err := pb.Poll(10 * time.Millisecond); n != 0 || err != nil {
		t.Fatalf("Poll with no samples = %d, %v", n, err)
	}
	link := attachProg(t, obj, "perf_getpid")
	defer link.Close()

	// N getpid calls on each of two CPUs (when there are two): each sample
	// comes from the CPU it was written on.
	const N = 150
	runtime.LockOSThread()
	cpus := allowedCPUs(t, 2)
	saved := setAffinity(t, cpus[0], nil)
	for _, cpu := range cpus {
		setAffinity(t, cpu, nil)
		getpidN(N)
	}
	setAffinity(t, -1, &saved)
	runtime.UnlockOSThread()

	total := N * len(cpus)
	for deadline := time.Now().Add(5 * time.Second); len(samples) < total && time.Now().Before(deadline); {
		if _, err := pb.Poll(time.Second); err != nil {
			t.Fatalf("Poll: %v", err)
		}
	}
	if n, err := pb.Consume(); n != 0 || err != nil {
		t.Fatalf("Consume after all samples = %d, %v", n, err)
	}
	if len(samples) != total || lost != 0 {
		t.Fatalf("%d samples, %d lost; want %d, 0", len(samples), lost, total)
	}
	tgid := myPid
	seen := make([]bool, total)
	lastOnCPU := map[int]int{}
	for _, s := range samples {
		r := s.rec
		if r.size != 20 || r.tgid != tgid || r.marker != markPerf|uint64(r.seq) || int(r.seq) >= total {
			t.Fatalf("sample %+v: want 20 bytes, tgid %d, marker %#x|seq, seq < %d", s, tgid, uint64(markPerf), total)
		}
		if seen[r.seq] {
			t.Fatalf("seq %d twice", r.seq)
		}
		seen[r.seq] = true
		if want := cpus[int(r.seq)/N]; s.cpu != want {
			t.Fatalf("sample seq %d on cpu %d, want cpu %d", r.seq, s.cpu, want)
		}
		if last, ok := lastOnCPU[s.cpu]; ok && int(r.seq) <= last {
			t.Fatalf("cpu %d: seq %d after %d", s.cpu, r.seq, last)
		}
		lastOnCPU[s.cpu] = int(r.seq)
	}
	wantFailures(t, obj, 2, 0)

	// onSample's non-zero value stops the poll.
	samples = nil
	getpidN(5)
	stopAt = 2
	if n, err := pb.Consume(); n != -3 || err != nil || len(samples) != 2 {
		t.Fatalf("Consume stopped by -3 = %d, %v after %d samples; want -3, nil, 2", n, err, len(samples))
	}
	stopAt = 0
	if n, err := pb.Consume(); n != 3 || err != nil {
		t.Fatalf("Consume after the stop = %d, %v; want 3", n, err)
	}
	var seqs []int
	for _, s := range samples {
		seqs = append(seqs, int(s.rec.seq))
	}
	sort.Ints(seqs)
	if fmt.Sprint(seqs) != fmt.Sprint([]int{total, total + 1, total + 2, total + 3, total + 4}) {
		t.Fatalf("seqs after the stop %v, want %d..%d", seqs, total, total+4)
	}

	if fd, err := pb.EpollFD(); err != nil || fd < 0 {
		t.Fatalf("EpollFD() = %d, %v", fd, err)
	}
	link.Close()
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	err = pb.Close()
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	_, err = pb.Poll(0)
	wantErrno(t, "Poll after Close", err, syscall.EBADF)
}

// One data page per CPU, never read while the program writes: the kernel
// drops what does not fit and reports it; received + lost is exact.
func TestPerfBufferLost(t *testing.T) {
	obj := loadRingbufObj(t)
	defer obj.Close()
	var mu sync.Mutex
	got := map[uint32]bool{}
	lostByCPU := map[int]uint64{}
	pb, err := NewPerfBuffer(mustMap(t, obj, "perf_events"), 1, func(cpu int, data []byte) int {
		r := decodeEvent(data)
		if r.marker != markPerf|uint64(r.seq) || got[r.seq] {
			t.Errorf("bad or repeated sample %+v", r)
		}
		got[r.seq] = true
		return 0
	}, func(cpu int, n uint64) {
		mu.Lock()
		lostByCPU[cpu] += n
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	link := attachProg(t, obj, "perf_getpid")
	defer link.Close()
	// All on one CPU, so that one ring overflows and the next sample, once
	// it has been read, carries the loss report.
	runtime.LockOSThread()
	cpu := allowedCPUs(t, 1)[0]
	saved := setAffinity(t, cpu, nil)
	const N = 1000 // 32 bytes a sample: about 128 fit in 4 KiB
	getpidN(N)
	if n, err := pb.Consume(); err != nil || n == 0 || n >= N {
		t.Fatalf("Consume of a full ring = %d, %v", n, err)
	}
	getpidN(1) // room again: the kernel writes the loss record, then this sample
	setAffinity(t, -1, &saved)
	runtime.UnlockOSThread()
	if _, err := pb.Consume(); err != nil {
		t.Fatal(err)
	}
	const total = N + 1
	var lost uint64
	for _, n := range lostByCPU {
		lost += n
	}
	if lost == 0 || uint64(len(got))+lost != total || len(lostByCPU) != 1 || lostByCPU[cpu] != lost {
		t.Fatalf("%d received + %d lost (by cpu %v), want %d with some lost on cpu %d", len(got), lost, lostByCPU, total, cpu)
	}
	// What fitted is the first samples; the last one came after the loss.
	for s := uint32(0); s < uint32(len(got))-1; s++ {
		if !got[s] {
			t.Fatalf("seq %d missing; received %d", s, len(got))
		}
	}
	if !got[N] {
		t.Fatalf("the sample written after the loss (seq %d) is missing", N)
	}
	wantFailures(t, obj, 2, lost)
	t.Logf("%d samples received, %d lost (%v)", len(got), lost, lostByCPU)
}
