// Tests of bindings/cpp/bpfl.hpp against the real kernel.
//   test_cpp BPF_DIR      (exit 0 all passed, 1 failures, 77 no root / no bpf())
#include <bpfl.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
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


// PerfBuffer: ringbuf.o's perf_getpid writes {tgid, seq, marker} per getpid
// of ours with bpf_perf_event_output; every record exactly, moves, a
// callback's exception rethrown by poll().
void test_perfbuf() {
    const std::uint64_t mark_perf = 0x9e4f000000000000ULL;
    bpfl::Object o(obj_path("ringbuf.o"));
    o.set_rodata("target_tgid", static_cast<std::uint32_t>(tgid()));
    o.load();
    struct rec {
        std::uint32_t tgid, seq;
        std::uint64_t marker;
        std::size_t size;
    };
    std::vector<rec> got;
    std::uint64_t lost = 0;
    bpfl::PerfBuffer pb(
        o.map("perf_events"),
        [&](int, const void* data, std::size_t size) {
            rec r{};
            std::memcpy(&r, data, 16);
            r.size = size;
            got.push_back(r);
            return 0;
        },
        [&](int, std::uint64_t n) { lost += n; });
    CHECK(pb.epoll_fd() >= 0);
    auto produce = [&](int n) {
        auto link = o.program("perf_getpid").attach();
        for (int i = 0; i < n; i++) syscall(SYS_getpid);
    };
    produce(5);
    while (got.size() < 5 && pb.poll(200) > 0) {
    }
    CHECK_EQ(got.size(), std::size_t{5});
    for (std::size_t i = 0; i < got.size(); i++) {
        CHECK_EQ(got[i].tgid, tgid());
        CHECK_EQ(got[i].seq, static_cast<std::uint32_t>(i));
        CHECK_EQ(got[i].marker, mark_perf | i);
        CHECK(got[i].size >= 16 && got[i].size < 24);  // the kernel's padding, at most 7 bytes
    }
    CHECK_EQ(lost, std::uint64_t{0});
    CHECK_EQ(pb.consume(), 0);
    // The callbacks stay where they are when the buffer moves.
    bpfl::PerfBuffer moved = std::move(pb);
    CHECK(!pb);
    produce(2);
    while (got.size() < 7 && moved.poll(200) > 0) {
    }
    CHECK_EQ(got.size(), std::size_t{7});
    if (got.size() == 7)
        CHECK_EQ(got[6].marker, mark_perf | 6);
    moved.close();
    CHECK(!moved);
    // An exception from the callback stops the poll and comes out of it.
    bpfl::PerfBuffer thrower(o.map("perf_events"), [](int, const void*, std::size_t) -> int { throw std::runtime_error("boom"); });
    produce(1);
    try {
        for (int i = 0; i < 10; i++) thrower.poll(200);
        CHECK(false);
    } catch (const std::runtime_error& e) {
        CHECK_EQ(std::string(e.what()), std::string("boom"));
    }
    CHECK_THROWS(bpfl::PerfBuffer(o.map("failures"), [](int, const void*, std::size_t) { return 0; }), EINVAL);
}

