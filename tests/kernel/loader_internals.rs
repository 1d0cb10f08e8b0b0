//! Issue 10, the loader's internals: legacy `maps` sections linked from
//! several files, static initial values of `.maps` (prog-array and
//! map-in-map slots), BTF fix-ups before the kernel sees the BTF, and
//! TYPE_MATCHES CO-RE relocations.

use super::{getppid, open, tgid, u64_at};
use crate::harness::Test;

pub const TESTS: &[Test] = &[
    Test { name: "legacy_maps_linked_from_two_files", needs_kernel: true, f: legacy_maps_linked_from_two_files },
    Test { name: "static_prog_array_and_map_in_map_slots", needs_kernel: true, f: static_prog_array_and_map_in_map_slots },
    Test { name: "hidden_and_weak_functions_become_static", needs_kernel: true, f: hidden_and_weak_functions_become_static },
    Test { name: "co_re_type_matches_against_the_kernel", needs_kernel: true, f: co_re_type_matches_against_the_kernel },
    Test { name: "btf_feature_probes_on_this_kernel", needs_kernel: true, f: btf_feature_probes_on_this_kernel },
    Test { name: "btf_rewritten_for_kernels_lacking_kinds", needs_kernel: true, f: btf_rewritten_for_kernels_lacking_kinds },
    Test { name: "co_re_against_module_btf", needs_kernel: true, f: co_re_against_module_btf },
];

/// A program's `bpf_prog_info` (btf_id, nr_func_info): whether the kernel
/// took the object's BTF and the func info with it.
pub fn prog_btf(p: &bpfl::Program) -> (u32, u32) {
    let i = obj_info::<148>(p.fd().unwrap());
    let at = |o: usize| u32::from_le_bytes(i[o..o + 4].try_into().unwrap());
    (at(128), at(144))
}

/// `BPF_OBJ_GET_INFO_BY_FD` into a zeroed buffer of `N` bytes (`struct
/// bpf_map_info` / `bpf_prog_info` prefixes), read straight from the kernel.
pub fn obj_info<const N: usize>(fd: i32) -> [u8; N] {
    let mut info = [0u8; N];
    #[repr(C)]
    struct Attr {
        fd: u32,
        len: u32,
        info: u64,
    }
    let mut a = Attr { fd: fd as u32, len: N as u32, info: info.as_mut_ptr() as u64 };
    // SAFETY: the kernel writes at most `len` bytes into `info`.
    let r = unsafe { libc::syscall(libc::SYS_bpf, 15 /* BPF_OBJ_GET_INFO_BY_FD */, &mut a as *mut Attr, std::mem::size_of::<Attr>()) };
    assert_eq!(r, 0, "BPF_OBJ_GET_INFO_BY_FD: {}", std::io::Error::last_os_error());
    info
}

/// A map's kernel id (`bpf_map_info.id`, at offset 4).
fn map_id(m: &bpfl::Map) -> u32 {
    let i = obj_info::<8>(m.fd().unwrap());
    u32::from_le_bytes(i[4..8].try_into().unwrap())
}

/// The loader filled `.values = { [0] = &callee_a, [2] = &callee_b }` of a
/// prog array and the inner-map slots of an array and a hash of maps: the
/// tail calls land, the empty slot falls through, the programs read through
/// the outers, and user space sees the inner maps' ids in the outers.
fn static_prog_array_and_map_in_map_slots() {
    let mut o = open("static_slots.o");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load static_slots.o: {e}"));
    let k = |i: u32| i.to_le_bytes();
    let id = |m: &str| map_id(o.map(m).unwrap());
    let mut v = [0u8; 4];
    assert!(o.map("outer").unwrap().lookup(&k(1), &mut v).unwrap(), "outer[1] empty");
    assert_eq!(u32::from_le_bytes(v), id("inner_b"), "outer[1] holds inner_b's id");
    assert!(!o.map("outer").unwrap().lookup(&k(0), &mut v).unwrap(), "outer[0] filled");
    assert!(o.map("hash_outer").unwrap().lookup(&k(7), &mut v).unwrap(), "hash_outer[7] empty");
    assert_eq!(u32::from_le_bytes(v), id("inner_a"), "hash_outer[7] holds inner_a's id");
    assert_eq!(o.map("hash_outer").unwrap().keys().count(), 1, "hash_outer has one key");
    let enter = o.program("caller_enter").unwrap().attach_tracepoint("syscalls", "sys_enter_getppid").unwrap();
    let exit = o.program("caller_exit").unwrap().attach_tracepoint("syscalls", "sys_exit_getppid").unwrap();
    for _ in 0..6 {
        getppid();
    }
    drop((enter, exit));
    let hits = o.map("hits").unwrap();
    assert_eq!(u64_at(hits, &k(0)), Some(6), "callee_a via jmp[0]");
    assert_eq!(u64_at(hits, &k(1)), Some(6), "callee_b via jmp[2]");
    assert_eq!(u64_at(hits, &k(2)), Some(6), "the tail call to empty jmp[1] fell through");
    assert_eq!(u64_at(hits, &k(3)), Some(6), "read through outer[1]");
    assert_eq!(u64_at(hits, &k(4)), Some(6), "read through hash_outer[7]");
    assert_eq!(u64_at(o.map("inner_b").unwrap(), &k(0)), Some(6), "inner_b[0]");
    assert_eq!(u64_at(o.map("inner_a").unwrap(), &k(0)), Some(6), "inner_a[0]");
}

