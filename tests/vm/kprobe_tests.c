/*
 * kprobe tests for bpfl, run inside the VM (tests/vm/run.sh) on kernels
 * that have kprobes: kprobe and kretprobe on a real kernel function through
 * the perf kprobe PMU and through tracefs kprobe_events, a kprobe at an
 * offset, the seed's own object loaded and attached the way its users do,
 * and clear errors for functions that do not exist.
 *
 * Every check reads what the BPF programs wrote into their maps.
 * Usage: kprobe_tests [BPF_DIR] [TEST-NAME-FILTER...]
 * Prints PASS/FAIL/SKIPPED lines, then "N passed, N failed, N skipped".
 * Exit status: 0 all passed, 1 a test failed, 77 nothing could run (no
 * root/bpf() or no kprobes: SKIPPED).
 */
#define _GNU_SOURCE
#include <bpfl.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The function seed_kprobe.bpf.c probes: getppid(2)'s syscall entry on x86-64. */
#define FUNC "__x64_sys_getppid"
#define MISSING "bpfl_no_such_function_xyz"
#define TRACEFS "/sys/kernel/tracing"

static const char *bpf_dir = "build/bpf";
static jmp_buf fail_jmp;
static char fail_msg[4096];

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) fail_at(__LINE__, #cond, __VA_ARGS__);                    \
    } while (0)
/* A bpfl call that must succeed: on failure show the errno and bpfl_last_error(). */
#define OK(call)                                                               \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ < 0) fail_at(__LINE__, #call, "returned %d (%s): %s", rc_,     \
                             strerror(-rc_), bpfl_last_error());              \
    } while (0)

static void fail_at(int line, const char *expr, const char *fmt, ...) {
    int n = snprintf(fail_msg, sizeof fail_msg, "line %d: %s: ", line, expr);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fail_msg + n, sizeof fail_msg - n, fmt, ap);
    va_end(ap);
    longjmp(fail_jmp, 1);
}

static void getppid_n(int n) {
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
}

static char *path_of(const char *file) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", bpf_dir, file);
    return buf;
}

/* ---- helpers around the API ------------------------------------------------ */

static struct bpfl_object open_load(const char *file) {
    struct bpfl_object o = {0};
    OK(bpfl_object_open_file(path_of(file), NULL, &o));
    OK(bpfl_object_load(o, NULL));
    return o;
}

/* The program whose ELF section starts with `prefix` ("kprobe/", "kretprobe/"). */
static struct bpfl_program prog_by_section(struct bpfl_object o, const char *prefix) {
    size_t n = 0;
    OK(bpfl_object_program_count(o, &n));
    for (size_t i = 0; i < n; i++) {
        struct bpfl_program p;
        struct bpfl_program_info info = {.sz = sizeof info};
        OK(bpfl_object_program_at(o, i, &p));
        OK(bpfl_program_get_info(p, &info));
        if (strncmp(info.section, prefix, strlen(prefix)) == 0) return p;
    }
    fail_at(__LINE__, "prog_by_section", "no program in a '%s' section", prefix);
    return (struct bpfl_program){0};
}

static struct bpfl_map map_named(struct bpfl_object o, const char *name) {
    struct bpfl_map m;
    OK(bpfl_object_find_map(o, name, &m));
    return m;
}

/* calls[idx] of seed_kprobe: [0] kprobe hits, [1] kretprobe hits. */
static uint64_t calls(struct bpfl_object o, uint32_t idx) {
    uint64_t v = 0;
    OK(bpfl_map_lookup(map_named(o, "calls"), &idx, sizeof idx, &v, sizeof v));
    return v;
}

/* per_pid[tgid] (u64), or -1 when absent. */
static long long per_pid(struct bpfl_object o) {
    uint32_t k = (uint32_t)getpid();
    uint64_t v = 0;
    int rc = bpfl_map_lookup(map_named(o, "per_pid"), &k, sizeof k, &v, sizeof v);
    if (rc == -ENOENT) return -1;
    OK(rc);
    return (long long)v;
}

