// bpfl.hpp: a header-only C++17 RAII wrapper over the bpfl C ABI (bpfl.h).
//
//   bpfl::Object obj("seed_tp.o");          // bpfl_object_open_file
//   obj.load();                             // throws bpfl::Error on failure
//   obj.attach_all();
//   auto n = obj.map("per_pid").get<uint32_t, uint64_t>(getpid());   // std::optional
//
// Ownership: Object, Link and PinnedMap own what they hold and release it in
// their destructor (close / detach / close). Program and Map are views of an
// object's program or map: valid while the object is open. All five are
// move-only; a moved-from value is empty and its destructor does nothing.
//
// Errors: every failing call throws bpfl::Error, whose code() is the positive
// errno and what() is "<function>: <bpfl_last_error()>". Lookups of absent
// keys are not errors: get() returns std::nullopt, del() returns false.
// Destructors never throw.
#ifndef BPFL_HPP
#define BPFL_HPP

#include <bpfl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace bpfl {

// A failed bpfl call: code() is the errno (positive), what() names the call
// and holds bpfl's message (for a verifier rejection: the verifier log).
class Error : public std::runtime_error {
public:
    Error(int code, const std::string& what, std::string message)
        : std::runtime_error(what), code_(code), message_(std::move(message)) {}
    // The errno, positive (ENOENT, EINVAL, EACCES, ...).
    int code() const noexcept { return code_; }
    // bpfl_last_error() at the time of the failure (or strerror(code) if it was empty).
    const std::string& message() const noexcept { return message_; }

private:
    int code_;
    std::string message_;
};

namespace detail {

[[noreturn]] inline void fail(int code, const char* fn, std::string message) {
    std::string what = fn;
    what += ": ";
    what += message;
    throw Error(code, what, std::move(message));
}

// Throws for a negative return code, passes other values through.
inline int check(int rc, const char* fn) {
    if (rc < 0) {
        const char* last = bpfl_last_error();
        fail(-rc, fn, (last && *last) ? std::string(last) : std::string(std::strerror(-rc)));
    }
    return rc;
}

inline const char* opt_cstr(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

template <class T>
constexpr void check_plain() {
    static_assert(std::is_trivially_copyable_v<T>, "map keys and values must be trivially copyable");
    static_assert(std::is_default_constructible_v<T>, "map keys and values must be default constructible");
}

template <class H>
inline H take(H& h) noexcept {
    H old = h;
    h.id = 0;
    return old;
}

}  // namespace detail

// The library version, "MAJOR.MINOR.PATCH".
inline std::string version() { return bpfl_version(); }

// Options of Object's constructor.
struct OpenOptions {
    std::string object_name;      // empty: from the file name
    std::string pin_root;         // empty: /sys/fs/bpf
    std::string btf_custom_path;  // CO-RE target BTF file; empty: /sys/kernel/btf/vmlinux
    std::string kconfig;          // "CONFIG_X=y\n..." overriding the host's values for __kconfig externs
    std::uint32_t kernel_log_level = 0;  // verifier log level of every program
};

// Options of Object::load.
struct LoadOptions {
    std::uint32_t log_level = 0;     // verifier log level (0: a log only on rejection)
    std::uint32_t kern_version = 0;  // 0: the running kernel's
};

// Options of Program::attach_kprobe.
struct KprobeOptions {
    std::uint64_t offset = 0;
    bool retprobe = false;
    bpfl_probe_mode mode = BPFL_PROBE_AUTO;
    std::uint64_t cookie = 0;  // bpf_get_attach_cookie() (Linux 5.15+ when not 0)
};

// Options of Program::attach_uprobe.
struct UprobeOptions {
    std::uint64_t offset = 0;  // added to the function; with no function, the file offset
    bool retprobe = false;
    std::int32_t pid = -1;  // -1: every process that runs the binary
    std::uint64_t cookie = 0;  // bpf_get_attach_cookie() (Linux 5.15+ when not 0)
};

// Options of Program::attach_usdt.
struct UsdtOptions {
    std::int32_t pid = -1;     // -1: every process that runs the binary
    std::uint64_t cookie = 0;  // what bpf_usdt_cookie() gives the program
};

// Options of Program::attach_uprobe_multi: syms or offsets (or a pattern), with cookies.
struct UprobeMultiOptions {
    std::vector<std::string> syms;
    std::vector<std::uint64_t> offsets;
    std::vector<std::uint64_t> cookies;  // one per probe, or none
    bool retprobe = false;
    std::int32_t pid = -1;
};

// Options of Program::attach_kprobe_multi: syms or addrs (or a pattern), with cookies.
struct KprobeMultiOptions {
    std::vector<std::string> syms;
    std::vector<std::uint64_t> addrs;
    std::vector<std::uint64_t> cookies;  // one per function (pattern: sorted name order), or none
    bool retprobe = false;
    bool session = false;  // kprobe.session (Linux 6.10+)
};

// Options of Program::attach_cgroup (see struct bpfl_cgroup_opts).
struct CgroupOptions {
    std::uint32_t attach_type = 0;  // 0: the program's (its section's)
    bpfl_attach_via via = BPFL_VIA_AUTO;
    std::uint32_t flags = 0;  // BPF_PROG_ATTACH flags (BPF_F_ALLOW_MULTI, ...)
    int replace_prog_fd = -1;  // with BPF_F_REPLACE
};

// Options of Program::attach_sockmap.
struct SockmapOptions {
    std::uint32_t attach_type = 0;  // 0: the program's (its section's)
    bpfl_attach_via via = BPFL_VIA_AUTO;
};

class MapOps;
// Program::test_run input (BPF_PROG_TEST_RUN). data_out/ctx_out: bytes of room
// for the packet and context out (0: not wanted).
struct TestRunOptions {
    std::vector<std::uint8_t> data;
    std::size_t data_out = 0;
    std::vector<std::uint8_t> ctx;
    std::size_t ctx_out = 0;
    std::uint32_t repeat = 0, flags = 0, cpu = 0, batch_size = 0;
};

struct TestRunResult {
    std::uint32_t retval = 0;       // XDP_DROP, TC_ACT_OK...
    std::uint32_t duration_ns = 0;  // mean time of one run
    std::vector<std::uint8_t> data_out, ctx_out;
};

// Options of Program::attach_xdp.
struct XdpOptions {
    bpfl_xdp_mode mode = BPFL_XDP_MODE_AUTO;
    std::uint32_t flags = 0;         // BPFL_XDP_UPDATE_IF_NOEXIST
    int replace_prog_fd = 0;         // > 0: replace that program (netlink)
    bool netlink = false;            // netlink even where BPF links exist
};

struct XdpInfo {
    bpfl_xdp_attached attached = BPFL_XDP_ATTACHED_NONE;
    std::uint32_t prog_id = 0, drv_prog_id = 0, skb_prog_id = 0, hw_prog_id = 0;
};

// Options of Program::attach_tcx.
struct TcxOptions {
    bpfl_tc_direction direction = BPFL_TC_INGRESS;
    std::uint32_t flags = 0;     // BPFL_TCX_BEFORE/AFTER, with BPFL_TCX_ID/LINK
    std::uint32_t relative = 0;  // program or link fd (or id) placed against
    std::uint64_t expected_revision = 0;
};

// Options of Program::attach_netkit.
struct NetkitOptions {
    bpfl_netkit_side side = BPFL_NETKIT_FROM_SECTION;
    std::uint32_t flags = 0;     // BPFL_TCX_BEFORE/AFTER, with BPFL_TCX_ID/LINK
    std::uint32_t relative = 0;  // program or link fd (or id) placed against
    std::uint64_t expected_revision = 0;
};

// Options of Program::attach_tc (netlink clsact + cls_bpf).
struct TcOptions {
    bpfl_tc_direction direction = BPFL_TC_INGRESS;
    std::uint16_t priority = 0;  // 0: the kernel picks
    std::uint32_t handle = 0;    // 0: the kernel picks
};

struct ProgramInfo {
    std::string name;
    std::string section;
    std::uint32_t prog_type = 0;
    std::uint32_t expected_attach_type = 0;
    int fd = -1;
    std::uint32_t insn_cnt = 0;
};

struct MapInfo {
    std::string name;
    std::uint32_t type = 0;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;  // per-CPU maps: one CPU's value
    std::uint32_t max_entries = 0;
    std::uint32_t flags = 0;
    int fd = -1;
};

// What the kernel says about a BPF link (bpfl_link_get_info).
struct LinkInfo {
    std::uint32_t type = 0, id = 0, prog_id = 0, attach_type = 0;
    std::string name;  // raw tracepoint, iterator target, perf event target
    std::uint64_t cgroup_id = 0;
    std::uint32_t map_id = 0, target_obj_id = 0, target_btf_id = 0, ifindex = 0, netns_ino = 0, perf_event_type = 0;
    std::uint32_t task_tid = 0, task_pid = 0;
};

// An iterator's parameters (bpfl_iter_opts): those of its target, or none.
struct IterOptions {
    int map_fd = 0;
    int cgroup_fd = 0;
    std::uint64_t cgroup_id = 0;
    std::uint32_t cgroup_order = 0;
    std::uint32_t tid = 0, pid = 0;
    int pid_fd = 0;
};

// A sampling perf event (bpfl_perf_event_spec).
struct PerfEventSpec {
    std::uint32_t type = 1;    // PERF_TYPE_SOFTWARE
    std::uint64_t config = 0;  // PERF_COUNT_SW_CPU_CLOCK
    std::uint64_t period = 1000;
    bool freq = true;  // period is a frequency in Hz
    int pid = -1;
};

// Open a sampling perf event on `cpu`; the fd is the caller's to close.
inline int open_perf_event(const PerfEventSpec& spec, int cpu) {
    bpfl_perf_event_spec s{};
    s.sz = sizeof(s);
    s.perf_type = spec.type;
    s.config = spec.config;
    s.period = spec.period;
    s.freq = spec.freq;
    s.pid = spec.pid;
    int fd = -1;
    detail::check(bpfl_perf_event_open(&s, cpu, &fd), "bpfl_perf_event_open");
    return fd;
}

class Program;

// An attachment. Its destructor detaches the program (if the object has not
// already done so by being closed).
class Link {
public:
    Link() noexcept = default;
    explicit Link(bpfl_link h) noexcept : h_(h) {}
    Link(Link&& o) noexcept : h_(detail::take(o.h_)) {}
    Link& operator=(Link&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = detail::take(o.h_);
        }
        return *this;
    }
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link() { reset(); }

