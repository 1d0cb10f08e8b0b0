//! Kernel integration tests: every test loads real BPF objects from `bpf/`
//! into the running kernel and checks what the kernel did. Run by `make test`
//! (root); without root/bpf() each kernel test prints SKIPPED.

mod batch;
mod cgroup;
mod harness;
mod kinds;
mod loader_internals;
mod setup;
mod hardening;
mod net;
mod net2;
mod flow_rps;
mod query_if;
mod probes;
mod messages;
mod globals;
mod loaded;
use harness::{obj, Test};

use bpfl::{ErrorKind, KprobeOptions, Object, OpenOptions};
use std::ops::ControlFlow;

fn getppid() {
    unsafe { libc::syscall(libc::SYS_getppid) };
}
fn getpid() {
    unsafe { libc::syscall(libc::SYS_getpid) };
}
fn gettid() {
    unsafe { libc::syscall(libc::SYS_gettid) };
}
/// This process's id, asked once: `std::process::id()` is a getpid() call,
/// which the getpid programs would see.
fn tgid() -> u32 {
    static TGID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *TGID.get_or_init(std::process::id)
}

fn u64_at(m: &bpfl::Map, key: &[u8]) -> Option<u64> {
    let mut v = [0u8; 8];
    m.lookup(key, &mut v).unwrap().then(|| u64::from_le_bytes(v))
}

fn open(name: &str) -> Object {
    Object::open_file(&obj(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

fn loaded(name: &str) -> Object {
    let mut o = open(name);
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load {name}: {e}"));
    o
}

/// A pin root of our own so tests never touch the user's pins.
fn pin_root() -> String {
    let d = format!("/sys/fs/bpf/bpfl-test-{}", tgid());
    let _ = std::fs::create_dir_all(&d);
    d
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

// ---- the seed's format ---------------------------------------------------------

fn seed_tp_counts(file: &str) {
    let o = loaded(file);
    for m in ["calls", "per_pid", "per_pid16", "by_key"] {
        assert!(o.map(m).is_some(), "{file}: map {m} missing");
    }
    assert_eq!(o.file().maps.iter().filter(|m| m.origin == bpfl::obj::MapOrigin::Legacy).count(), 4, "{file}: four legacy maps");
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{file}: attach errors {errors:?}");
    assert_eq!(links.len(), 2);
    for _ in 0..7 {
        getppid();
    }
    let me = tgid().to_le_bytes();
    assert_eq!(u64_at(o.map("per_pid").unwrap(), &me), Some(7), "{file}: per_pid[tgid]");
    let mut v16 = [0u8; 2];
    assert!(o.map("per_pid16").unwrap().lookup(&me, &mut v16).unwrap());
    assert_eq!(u16::from_le_bytes(v16), 7, "{file}: per_pid16[tgid]");
    let calls = o.map("calls").unwrap();
    let enter = u64_at(calls, &0u32.to_le_bytes()).unwrap();
    let exit = u64_at(calls, &1u32.to_le_bytes()).unwrap();
    assert!(enter >= 7 && exit >= 7, "{file}: calls {enter}/{exit}");
    // A struct key { tgid, kind }: entries and exits of this process.
    for kind in [0u32, 1] {
        let key: Vec<u8> = tgid().to_le_bytes().into_iter().chain(kind.to_le_bytes()).collect();
        assert_eq!(u64_at(o.map("by_key").unwrap(), &key), Some(7), "{file}: by_key[{{tgid, {kind}}}]");
    }
    // Detach: no more counting.
    drop(links);
    getppid();
    assert_eq!(u64_at(o.map("per_pid").unwrap(), &me), Some(7), "{file}: still counting after detach");
}

fn seed_tp_clang() {
    seed_tp_counts("seed_tp.o")
}

fn seed_tp_llc_pipeline() {
    seed_tp_counts("seed_tp.llc.o")
}

fn seed_kprobe_loads_and_reports_missing_kprobes() {
    for file in ["seed_kprobe.o", "seed_kprobe.llc.o"] {
        let o = loaded(file);
        assert_eq!(o.file().kern_version, Some(0xFFFF_FFFE), "{file}: version section");
        assert_eq!(o.programs().len(), 2);
        let (pmu, legacy) = bpfl::host::kprobe_support();
        let (links, errors) = o.attach_all();
        if !pmu && !legacy {
            assert!(links.is_empty());
            assert_eq!(errors.len(), 2);
            for (_, e) in &errors {
                assert!(e.to_string().contains("kprobes are not supported by this kernel (no kprobe PMU, no kprobe_events)"), "{e}");
                assert_eq!(e.errno(), libc::EOPNOTSUPP);
            }
        } else {
            // A kernel with kprobes (the VM suite): real counts.
            assert!(errors.is_empty(), "{errors:?}");
            for _ in 0..5 {
                getppid();
            }
            let calls = o.map("calls").unwrap();
            assert!(u64_at(calls, &0u32.to_le_bytes()).unwrap() >= 5);
            assert!(u64_at(calls, &1u32.to_le_bytes()).unwrap() >= 5);
        }
    }
}

fn kprobe_on_missing_function() {
    let o = loaded("seed_kprobe.o");
    let p = &o.programs()[0];
    let e = p.attach_kprobe("__x64_sys_getppid", &KprobeOptions { offset: 4, retprobe: true, ..Default::default() }).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("a kretprobe takes no offset"), "{e}");
    let e = p.attach_kprobe("bpfl_no_such_function_xyz", &KprobeOptions::default()).unwrap_err();
    let (pmu, legacy) = bpfl::host::kprobe_support();
    if !pmu && !legacy {
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    } else {
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert!(e.to_string().contains("bpfl_no_such_function_xyz"), "{e}");
    }
}

// ---- modern objects: BTF maps, global data, subprograms ----------------------------

fn modern_btf_maps_global_data_subprograms() {
    let root = pin_root();
    let mut o = Object::open_file(&obj("modern.o"), &OpenOptions { pin_root: Some(root.clone()), ..Default::default() }).unwrap();
    let names: Vec<&str> = o.maps().iter().map(|m| m.name()).collect();
    for m in ["pinned_counts", ".rodata", ".bss", ".data"] {
        assert!(names.contains(&m), "map {m} missing from {names:?}");
    }
    let pc = o.map("pinned_counts").unwrap();
    assert_eq!((pc.map_type(), pc.key_size(), pc.value_size()), (1, 4, 8));
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    assert!(o.set_global("target_tgid", &[1, 2]).is_err(), "wrong size accepted");
    assert!(o.set_global("no_such_var", &[0; 4]).is_err());
    o.load(&Default::default()).unwrap();
    assert!(std::path::Path::new(&format!("{root}/pinned_counts")).exists(), "not pinned by name");
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(links.len() >= 3);
    for _ in 0..5 {
        getpid();
    }
    for _ in 0..3 {
        gettid();
    }
    drop(links);
    let k = |i: u32| i.to_le_bytes();
    // The subprogram ran from both tracepoint programs, only for this process.
    let by_kind = o.map("by_kind").unwrap();
    assert_eq!(u64_at(by_kind, &k(0)), Some(5), "by_kind[0]: getpid via tp/");
    assert_eq!(u64_at(by_kind, &k(1)), Some(3), "by_kind[1]: gettid via tracepoint/");
    assert_eq!(u64_at(by_kind, &k(2)), Some(5), "by_kind[2]: getpid via raw_tracepoint");
    assert_eq!(u64_at(by_kind, &k(3)), Some(0x1234), "by_kind[3]: magic from .data");
    let pc = o.map("pinned_counts").unwrap();
    assert_eq!((u64_at(pc, &k(0)), u64_at(pc, &k(1))), (Some(5), Some(3)), "pinned_counts");
    // .bss holds `hits` alone: 8 calls of the subprogram.
    let mut bss = vec![0u8; o.map(".bss").unwrap().value_size() as usize];
    assert!(o.map(".bss").unwrap().lookup(&k(0), &mut bss).unwrap());
    assert_eq!(u64::from_le_bytes(bss[..8].try_into().unwrap()), 8, ".bss hits");
    // The per-CPU slots sum to the same 8.
    let percpu = o.map("percpu").unwrap();
    let mut vals = vec![0u8; percpu.value_buf_size()];
    assert!(percpu.lookup(&k(0), &mut vals).unwrap());
    let sum: u64 = vals.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).sum();
    assert_eq!(sum, 8, "percpu sum");
    // The pin outlives the object: reopen it and read the same values.
    drop(o);
    let pinned = bpfl::Map::open_pinned(&format!("{root}/pinned_counts")).unwrap();
    assert_eq!(u64_at(&pinned, &k(0)), Some(5), "pinned map after close");
    let _ = std::fs::remove_file(format!("{root}/pinned_counts"));
}

// ---- uprobes ------------------------------------------------------------------

/// The function the uprobe test probes, in this very binary.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bpfl_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x * 2 + 1)
}

fn uprobe_and_uretprobe_on_own_function() {
    let o = loaded("uprobe.o");
    let exe = std::env::current_exe().unwrap().to_string_lossy().into_owned();
    // Bare `uprobe`/`uretprobe` sections: attach_all leaves them to the caller.
    let (links, errors) = o.attach_all();
    assert!(links.is_empty() && errors.is_empty(), "{errors:?}");
    let ev = o.map("events").unwrap();
    assert_eq!(ev.max_entries() as usize, bpfl::host::cpus::possible_cpus(), "perf event array sized to the possible CPUs");
    assert!(ev.fd().is_ok());
    let on_call = o.program("on_call").unwrap();
    let on_return = o.program("on_return").unwrap();
    let me = bpfl::UprobeOptions { pid: tgid() as i32, ..Default::default() };
    let l1 = on_call.attach_uprobe(&exe, Some("bpfl_uprobe_target"), &me).unwrap();
    let l2 = on_return.attach_uprobe(&exe, Some("bpfl_uprobe_target"), &bpfl::UprobeOptions { retprobe: true, ..Default::default() }).unwrap();
    let mut total = 0;
    for i in 1..=6u64 {
        total += bpfl_uprobe_target(std::hint::black_box(i));
    }
    assert_eq!(total, 48);
    let st = o.map("stats").unwrap();
    let k = |i: u32| i.to_le_bytes();
    assert_eq!(u64_at(st, &k(0)), Some(6), "calls");
    assert_eq!(u64_at(st, &k(1)), Some(21), "sum of arguments");
    assert_eq!(u64_at(st, &k(2)), Some(6), "returns");
    assert_eq!(u64_at(st, &k(3)), Some(13), "last return value");
    drop((l1, l2));
    bpfl_uprobe_target(100);
    assert_eq!(u64_at(st, &k(0)), Some(6), "still counting after detach");
    // Errors name what is missing.
    let e = on_call.attach_uprobe(&exe, Some("bpfl_no_such_function"), &me).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("bpfl_no_such_function"), "{e}");
    let e = on_call.attach_uprobe("/nonexistent/bin", Some("f"), &me).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // A uprobe program is not a tracepoint.
    assert!(on_call.attach_tracepoint("syscalls", "sys_enter_getpid").is_err());
}