static long long per_pid16(struct bpfl_object o) {
    uint32_t k = (uint32_t)getpid();
    uint16_t v = 0;
    int rc = bpfl_map_lookup(map_named(o, "per_pid16"), &k, sizeof k, &v, sizeof v);
    if (rc == -ENOENT) return -1;
    OK(rc);
    return v;
}

/* by_key[{tgid, kind}] (kind 0: kprobe, 1: kretprobe), or -1 when absent. */
static long long by_key(struct bpfl_object o, uint32_t kind) {
    struct { uint32_t tgid, kind; } k = {(uint32_t)getpid(), kind};
    uint64_t v = 0;
    int rc = bpfl_map_lookup(map_named(o, "by_key"), &k, sizeof k, &v, sizeof v);
    if (rc == -ENOENT) return -1;
    OK(rc);
    return (long long)v;
}

static struct bpfl_link attach(struct bpfl_program p, const char *func, uint64_t offset, bool ret, uint32_t mode) {
    struct bpfl_kprobe_opts ko = {.sz = sizeof ko, .offset = offset, .retprobe = ret, .mode = mode};
    struct bpfl_link l = {0};
    OK(bpfl_program_attach_kprobe(p, func, &ko, &l));
    int fd = -1;
    OK(bpfl_link_fd(l, &fd));
    CHECK(fd >= 0, "link fd %d", fd);
    return l;
}

