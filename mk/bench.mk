# Benchmarks (issue 6): bpfl against libbpf and the raw bpf() syscall. Timing
# is reported, never asserted, so `make test` does not run them. See docs/benchmarks.md.
#
#   make bench         the full run (about a minute): prints the table, keeps it in build/bench/results.md
#   make bench-smoke   a quick run (fewer repetitions, 100k-entry map): does it all still work
#
# libbpf is linked only into the benchmark programs, never into bpfl. The
# libbpf-tools objects are cut out of Debian's libbpf-tools binaries.

# libbpf-tools is read with dpkg -L, so it is checked as a package.
NEED_BENCH = libbpf-dev=/usr/include/bpf/libbpf.h libbpf-tools= bpftool=
NEED_ALL  += $(NEED_BENCH)
BENCH_OUT   := $(BUILD)/bench
BENCH_TOOLS := $(BENCH_OUT)/tools
BENCH_BIN   := $(BENCH_OUT)/bench

.PHONY: bench bench-smoke bench-build bench-objs bench-iter deps-bench

deps-bench:
	@$(NEED) deps-bench $(NEED_BENCH)

$(BENCH_OUT)/extract_bpf: tests/bench/extract_bpf.c
	@mkdir -p $(BENCH_OUT)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $< -o $@

# bench.c #includes the other tests/bench/bench_*.c (one unit: they share its helpers).
$(BENCH_BIN): tests/bench/bench.c $(wildcard tests/bench/bench_*.c) $(HEADER) $(LIBDIR)/libbpfl.a | deps-bench
	@mkdir -p $(BENCH_OUT)
	$(CC) $(CFLAGS_C) $< -o $@ $(STATIC_LIBS) -lbpf

# The BPF objects embedded in each /usr/sbin binary of libbpf-tools (symlinks resolved, duplicates dropped).
bench-objs: deps-bench $(BENCH_OUT)/extract_bpf
	@rm -rf $(BENCH_TOOLS) && mkdir -p $(BENCH_TOOLS)
	@$(BENCH_OUT)/extract_bpf $(BENCH_TOOLS) $$(dpkg -L libbpf-tools | grep '^/usr/sbin/.' | xargs -n1 readlink -f | sort -u) | tail -1

# Benchmark 4's experiment (a BPF iterator, loaded with libbpf) needs the kernel's
# BTF as a header; without it the benchmark reports the experiment as not run.
bench-iter: deps-bench deps-bpf
	@mkdir -p $(BENCH_OUT)
	@{ [ -s $(BENCH_OUT)/vmlinux.h ] || bpftool btf dump file /sys/kernel/btf/vmlinux format c > $(BENCH_OUT)/vmlinux.h; } && \
	$(CLANG) -target bpf -g -O2 -Wall -I $(BENCH_OUT) -I $(ARCH_INC) -c tests/bench/iter_dump.bpf.c -o $(BENCH_OUT)/iter_dump.o || \
	{ rm -f $(BENCH_OUT)/vmlinux.h $(BENCH_OUT)/iter_dump.o; echo "bench: no kernel BTF: the iterator experiment will be skipped"; }

bench-build: lib bpf bench-objs bench-iter $(BENCH_BIN)

bench: bench-build mounts
	@if [ "$$(id -u)" != 0 ]; then echo "the benchmarks load BPF programs: run them as root (sudo make bench)" >&2; exit 1; fi
	@sh mk/startup-order.sh check $(LIBDIR)/libbpfl.a src/startup.order
	@$(BENCH_BIN) $(BPF_OUT) $(BENCH_TOOLS) > $(BENCH_OUT)/results.md; rc=$$?; cat $(BENCH_OUT)/results.md; exit $$rc

bench-smoke: bench-build mounts
	@if [ "$$(id -u)" != 0 ]; then echo "SKIPPED: bench-smoke loads BPF programs (needs root)"; exit 0; fi
	@$(BENCH_BIN) --quick $(BPF_OUT) $(BENCH_TOOLS) > $(BENCH_OUT)/smoke.md; rc=$$?; \
	if [ $$rc = 77 ]; then cat $(BENCH_OUT)/smoke.md; exit 0; fi; \
	[ $$rc = 0 ] || exit $$rc; sed -n '/^| benchmark/,/targets met/p' $(BENCH_OUT)/smoke.md; echo "bench-smoke: ok (full table: $(BENCH_OUT)/smoke.md)"

# ---- cost as work grows (issue 13): generated objects of 1 to 1,000 programs ----
# tests/bench/gen_growth.c writes the BPF C (N programs over N/10 maps) into
# build/bench/growth/, compiled like build/bpf; bench_growth.c times them there.
GROWTH_DIR   := $(BENCH_OUT)/growth
GROWTH_SIZES := 1 10 100 1000
GROWTH_SRCS  := $(foreach n,$(GROWTH_SIZES),$(GROWTH_DIR)/growth_$(n).bpf.c)
.PHONY: bench-growth

$(BENCH_OUT)/gen_growth: tests/bench/gen_growth.c
	@mkdir -p $(BENCH_OUT)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $< -o $@

$(GROWTH_DIR)/growth_%.bpf.c: $(BENCH_OUT)/gen_growth
	@mkdir -p $(GROWTH_DIR)
	$(BENCH_OUT)/gen_growth $* $@

$(GROWTH_DIR)/growth_%.o: $(GROWTH_DIR)/growth_%.bpf.c bpf/include/bpfl/bpf_helpers.h | deps-bpf
	$(CLANG) -target bpf $(BPF_CFLAGS) -c $< -o $@

bench-growth: $(GROWTH_SRCS) $(GROWTH_SRCS:.bpf.c=.o)
bench-build: bench-growth

# Cold start (issue 13; tests/bench/bench_cold.c): one object opened (and
# loaded) in a fresh process, by each library, linked as Debian's libbpf-tools
# binaries are: libbpf (and bpfl) static, libelf and libz shared.
COLD_BINS := $(BENCH_OUT)/cold_bpfl $(BENCH_OUT)/cold_libbpf
$(BENCH_OUT)/cold_bpfl: tests/bench/cold_bpfl.c tests/bench/cold_common.h $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(BENCH_OUT)
	$(CC) $(CFLAGS_C) $< -o $@ $(STATIC_LIBS)
$(BENCH_OUT)/cold_libbpf: tests/bench/cold_libbpf.c tests/bench/cold_common.h | deps-bench
	@mkdir -p $(BENCH_OUT)
	$(CC) $(CFLAGS_C) $< -o $@ -Wl,-Bstatic -lbpf -Wl,-Bdynamic -lelf -lz
bench-build: $(COLD_BINS)

# Re-record src/startup.order (the functions a start runs, which `make lib`
# groups in libbpfl.a and build.rs in libbpfl.so: mk/startup-order.sh). Run it
# after changes to the open/load path and commit the list. It trains on our
# own objects (build/bpf) only, so that the libbpf-tools objects the cold-start
# benchmark measures are ones it never saw.
.PHONY: startup-order
startup-order: lib bpf $(BENCH_OUT)/cold_bpfl mounts
	@$(NEED) startup-order valgrind=valgrind
	@if [ "$$(id -u)" != 0 ]; then echo "startup-order loads BPF programs: run it as root" >&2; exit 1; fi
	sh mk/startup-order.sh record src/startup.order $(BENCH_OUT)/cold_bpfl $(BPF_OUT)/*.o