// ---- maps ---------------------------------------------------------------------

fn map_ops_and_size_checks() {
    let o = loaded("seed_tp.o");
    let m = o.map("per_pid").unwrap();
    m.clear().unwrap();
    // wrong sizes are refused before the syscall
    let mut v = [0u8; 8];
    let e = m.lookup(&[0u8; 8], &mut v).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("key is 8 bytes, the map's keys are 4 bytes"), "{e}");
    let mut small = [0u8; 2];
    let e = m.lookup(&1u32.to_le_bytes(), &mut small).unwrap_err();
    assert!(e.to_string().contains("value buffer is 2 bytes, the map's values are 8 bytes"), "{e}");
    // update flags
    m.update(&1u32.to_le_bytes(), &10u64.to_le_bytes(), bpfl::map::BPF_NOEXIST).unwrap();
    assert_eq!(m.update(&1u32.to_le_bytes(), &11u64.to_le_bytes(), bpfl::map::BPF_NOEXIST).unwrap_err().errno(), libc::EEXIST);
    assert_eq!(m.update(&2u32.to_le_bytes(), &11u64.to_le_bytes(), bpfl::map::BPF_EXIST).unwrap_err().errno(), libc::ENOENT);
    m.update(&1u32.to_le_bytes(), &12u64.to_le_bytes(), bpfl::map::BPF_EXIST).unwrap();
    assert_eq!(u64_at(m, &1u32.to_le_bytes()), Some(12));
    // iteration, batch read, delete, clear
    for k in 100u32..600 {
        m.update(&k.to_le_bytes(), &(k as u64 * 3).to_le_bytes(), 0).unwrap();
    }
    let keys: Vec<u32> = m.keys().map(|k| u32::from_le_bytes(k.unwrap().try_into().unwrap())).collect();
    assert_eq!(keys.len(), 501);
    let mut kb = vec![0u8; 4 * 1000];
    let mut vb = vec![0u8; 8 * 1000];
    let n = m.read_all(&mut kb, &mut vb, 1000).unwrap();
    assert_eq!(n, 501);
    for i in 0..n {
        let k = u32::from_le_bytes(kb[i * 4..i * 4 + 4].try_into().unwrap());
        let v = u64::from_le_bytes(vb[i * 8..i * 8 + 8].try_into().unwrap());
        assert_eq!(v, if k == 1 { 12 } else { k as u64 * 3 }, "key {k}");
    }
    assert!(m.delete(&1u32.to_le_bytes()).unwrap());
    assert!(!m.delete(&1u32.to_le_bytes()).unwrap());
    assert_eq!(u64_at(m, &1u32.to_le_bytes()), None);
    m.clear().unwrap();
    assert_eq!(m.keys().count(), 0);
    // arrays clear to zero
    let calls = o.map("calls").unwrap();
    calls.update(&0u32.to_le_bytes(), &5u64.to_le_bytes(), 0).unwrap();
    calls.clear().unwrap();
    assert_eq!(u64_at(calls, &0u32.to_le_bytes()), Some(0));
}