    // Detach now, reporting errors (the destructor ignores them).
    void destroy() {
        if (h_.id)
            detail::check(bpfl_link_destroy(detail::take(h_)), "bpfl_link_destroy");
    }
    // Detach now if attached; errors are ignored.
    void reset() noexcept {
        if (h_.id)
            (void)bpfl_link_destroy(detail::take(h_));
    }
    int fd() const {
        int fd = -1;
        detail::check(bpfl_link_fd(h_, &fd), "bpfl_link_fd");
        return fd;
    }
    // Pin on a bpffs: the attachment outlives this Link and the process
    // until the pin is removed; destroying the Link does not unpin.
    void pin(const std::string& path) const { detail::check(bpfl_link_pin(h_, path.c_str()), "bpfl_link_pin"); }
    // Open a pinned link; destroying it closes our fd only.
    static Link open_pinned(const std::string& path) {
        bpfl_link l{};
        detail::check(bpfl_link_open_pinned(path.c_str(), &l), "bpfl_link_open_pinned");
        return Link(l);
    }
    // Run `prog` in the link instead (BPF_LINK_UPDATE); with `old`, only if
    // it runs `old` now (else Error with EPERM). Defined after Program.
    void update_program(const Program& prog, const Program* old = nullptr) const;
    LinkInfo info() const {
        bpfl_link_info i{};
        i.sz = sizeof(i);
        detail::check(bpfl_link_get_info(h_, &i), "bpfl_link_get_info");
        LinkInfo r;
        r.type = i.link_type;
        r.id = i.id;
        r.prog_id = i.prog_id;
        r.attach_type = i.attach_type;
        r.name = i.name;
        r.cgroup_id = i.cgroup_id;
        r.map_id = i.map_id;
        r.target_obj_id = i.target_obj_id;
        r.target_btf_id = i.target_btf_id;
        r.ifindex = i.ifindex;
        r.netns_ino = i.netns_ino;
        r.perf_event_type = i.perf_event_type;
        r.task_tid = i.task_tid;
        r.task_pid = i.task_pid;
        return r;
    }
    // BPF_LINK_DETACH: end the attachment for every holder (pins too); the
    // Link stays until destroyed. Only some link types take it.
    void force_detach() const { detail::check(bpfl_link_detach(h_), "bpfl_link_detach"); }
    // Switch a struct_ops link to another loaded .struct_ops.link map of the same type.
    void update_map(bpfl_map map) const { detail::check(bpfl_link_update_map(h_, map), "bpfl_link_update_map"); }
    // A new pass of an iterator link: an fd to read() until 0, then close().
    int open_iter() const {
        int fd = -1;
        detail::check(bpfl_iter_create(h_, &fd), "bpfl_iter_create");
        return fd;
    }

    bpfl_link handle() const noexcept { return h_; }
    // Give up ownership: the caller destroys the returned handle.
    bpfl_link release() noexcept { return detail::take(h_); }
    explicit operator bool() const noexcept { return h_.id != 0; }

private:
    bpfl_link h_{};
};

// A program of an Object (a view: valid while the object is open).
class Program {
public:
    Program() noexcept = default;
    explicit Program(bpfl_program h) noexcept : h_(h) {}
    Program(Program&& o) noexcept : h_(detail::take(o.h_)) {}
    Program& operator=(Program&& o) noexcept {
        if (this != &o)
            h_ = detail::take(o.h_);
        return *this;
    }
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;
    ~Program() = default;

    ProgramInfo info() const {
        bpfl_program_info i{};
        i.sz = sizeof(i);
        detail::check(bpfl_program_get_info(h_, &i), "bpfl_program_get_info");
        ProgramInfo r;
        r.name = i.name ? i.name : "";
        r.section = i.section ? i.section : "";
        r.prog_type = i.prog_type;
        r.expected_attach_type = i.expected_attach_type;
        r.fd = i.fd;
        r.insn_cnt = i.insn_cnt;
        return r;
    }
    std::string name() const { return info().name; }
    std::string section() const { return info().section; }
    int fd() const {
        int fd = -1;
        detail::check(bpfl_program_fd(h_, &fd), "bpfl_program_fd");
        return fd;
    }

    // Attach where the section says (kprobe/F, kretprobe/F, tracepoint/C/N, tp/C/N, raw_tracepoint/N).
    Link attach() const {
        bpfl_link l{};
        detail::check(bpfl_program_attach(h_, &l), "bpfl_program_attach");
        return Link(l);
    }
    Link attach_tracepoint(const std::string& category, const std::string& name) const {
        bpfl_link l{};
        detail::check(bpfl_program_attach_tracepoint(h_, category.c_str(), name.c_str(), &l),
                      "bpfl_program_attach_tracepoint");
        return Link(l);
    }
    Link attach_raw_tracepoint(const std::string& name) const {
        bpfl_link l{};
        detail::check(bpfl_program_attach_raw_tracepoint(h_, name.c_str(), &l), "bpfl_program_attach_raw_tracepoint");
        return Link(l);
    }
    Link attach_kprobe(const std::string& func, const KprobeOptions& opts = {}) const {
        bpfl_kprobe_opts o{};
        o.sz = sizeof(o);
        o.offset = opts.offset;
        o.retprobe = opts.retprobe;
        o.mode = static_cast<std::uint32_t>(opts.mode);
        o.cookie = opts.cookie;
        bpfl_link l{};
        detail::check(bpfl_program_attach_kprobe(h_, func.c_str(), &o, &l), "bpfl_program_attach_kprobe");
        return Link(l);
    }
    Link attach_kretprobe(const std::string& func, KprobeOptions opts = {}) const {
        opts.retprobe = true;
        return attach_kprobe(func, opts);
    }
    // A uprobe on `func` in the ELF file `binary` (empty `func`: at file offset opts.offset).
    Link attach_uprobe(const std::string& binary, const std::string& func, const UprobeOptions& opts = {}) const {
        bpfl_uprobe_opts o{};
        o.sz = sizeof(o);
        o.offset = opts.offset;
        o.retprobe = opts.retprobe;
        o.pid = opts.pid;
        o.cookie = opts.cookie;
        bpfl_link l{};
        detail::check(bpfl_program_attach_uprobe(h_, binary.c_str(), func.empty() ? nullptr : func.c_str(), &o, &l),
                      "bpfl_program_attach_uprobe");
        return Link(l);
    }
    Link attach_uretprobe(const std::string& binary, const std::string& func, UprobeOptions opts = {}) const {
        opts.retprobe = true;
        return attach_uprobe(binary, func, opts);
    }
    // cgroup, socket, sockmap and network namespace attachments (defined below MapOps).
    Link attach_cgroup(int cgroup_fd, const CgroupOptions& opts = {}) const;
    Link attach_cgroup_path(const std::string& path, const CgroupOptions& opts = {}) const;
    Link attach_socket(int sock_fd) const;
    Link attach_sockmap(const MapOps& map, const SockmapOptions& opts = {}) const;
    Link attach_netns(int netns_fd = -1) const;  // -1: the calling thread's
    Link attach_netns_path(const std::string& path) const;
    // A netfilter link (Linux 6.4+) in the calling thread's network namespace.
    Link attach_netfilter(std::uint32_t pf, std::uint32_t hooknum, std::int32_t priority, std::uint32_t flags = 0) const;