/* Lines of tracefs kprobe_events that mention `needle` (bpfl's events are in group "bpfl"). */
static int kprobe_events_with(const char *needle) {
    FILE *f = fopen(TRACEFS "/kprobe_events", "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) n++;
    fclose(f);
    return n;
}

static const char *mode_name(uint32_t mode) {
    return mode == BPFL_PROBE_PMU ? "PMU" : mode == BPFL_PROBE_LEGACY ? "kprobe_events" : "auto";
}

/* ---- tests -------------------------------------------------------------------- */

/* The seed's users call bootBpf(file): open, load, attach every program where
 * its section says, then read the maps. Both builds of the seed object: clang
 * -target bpf, and the seed's own clang -emit-llvm | llc -march=bpf pipeline. */
static void seed_boot(const char *file) {
    struct bpfl_object o = open_load(file);
    size_t nprog = 0;
    OK(bpfl_object_program_count(o, &nprog));
    CHECK(nprog == 2, "%s: %zu programs", file, nprog);
    int n = bpfl_object_attach_all(o);
    CHECK(n == 2, "%s: bpfl_object_attach_all gave %d (%s)", file, n, bpfl_last_error());
    uint64_t c0 = calls(o, 0), c1 = calls(o, 1);
    getppid_n(9);
    CHECK(calls(o, 0) - c0 >= 9 && calls(o, 1) - c1 >= 9, "%s: calls +%llu/+%llu after 9 getppid", file,
          (unsigned long long)(calls(o, 0) - c0), (unsigned long long)(calls(o, 1) - c1));
    CHECK(per_pid(o) == 9, "%s: per_pid[tgid] = %lld, want 9", file, per_pid(o));
    CHECK(per_pid16(o) == 9, "%s: per_pid16[tgid] = %lld, want 9", file, per_pid16(o));
    CHECK(by_key(o, 0) == 9 && by_key(o, 1) == 9, "%s: by_key{tgid,0} = %lld, by_key{tgid,1} = %lld, want 9", file, by_key(o, 0),
          by_key(o, 1));
    /* The seed's getKeys: walk per_pid and find our tgid. */
    struct bpfl_map m = map_named(o, "per_pid");
    uint32_t key, next, me = (uint32_t)getpid();
    int found = 0, rc;
    for (rc = bpfl_map_next_key(m, NULL, &next, sizeof next); rc == 0; rc = bpfl_map_next_key(m, &key, &next, sizeof next)) {
        key = next;
        found |= key == me;
    }
    CHECK(rc == -ENOENT, "map_next_key ended with %d: %s", rc, bpfl_last_error());
    CHECK(found, "%s: our tgid %u not among per_pid's keys", file, me);
    OK(bpfl_object_close(o));
    CHECK(bpfl_object_close(o) == -EBADF, "second close");
    CHECK(kprobe_events_with("bpfl") <= 0, "%s: kprobe_events still holds bpfl events after close", file);
}
static void t_seed_kprobe_clang(void) { seed_boot("seed_kprobe.o"); }
static void t_seed_kprobe_llc(void) { seed_boot("seed_kprobe.llc.o"); }

/* kprobe (ret=false) or kretprobe (ret=true) on FUNC through `mode`. */
static void probe_counts(bool ret, uint32_t mode) {
    struct bpfl_object o = open_load("seed_kprobe.o");
    struct bpfl_program p = prog_by_section(o, ret ? "kretprobe/" : "kprobe/");
    int legacy_before = kprobe_events_with(FUNC);
    struct bpfl_link l = attach(p, FUNC, 0, ret, mode);
    if (mode == BPFL_PROBE_LEGACY) {
        int now = kprobe_events_with(FUNC);
        CHECK(now == legacy_before + 1, "kprobe_events: %d lines for " FUNC " (before: %d)", now, legacy_before);
    }
    uint32_t hit = ret ? 1 : 0;
    getppid_n(6);
    CHECK(calls(o, hit) == 6, "%s via %s: calls[%u] = %llu after 6 getppid", ret ? "kretprobe" : "kprobe", mode_name(mode), hit,
          (unsigned long long)calls(o, hit));
    CHECK(calls(o, 1 - hit) == 0, "calls[%u] = %llu: the other program ran", 1 - hit, (unsigned long long)calls(o, 1 - hit));
    CHECK(by_key(o, hit) == 6 && by_key(o, 1 - hit) == -1, "by_key{tgid,%u} = %lld, by_key{tgid,%u} = %lld, want 6 and none", hit,
          by_key(o, hit), 1 - hit, by_key(o, 1 - hit));
    if (!ret) CHECK(per_pid(o) == 6, "per_pid[tgid] = %lld, want 6", per_pid(o));
    OK(bpfl_link_destroy(l));
    CHECK(bpfl_link_destroy(l) == -EBADF, "second link destroy");
    getppid_n(4);
    CHECK(calls(o, hit) == 6, "still counting after detach: %llu", (unsigned long long)calls(o, hit));
    if (mode == BPFL_PROBE_LEGACY)
        CHECK(kprobe_events_with(FUNC) == legacy_before, "the kprobe_events entry was not removed on detach");
    OK(bpfl_object_close(o));
}
static void t_kprobe_pmu(void) { probe_counts(false, BPFL_PROBE_PMU); }
static void t_kretprobe_pmu(void) { probe_counts(true, BPFL_PROBE_PMU); }
static void t_kprobe_legacy(void) { probe_counts(false, BPFL_PROBE_LEGACY); }
static void t_kretprobe_legacy(void) { probe_counts(true, BPFL_PROBE_LEGACY); }
static void t_kprobe_auto(void) { probe_counts(false, BPFL_PROBE_AUTO); }

/* Both mechanisms at once on the same function: each counts every call. */
static void t_pmu_and_legacy_agree(void) {
    struct bpfl_object a = open_load("seed_kprobe.o"), b = open_load("seed_kprobe.o");
    struct bpfl_link la = attach(prog_by_section(a, "kprobe/"), FUNC, 0, false, BPFL_PROBE_PMU);
    struct bpfl_link lb = attach(prog_by_section(b, "kprobe/"), FUNC, 0, false, BPFL_PROBE_LEGACY);
    struct bpfl_link ra = attach(prog_by_section(a, "kretprobe/"), FUNC, 0, true, BPFL_PROBE_PMU);
    struct bpfl_link rb = attach(prog_by_section(b, "kretprobe/"), FUNC, 0, true, BPFL_PROBE_LEGACY);
    getppid_n(11);
    CHECK(calls(a, 0) == 11 && calls(b, 0) == 11, "kprobe: PMU %llu, kprobe_events %llu, want 11", (unsigned long long)calls(a, 0),
          (unsigned long long)calls(b, 0));
    CHECK(calls(a, 1) == 11 && calls(b, 1) == 11, "kretprobe: PMU %llu, kprobe_events %llu, want 11",
          (unsigned long long)calls(a, 1), (unsigned long long)calls(b, 1));
    for (uint32_t kind = 0; kind < 2; kind++)
        CHECK(by_key(a, kind) == 11 && by_key(b, kind) == 11, "by_key{tgid,%u}: PMU %lld, kprobe_events %lld, want 11", kind,
              by_key(a, kind), by_key(b, kind));
    CHECK(per_pid(a) == 11 && per_pid(b) == 11, "per_pid[tgid]: PMU %lld, kprobe_events %lld, want 11", per_pid(a), per_pid(b));
    OK(bpfl_link_destroy(la));
    OK(bpfl_link_destroy(lb));
    OK(bpfl_link_destroy(ra));
    OK(bpfl_link_destroy(rb));
    OK(bpfl_object_close(a));
    OK(bpfl_object_close(b));
}

/* The first offset > 0 into FUNC the kernel accepts for a kprobe: an
 * instruction boundary (the kernel decodes the function and refuses others). */
static uint64_t first_probeable_offset(struct bpfl_program p, char *refused, size_t len) {
    refused[0] = 0;
    for (uint64_t off = 1; off < 64; off++) {
        struct bpfl_kprobe_opts ko = {.sz = sizeof ko, .offset = off, .mode = BPFL_PROBE_PMU};
        struct bpfl_link l;
        int rc = bpfl_program_attach_kprobe(p, FUNC, &ko, &l);
        if (rc == 0) {
            OK(bpfl_link_destroy(l));
            return off;
        }
        /* Only "not an instruction boundary" may refuse an offset of a function that exists. */
        CHECK(rc == -EILSEQ || rc == -EINVAL, FUNC "+%llu refused with %d (%s): %s", (unsigned long long)off, rc, strerror(-rc),
              bpfl_last_error());
        CHECK(strstr(bpfl_last_error(), FUNC) != NULL, "the message does not name " FUNC ": %s", bpfl_last_error());
        if (!refused[0]) snprintf(refused, len, "offset %llu: %d %s", (unsigned long long)off, rc, bpfl_last_error());
    }
    fail_at(__LINE__, "first_probeable_offset", "no offset in 1..63 of " FUNC " accepted; first refusal: %s", refused);
    return 0;
}

/* An independent check of the offset the kernel accepted: FUNC's address from
 * /proc/kallsyms, its first bytes from /proc/kcore (an ELF core file of the
 * kernel's memory), and the length of its first instruction, which on x86-64
 * is one of the few function preambles compilers emit for the kernel:
 * endbr64 (IBT kernels), its sealed form nop4, or the 5-byte ftrace site
 * (nop5, or call __fentry__ while ftrace uses it). Returns the length, or 0
 * with `why` set when it cannot be told. */
static unsigned first_insn_len(char *why, size_t len) {
    FILE *f = fopen("/proc/kallsyms", "r");
    if (!f) return snprintf(why, len, "no /proc/kallsyms"), 0;
    unsigned long long addr = 0, a;
    char type, name[256], line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%llx %c %255s", &a, &type, name) == 3 && (type == 'T' || type == 't') && strcmp(name, FUNC) == 0) {
            addr = a;
            break;
        }
    fclose(f);
    if (!addr) return snprintf(why, len, FUNC " not in /proc/kallsyms (or addresses hidden)"), 0;
    int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return snprintf(why, len, "/proc/kcore: %s", strerror(errno)), 0;
    Elf64_Ehdr eh;
    unsigned char b[8] = {0};
    bool got = false;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0) {
        for (unsigned i = 0; i < eh.e_phnum && !got; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) != (ssize_t)sizeof ph) break;
            if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr + sizeof b <= ph.p_vaddr + ph.p_memsz)
                got = pread(fd, b, sizeof b, (off_t)(ph.p_offset + (addr - ph.p_vaddr))) == (ssize_t)sizeof b;
        }
    }
    close(fd);
    if (!got) return snprintf(why, len, "cannot read " FUNC " at 0x%llx from /proc/kcore", addr), 0;
    snprintf(why, len, FUNC " at 0x%llx starts %02x %02x %02x %02x %02x", addr, b[0], b[1], b[2], b[3], b[4]);
    if (!memcmp(b, "\xf3\x0f\x1e\xfa", 4)) return 4;       /* endbr64 */
    if (!memcmp(b, "\x0f\x1f\x40\x00", 4)) return 4;       /* nop4: a sealed endbr64 */
    if (!memcmp(b, "\x0f\x1f\x44\x00\x00", 5)) return 5;  /* nop5: the ftrace site */
    if (b[0] == 0xe8) return 5;                              /* call __fentry__ (ftrace on) */
    return 0;
}

