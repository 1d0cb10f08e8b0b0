//! `bpfl prog list` and `bpfl link list`: what every process has loaded.
use crate::Failure;
use bpfl::host::loaded;
use bpfl::obj::types::ProgramType;

pub fn prog_list() -> Result<bool, Failure> {
    println!("{:>6}  {:<36} {:<16} {:>8}  {:<16} uid", "id", "type", "name", "bytes", "tag");
    for p in loaded::programs()? {
        println!("{:>6}  {:<36} {:<16} {:>8}  {:<16} {}", p.id, ProgramType(p.prog_type).to_string(), p.name, p.xlated_len, p.tag, p.created_by_uid);
    }
    Ok(true)
}

pub fn link_list() -> Result<bool, Failure> {
    let progs = loaded::programs()?;
    println!("{:>6}  {:<22} {:>7}  program", "id", "type", "prog id");
    for l in loaded::links()? {
        let name = progs.iter().find(|p| p.id == l.prog_id).map_or("", |p| p.name.as_str());
        println!("{:>6}  {:<22} {:>7}  {name}", l.id, link_type(l.link_type), l.prog_id);
    }
    Ok(true)
}

/// `enum bpf_link_type` (linux/bpf.h).
fn link_type(t: u32) -> String {
    const NAMES: [&str; 15] = [
        "unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp", "perf_event", "kprobe_multi",
        "struct_ops", "netfilter", "tcx", "uprobe_multi", "netkit", "sockmap",
    ];
    NAMES.get(t as usize).map_or_else(|| format!("type {t}"), |n| n.to_string())
}