    // Set-up before the object loads (std::system_error-like bpfl::Error with EBUSY after).
    void set_autoload(bool on) const { detail::check(bpfl_program_set_autoload(h_, on), "bpfl_program_set_autoload"); }
    bool autoload() const {
        bool b = false;
        detail::check(bpfl_program_autoload(h_, &b), "bpfl_program_autoload");
        return b;
    }
    void set_type(std::uint32_t t) const { detail::check(bpfl_program_set_type(h_, t), "bpfl_program_set_type"); }
    void set_expected_attach_type(std::uint32_t t) const {
        detail::check(bpfl_program_set_expected_attach_type(h_, t), "bpfl_program_set_expected_attach_type");
    }
    // A kernel function/tracepoint/LSM hook/iterator (attach_prog_fd <= 0), or
    // function `func` of the loaded program attach_prog_fd (freplace).
    void set_attach_target(int attach_prog_fd, const std::string& func) const {
        detail::check(bpfl_program_set_attach_target(h_, attach_prog_fd, detail::opt_cstr(func)), "bpfl_program_set_attach_target");
    }
    void set_flags(std::uint32_t flags) const { detail::check(bpfl_program_set_flags(h_, flags), "bpfl_program_set_flags"); }
    std::uint32_t flags() const {
        std::uint32_t f = 0;
        detail::check(bpfl_program_flags(h_, &f), "bpfl_program_flags");
        return f;
    }
    void set_log_level(std::uint32_t level) const { detail::check(bpfl_program_set_log_level(h_, level), "bpfl_program_set_log_level"); }
    // The verifier log of the last load.
    std::string log() const {
        std::size_t n = 0;
        int rc = bpfl_program_log(h_, nullptr, 0, &n);
        if (rc != -ENOSPC)
            detail::check(rc, "bpfl_program_log");
        std::string s(n + 1, '\0');
        detail::check(bpfl_program_log(h_, s.data(), s.size(), &n), "bpfl_program_log");
        s.resize(n);
        return s;
    }

    // Run the loaded program on test input (BPF_PROG_TEST_RUN).
    TestRunResult test_run(const TestRunOptions& opts = {}) const {
        TestRunResult r;
        r.data_out.resize(opts.data_out);
        r.ctx_out.resize(opts.ctx_out);
        bpfl_test_run_opts o{};
        o.sz = sizeof(o);
        o.data_in = opts.data.empty() ? nullptr : opts.data.data();
        o.data_size_in = opts.data.size();
        o.data_out = r.data_out.empty() ? nullptr : r.data_out.data();
        o.data_size_out = r.data_out.size();
        o.ctx_in = opts.ctx.empty() ? nullptr : opts.ctx.data();
        o.ctx_size_in = opts.ctx.size();
        o.ctx_out = r.ctx_out.empty() ? nullptr : r.ctx_out.data();
        o.ctx_size_out = r.ctx_out.size();
        o.repeat = opts.repeat;
        o.flags = opts.flags;
        o.cpu = opts.cpu;
        o.batch_size = opts.batch_size;
        bpfl_test_run_result res{};
        res.sz = sizeof(res);
        detail::check(bpfl_program_test_run(h_, &o, &res), "bpfl_program_test_run");
        r.retval = res.retval;
        r.duration_ns = res.duration_ns;
        r.data_out.resize(res.data_size_out);
        r.ctx_out.resize(res.ctx_size_out);
        return r;
    }
    // XDP on interface `ifindex`: a BPF link (Linux 5.9+), else netlink.
    Link attach_xdp(std::uint32_t ifindex, const XdpOptions& opts = {}) const {
        bpfl_xdp_opts o{};
        o.sz = sizeof(o);
        o.mode = static_cast<std::uint32_t>(opts.mode);
        o.flags = opts.flags;
        o.replace_prog_fd = opts.replace_prog_fd;
        o.netlink = opts.netlink;
        bpfl_link l{};
        detail::check(bpfl_program_attach_xdp(h_, ifindex, &o, &l), "bpfl_program_attach_xdp");
        return Link(l);
    }
    // A TCX link (Linux 6.6+; older kernels: Error with code EOPNOTSUPP).
    Link attach_tcx(std::uint32_t ifindex, const TcxOptions& opts = {}) const {
        bpfl_tcx_opts o{};
        o.sz = sizeof(o);
        o.direction = static_cast<std::uint32_t>(opts.direction);
        o.flags = opts.flags;
        o.relative = opts.relative;
        o.expected_revision = opts.expected_revision;
        bpfl_link l{};
        detail::check(bpfl_program_attach_tcx(h_, ifindex, &o, &l), "bpfl_program_attach_tcx");
        return Link(l);
    }
    // A netkit link on the pair whose primary is ifindex (Linux 6.7+ with
    // CONFIG_NETKIT; else Error with code EOPNOTSUPP).
    Link attach_netkit(std::uint32_t ifindex, const NetkitOptions& opts = {}) const {
        bpfl_netkit_opts o{};
        o.sz = sizeof(o);
        o.side = static_cast<std::uint32_t>(opts.side);
        o.flags = opts.flags;
        o.relative = opts.relative;
        o.expected_revision = opts.expected_revision;
        bpfl_link l{};
        detail::check(bpfl_program_attach_netkit(h_, ifindex, &o, &l), "bpfl_program_attach_netkit");
        return Link(l);
    }
    // A netlink clsact qdisc (added if missing) and direct-action cls_bpf filter.
    Link attach_tc(std::uint32_t ifindex, const TcOptions& opts = {}) const {
        bpfl_tc_opts o{};
        o.sz = sizeof(o);
        o.direction = static_cast<std::uint32_t>(opts.direction);
        o.priority = opts.priority;
        o.handle = opts.handle;
        bpfl_link l{};
        detail::check(bpfl_program_attach_tc(h_, ifindex, &o, &l), "bpfl_program_attach_tc");
        return Link(l);
    }
    // A perf_event program on the perf event `perf_fd` (the link keeps a dup).
    Link attach_perf_event(int perf_fd, std::uint64_t cookie = 0) const {
        bpfl_perf_event_opts o{};
        o.sz = sizeof(o);
        o.cookie = cookie;
        bpfl_link l{};
        detail::check(bpfl_program_attach_perf_event(h_, perf_fd, &o, &l), "bpfl_program_attach_perf_event");
        return Link(l);
    }
    // An iterator link of an iter/TARGET program.
    Link attach_iter(const IterOptions& opts = {}) const {
        bpfl_iter_opts o{};
        o.sz = sizeof(o);
        o.map_fd = opts.map_fd;
        o.cgroup_fd = opts.cgroup_fd;
        o.cgroup_id = opts.cgroup_id;
        o.cgroup_order = opts.cgroup_order;
        o.tid = opts.tid;
        o.pid = opts.pid;
        o.pid_fd = opts.pid_fd;
        bpfl_link l{};
        detail::check(bpfl_program_attach_iter(h_, &o, &l), "bpfl_program_attach_iter");
        return Link(l);
    }
    // Every site of USDT probe provider:name in `binary`, arguments for bpfl/usdt.bpf.h.
    Link attach_usdt(const std::string& binary, const std::string& provider, const std::string& name, const UsdtOptions& opts = {}) const {
        bpfl_usdt_opts o{};
        o.sz = sizeof(o);
        o.cookie = opts.cookie;
        bpfl_link l{};
        detail::check(bpfl_program_attach_usdt(h_, opts.pid, binary.c_str(), provider.c_str(), name.c_str(), &o, &l), "bpfl_program_attach_usdt");
        return Link(l);
    }
    // Many places of one binary (functions matching `pattern`, or opts.syms/offsets) in one link where the kernel can.
    Link attach_uprobe_multi(const std::string& binary, const std::string& pattern, const UprobeMultiOptions& opts = {}) const {
        std::vector<const char*> syms;
        for (const auto& s : opts.syms) syms.push_back(s.c_str());
        bpfl_uprobe_multi_opts o{};
        o.sz = sizeof(o);
        o.syms = syms.empty() ? nullptr : syms.data();
        o.offsets = opts.offsets.empty() ? nullptr : opts.offsets.data();
        o.cookies = opts.cookies.empty() ? nullptr : opts.cookies.data();
        o.cnt = std::max({syms.size(), opts.offsets.size(), opts.cookies.size()});
        o.retprobe = opts.retprobe;
        bpfl_link l{};
        detail::check(bpfl_program_attach_uprobe_multi(h_, opts.pid, binary.c_str(), pattern.empty() ? nullptr : pattern.c_str(), &o, &l),
                      "bpfl_program_attach_uprobe_multi");
        return Link(l);
    }
    // Many kernel functions (matching `pattern`, or opts.syms/addrs) in one kprobe.multi link, else one kprobe each.
    Link attach_kprobe_multi(const std::string& pattern, const KprobeMultiOptions& opts = {}) const {
        std::vector<const char*> syms;
        for (const auto& s : opts.syms) syms.push_back(s.c_str());
        bpfl_kprobe_multi_opts o{};
        o.sz = sizeof(o);
        o.syms = syms.empty() ? nullptr : syms.data();
        o.addrs = opts.addrs.empty() ? nullptr : opts.addrs.data();
        o.cookies = opts.cookies.empty() ? nullptr : opts.cookies.data();
        o.cnt = std::max({syms.size(), opts.addrs.size(), opts.cookies.size()});
        o.retprobe = opts.retprobe;
        o.session = opts.session;
        bpfl_link l{};
        detail::check(bpfl_program_attach_kprobe_multi(h_, pattern.empty() ? nullptr : pattern.c_str(), &o, &l), "bpfl_program_attach_kprobe_multi");
        return Link(l);
    }
    // A kprobe on syscall `name`'s entry (opts.retprobe: return), through the arch's wrapper.
    Link attach_ksyscall(const std::string& name, const KprobeOptions& opts = {}) const {
        bpfl_ksyscall_opts o{};
        o.sz = sizeof(o);
        o.cookie = opts.cookie;
        o.retprobe = opts.retprobe;
        o.mode = static_cast<std::uint32_t>(opts.mode);
        bpfl_link l{};
        detail::check(bpfl_program_attach_ksyscall(h_, name.c_str(), &o, &l), "bpfl_program_attach_ksyscall");
        return Link(l);
    }
    // fentry/fexit/fmod_ret/lsm where the section says, through a tracing link carrying `cookie` (Linux 5.19+).
    Link attach_trace(std::uint64_t cookie) const {
        bpfl_trace_opts o{};
        o.sz = sizeof(o);
        o.cookie = cookie;
        bpfl_link l{};
        detail::check(bpfl_program_attach_trace_opts(h_, &o, &l), "bpfl_program_attach_trace_opts");
        return Link(l);
    }
    // A tracepoint through a BPF perf link carrying `cookie` for bpf_get_attach_cookie().
    Link attach_tracepoint(const std::string& category, const std::string& name, std::uint64_t cookie) const {
        bpfl_tracepoint_opts o{};
        o.sz = sizeof(o);
        o.cookie = cookie;
        bpfl_link l{};
        detail::check(bpfl_program_attach_tracepoint_opts(h_, category.c_str(), name.c_str(), &o, &l), "bpfl_program_attach_tracepoint_opts");
        return Link(l);
    }