// LogCallback receives bpfl's real messages while it lives: the debug line
// of a load, the info line of attach_all skipping an XDP program; a newer
// one replaces it; none after it is gone.
void test_log_callback() {
    std::mutex mu;
    std::vector<std::pair<bpfl::LogLevel, std::string>> got, second;
    auto has = [&](const std::vector<std::pair<bpfl::LogLevel, std::string>>& v, bpfl::LogLevel l, const std::string& m) {
        std::lock_guard<std::mutex> g(mu);
        return std::find(v.begin(), v.end(), std::make_pair(l, m)) != v.end();
    };
    auto load_demo = [&] {
        bpfl::Object o(obj_path("run_demo.o"));
        o.load();
        return o.attach_all();
    };
    const std::string loaded = "program 'xdp_pass' (section 'xdp'): loaded, 2 instructions";
    const std::string skipped = "program 'xdp_pass': section 'xdp' has no automatic attach; skipped";
    {
        bpfl::LogCallback lc(
            [&](bpfl::LogLevel l, const std::string& m) {
                std::lock_guard<std::mutex> g(mu);
                got.emplace_back(l, m);
            },
            bpfl::LogLevel::debug);
        CHECK(lc.active());
        CHECK_EQ(load_demo(), 1);
        CHECK(has(got, bpfl::LogLevel::debug, loaded));
        CHECK(has(got, bpfl::LogLevel::info, skipped));
        std::size_t before = got.size();
        {
            bpfl::LogCallback lc2(
                [&](bpfl::LogLevel l, const std::string& m) {
                    std::lock_guard<std::mutex> g(mu);
                    second.emplace_back(l, m);
                },
                bpfl::LogLevel::info);
            CHECK(lc2.active() && !lc.active());
            CHECK_EQ(load_demo(), 1);
            CHECK(has(second, bpfl::LogLevel::info, skipped));
            CHECK(!has(second, bpfl::LogLevel::debug, loaded));  // above its max level
            bpfl::LogCallback moved = std::move(lc2);
            CHECK(!lc2 && moved.active());
        }
        CHECK_EQ(got.size(), before);  // replaced: nothing more came
        CHECK(!lc.active());
    }
    std::size_t n = got.size() + second.size();
    CHECK_EQ(load_demo(), 1);
    CHECK_EQ(got.size() + second.size(), n);  // gone: the default again
    CHECK_THROWS(bpfl::LogCallback([](bpfl::LogLevel, const std::string&) {}, static_cast<bpfl::LogLevel>(9)), EINVAL);
}

// The kernel-wide listing finds the program, map and link made here.
void test_loaded_listing() {
    bpfl::Object o(obj_path("seed_tp.o"));
    o.load();
    auto p = o.program("enter_getppid");
    auto link = p.attach();
    auto fdinfo = [](int fd, const std::string& key) {
        std::ifstream f("/proc/self/fdinfo/" + std::to_string(fd));
        std::string line;
        while (std::getline(f, line))
            if (line.compare(0, key.size(), key) == 0)
                return static_cast<std::uint32_t>(std::stoul(line.substr(key.size())));
        return std::uint32_t{0};
    };
    std::uint32_t pid = fdinfo(p.fd(), "prog_id:"), mid = fdinfo(o.map("per_pid").info().fd, "map_id:"), lid = fdinfo(link.fd(), "link_id:");
    auto walked = [](std::optional<std::uint32_t> (*next)(std::uint32_t), std::uint32_t want) {
        for (auto id = next(0); id; id = next(*id))
            if (*id == want)
                return true;
        return false;
    };
    CHECK(walked(bpfl::loaded_program_next_id, pid));
    auto lp = bpfl::loaded_program_info(pid);
    CHECK_EQ(lp.id, pid);
    CHECK_EQ(lp.prog_type, std::uint32_t{5} /* BPF_PROG_TYPE_TRACEPOINT */);
    CHECK_EQ(lp.name, std::string("enter_getppid"));
    CHECK(lp.xlated_len > 0 && lp.nr_map_ids >= 1);
    auto progs = bpfl::loaded_programs();
    CHECK(std::count_if(progs.begin(), progs.end(), [&](const bpfl::LoadedProgram& x) { return x.id == pid && x.name == lp.name; }) == 1);
    CHECK(walked(bpfl::loaded_map_next_id, mid));
    auto lm = bpfl::loaded_map_info(mid);
    CHECK(lm.id == mid && lm.map_type == 1 /* BPF_MAP_TYPE_HASH */ && lm.name == "per_pid" && lm.key_size == 4 && lm.value_size == 8 && lm.max_entries == 1024);
    auto maps = bpfl::loaded_maps();
    CHECK(std::any_of(maps.begin(), maps.end(), [&](const bpfl::LoadedMap& x) { return x.id == mid && x.name == "per_pid"; }));
    CHECK(walked(bpfl::loaded_link_next_id, lid));
    auto ll = bpfl::loaded_link_info(lid);
    CHECK(ll.id == lid && ll.link_type == 7 /* BPF_LINK_TYPE_PERF_EVENT */ && ll.prog_id == pid);
    auto links = bpfl::loaded_links();
    CHECK(std::any_of(links.begin(), links.end(), [&](const bpfl::LoadedLink& x) { return x.id == lid && x.prog_id == pid; }));
    link.reset();
    std::string w = CHECK_THROWS(bpfl::loaded_link_info(lid), ENOENT);
    CHECK(w.find("no BPF link with id " + std::to_string(lid)) != std::string::npos);
    CHECK(!bpfl::loaded_map_next_id(UINT32_MAX));
}

