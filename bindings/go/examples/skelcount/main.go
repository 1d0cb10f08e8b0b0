// skelcount is the skeleton example in Go, over skel_count_bpfl.go, which
// `bpfl gen skeleton --lang go` makes of build/bpf/skel_count.o (see
// docs/skeletons.md):
//
//	bpfl gen skeleton build/bpf/skel_count.o --lang go -o skel_count_bpfl.go
//	go build -tags bpfl_intree && sudo ./skelcount 25
//
// The same steps and output as bindings/c/examples/skel_count.c: the .rodata
// filter set before Load, .data's step set after it, N getppid() calls (and
// a child process's N, filtered out), then .bss's total, the counts map and
// the ring buffer's typed events.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"bpfl.dev/bpfl"
)

func getppids(n int) {
	for i := 0; i < n; i++ {
		syscall.Getppid()
	}
}

func run(n int) error {
	tgid := uint32(os.Getpid())
	s, err := OpenSkelCount(nil)
	if err != nil {
		return err
	}
	defer s.Close()
	s.Rodata.TargetTgid = tgid // before Load: the program's constant
	if err := s.Load(nil); err != nil {
		return err
	}
	if err := s.Attach(); err != nil {
		return err
	}
	s.Data.Step = 3 // after Load: the live map
	child := exec.Command("/proc/self/exe", "child", strconv.Itoa(n))
	if err := child.Run(); err != nil {
		return fmt.Errorf("child: %w", err)
	}
	getppids(n)
	fmt.Printf("calls: %d\n", n)
	bss, err := bpfl.Lookup[uint32, SkelCountBss](s.Maps.Bss, 0)
	if err != nil {
		return err
	}
	fmt.Printf("total: %d (.bss map: %d)\n", s.Bss.Total, bss.Total)
	c, err := bpfl.Lookup[SkelCountCountsKey, SkelCountCountsValue](s.Maps.Counts, tgid)
	if err != nil {
		return err
	}
	fmt.Printf("counts: %d calls, last step %d\n", c.Calls, c.LastStep)
	var events, seqSum, bad uint64
	rb, err := bpfl.NewRingBuffer(s.Maps.Events, func(data []byte) int {
		var e SkelCountEvent
		if e.UnmarshalBinary(data) != nil {
			bad++
			return 0
		}
		events++
		seqSum += e.Stamp.Seq
		if e.Tgid != tgid || e.Tag != 0xab || e.Stamp.Kind != 7 || e.FlagsCpuLo&7 != 5 ||
			*e.U.Total() != e.Stamp.Seq || e.Comm[0] == 0 || e.Task == 0 {
			bad++
		}
		return 0
	})
	if err != nil {
		return err
	}
	defer rb.Close()
	if _, err := rb.Consume(); err != nil {
		return err
	}
	verdict := "ok"
	if bad != 0 {
		verdict = "BAD"
	}
	fmt.Printf("events: %d, seq sum %d, fields %s\n", events, seqSum, verdict)
	return nil
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "child" {
		n, _ := strconv.Atoi(os.Args[2])
		getppids(n)
		return
	}
	n := 10
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if err := run(n); err != nil {
		fmt.Fprintln(os.Stderr, "skelcount:", err)
		os.Exit(1)
	}
}