/// `bpftool gen object` joined a 28-byte and a 20-byte definition into one
/// `maps` section: each symbol's st_size says where its definition ends.
fn legacy_maps_linked_from_two_files() {
    let mut o = open("legacy_linked.o");
    let a = o.map("counts_a").expect("counts_a");
    assert_eq!((a.map_type(), a.key_size(), a.value_size(), a.max_entries()), (2, 4, 8, 4), "counts_a: ARRAY 4/8/4");
    let b = o.map("counts_b").expect("counts_b");
    assert_eq!((b.map_type(), b.key_size(), b.value_size(), b.max_entries()), (1, 4, 8, 64), "counts_b: HASH 4/8/64");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load legacy_linked.o: {e}"));
    let (links, errors) = o.attach_all();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(links.len(), 2);
    for _ in 0..7 {
        getppid();
    }
    drop(links);
    assert_eq!(u64_at(o.map("counts_a").unwrap(), &2u32.to_le_bytes()), Some(7), "counts_a[2]: enter getppid from this process");
    assert_eq!(u64_at(o.map("counts_b").unwrap(), &tgid().to_le_bytes()), Some(7), "counts_b[tgid]: exit getppid");
}

/// usdt.bpf.h's pattern: hidden and weak global functions dereferencing
/// pointer arguments load (as static in the BTF) and compute the right values.
fn hidden_and_weak_functions_become_static() {
    let mut o = open("hidden_funcs.o");
    let btf = o.file().btf.as_ref().unwrap();
    for f in ["hidden_arg", "weak_add"] {
        let id = btf.find_by_name_kind(f, bpfl::obj::btf::BtfKind::Func).unwrap();
        assert_eq!(btf.type_by_id(id).unwrap().vlen(), 0, "{f}: static linkage in the BTF given to the kernel");
    }
    let id = btf.find_by_name_kind("use_hidden", bpfl::obj::btf::BtfKind::Func).unwrap();
    assert_eq!(btf.type_by_id(id).unwrap().vlen(), 1, "use_hidden stays global");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load hidden_funcs.o: {e}"));
    let p = o.program("use_hidden").unwrap();
    let (btf_id, nr_func_info) = prog_btf(p);
    assert!(btf_id > 0, "the kernel took the object's BTF");
    assert_eq!(nr_func_info, 3, "func info for the program and its two functions");
    let l = p.attach_tracepoint("syscalls", "sys_enter_getppid").unwrap();
    getppid();
    drop(l);
    let out = o.map("out").unwrap();
    assert_eq!(u64_at(out, &0u32.to_le_bytes()), Some(121), "hidden_arg: 100 + 7 * 3");
    assert_eq!(u64_at(out, &1u32.to_le_bytes()), Some(42), "weak_add: 5 + 37");
}

/// `bpf_core_type_matches()` resolved against /sys/kernel/btf/vmlinux: the
/// program writes each answer to `out`.
fn co_re_type_matches_against_the_kernel() {
    let mut o = open("core_matches.o");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    o.load(&Default::default()).unwrap_or_else(|e| panic!("load core_matches.o: {e}"));
    let l = o.program("core_matches").unwrap().attach_tracepoint("syscalls", "sys_enter_getppid").unwrap();
    getppid();
    drop(l);
    let m = o.map("out").unwrap();
    let at = |k: u32| u64_at(m, &k.to_le_bytes()).unwrap();
    assert_eq!(at(11), 77, "the program ran");
    assert_eq!(at(0), 1, "struct list_head, same members");
    assert_eq!(at(1), 1, "struct list_head, a subset of its members");
    assert_eq!(at(2), 0, "struct list_head with prev an int");
    assert_eq!(at(3), 1, "struct callback_head with its function pointer");
    assert_eq!(at(4), 0, "struct callback_head, function pointer with two arguments");
    assert_eq!(at(5), 1, "task_struct exists");
    assert_eq!(at(6), 0, "task_struct does not match: a member it lacks");
    assert_eq!(at(7), 1, "enum bpf_map_type: names it has");
    assert_eq!(at(8), 0, "enum bpf_map_type: a name it lacks");
    assert_eq!(at(9), 1, "pid_t is a signed int");
    assert_eq!(at(10), 0, "pid_t is not unsigned");
}