// Issue 10: set-up between open and load.
void test_setup() {
    bpfl::OpenOptions oo;
    oo.kconfig = "CONFIG_BPFL_TEST_VALUE=99\n";
    bpfl::Object o(obj_path("setup.o"), oo);
    auto me = static_cast<std::uint32_t>(getpid());
    o.set_rodata("target_tgid", &me, sizeof(me));
    o.map("sized").set_max_entries(37);
    o.program("post_bind").set_expected_attach_type(12);  // BPF_CGROUP_INET4_POST_BIND
    o.program("bad").set_autoload(false);
    CHECK(!o.program("bad").autoload());
    o.program("good").set_log_level(1);
    o.program("retyped").set_type(3);  // BPF_PROG_TYPE_SCHED_CLS
    o.map("optional").set_autocreate(false);
    o.program("uses_optional").set_autoload(false);
    o.load();
    CHECK_EQ(o.program("bad").info().fd, -1);
    CHECK_EQ(o.program("retyped").info().prog_type, 3u);
    CHECK(o.program("good").log().find("processed ") != std::string::npos);
    CHECK(!o.map("optional").autocreate());
    CHECK_EQ(o.map("optional").info().fd, -1);
    auto sized = o.map("sized");
    for (std::uint32_t k = 0; k < 37; k++) sized.put(k, std::uint64_t{k});
    CHECK_THROWS(sized.put(std::uint32_t{37}, std::uint64_t{0}), E2BIG);
    CHECK_THROWS(o.program("bad").set_autoload(true), EBUSY);
    CHECK_THROWS(sized.set_max_entries(1), EBUSY);
    auto link = o.program("good").attach();
    syscall(SYS_getpgid, 0);
    link.reset();
    auto bss = o.map(".bss");
    std::vector<unsigned char> v(8);
    std::uint32_t zero = 0;
    CHECK(bpfl_map_lookup(bss.handle(), &zero, 4, v.data(), 8) == 0);
    CHECK_EQ(int(v[0]), 99);
}

#include "test_batch.hpp"

}  // namespace

