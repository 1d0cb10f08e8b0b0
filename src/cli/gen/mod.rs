//! `bpfl gen skeleton OBJ --lang c|cpp|go|nim [--name NAME] [-o FILE]
//! [--event TYPE]...`: code that embeds the object and gives typed handles
//! for its programs, maps and global data, with its BTF types as native
//! structs (see docs/skeletons.md). `layout` reads the object (pure, through
//! bpfl-obj); each language prints it.
mod c;
mod cpp;
mod go;
pub mod layout;
mod nim;
#[cfg(test)]
mod tests;

use crate::Failure;
use bpfl::obj::{ObjectSpec, ParseOptions};

/// What every generator is given besides the layout.
pub struct Gen {
    /// The skeleton's name: an identifier (`skel_count`).
    pub name: String,
    /// The object's file name, for the "generated from" line.
    pub source: String,
    pub elf: Vec<u8>,
}

pub const HELP: &str = "usage: bpfl gen skeleton OBJ --lang c|cpp|go|nim [--name NAME] [-o FILE] [--event TYPE]...

Writes code that embeds the BPF object OBJ (opened from memory) and gives
typed handles for its programs and maps, its .rodata/.data/.bss as typed
structs (set .rodata before load; .data and .bss live after it, through
memory the kernel maps), and its BTF types (map keys and values, globals,
--event types and structs a global points to) as native structs with the
kernel's layout, checked by size and offset assertions.

  --lang      c: a header (NAME.skel.h); cpp: a header (NAME.skel.hpp) over
              bpfl.hpp; go: a .go file of package main (or --package), names
              prefixed with NAME's CamelCase; nim: a module (NAME_skel.nim)
  --name      the skeleton's name (default: OBJ's file name without .o/.bpf)
  --package   Go: the package clause (default: NAME)
  --event     also generate the struct, union or typedef TYPE (a ring buffer
              record the maps' types do not name); may repeat
  -o FILE     write FILE (default: standard output)

See docs/skeletons.md.";

pub fn cmd(args: &[&str]) -> Result<bool, Failure> {
    let usage = |m: &str| Failure::Usage(format!("gen: {m}"));
    let [sub, rest @ ..] = args else { return Err(usage("which? (gen skeleton OBJ --lang L)")) };
    if *sub != "skeleton" {
        return Err(usage(&format!("unknown generator '{sub}' (there is: skeleton)")));
    }
    let (mut obj, mut lang, mut name, mut out, mut pkg, mut events) = (None, None, None, None, None, vec![]);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let mut val = |what: &str| it.next().map(|s| s.to_string()).ok_or_else(|| usage(&format!("{what} needs a value")));
        match *a {
            "--lang" | "-l" => lang = Some(val("--lang")?),
            "--name" | "-n" => name = Some(val("--name")?),
            "-o" | "--output" => out = Some(val("-o")?),
            "--package" => pkg = Some(val("--package")?),
            "--event" => events.push(val("--event")?),
            s if s.starts_with('-') => return Err(usage(&format!("unknown option '{s}'"))),
            s if obj.is_none() => obj = Some(s.to_string()),
            s => return Err(usage(&format!("one object at a time ('{s}')"))),
        }
    }
    let obj = obj.ok_or_else(|| usage("skeleton needs an object file"))?;
    let lang = lang.ok_or_else(|| usage("skeleton needs --lang c|cpp|go|nim"))?;
    let data = std::fs::read(&obj).map_err(|e| Failure::Error(format!("cannot read '{obj}': {e}")))?;
    let file = std::path::Path::new(&obj).file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = file.trim_end_matches(".o").trim_end_matches(".bpf").to_string();
    let name = layout::ident(&name.unwrap_or(stem));
    let spec = ObjectSpec::parse(&data, &ParseOptions { name: Some(name.clone()) }).map_err(|e| Failure::Error(format!("'{obj}': {}", bpfl::Error::from(e))))?;
    let l = layout::build(&spec, &events).map_err(|e| Failure::Error(format!("'{obj}': {e}")))?;
    let g = Gen { name: name.clone(), source: file, elf: data };
    let code = match lang.as_str() {
        "c" => c::generate(&g, &l),
        "cpp" | "c++" => cpp::generate(&g, &l),
        "go" => go::generate(&g, &l, pkg.as_deref().unwrap_or("main")),
        "nim" => nim::generate(&g, &l),
        other => return Err(usage(&format!("unknown language '{other}' (c, cpp, go, nim)"))),
    };
    match out {
        Some(path) => std::fs::write(&path, code).map_err(|e| Failure::Error(format!("cannot write '{path}': {e}")))?,
        None => print!("{code}"),
    }
    Ok(true)
}
