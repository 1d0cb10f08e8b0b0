//! Issue 10: what a tool sets between open and load, checked in the kernel:
//! autoload, program type and expected attach type, attach targets
//! (retargeted fentry, freplace), load flags and log levels; map sizes,
//! reuse_fd, pin paths, autocreate; custom target BTF and kconfig overrides.

use crate::harness::{obj, skip};
use crate::{pin_root, tgid};
use bpfl::host::loaded::programs as loaded_programs;
use bpfl::{ErrorKind, Object, OpenOptions};
use std::os::fd::BorrowedFd;

const BPF_PROG_TYPE_SCHED_CLS: u32 = 3;
const BPF_PROG_TYPE_CGROUP_SOCK: u32 = 9;
const BPF_CGROUP_INET4_POST_BIND: u32 = 12;
const BPF_F_SLEEPABLE: u32 = 1 << 4;

fn getpgid() {
    unsafe { libc::syscall(libc::SYS_getpgid, 0) };
}

fn open_with(name: &str, opts: &OpenOptions) -> Object {
    Object::open_file(&obj(name), opts).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

/// setup.o as the tools would prepare it: the target process, the run-time
/// size of `sized`, the expected attach type `post_bind` needs, and the
/// program the verifier refuses left out.
fn setup_obj(opts: &OpenOptions) -> Object {
    let mut o = open_with("setup.o", opts);
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.map("sized").unwrap().set_max_entries(8).unwrap();
    o.program("post_bind").unwrap().set_expected_attach_type(BPF_CGROUP_INET4_POST_BIND).unwrap();
    o.program("bad").unwrap().set_autoload(false).unwrap();
    o
}

fn count_named(name: &str) -> usize {
    loaded_programs().unwrap().iter().filter(|p| p.name == name).count()
}

fn fd_of(m: &bpfl::Map) -> BorrowedFd<'_> {
    // SAFETY: the map's fd stays open while `m` (and its object) lives.
    unsafe { BorrowedFd::borrow_raw(m.fd().unwrap()) }
}

fn u64_of(m: &bpfl::Map) -> u64 {
    let mut v = [0u8; 8];
    assert!(m.lookup(&0u32.to_le_bytes(), &mut v).unwrap());
    u64::from_le_bytes(v)
}

pub fn autoload_off_leaves_the_program_out() {
    // With every program on, the one the verifier refuses fails the load.
    let mut o = setup_obj(&OpenOptions::default());
    o.program("bad").unwrap().set_autoload(true).unwrap();
    let e = o.load(&Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Verifier, "{e}");
    assert!(e.to_string().contains("program 'bad'"), "{e}");
    // Off: the rest loads, and the kernel has no program of that name more than before.
    let (bad_before, opt_before) = (count_named("bad"), count_named("uses_optional"));
    let bad = o.program("bad").unwrap().clone();
    bad.set_autoload(false).unwrap();
    assert!(!bad.autoload());
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load with 'bad' off: {e}"));
    assert_eq!(count_named("bad"), bad_before, "a program with autoload off reached the kernel");
    assert_eq!(count_named("uses_optional"), opt_before + 1);
    assert!(!bad.is_loaded());
    let e = bad.fd().unwrap_err();
    assert!(e.to_string().contains("autoload is off"), "{e}");
    let e = bad.attach().unwrap_err();
    assert!(e.to_string().contains("program 'bad'"), "{e}");
    // attach_all skips it and attaches the tracepoint.
    let (links, errors) = o.attach_all();
    assert_eq!(links.len(), 1, "{errors:?}");
    assert!(errors.is_empty(), "{errors:?}");
    // After load, every setter says EBUSY.
    let e = bad.set_autoload(true).unwrap_err();
    assert_eq!(e.errno(), libc::EBUSY, "{e}");
    assert!(e.to_string().contains("before its object is loaded"), "{e}");
    assert_eq!(o.map("sized").unwrap().set_max_entries(9).unwrap_err().errno(), libc::EBUSY);
}