// cgroup_sock.o: a socket filter drops 'x' datagrams and is gone with its
// Link; a dispatcher's tail call lands once its slot is set and stops when
// cleared; a cgroup attach shows in BPF_PROG_QUERY until the Link goes.
void test_cgroup_sock() {
    bpfl::Object obj(obj_path("cgroup_sock.o"));
    obj.load();
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    auto recv_all = [&] {
        std::string got;
        char buf[64];
        ssize_t n;
        while ((n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)) > 0)
            got += std::string(buf, static_cast<std::size_t>(n)) + ";";
        return got;
    };
    auto send_s = [&](const char* m) { CHECK(send(sv[0], m, strlen(m), 0) > 0); };
    {
        bpfl::Link l = obj.program("drop_x").attach_socket(sv[1]);
        send_s("xa");
        send_s("ok");
        CHECK_EQ(recv_all(), std::string("ok;"));
    }
    send_s("xb");
    CHECK_EQ(recv_all(), std::string("xb;"));
    {
        bpfl::Link l = obj.program("dispatch").attach_socket(sv[1]);
        auto jump = obj.map("jump");
        jump.set_prog(0, obj.program("target_drop"));
        send_s("1");
        CHECK_EQ(recv_all(), std::string(""));
        CHECK(jump.clear_slot(0));
        CHECK(!jump.clear_slot(0));
        send_s("2");
        CHECK_EQ(recv_all(), std::string("2;"));
        CHECK_EQ(obj.map("counts").get<std::uint32_t, std::uint64_t>(5).value_or(0), std::uint64_t{1});
    }
    close(sv[0]);
    close(sv[1]);
    std::ifstream mounts("/proc/mounts");
    std::string dev, mnt, type, rest, cg;
    while (mounts >> dev >> mnt >> type && std::getline(mounts, rest))
        if (type == "cgroup2") {
            cg = mnt + "/bpfl-cpp-" + std::to_string(getpid());
            break;
        }
    if (cg.empty() || mkdir(cg.c_str(), 0755) != 0) {
        std::cout << "SKIPPED part: no cgroup2 mount for the cgroup attach\n";
        return;
    }
    int fd = open(cg.c_str(), O_RDONLY | O_DIRECTORY);
    {
        bpfl::CgroupOptions o;
        o.via = BPFL_VIA_PROG_ATTACH;
        bpfl::Link l = obj.program("egress_count").attach_cgroup(fd, o);
        CHECK_EQ(bpfl::query_programs(fd, 1 /* BPF_CGROUP_INET_EGRESS */).size(), std::size_t{1});
    }
    CHECK_EQ(bpfl::query_programs(fd, 1).size(), std::size_t{0});
    close(fd);
    rmdir(cg.c_str());
}

// Test runs, XDP and tc through the wrapper, on a veth pair made here.
// Issue 13: globals and an mmapable array read and written in place. The
// .rodata filter set through the reference before load; .bss read and .data
// written after it through the same references; an object filtering another
// pid counts nothing.
static void test_globals() {
    bpfl::Object obj(obj_path("globals_mmap.o")), other(obj_path("globals_mmap.o"));
    auto& tg = obj.variable<std::uint32_t>("target_tgid");
    auto& in = obj.variable<std::uint64_t>("value_in");
    volatile auto& hits = obj.variable<std::uint64_t>("hits");
    CHECK(tg == 0 && in == 0x1111 && hits == 0);
    tg = tgid();
    in = 42;
    other.variable<std::uint32_t>("target_tgid") = 4000000000u;  // no such process
    CHECK_EQ(obj.variable_bytes("extra").size(), 16u);
    CHECK_EQ(obj.variable_bytes("extra").at<std::uint32_t>(12), 4u);
    CHECK(CHECK_THROWS(obj.variable<std::uint64_t>("nope"), ENOENT).find("'nope'") != std::string::npos);
    CHECK_THROWS(obj.variable<std::uint32_t>("value_in"), EINVAL);
    CHECK_THROWS(obj.map("counts").mmap(), EINVAL);
    obj.load();
    other.load();
    CHECK(&obj.variable<std::uint64_t>("value_in") == &in);
    CHECK_EQ(in, 42u);
    bpfl::Link l1 = obj.attach("count_getppid"), l2 = other.attach("count_getppid");
    call_getppid(1000);
    CHECK_EQ(static_cast<std::uint64_t>(hits), 1000u);
    CHECK_EQ(other.variable<std::uint64_t>("hits"), 0u);
    volatile auto& out = obj.variable<std::uint64_t>("value_out");
    CHECK_EQ(static_cast<std::uint64_t>(out), 42u);
    in = 7;
    call_getppid(1);
    CHECK_EQ(static_cast<std::uint64_t>(out), 7u);
    CHECK_EQ(static_cast<std::uint64_t>(hits), 1001u);
    CHECK_EQ(obj.map(".data").get<std::uint32_t, std::uint64_t>(0).value_or(0), 7u);
    bpfl::MappedView mm = obj.map("counts").mmap();
    CHECK_EQ(mm.size(), 64u);
    CHECK_EQ(mm.at<std::uint64_t>(8), 1001u);
    CHECK_EQ(mm.at<std::uint64_t>(16), 14u);
    mm.at<std::uint64_t>(40) = 0xabcd;
    CHECK_EQ(obj.map("counts").get<std::uint32_t, std::uint64_t>(5).value_or(0), 0xabcdu);
    CHECK_THROWS(mm.at<std::uint64_t>(60), EINVAL);
    CHECK(CHECK_THROWS(obj.map("plain").mmap(), EINVAL).find("BPF_F_MMAPABLE") != std::string::npos);
}