    bpfl_program handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_.id != 0; }

private:
    bpfl_program h_{};
};

inline void Link::update_program(const Program& prog, const Program* old) const {
    bpfl_link_update_opts o{};
    o.sz = sizeof(o);
    if (old)
        o.old_prog = old->handle();
    detail::check(bpfl_link_update(h_, prog.handle(), &o), "bpfl_link_update");
}

// What Map and PinnedMap share: typed access to a map's entries.
// A map's values in memory (MapOps::mmap): the map itself, not a copy.
// Value i is at i * round_up(value_size, 8); size() is that stride times
// max_entries. Valid until the object (or the PinnedMap) closes; writing to
// a read-only one (.rodata, frozen maps) faults. BPF programs change it
// concurrently: use std::atomic_ref (C++20) or volatile for shared counters.
class MappedView {
public:
    MappedView(void* data, std::size_t size) noexcept : data_(static_cast<unsigned char*>(data)), size_(size) {}
    unsigned char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    unsigned char* begin() const noexcept { return data_; }
    unsigned char* end() const noexcept { return data_ + size_; }
    // The T at byte `offset` (bounds and alignment checked: bpfl::Error EINVAL).
    template <class T>
    T& at(std::size_t offset) const {
        detail::check_plain<T>();
        if (offset > size_ || sizeof(T) > size_ - offset || offset % alignof(T) != 0)
            detail::fail(EINVAL, "bpfl::MappedView::at", std::to_string(sizeof(T)) + " bytes at offset " + std::to_string(offset) + " do not fit (aligned) in " + std::to_string(size_));
        return *reinterpret_cast<T*>(data_ + offset);
    }

private:
    unsigned char* data_;
    std::size_t size_;
};

// K and V must be trivially copyable and of the map's key and value size
// (else bpfl::Error with EINVAL).
// ---- batch map operations (Linux 5.6): many entries per system call ----

// Options of the batch calls (struct bpfl_map_batch_opts).
struct BatchOptions {
    std::uint64_t elem_flags = 0;  // 0, or BPF_F_LOCK (4); the kernel takes no NOEXIST/EXIST in batches
    std::uint64_t flags = 0;       // 0
};

// A batch call that failed, maybe part-way: done() entries were done first.
class BatchError : public Error {
public:
    BatchError(int code, const std::string& what, std::string message, std::size_t done)
        : Error(code, what, std::move(message)), done_(done) {}
    std::size_t done() const noexcept { return done_; }

private:
    std::size_t done_;
};

// Where a lookup_batch walk stands (the kernel's resume token, max(key size, 4)
// bytes); a default-constructed cursor starts at the beginning of the map.
class BatchCursor {
public:
    bool done() const noexcept { return done_; }
    void reset() { *this = BatchCursor(); }

private:
    friend class MapOps;
    std::vector<unsigned char> token_;
    bool started_ = false, done_ = false;
};

namespace detail {
inline void check_batch(int rc, const char* fn, std::size_t done) {
    if (rc < 0) {
        const char* last = bpfl_last_error();
        std::string msg = (last && *last) ? std::string(last) : std::string(std::strerror(-rc));
        throw BatchError(-rc, std::string(fn) + ": " + msg, msg, done);
    }
}
}  // namespace detail

class MapOps {
public:
    MapInfo info() const {
        bpfl_map_info i{};
        i.sz = sizeof(i);
        detail::check(bpfl_map_get_info(h_, &i), "bpfl_map_get_info");
        MapInfo r;
        r.name = i.name ? i.name : "";
        r.type = i.map_type;
        r.key_size = i.key_size;
        r.value_size = i.value_size;
        r.max_entries = i.max_entries;
        r.flags = i.map_flags;
        r.fd = i.fd;
        return r;
    }
    std::string name() const { return info().name; }
    int fd() const { return info().fd; }
    // The values of a BPF_MAP_TYPE_ARRAY created with BPF_F_MMAPABLE (global
    // data maps are), after load, mapped: no syscall per access. The same
    // mapping each call. A map that is not mmapable throws EINVAL saying why.
    MappedView mmap() const {
        void* p = nullptr;
        std::size_t n = 0;
        detail::check(bpfl_map_mmap(h_, &p, &n), "bpfl_map_mmap");
        return MappedView(p, n);
    }
    // Bytes of the value buffer lookup/update use (per-CPU maps: all CPUs' values).
    std::size_t value_buf_size() const {
        std::size_t n = 0;
        detail::check(bpfl_map_value_buf_size(h_, &n), "bpfl_map_value_buf_size");
        return n;
    }

    // The value at `key`, or std::nullopt if the key is absent.
    template <class K, class V>
    std::optional<V> get(const K& key) const {
        detail::check_plain<K>();
        detail::check_plain<V>();
        V v{};
        int rc = bpfl_map_lookup(h_, &key, sizeof(K), &v, sizeof(V));
        if (rc == -ENOENT)
            return std::nullopt;
        detail::check(rc, "bpfl_map_lookup");
        return v;
    }

    // Per-CPU maps: the value of each possible CPU, or std::nullopt if the key is absent.
    template <class K, class V>
    std::optional<std::vector<V>> get_percpu(const K& key) const {
        detail::check_plain<K>();
        detail::check_plain<V>();
        std::size_t stride = (sizeof(V) + 7) / 8 * 8;
        std::size_t buf = value_buf_size();
        if (info().value_size != sizeof(V) || buf % stride != 0)
            detail::fail(EINVAL, "get_percpu", "value type of " + std::to_string(sizeof(V)) +
                                                   " bytes does not match map '" + name() + "'");
        std::vector<unsigned char> raw(buf);
        int rc = bpfl_map_lookup(h_, &key, sizeof(K), raw.data(), raw.size());
        if (rc == -ENOENT)
            return std::nullopt;
        detail::check(rc, "bpfl_map_lookup");
        std::vector<V> out(buf / stride);
        for (std::size_t i = 0; i < out.size(); i++)
            std::memcpy(&out[i], raw.data() + i * stride, sizeof(V));
        return out;
    }

    // Create or update `key` (flags: BPFL_ANY, BPFL_NOEXIST, BPFL_EXIST).
    template <class K, class V>
    void put(const K& key, const V& value, bpfl_update_flags flags = BPFL_ANY) const {
        detail::check_plain<K>();
        detail::check_plain<V>();
        detail::check(bpfl_map_update(h_, &key, sizeof(K), &value, sizeof(V), static_cast<std::uint64_t>(flags)),
                      "bpfl_map_update");
    }

    // Delete `key`: true if it was there, false if it was absent.
    template <class K>
    bool del(const K& key) const {
        detail::check_plain<K>();
        int rc = bpfl_map_delete(h_, &key, sizeof(K));
        if (rc == -ENOENT)
            return false;
        detail::check(rc, "bpfl_map_delete");
        return true;
    }

    // Every key, in the kernel's iteration order.
    template <class K>
    std::vector<K> keys() const {
        detail::check_plain<K>();
        std::vector<K> out;
        K next{};
        const K* prev = nullptr;
        for (;;) {
            int rc = bpfl_map_next_key(h_, prev, &next, sizeof(K));
            if (rc == -ENOENT)
                return out;
            detail::check(rc, "bpfl_map_next_key");
            out.push_back(next);
            prev = &out.back();
        }
    }

    // Every entry (batch reads where the kernel has them).
    template <class K, class V>
    std::vector<std::pair<K, V>> read_all() const {
        detail::check_plain<K>();
        detail::check_plain<V>();
        MapInfo i = info();
        std::size_t vbuf = value_buf_size();
        if (i.key_size != sizeof(K) || vbuf != sizeof(V))
            detail::fail(EINVAL, "read_all",
                         "map '" + i.name + "' has " + std::to_string(i.key_size) + "-byte keys and " +
                             std::to_string(vbuf) + "-byte values, not " + std::to_string(sizeof(K)) + " and " +
                             std::to_string(sizeof(V)));
        std::vector<K> ks(i.max_entries);
        std::vector<V> vs(i.max_entries);
        std::size_t n = 0;
        detail::check(bpfl_map_read_all(h_, ks.data(), vs.data(), ks.size(), &n), "bpfl_map_read_all");
        std::vector<std::pair<K, V>> out;
        out.reserve(n);
        for (std::size_t j = 0; j < n; j++)
            out.emplace_back(ks[j], vs[j]);
        return out;
    }

