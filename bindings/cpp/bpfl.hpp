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
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
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
    std::string object_name;  // empty: from the file name
    std::string pin_root;     // empty: /sys/fs/bpf
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

// What Map and PinnedMap share: typed access to a map's entries.
// K and V must be trivially copyable and of the map's key and value size
// (else bpfl::Error with EINVAL).
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

    // Remove every entry (hash-like maps) or zero every value (arrays).
    void clear() const { detail::check(bpfl_map_clear(h_), "bpfl_map_clear"); }
    // Pin the map at `path` on a bpffs.
    void pin(const std::string& path) const { detail::check(bpfl_map_pin(h_, path.c_str()), "bpfl_map_pin"); }

    bpfl_map handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_.id != 0; }

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

}  // namespace bpfl

#endif  // BPFL_HPP
