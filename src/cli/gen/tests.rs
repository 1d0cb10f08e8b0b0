//! The generator's layouts against clang's: testdata/layouts.bpf.c (padding,
//! nesting, arrays, unions, bitfields, packed and over-aligned structs) is
//! compiled for BPF (the BTF read) and natively (clang's own sizeof and
//! offsetof, compared with the layout here); then the records generated in
//! each language are compiled, so their size and offset assertions check
//! the printed types against the same numbers. A missing compiler is a loud
//! SKIPPED line, not a pass.
use super::layout::{self, Layout};
use super::{c, go, nim, Gen};
use bpfl::obj::{ObjectSpec, ParseOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/gen/testdata/layouts.bpf.c");

fn tool(names: &[&str]) -> Option<String> {
    names.iter().find(|n| Command::new(n).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)).map(|s| s.to_string())
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bpfl-gen-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The object compiled from testdata, its layout and a generator context.
fn setup(dir: &Path) -> Option<(Gen, Layout)> {
    let Some(clang) = tool(&["clang-19", "clang"]) else {
        eprintln!("SKIPPED: skeleton layout tests: no clang-19 or clang to compile testdata/layouts.bpf.c");
        return None;
    };
    let obj = dir.join("layouts.o");
    run(Command::new(&clang).args(["-target", "bpf", "-g", "-O2", "-c", SRC, "-o"]).arg(&obj));
    let elf = std::fs::read(&obj).unwrap();
    let spec = ObjectSpec::parse(&elf, &ParseOptions { name: Some("layouts".into()) }).unwrap();
    let l = layout::build(&spec, &["inner".to_string()]).unwrap();
    Some((Gen { name: "layouts".into(), source: "layouts.o".into(), elf }, l))
}

/// clang's (native) sizeof and offsetof for every named struct of the
/// layout and each of its fields that has a name in C (not a bitfield unit,
/// not an anonymous member), against the layout's numbers.
#[test]
fn layouts_match_clangs() {
    let dir = tmpdir("clang");
    let Some((_, l)) = setup(&dir) else { return };
    let mut prog = format!("#include <stdio.h>\n#include <stddef.h>\n#include \"{SRC}\"\nint main(void) {{\n");
    let mut want = String::new();
    let mut checked = 0;
    for (i, r) in l.records.iter().enumerate() {
        if r.name.contains("__") || l.datasecs.iter().any(|d| d.record == i) {
            continue; // an anonymous member's type, or a data section: no C name
        }
        let t = if r.name.ends_with("_t") { r.name.clone() } else { format!("{} {}", if r.union { "union" } else { "struct" }, r.name) };
        prog += &format!("\tprintf(\"{t} %zu\\n\", sizeof({t}));\n");
        want += &format!("{t} {}\n", r.size);
        for f in &r.fields {
            if f.note.as_deref().is_some_and(|n| n.starts_with("bitfields")) || f.name.starts_with("anon") {
                continue;
            }
            prog += &format!("\tprintf(\"{t}.{0} %zu\\n\", offsetof({t}, {0}));\n", f.name);
            want += &format!("{t}.{} {}\n", f.name, f.off);
            checked += 1;
        }
    }
    prog += "\treturn 0;\n}\n";
    std::fs::write(dir.join("native.c"), prog).unwrap();
    let clang = tool(&["clang-19", "clang"]).unwrap();
    run(Command::new(&clang).arg("-o").arg(dir.join("native")).arg(dir.join("native.c")));
    let got = run(&mut Command::new(dir.join("native")));
    assert_eq!(got, want, "clang's native layout differs from the one read from BTF");
    assert!(checked >= 30, "only {checked} fields compared");
    // The tricky ones, by hand: padding, a packed struct, an over-aligned one.
    let rec = |n: &str| l.records.iter().find(|r| r.name == n).unwrap();
    assert_eq!(rec("padded").size, 32);
    assert_eq!(rec("packed").size, 15);
    assert_eq!(rec("packed").align, 1);
    assert_eq!(rec("holds_aligned").size, 48);
    assert!(rec("nested").fields.iter().any(|f| f.name == "un" && matches!(f.ty, layout::Ty::Record(r) if l.records[r].union)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bitfield units: named after their members, at the offsets clang gave
/// (the native program sets each member and the test finds its bits).
#[test]
fn bitfields_are_their_units() {
    let dir = tmpdir("bits");
    let Some((_, l)) = setup(&dir) else { return };
    let bits = l.records.iter().find(|r| r.name == "bits").unwrap();
    let names: Vec<(&str, u32, u32)> = bits.fields.iter().map(|f| (f.name.as_str(), f.off, f.size)).collect();
    assert_eq!(names, [("before", 0, 1), ("a_b", 1, 2), ("c", 4, 4), ("d_e", 8, 8), ("after", 16, 1), ("f", 17, 1)]);
    // Where clang puts each bitfield: set it to all ones natively and find the bytes.
    let prog = format!(
        "#include <stdio.h>\n#include <string.h>\n#include \"{SRC}\"\n#define SHOW(m) do {{ struct bits b; memset(&b, 0, sizeof(b)); b.m = ~0ULL; \
         unsigned char *p = (unsigned char *)&b; printf(#m); for (unsigned i = 0; i < sizeof(b); i++) if (p[i]) printf(\" %u:%02x\", i, p[i]); printf(\"\\n\"); }} while (0)\n\
         int main(void) {{ SHOW(a); SHOW(b); SHOW(c); SHOW(d); SHOW(e); SHOW(f); return 0; }}\n"
    );
    std::fs::write(dir.join("bits.c"), prog).unwrap();
    let clang = tool(&["clang-19", "clang"]).unwrap();
    run(Command::new(&clang).arg("-Wno-constant-conversion").arg("-o").arg(dir.join("bits")).arg(dir.join("bits.c")));
    let got = run(&mut Command::new(dir.join("bits")));
    // Each member's bytes lie inside the unit the skeleton names after it.
    for line in got.lines() {
        let mut it = line.split(' ');
        let m = it.next().unwrap();
        let unit = bits.fields.iter().find(|f| f.name.split('_').any(|p| p == m)).unwrap_or_else(|| panic!("no unit holds {m}"));
        for byte in it.map(|b| b.split(':').next().unwrap().parse::<u32>().unwrap()) {
            assert!(byte >= unit.off && byte < unit.off + unit.size, "{m}: byte {byte} outside unit {} ({}..{})", unit.name, unit.off, unit.off + unit.size);
        }
        let note = unit.note.as_deref().unwrap();
        assert!(note.contains(&format!("{m}: bits ")), "{note}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The generated C and C++ records compile: their _Static_assert /
/// static_assert of every size and offset hold.
#[test]
fn c_and_cpp_records_compile() {
    let dir = tmpdir("cc");
    let Some((g, l)) = setup(&dir) else { return };
    let hdr = format!("#include <stddef.h>\n#include <stdint.h>\n{}", c::records(&g, &l, c::Flavor::C));
    std::fs::write(dir.join("rec.c"), &hdr).unwrap();
    let Some(cc) = tool(&["cc", "gcc", "clang-19"]) else {
        eprintln!("SKIPPED: C records: no C compiler");
        return;
    };
    run(Command::new(&cc).args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"]).arg(dir.join("rec.c")));
    let Some(cxx) = tool(&["c++", "g++", "clang++-19"]) else {
        eprintln!("SKIPPED: C++ records: no C++ compiler");
        return;
    };
    let hpp = format!("#include <cstddef>\n#include <cstdint>\nnamespace layouts {{\n{}}}\n", c::records(&g, &l, c::Flavor::Cpp));
    std::fs::write(dir.join("rec.cpp"), hpp).unwrap();
    run(Command::new(&cxx).args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow", "-fsyntax-only"]).arg(dir.join("rec.cpp")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Go records build (their compile-time size and offset checks hold).
#[test]
fn go_records_build() {
    let dir = tmpdir("go");
    let Some((g, l)) = setup(&dir) else { return };
    let Some(gobin) = tool(&["go"]) else {
        eprintln!("SKIPPED: Go records: no go");
        return;
    };
    let mut src = String::from("package main\n\nimport (\n\t\"fmt\"\n\t\"unsafe\"\n)\n\n");
    for i in layout::order(&l.records) {
        go::record(&mut src, &g, &l, i);
    }
    src += "func main() {\n\tvar u LayoutsNestedUn\n\t*u.Whole() = 0x0102030405060708\n\tfmt.Println((*u.Parts())[0], unsafe.Sizeof(LayoutsNested{}))\n}\n";
    std::fs::write(dir.join("rec.go"), src).unwrap();
    let out = run(Command::new(gobin).args(["run", "rec.go"]).current_dir(&dir).env("GOCACHE", dir.join("cache")).env("GOPATH", dir.join("gopath")).env("GOPROXY", "off").env("GOFLAGS", "").env("GO111MODULE", "off"));
    let nested = l.records.iter().find(|r| r.name == "nested").unwrap().size;
    assert_eq!(out.trim(), format!("8 {nested}"), "a union member read through its accessor, and struct nested's size");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Nim records pass `nim check` (their `static: doAssert`s hold).
#[test]
fn nim_records_check() {
    let dir = tmpdir("nim");
    let Some((g, l)) = setup(&dir) else { return };
    let Some(nimbin) = tool(&["nim"]) else {
        eprintln!("SKIPPED: Nim records: no nim");
        return;
    };
    let (mut src, mut asserts) = (String::from("type\n"), String::new());
    for i in layout::order(&l.records) {
        nim::record(&mut src, &mut asserts, &g, &l, i);
    }
    src += &format!("\nstatic:\n{asserts}\nvar u: NestedUn\nu.whole = 0x0102030405060708'u64\necho u.parts[0], \" \", sizeof(Nested)\n");
    std::fs::write(dir.join("rec.nim"), src).unwrap();
    let out = run(Command::new(nimbin).args(["r", "--hints:off", "--verbosity:0"]).arg(format!("--nimcache:{}", dir.join("cache").display())).arg(dir.join("rec.nim")));
    let nested = l.records.iter().find(|r| r.name == "nested").unwrap().size;
    assert_eq!(out.trim(), format!("8 {nested}"));
    let _ = std::fs::remove_dir_all(&dir);
}