fn pin_and_open_pinned() {
    let root = pin_root();
    let path = format!("{root}/per_pid_pin");
    let _ = std::fs::remove_file(&path);
    let o = loaded("seed_tp.o");
    let m = o.map("per_pid").unwrap();
    m.update(&42u32.to_le_bytes(), &4242u64.to_le_bytes(), 0).unwrap();
    m.pin(&path).unwrap();
    drop(o);
    let p = bpfl::Map::open_pinned(&path).unwrap();
    assert_eq!((p.key_size(), p.value_size(), p.map_type()), (4, 8, 1));
    assert_eq!(u64_at(&p, &42u32.to_le_bytes()), Some(4242));
    std::fs::remove_file(&path).unwrap();
    let e = bpfl::Map::open_pinned(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // A file that is not on a bpffs: the error says so.
    let e = bpfl::Map::open_pinned("/proc/self/status").unwrap_err();
    assert!(e.to_string().contains("not on a bpffs"), "{e}");
}

// ---- failures ------------------------------------------------------------------

fn verifier_rejection_returns_log_and_leaves_nothing() {
    let before = open_fds();
    let mut o = open("bad_verifier.o");
    let e = o.load(&Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Verifier, "{e}");
    let msg = e.to_string();
    let prog = &o.programs()[0];
    assert!(msg.contains(&format!("program '{}'", prog.name())), "no program name in: {msg}");
    assert!(msg.contains("verifier log"), "no log in: {msg}");
    assert!(msg.contains("R0") || msg.contains("invalid mem access") || msg.contains("null"), "no verifier reason in: {msg}");
    assert!(!prog.is_loaded());
    assert!(o.maps().iter().all(|m| m.fd().is_err()), "a map survived the failed load");
    drop(o);
    assert_eq!(open_fds(), before, "file descriptors leaked");
}

fn co_re_relocations_are_applied() {
    let f = bpfl::obj::ObjectSpec::parse(&std::fs::read(obj("core_refused.o")).unwrap(), &Default::default()).unwrap();
    let n: usize = f.btf_ext.as_ref().unwrap().core_relos.iter().map(|(_, r)| r.len()).sum();
    assert!(n >= 1, "the object has CO-RE relocations");
    assert_eq!(f.assemble(0).unwrap().core_relos.len(), n, "every relocation reaches the assembled program");
    // Compiled, tgid is at offset 4 of the local two-field struct; the kernel has it elsewhere.
    let o = loaded("core_refused.o");
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    getpid();
    drop(links);
    let me = tgid();
    assert_eq!(u64_at(o.map("seen").unwrap(), &me.to_le_bytes()), Some(me as u64), "task->tgid read at the relocated offset");
}

fn thread_comm() -> [u8; 16] {
    let c = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
    let mut b = [0u8; 16];
    let c = c.trim_end_matches('\n').as_bytes();
    b[..c.len().min(15)].copy_from_slice(&c[..c.len().min(15)]);
    b
}

fn co_re_fields_types_and_enums() {
    let mut o = open("core_fields.o");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load core_fields.o: {e}"));
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u64;
    let ppid = unsafe { libc::getppid() } as u64;
    getpid();
    drop(links);
    let m = o.map("out").unwrap();
    let at = |k: u32| u64_at(m, &k.to_le_bytes()).unwrap();
    assert_eq!(at(0), tid, "task->pid (the thread id)");
    assert_eq!(at(1), tgid() as u64, "task->tgid");
    assert_eq!(at(2), ppid, "task->real_parent->tgid");
    assert_eq!(at(3), 1, "field exists: pid");
    assert_eq!(at(4), 0, "field exists: a field the kernel lacks");
    assert_eq!(at(5), 16, "type size: struct list_head (local: 8 bytes)");
    assert_eq!(at(6), 0, "type exists: a type the kernel lacks");
    assert_eq!(at(7), 27, "enum value: BPF_MAP_TYPE_RINGBUF (local: 99)");
    assert_eq!(at(8), 0, "enum value exists: an enumerator the kernel lacks");
    assert_eq!(at(9), 16, "field size: task->comm (local: char[4])");
    assert_eq!(at(10), 77, "the guarded read of a missing field is dead code");
    let k = bpfl::host::vmlinux::kernel_btf().unwrap();
    assert_eq!(at(11), k.find("task_struct", bpfl::btf::BtfKind::Struct).unwrap() as u64, "target type id of task_struct");
    assert_eq!(at(12), 1, "field signed: pid_t (local: unsigned)");
    let mut comm = [0u8; 16];
    comm[..8].copy_from_slice(&at(13).to_le_bytes());
    comm[8..].copy_from_slice(&at(14).to_le_bytes());
    assert_eq!(comm, thread_comm(), "task->comm");
    assert_eq!(at(15), 1, "enum value exists: BPF_MAP_TYPE_RINGBUF");
}

fn co_re_unresolvable_access_is_poisoned() {
    let before = open_fds();
    let mut o = open("core_poisoned.o");
    let e = o.load(&Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Verifier, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("program 'core_poisoned'"), "{msg}");
    assert!(msg.contains("poisoned by an unresolved CO-RE relocation"), "{msg}");
    assert!(msg.contains("byte_off of [") && msg.contains("struct task_struct___gone.no_such_field_in_the_kernel"), "{msg}");
    assert!(o.maps().iter().all(|m| m.fd().is_err()), "a map survived the failed load");
    drop(o);
    assert_eq!(open_fds(), before, "file descriptors leaked");
}

fn tp_btf_attach_target_from_kernel_btf() {
    if cfg!(not(target_arch = "x86_64")) {
        return; // the program checks the x86-64 getpid number
    }
    let mut o = open("core_tp_btf.o");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load core_tp_btf.o: {e}"));
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(links.len(), 1);
    for _ in 0..3 {
        getpid();
    }
    drop(links);
    getpid();
    let m = o.map("hits").unwrap();
    assert_eq!(u64_at(m, &0u32.to_le_bytes()), Some(3), "getpid() calls seen by tp_btf/sys_enter");
    assert_eq!(u64_at(m, &1u32.to_le_bytes()), Some(tgid() as u64), "task->tgid through CO-RE");
    // A target the kernel does not have (the section renamed in place): a clear error naming it.
    let mut data = std::fs::read(obj("core_tp_btf.o")).unwrap();
    let (from, to) = (b"tp_btf/sys_enter", b"tp_btf/nosuch_tp");
    let mut n = 0;
    while let Some(i) = data.windows(from.len()).position(|w| w == from) {
        data[i..i + from.len()].copy_from_slice(to);
        n += 1;
    }
    assert!(n >= 1);
    let mut o = Object::open_mem(&data, &OpenOptions::default()).unwrap();
    let e = o.load(&Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("'btf_trace_nosuch_tp'") && e.to_string().contains("program 'on_sys_enter'"), "{e}");
}

fn bad_legacy_map_definition() {
    let e = Object::open_file(&obj("bad_maps.o"), &Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert!(e.to_string().contains("past the 7 fields bpfl knows"), "{e}");
}

fn malformed_elf_inputs() {
    let good = std::fs::read(obj("seed_tp.o")).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("garbage", (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect()),
        ("truncated header", good[..40].to_vec()),
        ("truncated half", good[..good.len() / 2].to_vec()),
        ("not BPF", std::fs::read("/proc/self/exe").unwrap()),
    ];
    for (what, bytes) in cases {
        let e = Object::open_mem(&bytes, &Default::default()).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Parse | ErrorKind::Unsupported), "{what}: {e:?}");
        assert!(!e.to_string().is_empty());
        println!("        {what}: {e}");
    }
    let e = Object::open_mem(&std::fs::read("/proc/self/exe").unwrap(), &Default::default()).unwrap_err();
    assert!(e.to_string().contains("not BPF"), "{e}");
    // Every single-byte truncation point in the first 512 bytes, and random corruption: errors, no panics.
    for cut in (0..good.len().min(512)).step_by(7) {
        let _ = Object::open_mem(&good[..cut], &Default::default());
    }
    let mut seed = 0x1234_5678u32;
    for _ in 0..300 {
        let mut b = good.clone();
        for _ in 0..8 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = (seed as usize >> 4) % b.len();
            b[i] = (seed >> 24) as u8;
        }
        let _ = Object::open_mem(&b, &Default::default());
    }
}