static void kprobe_offset(uint32_t mode) {
    struct bpfl_object o = open_load("seed_kprobe.o");
    struct bpfl_program p = prog_by_section(o, "kprobe/");
    char refused[1024];
    uint64_t off = first_probeable_offset(p, refused, sizeof refused);
    printf("        " FUNC "+%llu via %s (refused before it: %s)\n", (unsigned long long)off, mode_name(mode),
           refused[0] ? refused : "none");
    char bytes[256];
    unsigned want = first_insn_len(bytes, sizeof bytes);
    printf("        %s: first instruction %u bytes%s\n", bytes, want, want ? "" : " (unknown: not cross-checked)");
    if (want) CHECK(off == want, "the kernel accepted +%llu, but the first instruction is %u bytes (%s)", (unsigned long long)off, want, bytes);
    struct bpfl_link l = attach(p, FUNC, off, false, mode);
    if (mode == BPFL_PROBE_LEGACY) {
        char needle[128];
        snprintf(needle, sizeof needle, FUNC "+%llu", (unsigned long long)off);
        CHECK(kprobe_events_with(needle) == 1, "no kprobe_events line with %s", needle);
    }
    getppid_n(7);
    CHECK(calls(o, 0) == 7, "calls[0] = %llu after 7 getppid with the probe at +%llu", (unsigned long long)calls(o, 0),
          (unsigned long long)off);
    OK(bpfl_link_destroy(l));
    OK(bpfl_object_close(o));
}
static void t_kprobe_offset_pmu(void) { kprobe_offset(BPFL_PROBE_PMU); }
static void t_kprobe_offset_legacy(void) { kprobe_offset(BPFL_PROBE_LEGACY); }

