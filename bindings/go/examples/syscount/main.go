// syscount counts system calls per process with a BPF program on the
// raw_syscalls/sys_enter tracepoint (build/bpf/syscount.o), then prints the
// busiest processes. Run it as root:
//
//	go run ./examples/syscount -d 5s
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"bpfl.dev/bpfl"
)

// procStat mirrors struct proc_stat of bpf/syscount.bpf.c.
type procStat struct {
	Count uint64
	Comm  [16]byte
}

func defaultObject() string {
	dir := os.Getenv("BPFL_BPF_DIR")
	if dir == "" {
		dir = "build/bpf"
		if _, err := os.Stat(dir); err != nil {
			dir = filepath.Join("..", "..", "build", "bpf") // from bindings/go
		}
	}
	return filepath.Join(dir, "syscount.o")
}

func main() {
	objPath := flag.String("obj", defaultObject(), "the BPF object (syscount.o)")
	duration := flag.Duration("d", 5*time.Second, "how long to count (Ctrl-C stops early)")
	top := flag.Int("top", 10, "how many processes to print (0: all)")
	flag.Parse()
	if err := run(*objPath, *duration, *top); err != nil {
		fmt.Fprintln(os.Stderr, "syscount:", err)
		if errors.Is(err, syscall.EPERM) {
			fmt.Fprintln(os.Stderr, "syscount: loading BPF programs needs root")
		}
		os.Exit(1)
	}
}

func run(objPath string, duration time.Duration, top int) error {
	obj, err := bpfl.Open(objPath, nil)
	if err != nil {
		return err
	}
	defer obj.Close()
	if err := obj.Load(nil); err != nil {
		return err
	}
	if _, err := obj.AttachAll(); err != nil {
		return err
	}
	counts, err := obj.Map("counts")
	if err != nil {
		return err
	}

	fmt.Printf("counting system calls for %v (Ctrl-C to stop)...\n", duration)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	select {
	case <-time.After(duration):
	case <-stop:
	}

	entries, err := bpfl.ReadAll[uint32, procStat](counts)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Value.Count != entries[j].Value.Count {
			return entries[i].Value.Count > entries[j].Value.Count
		}
		return entries[i].Key < entries[j].Key
	})
	if top > 0 && len(entries) > top {
		entries = entries[:top]
	}
	fmt.Printf("%8s  %-16s  %10s\n", "PID", "COMM", "SYSCALLS")
	for _, e := range entries {
		comm := e.Value.Comm[:]
		if i := bytes.IndexByte(comm, 0); i >= 0 {
			comm = comm[:i]
		}
		fmt.Printf("%8d  %-16s  %10d\n", e.Key, comm, e.Value.Count)
	}
	return nil
}