static void test_net() {
    bpfl::Object o(obj_path("net.o"));
    o.load();
    auto by_byte = o.program("xdp_by_byte");
    bpfl::TestRunOptions t;
    t.data.assign(64, 0);
    t.data[0] = 0xdd;
    CHECK(by_byte.test_run(t).retval == 1);
    t.data[0] = 0x11;
    t.data_out = 128;
    auto r = by_byte.test_run(t);
    CHECK(r.retval == 2 && r.data_out.size() == 64 && r.data_out[1] == 0x42);
    t.data_out = 8;
    try {
        by_byte.test_run(t);
        CHECK(!"a short data_out throws");
    } catch (const bpfl::Error& e) {
        CHECK(e.code() == ENOSPC);
    }
    std::string a = "bxa" + std::to_string(getpid()), b = "bxb" + std::to_string(getpid());
    if (std::system(("ip link add " + a + " type veth peer name " + b + " && ip link set " + a + " up").c_str()) != 0) {
        std::cout << "SKIPPED (inside test_net): cannot make a veth pair\n";
        return;
    }
    struct Del {
        std::string n;
        ~Del() { (void)std::system(("ip link del " + n).c_str()); }
    } del{a};
    auto idx = bpfl::ifindex(a);
    auto cnt = o.program("xdp_count_drop");
    for (bool nl : {false, true}) {
        bpfl::XdpOptions xo;
        xo.mode = BPFL_XDP_MODE_GENERIC;
        xo.netlink = nl;
        {
            auto l = cnt.attach_xdp(idx, xo);
            auto q = bpfl::xdp_query(idx);
            CHECK(q.attached == BPFL_XDP_ATTACHED_GENERIC && q.skb_prog_id != 0);
        }
        CHECK(bpfl::xdp_query(idx).attached == BPFL_XDP_ATTACHED_NONE);
    }
    {
        bpfl::TcOptions to;
        to.direction = BPFL_TC_EGRESS;
        to.priority = 11;
        auto l = o.program("tc_count").attach_tc(idx, to);
        CHECK(std::system(("tc filter show dev " + a + " egress | grep -q 'pref 11 bpf'").c_str()) == 0);
    }
    CHECK(std::system(("tc qdisc show dev " + a + " | grep -q clsact").c_str()) != 0);
    try {
        bpfl::TcxOptions xo;
        xo.direction = BPFL_TC_EGRESS;
        auto l = o.program("tc_count").attach_tcx(idx, xo);
        CHECK(l.fd() >= 0);
    } catch (const bpfl::Error& e) {
        CHECK(e.code() == EOPNOTSUPP);
        std::cout << "SKIPPED (inside test_net): " << e.what() << "\n";
    }
}

std::string read_fd(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        out.append(buf, static_cast<size_t>(n));
    close(fd);
    return out;
}

