//! An object in the kernel: open (parse), load (maps, relocations, programs),
//! attach. The kernel side of [`crate::obj::ObjectSpec`].

use crate::error::{Error, ErrorKind, Result};
use crate::link::Link;
use crate::map::Map;
use crate::obj::{insn, MapOrigin, MapRef, MapType, ObjectSpec, ParseOptions};
use crate::program::Program;
use crate::{log, sys};
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

/// Options for opening an object.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Object name (default: the file name without its extension).
    pub name: Option<String>,
    /// Where `LIBBPF_PIN_BY_NAME` maps are pinned (default `/sys/fs/bpf`).
    pub pin_root: Option<String>,
}

/// Options for loading an object.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Verifier log level for every program (0: a log only on failure).
    pub log_level: u32,
    /// `kern_version` to give the kernel (default: the running kernel's).
    pub kern_version: Option<u32>,
}

/// A BPF object: its parsed form, and once loaded, its maps and programs in the kernel.
#[derive(Debug)]
pub struct Object {
    file: ObjectSpec,
    maps: Vec<Arc<Map>>,
    programs: Vec<Arc<Program>>,
    btf_fd: Option<OwnedFd>,
    pin_root: String,
    loaded: bool,
    /// Per-program verifier logs requested with a log level.
    logs: Vec<String>,
}

const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// The helper number a call of a missing `__weak` kfunc gets (plus the
/// extern's index), as under libbpf: `invalid func unknown#2002000000`.
const POISON_KFUNC_BASE: i32 = 2_002_000_000;
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

impl Object {
    /// Open an object file.
    pub fn open_file(path: &str, opts: &OpenOptions) -> Result<Object> {
        let data = std::fs::read(path).map_err(|e| Error::from_io(e, format_args!("object '{path}'")))?;
        let mut o = opts.clone();
        if o.name.is_none() {
            let base = path.rsplit('/').next().unwrap_or(path);
            o.name = Some(base.strip_suffix(".o").unwrap_or(base).split('.').next().unwrap_or(base).to_string());
        }
        Self::open_mem(&data, &o).map_err(|e| e.in_object(path))
    }