/* An offset inside an instruction (byte 1 of the function's first one, endbr64
 * or the ftrace call): the kernel refuses it with EILSEQ (EINVAL on some
 * kernels); the error must come back as such, name the function and leave
 * nothing behind. Where the kernel says EILSEQ, the message must say why
 * ("not an instruction boundary"), not strerror(EILSEQ) alone. */
static void t_kprobe_offset_inside_instruction(void) {
    struct bpfl_object o = open_load("seed_kprobe.o");
    struct bpfl_program p = prog_by_section(o, "kprobe/");
    uint32_t modes[] = {BPFL_PROBE_PMU, BPFL_PROBE_LEGACY};
    int before = kprobe_events_with("bpfl");
    int rc[2];
    char msg[2][1024];
    for (size_t i = 0; i < 2; i++) {
        struct bpfl_kprobe_opts ko = {.sz = sizeof ko, .offset = 1, .mode = modes[i]};
        struct bpfl_link l = {0};
        rc[i] = bpfl_program_attach_kprobe(p, FUNC, &ko, &l);
        snprintf(msg[i], sizeof msg[i], "%s", bpfl_last_error());
        printf("        %s: %d %s\n", mode_name(modes[i]), rc[i], msg[i]);
    }
    for (size_t i = 0; i < 2; i++) {
        CHECK(rc[i] == -EILSEQ || rc[i] == -EINVAL, "%s: " FUNC "+1 gave %d: %s", mode_name(modes[i]), rc[i], msg[i]);
        CHECK(strstr(msg[i], FUNC) != NULL, "%s: the message does not name " FUNC ": %s", mode_name(modes[i]), msg[i]);
        if (rc[i] == -EILSEQ)
            CHECK(strstr(msg[i], "not an instruction boundary") != NULL, "%s: the message does not say why: %s", mode_name(modes[i]), msg[i]);
    }
    CHECK(kprobe_events_with("bpfl") == before, "a refused kprobe_events attach left its event behind");
    OK(bpfl_object_close(o));
}