    // ---- batches: packed keys (key size each) and values (value_buf_size each);
    // a failure throws BatchError, whose done() counts the entries done first.
    std::size_t batch_cursor_size() const {
        std::size_t n = 0;
        detail::check(bpfl_map_batch_cursor_size(h_, &n), "bpfl_map_batch_cursor_size");
        return n;
    }
    // Create or update `count` entries in one system call; returns the entries written.
    std::size_t update_batch(const void* keys, std::size_t keys_size, const void* values, std::size_t values_size,
                             std::size_t count, BatchOptions o = {}) const {
        bpfl_map_batch_opts c{sizeof(c), o.elem_flags, o.flags};
        int rc = bpfl_map_update_batch(h_, keys, keys_size, values, values_size, &count, &c);
        detail::check_batch(rc, "bpfl_map_update_batch", count);  // count: entries done, also on failure
        return count;
    }
    // Delete `count` packed keys in one system call; returns the entries deleted.
    std::size_t delete_batch(const void* keys, std::size_t keys_size, std::size_t count, BatchOptions o = {}) const {
        bpfl_map_batch_opts c{sizeof(c), o.elem_flags, o.flags};
        int rc = bpfl_map_delete_batch(h_, keys, keys_size, &count, &c);
        detail::check_batch(rc, "bpfl_map_delete_batch", count);
        return count;
    }
    // Up to `count` entries of a walk through the map; returns how many (cur.done() at the end).
    std::size_t lookup_batch(BatchCursor& cur, void* keys, std::size_t keys_size, void* values,
                             std::size_t values_size, std::size_t count, BatchOptions o = {}) const {
        return lookup_batch_(false, cur, keys, keys_size, values, values_size, count, o);
    }
    // lookup_batch, deleting the entries it reads (hash maps).
    std::size_t lookup_and_delete_batch(BatchCursor& cur, void* keys, std::size_t keys_size, void* values,
                                        std::size_t values_size, std::size_t count, BatchOptions o = {}) const {
        return lookup_batch_(true, cur, keys, keys_size, values, values_size, count, o);
    }
    // Typed forms: K and V must be the map's key and value_buf_size.
    template <class K, class V>
    std::size_t update_batch(const std::vector<K>& keys, const std::vector<V>& values, BatchOptions o = {}) const {
        batch_types_<K, V>("update_batch", true);
        if (keys.size() != values.size())
            detail::fail(EINVAL, "update_batch", "keys and values differ in number");
        return update_batch(keys.data(), keys.size() * sizeof(K), values.data(), values.size() * sizeof(V),
                            keys.size(), o);
    }
    template <class K>
    std::size_t delete_batch(const std::vector<K>& keys, BatchOptions o = {}) const {
        batch_types_<K, K>("delete_batch", false);
        return delete_batch(keys.data(), keys.size() * sizeof(K), keys.size(), o);
    }
    // Fills up to keys.size() entries (values as many).
    template <class K, class V>
    std::size_t lookup_batch(BatchCursor& cur, std::vector<K>& keys, std::vector<V>& values, BatchOptions o = {}) const {
        batch_types_<K, V>("lookup_batch", true);
        std::size_t n = std::min(keys.size(), values.size());
        return lookup_batch(cur, keys.data(), keys.size() * sizeof(K), values.data(), values.size() * sizeof(V), n, o);
    }
    template <class K, class V>
    std::size_t lookup_and_delete_batch(BatchCursor& cur, std::vector<K>& keys, std::vector<V>& values,
                                        BatchOptions o = {}) const {
        batch_types_<K, V>("lookup_and_delete_batch", true);
        std::size_t n = std::min(keys.size(), values.size());
        return lookup_and_delete_batch(cur, keys.data(), keys.size() * sizeof(K), values.data(),
                                       values.size() * sizeof(V), n, o);
    }

    // Remove every entry (hash-like maps) or zero every value (arrays).
    void clear() const { detail::check(bpfl_map_clear(h_), "bpfl_map_clear"); }
    // Pin the map at `path` on a bpffs.
    void pin(const std::string& path) const { detail::check(bpfl_map_pin(h_, path.c_str()), "bpfl_map_pin"); }

    // Slot `index` of a prog array runs `prog` on a tail call to it.
    void set_prog(std::uint32_t index, const Program& prog) const {
        detail::check(bpfl_map_set_prog(h_, index, prog.handle()), "bpfl_map_set_prog");
    }
    // `inner` at `key` of a map of maps.
    template <class K>
    void set_inner(const K& key, const MapOps& inner) const {
        detail::check_plain<K>();
        detail::check(bpfl_map_set_inner(h_, &key, sizeof(K), inner.h_), "bpfl_map_set_inner");
    }
    // Empty slot `index` of a prog array or array of maps: true if it held something.
    bool clear_slot(std::uint32_t index) const {
        int rc = bpfl_map_clear_slot(h_, index);
        if (rc == -ENOENT)
            return false;
        detail::check(rc, "bpfl_map_clear_slot");
        return true;
    }

    bpfl_map handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_.id != 0; }

private:
    template <class K, class V>
    void batch_types_(const char* fn, bool with_values) const {
        detail::check_plain<K>();
        detail::check_plain<V>();
        MapInfo i = info();
        if (i.key_size != sizeof(K) || (with_values && value_buf_size() != sizeof(V)))
            detail::fail(EINVAL, fn, "map '" + i.name + "' has " + std::to_string(i.key_size) + "-byte keys and " +
                                         std::to_string(value_buf_size()) + "-byte value buffers, not " +
                                         std::to_string(sizeof(K)) + " and " + std::to_string(sizeof(V)));
    }
    std::size_t lookup_batch_(bool del, BatchCursor& cur, void* keys, std::size_t keys_size, void* values,
                              std::size_t values_size, std::size_t count, BatchOptions o) const {
        if (cur.done_)
            return 0;
        if (cur.token_.empty())
            cur.token_.resize(batch_cursor_size());
        bpfl_map_batch_opts c{sizeof(c), o.elem_flags, o.flags};
        void* tok = cur.token_.data();
        const void* in = cur.started_ ? tok : nullptr;  // one buffer for in and out: allowed
        int rc = del ? bpfl_map_lookup_and_delete_batch(h_, in, tok, cur.token_.size(), keys, keys_size, values,
                                                        values_size, &count, &c)
                     : bpfl_map_lookup_batch(h_, in, tok, cur.token_.size(), keys, keys_size, values, values_size,
                                             &count, &c);
        if (rc == -ENOENT) {
            cur.started_ = cur.done_ = true;
            return count;
        }
        detail::check_batch(rc, del ? "bpfl_map_lookup_and_delete_batch" : "bpfl_map_lookup_batch", count);
        cur.started_ = true;
        return count;
    }

protected:
    MapOps() noexcept = default;
    explicit MapOps(bpfl_map h) noexcept : h_(h) {}
    MapOps(MapOps&& o) noexcept : h_(detail::take(o.h_)) {}
    MapOps& operator=(MapOps&& o) noexcept {
        if (this != &o)
            h_ = detail::take(o.h_);
        return *this;
    }
    MapOps(const MapOps&) = delete;
    MapOps& operator=(const MapOps&) = delete;
    ~MapOps() = default;

    bpfl_map h_{};
};

inline Link Program::attach_cgroup(int cgroup_fd, const CgroupOptions& opts) const {
    bpfl_cgroup_opts o{};
    o.sz = sizeof(o);
    o.attach_type = opts.attach_type;
    o.via = static_cast<std::uint32_t>(opts.via);
    o.flags = opts.flags;
    o.replace_prog_fd = opts.replace_prog_fd;
    bpfl_link l{};
    detail::check(bpfl_program_attach_cgroup(h_, cgroup_fd, &o, &l), "bpfl_program_attach_cgroup");
    return Link(l);
}
inline Link Program::attach_cgroup_path(const std::string& path, const CgroupOptions& opts) const {
    bpfl_cgroup_opts o{};
    o.sz = sizeof(o);
    o.attach_type = opts.attach_type;
    o.via = static_cast<std::uint32_t>(opts.via);
    o.flags = opts.flags;
    o.replace_prog_fd = opts.replace_prog_fd;
    bpfl_link l{};
    detail::check(bpfl_program_attach_cgroup_path(h_, path.c_str(), &o, &l), "bpfl_program_attach_cgroup_path");
    return Link(l);
}
inline Link Program::attach_socket(int sock_fd) const {
    bpfl_link l{};
    detail::check(bpfl_program_attach_socket(h_, sock_fd, nullptr, &l), "bpfl_program_attach_socket");
    return Link(l);
}
inline Link Program::attach_sockmap(const MapOps& map, const SockmapOptions& opts) const {
    bpfl_sockmap_opts o{};
    o.sz = sizeof(o);
    o.attach_type = opts.attach_type;
    o.via = static_cast<std::uint32_t>(opts.via);
    bpfl_link l{};
    detail::check(bpfl_program_attach_sockmap(h_, map.handle(), &o, &l), "bpfl_program_attach_sockmap");
    return Link(l);
}
inline Link Program::attach_netns(int netns_fd) const {
    bpfl_link l{};
    detail::check(bpfl_program_attach_netns(h_, netns_fd, nullptr, &l), "bpfl_program_attach_netns");
    return Link(l);
}
inline Link Program::attach_netns_path(const std::string& path) const {
    bpfl_link l{};
    detail::check(bpfl_program_attach_netns_path(h_, path.empty() ? nullptr : path.c_str(), nullptr, &l),
                  "bpfl_program_attach_netns_path");
    return Link(l);
}
inline Link Program::attach_netfilter(std::uint32_t pf, std::uint32_t hooknum, std::int32_t priority, std::uint32_t flags) const {
    bpfl_netfilter_opts o{};
    o.sz = sizeof(o);
    o.flags = flags;
    bpfl_link l{};
    detail::check(bpfl_program_attach_netfilter(h_, pf, hooknum, priority, &o, &l), "bpfl_program_attach_netfilter");
    return Link(l);
}

