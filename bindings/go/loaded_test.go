package bpfl

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// fdinfoID is the `key` number of /proc/self/fdinfo/FD (prog_id:, map_id:, link_id:).
func fdinfoID(t *testing.T, fd int, key string) uint32 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := s.Text(); strings.HasPrefix(line, key) {
			n, err := strconv.ParseUint(strings.TrimSpace(line[len(key):]), 10, 32)
			if err == nil {
				return uint32(n)
			}
		}
	}
	t.Fatalf("no %s in fdinfo of fd %d", key, fd)
	return 0
}

func walkIDs(t *testing.T, next func(uint32) (uint32, bool, error)) map[uint32]bool {
	t.Helper()
	ids := map[uint32]bool{}
	for id := uint32(0); ; {
		n, ok, err := next(id)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return ids
		}
		ids[n], id = true, n
	}
}

// The kernel-wide listing finds the program, map and link this test made,
// by id and name, with the right types.
func TestLoadedListing(t *testing.T) {
	obj := load(t, "seed_tp.o", nil, nil)
	defer obj.Close()
	p, err := obj.Program("enter_getppid")
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.Attach()
	if err != nil {
		t.Fatal(err)
	}
	pfd, _ := p.FD()
	lfd, _ := l.FD()
	m, _ := obj.Map("per_pid")
	mi, _ := m.Info()
	pid, mid, lid := fdinfoID(t, pfd, "prog_id:"), fdinfoID(t, mi.FD, "map_id:"), fdinfoID(t, lfd, "link_id:")

	if !walkIDs(t, LoadedProgramNextID)[pid] {
		t.Fatalf("program %d not walked", pid)
	}
	lp, err := LoadedProgramInfo(pid)
	if err != nil || lp.ID != pid || lp.Type != 5 /* BPF_PROG_TYPE_TRACEPOINT */ || lp.Name != "enter_getppid" || lp.XlatedLen == 0 || lp.NrMapIDs < 1 {
		t.Fatalf("program %d: %+v %v", pid, lp, err)
	}
	progs, err := LoadedPrograms()
	found := 0
	for _, x := range progs {
		if x == *lp {
			found++
		}
	}
	if err != nil || found != 1 {
		t.Fatalf("LoadedPrograms: found %d, %v", found, err)
	}

	if !walkIDs(t, LoadedMapNextID)[mid] {
		t.Fatalf("map %d not walked", mid)
	}
	lm, err := LoadedMapInfo(mid)
	want := LoadedMap{ID: mid, Type: 1 /* BPF_MAP_TYPE_HASH */, Name: "per_pid", KeySize: 4, ValueSize: 8, MaxEntries: 1024, Flags: lm.Flags, BTFID: lm.BTFID}
	if err != nil || *lm != want {
		t.Fatalf("map %d: %+v %v", mid, lm, err)
	}

	if !walkIDs(t, LoadedLinkNextID)[lid] {
		t.Fatalf("link %d not walked", lid)
	}
	ll, err := LoadedLinkInfo(lid)
	if err != nil || *ll != (LoadedLink{ID: lid, Type: 7 /* BPF_LINK_TYPE_PERF_EVENT */, ProgID: pid}) {
		t.Fatalf("link %d: %+v %v", lid, ll, err)
	}
	links, err := LoadedLinks()
	if err != nil || len(links) == 0 {
		t.Fatalf("LoadedLinks: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadedLinkInfo(lid); !errors.Is(err, ErrKeyNotExist) || !strings.Contains(err.Error(), fmt.Sprintf("no BPF link with id %d", lid)) {
		t.Fatalf("destroyed link: %v", err)
	}
	if _, ok, err := LoadedMapNextID(^uint32(0)); ok || err != nil {
		t.Fatalf("no id after the last: %v %v", ok, err)
	}
}
