//! The commands' bodies: `inspect` reads the object with the pure parser
//! (no kernel), `check` loads it, `map` works on a pinned map.
use crate::Failure;
use bpfl::btf::{Btf, BtfKind};
use bpfl::obj::{externs::ExternKind, types::MapType, ObjectSpec, ParseOptions};
use bpfl::{LoadOptions, Map, Object, OpenOptions};

type Res = Result<bool, Failure>;

fn read(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Error(format!("cannot read '{path}': {e}")))
}

pub fn inspect(path: &str) -> Res {
    let data = read(path)?;
    let stem = std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    let spec = ObjectSpec::parse(&data, &ParseOptions { name: stem })
        .map_err(|e| Failure::Error(format!("'{path}': {}", bpfl::Error::from(e))))?;
    println!(
        "object {} (license {:?}{})",
        spec.name,
        spec.license,
        spec.kern_version
            .map(|v| format!(", kernel version {v:#x}"))
            .unwrap_or_default()
    );
    println!("code sections: {}", spec.code_section_names().join(" "));
    println!("\nprograms ({}):", spec.programs.len());
    for p in &spec.programs {
        let at = p.expected_attach_type();
        let at = if at.as_u32() == 0 {
            String::new()
        } else {
            format!(" attach {at}")
        };
        let target = bpfl::obj::section::attach_target(&p.section).map(|t| format!(" target {t}")).unwrap_or_default();
        println!(
            "  {:<24} {:<40} {}{at}{target} insns {}",
            p.name,
            p.section,
            p.prog_type(),
            p.insn_count()
        );
    }
    println!("\nmaps ({}):", spec.maps.len());
    for m in &spec.maps {
        let pin = if m.pinning != 0 {
            " pinned by name"
        } else {
            ""
        };
        println!(
            "  {:<24} {} key {} value {} max_entries {} flags {:#x}{pin}",
            m.name,
            MapType(m.map_type.as_u32()),
            m.key_size,
            m.value_size,
            m.max_entries,
            m.map_flags
        );
    }
    if let Some(btf) = &spec.btf {
        globals(btf);
    }
    println!("\nexterns ({}):", spec.externs.len());
    for e in &spec.externs {
        let kind = match e.kind {
            ExternKind::Kconfig(_) => "__kconfig",
            _ => "__ksym",
        };
        println!(
            "  {:<24} {kind}{}",
            e.name,
            if e.weak { " (weak)" } else { "" }
        );
    }
    match &spec.btf {
        Some(btf) => println!("\nBTF: {} types", btf.len()),
        None => println!("\nBTF: none"),
    }
    if let Some(ext) = &spec.btf_ext {
        fn n<T>(v: &[(String, Vec<T>)]) -> usize {
            v.iter().map(|(_, r)| r.len()).sum()
        }
        println!(
            "BTF.ext: {} func info, {} line info, {} CO-RE relocations",
            n(&ext.func_info),
            n(&ext.line_info),
            n(&ext.core_relos)
        );
        for (sec, relos) in ext.core_relos.iter().filter(|(_, r)| !r.is_empty()) {
            println!("  {sec}: {} CO-RE relocations", relos.len());
        }
    }
    for w in &spec.warnings {
        println!("warning: {w}");
    }
    Ok(true)
}

/// Every variable of every DATASEC (.rodata, .data, .bss, ...) with its C type.
fn globals(btf: &Btf) {
    println!("\nglobals:");
    for (_, t) in btf.types().filter(|(_, t)| t.kind() == BtfKind::Datasec) {
        let sec = btf.str_at(t.name_off).unwrap_or("?");
        for si in t.secinfos() {
            let Some(var) = btf.type_by_id(si.type_id) else {
                continue;
            };
            let name = btf.str_at(var.name_off).unwrap_or("?");
            println!(
                "  {sec:<10} +{:<5} {:>4} bytes  {} {name}",
                si.offset,
                si.size,
                c_type(btf, var.size_or_type, 0)
            );
        }
    }
}

/// A C spelling of a BTF type (enough to read: arrays and pointers included).
fn c_type(btf: &Btf, id: u32, depth: u32) -> String {
    let Some(t) = btf.type_by_id(id) else {
        return "void".into();
    };
    if depth > 8 {
        return "...".into();
    }
    let name = btf.str_at(t.name_off).unwrap_or("");
    let inner = |d| c_type(btf, t.size_or_type, d);
    match t.kind() {
        BtfKind::Void => "void".into(),
        BtfKind::Int | BtfKind::Float | BtfKind::Typedef => name.into(),
        BtfKind::Struct | BtfKind::Union if name.is_empty() => format!("{} {{...}}", if t.kind() == BtfKind::Struct { "struct" } else { "union" }),
        BtfKind::Struct => format!("struct {name}"),
        BtfKind::Union => format!("union {name}"),
        BtfKind::Enum | BtfKind::Enum64 => format!("enum {name}"),
        BtfKind::Ptr => format!("{} *", inner(depth + 1)),
        BtfKind::Const => format!("const {}", inner(depth + 1)),
        BtfKind::Volatile => format!("volatile {}", inner(depth + 1)),
        BtfKind::Array => match t.array() {
            Some((elem, _, n)) => format!("{}[{n}]", c_type(btf, elem, depth + 1)),
            None => "?[]".into(),
        },
        _ => inner(depth + 1),
    }
}

