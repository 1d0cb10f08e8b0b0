package bpfl

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// TCX on lo of a fresh namespace: the query by interface lists both
// programs in the order attached, with their link ids; the revision moves
// with each change; after Close it lists none.
func TestQueryProgramsIfindexTCX(t *testing.T) {
	obj := load(t, "net.o", nil, nil)
	defer obj.Close()
	if _, err := QueryProgramsIfindex(1, AttachTCXIngress); err != nil && errors.Is(err, ErrNotSupported) {
		if !strings.Contains(err.Error(), "needs Linux 6.6") {
			t.Fatalf("%v: want the refusal to name Linux 6.6", err)
		}
		skipLoudly(t, "querying TCX by interface needs Linux 6.6: "+err.Error())
	}
	p1, p2 := mustProg(t, obj, "tcx_count"), mustProg(t, obj, "tc_count")
	inNewNetns(t, func() error {
		none, err := QueryProgramsIfindex(1, AttachTCXIngress)
		if err != nil || len(none.ProgIDs) != 0 {
			return fmt.Errorf("fresh lo: %+v, %v; want none", none, err)
		}
		l1, err := p1.AttachTCX(1, nil)
		if err != nil {
			return err
		}
		defer l1.Close()
		l2, err := p2.AttachTCX(1, nil)
		if err != nil {
			return err
		}
		defer l2.Close()
		i1, err1 := l1.Info()
		i2, err2 := l2.Info()
		if err1 != nil || err2 != nil {
			return fmt.Errorf("link info: %v %v", err1, err2)
		}
		q, err := QueryProgramsIfindex(1, AttachTCXIngress)
		if err != nil {
			return err
		}
		if fmt.Sprint(q.ProgIDs, q.LinkIDs) != fmt.Sprint([]uint32{i1.ProgID, i2.ProgID}, []uint32{i1.ID, i2.ID}) {
			return fmt.Errorf("query %+v; want programs [%d %d] links [%d %d] in that order", q, i1.ProgID, i2.ProgID, i1.ID, i2.ID)
		}
		if eg, err := QueryProgramsIfindex(1, AttachTCXEgress); err != nil || len(eg.ProgIDs) != 0 {
			return fmt.Errorf("egress: %+v, %v; want none", eg, err)
		}
		if err := l1.Close(); err != nil {
			return err
		}
		q2, err := QueryProgramsIfindex(1, AttachTCXIngress)
		if err != nil || fmt.Sprint(q2.ProgIDs, q2.LinkIDs) != fmt.Sprint([]uint32{i2.ProgID}, []uint32{i2.ID}) || q2.Revision <= q.Revision {
			return fmt.Errorf("after closing the first: %+v, %v (before: revision %d)", q2, err, q.Revision)
		}
		if err := l2.Close(); err != nil {
			return err
		}
		if q3, err := QueryProgramsIfindex(1, AttachTCXIngress); err != nil || len(q3.ProgIDs) != 0 || len(q3.LinkIDs) != 0 {
			return fmt.Errorf("after Close: %+v, %v; want none", q3, err)
		}
		if _, err := QueryProgramsIfindex(999999, AttachTCXIngress); !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "no such interface") {
			return fmt.Errorf("unknown interface: %v", err)
		}
		if _, err := QueryProgramsIfindex(1, 0); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "only TCX and netkit") {
			return fmt.Errorf("a cgroup attach type by interface: %v", err)
		}
		return nil
	})
}
