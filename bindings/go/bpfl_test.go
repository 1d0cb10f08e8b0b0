package bpfl

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// pidKey mirrors seed_common.h's struct pid_key.
type pidKey struct {
	Tgid uint32
	Kind uint32 // 0 enter, 1 exit
}

func TestVersion(t *testing.T) {
	if v := Version(); !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("Version() = %q", v)
	}
}

func TestOpenListsProgramsAndMaps(t *testing.T) {
	obj, err := Open(objPath(t, "seed_tp.o"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if name, err := obj.Name(); err != nil || name != "seed_tp" {
		t.Fatalf("Name() = %q, %v", name, err)
	}
	progs, err := obj.Programs()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range progs {
		info, err := p.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.FD != -1 {
			t.Errorf("%s: fd %d before load", info.Name, info.FD)
		}
		got = append(got, info.Name+"@"+info.Section)
	}
	sort.Strings(got)
	want := "enter_getppid@tracepoint/syscalls/sys_enter_getppid exit_getppid@tracepoint/syscalls/sys_exit_getppid"
	if strings.Join(got, " ") != want {
		t.Fatalf("programs %v, want %s", got, want)
	}
	maps, err := obj.Maps()
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string][3]uint32{}
	for _, m := range maps {
		info, err := m.Info()
		if err != nil {
			t.Fatal(err)
		}
		sizes[info.Name] = [3]uint32{info.KeySize, info.ValueSize, info.MaxEntries}
	}
	wantSizes := map[string][3]uint32{"calls": {4, 8, 2}, "per_pid": {4, 8, 1024}, "per_pid16": {4, 2, 1024}, "by_key": {8, 8, 1024}}
	for name, w := range wantSizes {
		if sizes[name] != w {
			t.Errorf("map %s: key/value/max %v, want %v", name, sizes[name], w)
		}
	}
	if _, err := obj.Map("no_such_map"); !errors.Is(err, syscall.ENOENT) || !errors.Is(err, ErrKeyNotExist) {
		t.Fatalf("Map(no_such_map): %v, want ENOENT", err)
	}
	if _, err := obj.Program("no_such_prog"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Program(no_such_prog): %v, want ENOENT", err)
	}

	// The same object from memory.
	b, err := os.ReadFile(objPath(t, "seed_tp.o"))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := OpenBytes(b, &OpenOptions{Name: "from_mem"})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if name, _ := mem.Name(); name != "from_mem" {
		t.Fatalf("OpenBytes name %q", name)
	}
	if ps, _ := mem.Programs(); len(ps) != 2 {
		t.Fatalf("OpenBytes: %d programs", len(ps))
	}
}

// seed_tp.o (clang) and seed_tp.llc.o (clang | llc): attach, call getppid N
// times, read the exact counts back with every kind of read.
func TestSeedTracepoints(t *testing.T) {
	for _, file := range []string{"seed_tp.o", "seed_tp.llc.o"} {
		t.Run(file, func(t *testing.T) { testSeed(t, file, file == "seed_tp.o") })
	}
}

func testSeed(t *testing.T, file string, attachAll bool) {
	obj := load(t, file, nil, nil)
	closed := false
	defer func() {
		if !closed {
			obj.Close()
		}
	}()

	var links []*Link
	if attachAll {
		n, err := obj.AttachAll()
		if err != nil || n != 2 {
			t.Fatalf("AttachAll() = %d, %v; want 2", n, err)
		}
	} else {
		l1, err := mustProg(t, obj, "enter_getppid").AttachTracepoint("syscalls", "sys_enter_getppid")
		if err != nil {
			t.Fatal(err)
		}
		l2, err := mustProg(t, obj, "exit_getppid").Attach() // from its section
		if err != nil {
			t.Fatal(err)
		}
		links = []*Link{l1, l2}
		if fd, err := l1.FD(); err != nil || fd < 0 {
			t.Fatalf("Link.FD() = %d, %v", fd, err)
		}
	}
	for _, p := range []string{"enter_getppid", "exit_getppid"} {
		info, err := mustProg(t, obj, p).Info()
		if err != nil || info.FD < 0 || info.Instructions == 0 || info.Type != 5 /* BPF_PROG_TYPE_TRACEPOINT */ {
			t.Fatalf("%s: info %+v, %v", p, info, err)
		}
	}

	const N = 137
	pid := uint32(os.Getpid())
	getppidN(N)

	calls, perPid, perPid16, byKey := mustMap(t, obj, "calls"), mustMap(t, obj, "per_pid"), mustMap(t, obj, "per_pid16"), mustMap(t, obj, "by_key")
	if v, err := Lookup[uint32, uint64](perPid, pid); err != nil || v != N {
		t.Fatalf("per_pid[%d] = %d, %v; want %d", pid, v, err, N)
	}
	if v, err := Lookup[uint32, uint16](perPid16, pid); err != nil || v != N {
		t.Fatalf("per_pid16[%d] = %d, %v; want %d", pid, v, err, N)
	}
	for kind := uint32(0); kind < 2; kind++ {
		if v, err := Lookup[pidKey, uint64](byKey, pidKey{pid, kind}); err != nil || v != N {
			t.Fatalf("by_key{%d,%d} = %d, %v; want %d", pid, kind, v, err, N)
		}
		// calls counts every process: at least ours.
		if v, err := Lookup[uint32, uint64](calls, kind); err != nil || v < N {
			t.Fatalf("calls[%d] = %d, %v; want >= %d", kind, v, err, N)
		}
	}
	// Raw bytes: little-endian u64.
	if b, err := Lookup[[]byte, []byte](perPid, view(&pid)); err != nil || len(b) != 8 || b[0] != N || b[1] != 0 {
		t.Fatalf("per_pid[pid] as bytes = %v, %v", b, err)
	}

	// ReadAll, Keys and Iterate see the same entry.
	all, err := ReadAll[uint32, uint64](perPid)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range all {
		if e.Key == pid {
			found++
			if e.Value != N {
				t.Fatalf("ReadAll: per_pid[%d] = %d, want %d", pid, e.Value, N)
			}
		}
	}
	if found != 1 {
		t.Fatalf("ReadAll: our pid %d appears %d times in %d entries", pid, found, len(all))
	}
	keys, err := Keys[uint32](perPid)
	if err != nil {
		t.Fatal(err)
	}
	if !containsKey(keys, pid) {
		t.Fatalf("Keys: %d missing from %v", pid, keys)
	}
	seen := map[uint32]uint64{}
	if err := Iterate(byKey, func(k pidKey, v uint64) bool {
		if k.Tgid == pid {
			seen[k.Kind] = v
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if seen[0] != N || seen[1] != N || len(seen) != 2 {
		t.Fatalf("Iterate by_key for our pid: %v, want {0:%d 1:%d}", seen, N, N)
	}
	stops := 0
	if err := Iterate(byKey, func(pidKey, uint64) bool { stops++; return false }); err != nil || stops != 1 {
		t.Fatalf("Iterate did not stop when told: %d calls, %v", stops, err)
	}
	arr, err := ReadAll[uint32, uint64](calls)
	if err != nil || len(arr) != 2 || arr[0].Key != 0 || arr[1].Key != 1 || arr[0].Value < N {
		t.Fatalf("ReadAll(calls) = %+v, %v", arr, err)
	}

	// Missing keys and wrong sizes.
	_, err = Lookup[uint32, uint64](perPid, 0xfffffff0)
	wantErrno(t, "Lookup of a missing key", err, syscall.ENOENT)
	if !errors.Is(err, ErrKeyNotExist) {
		t.Fatalf("missing key: %v does not match ErrKeyNotExist", err)
	}
	e := wantErrno(t, "Lookup with a u64 key", func() error { _, err := Lookup[uint64, uint64](perPid, uint64(pid)); return err }(), syscall.EINVAL)
	t.Logf("wrong key size: %v", e)
	wantErrno(t, "Lookup with a u32 value", func() error { _, err := Lookup[uint32, uint32](perPid, pid); return err }(), syscall.EINVAL)
	wantErrno(t, "Update with a u16 key", Update[uint16, uint64](perPid, 1, 1, UpdateAny), syscall.EINVAL)
	if _, err := Lookup[uint32, string](perPid, pid); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Lookup into a string: %v, want EINVAL", err)
	}

	// Errors from many goroutines at once: each gets its own message
	// (bpfl_last_error() is per thread, read on the thread that failed).
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for n := 1; n <= 8; n++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			want := "key is " + itoa(n) + " bytes"
			for i := 0; i < 300; i++ {
				_, err := perPid.LookupBytes(make([]byte, n))
				var e *Error
				if n == 4 {
					if err != nil && !errors.Is(err, ErrKeyNotExist) {
						errs <- err
						return
					}
				} else if !errors.As(err, &e) || e.Errno != syscall.EINVAL || !strings.Contains(e.Msg, want) {
					errs <- fmt.Errorf("goroutine with %d-byte keys got %v", n, err)
					return
				}
				runtime.Gosched()
			}
		}(n)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Update / Delete with flags.
	const k = 0xfffffff1
	if err := Update[uint32, uint64](perPid, k, 7, UpdateExist); !errors.Is(err, ErrKeyNotExist) {
		t.Fatalf("Update(EXIST) of a missing key: %v", err)
	}
	if err := Update[uint32, uint64](perPid, k, 7, UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	if err := Update[uint32, uint64](perPid, k, 8, UpdateNoExist); !errors.Is(err, ErrKeyExist) || !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("Update(NOEXIST) of a present key: %v", err)
	}
	if v, err := Lookup[uint32, uint64](perPid, k); err != nil || v != 7 {
		t.Fatalf("after Update: %d, %v", v, err)
	}
	if err := Delete[uint32](perPid, k); err != nil {
		t.Fatal(err)
	}
	if err := Delete[uint32](perPid, k); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("second Delete: %v", err)
	}

	// Detach: the counts stop moving.
	if !attachAll {
		for _, l := range links {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
		wantErrno(t, "second Link.Close", links[0].Close(), syscall.EBADF)
		getppidN(10)
		if v, err := Lookup[uint32, uint64](perPid, pid); err != nil || v != N {
			t.Fatalf("after detaching: per_pid = %d, %v; want still %d", v, err, N)
		}
	}

	// Clear empties a hash map.
	if err := perPid.Clear(); err != nil {
		t.Fatal(err)
	}
	if !attachAll {
		if all, err := ReadAll[uint32, uint64](perPid); err != nil || len(all) != 0 {
			t.Fatalf("after Clear: %v, %v", all, err)
		}
	}

	// Use after Close.
	if err := obj.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	wantErrno(t, "Lookup after Close", func() error { _, err := Lookup[uint32, uint64](perPid16, pid); return err }(), syscall.EBADF)
	if _, err := ReadAll[uint32, uint64](perPid); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadAll after Close: %v, want ErrClosed", err)
	}
	wantErrno(t, "Load after Close", obj.Load(nil), syscall.EBADF)
	wantErrno(t, "AttachAll after Close", func() error { _, err := obj.AttachAll(); return err }(), syscall.EBADF)
	if _, err := obj.Program("enter_getppid"); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Program after Close: %v", err)
	}
	e = wantErrno(t, "second Close", obj.Close(), syscall.EBADF)
	if !errors.Is(e, ErrClosed) {
		t.Fatalf("second Close: %v does not match ErrClosed", e)
	}
}