// Iterators, link update/info/pin/open, perf events (issue 12).
void test_kinds() {
    bpfl::Object obj(obj_path("kinds.o"));
    obj.set_rodata("target_tgid", tgid());
    obj.load();
    auto tasks = obj.program("list_tasks");
    auto marked = obj.program("list_tasks_marked");
    bpfl::IterOptions io;
    io.pid = tgid();
    bpfl::Link it = tasks.attach_iter(io);
    std::string me = std::to_string(tgid());
    CHECK(read_fd(it.open_iter()).rfind(me + " " + me + " ", 0) == 0);
    auto info = it.info();
    CHECK_EQ(info.type, 4u);
    CHECK_EQ(info.name, std::string("task"));
    CHECK_EQ(info.task_pid, tgid());
    int code = 0;
    try {
        it.update_program(tasks, &marked);
    } catch (const bpfl::Error& e) {
        code = e.code();
    }
    CHECK_EQ(code, EPERM);
    it.update_program(marked, &tasks);
    CHECK(it.info().prog_id != info.prog_id);
    code = 0;
    try {
        it.force_detach();
    } catch (const bpfl::Error& e) {
        code = e.code();
    }
    CHECK_EQ(code, EOPNOTSUPP);
    std::string pin = "/sys/fs/bpf/bpfl-cpp-iter-" + me;
    it.pin(pin);
    it.destroy();
    {
        bpfl::Link opened = bpfl::Link::open_pinned(pin);
        CHECK_EQ(read_fd(opened.open_iter()), "marked " + me + " " + me + "\n");
    }
    unlink(pin.c_str());

    // cpu-clock at 1000 Hz on CPU 0 while this thread burns 200 ms there.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    CHECK(sched_setaffinity(0, sizeof(one), &one) == 0);
    int pfd = bpfl::open_perf_event(bpfl::PerfEventSpec{}, 0);
    bpfl::Link pl = obj.program("on_sample").attach_perf_event(pfd);
    close(pfd);
    auto t0 = std::chrono::steady_clock::now();
    volatile std::uint64_t x = 0;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200))
        for (int i = 0; i < 10000; i++)
            x = x + static_cast<std::uint64_t>(i);
    CHECK_EQ(pl.info().type, 7u);
    pl.destroy();
    auto n = obj.map("samples").get<std::uint32_t, std::uint64_t>(0).value_or(0);
    CHECK(n >= 4 && n <= 400);
}

// struct_ops: a BPF TCP congestion control registered and unregistered (issue 12).
void test_struct_ops() {
    auto selectable = [] {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        bool ok = setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "bpfl_cc", 7) == 0;
        close(s);
        return ok;
    };
    CHECK(!selectable());
    bpfl::Object obj(obj_path("kinds_cc_legacy.o"));
    obj.load();
    {
        bpfl::Link l = obj.map("bpfl_cc").attach_struct_ops();
        CHECK(selectable());
        int ls = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t al = sizeof(a);
        bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof(a));
        listen(ls, 1);
        getsockname(ls, reinterpret_cast<sockaddr*>(&a), &al);
        CHECK(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "bpfl_cc", 7) == 0);
        CHECK(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
        int s = accept(ls, nullptr, nullptr);
        char buf[4096] = {1};
        CHECK(write(c, buf, sizeof(buf)) == static_cast<ssize_t>(sizeof(buf)));
        std::size_t got = 0;
        while (got < sizeof(buf)) {
            ssize_t n = read(s, buf, sizeof(buf));
            if (n <= 0)
                break;
            got += static_cast<std::size_t>(n);
        }
        CHECK_EQ(got, sizeof(buf));
        close(c);
        close(s);
        close(ls);
        CHECK(obj.map("cc_calls").get<std::uint32_t, std::uint64_t>(0).value_or(0) > 0);  // init ran
    }  // ~Link: unregistered
    CHECK(!selectable());
}

#include "test_net2.hpp"

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
        {"set-up before load: autoload, sizes, types, log, kconfig, EBUSY after", test_setup},
        {"socket filter, tail-call slots, cgroup attach and query", test_cgroup_sock},
        {"test runs, XDP (link and netlink), tc and TCX on a veth pair", test_net},
        {"netfilter, sk_lookup, flow dissector (keys of a test run), netkit", test_net2},
        {"sk_reuseport: each datagram on the socket its payload picks", test_sk_reuseport},
        {"query_programs_ifindex: TCX programs in order, links, revision", test_query_ifindex},
        {"iterators, link update/info/pin/open, perf events", test_kinds},
        {"struct_ops: a BPF TCP congestion control", test_struct_ops},
        {"globals and mmapable arrays in place, no syscall", test_globals},
        {"PerfBuffer: exact records, moves, a callback's exception rethrown", test_perfbuf},
        {"LogCallback: real messages, replaced, restored", test_log_callback},
        {"kernel-wide listing: our program, map and link by id", test_loaded_listing},
        {"batch map calls: update, walk, drain, delete, partial failures", test_batch},
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