// The ids of the programs attached to `target_fd` (a cgroup, a network namespace, a sockmap) as `attach_type`.
inline std::vector<std::uint32_t> query_programs(int target_fd, std::uint32_t attach_type) {
    std::size_t n = 0;
    detail::check(bpfl_query_programs(target_fd, attach_type, nullptr, 0, &n), "bpfl_query_programs");
    std::vector<std::uint32_t> ids(n + 8);
    detail::check(bpfl_query_programs(target_fd, attach_type, ids.data(), ids.size(), &n), "bpfl_query_programs");
    ids.resize(n < ids.size() ? n : ids.size());
    return ids;
}

// What one hook of an interface holds (query_programs_ifindex), first to run first.
struct IfindexQuery {
    std::vector<std::uint32_t> prog_ids;
    std::vector<std::uint32_t> link_ids;  // the link holding each program (0: none)
    std::uint64_t revision = 0;           // moves with every attach and detach
};

// The programs attached to interface `ifindex` as `attach_type` (BPF_TCX_INGRESS/EGRESS,
// Linux 6.6+; BPF_NETKIT_PRIMARY/PEER, 6.7+), with their link ids and the revision.
inline IfindexQuery query_programs_ifindex(std::uint32_t ifindex, std::uint32_t attach_type) {
    IfindexQuery q;
    std::size_t n = 0;
    for (std::size_t cap = 16;; cap = n + 8) {
        q.prog_ids.assign(cap, 0);
        q.link_ids.assign(cap, 0);
        detail::check(bpfl_query_programs_ifindex(ifindex, attach_type, q.prog_ids.data(), q.link_ids.data(), cap, &n, &q.revision),
                      "bpfl_query_programs_ifindex");
        if (n <= cap)
            break;
    }
    q.prog_ids.resize(n);
    q.link_ids.resize(n);
    return q;
}

// A map of an Object (a view: valid while the object is open).
class Map : public MapOps {
public:
    Map() noexcept = default;
    explicit Map(bpfl_map h) noexcept : MapOps(h) {}
    Map(Map&&) noexcept = default;
    Map& operator=(Map&&) noexcept = default;
    ~Map() = default;

    // Initial contents of a global data map (.data/.rodata/.bss) before load.
    void set_initial_value(const void* data, std::size_t len) const {
        detail::check(bpfl_map_set_initial_value(h_, data, len), "bpfl_map_set_initial_value");
    }

    // Set-up before the object loads (bpfl::Error with EBUSY after).
    void set_max_entries(std::uint32_t n) const { detail::check(bpfl_map_set_max_entries(h_, n), "bpfl_map_set_max_entries"); }
    void set_value_size(std::uint32_t n) const { detail::check(bpfl_map_set_value_size(h_, n), "bpfl_map_set_value_size"); }
    void set_key_size(std::uint32_t n) const { detail::check(bpfl_map_set_key_size(h_, n), "bpfl_map_set_key_size"); }
    void set_map_flags(std::uint32_t f) const { detail::check(bpfl_map_set_map_flags(h_, f), "bpfl_map_set_map_flags"); }
    void set_numa_node(std::uint32_t node) const { detail::check(bpfl_map_set_numa_node(h_, node), "bpfl_map_set_numa_node"); }
    void set_inner_map_fd(int fd) const { detail::check(bpfl_map_set_inner_map_fd(h_, fd), "bpfl_map_set_inner_map_fd"); }
    void reuse_fd(int fd) const { detail::check(bpfl_map_reuse_fd(h_, fd), "bpfl_map_reuse_fd"); }
    void set_pin_path(const std::string& path) const { detail::check(bpfl_map_set_pin_path(h_, path.c_str()), "bpfl_map_set_pin_path"); }
    void set_autocreate(bool on) const { detail::check(bpfl_map_set_autocreate(h_, on), "bpfl_map_set_autocreate"); }
    bool autocreate() const {
        bool b = false;
        detail::check(bpfl_map_autocreate(h_, &b), "bpfl_map_autocreate");
        return b;
    }
    // Register a loaded struct_ops map (SEC(".struct_ops.link") or
    // SEC(".struct_ops")); destroying the link unregisters it.
    Link attach_struct_ops() const {
        bpfl_link l{};
        detail::check(bpfl_map_attach_struct_ops(h_, &l), "bpfl_map_attach_struct_ops");
        return Link(l);
    }
};

// A map opened from a bpffs pin; closed by the destructor.
class PinnedMap : public MapOps {
public:
    PinnedMap() noexcept = default;
    explicit PinnedMap(const std::string& path) {
        detail::check(bpfl_map_open_pinned(path.c_str(), &h_), "bpfl_map_open_pinned");
    }
    PinnedMap(PinnedMap&& o) noexcept = default;
    PinnedMap& operator=(PinnedMap&& o) noexcept {
        if (this != &o) {
            reset();
            MapOps::operator=(std::move(o));
        }
        return *this;
    }
    ~PinnedMap() { reset(); }

    // Close now, reporting errors (the destructor ignores them).
    void close() {
        if (h_.id)
            detail::check(bpfl_map_close(detail::take(h_)), "bpfl_map_close");
    }
    void reset() noexcept {
        if (h_.id)
            (void)bpfl_map_close(detail::take(h_));
    }
    // Give up ownership: the caller closes the returned handle with bpfl_map_close.
    bpfl_map release() noexcept { return detail::take(h_); }
};

// A BPF object file: open in the constructor, closed by the destructor (which
// detaches its links and frees its maps and programs in the kernel).
class Object {
public:
    Object() noexcept = default;
    explicit Object(const std::string& path, const OpenOptions& opts = {}) {
        bpfl_open_opts o = c_opts(opts);
        detail::check(bpfl_object_open_file(path.c_str(), &o, &h_), "bpfl_object_open_file");
    }
    // Open from memory (the bytes are copied).
    static Object from_memory(const void* buf, std::size_t len, const OpenOptions& opts = {}) {
        bpfl_open_opts o = c_opts(opts);
        bpfl_object h{};
        detail::check(bpfl_object_open_mem(buf, len, &o, &h), "bpfl_object_open_mem");
        return Object(h);
    }
    // Adopt a handle from the C API.
    explicit Object(bpfl_object h) noexcept : h_(h) {}
    Object(Object&& o) noexcept : h_(detail::take(o.h_)) {}
    Object& operator=(Object&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = detail::take(o.h_);
        }
        return *this;
    }
    Object(const Object&) = delete;
    Object& operator=(const Object&) = delete;
    ~Object() { reset(); }

    // Close now, reporting errors (the destructor ignores them).
    void close() {
        if (h_.id)
            detail::check(bpfl_object_close(detail::take(h_)), "bpfl_object_close");
    }
    void reset() noexcept {
        if (h_.id)
            (void)bpfl_object_close(detail::take(h_));
    }
    // Give up ownership: the caller closes the returned handle.
    bpfl_object release() noexcept { return detail::take(h_); }
    bpfl_object handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_.id != 0; }

    // Set global variable `var` (.rodata const volatile, .data, .bss) before load.
    template <class T>
    Object& set_rodata(const std::string& var, const T& value) {
        detail::check_plain<T>();
        return set_rodata(var, &value, sizeof(T));
    }
    Object& set_rodata(const std::string& var, const void* value, std::size_t len) {
        detail::check(bpfl_object_set_rodata(h_, var.c_str(), value, len), "bpfl_object_set_rodata");
        return *this;
    }

    // Global variable `name` (.data, .bss, .rodata, .data.*...) in place:
    // its address is stable from the first call until the object closes.
    // Before load it is the section's image (writes are the initial value),
    // after it the live map (no syscall; .rodata read-only: writing faults).
    // After load a map the kernel cannot mmap throws EOPNOTSUPP.
    MappedView variable_bytes(const std::string& name) const {
        void* p = nullptr;
        std::size_t n = 0;
        detail::check(bpfl_object_find_variable(h_, name.c_str(), &p, &n), "bpfl_object_find_variable");
        return MappedView(p, n);
    }
    // The same as a T&; sizeof(T) must be the variable's size (else EINVAL).
    template <class T>
    T& variable(const std::string& name) const {
        MappedView v = variable_bytes(name);
        if (v.size() != sizeof(T))
            detail::fail(EINVAL, "bpfl_object_find_variable", "variable '" + name + "' is " + std::to_string(v.size()) + " bytes, T is " + std::to_string(sizeof(T)));
        return v.at<T>(0);
    }

    // Create the maps and load every program. A verifier rejection throws an
    // Error whose message holds the verifier log.
    Object& load(const LoadOptions& opts = {}) {
        bpfl_load_opts o{};
        o.sz = sizeof(o);
        o.log_level = opts.log_level;
        o.kern_version = opts.kern_version;
        detail::check(bpfl_object_load(h_, &o), "bpfl_object_load");
        return *this;
    }
    // Attach every program whose section names its target; links belong to
    // the object. Returns how many were attached.
    int attach_all() { return detail::check(bpfl_object_attach_all(h_), "bpfl_object_attach_all"); }
    // Attach one program (by function name) where its section says.
    Link attach(const std::string& program_name) const { return program(program_name).attach(); }

    std::string name() const {
        char buf[256];
        detail::check(bpfl_object_name(h_, buf, sizeof(buf)), "bpfl_object_name");
        return buf;
    }
    Program program(const std::string& name) const {
        bpfl_program p{};
        detail::check(bpfl_object_find_program(h_, name.c_str(), &p), "bpfl_object_find_program");
        return Program(p);
    }
    Map map(const std::string& name) const {
        bpfl_map m{};
        detail::check(bpfl_object_find_map(h_, name.c_str(), &m), "bpfl_object_find_map");
        return Map(m);
    }
    std::vector<Program> programs() const {
        std::size_t n = 0;
        detail::check(bpfl_object_program_count(h_, &n), "bpfl_object_program_count");
        std::vector<Program> out;
        for (std::size_t i = 0; i < n; i++) {
            bpfl_program p{};
            detail::check(bpfl_object_program_at(h_, i, &p), "bpfl_object_program_at");
            out.emplace_back(p);
        }
        return out;
    }
    std::vector<Map> maps() const {
        std::size_t n = 0;
        detail::check(bpfl_object_map_count(h_, &n), "bpfl_object_map_count");
        std::vector<Map> out;
        for (std::size_t i = 0; i < n; i++) {
            bpfl_map m{};
            detail::check(bpfl_object_map_at(h_, i, &m), "bpfl_object_map_at");
            out.emplace_back(m);
        }
        return out;
    }