pub fn resized_map_holds_exactly_its_entries() {
    // max_entries 0 in the object: refused until sized, naming the map.
    let mut o = open_with("setup.o", &OpenOptions::default());
    o.program("bad").unwrap().set_autoload(false).unwrap();
    o.program("post_bind").unwrap().set_autoload(false).unwrap();
    let e = o.load(&Default::default()).unwrap_err();
    assert!(e.to_string().contains("map 'sized'") && e.to_string().contains("max_entries"), "{e}");
    let sized = o.map("sized").unwrap().clone();
    sized.set_max_entries(37).unwrap();
    o.load(&Default::default()).unwrap();
    assert_eq!(sized.max_entries(), 37);
    for k in 0..37u32 {
        sized.update(&k.to_le_bytes(), &(k as u64).to_le_bytes(), 0).unwrap();
    }
    let e = sized.update(&37u32.to_le_bytes(), &0u64.to_le_bytes(), 0).unwrap_err();
    assert_eq!(e.errno(), libc::E2BIG, "{e}");
    assert_eq!(sized.keys().count(), 37);
}

pub fn data_section_grows_with_its_map() {
    let open_poking = |at: u32| {
        let mut o = setup_obj(&OpenOptions::default());
        o.set_global("poke_at", &at.to_le_bytes()).unwrap();
        o
    };
    // Unresized, buf[4000] is past the 4-byte section: the verifier refuses it.
    let mut o = open_poking(4000);
    let e = o.load(&Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Verifier, "{e}");
    // Smaller than its variables: refused at once.
    let mut o = open_poking(4000);
    let buf = o.map(".data.buf").unwrap().clone();
    let e = buf.set_value_size(2).unwrap_err();
    assert!(e.to_string().contains("would cut its variables"), "{e}");
    buf.set_value_size(4096).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load with .data.buf of 4096 bytes: {e}"));
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    getpgid();
    drop(links);
    let mut v = vec![0u8; 4096];
    assert!(buf.lookup(&0u32.to_le_bytes(), &mut v).unwrap());
    assert_eq!(&v[..4], b"abc\0", "the initial data is kept");
    assert_eq!(v[4000], 42, "the program wrote past the declared array");
    assert_eq!(v.iter().filter(|&&b| b != 0).count(), 4, "the rest is zero");
}

pub fn kconfig_override_reaches_the_program() {
    for (kconfig, want) in [(None, 0u64), (Some("CONFIG_BPFL_TEST_VALUE=1234\n"), 1234)] {
        let mut o = setup_obj(&OpenOptions { kconfig: kconfig.map(str::to_string), ..Default::default() });
        o.load(&Default::default()).unwrap();
        let (links, errors) = o.attach_all();
        assert!(errors.is_empty(), "{errors:?}");
        getpgid();
        drop(links);
        let mut bss = vec![0u8; o.map(".bss").unwrap().value_size() as usize];
        assert!(o.map(".bss").unwrap().lookup(&0u32.to_le_bytes(), &mut bss).unwrap());
        assert_eq!(u64::from_le_bytes(bss[..8].try_into().unwrap()), want, "kconfig {kconfig:?}");
    }
}

pub fn reuse_fd_shares_one_map() {
    let mut a = setup_obj(&OpenOptions::default());
    a.load(&Default::default()).unwrap();
    let mut b = setup_obj(&OpenOptions::default());
    // A map of another type is refused at once.
    let e = b.map("shared").unwrap().reuse_fd(fd_of(a.map("sized").unwrap())).unwrap_err();
    assert!(e.to_string().contains("BPF_MAP_TYPE_HASH"), "{e}");
    b.map("shared").unwrap().reuse_fd(fd_of(a.map("shared").unwrap())).unwrap();
    b.load(&Default::default()).unwrap();
    a.map("shared").unwrap().update(&0u32.to_le_bytes(), &77u64.to_le_bytes(), 0).unwrap();
    assert_eq!(u64_of(b.map("shared").unwrap()), 77, "written through one object, read through the other");
    // b's program increments the shared counter; a sees it.
    let l = b.program("good").unwrap().attach().unwrap();
    getpgid();
    drop(l);
    assert_eq!(u64_of(a.map("shared").unwrap()), 78);
    // A mismatch found at load (max_entries changed after reuse_fd): named.
    let mut c = setup_obj(&OpenOptions::default());
    let m = c.map("shared").unwrap().clone();
    m.reuse_fd(fd_of(a.map("shared").unwrap())).unwrap();
    m.set_max_entries(2).unwrap();
    let e = c.load(&Default::default()).unwrap_err();
    assert!(e.to_string().contains("reuse_fd") && e.to_string().contains("does not match"), "{e}");
}

