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
        println!(
            "  {:<24} {:<40} {}{at} insns {}",
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

/// Loads each object whole and gives a verdict per program.
// TODO: load each program alone (set_autoload, another branch) so one
// refused program does not hide the verdicts of the others.
pub fn check(paths: &[&str]) -> Res {
    let mut all_ok = true;
    for path in paths {
        let mut obj = match Object::open_file(path, &OpenOptions::default()) {
            Ok(o) => o,
            Err(e) => {
                println!("{path}: FAIL (open): {e}");
                all_ok = false;
                continue;
            }
        };
        let res = obj.load(&LoadOptions::default());
        for p in obj.programs() {
            let verdict = if p.is_loaded() {
                "ok"
            } else if res.is_ok() {
                "not loaded"
            } else {
                "FAIL"
            };
            println!(
                "{path}: {:<24} {:<40} {verdict:<10} insns {}",
                p.name(),
                p.section(),
                p.insn_count()
            );
        }
        if let Err(e) = res {
            all_ok = false;
            println!("{path}: FAIL: {e}");
        }
    }
    Ok(all_ok)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

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

pub fn map_cmd(sub: &str, rest: &[&str]) -> Res {
    let (pin, args) = match rest.split_first() {
        Some((p, a)) => (*p, a),
        None => return Err(Failure::Usage(format!("map {sub}: missing PIN"))),
    };
    let open = || Map::open_pinned(pin).map_err(Failure::from);
    match (sub, args) {
        ("dump", []) => {
            let m = open()?;
            let mut v = vec![0u8; m.value_buf_size()];
            let mut n = 0;
            for k in m.keys() {
                let k = k?;
                if m.lookup(&k, &mut v)? {
                    println!("key {} value {}", hex(&k), hex(&v));
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
                println!("{}", hex(&v));
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