/// One program's verdict, as `check` prints it.
struct Verdict {
    object: String,
    program: String,
    section: String,
    ok: bool,
    insns: u32,
    stats: Stats,
    reason: String,
}

/// What the verifier's statistics line says (BPF_LOG_STATS, log level 4).
#[derive(Default)]
struct Stats {
    processed: Option<u64>,
    states: Option<u64>,
    usec: Option<u64>,
}

fn number_after(log: &str, key: &str) -> Option<u64> {
    let rest = &log[log.rfind(key)? + key.len()..];
    rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn stats(log: &str) -> Stats {
    Stats {
        processed: number_after(log, "processed "),
        states: number_after(log, "total_states "),
        usec: number_after(log, "verification time "),
    }
}

/// Loads each object whole and gives a verdict per program: instructions
/// processed, states and verification time from the verifier's statistics,
/// or the reason it was refused.
/// Load each program alone (the others' autoload off), so that one refused
/// program does not hide the verdicts of the others, as veristat does.
pub fn check(args: &[&str]) -> Res {
    let mut json = false;
    let mut log_level = 4; // BPF_LOG_STATS: the statistics line only
    let mut paths = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--json" => json = true,
            "--log-level" => {
                let v = it.next().ok_or_else(|| Failure::Usage("--log-level needs a number".into()))?;
                log_level = v.parse().map_err(|_| Failure::Usage(format!("--log-level '{v}' is not a number")))?;
            }
            o if o.starts_with("--") => return Err(Failure::Usage(format!("check: unknown option '{o}'"))),
            p => paths.push(p),
        }
    }
    if paths.is_empty() {
        return Err(Failure::Usage("check: no object given".into()));
    }
    let mut verdicts = Vec::new();
    for path in &paths {
        check_one(path, log_level, &mut verdicts);
    }
    if json {
        print_json(&verdicts);
    } else {
        println!("{:<20} {:<24} {:<7} {:>6} {:>10} {:>7} {:>9}", "object", "program", "verdict", "insns", "processed", "states", "time(us)");
        for v in &verdicts {
            let n = |x: Option<u64>| x.map_or("-".to_string(), |x| x.to_string());
            println!("{:<20} {:<24} {:<7} {:>6} {:>10} {:>7} {:>9}", v.object, v.program, if v.ok { "ok" } else { "FAIL" },
                v.insns, n(v.stats.processed), n(v.stats.states), n(v.stats.usec));
        }
        for v in verdicts.iter().filter(|v| !v.reason.is_empty()) {
            println!("\n{} {}: {}", v.object, v.program, v.reason);
        }
    }
    Ok(verdicts.iter().all(|v| v.ok))
}

