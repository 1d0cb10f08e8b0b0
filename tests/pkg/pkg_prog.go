// A user's Go program against an installed bpfl: built by tests/pkg/test_user.sh
// in a temporary module outside the checkout, which gets bpfl.dev/bpfl from
// the installed module proxy (share/bpfl/go-proxy). Counts getppid() calls
// with seed_tp.o and checks the exact count.
//
//	pkg_prog SEED_TP.O N      exit 0 ok, 1 failure, 77 no root / no bpf()
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"bpfl.dev/bpfl"
)

func main() { os.Exit(run()) }

func run() int {
	if len(os.Args) != 3 {
		return 2
	}
	fmt.Println("bpfl", bpfl.Version())
	if os.Geteuid() != 0 {
		return 77
	}
	n, _ := strconv.Atoi(os.Args[2])
	obj, err := bpfl.Open(os.Args[1], nil)
	if err == nil {
		defer obj.Close()
		err = obj.Load(nil)
	}
	if err == nil {
		_, err = obj.AttachAll()
	}
	var count uint64
	if err == nil {
		for i := 0; i < n; i++ {
			syscall.Getppid()
		}
		var m *bpfl.Map
		if m, err = obj.Map("per_pid"); err == nil {
			count, err = bpfl.Lookup[uint32, uint64](m, uint32(os.Getpid()))
			if errors.Is(err, bpfl.ErrKeyNotExist) {
				err = nil
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkg_prog:", err)
		if errors.Is(err, syscall.EPERM) {
			return 77
		}
		return 1
	}
	fmt.Printf("counted: %d of %d\n", count, n)
	if count != uint64(n) {
		return 1
	}
	return 0
}
