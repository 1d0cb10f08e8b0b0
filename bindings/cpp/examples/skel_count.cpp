// skel_count: the skeleton example in C++, over a header `bpfl gen skeleton
// --lang cpp` makes of build/bpf/skel_count.o (see docs/skeletons.md):
//
//   bpfl gen skeleton build/bpf/skel_count.o --lang cpp -o skel_count.skel.hpp
//   c++ -std=c++17 -I include -I bindings/cpp -I . skel_count.cpp target/release/libbpfl.a -lpthread -ldl -lm -lrt
//   sudo ./a.out 25
//
// The same steps and output as bindings/c/examples/skel_count.c: the .rodata
// filter set before load, .data's step set after it, N getppid() calls (and
// a child's N, filtered out), then .bss's total, the counts map and the ring
// buffer's typed events.
#include "skel_count.skel.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 10;
    auto tgid = static_cast<std::uint32_t>(getpid());
    try {
        skel_count::skel s;
        s.rodata->target_tgid = tgid;  // before load: the program's constant
        s.load().attach();
        s.data->step = 3;  // after load: the live map
        pid_t child = fork();
        if (child == 0) {
            for (int i = 0; i < n; i++)
                getppid();
            _exit(0);
        }
        waitpid(child, nullptr, 0);
        for (int i = 0; i < n; i++)
            getppid();
        std::cout << "calls: " << n << "\n";
        auto bss = s.maps.bss.get<std::uint32_t, skel_count::skel_count__bss>(0);
        std::cout << "total: " << s.bss->total << " (.bss map: " << (bss ? bss->total : 0) << ")\n";
        auto c = s.maps.counts.get<skel_count::counts_key, skel_count::counts_value>(tgid);
        std::cout << "counts: " << (c ? c->calls : 0) << " calls, last step " << (c ? c->last_step : 0) << "\n";
        std::uint64_t events = 0, seq_sum = 0, bad = 0;
        bpfl::RingBuffer rb(s.maps.events, [&](const void* data, std::size_t size) {
            skel_count::event e{};
            if (!skel_count::from_bytes(data, size, e)) {
                bad++;
                return 0;
            }
            events++;
            seq_sum += e.stamp.seq;
            if (e.tgid != tgid || e.tag != 0xab || e.stamp.kind != 7 || (e.flags_cpu_lo & 7) != 5 ||
                e.u.total != e.stamp.seq || e.comm[0] == 0 || e.task == 0)
                bad++;
            return 0;
        });
        rb.consume();
        std::cout << "events: " << events << ", seq sum " << seq_sum << ", fields " << (bad ? "BAD" : "ok") << "\n";
    } catch (const bpfl::Error& e) {
        std::cerr << "skel_count: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