func containsKey(keys []uint32, k uint32) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// modern.o: BTF maps, .rodata set before load, .data/.bss, per-CPU array,
// pinning by name under our own pin root, three attach kinds.
func TestModern(t *testing.T) {
	needKernel(t)
	pid := uint32(os.Getpid())
	root := "/sys/fs/bpf/bpfl-go-test-" + itoa(int(pid))
	if err := os.Mkdir(root, 0o700); err != nil {
		skipLoudly(t, "no bpffs at /sys/fs/bpf ("+err.Error()+"): run `make mounts`")
	}
	defer os.RemoveAll(root)

	obj := load(t, "modern.o", &OpenOptions{PinRoot: root}, func(o *Object) {
		wantErrno(t, "SetRodata with the wrong size", o.SetRodata("target_tgid", uint64(pid)), syscall.EINVAL)
		if err := o.SetRodata("no_such_var", pid); err == nil {
			t.Fatal("SetRodata of a missing variable succeeded")
		}
		if err := o.SetRodata("target_tgid", pid); err != nil {
			t.Fatal(err)
		}
	})
	defer obj.Close()

	onGetpid, onGettid, onSysEnter := mustProg(t, obj, "on_getpid"), mustProg(t, obj, "on_gettid"), mustProg(t, obj, "on_sys_enter")
	for _, a := range []struct {
		name string
		f    func() (*Link, error)
	}{
		{"Attach (tp/syscalls/sys_enter_getpid)", onGetpid.Attach},
		{"AttachTracepoint", func() (*Link, error) { return onGettid.AttachTracepoint("syscalls", "sys_enter_gettid") }},
		{"AttachRawTracepoint", func() (*Link, error) { return onSysEnter.AttachRawTracepoint("sys_enter") }},
	} {
		l, err := a.f()
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		defer l.Close()
	}

	byKind, percpu, bss, data, rodata := mustMap(t, obj, "by_kind"), mustMap(t, obj, "percpu"), mustMap(t, obj, ".bss"), mustMap(t, obj, ".data"), mustMap(t, obj, ".rodata")
	if v, err := Lookup[uint32, [4]byte](rodata, 0); err != nil || *(*uint32)(ptrOf(&v)) != pid {
		t.Fatalf(".rodata = %v, %v; want target_tgid %d", v, err, pid)
	}

	// Count: getpid N1 times, gettid N2 times. The runtime creates threads
	// (each calls gettid once) at its own pace, so gettid is measured as a
	// difference over a window with no allocation; getpid is never called by
	// the runtime with async preemption off, so it is exact from zero.
	const N1, N2 = 41, 23
	runtime.GC()
	before, err := Lookup[uint32, uint64](byKind, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < N1; i++ {
		syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
	}
	for i := 0; i < N2; i++ {
		syscall.Syscall(syscall.SYS_GETTID, 0, 0, 0)
	}
	var k [4]uint64
	for i := range k {
		if k[i], err = Lookup[uint32, uint64](byKind, uint32(i)); err != nil {
			t.Fatal(err)
		}
	}
	if k[0] != N1 || k[1]-before != N2 || k[2] != N1 || k[3] != 0x1234 {
		t.Fatalf("by_kind = %v (gettid before: %d); want [%d, before+%d, %d, 0x1234]", k, before, N1, N2, N1)
	}
	hits := k[0] + k[1]
	if v, err := Lookup[uint32, uint64](bss, 0); err != nil || v != hits {
		t.Fatalf(".bss hits = %d, %v; want %d", v, err, hits)
	}
	if v, err := Lookup[uint32, uint64](data, 0); err != nil || v != 0x1234 {
		t.Fatalf(".data magic = %#x, %v", v, err)
	}
	all, err := ReadAll[uint32, uint64](byKind)
	if err != nil || len(all) != 4 {
		t.Fatalf("ReadAll(by_kind) = %v, %v", all, err)
	}
	for i, e := range all {
		if e.Key != uint32(i) || e.Value != k[i] {
			t.Fatalf("ReadAll(by_kind)[%d] = %+v, want {%d %d}", i, e, i, k[i])
		}
	}

	// Per-CPU: one value per possible CPU, summing to hits.
	ncpu := possibleCPUs(t)
	vals, err := LookupPerCPU[uint32, uint64](percpu, 0)
	if err != nil || len(vals) != ncpu {
		t.Fatalf("LookupPerCPU = %v, %v; want %d values", vals, err, ncpu)
	}
	var sum uint64
	for _, v := range vals {
		sum += v
	}
	if sum != hits {
		t.Fatalf("per-CPU values %v sum to %d, want %d", vals, sum, hits)
	}
	pall, err := ReadAllPerCPU[uint32, uint64](percpu)
	if err != nil || len(pall) != 1 || len(pall[0].Value) != ncpu {
		t.Fatalf("ReadAllPerCPU = %v, %v", pall, err)
	}
	if _, err := Lookup[uint32, uint64](percpu, 0); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("plain Lookup on a per-CPU map: %v, want EINVAL", err)
	}
	if _, err := LookupPerCPU[uint32, uint64](byKind, 0); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("LookupPerCPU on an array: %v, want EINVAL", err)
	}
	// UpdatePerCPU round trip (the programs are quiet: nothing calls getpid/gettid now).
	set := make([]uint64, ncpu)
	for i := range set {
		set[i] = uint64(100 + i)
	}
	if err := UpdatePerCPU[uint32, uint64](percpu, 0, set, UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got, err := LookupPerCPU[uint32, uint64](percpu, 0); err != nil || got[ncpu-1] != uint64(100+ncpu-1) || got[0] != 100 {
		t.Fatalf("after UpdatePerCPU: %v, %v", got, err)
	}

	// Pinned by name under our root: same values from the pin.
	pinned, err := OpenPinned(root + "/pinned_counts")
	if err != nil {
		t.Fatal(err)
	}
	for kind := uint32(0); kind < 2; kind++ {
		if v, err := Lookup[uint32, uint64](pinned, kind); err != nil || v != k[kind] {
			t.Fatalf("pinned_counts[%d] = %d, %v; want %d", kind, v, err, k[kind])
		}
	}
	// A second object with the same pin root reuses the pinned map.
	obj2, err := Open(objPath(t, "modern.o"), &OpenOptions{PinRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer obj2.Close()
	if err := obj2.Load(nil); err != nil {
		t.Fatal(err)
	}
	if v, err := Lookup[uint32, uint64](mustMap(t, obj2, "pinned_counts"), 0); err != nil || v != k[0] {
		t.Fatalf("second object's pinned_counts[0] = %d, %v; want %d (the same map)", v, err, k[0])
	}
	if err := pinned.Close(); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "second Close of a pinned map", pinned.Close(), syscall.EBADF)
	wantErrno(t, "Lookup on a closed pinned map", func() error { _, err := Lookup[uint32, uint64](pinned, 0); return err }(), syscall.EBADF)

	// Pin a map ourselves and open it.
	if err := byKind.Pin(root + "/by_kind"); err != nil {
		t.Fatal(err)
	}
	m, err := OpenPinned(root + "/by_kind")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info, err := m.Info()
	if err != nil || info.Type != 2 /* ARRAY */ || info.KeySize != 4 || info.ValueSize != 8 || info.MaxEntries != 4 || info.FD < 0 {
		t.Fatalf("pinned by_kind info %+v, %v", info, err)
	}
	if v, err := Lookup[uint32, uint64](m, 2); err != nil || v != N1 {
		t.Fatalf("pinned by_kind[2] = %d, %v", v, err)
	}
	// Clear zeroes an array, seen through both handles.
	if err := byKind.Clear(); err != nil {
		t.Fatal(err)
	}
	if v, err := Lookup[uint32, uint64](m, 3); err != nil || v != 0 {
		t.Fatalf("after Clear: by_kind[3] = %d, %v", v, err)
	}
	if _, err := OpenPinned(root + "/nothing_here"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("OpenPinned of a missing path: %v", err)
	}
	if err := mustMap(t, obj, "by_kind").Close(); err != nil {
		t.Fatalf("Close of an object's map: %v, want nil (no-op)", err)
	}
}

func TestBadInputs(t *testing.T) {
	missing := bpfDir() + "/does_not_exist.o"
	_, err := Open(missing, nil)
	e := wantErrno(t, "Open of a missing file", err, syscall.ENOENT)
	if e.Op != "bpfl_object_open_file" || !strings.Contains(e.Error(), "does_not_exist.o") {
		t.Fatalf("missing file: %+v", e)
	}
	// The errno is said once: bpfl's message has it, Error() adds only the call.
	if msg := e.Error(); strings.Count(strings.ToLower(msg), "no such file or directory") != 1 || !strings.HasPrefix(msg, "bpfl_object_open_file: ") {
		t.Fatalf("missing file: the errno should appear once: %q", msg)
	}

	_, err = Open(objPath(t, "bad_maps.o"), nil)
	if err == nil {
		t.Fatal("bad_maps.o opened")
	}
	e = wantErrno(t, "Open(bad_maps.o)", err, syscall.EINVAL)
	if !strings.Contains(e.Msg, "past the 7 fields bpfl knows") {
		t.Fatalf("bad_maps.o: unclear message %q", e.Msg)
	}
	t.Logf("bad_maps.o: %v", err)

	for name, b := range map[string][]byte{"empty": {}, "garbage": []byte(strings.Repeat("not an ELF file ", 64))} {
		if _, err := OpenBytes(b, nil); err == nil {
			t.Fatalf("OpenBytes(%s) succeeded", name)
		} else {
			t.Logf("OpenBytes(%s): %v", name, err)
		}
	}

	t.Run("verifier", func(t *testing.T) {
		needKernel(t)
		obj, err := Open(objPath(t, "bad_verifier.o"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		err = obj.Load(nil)
		if err == nil {
			t.Fatal("bad_verifier.o loaded")
		}
		var be *Error
		if !errors.As(err, &be) || be.Op != "bpfl_object_load" || be.Errno == 0 {
			t.Fatalf("Load: %#v", err)
		}
		if errors.Is(err, syscall.EPERM) {
			skipLoudly(t, "bpf() is not permitted here")
		}
		for _, want := range []string{"program 'deref_without_check'", "verifier log"} {
			if !strings.Contains(be.Msg, want) {
				t.Fatalf("verifier error lacks %q: %s", want, be.Msg)
			}
		}
		if !strings.Contains(be.Msg, "R0") && !strings.Contains(be.Msg, "invalid mem access") {
			t.Fatalf("no verifier reason in: %s", be.Msg)
		}
		t.Logf("verifier rejection (%v), %d bytes of message", be.Errno, len(be.Msg))
		if p, _ := obj.Program("deref_without_check"); p != nil {
			if info, err := p.Info(); err != nil || info.FD != -1 {
				t.Fatalf("rejected program: %+v, %v", info, err)
			}
		}
	})
}

// The host kernel has no kprobes: attaching must fail with EOPNOTSUPP and
// bpfl's clear message. Where kprobes exist, the attach must work and count.
func TestKprobe(t *testing.T) {
	obj := load(t, "seed_kprobe.o", nil, nil)
	defer obj.Close()
	prog := mustProg(t, obj, "trace_getppid")
	info, _ := prog.Info()
	if !strings.HasPrefix(info.Section, "kprobe/") || info.FD < 0 {
		t.Fatalf("kprobe program info %+v", info)
	}
	_, pmuErr := os.Stat("/sys/bus/event_source/devices/kprobe")
	_, evErr := os.Stat("/sys/kernel/tracing/kprobe_events")
	if pmuErr == nil || evErr == nil {
		l, err := prog.AttachKprobe("__x64_sys_getppid", nil)
		if err != nil {
			t.Fatalf("AttachKprobe on a kernel with kprobes: %v", err)
		}
		defer l.Close()
		getppidN(17)
		if v, err := Lookup[uint32, uint64](mustMap(t, obj, "per_pid"), uint32(os.Getpid())); err != nil || v != 17 {
			t.Fatalf("kprobe per_pid = %d, %v; want 17", v, err)
		}
		return
	}
	const clear = "kprobes are not supported by this kernel"
	check := func(what string, err error) {
		e := wantErrno(t, what, err, syscall.EOPNOTSUPP)
		if !errors.Is(err, ErrNotSupported) || !strings.Contains(e.Msg, clear) {
			t.Fatalf("%s: %v; want ErrNotSupported with %q", what, err, clear)
		}
	}
	_, err := prog.AttachKprobe("__x64_sys_getppid", nil)
	check("AttachKprobe", err)
	t.Logf("AttachKprobe: %v", err)
	_, err = prog.AttachKprobe("__x64_sys_getppid", &KprobeOptions{Retprobe: true})
	check("AttachKprobe(retprobe)", err)
	_, err = prog.AttachKprobe("__x64_sys_getppid", &KprobeOptions{Mode: ProbeLegacy})
	if e := wantErrno(t, "AttachKprobe(legacy)", err, syscall.EOPNOTSUPP); !strings.Contains(e.Msg, "kprobe_events") {
		t.Fatalf("legacy kprobe: %v; want a message about kprobe_events", err)
	}
	_, err = prog.AttachKprobe("__x64_sys_getppid", &KprobeOptions{Mode: 9})
	wantErrno(t, "AttachKprobe(mode 9)", err, syscall.EINVAL)
	_, err = prog.Attach()
	check("Attach (kprobe section)", err)
	_, err = obj.AttachAll()
	check("AttachAll", err)
}

func TestLogger(t *testing.T) {
	needKernel(t)
	var mu sync.Mutex
	var lines []string
	if err := SetLogger(LogDebug, func(l LogLevel, msg string) {
		mu.Lock()
		lines = append(lines, l.String()+": "+msg)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	obj := load(t, "seed_tp.o", nil, nil)
	obj.Close()
	if err := SetLogger(LogError, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, l := range lines {
		if strings.HasPrefix(l, "debug: ") && strings.Contains(l, "'enter_getppid'") && strings.Contains(l, "loaded") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no debug line about loading enter_getppid in %q", lines)
	}
	n := len(lines)
	obj = load(t, "seed_tp.o", nil, nil)
	obj.Close()
	if len(lines) != n {
		t.Fatalf("the logger was still called after SetLogger(nil): %q", lines[n:])
	}
}
