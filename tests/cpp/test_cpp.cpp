// Tests of bindings/cpp/bpfl.hpp against the real kernel.
//   test_cpp BPF_DIR      (exit 0 all passed, 1 failures, 77 no root / no bpf())
#include <bpfl.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

namespace {

std::string g_dir;
int g_checks = 0, g_failed = 0;

#define CHECK(...) check_true(static_cast<bool>(__VA_ARGS__), #__VA_ARGS__, __LINE__)
// Equality with both sides printed on failure: CHECK_EQ(actual, expected).
#define CHECK_EQ(...) check_eq(#__VA_ARGS__, __LINE__, __VA_ARGS__)

void check_true(bool ok, const char* text, int line) {
    g_checks++;
    if (!ok) {
        g_failed++;
        std::cerr << "    check failed at line " << line << ": " << text << "\n";
    }
}

template <class A, class B>
void check_eq(const char* text, int line, const A& a, const B& b) {
    g_checks++;
    if (!(a == b)) {
        g_failed++;
        std::cerr << "    check failed at line " << line << ": " << text << " (" << a << " vs " << b << ")\n";
    }
}

// `expr` throws bpfl::Error with errno `code`; returns its what() ("" if none).
#define CHECK_THROWS(expr, code) check_throws([&] { (void)(expr); }, code, #expr, __LINE__)

std::string check_throws(const std::function<void()>& f, int code, const char* text, int line) {
    g_checks++;
    try {
        f();
    } catch (const bpfl::Error& e) {
        if (e.code() != code) {
            g_failed++;
            std::cerr << "    line " << line << ": " << text << " threw errno " << e.code() << " (" << e.what()
                      << "), expected " << code << "\n";
        }
        return e.what();
    }
    g_failed++;
    std::cerr << "    line " << line << ": " << text << " did not throw\n";
    return "";
}

struct pid_key {
    std::uint32_t tgid;
    std::uint32_t kind;
};

// Cached: getpid() is itself a syscall that modern.o counts.
std::uint32_t tgid() {
    static const std::uint32_t t = static_cast<std::uint32_t>(getpid());
    return t;
}
std::string obj_path(const char* name) { return g_dir + "/" + name; }

void call_getppid(int n) {
    for (int i = 0; i < n; i++)
        (void)getppid();
}

int count_fds() {
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

// A private pin root on the bpffs, removed with its pins at the end.
struct PinDir {
    std::string path = "/sys/fs/bpf/bpfl-cpp-" + std::to_string(tgid());
    PinDir() { mkdir(path.c_str(), 0700); }
    ~PinDir() {
        for (const char* f : {"pinned_counts", "extra"})
            unlink((path + "/" + f).c_str());
        rmdir(path.c_str());
    }
};

// ---- tests ------------------------------------------------------------------

// seed_tp.o (both compilers' output): exact counts in every map after N getppid calls.
void test_seed_counts() {
    for (const char* file : {"seed_tp.o", "seed_tp.llc.o"}) {
        bpfl::Object obj(obj_path(file));
        CHECK_EQ(obj.name(), std::string("seed_tp"));  // the file name up to its first dot
        CHECK_EQ(obj.programs().size(), std::size_t{2});
        obj.load();
        CHECK_EQ(obj.attach_all(), 2);
        const int n = 41;
        call_getppid(n);

        auto per_pid = obj.map("per_pid");
        CHECK_EQ(per_pid.get<std::uint32_t, std::uint64_t>(tgid()).value_or(0), std::uint64_t{n});
        CHECK_EQ(obj.map("per_pid16").get<std::uint32_t, std::uint16_t>(tgid()).value_or(0), std::uint16_t{n});
        auto by_key = obj.map("by_key");
        CHECK_EQ((by_key.get<pid_key, std::uint64_t>(pid_key{tgid(), 0}).value_or(0)), std::uint64_t{n});
        CHECK_EQ((by_key.get<pid_key, std::uint64_t>(pid_key{tgid(), 1}).value_or(0)), std::uint64_t{n});
        CHECK(!(by_key.get<pid_key, std::uint64_t>(pid_key{tgid(), 7}).has_value()));
        // `calls` counts every process: at least ours.
        CHECK(obj.map("calls").get<std::uint32_t, std::uint64_t>(0).value_or(0) >= std::uint64_t{n});

        auto keys = per_pid.keys<std::uint32_t>();
        CHECK(std::find(keys.begin(), keys.end(), tgid()) != keys.end());
        auto all = per_pid.read_all<std::uint32_t, std::uint64_t>();
        CHECK_EQ(all.size(), keys.size());
        std::map<std::uint32_t, std::uint64_t> m(all.begin(), all.end());
        CHECK_EQ(m[tgid()], std::uint64_t{n});
        auto calls = obj.map("calls").read_all<std::uint32_t, std::uint64_t>();
        CHECK_EQ(calls.size(), std::size_t{2});

        // put / get / del from user space on the same map.
        std::uint32_t fake = 0xfffffff0u;
        per_pid.put(fake, std::uint64_t{77});
        CHECK_EQ(per_pid.get<std::uint32_t, std::uint64_t>(fake).value_or(0), std::uint64_t{77});
        CHECK_THROWS(per_pid.put(fake, std::uint64_t{78}, BPFL_NOEXIST), EEXIST);
        CHECK(per_pid.del(fake));
        CHECK(!per_pid.del(fake));
        CHECK(!(per_pid.get<std::uint32_t, std::uint64_t>(fake).has_value()));
    }
}

// Program::attach_tracepoint / attach: the Link detaches when destroyed.
void test_links() {
    bpfl::Object obj(obj_path("seed_tp.o"));
    obj.load();
    auto by_key = obj.map("by_key");
    auto enter = [&] { return by_key.get<pid_key, std::uint64_t>(pid_key{tgid(), 0}).value_or(0); };
    auto exit_ = [&] { return by_key.get<pid_key, std::uint64_t>(pid_key{tgid(), 1}).value_or(0); };
    {
        bpfl::Link l = obj.program("enter_getppid").attach_tracepoint("syscalls", "sys_enter_getppid");
        CHECK(static_cast<bool>(l));
        CHECK(l.fd() >= 0);
        call_getppid(9);
        CHECK_EQ(enter(), std::uint64_t{9});
        CHECK_EQ(exit_(), std::uint64_t{0});  // only the enter program is attached
    }  // ~Link: detached
    call_getppid(5);
    CHECK_EQ(enter(), std::uint64_t{9});

    bpfl::Link ex = obj.attach("exit_getppid");  // where its section says
    call_getppid(4);
    CHECK_EQ(exit_(), std::uint64_t{4});
    CHECK_EQ(enter(), std::uint64_t{9});
    ex.destroy();
    CHECK(!ex);
    ex.destroy();  // no-op on an empty link
    call_getppid(3);
    CHECK_EQ(exit_(), std::uint64_t{4});

    auto info = obj.program("exit_getppid").info();
    CHECK_EQ(info.section, std::string("tracepoint/syscalls/sys_exit_getppid"));
    CHECK(info.fd >= 0 && info.insn_cnt > 0);
}

// modern.o: set_rodata before load, BTF maps, global data, per-CPU, pinning by name.
void test_modern() {
    PinDir pins;
    std::uint64_t before_close_0 = 0;
    {
        bpfl::OpenOptions oo;
        oo.pin_root = pins.path;
        bpfl::Object obj(obj_path("modern.o"), oo);
        CHECK_THROWS(obj.set_rodata("target_tgid", std::uint64_t{1}), EINVAL);  // wrong size
        CHECK_THROWS(obj.set_rodata("no_such_var", std::uint32_t{1}), ENOENT);
        obj.set_rodata("target_tgid", tgid());
        obj.load();
        CHECK_EQ(obj.attach_all(), 3);
        const int np = 13, nt = 6;
        for (int i = 0; i < np; i++)
            syscall(SYS_getpid);
        for (int i = 0; i < nt; i++)
            syscall(SYS_gettid);

        auto by_kind = obj.map("by_kind").read_all<std::uint32_t, std::uint64_t>();
        std::map<std::uint32_t, std::uint64_t> bk(by_kind.begin(), by_kind.end());
        CHECK_EQ(by_kind.size(), std::size_t{4});
        CHECK_EQ(bk[0], std::uint64_t{np});
        CHECK_EQ(bk[1], std::uint64_t{nt});
        CHECK_EQ(bk[2], std::uint64_t{np});
        CHECK_EQ(bk[3], std::uint64_t{0x1234});
        auto pc = obj.map("pinned_counts");
        CHECK_EQ(pc.get<std::uint32_t, std::uint64_t>(0).value_or(0), std::uint64_t{np});
        CHECK_EQ(pc.get<std::uint32_t, std::uint64_t>(1).value_or(0), std::uint64_t{nt});
        CHECK_EQ(obj.map(".bss").get<std::uint32_t, std::uint64_t>(0).value_or(0), std::uint64_t{np + nt});
        CHECK_EQ(obj.map(".data").get<std::uint32_t, std::uint64_t>(0).value_or(0), std::uint64_t{0x1234});
        CHECK_EQ(obj.map(".rodata").get<std::uint32_t, std::uint32_t>(0).value_or(0), tgid());
        auto per = obj.map("percpu").get_percpu<std::uint32_t, std::uint64_t>(0);
        CHECK(per.has_value());
        if (per) {
            std::uint64_t sum = 0;
            for (auto v : *per)
                sum += v;
            CHECK_EQ(sum, std::uint64_t{np + nt});
            CHECK_EQ(per->size() * 8, obj.map("percpu").value_buf_size());
        }
        CHECK_THROWS((obj.map("percpu").get<std::uint32_t, std::uint64_t>(0)), EINVAL);  // per-CPU needs get_percpu
        auto mi = pc.info();
        CHECK_EQ(mi.name, std::string("pinned_counts"));
        CHECK_EQ(mi.type, 1u);
        CHECK_EQ(mi.max_entries, 16u);
        CHECK(mi.fd >= 0);
        obj.map("by_kind").pin(pins.path + "/extra");

        // The same map through its pin, while the object is open.
        bpfl::PinnedMap pm(pins.path + "/pinned_counts");
        CHECK_EQ(pm.get<std::uint32_t, std::uint64_t>(0).value_or(0), std::uint64_t{np});
        before_close_0 = pm.get<std::uint32_t, std::uint64_t>(0).value_or(0);
    }
    // The object is closed; its pinned maps live on.
    bpfl::PinnedMap pm(pins.path + "/pinned_counts");
    CHECK_EQ(pm.get<std::uint32_t, std::uint64_t>(0).value_or(0), before_close_0);
    CHECK_EQ(pm.get<std::uint32_t, std::uint64_t>(1).value_or(0), std::uint64_t{6});
    pm.put(std::uint32_t{5}, std::uint64_t{99});
    CHECK_EQ(pm.get<std::uint32_t, std::uint64_t>(5).value_or(0), std::uint64_t{99});
    auto ks = pm.keys<std::uint32_t>();
    std::sort(ks.begin(), ks.end());
    CHECK((ks == std::vector<std::uint32_t>{0, 1, 5}));
    CHECK(pm.del(std::uint32_t{5}));
    CHECK(!pm.del(std::uint32_t{5}));
    bpfl::PinnedMap extra(pins.path + "/extra");
    CHECK_EQ(extra.get<std::uint32_t, std::uint64_t>(3).value_or(0), std::uint64_t{0x1234});
    extra.clear();
    CHECK_EQ(extra.get<std::uint32_t, std::uint64_t>(3).value_or(1), std::uint64_t{0});
    pm.clear();
    CHECK(pm.keys<std::uint32_t>().empty());
}

// Bad input: bpfl::Error with the errno and bpfl's message.
void test_errors() {
    std::string w = CHECK_THROWS(bpfl::Object(obj_path("no-such-file.o")), ENOENT);
    CHECK(w.find("no-such-file.o") != std::string::npos);
    CHECK(w.find("bpfl_object_open_file") == 0);

    CHECK_THROWS(bpfl::Object(obj_path("bad_maps.o")), EINVAL);
    CHECK_THROWS(bpfl::PinnedMap("/sys/fs/bpf/bpfl-cpp-nothing-here"), ENOENT);
    CHECK_THROWS(bpfl::Object::from_memory("not an ELF", 10), ENOEXEC);

    bpfl::Object obj(obj_path("seed_tp.o"));
    obj.load();
    auto per_pid = obj.map("per_pid");
    // Wrong key or value sizes.
    CHECK_THROWS((per_pid.get<std::uint64_t, std::uint64_t>(tgid())), EINVAL);
    CHECK_THROWS((per_pid.get<std::uint32_t, std::uint32_t>(tgid())), EINVAL);
    CHECK_THROWS((per_pid.put(std::uint16_t{1}, std::uint64_t{1})), EINVAL);
    CHECK_THROWS((per_pid.del(std::uint64_t{1})), EINVAL);
    CHECK_THROWS((per_pid.keys<std::uint64_t>()), EINVAL);
    w = CHECK_THROWS((per_pid.read_all<std::uint32_t, std::uint16_t>()), EINVAL);
    CHECK(w.find("per_pid") != std::string::npos);
    CHECK_THROWS(obj.map("no_such_map"), ENOENT);
    CHECK_THROWS(obj.program("no_such_prog"), ENOENT);
    CHECK_THROWS(obj.program("enter_getppid").attach_tracepoint("syscalls", "sys_enter_no_such_call"), ENOENT);
    CHECK_THROWS(obj.program("enter_getppid").attach_raw_tracepoint(""), EINVAL);

    // The verifier's refusal: errno EACCES and the log in the message.
    bpfl::Object bad(obj_path("bad_verifier.o"));
    try {
        bad.load();
        g_checks++;
        g_failed++;
        std::cerr << "    bad_verifier.o loaded\n";
    } catch (const bpfl::Error& e) {
        CHECK_EQ(e.code(), EACCES);
        std::string m = e.what();
        CHECK(m.find("deref_without_check") != std::string::npos);
        CHECK(m.find("--- verifier log ---") != std::string::npos);
        CHECK(m.find("invalid mem access") != std::string::npos);
        CHECK_EQ(e.message(), std::string(bpfl_last_error()));
    }

    // Views of a closed object: EBADF, not a crash.
    bpfl::Map stale = obj.map("per_pid");
    obj.close();
    CHECK(!obj);
    CHECK_THROWS((stale.get<std::uint32_t, std::uint64_t>(1)), EBADF);
    obj.close();  // no-op once closed
}

// Moves: the moved-from value is empty, its destructor closes nothing, and
// every handle is closed exactly once.
void test_moves() {
    const int fds0 = count_fds();
    bpfl_object raw_a{}, raw_old{};
    {
        bpfl::Object a(obj_path("seed_tp.o"));
        a.load();
        const int fds_loaded = count_fds();
        CHECK(fds_loaded > fds0);
        raw_a = a.handle();

        bpfl::Object b(std::move(a));
        CHECK(!a);
        CHECK_EQ(a.handle().id, std::uint64_t{0});
        CHECK_EQ(b.handle().id, raw_a.id);
        a.close();  // closing an empty object: nothing
        { bpfl::Object dead(std::move(a)); }  // destroying a moved-from object closes nothing
        CHECK_EQ(count_fds(), fds_loaded);

        CHECK_EQ(b.attach_all(), 2);
        call_getppid(6);
        CHECK_EQ(b.map("per_pid").get<std::uint32_t, std::uint64_t>(tgid()).value_or(0), std::uint64_t{6});
        const int fds_attached = count_fds();

        // Move-assigning onto a live object closes the old one first.
        bpfl::Object c(obj_path("seed_tp.o"));
        c.load();
        raw_old = c.handle();
        c = std::move(b);
        CHECK_EQ(bpfl_object_close(raw_old), -EBADF);  // already closed by the assignment
        CHECK_EQ(count_fds(), fds_attached);           // one object's fds, not two
        CHECK_EQ(c.handle().id, raw_a.id);
        CHECK(!b);

        // Map/Program views move too; the moved-from view is empty.
        bpfl::Map m1 = c.map("per_pid");
        bpfl::Map m2(std::move(m1));
        CHECK(!m1 && m2);
        CHECK_THROWS((m1.get<std::uint32_t, std::uint64_t>(1)), EINVAL);  // the null handle
        call_getppid(2);
        CHECK_EQ(m2.get<std::uint32_t, std::uint64_t>(tgid()).value_or(0), std::uint64_t{8});
        std::vector<bpfl::Program> progs = c.programs();
        std::vector<bpfl::Program> moved = std::move(progs);
        CHECK_EQ(moved.size(), std::size_t{2});
        CHECK(moved[0].fd() >= 0);

        // Link: moving keeps the program attached until the last owner goes.
        bpfl::Object d(obj_path("seed_tp.o"));
        d.load();
        auto key = pid_key{tgid(), 0};
        auto count = [&] { return d.map("by_key").get<pid_key, std::uint64_t>(key).value_or(0); };
        bpfl::Link l2;
        {
            bpfl::Link l1 = d.program("enter_getppid").attach();
            l2 = std::move(l1);
            CHECK(!l1);
        }  // ~l1 (moved-from): still attached
        call_getppid(3);
        CHECK_EQ(count(), std::uint64_t{3});
        bpfl_link raw_l = l2.handle();
        l2 = bpfl::Link();  // detaches
        CHECK_EQ(bpfl_link_destroy(raw_l), -EBADF);
        call_getppid(3);
        CHECK_EQ(count(), std::uint64_t{3});

        // PinnedMap: one close for the last owner.
        PinDir pins;
        c.map("per_pid").pin(pins.path + "/extra");
        bpfl_map raw_pm{};
        {
            bpfl::PinnedMap p1(pins.path + "/extra");
            raw_pm = p1.handle();
            bpfl::PinnedMap p2(std::move(p1));
            CHECK(!p1);
            // c's programs (attach_all) counted d's 6 calls too: 8 + 6.
            CHECK_EQ(p2.get<std::uint32_t, std::uint64_t>(tgid()).value_or(0), std::uint64_t{14});
            bpfl::PinnedMap p3;
            p3 = std::move(p2);
            CHECK_EQ(p3.get<std::uint32_t, std::uint64_t>(tgid()).value_or(0), std::uint64_t{14});
        }
        CHECK_EQ(bpfl_map_close(raw_pm), -EBADF);  // closed once, by p3
    }
    CHECK_EQ(bpfl_object_close(raw_a), -EBADF);  // closed once, by c
    CHECK_EQ(count_fds(), fds0);                 // nothing leaked
}

// release(): ownership goes back to the C API.
void test_release() {
    bpfl_object raw{};
    {
        bpfl::Object o(obj_path("seed_tp.o"));
        raw = o.release();
        CHECK(!o);
    }
    CHECK_EQ(bpfl_object_close(raw), 0);  // still open after ~Object: ours to close
    bpfl::Object adopted(bpfl_object{});
    CHECK(!adopted);
}

}  // namespace

// The function the uprobe test probes (C linkage: found by name in /proc/self/exe).
extern "C" __attribute__((noinline, used)) std::uint64_t cpp_uprobe_target(std::uint64_t x) {
    __asm__ volatile("" : "+r"(x));
    return x + 7;
}

namespace {
void test_uprobe() {
    bpfl::Object o(obj_path("uprobe.o"));
    o.load();
    auto l1 = o.program("on_call").attach_uprobe("/proc/self/exe", "cpp_uprobe_target", bpfl::UprobeOptions{0, false, static_cast<std::int32_t>(getpid())});
    auto l2 = o.program("on_return").attach_uretprobe("/proc/self/exe", "cpp_uprobe_target");
    for (std::uint64_t i = 1; i <= 5; i++) cpp_uprobe_target(i);
    auto stats = o.map("stats");
    CHECK_EQ(stats.get<std::uint32_t, std::uint64_t>(0).value_or(0), std::uint64_t{5});   // calls
    CHECK_EQ(stats.get<std::uint32_t, std::uint64_t>(1).value_or(0), std::uint64_t{15});  // sum of arguments
    CHECK_EQ(stats.get<std::uint32_t, std::uint64_t>(3).value_or(0), std::uint64_t{12});  // last return value
    try {
        (void)o.program("on_call").attach_uprobe("/proc/self/exe", "no_such_function_here");
        CHECK(false);
    } catch (const bpfl::Error& e) {
        CHECK_EQ(e.code(), ENOENT);
    }
}
// USDT and uprobe.multi on tests/usdt/usdt_target.c (built next to the BPF dir).
int run_target(const std::string& exe, const char* arg, bool signal_when_sleeping) {
    pid_t pid = fork();
    if (pid == 0) {
        execl(exe.c_str(), exe.c_str(), arg, static_cast<char*>(nullptr));
        _exit(127);
    }
    if (signal_when_sleeping) {
        for (int i = 0; i < 200; i++) {
            std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
            std::string st((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            auto r = st.rfind(") ");
            if (r != std::string::npos && r + 2 < st.size() && st[r + 2] == 'S') break;
            usleep(5000);
        }
        kill(pid, SIGUSR1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
void test_usdt_multi_cookies() {
    const std::string exe = g_dir + "/../usdt_target";
    bpfl::Object o(obj_path("usdt.o"));
    o.load();
    {
        auto l = o.program("on_req").attach_usdt(exe, "bpfltest", "req", bpfl::UsdtOptions{-1, 0x33});
        CHECK_EQ(run_target(exe, nullptr, true), 0);
    }
    auto seen = o.map("seen");
    const std::int64_t want[] = {42, -1234567890123LL, -77, 0x1122334455667788LL, 1, 31000, -5, -7, 1, 8, 0x33};
    for (std::uint32_t k = 0; k < 11; k++) CHECK_EQ(seen.get<std::uint32_t, std::int64_t>(k).value_or(-999), want[k]);
    {
        bpfl::UprobeMultiOptions mo;
        mo.cookies = {5, 6, 7};
        auto l = o.program("on_multi").attach_uprobe_multi(exe, "bpfl_multi_?", mo);
        CHECK_EQ(run_target(exe, "m", false), 0);
    }
    auto bc = o.map("by_cookie");
    for (std::uint64_t c = 5; c <= 7; c++) CHECK_EQ(bc.get<std::uint64_t, std::uint64_t>(c).value_or(0), c - 4);
    try {
        (void)o.program("on_req").attach_trace(1);  // fentry/fexit/fmod_ret/lsm only
        CHECK(false);
    } catch (const bpfl::Error& e) {
        CHECK_EQ(e.code(), EINVAL);
    }
    try {
        (void)o.program("on_req").attach_usdt(exe, "bpfltest", "nope");
        CHECK(false);
    } catch (const bpfl::Error& e) {
        CHECK_EQ(e.code(), ENOENT);
    }
}
// RingBuffer: ringbuf.o's rb_getpid writes, per getpid of ours, a reserved
// event {tgid, seq, marker} and an output event2 {.., extra}; a third,
// discarded reservation must never show.
void test_ringbuf() {
    bpfl::Object o(obj_path("ringbuf.o"));
    o.set_rodata("target_tgid", static_cast<std::uint32_t>(tgid()));
    o.load();
    std::vector<std::pair<std::size_t, std::uint32_t>> got;  // (size, seq)
    bpfl::RingBuffer rb(o.map("events"), [&](const void* data, std::size_t size) {
        std::uint32_t seq = 0;
        std::memcpy(&seq, static_cast<const char*>(data) + 4, sizeof(seq));
        got.emplace_back(size, seq);
        return 0;
    });
    auto link = o.program("rb_getpid").attach();
    for (int i = 0; i < 6; i++) syscall(SYS_getpid);
    link.reset();
    int n = 0;
    while (got.size() < 12 && (n = rb.poll(200)) > 0) {
    }
    CHECK_EQ(got.size(), std::size_t{12});
    for (std::size_t i = 0; i < got.size() && i < 12; i++) {
        CHECK_EQ(got[i].first, i % 2 == 0 ? std::size_t{16} : std::size_t{24});  // event, then event2
        CHECK_EQ(got[i].second, static_cast<std::uint32_t>(i / 2));
    }
    CHECK_EQ(rb.consume(), 0);  // nothing left, the discarded ones included
    bpfl::RingBuffer moved = std::move(rb);
    CHECK(!rb);
    CHECK(static_cast<bool>(moved));
    try {
        bpfl::RingBuffer wrong(o.map("failures"), [](const void*, std::size_t) { return 0; });
        CHECK(false);
    } catch (const bpfl::Error& e) {
        CHECK_EQ(e.code(), EINVAL);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: test_cpp BPF_DIR\n";
        return 2;
    }
    g_dir = argv[1];
    if (geteuid() != 0) {
        std::cout << "SKIPPED: C++ wrapper tests need root (they load BPF programs)\n";
        return 77;
    }
    try {
        bpfl::Object probe(obj_path("seed_tp.o"));
        probe.load();
    } catch (const bpfl::Error& e) {
        if (e.code() == EPERM || e.code() == ENOSYS) {
            std::cout << "SKIPPED: C++ wrapper tests: no bpf() here: " << e.what() << "\n";
            return 77;
        }
    }

    const std::pair<const char*, void (*)()> tests[] = {
        {"seed_tp exact counts, typed get/put/del/keys/read_all", test_seed_counts},
        {"attach helpers and Link detach", test_links},
        {"modern.o: set_rodata, globals, per-CPU, pinned maps", test_modern},
        {"errors carry errno and bpfl_last_error()", test_errors},
        {"move semantics: no double close, no leak", test_moves},
        {"release() hands the handle back", test_release},
        {"uprobe and uretprobe on a function of this program", test_uprobe},
        {"USDT arguments and semaphore, uprobe.multi cookies", test_usdt_multi_cookies},
        {"RingBuffer: exact records, discarded ones skipped, moves", test_ringbuf},
    };
    int failed_tests = 0, n = 0;
    for (const auto& t : tests) {
        n++;
        int before = g_failed;
        try {
            t.second();
        } catch (const std::exception& e) {
            g_failed++;
            std::cerr << "    unexpected exception: " << e.what() << "\n";
        }
        bool ok = g_failed == before;
        failed_tests += !ok;
        std::cout << (ok ? "ok   " : "FAIL ") << n << " - " << t.first << "\n";
    }
    std::cout << "C++ wrapper: " << (n - failed_tests) << " passed, " << failed_tests << " failed, 0 skipped ("
              << g_checks << " checks, " << g_failed << " failed)\n";
    return failed_tests ? 1 : 0;
}
