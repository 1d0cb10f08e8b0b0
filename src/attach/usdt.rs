//! USDT attachments: the probe sites of `PROVIDER:NAME` in a binary (from
//! its `.note.stapsdt`, parsed by [`crate::obj::usdt`]), one uprobe per
//! site whose attach cookie is the site's spec id, the spec written into the
//! program's `__bpf_usdt_specs` map (read by `bpfl/usdt.bpf.h`), and the
//! semaphore counted up by the kernel (`ref_ctr_offset`, Linux 4.20+) for as
//! long as the uprobe exists.

use super::attach_perf_event_cookie;
use super::probe::resolve_binary;
use crate::error::{Error, Result};
use crate::host::pmu;
use crate::link::{Cleanup, Link, LinkKind};
use crate::obj::usdt::{parse_usdt_args, spec_bytes, usdt_notes, UsdtNote, SPEC_SIZE};
use crate::sys;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// Options of a USDT attach.
#[derive(Debug, Clone)]
pub struct UsdtOptions {
    /// Only this process (-1: every process that runs the binary).
    pub pid: i32,
    /// The value `bpf_usdt_cookie()` gives the program.
    pub cookie: u64,
}

impl Default for UsdtOptions {
    fn default() -> Self {
        UsdtOptions { pid: -1, cookie: 0 }
    }
}

/// The kernel names of the maps `bpfl/usdt.bpf.h` defines (15 characters kept).
const SPEC_MAP: &str = "__bpf_usdt_spec";
const IP_MAP: &str = "__bpf_usdt_ip_t";

/// Spec slots in use, per spec map (by kernel map id): several links, of
/// several programs, share one object's map.
static SLOTS: Mutex<Option<HashMap<u32, Vec<bool>>>> = Mutex::new(None);

fn alloc_slot(map_id: u32, max: u32) -> Option<u32> {
    let mut g = SLOTS.lock();
    let v = g.get_or_insert_with(HashMap::new).entry(map_id).or_insert_with(|| vec![false; max as usize]);
    let i = v.iter().position(|used| !used)?;
    v[i] = true;
    Some(i as u32)
}

fn free_slots(map_id: u32, ids: &[u32]) {
    if let Some(v) = SLOTS.lock().as_mut().and_then(|m| m.get_mut(&map_id)) {
        for &i in ids {
            if let Some(s) = v.get_mut(i as usize) {
                *s = false;
            }
        }
    }
}

/// The spec and ip maps program `prog` uses, if it reads USDT arguments.
struct SpecMaps {
    spec: Option<(OwnedFd, u32, u32)>,
    ip: Option<OwnedFd>,
}

fn find_maps(prog: BorrowedFd<'_>, what: &str) -> Result<SpecMaps> {
    let mut found = SpecMaps { spec: None, ip: None };
    for id in sys::prog_map_ids(prog).map_err(|e| e.error(format!("{what}: the program's maps (BPF_OBJ_GET_INFO_BY_FD)")))? {
        let Ok(fd) = sys::map_fd_by_id(id) else { continue };
        let info = sys::map_info(fd.as_fd()).map_err(|e| e.error(format!("{what}: map info")))?;
        let name = sys::cstr_lossy(&info.name);
        if name == SPEC_MAP {
            if info.value_size as usize != SPEC_SIZE {
                return Err(Error::inval(format!(
                    "{what}: map {SPEC_MAP}s has {}-byte values, not the {SPEC_SIZE} of bpfl/usdt.bpf.h's struct __bpf_usdt_spec",
                    info.value_size
                )));
            }
            found.spec = Some((fd, info.id, info.max_entries));
        } else if name == IP_MAP && info.key_size == 8 && info.value_size == 4 {
            found.ip = Some(fd);
        }
    }
    Ok(found)
}

