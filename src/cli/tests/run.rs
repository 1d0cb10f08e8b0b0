//! `bpfl run` against the real kernel: it loads run_demo.o with rodata set
//! from the command line, this test calls getppid() a known number of times
//! (the program counts only this process, named by --set target_tgid), then
//! ends it with SIGINT; every printed value is checked exactly.
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

fn bpf_dir() -> String {
    std::env::var("BPFL_BPF_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../build/bpf").into())
}

fn kernel_or_skip(what: &str) -> bool {
    if let Err(e) = bpfl::host::bpf_available() {
        println!("SKIPPED: {what} (needs root and bpf(): {e})");
        return false;
    }
    true
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

fn bpfl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bpfl")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// The last "--- maps after" block of `out`, without its first line.
fn last_maps(out: &str) -> &str {
    let at = out.rfind("--- maps after").unwrap_or_else(|| panic!("no maps printed:\n{out}"));
    let block = &out[at..];
    &block[block.find('\n').unwrap() + 1..]
}

#[test]
fn run_prints_maps_and_events_through_btf() {
    if !kernel_or_skip("bpfl run") {
        return;
    }
    const CALLS: u32 = 5;
    let me = std::process::id();
    let obj = format!("{}/run_demo.o", bpf_dir());
    let tgid = format!("target_tgid={me}");
    let args = ["run", &obj, "--attach", "--duration", "60", "--interval", "0.2", "--set", &tgid, "--set", "mode=MODE_TRACE", "--set", "tag=hello", "--set", "bias=-2"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpfl")).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut head = String::new();
    // Attached once it says it runs.
    while !head.contains("running for 60 s; Ctrl-C ends\n") {
        let before = head.len();
        out.read_line(&mut head).unwrap();
        if head.len() == before {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("bpfl run ended early:\n{head}{err}");
        }
    }
    for _ in 0..CALLS {
        let _ = std::os::unix::process::parent_id(); // getppid()
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { kill(child.id() as i32, 2) }, 0);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "SIGINT ends it cleanly: {status:?} {err}");
    assert_eq!(
        head,
        "attached count_getppid (tp/syscalls/sys_enter_getppid)\n\
         loaded xdp_pass (xdp): not attached: section 'xdp' names no target to attach to\n\
         running for 60 s; Ctrl-C ends\n"
    );
    // Records of both buffers, typed as the one struct of their size.
    for map in ["events", "perf_events"] {
        let got: Vec<&str> = rest.lines().filter(|l| l.starts_with(&format!("event {map}: "))).collect();
        let want: Vec<String> = (0..CALLS).map(|i| format!("event {map}: struct ev {{tgid: {me}, seq: {i}, tag: \"hello\", mode: MODE_TRACE}}")).collect();
        assert_eq!(got, want, "{rest}");
    }
    assert!(rest.matches("--- maps after").count() >= 2, "printed every 0.2 s and at the end: {rest}");
    // .rodata is not printed; per-CPU integers are summed; .data's delta
    // is -3 plus bias (-2) per call.
    let want = format!(
        "per_tgid:\n  key {me} value {{calls: {CALLS}, mode: MODE_TRACE, tag: \"hello\"}}\npcpu:\n  key 0 value {CALLS}\n.bss:\n  total_calls = {CALLS}\n  unused_ev = 0x0\n.data:\n  delta = {}\n",
        -3 - 2 * CALLS as i32
    );
    assert_eq!(last_maps(&rest), want, "{rest}");
}

#[test]
fn run_without_attach_lists_per_cpu_and_ends_after_duration() {
    if !kernel_or_skip("bpfl run --per-cpu") {
        return;
    }
    let obj = format!("{}/run_demo.o", bpf_dir());
    let (rc, out, err) = bpfl(&["run", &obj, "--duration", "0.3", "--per-cpu", "--event", "perf_events=struct ev"]);
    assert_eq!(rc, 0, "{err}");
    assert!(out.starts_with("loaded count_getppid (tp/syscalls/sys_enter_getppid): not attached (no --attach)\nloaded xdp_pass (xdp): not attached (no --attach)\n"), "{out}");
    assert_eq!(out.matches("--- maps after").count(), 1, "at the end only: {out}");
    let zeros = vec!["0"; bpfl::host::cpus::possible_cpus()].join(", ");
    let want = format!("per_tgid:\n  (empty)\npcpu:\n  key 0 value per-CPU [{zeros}]\n.bss:\n  total_calls = 0\n  unused_ev = 0x0\n.data:\n  delta = -3\n");
    assert_eq!(last_maps(&out), want);
}

#[test]
fn run_refuses_bad_values_before_loading() {
    let obj = format!("{}/run_demo.o", bpf_dir());
    let cases = [
        (vec!["--set", "nosuch=1"], "run: --set nosuch=1: the object has no global of that name (with BTF)"),
        (vec!["--set", "target_tgid=-1"], "run: --set target_tgid=-1: out of range for a 32-bit integer (0..=4294967295)"),
        (vec!["--set", "bias=40000"], "run: --set bias=40000: out of range for a signed 16-bit integer (-32768..=32767)"),
        (vec!["--set", "mode=MODE_NONE"], "run: --set mode=MODE_NONE: not a value of enum mode"),
        (vec!["--set", "tag=much-too-long"], "run: --set tag=much-too-long: the string is 13 bytes, the array 8"),
        (vec!["--event", "per_tgid=struct ev"], "run: --event per_tgid=...: the object has no ring or perf buffer 'per_tgid'"),
        (vec!["--duration", "soon"], "run: --duration wants a number of seconds > 0"),
    ];
    for (extra, msg) in cases {
        let mut args = vec!["run", obj.as_str()];
        args.extend(extra);
        let (rc, out, err) = bpfl(&args);
        assert_eq!(rc, 2, "{args:?}: {out}{err}");
        assert_eq!(err.lines().next(), Some(format!("bpfl: {msg}").as_str()), "{args:?}");
        assert!(!out.contains("loaded"), "nothing loaded: {out}");
    }
}

/// Issue 14's messages as the command prints them: the hint for a missing
/// pin directory, the errno never repeated.
#[test]
fn map_dump_in_a_missing_directory_hints() {
    if !kernel_or_skip("bpfl map dump: missing directory") {
        return;
    }
    let dir = format!("/sys/fs/bpf/bpfl-cli-missing-{}", std::process::id());
    let (rc, out, err) = bpfl(&["map", "dump", &format!("{dir}/counts")]);
    assert_eq!((rc, out.as_str()), (1, ""));
    assert_eq!(err, format!("bpfl: no pinned object at '{dir}/counts'\nthe directory '{dir}' does not exist: create it (mkdir -p) or mount bpffs there\n"));
}
