package bpfl

/*
#include <bpfl.h>
*/
import "C"

// NetkitSide says whose traffic a netkit program sees.
type NetkitSide uint32

const (
	NetkitFromSection NetkitSide = C.BPFL_NETKIT_FROM_SECTION // netkit/primary or netkit/peer; primary otherwise
	NetkitPrimary     NetkitSide = C.BPFL_NETKIT_PRIMARY      // what the primary device sends
	NetkitPeer        NetkitSide = C.BPFL_NETKIT_PEER         // what its peer sends (attached through the primary)
)

// NetkitOptions are the options of AttachNetkit; nil means the section's
// side, last in order.
type NetkitOptions struct {
	Side             NetkitSide
	Flags            uint32 // TCXBefore/TCXAfter, with TCXID/TCXLink
	Relative         uint32 // the program or link fd (or id) placed against
	ExpectedRevision uint64 // 0: any
}

// AttachNetkit attaches a tc program to the netkit pair whose primary
// device is ifindex with a netkit link (Linux 6.7+ with CONFIG_NETKIT;
// else ErrNotSupported saying so).
func (p *Program) AttachNetkit(ifindex uint32, opts *NetkitOptions) (*Link, error) {
	var l C.bpfl_link
	_, err := call("bpfl_program_attach_netkit", func() C.int {
		if opts == nil {
			return C.bpfl_program_attach_netkit(p.h, C.uint32_t(ifindex), nil, &l)
		}
		var o C.bpfl_netkit_opts
		o.sz = C.sizeof_bpfl_netkit_opts
		o.side, o.flags, o.relative, o.expected_revision = C.uint32_t(opts.Side), C.uint32_t(opts.Flags), C.uint32_t(opts.Relative), C.uint64_t(opts.ExpectedRevision)
		return C.bpfl_program_attach_netkit(p.h, C.uint32_t(ifindex), &o, &l)
	})
	if err != nil {
		return nil, err
	}
	return &Link{h: l}, nil
}
