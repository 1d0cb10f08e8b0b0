//! `bpfl`: a small command over the library (a workspace member of its own,
//! so the library crate's cdylib/staticlib outputs stay as they are).
//!
//!   bpfl inspect OBJ            what the object holds, read without the kernel
//!   bpfl check OBJ...           load each object, one verdict per program
//!   bpfl map dump|lookup|update|delete PIN [KEY [VALUE]]   a pinned map, hex
//!   bpfl prog list | link list  what every process has loaded in the kernel
//!   bpfl gen skeleton OBJ --lang L   code embedding OBJ with typed handles
//!
//! Exit codes: 0 success, 1 a failure the command reports (an object that
//! does not load, a missing key), 2 bad usage.
mod gen;
mod inspect;
mod kernel;
mod render;

use std::process::ExitCode;

const USAGE: &str = "usage: bpfl COMMAND ...

commands:
  inspect OBJ                 sections, programs, maps, globals (with their C types),
                              CO-RE relocations, externs and BTF of a BPF object
  check [--json] OBJ...       load each object into the running kernel: verdict,
                              instructions processed, states, time; exits 1 on a failure
  map dump PIN [--hex]        every key and value of a pinned map, shown through
                              the map's BTF types when it has them, else in hex
  map lookup PIN KEY [--hex]  one value (KEY in hex bytes, e.g. 2a000000)
  map update PIN KEY VALUE    set a value (hex)
  map delete PIN KEY          delete a key
  prog list                   every BPF program in the kernel (id, type, name, size, tag)
  link list                   every BPF link in the kernel, with its program
  gen skeleton OBJ --lang c|cpp|go|nim [--name N] [-o FILE]
                              code that embeds OBJ: typed programs, maps, globals
  version                     the library's version

`bpfl COMMAND --help` describes one command.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let res = match args.as_slice() {
        [] | ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        ["version" | "--version"] => {
            println!("bpfl {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        [cmd, rest @ ..] if rest.contains(&"--help") || rest.contains(&"-h") => {
            return help(cmd);
        }
        ["inspect", obj] => inspect::inspect(obj),
        ["check", rest @ ..] => inspect::check(rest),
        ["map", sub, rest @ ..] => inspect::map_cmd(sub, rest),
        ["prog", "list"] => kernel::prog_list(),
        ["link", "list"] => kernel::link_list(),
        ["gen", rest @ ..] => gen::cmd(rest),
        [cmd, ..] if ["inspect", "check", "map", "prog", "link"].contains(cmd) => return help(cmd),
        [cmd, ..] => Err(Failure::Usage(format!("unknown command '{cmd}'"))),
    };
    match res {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Failure::Usage(m)) => {
            eprintln!("bpfl: {m}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Error(m)) => {
            eprintln!("bpfl: {m}");
            ExitCode::from(1)
        }
    }
}

fn help(cmd: &str) -> ExitCode {
    let text = match cmd {
        "inspect" => "usage: bpfl inspect OBJ\n\nPrints what a BPF ELF object holds, without the kernel: its programs\n(section, type, expected attach type, instructions), maps (type, key and\nvalue sizes, entries, pinning), globals with their C types from BTF,\nCO-RE relocation counts, externs and a BTF summary.",
        "check" => "usage: bpfl check [--json] [--log-level N] OBJ...\n\nLoads each object into the running kernel (root) and prints one line per\nprogram: the verdict, its instructions, and from the verifier's statistics\nthe instructions processed, states and verification time; for a refused\nprogram the reason, its C source line and the verifier log. Exits 1 when\nany program fails, so it can gate CI. --json prints the same as a JSON\narray; --log-level sets the verifier log level (default 4, statistics).\nThe whole object is loaded at once: a refused program stops the others.",
        "map" => "usage: bpfl map dump PIN [--hex]\n       bpfl map lookup PIN KEY [--hex]\n       bpfl map update PIN KEY VALUE\n       bpfl map delete PIN KEY\n\nPIN is a pinned map (e.g. /sys/fs/bpf/x/counts); KEY and VALUE are hex\nbytes in memory order (a u32 42 is 2a000000). dump and lookup show keys and\nvalues through the map's BTF (integers, structs, arrays; per-CPU values one\nper CPU) when the kernel has it; --hex shows the bytes.",
        "prog" => "usage: bpfl prog list\n\nEvery BPF program loaded in the kernel, by any process: id, type, name,\nsize after verification (bytes), tag and the uid that loaded it. Needs root.",
        "gen" => gen::HELP,
        "link" => "usage: bpfl link list\n\nEvery BPF link in the kernel: id, link type and the program it holds. Needs root.",
        _ => return ExitCode::from(2),
    };
    println!("{text}");
    ExitCode::SUCCESS
}

/// How a command fails: bad usage (exit 2) or an error it reports (exit 1).
pub enum Failure {
    Usage(String),
    Error(String),
}

impl From<bpfl::Error> for Failure {
    fn from(e: bpfl::Error) -> Self {
        Failure::Error(e.to_string())
    }
}