fn bad_relocation() {
    use goblin::elf::Elf;
    let good = std::fs::read(obj("seed_tp.o")).unwrap();
    let elf = Elf::parse(&good).unwrap();
    // First REL section applying to a code section: point its first entry past the section.
    let (idx, _) = elf.shdr_relocs.iter().find(|(i, _)| elf.section_headers[*i].sh_info != 0).expect("a relocation section");
    let sh = &elf.section_headers[*idx];
    let mut bad = good.clone();
    let off = sh.sh_offset as usize;
    bad[off..off + 8].copy_from_slice(&0xfff8u64.to_le_bytes());
    let e = Object::open_mem(&bad, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("not an instruction of the section"), "{e}");
    // Symbol index out of range.
    let mut bad = good.clone();
    bad[off + 12..off + 16].copy_from_slice(&0xffffu32.to_le_bytes());
    let e = Object::open_mem(&bad, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("symbol"), "{e}");
}

fn close_detaches_and_releases_fds() {
    let before = open_fds();
    {
        let o = loaded("seed_tp.o");
        let (links, _) = o.attach_all();
        assert_eq!(links.len(), 2);
        getppid();
    }
    assert_eq!(open_fds(), before, "fds left after dropping the object and its links");
}

// ---- pure parsing of every object (no kernel) -----------------------------------

fn parse_every_object_and_link_every_program() {
    let dir = harness::bpf_dir();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".o") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let parsed = bpfl::obj::ObjectSpec::parse(&data, &bpfl::obj::ParseOptions { name: Some(name.clone()) });
        if name.starts_with("bad_maps") {
            assert!(parsed.is_err(), "{name} parsed");
            continue;
        }
        let f = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!f.programs.is_empty(), "{name}: no programs");
        assert!(f.license.contains("GPL"), "{name}: license {:?}", f.license);
        for i in 0..f.programs.len() {
            let l = f.assemble(i).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(l.insns.len() / 8 >= f.programs[i].insn_count());
            // Every map reference points at a map of the object.
            for r in &l.map_refs {
                let m = match r {
                    bpfl::obj::MapRef::Fd(_, m) | bpfl::obj::MapRef::Value(_, m, _) => *m,
                };
                assert!(m < f.maps.len());
            }
        }
        n += 1;
    }
    assert!(n >= 5, "only {n} objects in {dir}");
}

fn parse_seed_legacy_maps() {
    for file in ["seed_tp.o", "seed_tp.llc.o", "seed_kprobe.o", "seed_kprobe.llc.o"] {
        let f = bpfl::obj::ObjectSpec::parse(&std::fs::read(obj(file)).unwrap(), &Default::default()).unwrap();
        assert!(f.maps.iter().all(|m| m.origin == bpfl::obj::MapOrigin::Legacy), "{file}");
        let calls = &f.maps[f.map_index("calls").unwrap()];
        assert_eq!((calls.map_type, calls.key_size, calls.value_size), (bpfl::obj::MapType::ARRAY, 4, 8), "{file}");
        for p in &f.programs {
            assert!(p.def.is_some(), "{file}: {} unknown", p.section);
        }
    }
    let k = bpfl::obj::ObjectSpec::parse(&std::fs::read(obj("seed_kprobe.o")).unwrap(), &Default::default()).unwrap();
    let secs: Vec<&str> = k.programs.iter().map(|p| p.section.as_str()).collect();
    assert!(secs.iter().any(|s| s.starts_with("kprobe/")) && secs.iter().any(|s| s.starts_with("kretprobe/")), "{secs:?}");
    assert_eq!(k.kern_version, Some(0xFFFF_FFFE));
}

fn parse_modern_btf_maps_and_subprograms() {
    let f = bpfl::obj::ObjectSpec::parse(&std::fs::read(obj("modern.o")).unwrap(), &Default::default()).unwrap();
    assert!(f.btf.is_some() && f.btf_ext.is_some(), "BTF missing");
    let pc = &f.maps[f.map_index("pinned_counts").unwrap()];
    assert_eq!((pc.origin.clone(), pc.map_type, pc.key_size, pc.value_size, pc.pinning), (bpfl::obj::MapOrigin::Btf, bpfl::obj::MapType::HASH, 4, 8, 1));
    assert!(pc.btf_key_type_id != 0 && pc.btf_value_type_id != 0);
    let ro = &f.maps[f.map_index(".rodata").unwrap()];
    assert!(ro.map_flags & bpfl::obj::map_flags::RDONLY_PROG != 0);
    // The two programs that share a subprogram both get it appended, with func/line info.
    let mut with_calls = 0;
    for i in 0..f.programs.len() {
        let l = f.assemble(i).unwrap();
        if l.insns.len() / 8 > f.programs[i].insn_count() {
            with_calls += 1;
            assert!(l.func_info.len() >= 2, "{}: func_info {:?}", f.programs[i].name, l.func_info);
            assert_eq!(l.func_info[0].0, 0);
        }
        assert!(!l.line_info.is_empty(), "{}: no line info", f.programs[i].name);
    }
    assert!(with_calls >= 2, "subprogram appended to {with_calls} programs");
}

// ---- externs ---------------------------------------------------------------------

/// The running kernel's config, read independently of bpfl (zcat).
/// The kernel's config, read without bpfl: /proc/config.gz (zcat), else
/// /boot/config-$(uname -r) as Debian installs it.
fn kernel_config() -> String {
    if let Ok(out) = std::process::Command::new("zcat").arg("/proc/config.gz").output() {
        if out.status.success() {
            return String::from_utf8(out.stdout).unwrap();
        }
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let path = format!("/boot/config-{}", release.trim());
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("no /proc/config.gz and {path}: {e}"))
}

