//! USDT, uprobe.multi, kprobe.multi, ksyscall and attach cookies (issue 12).
//! The USDT and uprobe targets are in `build/usdt_target`
//! (tests/usdt/usdt_target.c, `make build/usdt_target`); kprobe kinds check
//! real counts where the kernel has kprobes (the VMs) and the exact refusal
//! where it has none (this host), with a loud SKIPPED line for what is not run.

use super::{getppid, gettid, loaded, tgid};
use bpfl::{ErrorKind, KprobeMultiOptions, KprobeOptions, UprobeMultiOptions, UprobeOptions, UsdtOptions};
use std::process::Command;

/// The test target binary: next to the BPF objects' directory (build/ here, /bpfl in the VM).
fn target() -> String {
    let p = format!("{}/../usdt_target", super::harness::bpf_dir());
    let p = std::fs::canonicalize(&p).unwrap_or_else(|_| panic!("{p} is missing: run 'make build/usdt_target'"));
    p.to_string_lossy().into_owned()
}

fn seen(o: &bpfl::Object, k: u32) -> Option<i64> {
    let mut v = [0u8; 8];
    o.map("seen").unwrap().lookup(&k.to_le_bytes(), &mut v).unwrap().then(|| i64::from_le_bytes(v))
}

fn by_cookie(o: &bpfl::Object, c: u64) -> u64 {
    let mut v = [0u8; 8];
    if o.map("by_cookie").unwrap().lookup(&c.to_le_bytes(), &mut v).unwrap() {
        u64::from_le_bytes(v)
    } else {
        0
    }
}

/// Wait until `pid` sleeps in its polling loop (its SIGUSR1 handler is set).
fn wait_until_sleeping(pid: u32) {
    for _ in 0..200 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('S')) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("target {pid} never reached its polling loop");
}

