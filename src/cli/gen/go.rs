//! `--lang go`: one .go file (package main unless --package) over the Go
//! binding, every name prefixed with the skeleton's (`SkelCount`,
//! `SkelCountEvent`, `OpenSkelCount`), as bpf2go does so that several
//! skeletons share a package. Go has no unions: a union is its bytes (with
//! the union's alignment) and one accessor per member. Sizes and offsets are
//! checked at compile time (an array of negative or non-zero length fails).
use super::layout::{gaps, order, Layout, Ty};
use super::Gen;
use std::collections::HashSet;
use std::fmt::Write;

/// `last_step` -> `LastStep`; a leading digit or nothing gets an `X`.
pub fn camel(s: &str) -> String {
    let mut o = String::new();
    for part in s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut cs = part.chars();
        if let Some(c) = cs.next() {
            o.push(c.to_ascii_uppercase());
            o.extend(cs);
        }
    }
    if o.is_empty() || o.starts_with(|c: char| c.is_ascii_digit()) {
        o.insert(0, 'X');
    }
    o
}

fn rec_name(g: &Gen, l: &Layout, i: usize) -> String {
    match l.datasecs.iter().find(|d| d.record == i) {
        Some(d) => format!("{}{}", camel(&g.name), camel(&d.ident)),
        None => format!("{}{}", camel(&g.name), camel(&l.records[i].name)),
    }
}

fn ty(g: &Gen, l: &Layout, t: &Ty) -> String {
    match t {
        Ty::Int { char: true, .. } => "byte".into(),
        Ty::Int { size, signed, .. } => format!("{}int{}", if *signed { "" } else { "u" }, size * 8),
        Ty::Float(s @ (4 | 8)) => format!("float{}", s * 8),
        Ty::Float(n) | Ty::Bytes(n) => format!("[{n}]byte"),
        Ty::Record(r) => rec_name(g, l, *r),
        Ty::Array(e, n) => format!("[{n}]{}", ty(g, l, e)),
    }
}

/// Go field names of a record's fields: exported, unique.
fn field_names(l: &Layout, i: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    l.records[i]
        .fields
        .iter()
        .map(|f| {
            let mut n = camel(&f.name);
            while !seen.insert(n.clone()) || n == "Raw" || n == "UnmarshalBinary" {
                n.push('_');
            }
            n
        })
        .collect()
}

pub(super) fn record(o: &mut String, g: &Gen, l: &Layout, i: usize) {
    let r = &l.records[i];
    let name = rec_name(g, l, i);
    let names = field_names(l, i);
    let kind = if r.union { "union" } else { "struct" };
    let _ = writeln!(o, "// {name} is {kind} {} ({} bytes).", r.name, r.size);
    if r.union {
        let al = match r.align {
            8 => "\t_   [0]uint64\n",
            4 => "\t_   [0]uint32\n",
            2 => "\t_   [0]uint16\n",
            _ => "",
        };
        let _ = writeln!(o, "type {name} struct {{\n{al}\tRaw [{}]byte\n}}\n", r.size);
        for (f, fname) in r.fields.iter().zip(&names) {
            let note = f.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
            let _ = writeln!(o, "// {fname} is the union's member {}{note}.\nfunc (u *{name}) {fname}() *{} {{\n\treturn (*{})(unsafe.Pointer(&u.Raw[0]))\n}}\n", f.name, ty(g, l, &f.ty), ty(g, l, &f.ty));
        }
    } else {
        let (before, tail) = gaps(r);
        let mut lines: Vec<(String, String, Option<String>)> = vec![];
        for ((f, gap), fname) in r.fields.iter().zip(before).zip(&names) {
            if gap > 0 {
                lines.push(("_".into(), format!("[{gap}]byte"), None));
            }
            lines.push((fname.clone(), ty(g, l, &f.ty), f.note.clone()));
        }
        if tail > 0 {
            lines.push(("_".into(), format!("[{tail}]byte"), None));
        }
        let _ = writeln!(o, "type {name} struct {{\n{}}}\n", gofmt_fields(&lines));
    }
    let _ = writeln!(o, "var _ [0]struct{{}} = [unsafe.Sizeof({name}{{}}) - {}]struct{{}}{{}}", r.size);
    if !r.union {
        for (f, fname) in r.fields.iter().zip(&names) {
            let _ = writeln!(o, "var _ [0]struct{{}} = [unsafe.Offsetof({name}{{}}.{fname}) - {}]struct{{}}{{}}", f.off);
        }
    }
    let _ = writeln!(
        o,
        "\n// UnmarshalBinary copies b (a ring buffer record, a map value) into v.
func (v *{name}) UnmarshalBinary(b []byte) error {{
\tif len(b) < int(unsafe.Sizeof(*v)) {{
\t\treturn fmt.Errorf(\"{name}: %d bytes, want %d\", len(b), unsafe.Sizeof(*v))
\t}}
\tcopy(unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v)), b)
\treturn nil
}}
"
    );
}