    /// Open an object from memory.
    pub fn open_mem(data: &[u8], opts: &OpenOptions) -> Result<Object> {
        let file = ObjectSpec::parse(data, &ParseOptions { name: opts.name.clone() })
            .map_err(|e| Error::from(e).in_object(opts.name.as_deref().unwrap_or("<memory>")))?;
        for w in &file.warnings {
            log::warn(&format!("object '{}': {w}", file.name));
        }
        let maps = file
            .maps
            .iter()
            .map(|m| {
                // A perf event array of size 0 gets a slot per possible CPU, as under libbpf.
                let max = if m.map_type == MapType::PERF_EVENT_ARRAY && m.max_entries == 0 { crate::host::cpus::possible_cpus() as u32 } else { m.max_entries };
                Arc::new(Map::new(&m.name, m.map_type.as_u32(), m.key_size, m.value_size, max, m.map_flags))
            })
            .collect();
        let programs = file.programs.iter().map(|p| Arc::new(Program::from_spec(p))).collect();
        Ok(Object {
            file,
            maps,
            programs,
            btf_fd: None,
            pin_root: opts.pin_root.clone().unwrap_or_else(|| "/sys/fs/bpf".into()),
            loaded: false,
            logs: Vec::new(),
        })
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        &self.file.name
    }
    /// The parsed object.
    pub fn file(&self) -> &ObjectSpec {
        &self.file
    }
    /// Programs, in section order.
    pub fn programs(&self) -> &[Arc<Program>] {
        &self.programs
    }
    /// Maps.
    pub fn maps(&self) -> &[Arc<Map>] {
        &self.maps
    }
    /// A program by name.
    pub fn program(&self, name: &str) -> Option<&Arc<Program>> {
        self.programs.iter().find(|p| p.name() == name)
    }
    /// A map by name (global data: ".data", ".rodata", ".bss").
    pub fn map(&self, name: &str) -> Option<&Arc<Map>> {
        self.maps.iter().find(|m| m.name() == name)
    }
    /// Whether the object is loaded.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }
    /// Verifier logs of the last load when a log level was asked for (program name, log).
    pub fn verifier_logs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.programs.iter().zip(&self.logs).map(|(p, l)| (p.name(), l.as_str()))
    }

    fn before_load(&self, what: &str) -> Result<()> {
        if self.loaded {
            return Err(Error::inval(format!("object '{}': {what} must happen before load", self.file.name)));
        }
        Ok(())
    }

    /// Set a global variable of a data section (e.g. `const volatile` in `.rodata`) before load.
    pub fn set_global(&mut self, var: &str, value: &[u8]) -> Result<()> {
        self.before_load("setting a global variable")?;
        self.file.set_global(var, value).map_err(|e| Error::from(e).in_object(&self.file.name))
    }

    /// Replace a map's initial contents before load (global data maps: the whole section).
    pub fn set_map_initial_value(&mut self, idx: usize, value: &[u8]) -> Result<()> {
        self.before_load("setting a map's initial value")?;
        let m = self.file.maps.get_mut(idx).ok_or_else(|| Error::inval(format!("no map #{idx}")))?;
        if value.len() != m.value_size as usize {
            return Err(Error::inval(format!("map '{}': initial value is {} bytes, the value size is {}", m.name, value.len(), m.value_size)));
        }
        if !matches!(m.origin, MapOrigin::Data(_)) {
            return Err(Error::inval(format!("map '{}': only global data maps have an initial value", m.name)));
        }
        m.data = Some(value.to_vec());
        Ok(())
    }

    /// Create the maps, relocate and load every program. On failure nothing
    /// stays behind: maps and programs created so far are closed, and maps
    /// pinned by this load are unpinned.
    pub fn load(&mut self, opts: &LoadOptions) -> Result<()> {
        self.before_load("loading")?;
        let mut pinned = Vec::new();
        let r = self.load_inner(opts, &mut pinned);
        if let Err(e) = r {
            for p in pinned {
                let _ = std::fs::remove_file(&p);
            }
            // Close what the failed attempt created; the handles stay valid, unloaded.
            Map::reset_all(self.maps.iter().map(|m| &**m));
            self.programs.iter().for_each(|p| p.reset());
            self.btf_fd = None;
            let e = e.in_object(&self.file.name);
            log::error(&e.to_string());
            return Err(e);
        }
        self.loaded = true;
        Ok(())
    }

    fn load_inner(&mut self, opts: &LoadOptions, pinned: &mut Vec<String>) -> Result<()> {
        for p in &self.file.programs {
            match p.def {
                None => {
                    return Err(Error::unsupported(format!("program '{}': section '{}' is not a program type bpfl knows", p.name, p.section)))
                }
                Some(d) if d.needs_btf_target && crate::obj::section::btf_attach_target(d, &p.section).is_none() => {
                    let why = if d.prog_type == crate::obj::ProgramType::EXT {
                        "freplace needs a BPF program to replace, which bpfl does not support yet"
                    } else {
                        "it names no kernel function or tracepoint to attach to (setting one before load is not supported yet)"
                    };
                    return Err(Error::unsupported(format!("program '{}': section '{}': {why}", p.name, p.section)));
                }
                _ => {}
            }
        }
        let kver = opts.kern_version.unwrap_or_else(crate::host::kver::running);
        if let Some(v) = self.file.kern_version {
            if v != kver {
                log::debug(&format!("object '{}': version section says {v:#x}, giving the kernel {kver:#x}", self.file.name));
            }
        }
        let license = CString::new(self.file.license.clone()).map_err(|_| Error::parse("license contains a NUL byte"))?;

        // BTF: optional for everything bpfl loads today; a kernel that refuses it costs line info only.
        self.btf_fd = None;
        if let Some(btf) = &self.file.btf {
            match sys::btf_load(&btf.to_bytes()) {
                Ok(fd) => self.btf_fd = Some(fd),
                Err(sys::BtfLoadError { errno, log: log_text }) => log::warn(&format!(
                    "object '{}': the kernel refused its BTF ({}); loading without it (no source lines in verifier logs){}",
                    self.file.name,
                    std::io::Error::from_raw_os_error(errno.0),
                    last_lines(&log_text, 3)
                )),
            }
        }
        let btf_raw = self.btf_fd.as_ref().map(|f| f.as_fd());

        // Externs: the .kconfig values and the __ksym symbols, from the running kernel.
        let kconfig = match self.file.kconfig_map {
            Some(m) => Some(crate::ksyms::kconfig_value(&self.file.externs, self.file.maps[m].value_size)?),
            None => None,
        };
        let ksyms = if self.file.externs.iter().any(|e| e.kconfig().is_none()) { crate::ksyms::resolve_ksyms(&self.file)? } else { Vec::new() };

        // Maps: inner templates first, then the rest.
        let order: Vec<usize> = {
            let inner: Vec<usize> = self.file.maps.iter().filter_map(|m| m.inner).collect();
            let mut o: Vec<usize> = (0..self.file.maps.len()).filter(|i| inner.contains(i)).collect();
            o.extend((0..self.file.maps.len()).filter(|i| !inner.contains(i)));
            o
        };
        for i in order {
            let spec = &self.file.maps[i];
            let what = format!("map '{}'", spec.name);
            if spec.pinning == 1 {
                let path = format!("{}/{}", self.pin_root.trim_end_matches('/'), spec.name);
                if std::path::Path::new(&path).exists() {
                    let existing = Map::open_pinned(&path).map_err(|e| e.context(&what))?;
                    if (existing.map_type(), existing.key_size(), existing.value_size(), existing.max_entries())
                        != (spec.map_type.as_u32(), spec.key_size, spec.value_size, self.maps[i].max_entries())
                    {
                        return Err(Error::inval(format!(
                            "{what}: the map pinned at '{path}' does not match the definition (type/key/value/max_entries {}/{}/{}/{} vs {}/{}/{}/{})",
                            MapType(existing.map_type()),
                            existing.key_size(),
                            existing.value_size(),
                            existing.max_entries(),
                            spec.map_type,
                            spec.key_size,
                            spec.value_size,
                            spec.max_entries
                        )));
                    }
                    log::info(&format!("{what}: reusing the map pinned at '{path}'"));
                    let fd = sys::obj_get(&CString::new(path.clone()).expect("no NUL")).map_err(|e| e.error(&what))?;
                    self.maps[i].set_fd(fd);
                    continue;
                }
            }
            // Our own fd of the inner template, held across the create.
            let inner_fd = match spec.inner {
                Some(j) => Some(self.maps[j].dup_fd().map_err(|e| e.context(&what))?),
                None => None,
            };
            let mut p = sys::MapCreate {
                map_type: spec.map_type.as_u32(),
                key_size: spec.key_size,
                value_size: spec.value_size,
                max_entries: self.maps[i].max_entries(),
                map_flags: spec.map_flags,
                inner_map_fd: inner_fd.as_ref().map(|f| f.as_fd()),
                numa_node: spec.numa_node,
                name: &spec.kernel_name,
                btf_fd: None,
                btf_key_type_id: 0,
                btf_value_type_id: 0,
                map_extra: spec.map_extra,
            };
            if btf_raw.is_some() && (spec.btf_key_type_id != 0 || spec.btf_value_type_id != 0) {
                p.btf_fd = btf_raw;
                p.btf_key_type_id = spec.btf_key_type_id;
                p.btf_value_type_id = spec.btf_value_type_id;
            }
            let fd = match sys::map_create(&p) {
                Ok(fd) => fd,
                Err(e) if p.btf_fd.is_some() => {
                    log::debug(&format!("{what}: creation with BTF types failed ({e}); retrying without"));
                    p.btf_fd = None;
                    p.btf_key_type_id = 0;
                    p.btf_value_type_id = 0;
                    sys::map_create(&p).map_err(|e| map_create_error(e, &what))?
                }
                Err(e) => return Err(map_create_error(e, &what)),
            };
            self.maps[i].set_fd(fd);
            if let MapOrigin::Data(sec) = &spec.origin {
                let data = if Some(i) == self.file.kconfig_map { kconfig.as_ref() } else { spec.data.as_ref() };
                if let Some(d) = data {
                    self.maps[i].update(&0u32.to_le_bytes(), d, 0).map_err(|e| e.context(format!("initialising '{sec}'")))?;
                }
                if sec.starts_with(".rodata") || sec == ".kconfig" {
                    self.maps[i].freeze()?;
                }
            }
            if spec.pinning == 1 {
                let path = format!("{}/{}", self.pin_root.trim_end_matches('/'), spec.name);
                self.maps[i].pin(&path)?;
                pinned.push(path);
            }
        }

        // Programs.
        self.logs = vec![String::new(); self.programs.len()];
        for i in 0..self.file.programs.len() {
            let spec = &self.file.programs[i];
            let mut linked = self.file.assemble(i)?;
            let what = format!("program '{}' (section '{}')", spec.name, spec.section);
            let mut poisoned = Vec::new();
            if !linked.core_relos.is_empty() {
                let local = self.file.btf.as_ref().ok_or_else(|| Error::parse(format!("{what}: CO-RE relocations without '.BTF'")))?;
                let target = crate::host::vmlinux::kernel_btf().map_err(|e| e.context(format!("{what}: its {} CO-RE relocations need the kernel's BTF", linked.core_relos.len())))?;
                poisoned = crate::obj::core_relo::relocate(local, &target, &mut linked.insns, &linked.core_relos).map_err(|e| e.context(&what))?;
                for p in &poisoned {
                    log::debug(&format!("{what}: instruction {} poisoned (the verifier refuses it only if reachable): {}", p.insn, p.what));
                }
            }
            for r in &linked.map_refs {
                match *r {
                    MapRef::Fd(at, m) => {
                        insn::set_src_reg(&mut linked.insns, at, insn::PSEUDO_MAP_FD);
                        insn::set_imm(&mut linked.insns, at, self.maps[m].fd()?);
                    }
                    MapRef::Value(at, m, off) => {
                        insn::set_src_reg(&mut linked.insns, at, insn::PSEUDO_MAP_VALUE);
                        insn::set_imm(&mut linked.insns, at, self.maps[m].fd()?);
                        insn::set_imm(&mut linked.insns, at + 1, off as i32);
                    }
                }
            }
            for r in &linked.ksym_refs {
                let at = r.insn;
                let name = &self.file.externs[r.ext].name;
                match (ksyms[r.ext], r.call) {
                    (crate::ksyms::Ksym::BtfId(id), false) => {
                        insn::set_src_reg(&mut linked.insns, at, insn::PSEUDO_BTF_ID);
                        insn::set_imm(&mut linked.insns, at, id as i32);
                        insn::set_imm(&mut linked.insns, at + 1, 0); // vmlinux
                    }
                    (crate::ksyms::Ksym::BtfId(id), true) => {
                        insn::set_src_reg(&mut linked.insns, at, insn::PSEUDO_KFUNC_CALL);
                        insn::set_imm(&mut linked.insns, at, id as i32);
                        insn::set_off(&mut linked.insns, at, 0); // vmlinux
                    }
                    (crate::ksyms::Ksym::Addr(a), false) => {
                        insn::set_src_reg(&mut linked.insns, at, 0);
                        insn::set_imm(&mut linked.insns, at, a as u32 as i32);
                        insn::set_imm(&mut linked.insns, at + 1, (a >> 32) as u32 as i32);
                    }
                    (crate::ksyms::Ksym::Missing, false) => {
                        insn::set_src_reg(&mut linked.insns, at, 0);
                        insn::set_imm(&mut linked.insns, at, 0);
                        insn::set_imm(&mut linked.insns, at + 1, 0);
                    }
                    (crate::ksyms::Ksym::Missing, true) => {
                        // A __weak kfunc the kernel lacks: the verifier refuses the call only if it is reachable.
                        log::debug(&format!("{what}: instruction {at}: call of missing __weak kfunc '{name}' poisoned"));
                        insn::set_src_reg(&mut linked.insns, at, 0);
                        insn::set_imm(&mut linked.insns, at, POISON_KFUNC_BASE + r.ext as i32);
                    }
                    (k, call) => return Err(Error::inval(format!("{what}: extern '{name}' resolved to {k:?}, which cannot be {}", if call { "called" } else { "loaded" }))),
                }
            }
            let func_info: Vec<u8> = linked.func_info.iter().flat_map(|(o, t)| o.to_le_bytes().into_iter().chain(t.to_le_bytes())).collect();
            let line_info: Vec<u8> = linked.line_info.iter().flat_map(|r| r.iter().flat_map(|v| v.to_le_bytes())).collect();
            let def = spec.def.expect("checked above");
            let mut flags = if def.sleepable { BPF_F_SLEEPABLE } else { 0 };
            if spec.section.starts_with("xdp.frags") {
                flags |= BPF_F_XDP_HAS_FRAGS;
            }
            let attach_btf_id = match crate::obj::section::btf_attach_target(def, &spec.section).filter(|_| def.needs_btf_target) {
                Some((name, is_typedef)) => btf_attach_id(&name, is_typedef).map_err(|e| e.context(&what))?,
                None => 0,
            };
            let mut p = sys::ProgLoad {
                prog_type: def.prog_type.as_u32(),
                expected_attach_type: def.expected_attach_type.as_u32(),
                name: &spec.name,
                insns: &linked.insns,
                license: &license,
                kern_version: kver,
                prog_flags: flags,
                btf_fd: btf_raw,
                func_info: &func_info,
                func_info_rec_size: 8,
                line_info: &line_info,
                line_info_rec_size: 16,
                attach_btf_id,
            };
            let (fd, log_text) = match load_prog(&p, opts.log_level).map_err(|e| explain_poison(e, &poisoned)) {
                Ok(r) => r,
                Err(first) if p.btf_fd.is_some() && first.kind() != ErrorKind::Verifier => {
                    // BTF func/line info the kernel did not take: try without it.
                    p.btf_fd = None;
                    let r = load_prog(&p, opts.log_level).map_err(|e| e.context(&what))?;
                    log::warn(&format!("{what}: loaded without BTF line info ({first})"));
                    r
                }
                Err(e) => return Err(e.context(&what)),
            };
            self.logs[i] = log_text;
            self.programs[i].set_loaded(fd, linked.insns.len() / 8);
            log::debug(&format!("{what}: loaded, {} instructions", linked.insns.len() / 8));
        }
        Ok(())
    }

    /// Attach every program whose section names a target. Returns the links
    /// made and the programs that could not be attached, with why.
    pub fn attach_all(&self) -> (Vec<(usize, Link)>, Vec<(usize, Error)>) {
        let mut links = Vec::new();
        let mut errors = Vec::new();
        for (i, p) in self.programs.iter().enumerate() {
            if !p.can_auto_attach() {
                log::info(&format!("program '{}': section '{}' has no automatic attach; skipped", p.name(), p.section()));
                continue;
            }
            match p.attach() {
                Ok(l) => links.push((i, l)),
                Err(e) => {
                    log::warn(&e.to_string());
                    errors.push((i, e));
                }
            }
        }
        (links, errors)
    }
}

