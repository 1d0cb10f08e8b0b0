package bpfl

/*
#include <bpfl.h>
*/
import "C"
import "unsafe"

// Attach types that QueryProgramsIfindex answers (enum bpf_attach_type).
const (
	AttachTCXIngress    uint32 = 46 // BPF_TCX_INGRESS, Linux 6.6+
	AttachTCXEgress     uint32 = 47 // BPF_TCX_EGRESS
	AttachNetkitPrimary uint32 = 54 // BPF_NETKIT_PRIMARY, Linux 6.7+
	AttachNetkitPeer    uint32 = 55 // BPF_NETKIT_PEER
)

// IfindexQuery is what one hook of an interface holds, first to run first.
type IfindexQuery struct {
	ProgIDs  []uint32 // program ids in run order
	LinkIDs  []uint32 // the link holding each program (0: attached without one)
	Revision uint64   // moves with every attach and detach (ExpectedRevision of an attach)
}

// QueryProgramsIfindex returns the programs attached to interface ifindex
// as attachType (AttachTCXIngress/Egress, AttachNetkitPrimary/Peer), in
// run order, with their link ids and the list's revision
// (bpfl_query_programs_ifindex, BPF_PROG_QUERY by interface).
func QueryProgramsIfindex(ifindex uint32, attachType uint32) (*IfindexQuery, error) {
	for capacity := 16; ; capacity *= 4 {
		ids, links := make([]uint32, capacity), make([]uint32, capacity)
		var n C.size_t
		var rev C.uint64_t
		_, err := call("bpfl_query_programs_ifindex", func() C.int {
			return C.bpfl_query_programs_ifindex(C.uint32_t(ifindex), C.uint32_t(attachType), (*C.uint32_t)(unsafe.Pointer(&ids[0])),
				(*C.uint32_t)(unsafe.Pointer(&links[0])), C.size_t(capacity), &n, &rev)
		})
		if err != nil {
			return nil, err
		}
		if int(n) <= capacity {
			return &IfindexQuery{ProgIDs: ids[:n], LinkIDs: links[:n], Revision: uint64(rev)}, nil
		}
	}
}