fn check_one(path: &str, log_level: u32, out: &mut Vec<Verdict>) {
    let object = std::path::Path::new(path).file_name().map_or(path.to_string(), |f| f.to_string_lossy().into_owned());
    // Maps pinned by name go to a pin root of our own, removed afterwards:
    // a check must not leave pins behind or reuse someone else's.
    let root = format!("/sys/fs/bpf/bpfl-check-{}", std::process::id());
    let _ = std::fs::create_dir_all(&root);
    // The object with only program `only` to load (all of them for None).
    let open = |only: Option<usize>| -> bpfl::Result<Object> {
        let obj = Object::open_file(path, &OpenOptions { pin_root: Some(root.clone()), ..Default::default() })?;
        if let Some(only) = only {
            for (i, p) in obj.programs().iter().enumerate() {
                p.set_autoload(i == only)?;
            }
        }
        Ok(obj)
    };
    let count = match open(None) {
        Ok(o) => o.programs().len(),
        Err(e) => {
            out.push(Verdict { object, program: "-".into(), section: String::new(), ok: false, insns: 0, stats: Stats::default(), reason: e.to_string() });
            return;
        }
    };
    for i in 0..count {
        let mut obj = match open(Some(i)) {
            Ok(o) => o,
            Err(e) => {
                out.push(Verdict { object: object.clone(), program: "-".into(), section: String::new(), ok: false, insns: 0, stats: Stats::default(), reason: e.to_string() });
                continue;
            }
        };
        let res = obj.load(&LoadOptions { log_level, ..Default::default() });
        let p = obj.programs()[i].clone();
        let (ok, log, reason) = match res {
            Ok(()) => (true, obj.verifier_logs().nth(i).map(|(_, l)| l.to_string()).unwrap_or_default(), String::new()),
            Err(e) => {
                let stats_log = e.verifier_log().unwrap_or_default().to_string();
                // At the statistics level the log holds no reason: load again
                // with the default level, which logs the refusal in full.
                let full = if log_level == 4 && e.verifier_log().is_some() {
                    open(Some(i)).and_then(|mut o| o.load(&LoadOptions::default())).err()
                } else {
                    None
                };
                (false, stats_log, full.unwrap_or(e).to_string())
            }
        };
        out.push(Verdict { object: object.clone(), program: p.name().into(), section: p.section().into(), ok, insns: p.insn_count(), stats: stats(&log), reason });
    }
    if let Ok(dir) = std::fs::read_dir(&root) {
        dir.flatten().for_each(|f| drop(std::fs::remove_file(f.path())));
    }
    let _ = std::fs::remove_dir(&root);
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn print_json(vs: &[Verdict]) {
    let n = |x: Option<u64>| x.map_or("null".to_string(), |x| x.to_string());
    let items: Vec<String> = vs
        .iter()
        .map(|v| {
            format!(
                "{{\"object\":{},\"program\":{},\"section\":{},\"verdict\":{},\"insns\":{},\"processed\":{},\"states\":{},\"verification_usec\":{},\"reason\":{}}}",
                json_str(&v.object), json_str(&v.program), json_str(&v.section), json_str(if v.ok { "ok" } else { "fail" }),
                v.insns, n(v.stats.processed), n(v.stats.states), n(v.stats.usec), json_str(&v.reason)
            )
        })
        .collect();
    println!("[{}]", items.join(",\n "));
}

use crate::render::hex;

fn unhex(s: &str, want: usize, what: &str) -> Result<Vec<u8>, Failure> {
    let s = s.trim_start_matches("0x");
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect();
    match bytes {
        Some(b) if b.len() == want => Ok(b),
        _ => Err(Failure::Usage(format!(
            "{what} '{s}' is not {want} bytes of hex"
        ))),
    }
}

/// How a key or value is shown: through the map's BTF when the kernel has
/// it (and --hex was not given), else hex. Per-CPU values are one per CPU.
struct Shower {
    btf: Option<bpfl::host::loaded::MapBtf>,
    value_size: usize,
}

impl Shower {
    fn key(&self, b: &[u8]) -> String {
        match &self.btf {
            Some(m) if m.key_type != 0 => crate::render::render(&m.btf, m.key_type, b),
            _ => hex(b),
        }
    }
    fn value(&self, b: &[u8]) -> String {
        let Some(m) = &self.btf else { return hex(b) };
        if b.len() == self.value_size {
            return crate::render::render(&m.btf, m.value_type, b);
        }
        crate::render::per_cpu(&m.btf, m.value_type, b, self.value_size, false)
    }
}

pub fn map_cmd(sub: &str, rest: &[&str]) -> Res {
    let hex_only = rest.contains(&"--hex");
    let rest: Vec<&str> = rest.iter().copied().filter(|a| *a != "--hex").collect();
    let (pin, args) = match rest.split_first() {
        Some((p, a)) => (*p, a),
        None => return Err(Failure::Usage(format!("map {sub}: missing PIN"))),
    };
    let open = || Map::open_pinned(pin).map_err(Failure::from);
    let shower = |m: &Map| -> Result<Shower, Failure> {
        let btf = if hex_only { None } else { bpfl::host::loaded::map_btf(m)? };
        Ok(Shower { btf, value_size: m.value_size() as usize })
    };
    match (sub, args) {
        ("dump", []) => {
            let m = open()?;
            let show = shower(&m)?;
            let mut v = vec![0u8; m.value_buf_size()];
            let mut n = 0;
            for k in m.keys() {
                let k = k?;
                if m.lookup(&k, &mut v)? {
                    println!("key {} value {}", show.key(&k), show.value(&v));
                    n += 1;
                }
            }
            println!("{n} entries");
            Ok(true)
        }
        ("lookup", [key]) => {
            let m = open()?;
            let k = unhex(key, m.key_size() as usize, "key")?;
            let mut v = vec![0u8; m.value_buf_size()];
            if m.lookup(&k, &mut v)? {
                println!("{}", shower(&m)?.value(&v));
                Ok(true)
            } else {
                Err(Failure::Error(format!("map '{pin}': no key {}", hex(&k))))
            }
        }
        ("update", [key, value]) => {
            let m = open()?;
            let k = unhex(key, m.key_size() as usize, "key")?;
            let v = unhex(value, m.value_buf_size(), "value")?;
            m.update(&k, &v, 0)?;
            Ok(true)
        }
        ("delete", [key]) => {
            let m = open()?;
            let k = unhex(key, m.key_size() as usize, "key")?;
            if m.delete(&k)? {
                Ok(true)
            } else {
                Err(Failure::Error(format!("map '{pin}': no key {}", hex(&k))))
            }
        }
        _ => Err(Failure::Usage(format!("map {sub}: wrong arguments"))),
    }
}