/// (`bpf_map_info.btf_id`, `btf_value_type_id`): the map was created with
/// the object's BTF.
fn map_btf(m: &bpfl::Map) -> (u32, u32) {
    let i = obj_info::<88>(m.fd().unwrap());
    let at = |o: usize| u32::from_le_bytes(i[o..o + 4].try_into().unwrap());
    (at(64), at(72))
}

/// btf_kinds.o uses FLOAT, DECL_TAG, TYPE_TAG, ENUM64, VAR/DATASEC and a
/// global FUNC. With each kind forced "missing", bpfl rewrites the BTF as an
/// old kernel needs it; this kernel must still take it (the maps carry its
/// BTF id, the program its func info where FUNC is kept) and the program runs.
fn btf_rewritten_for_kernels_lacking_kinds() {
    use bpfl::host::features::FORCE_NO_BTF_FEATURE;
    let mut cases: Vec<&str> = bpfl::obj::btf::BtfFeatures::NAMES.to_vec();
    cases.insert(0, "");
    cases.push("all");
    for case in cases {
        std::env::set_var(FORCE_NO_BTF_FEATURE, case);
        let f = bpfl::host::features::btf_features();
        let mut o = open("btf_kinds.o");
        // What the kernel is given has none of the kinds it "lacks".
        let given = o.file().btf.as_ref().unwrap().sanitized(&f);
        for (id, t) in given.types() {
            use bpfl::obj::btf::BtfKind as K;
            let lacking = match t.kind() {
                K::Float => !f.float,
                K::DeclTag => !f.decl_tag,
                K::TypeTag => !f.type_tag,
                K::Enum64 => !f.enum64,
                K::Var | K::Datasec => !f.datasec,
                K::Func | K::FuncProto => !f.func,
                _ => false,
            };
            assert!(!lacking, "without '{case}': type [{id}] {:?} left in the BTF", t.kind());
            assert!(f.func_global || t.kind() != K::Func || t.vlen() == 0, "without '{case}': global FUNC [{id}] left");
        }
        o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
        let r = o.load(&Default::default());
        std::env::remove_var(FORCE_NO_BTF_FEATURE);
        r.unwrap_or_else(|e| panic!("without '{case}': load btf_kinds.o: {e}"));
        for m in ["samples", "out", ".bss", ".data"] {
            let (btf_id, vt) = map_btf(o.map(m).unwrap());
            if f.datasec || !m.starts_with('.') {
                assert!(btf_id > 0 && vt > 0, "without '{case}': map {m} was created without the object's BTF ({btf_id}, {vt})");
            } else {
                // Keyless BTF (a DATASEC value) came with DATASEC: such a kernel gets none.
                assert_eq!((btf_id, vt), (0, 0), "without '{case}': map {m}");
            }
        }
        let p = o.program("btf_kinds").unwrap();
        let (btf_id, nr_func_info) = prog_btf(p);
        if f.func {
            assert!(btf_id > 0 && nr_func_info == 2, "without '{case}': func info ({btf_id}, {nr_func_info})");
        } else {
            assert_eq!(nr_func_info, 0, "without '{case}': no func info for a kernel without BTF FUNC");
        }
        let l = p.attach_tracepoint("syscalls", "sys_enter_getppid").unwrap();
        getppid();
        drop(l);
        let out = o.map("out").unwrap();
        let at = |k: u32| u64_at(out, &k.to_le_bytes()).unwrap_or(0);
        assert_eq!((at(0), at(1), at(2)), (42, 3, 11), "without '{case}': the program's results");
        let mut s = [0u8; 24];
        assert!(o.map("samples").unwrap().lookup(&0u32.to_le_bytes(), &mut s).unwrap());
        assert_eq!(i32::from_le_bytes(s[16..20].try_into().unwrap()), 7, "without '{case}': samples[0].tagged");
    }
}

