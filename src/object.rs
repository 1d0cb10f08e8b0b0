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
    /// A BTF file to use as the target of CO-RE relocations instead of the
    /// running kernel's (`/sys/kernel/btf/vmlinux`), e.g. one from BTFHub.
    /// BTF attach targets (fentry, tp_btf, lsm) stay the kernel's: their ids
    /// are the kernel's own numbering (as in libbpf).
    pub btf_custom_path: Option<String>,
    /// Kernel config text (`CONFIG_X=y` lines) whose values override the
    /// host's for `__kconfig` externs.
    pub kconfig: Option<String>,
    /// Verifier log level for every program of the object (a program's own
    /// level overrides it; a non-zero load option too).
    pub kernel_log_level: u32,
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
    /// The CO-RE target from `btf_custom_path`, read at open.
    custom_btf: Option<Arc<crate::btf::IndexedBtf>>,
    kconfig: Option<String>,
    kernel_log_level: u32,
}


impl Object {
    /// Open an object file.
    pub fn open_file(path: &str, opts: &OpenOptions) -> Result<Object> {
        // A regular file of at most 1 GiB: not /dev/zero (read forever), not a FIFO (blocks).
        let data = crate::sys::file::read_regular(path, "object")?;
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
        let maps: Vec<Arc<Map>> = file
            .maps
            .iter()
            .map(|m| {
                // A perf event array of size 0 gets a slot per possible CPU, as under libbpf.
                let max = if m.map_type == MapType::PERF_EVENT_ARRAY && m.max_entries == 0 { crate::host::cpus::possible_cpus() as u32 } else { m.max_entries };
                Arc::new(Map::new(&m.name, m.map_type.as_u32(), m.key_size, m.value_size, max, m.map_flags))
            })
            .collect();
        let programs = file.programs.iter().map(|p| Arc::new(Program::from_spec(p))).collect();
        for (i, m) in maps.iter().enumerate() {
            if let Some(end) = file.data_vars_end(i) {
                m.set_data_info(end, Some(i) == file.kconfig_map);
            }
        }
        let custom_btf = match &opts.btf_custom_path {
            Some(p) => Some(crate::host::vmlinux::btf_from_file(p).map_err(|e| e.context("btf_custom_path"))?),
            None => None,
        };
        Ok(Object {
            file,
            maps,
            programs,
            btf_fd: None,
            pin_root: opts.pin_root.clone().unwrap_or_else(|| "/sys/fs/bpf".into()),
            loaded: false,
            logs: Vec::new(),
            custom_btf,
            kconfig: opts.kconfig.clone(),
            kernel_log_level: opts.kernel_log_level,
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
        self.file.set_global(var, value).map_err(|e| Error::from(e).in_object(&self.file.name))?;
        if let Some(v) = self.file.global_var(var) {
            self.maps[v.map].mem.write_image(v.offset as usize, value);
        }
        Ok(())
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
        self.maps[idx].mem.write_image(0, value);
        Ok(())
    }

    /// Create the maps, relocate and load every program. On failure nothing
    /// stays behind: maps and programs created so far are closed, and maps
    /// pinned by this load are unpinned.
    pub fn load(&mut self, opts: &LoadOptions) -> Result<()> {
        self.before_load("loading")?;
        let mut pinned = Vec::new();
        self.seal(true);
        let r = self.load_inner(opts, &mut pinned);
        if let Err(e) = r {
            self.seal(false);
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
        // Last, and never failing: pointers into data images now reach the maps.
        Object::map_images(&self.maps);
        self.loaded = true;
        Ok(())
    }

    /// Set-ups of programs and maps are fixed while loading and once loaded.
    fn seal(&self, on: bool) {
        self.programs.iter().for_each(|p| p.seal(on));
        self.maps.iter().for_each(|m| m.seal(on));
    }

    /// The order of a load: check, BTF, externs, maps (inner templates
    /// first), then each program assembled, relocated, patched and loaded.
    fn load_inner(&mut self, opts: &LoadOptions, pinned: &mut Vec<String>) -> Result<()> {
        for (p, spec) in self.programs.iter().zip(&self.file.programs) {
            p.check_loadable(spec)?;
        }
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
            Some(m) => Some(crate::ksyms::kconfig_value(&self.file.externs, self.file.maps[m].value_size, self.kconfig.as_deref())?),
            None => None,
        };
        let ksyms = if self.file.externs.iter().any(|e| e.kconfig().is_none()) { crate::ksyms::resolve_ksyms(&self.file)? } else { Vec::new() };

        let so_targets = crate::struct_ops::program_targets(&self.file)?;
        let mut reused = vec![false; self.maps.len()];
        for i in map_creation_order(&self.file) {
            if let Some(so) = self.file.struct_ops.iter().find(|s| s.map == i) {
                crate::struct_ops::create_map(&self.maps[i], so, &self.file.maps[i], btf)?;
                continue;
            }
            // The kernel types a global-data map by its DATASEC only (keyless BTF came with it).
            let map_btf = btf.filter(|_| features.datasec || !matches!(self.file.maps[i].origin, MapOrigin::Data(_)));
            let (pinned_at, kept) = self.create_map(i, map_btf, kconfig.as_deref())?;
            reused[i] = kept;
            if let Some(path) = pinned_at {
                pinned.push(path);
            }
        }
        self.fill_slots(&reused, false)?;
        // A map not created (autocreate off) has no fd: programs using it are refused by name.
        let map_fds: Vec<i32> = self.maps.iter().map(|m| m.fd().unwrap_or(-1)).collect();

        self.logs = vec![String::new(); self.programs.len()];
        let log_level = if opts.log_level != 0 { opts.log_level } else { self.kernel_log_level };
        let mut args = crate::program::LoadArgs { license: &license, kern_version: kver, btf, func_info: features.func, log_level, struct_ops: None };
        for i in 0..self.file.programs.len() {
            args.struct_ops = so_targets[i];
            let spec = &self.file.programs[i];
            if !self.programs[i].autoload() {
                log::debug(&format!("program '{}': autoload is off; not loaded", spec.name));
                continue;
            }
            let what = format!("program '{}' (section '{}')", spec.name, spec.section);
            let (prog, poisoned) = self.prepare_program(i, &what, &map_fds, &ksyms).map_err(|e| e.context(&what))?;
            self.logs[i] = self.programs[i].load(spec, &prog, &poisoned, &args).map_err(|e| e.context(&what))?;
            log::debug(&format!("{what}: loaded, {} instructions", prog.insns.len() / 8));
        }
        // struct_ops values hold the programs' fds: made now, registered at attach.
        let prog_fds: Vec<i32> = self.programs.iter().map(|p| p.fd().unwrap_or(-1)).collect();
        for so in &self.file.struct_ops {
            self.maps[so.map].set_struct_ops_value(crate::struct_ops::map_value(so, &prog_fds)?);
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

    /// Bring map `i` into the kernel as set up: not at all (autocreate off),
    /// a reused fd, the map pinned at its pin path, or a new map. Returns the
    /// path it pinned, and whether the map was kept as it was (not created
    /// now: its static slots are not ours to fill).
    fn create_map(&self, i: usize, btf: Option<std::os::fd::BorrowedFd<'_>>, kconfig: Option<&[u8]>) -> Result<(Option<String>, bool)> {
        let spec = &self.file.maps[i];
        let map = &self.maps[i];
        let what = || format!("map '{}'", spec.name);
        let plan = map.plan()?;
        if !plan.autocreate {
            log::debug(&format!("map '{}': autocreate is off; not created", spec.name));
            return Ok((None, true));
        }
        if let Some(fd) = plan.reuse {
            map.adopt(fd)?;
            return Ok((None, true));
        }
        let inner = match (plan.inner, spec.inner) {
            (Some(fd), _) => Some(fd),
            (None, Some(j)) => Some(self.maps[j].dup_fd().map_err(|e| e.context(what()))?),
            (None, None) => None,
        };
        let initial = if Some(i) == self.file.kconfig_map {
            kconfig.map(<[u8]>::to_vec)
        } else {
            // A resized data map keeps its data, zero-extended (or cut past the
            // last variable); the image find_variable handed out is the truth.
            map.mem.image_bytes(map.value_size() as usize).or_else(|| spec.data.clone()).map(|mut d| {
                d.resize(map.value_size() as usize, 0);
                d
            })
        };
        let pin = match plan.pin_path {
            Some(p) => Some(p),
            None if spec.pinning == 1 => Some(crate::map::pin_path(&self.pin_root, &spec.name)?),
            None => None,
        };
        let kept = pin.as_deref().is_some_and(|p| std::path::Path::new(p).exists());
        Ok((map.create(spec, inner, btf, initial.as_deref(), pin)?, kept))
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
            match &self.custom_btf {
                // A target BTF file given at open: every relocation against it.
                Some(t) => poisoned = crate::obj::core_relo::relocate(local, t, &mut prog.insns, &prog.core_relos)?,
                None => {
                    let target = crate::host::vmlinux::kernel_btf()
                        .map_err(|e| e.context(format!("its {} CO-RE relocations need the kernel's BTF", prog.core_relos.len())))?;
                    for (module, btf, relos) in core_targets(local, target, &prog.core_relos) {
                        if let Some(m) = module {
                            log::debug(&format!("{what}: {} CO-RE relocations against module '{m}'", relos.len()));
                        }
                        poisoned.extend(crate::obj::core_relo::relocate(local, &btf, &mut prog.insns, &relos)?);
                    }
                }
            }
            for p in &poisoned {
                log::debug(&format!("{what}: instruction {} poisoned (the verifier refuses it only if reachable): {}", p.insn, p.what));
            }
        }
        for r in &prog.map_refs {
            let (crate::obj::MapRef::Fd(_, m) | crate::obj::MapRef::Value(_, m, _)) = *r;
            if map_fds.get(m) == Some(&-1) {
                return Err(Error::inval(format!("it uses map '{}', which is not created (its autocreate is off)", self.file.maps[m].name)));
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
            if !p.autoload() {
                log::debug(&format!("program '{}': autoload is off; not attached", p.name()));
                continue;
            }
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