pub fn pin_path_pins_where_asked() {
    let path = format!("{}/setup_shared", pin_root());
    let _ = std::fs::remove_file(&path);
    let mut a = setup_obj(&OpenOptions::default());
    a.map("shared").unwrap().set_pin_path(&path).unwrap();
    assert_eq!(a.map("shared").unwrap().pin_path().as_deref(), Some(path.as_str()));
    a.load(&Default::default()).unwrap();
    let pinned = bpfl::Map::open_pinned(&path).unwrap();
    assert_eq!((pinned.max_entries(), pinned.value_size()), (1, 8));
    a.map("shared").unwrap().update(&0u32.to_le_bytes(), &5u64.to_le_bytes(), 0).unwrap();
    assert_eq!(u64_of(&pinned), 5);
    // A second object with the same pin path uses the pinned map.
    let mut b = setup_obj(&OpenOptions::default());
    b.map("shared").unwrap().set_pin_path(&path).unwrap();
    b.load(&Default::default()).unwrap();
    assert_eq!(u64_of(b.map("shared").unwrap()), 5);
    std::fs::remove_file(&path).unwrap();
}

pub fn autocreate_off_names_the_map() {
    let mut o = setup_obj(&OpenOptions::default());
    let optional = o.map("optional").unwrap().clone();
    optional.set_autocreate(false).unwrap();
    assert!(!optional.autocreate());
    let e = o.load(&Default::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("map 'optional'") && msg.contains("program 'uses_optional'") && msg.contains("autocreate"), "{msg}");
    o.program("uses_optional").unwrap().set_autoload(false).unwrap();
    o.load(&Default::default()).unwrap();
    assert!(optional.fd().is_err(), "a map with autocreate off was created");
    assert!(o.map("shared").unwrap().fd().is_ok());
}

pub fn type_and_expected_attach_type_reach_the_kernel() {
    // Without the expected attach type, post_bind's ctx access is refused.
    let mut o = setup_obj(&OpenOptions::default());
    o.program("post_bind").unwrap().set_expected_attach_type(0).unwrap();
    let e = o.load(&Default::default()).unwrap_err();
    assert!(e.to_string().contains("program 'post_bind'"), "{e}");
    let mut o = setup_obj(&OpenOptions::default());
    let retyped = o.program("retyped").unwrap().clone();
    retyped.set_type(BPF_PROG_TYPE_SCHED_CLS).unwrap();
    o.load(&Default::default()).unwrap();
    assert_eq!(retyped.kernel_info().unwrap().prog_type, BPF_PROG_TYPE_SCHED_CLS, "loaded as a TC classifier");
    assert_eq!(retyped.prog_type(), BPF_PROG_TYPE_SCHED_CLS);
    let pb = o.program("post_bind").unwrap();
    assert_eq!((pb.kernel_info().unwrap().prog_type, pb.expected_attach_type()), (BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND));
    assert_eq!(retyped.set_type(6).unwrap_err().errno(), libc::EBUSY);
}

