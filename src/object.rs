//! An object in the kernel: open (parse), load (maps, relocations, programs),
//! attach. The kernel side of [`crate::obj::ObjectSpec`].

use crate::error::{Error, Result};
use crate::link::Link;
use crate::map::Map;
use crate::obj::core_relo::Poisoned;
use crate::obj::patch::KsymValue;
use crate::obj::{AssembledProgram, MapOrigin, MapType, ObjectSpec, ParseOptions};
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

    /// The order of a load: check, BTF, externs, maps (inner templates
    /// first), then each program assembled, relocated, patched and loaded.
    fn load_inner(&mut self, opts: &LoadOptions, pinned: &mut Vec<String>) -> Result<()> {
        self.file.programs.iter().try_for_each(crate::program::check_loadable)?;
        let kver = opts.kern_version.unwrap_or_else(crate::host::kver::running);
        if let Some(v) = self.file.kern_version.filter(|&v| v != kver) {
            log::debug(&format!("object '{}': version section says {v:#x}, giving the kernel {kver:#x}", self.file.name));
        }
        let license = CString::new(self.file.license.clone()).map_err(|_| Error::parse("license contains a NUL byte"))?;
        // BTF the kernel takes: kinds it lacks rewritten (the object keeps its own for CO-RE).
        let features = crate::host::features::btf_features();
        self.btf_fd = self.load_btf(&features);
        let btf = self.btf_fd.as_ref().map(|f| f.as_fd());

        // Externs: the .kconfig values and the __ksym symbols, from the running kernel.
        let kconfig = match self.file.kconfig_map {
            Some(m) => Some(crate::ksyms::kconfig_value(&self.file.externs, self.file.maps[m].value_size)?),
            None => None,
        };
        let ksyms = if self.file.externs.iter().any(|e| e.kconfig().is_none()) { crate::ksyms::resolve_ksyms(&self.file)? } else { Vec::new() };

        let mut reused = vec![false; self.maps.len()];
        for i in map_creation_order(&self.file) {
            let spec = &self.file.maps[i];
            let inner = match spec.inner {
                Some(j) => Some(self.maps[j].dup_fd().map_err(|e| e.context(format!("map '{}'", spec.name)))?),
                None => None,
            };
            let initial = if Some(i) == self.file.kconfig_map { kconfig.as_deref() } else { spec.data.as_deref() };
            let pin = (spec.pinning == 1).then(|| format!("{}/{}", self.pin_root.trim_end_matches('/'), spec.name));
            reused[i] = pin.as_deref().is_some_and(|p| std::path::Path::new(p).exists());
            // The kernel types a global-data map by its DATASEC only (keyless BTF came with it).
            let map_btf = btf.filter(|_| features.datasec || !matches!(spec.origin, MapOrigin::Data(_)));
            if let Some(path) = self.maps[i].create(spec, inner, map_btf, initial, pin)? {
                pinned.push(path);
            }
        }
        self.fill_slots(&reused, false)?;
        let map_fds = self.maps.iter().map(|m| m.fd()).collect::<Result<Vec<_>>>()?;

        self.logs = vec![String::new(); self.programs.len()];
        let args = crate::program::LoadArgs { license: &license, kern_version: kver, btf, func_info: features.func, log_level: opts.log_level };
        for i in 0..self.file.programs.len() {
            let spec = &self.file.programs[i];
            let what = format!("program '{}' (section '{}')", spec.name, spec.section);
            let (prog, poisoned) = self.prepare_program(i, &what, &map_fds, &ksyms).map_err(|e| e.context(&what))?;
            self.logs[i] = self.programs[i].load(spec, &prog, &poisoned, &args).map_err(|e| e.context(&what))?;
            log::debug(&format!("{what}: loaded, {} instructions", prog.insns.len() / 8));
        }
        self.fill_slots(&reused, true)
    }

    /// The statically initialised slots of `.maps` (`.values = { [i] = &x }`):
    /// map-in-map slots once every map exists, prog-array slots once every
    /// program is loaded. A map reused from its pin keeps what it holds.
    fn fill_slots(&self, reused: &[bool], programs: bool) -> Result<()> {
        use crate::obj::maps::SlotTarget;
        for (i, spec) in self.file.maps.iter().enumerate().filter(|(i, _)| !reused[*i]) {
            for &(slot, target) in &spec.init_slots {
                let (fd, what) = match target {
                    SlotTarget::Program(p) if programs => (self.programs[p].fd()?, format!("program '{}'", self.programs[p].name())),
                    SlotTarget::Map(m) if !programs => (self.maps[m].fd()?, format!("map '{}'", self.maps[m].name())),
                    _ => continue,
                };
                let key = slot.to_le_bytes();
                self.maps[i].update(&key[..spec.key_size.min(4) as usize], &(fd as u32).to_le_bytes(), 0).map_err(|e| e.context(format!("initial value of slot {slot}: {what}")))?;
            }
        }
        Ok(())
    }

    /// The object's BTF in the kernel. Optional for everything bpfl loads
    /// today: a kernel that refuses it costs line info only.
    fn load_btf(&self, features: &crate::obj::btf::BtfFeatures) -> Option<OwnedFd> {
        let btf = self.file.btf.as_ref()?;
        match sys::btf_load(&btf.sanitized(features).to_bytes()) {
            Ok(fd) => Some(fd),
            Err(sys::BtfLoadError { errno, log: log_text }) => {
                log::warn(&format!(
                    "object '{}': the kernel refused its BTF ({}); loading without it (no source lines in verifier logs){}",
                    self.file.name,
                    std::io::Error::from_raw_os_error(errno.0),
                    last_lines(&log_text, 3)
                ));
                None
            }
        }
    }

    /// Program `i` ready for the kernel: assembled with its callees, CO-RE
    /// relocated against the kernel's BTF, map fds and `__ksym` values filled
    /// in. Also returns the instructions that CO-RE poisoned.
    fn prepare_program(&self, i: usize, what: &str, map_fds: &[i32], ksyms: &[KsymValue]) -> Result<(AssembledProgram, Vec<Poisoned>)> {
        let mut prog = self.file.assemble(i)?;
        let mut poisoned = Vec::new();
        if !prog.core_relos.is_empty() {
            let local = self.file.btf.as_ref().ok_or_else(|| Error::parse("CO-RE relocations without '.BTF'"))?;
            let target = crate::host::vmlinux::kernel_btf()
                .map_err(|e| e.context(format!("its {} CO-RE relocations need the kernel's BTF", prog.core_relos.len())))?;
            for (module, btf, relos) in core_targets(local, target, &prog.core_relos) {
                if let Some(m) = module {
                    log::debug(&format!("{what}: {} CO-RE relocations against module '{m}'", relos.len()));
                }
                poisoned.extend(crate::obj::core_relo::relocate(local, &btf, &mut prog.insns, &relos)?);
            }
            for p in &poisoned {
                log::debug(&format!("{what}: instruction {} poisoned (the verifier refuses it only if reachable): {}", p.insn, p.what));
            }
        }
        prog.patch_map_fds(map_fds)?;
        for r in prog.patch_ksyms(&self.file.externs, ksyms)? {
            log::debug(&format!("{what}: instruction {}: call of missing __weak kfunc '{}' poisoned", r.insn, self.file.externs[r.ext].name));
        }
        Ok((prog, poisoned))
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

/// The CO-RE relocations grouped by the BTF they resolve against: the
/// kernel's, or, for a type the kernel's BTF does not name at all, the first
/// loaded module's that does (as libbpf searches).
fn core_targets(local: &crate::obj::btf::Btf, kernel: Arc<crate::obj::btf::IndexedBtf>, relos: &[crate::obj::core_relo::Relo]) -> Vec<(Option<String>, Arc<crate::obj::btf::IndexedBtf>, Vec<crate::obj::core_relo::Relo>)> {
    use crate::obj::btf::essential_name;
    let mut groups = vec![(None, kernel.clone(), Vec::new())];
    for r in relos {
        let name = local.type_by_id(r.type_id).and_then(|t| local.str_bytes_at(t.name_off)).unwrap_or(b"");
        let in_kernel = name.is_empty() || kernel.by_essential_name(essential_name(name)).next().is_some();
        let found = if in_kernel { None } else { crate::host::module_btf::find_type(name) };
        match found {
            Some((m, btf)) => match groups.iter_mut().find(|g| g.0.as_deref() == Some(m.as_str())) {
                Some(g) => g.2.push(*r),
                None => groups.push((Some(m), btf, vec![*r])),
            },
            None => groups[0].2.push(*r),
        }
    }
    groups.retain(|g| !g.2.is_empty());
    groups
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(": {}", lines[lines.len().saturating_sub(n)..].join(" | "))
}

/// Maps in the order they are created: inner-map templates first.
fn map_creation_order(file: &ObjectSpec) -> Vec<usize> {
    let inner: Vec<usize> = file.maps.iter().filter_map(|m| m.inner).collect();
    let (mut first, rest): (Vec<usize>, Vec<usize>) = (0..file.maps.len()).partition(|i| inner.contains(i));
    first.extend(rest);
    first
}