private:
    static bpfl_open_opts c_opts(const OpenOptions& opts) {
        bpfl_open_opts o{};
        o.sz = sizeof(o);
        o.object_name = detail::opt_cstr(opts.object_name);
        o.pin_root_path = detail::opt_cstr(opts.pin_root);
        o.btf_custom_path = detail::opt_cstr(opts.btf_custom_path);
        o.kconfig = detail::opt_cstr(opts.kconfig);
        o.kernel_log_level = opts.kernel_log_level;
        return o;
    }

    bpfl_object h_{};
};

// A ring buffer consumer (BPF_MAP_TYPE_RINGBUF): `on_record(data, size)` is
// called for each record by poll()/consume(); returning non-zero stops and is
// what poll() returns. Move-only; freed by the destructor. Independent of the
// map's Object: it may outlive it.
class RingBuffer {
public:
    using Callback = std::function<int(const void* data, std::size_t size)>;

    RingBuffer() noexcept = default;
    RingBuffer(const MapOps& map, Callback on_record) { add(map, std::move(on_record)); }
    RingBuffer(RingBuffer&& o) noexcept : h_(detail::take(o.h_)), cbs_(std::move(o.cbs_)) {}
    RingBuffer& operator=(RingBuffer&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = detail::take(o.h_);
            cbs_ = std::move(o.cbs_);
        }
        return *this;
    }
    RingBuffer(const RingBuffer&) = delete;
    RingBuffer& operator=(const RingBuffer&) = delete;
    ~RingBuffer() { reset(); }

    // Consume another ring buffer map too (one poll serves all).
    void add(const MapOps& map, Callback on_record) {
        auto cb = std::make_unique<Callback>(std::move(on_record));
        void* ctx = cb.get();
        if (h_.id)
            detail::check(bpfl_ringbuf_add(h_, map.handle(), &RingBuffer::trampoline, ctx), "bpfl_ringbuf_add");
        else
            detail::check(bpfl_ringbuf_new(map.handle(), &RingBuffer::trampoline, ctx, nullptr, &h_), "bpfl_ringbuf_new");
        cbs_.push_back(std::move(cb));
    }
    // Wait up to timeout_ms (-1: forever) and consume: records consumed, or the callback's stop value.
    int poll(int timeout_ms) { return detail::check(bpfl_ringbuf_poll(h_, timeout_ms), "bpfl_ringbuf_poll"); }
    int consume() { return detail::check(bpfl_ringbuf_consume(h_), "bpfl_ringbuf_consume"); }
    int epoll_fd() const { return detail::check(bpfl_ringbuf_epoll_fd(h_), "bpfl_ringbuf_epoll_fd"); }
    void reset() noexcept {
        if (h_.id)
            (void)bpfl_ringbuf_free(detail::take(h_));
        cbs_.clear();
    }
    bpfl_ringbuf handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_.id != 0; }

private:
    static int trampoline(void* ctx, const void* data, std::size_t size) {
        try {
            return (*static_cast<Callback*>(ctx))(data, size);
        } catch (...) {
            return -ECANCELED;  // exceptions must not cross the C library
        }
    }

    bpfl_ringbuf h_{};
    std::vector<std::unique_ptr<Callback>> cbs_;
};

// A perf buffer consumer (BPF_MAP_TYPE_PERF_EVENT_ARRAY, the map created):
// `on_sample(cpu, data, size)` is called for each sample by poll()/consume()
// (size may exceed what the program wrote by up to 7 bytes of padding);
// returning non-zero stops and is what poll() returns. `on_lost(cpu, count)`
// (may be empty) for each loss report. An exception thrown by a callback
// stops the poll and is rethrown by poll()/consume(). Move-only; freed by
// the destructor. Independent of the map's Object: it may outlive it.
class PerfBuffer {
public:
    using SampleCallback = std::function<int(int cpu, const void* data, std::size_t size)>;
    using LostCallback = std::function<void(int cpu, std::uint64_t lost)>;

    PerfBuffer() noexcept = default;
    // `page_cnt`: data pages per CPU, a power of two (0: 8).
    PerfBuffer(const MapOps& map, SampleCallback on_sample, LostCallback on_lost = {}, std::size_t page_cnt = 0)
        : st_(std::make_unique<State>()) {
        st_->sample = std::move(on_sample);
        st_->lost = std::move(on_lost);
        bpfl_perfbuf_opts o{};
        o.sz = sizeof(o);
        o.page_cnt = page_cnt;
        detail::check(bpfl_perfbuf_new(map.handle(), &PerfBuffer::on_sample, st_->lost ? &PerfBuffer::on_lost : nullptr, st_.get(), &o, &h_),
                      "bpfl_perfbuf_new");
    }
    PerfBuffer(PerfBuffer&& o) noexcept : h_(detail::take(o.h_)), st_(std::move(o.st_)) {}
    PerfBuffer& operator=(PerfBuffer&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = detail::take(o.h_);
            st_ = std::move(o.st_);
        }
        return *this;
    }
    PerfBuffer(const PerfBuffer&) = delete;
    PerfBuffer& operator=(const PerfBuffer&) = delete;
    ~PerfBuffer() { reset(); }

    // Wait up to timeout_ms (-1: forever) and read the rings: samples read, or the callback's stop value.
    int poll(int timeout_ms) { return finish(bpfl_perfbuf_poll(h_, timeout_ms), "bpfl_perfbuf_poll"); }
    // Read every ring now, without waiting.
    int consume() { return finish(bpfl_perfbuf_consume(h_), "bpfl_perfbuf_consume"); }
    int epoll_fd() const { return detail::check(bpfl_perfbuf_epoll_fd(h_), "bpfl_perfbuf_epoll_fd"); }
    // Free now, reporting errors (the destructor ignores them).
    void close() {
        if (h_.id)
            detail::check(bpfl_perfbuf_free(detail::take(h_)), "bpfl_perfbuf_free");
        st_.reset();
    }
    void reset() noexcept {
        if (h_.id)
            (void)bpfl_perfbuf_free(detail::take(h_));
        st_.reset();
    }
    bpfl_perfbuf handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_.id != 0; }

private:
    // Where the callbacks live: its address is the C context, so it stays put when the PerfBuffer moves.
    struct State {
        SampleCallback sample;
        LostCallback lost;
        std::exception_ptr error;
    };

    int finish(int rc, const char* fn) {
        if (st_ && st_->error)
            std::rethrow_exception(std::exchange(st_->error, nullptr));
        return detail::check(rc, fn);
    }
    static int on_sample(void* ctx, int cpu, const void* data, std::uint32_t size) {
        auto* st = static_cast<State*>(ctx);
        if (st->error)
            return -ECANCELED;
        try {
            return st->sample(cpu, data, size);
        } catch (...) {
            st->error = std::current_exception();  // rethrown by poll(): it must not cross the C library
            return -ECANCELED;
        }
    }
    static void on_lost(void* ctx, int cpu, std::uint64_t lost) {
        auto* st = static_cast<State*>(ctx);
        try {
            st->lost(cpu, lost);
        } catch (...) {
            if (!st->error)
                st->error = std::current_exception();
        }
    }

    bpfl_perfbuf h_{};
    std::unique_ptr<State> st_;
};

// Log levels of LogCallback.
enum class LogLevel : int { error = BPFL_LOG_ERROR, warn = BPFL_LOG_WARN, info = BPFL_LOG_INFO, debug = BPFL_LOG_DEBUG };

