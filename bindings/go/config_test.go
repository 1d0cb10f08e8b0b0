package bpfl

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// setupPrepare sets setup.o up as tools do: the target process, the size of
// `sized`, post_bind's expected attach type, and `bad` (refused by the
// verifier) left out.
func setupPrepare(t *testing.T) func(*Object) {
	return func(o *Object) {
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(o.SetRodata("target_tgid", uint32(os.Getpid())))
		must(mustMap(t, o, "sized").SetMaxEntries(37))
		must(mustProg(t, o, "post_bind").SetExpectedAttachType(12)) // BPF_CGROUP_INET4_POST_BIND
		must(mustProg(t, o, "bad").SetAutoload(false))
		must(mustProg(t, o, "good").SetLogLevel(1))
	}
}

func TestSetupBeforeLoad(t *testing.T) {
	obj := load(t, "setup.o", &OpenOptions{KConfig: "CONFIG_BPFL_TEST_VALUE=55\n"}, setupPrepare(t))
	defer obj.Close()
	// The kernel sized the map: 37 entries, the 38th is refused.
	sized := mustMap(t, obj, "sized")
	for k := uint32(0); k < 37; k++ {
		if err := Update(sized, k, uint64(k), UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	if err := Update(sized, uint32(37), uint64(0), UpdateAny); !errors.Is(err, syscall.E2BIG) {
		t.Fatalf("38th entry: %v", err)
	}
	bad := mustProg(t, obj, "bad")
	if on, _ := bad.Autoload(); on {
		t.Fatal("autoload of 'bad' is on")
	}
	if info, _ := bad.Info(); info.FD != -1 {
		t.Fatalf("a program with autoload off has fd %d", info.FD)
	}
	if _, err := bad.Attach(); err == nil || !strings.Contains(err.Error(), "autoload is off") {
		t.Fatalf("attach of a program not loaded: %v", err)
	}
	if err := bad.SetAutoload(true); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("SetAutoload after load: %v", err)
	}
	if log, err := mustProg(t, obj, "good").Log(); err != nil || !strings.Contains(log, "processed ") {
		t.Fatalf("Log() = %.80q, %v", log, err)
	}
	// The kconfig override reaches the program.
	if n, err := obj.AttachAll(); err != nil || n != 1 {
		t.Fatalf("AttachAll() = %d, %v", n, err)
	}
	syscall.Syscall(syscall.SYS_GETPGID, 0, 0, 0)
	bss, err := mustMap(t, obj, ".bss").LookupBytes([]byte{0, 0, 0, 0})
	if err != nil || bss[0] != 55 {
		t.Fatalf(".bss = %v, %v: CONFIG_BPFL_TEST_VALUE not 55", bss, err)
	}

	// A second object shares `shared` through ReuseFD; its `optional` map is not created.
	shared := mustMap(t, obj, "shared")
	info, _ := shared.Info()
	obj2 := load(t, "setup.o", nil, func(o *Object) {
		setupPrepare(t)(o)
		if err := mustMap(t, o, "shared").ReuseFD(info.FD); err != nil {
			t.Fatal(err)
		}
		if err := mustMap(t, o, "optional").SetAutocreate(false); err != nil {
			t.Fatal(err)
		}
		if err := mustProg(t, o, "uses_optional").SetAutoload(false); err != nil {
			t.Fatal(err)
		}
	})
	defer obj2.Close()
	if err := Update(mustMap(t, obj2, "shared"), uint32(0), uint64(4321), UpdateAny); err != nil {
		t.Fatal(err)
	}
	if v, err := Lookup[uint32, uint64](shared, 0); err != nil || v != 4321 {
		t.Fatalf("shared value %d, %v", v, err)
	}
}

func TestAutocreateOffNamesTheMap(t *testing.T) {
	needKernel(t)
	obj, err := Open(objPath(t, "setup.o"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	setupPrepare(t)(obj)
	if err := mustMap(t, obj, "optional").SetAutocreate(false); err != nil {
		t.Fatal(err)
	}
	err = obj.Load(nil)
	if err == nil || !strings.Contains(err.Error(), "map 'optional'") {
		t.Fatalf("Load() = %v", err)
	}
}
