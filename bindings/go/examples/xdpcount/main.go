// xdpcount counts the packets an interface receives with an XDP program
// (build/bpf/xdp_count.o, which lets every packet pass) and prints packets
// per second. Run it as root against an interface, e.g. one end of a veth
// pair (see bindings/go/README.md):
//
//	go run ./examples/xdpcount -i veth0 -n 5
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	bpfl "bpfl.dev/bpfl"
)

func defaultObject() string {
	dir := os.Getenv("BPFL_BPF_DIR")
	if dir == "" {
		dir = "build/bpf"
		if _, err := os.Stat(dir); err != nil {
			dir = filepath.Join("..", "..", "build", "bpf") // from bindings/go
		}
	}
	return filepath.Join(dir, "xdp_count.o")
}

func main() {
	objPath := flag.String("obj", defaultObject(), "the BPF object (xdp_count.o)")
	dev := flag.String("i", "", "the interface to count on (required)")
	seconds := flag.Int("n", 0, "stop after this many seconds (0: at Ctrl-C)")
	generic := flag.Bool("generic", true, "generic (skb) mode, which every interface has")
	flag.Parse()
	if *dev == "" {
		fmt.Fprintln(os.Stderr, "usage: xdpcount -i INTERFACE [-n SECONDS]")
		os.Exit(2)
	}
	if err := run(*objPath, *dev, *seconds, *generic); err != nil {
		fmt.Fprintln(os.Stderr, "xdpcount:", err)
		if errors.Is(err, syscall.EPERM) {
			fmt.Fprintln(os.Stderr, "xdpcount: attaching XDP programs needs root")
		}
		os.Exit(1)
	}
}

func run(objPath, dev string, seconds int, generic bool) error {
	ifindex, err := bpfl.Ifindex(dev)
	if err != nil {
		return err
	}
	obj, err := bpfl.Open(objPath, nil)
	if err != nil {
		return err
	}
	defer obj.Close()
	if err := obj.Load(nil); err != nil {
		return err
	}
	prog, err := obj.Program("xdp_count")
	if err != nil {
		return err
	}
	opts := &bpfl.XDPOptions{}
	if generic {
		opts.Mode = bpfl.XDPModeGeneric
	}
	link, err := prog.AttachXDP(ifindex, opts)
	if err != nil {
		return err
	}
	defer link.Close()
	packets, err := obj.Map("packets")
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last uint64
	for i := 1; seconds == 0 || i <= seconds; i++ {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		perCPU, err := bpfl.LookupPerCPU[uint32, uint64](packets, 0)
		if err != nil {
			return err
		}
		var total uint64
		for _, v := range perCPU {
			total += v
		}
		fmt.Printf("%s: %d packets/s (%d in all)\n", dev, total-last, total)
		last = total
	}
	return nil
}