pub fn flags_and_log_levels() {
    // BPF_F_SLEEPABLE reaches the kernel: a tracepoint cannot sleep.
    let mut o = setup_obj(&OpenOptions::default());
    let good = o.program("good").unwrap().clone();
    assert_eq!(good.flags(), 0);
    good.set_flags(BPF_F_SLEEPABLE).unwrap();
    let e = o.load(&Default::default()).unwrap_err();
    assert!(e.to_string().contains("program 'good'"), "{e}");
    // A per-program log level keeps that program's log; the others have none.
    let mut o = setup_obj(&OpenOptions::default());
    o.program("good").unwrap().set_log_level(2).unwrap();
    o.load(&Default::default()).unwrap();
    assert!(o.program("good").unwrap().log().contains("processed "), "{}", o.program("good").unwrap().log());
    assert!(o.program("retyped").unwrap().log().is_empty());
    // The object's kernel_log_level gives every loaded program a log.
    let mut o = setup_obj(&OpenOptions { kernel_log_level: 1, ..Default::default() });
    o.load(&Default::default()).unwrap();
    for p in o.programs().iter().filter(|p| p.autoload()) {
        assert!(!p.log().is_empty(), "program '{}' has no log", p.name());
    }
}

pub fn custom_btf_drives_core() {
    let tmp = format!("/tmp/bpfl-vmlinux-{}", tgid());
    std::fs::copy(bpfl::host::vmlinux::VMLINUX_BTF, &tmp).unwrap();
    let o = Object::open_file(&obj("core_refused.o"), &OpenOptions { btf_custom_path: Some(tmp.clone()), ..Default::default() });
    let mut o = o.unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("CO-RE against a copy of the kernel's BTF: {e}"));
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    crate::getpid();
    drop(links);
    let me = tgid();
    let mut v = [0u8; 8];
    assert!(o.map("seen").unwrap().lookup(&me.to_le_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_le_bytes(v), me as u64, "task->tgid at the offset the custom BTF gives");
    // A target BTF without task_struct (another object's BTF): the relocation cannot resolve.
    let other = bpfl::obj::ObjectSpec::parse(&std::fs::read(obj("setup.o")).unwrap(), &Default::default()).unwrap();
    std::fs::write(&tmp, other.btf.as_ref().unwrap().to_bytes()).unwrap();
    let mut o = Object::open_file(&obj("core_refused.o"), &OpenOptions { btf_custom_path: Some(tmp.clone()), ..Default::default() }).unwrap();
    let e = o.load(&Default::default()).unwrap_err();
    assert!(e.to_string().contains("task_struct"), "the custom BTF was not the target: {e}");
    std::fs::remove_file(&tmp).unwrap();
    // A missing file: a clear error at open, naming it.
    let e = Object::open_file(&obj("core_refused.o"), &OpenOptions { btf_custom_path: Some(tmp.clone()), ..Default::default() }).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains(&tmp) && e.to_string().contains("btf_custom_path"), "{e}");
}

/// The kernel function getpgid() enters, named as this arch's syscall wrapper.
fn getpgid_function() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "__x64_sys_getpgid"
    } else {
        "__arm64_sys_getpgid"
    }
}