/* A missing function: a negative errno and a message naming it, through every mechanism. */
static void t_kprobe_missing_function(void) {
    struct bpfl_object o = open_load("seed_kprobe.o");
    int before = kprobe_events_with("bpfl");
    uint32_t modes[] = {BPFL_PROBE_AUTO, BPFL_PROBE_PMU, BPFL_PROBE_LEGACY};
    for (size_t i = 0; i < 3; i++) {
        for (int ret = 0; ret < 2; ret++) {
            struct bpfl_kprobe_opts ko = {.sz = sizeof ko, .retprobe = ret, .mode = modes[i]};
            struct bpfl_link l = {0};
            struct bpfl_program p = prog_by_section(o, ret ? "kretprobe/" : "kprobe/");
            int rc = bpfl_program_attach_kprobe(p, MISSING, &ko, &l);
            const char *msg = bpfl_last_error();
            CHECK(rc < 0, "%s %s: attach to a missing function returned %d", mode_name(modes[i]), ret ? "kretprobe" : "kprobe", rc);
            CHECK(rc == -ENOENT || rc == -EINVAL || rc == -EADDRNOTAVAIL, "%s: errno %d (%s): %s", mode_name(modes[i]), -rc,
                  strerror(-rc), msg);
            CHECK(strstr(msg, MISSING) != NULL, "%s: message does not name the function: %s", mode_name(modes[i]), msg);
            CHECK(strstr(msg, "no such kernel function") != NULL, "%s: unclear message: %s", mode_name(modes[i]), msg);
            if (i == 0 && ret == 0) printf("        %s\n", msg);
            CHECK(l.id == 0, "a link handle came back from a failed attach");
        }
    }
    CHECK(kprobe_events_with("bpfl") == before, "a failed kprobe_events attach left its event behind");
    OK(bpfl_object_close(o));
}

/* Bad arguments are refused before anything reaches the kernel. */
static void t_kprobe_bad_arguments(void) {
    struct bpfl_object o = open_load("seed_kprobe.o");
    struct bpfl_program p = prog_by_section(o, "kprobe/");
    struct bpfl_link l = {0};
    struct bpfl_kprobe_opts ko = {.sz = sizeof ko};
    const char *bad[] = {"", "two words", "tab\there"};
    for (size_t i = 0; i < 3; i++) {
        int rc = bpfl_program_attach_kprobe(p, bad[i], &ko, &l);
        CHECK(rc == -EINVAL, "function '%s': %d: %s", bad[i], rc, bpfl_last_error());
    }
    CHECK(bpfl_program_attach_kprobe(p, NULL, &ko, &l) == -EINVAL, "NULL function: %s", bpfl_last_error());
    struct bpfl_kprobe_opts bad_mode = {.sz = sizeof bad_mode, .mode = 7};
    int rc = bpfl_program_attach_kprobe(p, FUNC, &bad_mode, &l);
    CHECK(rc == -EINVAL && strstr(bpfl_last_error(), "mode"), "mode 7: %d: %s", rc, bpfl_last_error());
    /* A tracepoint program cannot be a kprobe's. */
    struct bpfl_object tp = open_load("seed_tp.o");
    struct bpfl_program tpp = prog_by_section(tp, "tracepoint/");
    rc = bpfl_program_attach_kprobe(tpp, FUNC, &ko, &l);
    CHECK(rc < 0, "a tracepoint program attached as a kprobe");
    printf("        tracepoint program as kprobe: %d %s\n", rc, bpfl_last_error());
    OK(bpfl_object_close(tp));
    OK(bpfl_object_close(o));
}