fn map_create_error(e: sys::Errno, what: &str) -> Error {
    match e.0 {
        libc::EPERM => Error::os(e.0, format!("{what}: create (bpf() not permitted: run as root or with CAP_BPF, and check the memlock limit)")),
        _ => e.error(format!("{what}: create")),
    }
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(": {}", lines[lines.len().saturating_sub(n)..].join(" | "))
}

/// Load a program; on failure, load again with a verifier log and return it in the error.
fn load_prog(p: &sys::ProgLoad<'_>, log_level: u32) -> Result<(OwnedFd, String)> {
    if log_level > 0 {
        let mut buf = vec![0u8; 16 << 20];
        return match sys::prog_load(p, &mut buf, log_level) {
            Ok(fd) => Ok((fd, sys::cstr_lossy(&buf))),
            Err(e) => Err(verifier_error(e.errno.0, &sys::cstr_lossy(&buf))),
        };
    }
    let errno = match sys::prog_load(p, &mut [], 0) {
        Ok(fd) => return Ok((fd, String::new())),
        Err(e) => e.errno,
    };
    // Retry with a log; grow the buffer until the log fits (the kernel says how much it needs on 6.4+).
    let mut size = 1usize << 20;
    loop {
        let mut buf = vec![0u8; size];
        match sys::prog_load(p, &mut buf, 1) {
            Ok(fd) => return Ok((fd, String::new())), // passed the second time: not ours to question
            Err(sys::ProgLoadError { errno: sys::Errno(libc::ENOSPC), log_true_size }) if size < (256 << 20) => {
                size = (log_true_size as usize + 1).max(size * 4);
            }
            Err(sys::ProgLoadError { errno: e, .. }) => {
                let text = sys::cstr_lossy(&buf);
                if text.is_empty() {
                    return Err((if e.0 == libc::ENOSPC { errno } else { e }).error("load"));
                }
                return Err(verifier_error(e.0, &text));
            }
        }
    }
}