/// Attach `prog` to every site of USDT probe `provider:name` in `binary`.
pub(crate) fn usdt(prog: BorrowedFd<'_>, prog_name: &str, binary: &str, provider: &str, name: &str, opts: &UsdtOptions) -> Result<Link> {
    let what = format!("program '{prog_name}': usdt '{binary}:{provider}:{name}'");
    // A bare name with a pid: first the files that process maps (its
    // executable and shared libraries), then PATH or the library directories.
    let mapped = match opts.pid {
        p if p > 0 && !binary.contains('/') => crate::host::procmaps::find_mapped(p, binary).map_err(|e| e.context(&what))?,
        _ => None,
    };
    let path = match mapped {
        Some(p) => p,
        None => resolve_binary(binary).map_err(|e| e.context(&what))?,
    };
    let data = std::fs::read(&path).map_err(|e| Error::from_io(e, format!("{what}: read '{path}'")))?;
    let all = usdt_notes(&data).map_err(|e| Error::from(e).context(format!("{what}: '{path}'")))?;
    let sites: Vec<&UsdtNote> = all.iter().filter(|n| n.provider == provider && n.name == name).collect();
    if sites.is_empty() {
        let mut known: Vec<String> = all.iter().map(|n| format!("{}:{}", n.provider, n.name)).collect();
        known.dedup();
        let list = if known.is_empty() { "it has no USDT probes (no .note.stapsdt)".to_string() } else { format!("it has {}", known.join(", ")) };
        return Err(Error::not_found(format!("{what}: no such probe in '{path}'; {list}")));
    }
    let (ty, _) = pmu::probe_pmu("uprobe").ok_or_else(|| Error::unsupported(format!("{what}: uprobes are not supported by this kernel (no uprobe PMU)")))?;
    if sites.iter().any(|s| s.semaphore_offset.is_some()) && !std::path::Path::new("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset").exists() {
        return Err(Error::unsupported(format!("{what}: the probe has a semaphore, and this kernel's uprobes cannot count it (ref_ctr_offset, Linux 4.20+)")));
    }
    let maps = find_maps(prog, &what)?;
    // A non-PIE executable runs at its link-time addresses: the ip map works
    // there for kernels without attach cookies.
    let is_exec = data.get(16..18) == Some(&2u16.to_le_bytes()[..]);
    let cpath = CString::new(path.as_str()).map_err(|_| Error::inval(format!("{what}: path contains a NUL byte")))?;
    let state = Arc::new(Mutex::new((Vec::<u32>::new(), Vec::<u64>::new())));
    let map_id = maps.spec.as_ref().map(|s| s.1);
    let cleanup = {
        let (state, ip) = (state.clone(), maps.ip.as_ref().and_then(|f| f.try_clone().ok()));
        Cleanup(Box::new(move || {
            let (ids, ips) = std::mem::take(&mut *state.lock());
            if let Some(ip) = &ip {
                for a in ips {
                    let _ = sys::map_delete(ip.as_fd(), &a.to_le_bytes());
                }
            }
            if let Some(m) = map_id {
                free_slots(m, &ids);
            }
        }))
    };
    let mut parts = Vec::with_capacity(sites.len());
    // On an early return the parts detach and the cleanup (in the group) frees the slots.
    let mut group = Link::group(LinkKind::Usdt, format!("{path}:{provider}:{name}"), Vec::new(), Some(cleanup));
    for site in sites {
        let at = format!("{what}: site at {:#x}", site.pc);
        let args = parse_usdt_args(&site.args).map_err(|e| Error::from(e).context(&at))?;
        let mut cookie = 0u64;
        if let Some((fd, id, max)) = &maps.spec {
            let slot = alloc_slot(*id, *max).ok_or_else(|| Error::new(crate::ErrorKind::Os, libc::ENOSPC, format!("{at}: all {max} USDT spec slots of map {SPEC_MAP}s are in use")))?;
            state.lock().0.push(slot);
            sys::map_update(fd.as_fd(), &slot.to_le_bytes(), &spec_bytes(&args, opts.cookie), 0).map_err(|e| e.error(format!("{at}: write the spec")))?;
            if let (Some(ip), true) = (&maps.ip, is_exec) {
                sys::map_update(ip.as_fd(), &site.pc.to_le_bytes(), &(slot as i32).to_le_bytes(), 0).map_err(|e| e.error(format!("{at}: write the ip map")))?;
                state.lock().1.push(site.pc);
            }
            cookie = slot as u64;
        }
        let pfd = sys::perf_event_open_uprobe_ref(ty, 0, &cpath, site.pc_offset, site.semaphore_offset.unwrap_or(0), opts.pid)
            .map_err(|e| e.error(format!("{at}: perf_event_open (file offset {:#x})", site.pc_offset)))?;
        // Spec id 0 as cookie is fine: the cookie is the spec id, not a flag.
        let link_fd = attach_perf_event_cookie(prog, &pfd, &at, cookie)?;
        parts.push(Link::new(LinkKind::UprobePmu, format!("{path}:{:#x}", site.pc_offset), link_fd, Some(pfd), None));
    }
    crate::log::debug(&format!("{what}: attached {} site(s)", parts.len()));
    group.set_parts(parts);
    Ok(group)
}

/// Split a `usdt/` section target "BINARY:PROVIDER:NAME".
pub fn parse_usdt_target(t: &str) -> Result<(String, String, String)> {
    let bad = || Error::inval(format!("usdt target '{t}' is not BINARY:PROVIDER:NAME"));
    let (rest, name) = t.rsplit_once(':').ok_or_else(bad)?;
    let (bin, provider) = rest.rsplit_once(':').ok_or_else(bad)?;
    if bin.is_empty() || provider.is_empty() || name.is_empty() {
        return Err(bad());
    }
    Ok((bin.to_string(), provider.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn usdt_targets() {
        let p = super::parse_usdt_target;
        assert_eq!(p("/usr/bin/x:prov:name").unwrap(), ("/usr/bin/x".into(), "prov".into(), "name".into()));
        assert_eq!(p("libc.so.6:libc:setjmp").unwrap().0, "libc.so.6");
        assert!(p("/bin/x:name").is_err());
        assert!(p("/bin/x::name").is_err());
    }
}