fn config_value(cfg: &str, name: &str) -> Option<String> {
    cfg.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')).map(|v| v.to_string()))
}

fn kallsyms_addr(name: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/kallsyms").unwrap().lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 3 && f[2] == name).then(|| u64::from_str_radix(f[0], 16).unwrap())
    })
}

fn kconfig_and_ksym_externs() {
    let mut o = open("externs.o");
    let kc = o.file().kconfig_map.expect("a .kconfig map");
    assert_eq!(o.file().maps[kc].name, ".kconfig");
    assert_eq!(o.file().maps[kc].map_flags & bpfl::obj::map_flags::RDONLY_PROG, bpfl::obj::map_flags::RDONLY_PROG);
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load externs.o: {e}"));
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    getpid();
    drop(links);
    let r = o.map("results").unwrap();
    let at = |k: u32| u64_at(r, &k.to_le_bytes()).unwrap();
    let cfg = kernel_config();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let kver = bpfl::host::kver::parse_release(release.trim()).unwrap();
    // Distribution kernels (Debian's 6.1.0-56 is 6.1.192) may have a truer
    // sublevel in uname -v; major and minor always come from the release.
    let running = bpfl::host::kver::running();
    assert_eq!(running >> 8, kver >> 8, "kernel major.minor");
    assert_eq!(at(0), running as u64, "LINUX_KERNEL_VERSION");
    assert_eq!(at(1), 1, "LINUX_HAS_BPF_COOKIE (6.x)");
    assert_eq!(at(2), kallsyms_addr("__x64_sys_bpf").is_some() as u64, "LINUX_HAS_SYSCALL_WRAPPER");
    assert_eq!(config_value(&cfg, "CONFIG_BPF").as_deref(), Some("y"));
    assert_eq!(at(3), 1, "CONFIG_BPF=y as bool");
    assert_eq!(config_value(&cfg, "CONFIG_BPF_SYSCALL").as_deref(), Some("y"));
    assert_eq!(at(4), 1, "CONFIG_BPF_SYSCALL=y as tristate");
    let jit = config_value(&cfg, "CONFIG_BPF_JIT").map_or(0, |v| v.as_bytes()[0] as u64);
    assert_eq!(at(5), jit, "CONFIG_BPF_JIT as char");
    let hz: u64 = config_value(&cfg, "CONFIG_HZ").unwrap().parse().unwrap();
    assert_eq!(at(6), hz, "CONFIG_HZ");
    let host = config_value(&cfg, "CONFIG_DEFAULT_HOSTNAME").unwrap();
    let mut want = [0u8; 8];
    let hb = host.trim_matches('"').as_bytes();
    want[..hb.len().min(8)].copy_from_slice(&hb[..hb.len().min(8)]);
    assert_eq!(at(7).to_le_bytes(), want, "CONFIG_DEFAULT_HOSTNAME's first 8 bytes");
    assert_eq!(at(8), 0, "__weak CONFIG_ that does not exist");
    assert_eq!(at(9), kallsyms_addr("bpf_prog_get").unwrap(), "typeless __ksym address");
    assert_eq!(at(10), 0, "__weak __ksym that does not exist");
    assert_eq!(at(11), 0, "bpf_ksym_exists() of a missing __weak kfunc");
    let has_rcu_kfuncs = kallsyms_addr("bpf_rcu_read_lock").is_some();
    assert_eq!(at(12), if has_rcu_kfuncs { 1 } else { 2 }, "ran between the bpf_rcu_read_lock/unlock kfunc calls (2: the kernel has none, 6.1)");
}

fn typed_ksym_through_kernel_btf() {
    let mut o = open("ksym_typed.o");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    match o.load(&Default::default()) {
        Ok(()) => {
            let (links, errors) = o.attach_all();
            assert!(errors.is_empty(), "{errors:?}");
            getpid();
            drop(links);
            assert_eq!(u64_at(o.map("active").unwrap(), &0u32.to_le_bytes()), Some(1), "bpf_prog_active inside a tracepoint program");
        }
        Err(e) => {
            // The kernel took the BTF id and looked the name up in kallsyms,
            // which holds no data symbols without CONFIG_KALLSYMS_ALL.
            assert!(kallsyms_addr("bpf_prog_active").is_none(), "kallsyms has bpf_prog_active, yet: {e}");
            assert_eq!(e.kind(), ErrorKind::Verifier, "{e}");
            assert!(e.to_string().contains("failed to find the address for kernel symbol 'bpf_prog_active'"), "{e}");
        }
    }
}


// ---- ring buffers and perf buffers -------------------------------------------------

const MARK_RESERVED: u64 = 0xfeedf00d00000000;
const MARK_OUTPUT: u64 = 0xb0b0000000000000;
const MARK_DISCARDED: u64 = 0xdeaddead00000000;
const MARK_PERF: u64 = 0x9e4f000000000000;

/// `ringbuf.o` loaded for this process.
fn ringbuf_obj() -> Object {
    let mut o = open("ringbuf.o");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load ringbuf.o: {e}"));
    o
}

fn attach_one(o: &Object, prog: &str) -> bpfl::Link {
    o.program(prog).unwrap().attach().unwrap_or_else(|e| panic!("attach {prog}: {e}"))
}

fn failures(o: &Object, k: u32) -> u64 {
    u64_at(o.map("failures").unwrap(), &k.to_le_bytes()).unwrap()
}

/// (tgid, seq, marker) of a struct event / event2.
fn event(d: &[u8]) -> (u32, u32, u64) {
    (u32::from_le_bytes(d[0..4].try_into().unwrap()), u32::from_le_bytes(d[4..8].try_into().unwrap()), u64::from_le_bytes(d[8..16].try_into().unwrap()))
}

/// Check ring records: for seq in `seqs`, struct event A (16 bytes) then struct event2 B (24 bytes).
fn check_ring_records(recs: &[Vec<u8>], seqs: std::ops::Range<u32>) {
    assert_eq!(recs.len(), 2 * seqs.len(), "records");
    for (i, s) in seqs.enumerate() {
        let (a, b) = (&recs[2 * i], &recs[2 * i + 1]);
        assert_eq!(a.len(), 16, "record A {s} length");
        assert_eq!(event(a), (tgid(), s, MARK_RESERVED | s as u64), "record A {s}");
        assert_eq!(b.len(), 24, "record B {s} length");
        assert_eq!(event(b), (tgid(), s, MARK_OUTPUT | s as u64), "record B {s}");
        assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), !(s as u64), "record B {s} extra");
    }
}