pub fn retargeted_fentry_runs_on_the_new_target() {
    let mut o = open_with("setup_fentry.o", &OpenOptions::default());
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    // The placeholder does not exist: a clear error naming it.
    let e = o.load(&Default::default()).unwrap_err();
    assert!(e.to_string().contains("dummy_bpfl_placeholder"), "{e}");
    let p = o.program("retargeted").unwrap().clone();
    p.set_attach_target(None, Some(getpgid_function())).unwrap();
    if let Err(e) = o.load(&Default::default()) {
        if e.errno() == libc::EPERM || e.errno() == libc::ENOTSUP || e.errno() == 524 {
            skip(format!("this kernel refuses fentry ({e}); the VM suite runs this test"));
        }
        panic!("load retargeted fentry: {e}");
    }
    let l = p.attach().unwrap();
    for _ in 0..3 {
        getpgid();
    }
    drop(l);
    getpgid();
    let bss = o.map(".bss").unwrap();
    let mut v = [0u8; 8];
    assert!(bss.lookup(&0u32.to_le_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_le_bytes(v), 3, "getpgid() calls seen by the retargeted fentry");
}

pub fn freplace_replaces_a_function_of_a_loaded_program() {
    let mut target = open_with("freplace_target.o", &OpenOptions::default());
    target.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    target.load(&Default::default()).unwrap();
    let (links, errors) = target.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    let result = |t: &Object| {
        let mut v = [0u8; 8];
        assert!(t.map(".bss").unwrap().lookup(&0u32.to_le_bytes(), &mut v).unwrap());
        u64::from_le_bytes(v)
    };
    getpgid();
    assert_eq!(result(&target), 42, "compute(21) before the replacement");

    let mut r = open_with("freplace.o", &OpenOptions::default());
    // Without a target program: a clear error.
    let e = r.load(&Default::default()).unwrap_err();
    assert!(e.to_string().contains("set_attach_target"), "{e}");
    let tp = target.program("calls_compute").unwrap();
    // SAFETY: the target's fd stays open while `target` lives.
    let tfd = unsafe { BorrowedFd::borrow_raw(tp.fd().unwrap()) };
    let np = r.program("new_compute").unwrap().clone();
    let e = np.set_attach_target(Some(tfd), Some("no_such_function")).and_then(|_| r.load(&Default::default())).unwrap_err();
    assert!(e.to_string().contains("no function 'no_such_function'"), "{e}");
    np.set_attach_target(Some(tfd), Some("compute")).unwrap();
    if let Err(e) = r.load(&Default::default()) {
        if e.errno() == libc::EPERM || e.errno() == 524 {
            skip(format!("this kernel refuses freplace ({e}); the VM suite runs this test"));
        }
        panic!("load freplace: {e}");
    }
    let l = match np.attach() {
        Ok(l) => l,
        Err(e) if e.errno() == libc::EPERM || e.errno() == 524 => skip(format!("this kernel refuses to attach freplace ({e}); the VM suite runs this test")),
        Err(e) => panic!("attach freplace: {e}"),
    };
    getpgid();
    assert_eq!(result(&target), 1021, "compute(21) replaced by new_compute");
    drop(l);
    getpgid();
    assert_eq!(result(&target), 42, "detached: the original compute again");
    drop(links);
}

pub fn map_shape_flags_and_inner_map() {
    const BPF_F_NO_PREALLOC: u32 = 1;
    const BPF_F_NUMA_NODE: u32 = 4;
    let a = {
        let mut a = setup_obj(&OpenOptions::default());
        a.load(&Default::default()).unwrap();
        a
    };
    // Key size, flags and NUMA node as the kernel reports them (through a pin).
    let path = format!("{}/setup_sized", pin_root());
    let _ = std::fs::remove_file(&path);
    let mut b = setup_obj(&OpenOptions::default());
    let sized = b.map("sized").unwrap().clone();
    sized.set_key_size(8).unwrap();
    sized.set_map_flags(BPF_F_NO_PREALLOC).unwrap();
    sized.set_numa_node(0).unwrap();
    sized.set_pin_path(&path).unwrap();
    b.program("uses_sized").unwrap().set_autoload(false).unwrap(); // it looks up 4-byte keys
    // Inner maps shaped like a hash map (a's `sized`) instead of the array template.
    b.map("outer").unwrap().set_inner_map_fd(fd_of(a.map("sized").unwrap())).unwrap();
    b.load(&Default::default()).unwrap();
    let k = bpfl::Map::open_pinned(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!((k.key_size(), k.map_flags()), (8, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE), "as the kernel created it");
    sized.update(&7u64.to_le_bytes(), &1u64.to_le_bytes(), 0).unwrap();
    let inner_fd = (a.map("sized").unwrap().fd().unwrap() as u32).to_le_bytes();
    b.map("outer").unwrap().update(&0u32.to_le_bytes(), &inner_fd, 0).unwrap_or_else(|e| panic!("a hash map into outer: {e}"));
    // Without set_inner_map_fd, the same hash map does not fit the array template.
    let mut c = setup_obj(&OpenOptions::default());
    c.load(&Default::default()).unwrap();
    let e = c.map("outer").unwrap().update(&0u32.to_le_bytes(), &inner_fd, 0).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    // A map that is not a map-in-map refuses an inner map.
    let d = setup_obj(&OpenOptions::default());
    assert!(d.map("shared").unwrap().set_inner_map_fd(fd_of(a.map("sized").unwrap())).is_err());
}