/// Struct fields aligned as gofmt aligns them: names to the longest, and
/// within each run of lines that have a comment, types to the longest.
fn gofmt_fields(lines: &[(String, String, Option<String>)]) -> String {
    let w = lines.iter().map(|l| l.0.len()).max().unwrap_or(0);
    let mut o = String::new();
    let mut i = 0;
    while i < lines.len() {
        let run = lines[i..].iter().take_while(|l| l.2.is_some()).count().max(1);
        let tw = lines[i..i + run].iter().map(|l| l.1.len()).max().unwrap_or(0);
        for (n, t, c) in &lines[i..i + run] {
            match c {
                Some(c) => o.push_str(&format!("\t{n:w$} {t:tw$} // {c}\n")),
                None => o.push_str(&format!("\t{n:w$} {t}\n")),
            }
        }
        i += run;
    }
    o
}

/// The object as a Go string constant, 32 bytes a line.
fn elf_const(data: &[u8]) -> String {
    let lines: Vec<String> = data.chunks(32).map(|c| format!("\t\"{}\"", c.iter().map(|b| format!("\\x{b:02x}")).collect::<String>())).collect();
    lines.join(" +\n")
}

pub fn generate(g: &Gen, l: &Layout, pkg: &str) -> String {
    let s = camel(&g.name);
    let mut o = String::new();
    let _ = writeln!(o, "// Code generated by `bpfl gen skeleton` from {}. DO NOT EDIT.\n\npackage {pkg}\n", g.source);
    o.push_str("import (\n\t\"fmt\"\n\t\"unsafe\"\n\n\t\"bpfl.dev/bpfl\"\n)\n\n// Used by the types' UnmarshalBinary; kept when there is none.\nvar _ = fmt.Errorf\n\n");
    for i in order(&l.records) {
        record(&mut o, g, l, i);
    }
    for m in &l.maps {
        for (what, t) in [("Key", &m.key), ("Value", &m.value)] {
            if let Some(t) = t {
                let _ = writeln!(o, "// {s}{}{what} is map {}'s {}.\ntype {s}{}{what} = {}\n", camel(&m.ident), m.name, what.to_lowercase(), camel(&m.ident), ty(g, l, t));
            }
        }
    }
    let _ = writeln!(o, "const {}ELF = \"\" +\n{}\n", g.name.replace('_', ""), elf_const(&g.elf));
    let mut top: Vec<(String, String, Option<String>)> = vec![("Obj".into(), "*bpfl.Object".into(), None)];
    let groups = [
        ("Progs", "*bpfl.Program", l.progs.iter().map(|p| camel(&p.name)).collect::<Vec<_>>()),
        ("Maps", "*bpfl.Map", l.maps.iter().map(|m| camel(&m.ident)).collect()),
        ("Links", "*bpfl.Link", l.progs.iter().filter(|p| p.auto_attach).map(|p| camel(&p.name)).collect()),
    ];
    for (what, t, names) in groups.iter().filter(|g| !g.2.is_empty()) {
        let lines: Vec<_> = names.iter().map(|n| (n.clone(), t.to_string(), None)).collect();
        let _ = writeln!(o, "// {s}{what} are the object's {}.\ntype {s}{what} struct {{\n{}}}\n", what.to_lowercase(), gofmt_fields(&lines));
        top.push((what.to_string(), format!("{s}{what}"), None));
    }
    for d in &l.datasecs {
        let ro = d.name.starts_with(".rodata").then(|| "writable until Load; read-only after".to_string());
        top.push((camel(&d.ident), format!("*{}", rec_name(g, l, d.record)), ro));
    }
    let _ = write!(o, "// {s} is the object {} opened from the bytes above: its programs, maps,\n// links and data sections. Close it when done.\ntype {s} struct {{\n{}", g.source, gofmt_fields(&top));
    let _ = writeln!(
        o,
        "}}

// Open{s} opens the embedded object (nothing in the kernel yet). opts may be
// nil; its Name defaults to \"{n}\".
func Open{s}(opts *bpfl.OpenOptions) (*{s}, error) {{
\to := bpfl.OpenOptions{{}}
\tif opts != nil {{
\t\to = *opts
\t}}
\tif o.Name == \"\" {{
\t\to.Name = \"{n}\"
\t}}
\tobj, err := bpfl.OpenBytes([]byte({c}ELF), &o)
\tif err != nil {{
\t\treturn nil, err
\t}}
\ts := &{s}{{Obj: obj}}
\tif err := s.init(); err != nil {{
\t\tobj.Close()
\t\treturn nil, err
\t}}
\treturn s, nil
}}

