//! `bpfl run OBJ`: load an object (its .rodata set with --set, each value
//! typed through BTF), attach what names its target (--attach), print ring
//! and perf buffer records as they come, and every map at each --interval
//! and at the end (--duration, or SIGINT/SIGTERM).
//!
//! Records have no type in BTF: `--event MAP=TYPE` names the struct; without
//! it a record is shown as the one named struct of the object's BTF whose
//! size is the record's (a perf sample may carry up to 7 bytes of padding),
//! and in hex when no struct or more than one has that size.
use crate::render::{self, hex};
use crate::Failure;
use bpfl::btf::{Btf, BtfKind};
use bpfl::obj::MapSpec;
use bpfl::{LoadOptions, Map, Object, OpenOptions, PerfBuffer, RingBuffer};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Res = Result<bool, Failure>;

const RINGBUF: u32 = 27;
const USER_RINGBUF: u32 = 31;
const PERF_EVENT_ARRAY: u32 = 4;
/// Maps whose values are not data to print: prog arrays, maps of maps,
/// struct_ops, arenas, and the buffers (read as events instead).
const NOT_PRINTED: [u32; 8] = [3, PERF_EVENT_ARRAY, 12, 13, 26, RINGBUF, USER_RINGBUF, 33];
const PERCPU: [u32; 4] = [5, 6, 10, 21];

#[derive(Default)]
struct Args<'a> {
    obj: Option<&'a str>,
    attach: bool,
    per_cpu: bool,
    duration: Option<Duration>,
    interval: Option<Duration>,
    sets: Vec<(&'a str, &'a str)>,
    events: Vec<(&'a str, &'a str)>,
}

fn seconds(flag: &str, v: Option<&&str>) -> Result<Duration, Failure> {
    match v.and_then(|s| s.parse::<f64>().ok()) {
        Some(s) if s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(Failure::Usage(format!("run: {flag} wants a number of seconds > 0"))),
    }
}

fn pair<'a>(flag: &str, v: Option<&&'a str>) -> Result<(&'a str, &'a str), Failure> {
    v.and_then(|s| s.split_once('=')).filter(|(k, _)| !k.is_empty()).ok_or_else(|| Failure::Usage(format!("run: {flag} wants NAME=VALUE")))
}

fn parse_args<'a>(args: &[&'a str]) -> Result<Args<'a>, Failure> {
    let mut a = Args::default();
    let mut it = args.iter();
    while let Some(&arg) = it.next() {
        match arg {
            "--attach" => a.attach = true,
            "--per-cpu" => a.per_cpu = true,
            "--duration" => a.duration = Some(seconds(arg, it.next())?),
            "--interval" => a.interval = Some(seconds(arg, it.next())?),
            "--set" => a.sets.push(pair(arg, it.next())?),
            "--event" => a.events.push(pair(arg, it.next())?),
            _ if arg.starts_with('-') => return Err(Failure::Usage(format!("run: unknown option '{arg}'"))),
            _ if a.obj.is_none() => a.obj = Some(arg),
            _ => return Err(Failure::Usage("run: one OBJ only".into())),
        }
    }
    Ok(a)
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    STOP.store(true, Ordering::Relaxed);
}

extern "C" {
    fn signal(sig: i32, handler: extern "C" fn(i32)) -> usize;
}