/* ---- runner ------------------------------------------------------------------- */

struct test {
    const char *name;
    void (*fn)(void);
    bool legacy; /* needs tracefs kprobe_events */
    bool pmu;    /* needs the perf kprobe PMU */
};

static const struct test tests[] = {
    {"seed_kprobe_boot_clang", t_seed_kprobe_clang, false, false},
    {"seed_kprobe_boot_llc_pipeline", t_seed_kprobe_llc, false, false},
    {"kprobe_pmu", t_kprobe_pmu, false, true},
    {"kretprobe_pmu", t_kretprobe_pmu, false, true},
    {"kprobe_legacy_kprobe_events", t_kprobe_legacy, true, false},
    {"kretprobe_legacy_kprobe_events", t_kretprobe_legacy, true, false},
    {"kprobe_auto", t_kprobe_auto, false, false},
    {"pmu_and_legacy_agree", t_pmu_and_legacy_agree, true, true},
    {"kprobe_offset_pmu", t_kprobe_offset_pmu, false, true},
    {"kprobe_offset_legacy", t_kprobe_offset_legacy, true, true},
    {"kprobe_offset_inside_instruction", t_kprobe_offset_inside_instruction, true, true},
    {"kprobe_missing_function", t_kprobe_missing_function, true, true},
    {"kprobe_bad_arguments", t_kprobe_bad_arguments, false, false},
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run one test; its failure comes back here through longjmp. */
static bool run_one(const struct test *t) {
    double t0 = now_ms();
    if (setjmp(fail_jmp) == 0) {
        t->fn();
        printf("PASS    %s (%.0f ms)\n", t->name, now_ms() - t0);
        return true;
    }
    /* Handles of the failed test leak here; the process is short-lived. */
    printf("FAIL    %s: %s\n", t->name, fail_msg);
    return false;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) bpf_dir = argv[1];
    struct stat st;
    bool pmu = stat("/sys/bus/event_source/devices/kprobe/type", &st) == 0;
    bool legacy = stat(TRACEFS "/kprobe_events", &st) == 0;
    const char *why = NULL;
    if (geteuid() != 0) why = "kprobe tests need root";
    else if (!pmu && !legacy) why = "this kernel has no kprobes (no kprobe PMU, no " TRACEFS "/kprobe_events): run them in the VM (make vmtest)";
    if (why) {
        printf("\n************************************************************\nSKIPPED: %s\n"
               "************************************************************\n\n", why);
    }
    printf("bpfl %s; kprobe PMU: %s; kprobe_events: %s\n", bpfl_version(), pmu ? "yes" : "no", legacy ? "yes" : "no");
    int pass = 0, fail = 0, skip = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const struct test *t = &tests[i];
        if (argc > 2) {
            bool want = false;
            for (int a = 2; a < argc; a++) want |= strstr(t->name, argv[a]) != NULL;
            if (!want) continue;
        }
        if (why || (t->pmu && !pmu) || (t->legacy && !legacy)) {
            printf("SKIPPED %s (%s)\n", t->name, why ? "see above" : !pmu && t->pmu ? "no kprobe PMU" : "no tracefs kprobe_events");
            skip++;
            continue;
        }
        if (run_one(t)) pass++;
        else fail++;
    }
    printf("\n%d passed, %d failed, %d skipped\n", pass, fail, skip);
    if (fail) return 1;
    return pass == 0 && skip > 0 ? 77 : 0;
}