// Routes bpfl's log messages up to `max_level` to `fn(level, message)` for
// as long as it lives (bpfl_set_log_callback). One is active per process: a
// newer LogCallback replaces the active one (which then receives nothing
// more); destroying the active one restores the default (stderr with
// BPFL_LOG set), after any call in flight returned. The callable may be
// called from any thread that calls bpfl; an exception it throws is dropped
// (it cannot cross the C library). Move-only.
class LogCallback {
public:
    using Callback = std::function<void(LogLevel level, const std::string& message)>;

    LogCallback() noexcept = default;
    explicit LogCallback(Callback fn, LogLevel max_level = LogLevel::info) {
        auto& r = registry();
        std::lock_guard<std::mutex> g(r.m);
        id_ = ++r.next;
        int rc = bpfl_set_log_callback(&LogCallback::trampoline, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id_)),
                                       static_cast<int>(max_level));
        if (rc < 0) {
            id_ = 0;
            detail::check(rc, "bpfl_set_log_callback");
        }
        r.active = id_;
        r.fn = std::make_shared<Callback>(std::move(fn));
    }
    LogCallback(LogCallback&& o) noexcept : id_(std::exchange(o.id_, 0)) {}
    LogCallback& operator=(LogCallback&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = std::exchange(o.id_, 0);
        }
        return *this;
    }
    LogCallback(const LogCallback&) = delete;
    LogCallback& operator=(const LogCallback&) = delete;
    ~LogCallback() { reset(); }

    // Stop receiving (restoring the default if this one is active).
    void reset() noexcept {
        if (!id_)
            return;
        auto& r = registry();
        std::unique_lock<std::mutex> g(r.m);
        if (r.active == id_) {
            (void)bpfl_set_log_callback(nullptr, nullptr, BPFL_LOG_ERROR);
            r.active = 0;
            r.fn.reset();
        }
        // Calls already inside the callable finish first (unless this thread is one of them).
        if (!in_callback())
            r.done.wait(g, [&] { return r.in_flight.count(id_) == 0; });
        id_ = 0;
    }
    // Whether this one is the active callback.
    bool active() const noexcept {
        auto& r = registry();
        std::lock_guard<std::mutex> g(r.m);
        return id_ != 0 && r.active == id_;
    }
    explicit operator bool() const noexcept { return id_ != 0; }

private:
    // The C context is an id, not a pointer: a message already on its way to
    // a replaced callback finds it gone instead of freed memory.
    struct Registry {
        std::mutex m;
        std::condition_variable done;
        std::uint64_t next = 0, active = 0;
        std::shared_ptr<Callback> fn;
        std::map<std::uint64_t, int> in_flight;
    };
    static Registry& registry() {
        static Registry r;
        return r;
    }
    static bool& in_callback() {
        static thread_local bool b = false;
        return b;
    }
    static void trampoline(int level, const char* msg, void* ctx) {
        auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(ctx));
        auto& r = registry();
        std::shared_ptr<Callback> fn;
        {
            std::lock_guard<std::mutex> g(r.m);
            if (r.active != id || !r.fn)
                return;
            fn = r.fn;
            r.in_flight[id]++;
        }
        in_callback() = true;
        try {
            (*fn)(static_cast<LogLevel>(level), msg ? std::string(msg) : std::string());
        } catch (...) {
        }
        in_callback() = false;
        std::lock_guard<std::mutex> g(r.m);
        if (--r.in_flight[id] == 0)
            r.in_flight.erase(id);
        r.done.notify_all();
    }

    std::uint64_t id_ = 0;
};

// What is loaded in the kernel, system-wide (every process's programs, maps
// and links, by id): bpfl_loaded_*. Needs root (CAP_SYS_ADMIN).
struct LoadedProgram {
    std::uint32_t id = 0;
    std::uint32_t prog_type = 0;  // enum bpf_prog_type
    std::string name;             // as given at load, at most 15 bytes
    std::array<std::uint8_t, 8> tag{};
    std::uint32_t xlated_len = 0;  // bytes after the verifier's rewrites
    std::uint32_t jited_len = 0;   // 0: not JITed
    std::uint64_t load_time = 0;   // nanoseconds since boot
    std::uint32_t created_by_uid = 0;
    std::uint32_t nr_map_ids = 0;
};
struct LoadedMap {
    std::uint32_t id = 0;
    std::uint32_t map_type = 0;  // enum bpf_map_type
    std::string name;
    std::uint32_t key_size = 0, value_size = 0, max_entries = 0, map_flags = 0;
    std::uint32_t btf_id = 0;  // 0: none
};
struct LoadedLink {
    std::uint32_t id = 0;
    std::uint32_t link_type = 0;  // enum bpf_link_type
    std::uint32_t prog_id = 0;
};

namespace detail {
inline std::optional<std::uint32_t> next_id(int (*f)(std::uint32_t, std::uint32_t*), std::uint32_t id, const char* fn) {
    std::uint32_t n = 0;
    return check(f(id, &n), fn) == 1 ? std::optional<std::uint32_t>(n) : std::nullopt;
}
inline std::string name16(const char (&n)[16]) { return std::string(n, strnlen(n, sizeof(n))); }
template <class T>
std::vector<T> walk_loaded(std::optional<std::uint32_t> (*next)(std::uint32_t), T (*info)(std::uint32_t)) {
    std::vector<T> out;
    for (auto id = next(0); id; id = next(*id)) {
        try {
            out.push_back(info(*id));
        } catch (const Error& e) {
            if (e.code() != ENOENT)  // gone between its id and its info: skipped
                throw;
        }
    }
    return out;
}
}  // namespace detail

// The id of the first program after `id` (0: the first of all); nullopt after the last.
inline std::optional<std::uint32_t> loaded_program_next_id(std::uint32_t id) {
    return detail::next_id(bpfl_loaded_program_next_id, id, "bpfl_loaded_program_next_id");
}
inline std::optional<std::uint32_t> loaded_map_next_id(std::uint32_t id) {
    return detail::next_id(bpfl_loaded_map_next_id, id, "bpfl_loaded_map_next_id");
}
inline std::optional<std::uint32_t> loaded_link_next_id(std::uint32_t id) {
    return detail::next_id(bpfl_loaded_link_next_id, id, "bpfl_loaded_link_next_id");
}
// The program with kernel id `id` (Error ENOENT when there is none, any more).
inline LoadedProgram loaded_program_info(std::uint32_t id) {
    bpfl_loaded_program i{};
    i.sz = sizeof(i);
    detail::check(bpfl_loaded_program_info(id, &i), "bpfl_loaded_program_info");
    LoadedProgram p;
    p.id = i.id;
    p.prog_type = i.prog_type;
    p.name = detail::name16(i.name);
    std::copy(std::begin(i.tag), std::end(i.tag), p.tag.begin());
    p.xlated_len = i.xlated_len;
    p.jited_len = i.jited_len;
    p.load_time = i.load_time;
    p.created_by_uid = i.created_by_uid;
    p.nr_map_ids = i.nr_map_ids;
    return p;
}
inline LoadedMap loaded_map_info(std::uint32_t id) {
    bpfl_loaded_map i{};
    i.sz = sizeof(i);
    detail::check(bpfl_loaded_map_info(id, &i), "bpfl_loaded_map_info");
    LoadedMap m;
    m.id = i.id;
    m.map_type = i.map_type;
    m.name = detail::name16(i.name);
    m.key_size = i.key_size;
    m.value_size = i.value_size;
    m.max_entries = i.max_entries;
    m.map_flags = i.map_flags;
    m.btf_id = i.btf_id;
    return m;
}
inline LoadedLink loaded_link_info(std::uint32_t id) {
    bpfl_loaded_link i{};
    i.sz = sizeof(i);
    detail::check(bpfl_loaded_link_info(id, &i), "bpfl_loaded_link_info");
    LoadedLink l;
    l.id = i.id;
    l.link_type = i.link_type;
    l.prog_id = i.prog_id;
    return l;
}
// Every program, map or link in the kernel, by id.
inline std::vector<LoadedProgram> loaded_programs() { return detail::walk_loaded(loaded_program_next_id, loaded_program_info); }
inline std::vector<LoadedMap> loaded_maps() { return detail::walk_loaded(loaded_map_next_id, loaded_map_info); }
inline std::vector<LoadedLink> loaded_links() { return detail::walk_loaded(loaded_link_next_id, loaded_link_info); }

// What interface `ifindex` has attached (XDP).
inline XdpInfo xdp_query(std::uint32_t ifindex) {
    bpfl_xdp_info i{};
    i.sz = sizeof(i);
    detail::check(bpfl_xdp_query(ifindex, &i), "bpfl_xdp_query");
    XdpInfo r;
    r.attached = static_cast<bpfl_xdp_attached>(i.attached);
    r.prog_id = i.prog_id;
    r.drv_prog_id = i.drv_prog_id;
    r.skb_prog_id = i.skb_prog_id;
    r.hw_prog_id = i.hw_prog_id;
    return r;
}

// The index of network interface `name` (Error ENOENT if none).
inline std::uint32_t ifindex(const std::string& name) {
    std::uint32_t i = 0;
    detail::check(bpfl_ifindex(name.c_str(), &i), "bpfl_ifindex");
    return i;
}

}  // namespace bpfl

#endif  // BPFL_HPP