/// The kernel BTF id of a BTF-targeted program's attach point.
fn btf_attach_id(name: &str, is_typedef: bool) -> Result<u32> {
    let (kind, what) = if is_typedef { (crate::btf::BtfKind::Typedef, "tracepoint type") } else { (crate::btf::BtfKind::Func, "function") };
    let k = crate::host::vmlinux::kernel_btf().map_err(|e| e.context(format!("its attach target '{name}' is looked up in the kernel's BTF")))?;
    k.find(name, kind).ok_or_else(|| {
        Error::not_found(format!("attach target: no {what} '{name}' in the kernel's BTF (vmlinux; module BTF is not searched)"))
    })
}

/// A verifier rejection that reached an instruction poisoned by an unresolved
/// CO-RE relocation (`call unknown#195896080`) says which relocation it was.
fn explain_poison(e: Error, poisoned: &[crate::obj::core_relo::Poisoned]) -> Error {
    let marker = format!("unknown#{}", crate::obj::core_relo::POISON_IMM);
    let reached = e.verifier_log().is_some_and(|log| log.contains(&marker));
    if !reached || poisoned.is_empty() {
        return e;
    }
    let list: Vec<String> = poisoned.iter().map(|p| format!("instruction {}: {}", p.insn, p.what)).collect();
    e.note(format!("it reached an instruction poisoned by an unresolved CO-RE relocation (call {marker}); poisoned: {}", list.join("; ")))
}

fn verifier_error(errno: i32, log_text: &str) -> Error {
    // The source line the verifier last printed, when BTF line info was given.
    let src = log_text.lines().rev().find(|l| l.starts_with("; ")).map(|l| l.trim_start_matches("; "));
    let reason = log_text.lines().rev().find(|l| !l.trim().is_empty() && !l.starts_with("processed ") && !l.starts_with("verification time")).unwrap_or("");
    Error::verifier(errno, reason, src, log_text)
}