/// A module BTF file, split on the running kernel's: `struct bpfl_mod_thing
/// { int a; int pad[2]; int b; }` (b at byte 12, 16 bytes), its ids after
/// the kernel's last and its strings after the kernel's.
fn split_module_btf() -> Vec<u8> {
    let vmlinux = std::fs::read(bpfl::host::vmlinux::VMLINUX_BTF).unwrap();
    let base_strs = u32::from_le_bytes(vmlinux[20..24].try_into().unwrap());
    let k = bpfl::host::vmlinux::kernel_btf().unwrap();
    let int = k.find("int", bpfl::obj::btf::BtfKind::Int).unwrap();
    let first = k.btf.len() as u32;
    let mut strs = vec![0u8];
    let mut s = |n: &str| {
        let off = base_strs + strs.len() as u32;
        strs.extend_from_slice(n.as_bytes());
        strs.push(0);
        off
    };
    let (name, a, b, pad) = (s("bpfl_mod_thing"), s("a"), s("b"), s("pad"));
    let words: Vec<u32> = vec![
        0, 3 << 24, 0, int, int, 2, // [first] int[2] (array: elem, index type, nelems)
        name, 4 << 24 | 3, 16, a, int, 0, pad, first, 32, b, int, 96, // [first + 1] the struct
    ];
    let tlen = words.len() as u32 * 4;
    let mut out = vec![0x9f, 0xeb, 1, 0];
    for v in [24u32, 0, tlen, tlen, strs.len() as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend(words.iter().flat_map(|w| w.to_le_bytes()));
    out.extend_from_slice(&strs);
    out
}

/// A relocation whose type no vmlinux has resolves against a module's BTF
/// (split on the kernel's). This host has no module BTF (no module loaded
/// with CONFIG_DEBUG_INFO_BTF_MODULES), so the module is a split BTF file
/// the test writes, given through BPFL_MODULE_BTF_DIR; the kernel then runs
/// the program with the offsets and sizes of the module's type.
fn co_re_against_module_btf() {
    use bpfl::host::module_btf::{module_names, MODULE_BTF_DIR_ENV};
    let real = module_names();
    if real.is_empty() {
        println!("        note: no module BTF in /sys/kernel/btf on this kernel; using a module BTF file written by the test");
    }
    let dir = format!("/tmp/bpfl-test-modbtf-{}", tgid());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(format!("{dir}/bpfl_test_mod"), split_module_btf()).unwrap();
    std::env::set_var(MODULE_BTF_DIR_ENV, &dir);
    assert_eq!(module_names(), ["bpfl_test_mod"]);
    let mut o = open("core_module.o");
    o.set_global("target_tgid", &tgid().to_le_bytes()).unwrap();
    let r = o.load(&Default::default());
    std::env::remove_var(MODULE_BTF_DIR_ENV);
    let _ = std::fs::remove_dir_all(&dir);
    r.unwrap_or_else(|e| panic!("load core_module.o: {e}"));
    let l = o.program("core_module").unwrap().attach_tracepoint("syscalls", "sys_enter_getppid").unwrap();
    getppid();
    drop(l);
    let m = o.map("out").unwrap();
    let at = |k: u32| u64_at(m, &k.to_le_bytes()).unwrap();
    assert_eq!(at(3), 77, "the program ran");
    assert_eq!(at(0), 12, "byte offset of b in the module's struct (local: 4)");
    assert_eq!(at(1), 1, "the type exists (in the module)");
    assert_eq!(at(2), 16, "its size in the module (local: 8)");
}

/// Each probe blob is one this kernel (6.1 or later: every feature) takes,
/// and what it probes is gone from it once sanitised for its absence.
fn btf_feature_probes_on_this_kernel() {
    let f = bpfl::host::features::probe_btf_features();
    assert_eq!(f, bpfl::obj::btf::BtfFeatures::ALL, "this kernel takes every probed BTF kind");
    std::env::set_var(bpfl::host::features::FORCE_NO_BTF_FEATURE, "all");
    let none = bpfl::host::features::btf_features();
    std::env::set_var(bpfl::host::features::FORCE_NO_BTF_FEATURE, "decl_tag, float");
    let some = bpfl::host::features::btf_features();
    std::env::remove_var(bpfl::host::features::FORCE_NO_BTF_FEATURE);
    assert!(!none.func && !none.datasec && !none.enum64 && !none.type_tag);
    assert!(!some.decl_tag && !some.float && some.func && some.enum64);
}