func (s *{s}) init() error {{
\tvar err error",
        n = g.name,
        c = g.name.replace('_', "")
    );
    for p in &l.progs {
        let _ = writeln!(o, "\tif s.Progs.{}, err = s.Obj.Program(\"{}\"); err != nil {{\n\t\treturn err\n\t}}", camel(&p.name), p.name);
    }
    for m in &l.maps {
        let _ = writeln!(o, "\tif s.Maps.{}, err = s.Obj.Map(\"{}\"); err != nil {{\n\t\treturn err\n\t}}", camel(&m.ident), m.name);
    }
    for d in &l.datasecs {
        let vars: Vec<String> = d.vars.iter().map(|(v, off)| format!("{{\"{v}\", {off}}}")).collect();
        let _ = writeln!(
            o,
            "\tif p, err := s.section([]skelVar{{{}}}); err != nil {{\n\t\treturn err\n\t}} else {{\n\t\ts.{} = (*{})(p)\n\t}}",
            vars.join(", "),
            camel(&d.ident),
            rec_name(g, l, d.record)
        );
    }
    let _ = writeln!(
        o,
        "\treturn err
}}

type skelVar struct {{
\tname string
\toff  uintptr
}}

// section is a data section's struct: the address of its first variable
// bpfl knows, less that variable's offset.
func (s *{s}) section(vars []skelVar) (unsafe.Pointer, error) {{
\tvar err error
\tfor _, v := range vars {{
\t\tvar x *bpfl.Variable
\t\tif x, err = s.Obj.Variable(v.name); err == nil {{
\t\t\treturn unsafe.Add(x.Pointer(), -int(v.off)), nil
\t\t}}
\t}}
\treturn nil, err
}}

// Load creates the maps and loads the programs; the data section pointers
// stay valid (they now point into the kernel's maps).
func (s *{s}) Load(opts *bpfl.LoadOptions) error {{
\treturn s.Obj.Load(opts)
}}

// Attach attaches every program whose section names its target and that was
// loaded (autoload on); the links are closed by Close.
func (s *{s}) Attach() error {{
\tvar err error"
    );
    for p in l.progs.iter().filter(|p| p.auto_attach) {
        let _ = writeln!(o, "\tif on, _ := s.Progs.{0}.Autoload(); s.Links.{0} == nil && on {{\n\t\tif s.Links.{0}, err = s.Progs.{0}.Attach(); err != nil {{\n\t\t\treturn err\n\t\t}}\n\t}}", camel(&p.name));
    }
    let _ = writeln!(o, "\treturn err\n}}\n\n// Close detaches the links and closes the object.\nfunc (s *{s}) Close() error {{");
    for p in l.progs.iter().filter(|p| p.auto_attach) {
        let _ = writeln!(o, "\tif s.Links.{0} != nil {{\n\t\ts.Links.{0}.Close()\n\t\ts.Links.{0} = nil\n\t}}", camel(&p.name));
    }
    let _ = writeln!(o, "\treturn s.Obj.Close()\n}}");
    o.replace("skelVar", &format!("{}Var", g.name.replace('_', "")))
}