/// Poll until `want` records came (or 5 s passed).
fn poll_ring(rb: &mut bpfl::RingBuffer, want: usize) -> Vec<Vec<u8>> {
    let mut recs = Vec::new();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while recs.len() < want && std::time::Instant::now() < end {
        rb.poll(100, |d| {
            recs.push(d.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
    }
    recs
}

fn ringbuf_records_in_order_and_discards_skipped() {
    let o = ringbuf_obj();
    let mut rb = bpfl::RingBuffer::new(o.map("events").unwrap()).unwrap();
    assert_eq!(rb.poll(0, |_| ControlFlow::Continue(())).unwrap(), bpfl::ringbuf::Consumed::default(), "empty at first");
    let link = attach_one(&o, "rb_getpid");
    const N: u32 = 100;
    for _ in 0..N {
        getpid();
    }
    let recs = poll_ring(&mut rb, 2 * N as usize);
    check_ring_records(&recs, 0..N);
    assert!(recs.iter().all(|r| event(r).2 & MARK_DISCARDED != MARK_DISCARDED), "a discarded record was delivered");
    assert_eq!(failures(&o, 0), 0, "reserve/output failures");
    assert_eq!(rb.available(), 0);
    assert_eq!(rb.consume(|_| ControlFlow::Continue(())).records, 0, "nothing left");

    // A callback that stops: the record counts, the rest stays for later.
    for _ in 0..3 {
        getpid();
    }
    let mut first = Vec::new();
    let c = rb.consume(|d| {
        first.push(d.to_vec());
        ControlFlow::Break(7)
    });
    assert_eq!(c, bpfl::ringbuf::Consumed { records: 1, stopped: Some(7) });
    let rest = rb.drain();
    let all: Vec<Vec<u8>> = first.into_iter().chain(rest).collect();
    check_ring_records(&all, N..N + 3);

    // The consumer outlives its object: the link keeps program and map alive.
    drop(o);
    for _ in 0..2 {
        getpid();
    }
    check_ring_records(&poll_ring(&mut rb, 4), N + 3..N + 5);
    drop(link);
}

fn ringbuf_wraparound_over_many_rounds() {
    let o = ringbuf_obj();
    let small = o.map("small").unwrap();
    assert_eq!(small.max_entries(), 4096);
    let mut rb = bpfl::RingBuffer::new(small).unwrap();
    let _link = attach_one(&o, "small_getpid");
    // 80 bytes per getpid (24 + 24 discarded + 32): 30 of them fill 2400 of
    // 4096 bytes, so 20 rounds go around the ring about 12 times, with
    // records straddling its end.
    const ROUNDS: u32 = 20;
    const PER: u32 = 30;
    for r in 0..ROUNDS {
        for _ in 0..PER {
            getpid();
        }
        let recs = poll_ring(&mut rb, 2 * PER as usize);
        check_ring_records(&recs, r * PER..(r + 1) * PER);
        assert_eq!(rb.available(), 0, "round {r}: left over ({} records)", recs.len());
    }
    assert_eq!(failures(&o, 1), 0, "the small ring was never full");
    // Overfill: 60 getpids need 4800 bytes; the program counts what did not fit.
    for _ in 0..60 {
        getpid();
    }
    let recs = rb.drain();
    let dropped = failures(&o, 1);
    assert!(dropped > 0, "nothing dropped");
    let delivered_a = recs.iter().filter(|r| event(r).2 & 0xffff_ffff_0000_0000 == MARK_RESERVED).count() as u64;
    // Each getpid either delivered A (and maybe B) or counted a failure for A.
    assert!(delivered_a + dropped >= 60, "delivered {delivered_a} + dropped {dropped}");
    let seqs: Vec<u32> = recs.iter().map(|r| event(r).1).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "in order: {seqs:?}");
}

fn ringbuf_two_maps_one_poller() {
    let o = ringbuf_obj();
    let mut rb = bpfl::RingBuffer::new(o.map("events").unwrap()).unwrap();
    assert_eq!(rb.add(o.map("small").unwrap()).unwrap(), 1);
    let _l1 = attach_one(&o, "rb_getpid");
    let _l2 = attach_one(&o, "small_getpid");
    for _ in 0..5 {
        getpid();
    }
    let mut per = [Vec::new(), Vec::new()];
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while per[0].len() + per[1].len() < 20 && std::time::Instant::now() < end {
        rb.poll_each(100, |i, d| {
            per[i].push(d.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
    }
    check_ring_records(&per[0], 0..5);
    check_ring_records(&per[1], 0..5);
}

fn ringbuf_and_perfbuf_refuse_wrong_maps() {
    let mut o = open("ringbuf.o");
    let e = bpfl::RingBuffer::new(o.map("events").unwrap()).unwrap_err();
    assert!(e.to_string().contains("map 'events' is not created yet"), "{e}");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap();
    let e = bpfl::RingBuffer::new(o.map("perf_events").unwrap()).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert_eq!(e.to_string(), "map 'perf_events' is a BPF_MAP_TYPE_PERF_EVENT_ARRAY, not a ring buffer (BPF_MAP_TYPE_RINGBUF)");
    let e = bpfl::PerfBuffer::new(o.map("events").unwrap(), 8).unwrap_err();
    assert_eq!(e.to_string(), "map 'events' is a BPF_MAP_TYPE_RINGBUF, not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY)");
    let e = bpfl::PerfBuffer::new(o.map("perf_events").unwrap(), 3).unwrap_err();
    assert!(e.to_string().contains("page_cnt 3 is not a power of two"), "{e}");
    // A power of two whose size wraps: it mapped one page and lost every sample.
    for huge in [1usize << (usize::BITS - 1), 1 << (usize::BITS - 12)] {
        let e = bpfl::PerfBuffer::new(o.map("perf_events").unwrap(), huge).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        assert!(e.to_string().contains("too large"), "{e}");
    }
}

/// Poll a perf buffer until `want` samples came (or 5 s passed): (cpu, data) and lost count.
fn poll_perf(pb: &mut bpfl::PerfBuffer, want: usize) -> (Vec<(u32, Vec<u8>)>, u64) {
    let (mut samples, mut lost) = (Vec::new(), 0);
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while samples.len() < want && std::time::Instant::now() < end {
        pb.poll(
            100,
            |cpu, d| {
                samples.push((cpu, d.to_vec()));
                ControlFlow::Continue(())
            },
            |_, n| lost += n,
        )
        .unwrap();
    }
    (samples, lost)
}

fn perfbuf_every_sample_once() {
    let o = ringbuf_obj();
    let mut pb = bpfl::PerfBuffer::new(o.map("perf_events").unwrap(), 8).unwrap();
    assert_eq!(pb.cpus().len(), bpfl::host::cpus::online_cpus().len());
    let link = attach_one(&o, "perf_getpid");
    const N: u32 = 200;
    for i in 0..N {
        getpid();
        if i % 50 == 0 {
            std::thread::yield_now();
        }
    }
    let (samples, lost) = poll_perf(&mut pb, N as usize);
    drop(link);
    assert_eq!(lost, 0);
    assert_eq!(failures(&o, 2), 0, "bpf_perf_event_output failures");
    assert_eq!(samples.len(), N as usize, "samples");
    let mut seen = vec![false; N as usize];
    let mut last: std::collections::HashMap<u32, u32> = Default::default();
    for (cpu, d) in &samples {
        // 16 bytes written; the kernel pads u32 size + data to 8 bytes: 20.
        assert_eq!(d.len(), 20, "raw sample size");
        let (t, s, m) = event(d);
        assert_eq!((t, m), (tgid(), MARK_PERF | s as u64), "sample {s}");
        assert!(!std::mem::replace(&mut seen[s as usize], true), "seq {s} twice");
        if let Some(prev) = last.insert(*cpu, s) {
            assert!(prev < s, "cpu {cpu}: {prev} then {s}");
        }
    }
    assert!(seen.iter().all(|&b| b), "every seq 0..{N}");
}

/// Run `f` pinned to the CPU this thread is on.
fn pinned<T>(f: impl FnOnce(u32) -> T) -> T {
    unsafe {
        let mut old: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut old), 0);
        let cpu = libc::sched_getcpu();
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut one);
        assert_eq!(libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one), 0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(cpu as u32)));
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &old);
        r.unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

fn perfbuf_lost_samples_are_counted() {
    let o = ringbuf_obj();
    // One data page: 4096 bytes hold at most 128 samples of 32 bytes
    // (8 header + 4 size + 20 raw).
    let mut pb = bpfl::PerfBuffer::new(o.map("perf_events").unwrap(), 1).unwrap();
    let _link = attach_one(&o, "perf_getpid");
    const N: u64 = 500;
    let (samples, lost, lost_cpu) = pinned(|cpu| {
        for _ in 0..N {
            getpid();
        }
        let mut seqs = Vec::new();
        let mut lost = 0;
        let mut lost_cpu = Vec::new();
        let mut sample = |c: u32, d: &[u8]| {
            assert_eq!(c, cpu);
            seqs.push(event(d).1);
            ControlFlow::Continue(())
        };
        let c = pb.consume(&mut sample, |c, n| {
            lost += n;
            lost_cpu.push(c)
        });
        assert!(c.samples <= 128 && c.samples > 0, "first read: {c:?}");
        assert_eq!(c.lost, 0, "the loss is reported with the next sample");
        // The next sample carries the loss report in front of it.
        getpid();
        let c2 = pb.consume(&mut sample, |c, n| {
            lost += n;
            lost_cpu.push(c)
        });
        assert_eq!(c2.samples, 1);
        assert_eq!(c2.lost, lost);
        (seqs, lost, (lost_cpu, cpu))
    });
    assert_eq!(samples.len() as u64 + lost, N + 1, "samples {} + lost {lost}", samples.len());
    assert!(lost > 0);
    assert_eq!(lost_cpu.0, vec![lost_cpu.1]);
    assert_eq!(*samples.last().unwrap(), N as u32, "the last sample");
    assert!(samples.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(failures(&o, 2), lost, "the program saw each loss as an output error");
}

fn main() {
    if let Ok(dir) = std::env::var("BPFL_KINDS_CHILD") {
        kinds::child(&dir, std::env::var("BPFL_KINDS_PARENT").unwrap().parse().unwrap());
        return;
    }
    let tests = [
        &[
        Test { name: "parse_every_object_and_link_every_program", needs_kernel: false, f: parse_every_object_and_link_every_program },
        Test { name: "parse_seed_legacy_maps", needs_kernel: false, f: parse_seed_legacy_maps },
        Test { name: "parse_modern_btf_maps_and_subprograms", needs_kernel: false, f: parse_modern_btf_maps_and_subprograms },
        Test { name: "seed_tp_clang", needs_kernel: true, f: seed_tp_clang },
        Test { name: "seed_tp_llc_pipeline", needs_kernel: true, f: seed_tp_llc_pipeline },
        Test { name: "seed_kprobe_loads_and_reports_missing_kprobes", needs_kernel: true, f: seed_kprobe_loads_and_reports_missing_kprobes },
        Test { name: "kprobe_on_missing_function", needs_kernel: true, f: kprobe_on_missing_function },
        Test { name: "modern_btf_maps_global_data_subprograms", needs_kernel: true, f: modern_btf_maps_global_data_subprograms },
        Test { name: "uprobe_and_uretprobe_on_own_function", needs_kernel: true, f: uprobe_and_uretprobe_on_own_function },
        Test { name: "map_ops_and_size_checks", needs_kernel: true, f: map_ops_and_size_checks },
        Test { name: "pin_and_open_pinned", needs_kernel: true, f: pin_and_open_pinned },
        Test { name: "verifier_rejection_returns_log_and_leaves_nothing", needs_kernel: true, f: verifier_rejection_returns_log_and_leaves_nothing },
        Test { name: "co_re_relocations_are_applied", needs_kernel: true, f: co_re_relocations_are_applied },
        Test { name: "co_re_fields_types_and_enums", needs_kernel: true, f: co_re_fields_types_and_enums },
        Test { name: "co_re_unresolvable_access_is_poisoned", needs_kernel: true, f: co_re_unresolvable_access_is_poisoned },
        Test { name: "tp_btf_attach_target_from_kernel_btf", needs_kernel: true, f: tp_btf_attach_target_from_kernel_btf },
        Test { name: "kconfig_and_ksym_externs", needs_kernel: true, f: kconfig_and_ksym_externs },
        Test { name: "typed_ksym_through_kernel_btf", needs_kernel: true, f: typed_ksym_through_kernel_btf },
        Test { name: "bad_legacy_map_definition", needs_kernel: false, f: bad_legacy_map_definition },
        Test { name: "malformed_elf_inputs", needs_kernel: false, f: malformed_elf_inputs },
        Test { name: "bad_relocation", needs_kernel: false, f: bad_relocation },
        Test { name: "close_detaches_and_releases_fds", needs_kernel: true, f: close_detaches_and_releases_fds },
        Test { name: "ringbuf_records_in_order_and_discards_skipped", needs_kernel: true, f: ringbuf_records_in_order_and_discards_skipped },
        Test { name: "ringbuf_wraparound_over_many_rounds", needs_kernel: true, f: ringbuf_wraparound_over_many_rounds },
        Test { name: "ringbuf_two_maps_one_poller", needs_kernel: true, f: ringbuf_two_maps_one_poller },
        Test { name: "ringbuf_and_perfbuf_refuse_wrong_maps", needs_kernel: true, f: ringbuf_and_perfbuf_refuse_wrong_maps },
        Test { name: "perfbuf_every_sample_once", needs_kernel: true, f: perfbuf_every_sample_once },
        Test { name: "perfbuf_lost_samples_are_counted", needs_kernel: true, f: perfbuf_lost_samples_are_counted },
        Test { name: "autoload_off_leaves_the_program_out", needs_kernel: true, f: setup::autoload_off_leaves_the_program_out },
        Test { name: "resized_map_holds_exactly_its_entries", needs_kernel: true, f: setup::resized_map_holds_exactly_its_entries },
        Test { name: "data_section_grows_with_its_map", needs_kernel: true, f: setup::data_section_grows_with_its_map },
        Test { name: "kconfig_override_reaches_the_program", needs_kernel: true, f: setup::kconfig_override_reaches_the_program },
        Test { name: "reuse_fd_shares_one_map", needs_kernel: true, f: setup::reuse_fd_shares_one_map },
        Test { name: "pin_path_pins_where_asked", needs_kernel: true, f: setup::pin_path_pins_where_asked },
        Test { name: "autocreate_off_names_the_map", needs_kernel: true, f: setup::autocreate_off_names_the_map },
        Test { name: "type_and_expected_attach_type_reach_the_kernel", needs_kernel: true, f: setup::type_and_expected_attach_type_reach_the_kernel },
        Test { name: "flags_and_log_levels", needs_kernel: true, f: setup::flags_and_log_levels },
        Test { name: "custom_btf_drives_core", needs_kernel: true, f: setup::custom_btf_drives_core },
        Test { name: "retargeted_fentry_runs_on_the_new_target", needs_kernel: true, f: setup::retargeted_fentry_runs_on_the_new_target },
        Test { name: "freplace_replaces_a_function_of_a_loaded_program", needs_kernel: true, f: setup::freplace_replaces_a_function_of_a_loaded_program },
        Test { name: "map_shape_flags_and_inner_map", needs_kernel: true, f: setup::map_shape_flags_and_inner_map },
        Test { name: "cgroup_connect4_rewrites_destination_port", needs_kernel: true, f: cgroup::cgroup_connect4_rewrites_destination_port },
        Test { name: "cgroup_prog_attach_replace", needs_kernel: true, f: cgroup::cgroup_prog_attach_replace },
        Test { name: "cgroup_skb_egress_counts_bytes", needs_kernel: true, f: cgroup::cgroup_skb_egress_counts_bytes },
        Test { name: "socket_filter_drops_and_detaches", needs_kernel: true, f: cgroup::socket_filter_drops_and_detaches },
        Test { name: "sockmap_msg_redirect_between_tcp_sockets", needs_kernel: true, f: cgroup::sockmap_msg_redirect_between_tcp_sockets },
        Test { name: "tail_call_slots_set_and_cleared_from_user_space", needs_kernel: true, f: cgroup::tail_call_slots_set_and_cleared_from_user_space },
        Test { name: "map_in_map_slots_set_from_user_space", needs_kernel: true, f: cgroup::map_in_map_slots_set_from_user_space },
        Test { name: "sk_lookup_netns_link", needs_kernel: true, f: cgroup::sk_lookup_netns_link },
        Test { name: "flow_dissector_auto_attach_to_thread_netns", needs_kernel: true, f: cgroup::flow_dissector_auto_attach_to_thread_netns },
        Test { name: "netfilter_link_counts_local_out", needs_kernel: true, f: cgroup::netfilter_link_counts_local_out },
        Test { name: "test_run_xdp_drop_and_pass", needs_kernel: true, f: net::test_run_xdp_drop_and_pass },
        Test { name: "xdp_bad_input", needs_kernel: true, f: net::xdp_bad_input },
        Test { name: "xdp_generic_link_drops_and_counts", needs_kernel: true, f: net::xdp_generic_link_drops_and_counts },
        Test { name: "xdp_generic_netlink_drops_and_counts", needs_kernel: true, f: net::xdp_generic_netlink_drops_and_counts },
        Test { name: "xdp_netlink_replace", needs_kernel: true, f: net::xdp_netlink_replace },
        Test { name: "tc_netlink_egress_counts_and_cleans_up", needs_kernel: true, f: net::tc_netlink_egress_counts_and_cleans_up },
        Test { name: "tcx_egress_counts_and_orders", needs_kernel: true, f: net::tcx_egress_counts_and_orders },
        Test { name: "netkit_primary_and_peer_count_drop_and_detach", needs_kernel: true, f: net2::netkit_primary_and_peer_count_drop_and_detach },
        Test { name: "sk_reuseport_selects_socket_by_payload", needs_kernel: true, f: net2::sk_reuseport_selects_socket_by_payload },
        Test { name: "flow_dissector_test_run_fills_flow_keys", needs_kernel: true, f: net2::flow_dissector_test_run_fills_flow_keys },
        Test { name: "flow_dissector_runs_once_per_received_frame", needs_kernel: true, f: flow_rps::flow_dissector_runs_once_per_received_frame },
        Test { name: "tcx_query_by_ifindex_lists_programs_and_links", needs_kernel: true, f: query_if::tcx_query_by_ifindex_lists_programs_and_links },
        Test { name: "pin_by_name_cannot_escape_the_pin_root", needs_kernel: true, f: hardening::pin_by_name_cannot_escape_the_pin_root },
        Test { name: "special_files_are_refused_not_read", needs_kernel: true, f: hardening::special_files_are_refused_not_read },
        Test { name: "open_pinned_refuses_a_program", needs_kernel: true, f: hardening::open_pinned_refuses_a_program },
        Test { name: "kinds_perf_event_samples_cpu_clock", needs_kernel: true, f: kinds::perf_event_samples_cpu_clock },
        Test { name: "kinds_perf_event_hardware_counter_or_clear_refusal", needs_kernel: true, f: kinds::perf_event_hardware_counter_or_clear_refusal },
        Test { name: "kinds_task_iterator_lists_own_pid", needs_kernel: true, f: kinds::task_iterator_lists_own_pid },
        Test { name: "kinds_map_elem_iterator_sums_values", needs_kernel: true, f: kinds::map_elem_iterator_sums_values },
        Test { name: "kinds_link_update_and_detach", needs_kernel: true, f: kinds::link_update_and_detach },
        Test { name: "kinds_pinned_links_survive_their_process", needs_kernel: true, f: kinds::pinned_links_survive_their_process },
        Test { name: "kinds_pin_refusals_say_why", needs_kernel: true, f: kinds::pin_refusals_say_why },
        Test { name: "kinds_struct_ops_tcp_congestion_control", needs_kernel: true, f: kinds::struct_ops_tcp_congestion_control },
        Test { name: "kinds_struct_ops_legacy_map_registration", needs_kernel: true, f: kinds::struct_ops_legacy_map_registration },
        Test { name: "usdt_arguments_semaphore_and_cookie", needs_kernel: true, f: probes::usdt_arguments_semaphore_and_cookie },
        Test { name: "usdt_section_auto_attach", needs_kernel: true, f: probes::usdt_section_auto_attach },
        Test { name: "uprobe_multi_counts_per_cookie", needs_kernel: true, f: probes::uprobe_multi_counts_per_cookie },
        Test { name: "uprobe_multi_fallback_one_link_per_offset", needs_kernel: true, f: probes::uprobe_multi_fallback_one_link_per_offset },
        Test { name: "uprobe_and_tracepoint_cookies", needs_kernel: true, f: probes::uprobe_and_tracepoint_cookies },
        Test { name: "kprobe_multi_cookies_or_clear_refusal", needs_kernel: true, f: probes::kprobe_multi_cookies_or_clear_refusal },
        Test { name: "ksyscall_and_kprobe_cookie", needs_kernel: true, f: probes::ksyscall_and_kprobe_cookie },
        Test { name: "fentry_cookie", needs_kernel: true, f: probes::fentry_cookie },
        ][..],
        loader_internals::TESTS,
        messages::TESTS,
        globals::TESTS,
        loaded::TESTS,
        batch::TESTS,
    ]
    .concat();
    harness::run(&tests)
}
