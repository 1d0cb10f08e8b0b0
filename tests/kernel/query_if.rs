//! `BPF_PROG_QUERY` by interface index (issue 11): what TCX has attached to
//! an interface, in run order, with link ids and the list's revision. On lo
//! of a network namespace of the test's own, so no other test's programs show.

use super::loaded;
use bpfl::attach::{query_programs_ifindex, TcDirection, TcxOptions};
use bpfl::ErrorKind;

const TCX_INGRESS: u32 = 46;
const TCX_EGRESS: u32 = 47;

pub fn tcx_query_by_ifindex_lists_programs_and_links() {
    if bpfl::host::kver::running() < bpfl::host::kver::kernel_version(6, 6, 0) {
        let e = query_programs_ifindex(1, TCX_INGRESS).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains("needs Linux 6.6"), "{e}");
        super::harness::skip("querying TCX by interface needs Linux 6.6 (the refusal says so)");
    }
    let o = loaded("net.o");
    std::thread::spawn(move || {
        assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0, "unshare: {}", std::io::Error::last_os_error());
        let none = query_programs_ifindex(1, TCX_INGRESS).unwrap();
        assert!(none.prog_ids.is_empty() && none.link_ids.is_empty(), "{none:?}");
        let ing = TcxOptions { direction: TcDirection::Ingress, ..Default::default() };
        let l1 = o.program("tcx_count").unwrap().attach_tcx(1, &ing).unwrap();
        let l2 = o.program("tc_count").unwrap().attach_tcx(1, &ing).unwrap();
        let (i1, i2) = (l1.info().unwrap(), l2.info().unwrap());
        let q = query_programs_ifindex(1, TCX_INGRESS).unwrap();
        assert_eq!(q.prog_ids, vec![i1.prog_id, i2.prog_id], "both, in the order attached");
        assert_eq!(q.link_ids, vec![i1.id, i2.id], "each with the link that holds it");
        assert_ne!(i1.prog_id, i2.prog_id);
        let e = query_programs_ifindex(1, TCX_EGRESS).unwrap();
        assert!(e.prog_ids.is_empty(), "egress has none: {e:?}");
        drop(l1);
        let q2 = query_programs_ifindex(1, TCX_INGRESS).unwrap();
        assert_eq!((q2.prog_ids, q2.link_ids), (vec![i2.prog_id], vec![i2.id]), "the first link closed");
        assert!(q2.revision > q.revision, "every detach moves the revision: {} then {}", q.revision, q2.revision);
        // The revision an attach expects is the one the query gave.
        let l3 = o.program("tcx_count").unwrap().attach_tcx(1, &TcxOptions { expected_revision: q2.revision, ..ing.clone() }).unwrap();
        let stale = o.program("tcx_count").unwrap().attach_tcx(1, &TcxOptions { expected_revision: q2.revision, ..ing.clone() });
        assert!(stale.is_err(), "a stale revision is refused");
        drop((l2, l3));
        let q3 = query_programs_ifindex(1, TCX_INGRESS).unwrap();
        assert!(q3.prog_ids.is_empty() && q3.link_ids.is_empty(), "all closed: none left {q3:?}");
        let e = query_programs_ifindex(999_999, TCX_INGRESS).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert!(e.to_string().contains("no such interface"), "{e}");
        let e = query_programs_ifindex(1, 0).unwrap_err(); // BPF_CGROUP_INET_INGRESS
        assert!(e.kind() == ErrorKind::InvalidArgument && e.to_string().contains("only TCX and netkit"), "{e}");
        let e = query_programs_ifindex(0, TCX_INGRESS).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    })
    .join()
    .unwrap();
}