pub fn run(args: &[&str]) -> Res {
    let a = parse_args(args)?;
    let path = a.obj.ok_or_else(|| Failure::Usage("run: missing OBJ".into()))?;
    let mut obj = Object::open_file(path, &OpenOptions::default())?;
    let btf = match obj.file().btf.clone() {
        Some(b) => b,
        None => empty_btf()?, // all in hex
    };
    for (var, value) in &a.sets {
        let bytes = crate::run_set::encode(&btf, var, value)?;
        obj.set_global(var, &bytes)?;
    }
    for (m, ty) in &a.events {
        if !obj.file().maps.iter().any(|x| x.name == *m && [RINGBUF, PERF_EVENT_ARRAY].contains(&x.map_type.0)) {
            return Err(Failure::Usage(format!("run: --event {m}=...: the object has no ring or perf buffer '{m}'")));
        }
        type_named(&btf, ty)?;
    }
    obj.load(&LoadOptions::default())?;
    let _links = attach(&obj, a.attach);
    let specs: Vec<MapSpec> = obj.file().maps.clone();
    let maps: Vec<(&MapSpec, &Map)> = specs.iter().zip(obj.maps().iter().map(|m| &**m)).filter(|(s, m)| s.name == m.name()).collect();
    let mut events = Events::new(&btf, &maps, &a.events)?;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        signal(2, on_signal);
        signal(15, on_signal);
    }
    let start = Instant::now();
    let mut next = a.interval.map(|i| start + i);
    println!("running{}; Ctrl-C ends", a.duration.map_or(String::new(), |d| format!(" for {} s", d.as_secs_f64())));
    while !STOP.load(Ordering::Relaxed) && a.duration.map_or(true, |d| start.elapsed() < d) {
        events.consume();
        if let (Some(n), Some(i)) = (next, a.interval) {
            if Instant::now() >= n {
                print_maps(&btf, &maps, a.per_cpu, start);
                next = Some(n + i);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    events.consume();
    print_maps(&btf, &maps, a.per_cpu, start);
    Ok(true)
}

/// Attach every program whose section names its target; say which were
/// attached and why the others were not.
fn attach(obj: &Object, on: bool) -> Vec<bpfl::Link> {
    let mut links = Vec::new();
    for p in obj.programs() {
        let (name, sec) = (p.name(), p.section());
        if !on {
            println!("loaded {name} ({sec}): not attached (no --attach)");
        } else if !p.can_auto_attach() {
            println!("loaded {name} ({sec}): not attached: section '{sec}' names no target to attach to");
        } else {
            match p.attach() {
                Ok(l) => {
                    println!("attached {name} ({sec})");
                    links.push(l);
                }
                Err(e) => println!("loaded {name} ({sec}): not attached: {e}"),
            }
        }
    }
    links
}

fn print_maps(btf: &Btf, maps: &[(&MapSpec, &Map)], per_cpu: bool, start: Instant) {
    println!("--- maps after {:.1} s", start.elapsed().as_secs_f64());
    for (spec, map) in maps {
        let name = map.name();
        if NOT_PRINTED.contains(&map.map_type()) || name.starts_with(".rodata") || name == ".kconfig" {
            continue;
        }
        println!("{name}:");
        if let Err(e) = print_map(btf, spec, map, per_cpu) {
            println!("  cannot read: {e}");
        }
    }
}

fn print_map(btf: &Btf, spec: &MapSpec, map: &Map, per_cpu: bool) -> bpfl::Result<()> {
    let mut v = vec![0u8; map.value_buf_size()];
    let vs = map.value_size() as usize;
    let pcpu = PERCPU.contains(&map.map_type());
    let (kt, vt) = (spec.btf_key_type_id, spec.btf_value_type_id);
    // A global data section: its one value is every variable of the section.
    if btf.type_by_id(vt).is_some_and(|t| t.kind() == BtfKind::Datasec) {
        if map.lookup(&0u32.to_ne_bytes(), &mut v)? {
            for (var, val) in render::datasec_vars(btf, vt, &v).unwrap_or_default() {
                println!("  {var} = {val}");
            }
        }
        return Ok(());
    }
    let mut n = 0;
    for k in map.keys() {
        let k = k?;
        if !map.lookup(&k, &mut v)? {
            continue;
        }
        let key = if kt != 0 { render::render(btf, kt, &k) } else { hex(&k) };
        let value = match (vt != 0, pcpu) {
            (false, _) => hex(&v),
            (true, false) => render::render(btf, vt, &v[..vs]),
            (true, true) => render::per_cpu(btf, vt, &v, vs, !per_cpu),
        };
        println!("  key {key} value {value}");
        n += 1;
    }
    if n == 0 {
        println!("  (empty)");
    }
    Ok(())
}

/// A BTF with no types, for an object without `.BTF`.
fn empty_btf() -> bpfl::Result<Btf> {
    let mut b = vec![0x9f, 0xeb, 1, 0];
    for w in [24u32, 0, 0, 0, 1] {
        b.extend(w.to_ne_bytes());
    }
    b.push(0);
    Ok(Btf::parse(&b)?)
}

/// How the records of one buffer map are shown.
#[derive(Clone, Copy)]
enum Shape {
    Named(u32),
    BySize,
}

struct Events<'a> {
    btf: &'a Btf,
    /// Named structs of the object's BTF, (size, id): the candidates of a guess.
    structs: Vec<(usize, u32)>,
    ring: Option<RingBuffer>,
    /// Each ring's map name and shape, by the ring buffer's index.
    rings: Vec<(String, Shape)>,
    perfs: Vec<(PerfBuffer, String, Shape)>,
}

impl<'a> Events<'a> {
    fn new(btf: &'a Btf, maps: &[(&MapSpec, &Map)], chosen: &[(&str, &str)]) -> Result<Events<'a>, Failure> {
        let structs = btf
            .types()
            .filter(|(_, t)| t.kind() == BtfKind::Struct && t.name_off != 0)
            .filter_map(|(id, _)| Some((btf.size_of(id).ok()? as usize, id)))
            .collect();
        let mut ev = Events { btf, structs, ring: None, rings: Vec::new(), perfs: Vec::new() };
        for (_, map) in maps {
            let shape = match chosen.iter().find(|(m, _)| *m == map.name()) {
                Some((_, ty)) => Shape::Named(type_named(btf, ty)?),
                None => Shape::BySize,
            };
            match map.map_type() {
                RINGBUF => match &mut ev.ring {
                    Some(r) => drop(r.add(map)?),
                    None => ev.ring = Some(RingBuffer::new(map)?),
                },
                PERF_EVENT_ARRAY => ev.perfs.push((PerfBuffer::new(map, 0)?, map.name().to_string(), shape)),
                _ => continue,
            }
            if map.map_type() == RINGBUF {
                ev.rings.push((map.name().to_string(), shape));
            }
        }
        Ok(ev)
    }

    fn consume(&mut self) {
        let (mut ring, mut perfs) = (self.ring.take(), std::mem::take(&mut self.perfs));
        if let Some(r) = &mut ring {
            r.consume_each(|i, d| {
                if let Some((m, s)) = self.rings.get(i) {
                    println!("event {m}: {}", self.show(s, d, 0));
                }
                ControlFlow::Continue(())
            });
        }
        for (pb, m, s) in &mut perfs {
            pb.consume(
                |_, d| {
                    println!("event {m}: {}", self.show(s, d, 7));
                    ControlFlow::Continue(())
                },
                |cpu, n| println!("event {m}: {n} records lost on CPU {cpu}"),
            );
        }
        (self.ring, self.perfs) = (ring, perfs);
    }

    /// A record as its type: the chosen one, else the one struct whose size
    /// is the record's (up to `pad` bytes shorter), else hex.
    fn show(&self, shape: &Shape, d: &[u8], pad: usize) -> String {
        let id = match shape {
            Shape::Named(id) => Some(*id),
            Shape::BySize => {
                let mut fit = self.structs.iter().filter(|(sz, _)| *sz <= d.len() && d.len() - sz <= pad);
                match (fit.next(), fit.next()) {
                    (Some((_, id)), None) => Some(*id),
                    _ => None,
                }
            }
        };
        match id {
            Some(id) if self.btf.size_of(id).is_ok_and(|s| s as usize <= d.len()) => {
                format!("{} {}", type_name(self.btf, id), render::render(self.btf, id, d))
            }
            _ => format!("{} bytes {}", d.len(), hex(d)),
        }
    }
}

/// `struct NAME`, `union NAME`, or a typedef's name.
fn type_name(btf: &Btf, id: u32) -> String {
    match btf.type_by_id(id).map(|t| t.kind()) {
        Some(BtfKind::Struct) => format!("struct {}", btf.name_of(id)),
        Some(BtfKind::Union) => format!("union {}", btf.name_of(id)),
        _ => btf.name_of(id).to_string(),
    }
}

/// The type `--event MAP=TYPE` names: "struct x", "union x", or a typedef.
fn type_named(btf: &Btf, ty: &str) -> Result<u32, Failure> {
    let (kinds, name): (&[BtfKind], &str) = match ty.split_once(' ') {
        Some(("struct", n)) => (&[BtfKind::Struct], n),
        Some(("union", n)) => (&[BtfKind::Union], n),
        _ => (&[BtfKind::Struct, BtfKind::Union, BtfKind::Typedef], ty),
    };
    let id = kinds.iter().find_map(|k| btf.find_by_name_kind(name.trim(), *k));
    id.ok_or_else(|| Failure::Usage(format!("run: --event ...={ty}: the object's BTF has no such struct, union or typedef")))
}