/// bpfltest:req on a running process: every argument kind read exactly, the
/// semaphore seen set by the process itself, the cookie, one site.
pub fn usdt_arguments_semaphore_and_cookie() {
    let o = loaded("usdt.o");
    let bin = target();
    // The target waits for its semaphore: it fires only once we are attached.
    let mut child = Command::new(&bin).spawn().unwrap();
    wait_until_sleeping(child.id());
    let p = o.program("on_req").unwrap();
    // By its bare name: found among the files the process maps (not in PATH).
    let l = p.attach_usdt("usdt_target", "bpfltest", "req", &UsdtOptions { pid: child.id() as i32, cookie: 0xc0ffee }).unwrap();
    assert_eq!(l.target(), format!("{bin}:bpfltest:req"));
    assert_eq!(l.part_count(), 1, "one probe site");
    // Attached: tell the target to look at its semaphore and fire.
    unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) };
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(0), "exit 5: the semaphore was 0 while attached; 3: no signal");
    let want: [i64; 8] = [42, -1234567890123, -77, 0x1122334455667788, 1, 31000, -5, -7];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(seen(&o, i as u32), Some(*w), "argument {i}");
    }
    assert_eq!(seen(&o, 8), Some(1), "hits");
    assert_eq!(seen(&o, 9), Some(8), "bpf_usdt_arg_cnt");
    assert_eq!(seen(&o, 10), Some(0xc0ffee), "bpf_usdt_cookie");
    assert_eq!(seen(&o, 11), Some(child.id() as i64), "fired in the target");
    drop(l);
    // Detaching gives the semaphore back: a process started while a link for
    // every process (pid -1) existed sees 0 once it is gone (exit 5 when
    // signalled). That such a process sees it set is usdt_section_auto_attach.
    let l = p.attach_usdt(&bin, "bpfltest", "req", &UsdtOptions::default()).unwrap();
    let mut late = Command::new(&bin).spawn().unwrap();
    wait_until_sleeping(late.id());
    drop(l);
    unsafe { libc::kill(late.id() as i32, libc::SIGUSR1) };
    assert_eq!(late.wait().unwrap().code(), Some(5), "the semaphore is 0 again after detach");
    assert_eq!(seen(&o, 8), Some(1), "no hit after detach");
    // Errors name what is missing and list what there is.
    let e = p.attach_usdt(&bin, "bpfltest", "nope", &UsdtOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("bpfltest:req") && e.to_string().contains("bpfltest:auto"), "{e}");
    let e = p.attach_usdt("/bin/sh", "bpfltest", "req", &UsdtOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no USDT probes") || e.to_string().contains("it has"), "{e}");
    // A tracepoint program is not a USDT program.
    let tp = o.program("on_tp").unwrap();
    assert_eq!(tp.attach_usdt(&bin, "bpfltest", "req", &UsdtOptions::default()).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

/// `usdt/usdt_target:bpfltest:auto` attaches by itself (the binary found in
/// PATH), for every process, before the process starts; BPF_USDT() arguments.
pub fn usdt_section_auto_attach() {
    let o = loaded("usdt.o");
    let bin = target();
    let dir = std::path::Path::new(&bin).parent().unwrap().to_string_lossy().into_owned();
    let old = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{dir}:{old}"));
    let (links, errors) = o.attach_all();
    std::env::set_var("PATH", old);
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<&str> = links.iter().map(|(i, _)| o.programs()[*i].name()).collect();
    assert_eq!(names, ["on_auto", "on_tp"], "the sections that name their target");
    let st = Command::new(&bin).args(["auto", "x", "y"]).status().unwrap();
    assert_eq!(st.code(), Some(0), "the target never saw the auto semaphore set");
    assert_eq!(seen(&o, 12), Some(1), "auto hits");
    assert_eq!((seen(&o, 13), seen(&o, 14)), (Some(7), Some(4)), "BPF_USDT(on_auto, int seven, int argc)");
    drop(links);
    // Detached: the semaphore is back to 0, the target gives up (exit 3) —
    // checked quickly by its 5 s timeout only where it matters: skip here.
}

/// One uprobe.multi link over three functions, one cookie each, counted exactly.
pub fn uprobe_multi_counts_per_cookie() {
    let o = loaded("usdt.o");
    let bin = target();
    let p = o.program("on_multi").unwrap();
    let funcs: Vec<String> = ["bpfl_multi_1", "bpfl_multi_2", "bpfl_multi_3"].map(String::from).into();
    let l = p.attach_uprobe_multi(&bin, &funcs, &[], &UprobeMultiOptions { cookies: vec![11, 22, 33], ..Default::default() }).unwrap();
    // One link where the kernel has uprobe.multi (6.6+); the 6.1 VM gets the per-offset fallback.
    let multi = bpfl::host::kver::running() >= bpfl::host::kver::kernel_version(6, 6, 0);
    let want = if multi { bpfl::link::LinkKind::Multi } else { bpfl::link::LinkKind::MultiFallback };
    assert_eq!(*l.kind(), want, "uprobe.multi link or its fallback, by kernel version");
    assert_eq!(Command::new(&bin).arg("m").status().unwrap().code(), Some(0));
    assert_eq!([by_cookie(&o, 11), by_cookie(&o, 22), by_cookie(&o, 33)], [1, 2, 3]);
    drop(l);
    // By pattern: the same three functions, no cookies (cookie 0).
    let fs = bpfl::attach::elf_funcs_matching(&bin, "bpfl_multi_?").unwrap();
    assert_eq!(fs, funcs);
    let e = p.attach_uprobe_multi(&bin, &funcs, &[], &UprobeMultiOptions { cookies: vec![1], ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("1 cookies for 3 probes"), "{e}");
}

/// The fallback: a program loaded as a plain uprobe gets one uprobe per
/// function (what a kernel without uprobe.multi gets), cookies kept.
pub fn uprobe_multi_fallback_one_link_per_offset() {
    let o = loaded("usdt.o");
    let bin = target();
    let p = o.program("on_single").unwrap();
    let funcs: Vec<String> = ["bpfl_multi_1", "bpfl_multi_2", "bpfl_multi_3"].map(String::from).into();
    let l = p.attach_uprobe_multi(&bin, &funcs, &[], &UprobeMultiOptions { cookies: vec![101, 102, 103], ..Default::default() }).unwrap();
    assert_eq!(*l.kind(), bpfl::link::LinkKind::MultiFallback);
    assert_eq!(l.part_count(), 3);
    assert_eq!(Command::new(&bin).arg("m").status().unwrap().code(), Some(0));
    assert_eq!([by_cookie(&o, 101), by_cookie(&o, 102), by_cookie(&o, 103)], [1, 2, 3]);
}

/// Attach cookies on a plain uprobe and on a tracepoint (BPF perf links).
pub fn uprobe_and_tracepoint_cookies() {
    let o = loaded("usdt.o");
    let bin = target();
    let p = o.program("on_single").unwrap();
    let l = p.attach_uprobe(&bin, Some("bpfl_multi_3"), &UprobeOptions { cookie: 0x5eed_0003, ..Default::default() }).unwrap();
    assert_eq!(Command::new(&bin).arg("m").status().unwrap().code(), Some(0));
    assert_eq!(by_cookie(&o, 0x5eed_0003), 3);
    drop(l);
    o.map("seen").unwrap().update(&15u32.to_le_bytes(), &(tgid() as i64).to_le_bytes(), 0).unwrap();
    let tp = o.program("on_tp").unwrap();
    let l = tp.attach_tracepoint_cookie("syscalls", "sys_enter_getppid", 0x7e57_c00c).unwrap();
    for _ in 0..6 {
        getppid();
    }
    drop(l);
    assert_eq!(by_cookie(&o, 0x7e57_c00c), 6);
}

fn want_me(o: &bpfl::Object) {
    o.map("want").unwrap().update(&0u32.to_le_bytes(), &tgid().to_le_bytes(), 0).unwrap();
}

fn skipped(what: &str, why: &str) {
    println!("************************************************************");
    println!("SKIPPED on this kernel: {what}: {why} (tested in the VMs: make vmtest)");
    println!("************************************************************");
}

/// kprobe.multi over two syscall functions with cookies, and by pattern; on
/// a kernel without fprobe the refusal says so, and a `kprobe` program
/// falls back to one kprobe per function.
pub fn kprobe_multi_cookies_or_clear_refusal() {
    let o = loaded("probe_multi.o");
    want_me(&o);
    let f1 = bpfl::attach::ksyscall_function("getppid").unwrap();
    let f2 = bpfl::attach::ksyscall_function("gettid").unwrap();
    let syms = vec![f1.clone(), f2.clone()];
    let p = o.program("on_kmulti").unwrap();
    let opts = KprobeMultiOptions { cookies: vec![1, 2], ..Default::default() };
    let (kpmu, klegacy) = bpfl::host::kprobe_support();
    match p.attach_kprobe_multi(None, &syms, &[], &opts) {
        Ok(l) => {
            for _ in 0..3 {
                getppid();
            }
            for _ in 0..5 {
                gettid();
            }
            drop(l);
            assert_eq!([by_cookie(&o, 1), by_cookie(&o, 2)], [3, 5]);
            // A pattern matching exactly one function.
            let l = p.attach_kprobe_multi(Some(&format!("{}?", &f1[..f1.len() - 1])), &[], &[], &KprobeMultiOptions { cookies: vec![9], ..Default::default() }).unwrap();
            for _ in 0..4 {
                getppid();
            }
            drop(l);
            assert_eq!(by_cookie(&o, 9), 4);
        }
        Err(e) => {
            assert!(e.to_string().contains("kprobe.multi needs CONFIG_FPROBE (Linux 5.18+)"), "{e}");
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            skipped("kprobe.multi counts", "no fprobe (CONFIG_FPROBE)");
        }
    }
    // The fallback: a kprobe program, one kprobe per function.
    let k = o.program("on_kprobe").unwrap();
    match k.attach_kprobe_multi(None, &syms, &[], &KprobeMultiOptions { cookies: vec![21, 22], ..Default::default() }) {
        Ok(l) => {
            assert_eq!(*l.kind(), bpfl::link::LinkKind::MultiFallback);
            getppid();
            gettid();
            gettid();
            drop(l);
            assert_eq!([by_cookie(&o, 21), by_cookie(&o, 22)], [1, 2]);
        }
        Err(e) => {
            assert!(!kpmu && !klegacy, "kprobes exist, yet: {e}");
            assert!(e.to_string().contains("kprobes are not supported by this kernel"), "{e}");
            skipped("kprobe.multi fallback to kprobes", "no kprobes");
        }
    }
}

/// ksyscall/kretsyscall sections auto-attach through the syscall wrapper;
/// kprobe cookies; a clear error where there are no kprobes.
pub fn ksyscall_and_kprobe_cookie() {
    let o = loaded("probe_multi.o");
    want_me(&o);
    let (kpmu, klegacy) = bpfl::host::kprobe_support();
    let p = o.program("on_sys_getppid").unwrap();
    if !kpmu && !klegacy {
        let e = p.attach().unwrap_err();
        assert!(e.to_string().contains("ksyscall programs are kprobes") && e.to_string().contains("kprobes are not supported"), "{e}");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        skipped("ksyscall and kprobe cookies", "no kprobes");
        return;
    }
    let l1 = p.attach().unwrap();
    let l2 = o.program("on_sys_getppid_ret").unwrap().attach().unwrap();
    let func = bpfl::attach::ksyscall_function("gettid").unwrap();
    let l3 = o.program("on_kprobe").unwrap().attach_kprobe(&func, &KprobeOptions { cookie: 77, ..Default::default() }).unwrap();
    for _ in 0..4 {
        getppid();
    }
    for _ in 0..2 {
        gettid();
    }
    drop((l1, l2, l3));
    assert_eq!([by_cookie(&o, 1000), by_cookie(&o, 1001), by_cookie(&o, 77)], [4, 4, 2]);
    let e = p.attach_ksyscall("no_such_syscall_xyz", &KprobeOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no_such_syscall_xyz"), "{e}");
}

/// A tracing link (fentry) with an attach cookie: exact count under it
/// where fentry attaches (the VMs); this host refuses fentry (EPERM).
pub fn fentry_cookie() {
    let mut o = super::open("fentry_cookie.o");
    if let Err(e) = o.load(&Default::default()) {
        // This host refuses fentry programs at load; the VMs load and attach them.
        assert_eq!(e.errno(), libc::EPERM, "only this host's refusal of fentry is expected: {e}");
        skipped("fentry cookie counts", "this kernel refuses fentry programs (EPERM)");
        return;
    }
    want_me(&o);
    let p = o.program("on_nanosleep").unwrap();
    match p.attach_trace_cookie(0xfe) {
        Ok(l) => {
            let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            for _ in 0..5 {
                // The syscall itself: glibc's nanosleep() enters clock_nanosleep.
                unsafe { libc::syscall(libc::SYS_nanosleep, &zero as *const libc::timespec, std::ptr::null_mut::<libc::timespec>()) };
            }
            drop(l);
            assert_eq!((by_cookie(&o, 0xfe), by_cookie(&o, 0)), (5, 0), "calls under the cookie, none without");
        }
        Err(e) => {
            assert_eq!(e.errno(), libc::EPERM, "only this host's refusal of fentry is expected: {e}");
            skipped("fentry cookie counts", "this host refuses fentry/fexit attach (EPERM)");
        }
    }
    let e = p.attach_usdt("/bin/sh", "x", "y", &UsdtOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}
