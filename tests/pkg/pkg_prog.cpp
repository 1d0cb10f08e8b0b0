// The C++ wrapper from an installed bpfl (`#include <bpfl.hpp>`, pkg-config only):
// exact getppid() count from seed_tp.o.   pkg_prog_cpp SEED_TP.O N
#include <bpfl.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    if (argc != 3)
        return 2;
    if (geteuid() != 0)
        return 77;
    const long n = std::atol(argv[2]);
    try {
        bpfl::Object obj(argv[1]);
        obj.load();
        obj.attach_all();
        for (long i = 0; i < n; i++)
            (void)getppid();
        auto count = obj.map("per_pid").get<std::uint32_t, std::uint64_t>(static_cast<std::uint32_t>(getpid()));
        std::cout << "counted: " << count.value_or(0) << " of " << n << "\n";
        return count.value_or(0) == static_cast<std::uint64_t>(n) ? 0 : 1;
    } catch (const bpfl::Error& e) {
        std::cerr << "pkg_prog_cpp: " << e.what() << "\n";
        return e.code() == EPERM ? 77 : 1;
    }
}
