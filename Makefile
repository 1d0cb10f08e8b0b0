# bpfl — build, demo, tests. `make demo` and `make test` do all set-up on a
# fresh Debian machine (as root: packages, cbindgen, bpffs/tracefs mounts).
#
# Each target sets up only what it uses, so `make` (library + BPF objects)
# needs only cargo, clang-19 and llvm-19, root or not:
#   lib            cargo
#   bpf            clang-19, llc-19 (llvm-19), linux/bpf.h (linux-libc-dev)
#   header         cbindgen (installed with cargo when missing)
#   test-nim, nim  nim          (deps-nim)     test-go, go-build  go  (deps-go)
#   vmtest         qemu, busybox-static, cpio (deps-vm)
#   bench*         libbpf-dev, libbpf-tools, bpftool (deps-bench)
#   test-pkg       pkg-config, binutils (deps-pkg)
# A deps-* target installs its part with apt as root, else says what is
# missing (mk/need.sh); `make deps` does every part at once.

CLANG    ?= clang-19
LLC      ?= llc-19
CARGO    ?= cargo
CC       ?= cc
CXX      ?= c++
BUILD    := build
BPF_OUT  := $(BUILD)/bpf
LIBDIR   := target/release
HEADER   := include/bpfl.h
ARCH_INC := /usr/include/$(shell uname -m)-linux-gnu
BPF_CFLAGS := -g -O2 -Wall -Werror -I bpf/include -I $(ARCH_INC)
# Link a C program against the static library: no LD_LIBRARY_PATH needed.
STATIC_LIBS := $(LIBDIR)/libbpfl.a -lpthread -ldl -lm -lrt
CFLAGS_C := -std=c11 -O2 -g -Wall -Wextra -Werror -I include

# PACKAGE=CHECK pairs for mk/need.sh: a command, a header, or empty (the package).
NEED_BPF  = clang-19=$(CLANG) llvm-19=$(LLC) linux-libc-dev=/usr/include/linux/bpf.h
# The kernel tests' helpers: a <sys/sdt.h> USDT target, ip/tc for the network tests.
NEED_TESTS = systemtap-sdt-dev=$(ARCH_INC)/sys/sdt.h iproute2=ip
# Every part's list, for `make deps`; mk/*.mk add theirs.
NEED_ALL  = $(NEED_BPF) $(NEED_TESTS)
NEED      := sh mk/need.sh
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.o,$(BPF_SRCS))
# The seed's own pipeline: clang -emit-llvm | llc -march=bpf.
BPF_LLC_OBJS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.llc.o,$(filter bpf/seed_%,$(BPF_SRCS)))
RUST_SRCS := $(shell find src -name '*.rs' -o -name Cargo.toml) Cargo.toml

.PHONY: all deps deps-lib deps-bpf deps-header mounts lib header check-header bpf demo test test-rust test-c clean

# Bindings, VM tests and benchmarks each keep their rules in mk/<topic>.mk,
# add their test target to EXTRA_TESTS and their packages to NEED_ALL.
EXTRA_TESTS :=
.DEFAULT_GOAL := all
-include mk/*.mk

all: lib bpf

# ---- set-up -----------------------------------------------------------------
# Everything every target may need, in one apt run (root), then cbindgen.
deps: deps-header
	@$(NEED) deps $(NEED_ALL)

deps-lib:
	@command -v $(CARGO) >/dev/null 2>&1 || { echo "make lib needs cargo (Rust 1.70 or newer: https://rustup.rs, or Debian's cargo)" >&2; exit 1; }

deps-bpf:
	@$(NEED) deps-bpf $(NEED_BPF)

deps-header: deps-lib
	@command -v cbindgen >/dev/null 2>&1 || [ -x $(CBINDGEN) ] || \
	  { echo "deps-header: installing cbindgen with cargo"; $(CARGO) install --quiet --locked cbindgen; }

# bpffs and tracefs, where they are not mounted yet (root only; harmless otherwise).
mounts:
	@if [ "$$(id -u)" = 0 ]; then \
	  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true; \
	  [ -d /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true; \
	fi

# ---- build ------------------------------------------------------------------
# The start-up functions are grouped on every `make lib` (mk/startup-order.sh),
# not only when make rebuilds: a cargo build run by hand leaves an ungrouped
# archive that make takes as up to date. On a grouped archive it does nothing.
lib: $(LIBDIR)/libbpfl.so
	@sh mk/startup-order.sh apply $(LIBDIR)/libbpfl.a src/startup.order
$(LIBDIR)/libbpfl.so $(LIBDIR)/libbpfl.a: $(RUST_SRCS) build.rs src/startup.order | deps-lib
	$(CARGO) build --release --quiet
	@sh mk/startup-order.sh apply $(LIBDIR)/libbpfl.a src/startup.order

CBINDGEN = $(shell command -v cbindgen || echo $$HOME/.cargo/bin/cbindgen)
header: deps-header
	$(CBINDGEN) --quiet --config cbindgen.toml --crate bpfl --output $(HEADER) 2>/dev/null || \
	  $(CBINDGEN) --config cbindgen.toml --crate bpfl --output $(HEADER)

# Fails when include/bpfl.h does not match src/ffi.
check-header: deps-header
	@$(CBINDGEN) --quiet --config cbindgen.toml --crate bpfl --output $(BUILD)/bpfl.h.check 2>/dev/null || \
	  $(CBINDGEN) --config cbindgen.toml --crate bpfl --output $(BUILD)/bpfl.h.check
	@cmp -s $(BUILD)/bpfl.h.check $(HEADER) || { echo "include/bpfl.h is stale: run 'make header' and commit it" >&2; diff -u $(HEADER) $(BUILD)/bpfl.h.check | head -40; exit 1; }
	@echo "include/bpfl.h is up to date"

bpf: $(BPF_OBJS) $(BPF_LLC_OBJS) $(BPF_OUT)/legacy_linked.o
# A `maps` section linked from two objects, as `bpftool gen object` makes it.
$(BPF_OUT)/legacy_linked.o: $(BPF_OUT)/legacy_link_a.o $(BPF_OUT)/legacy_link_b.o
	bpftool gen object $@ $^
$(BPF_OUT)/%.o: bpf/%.bpf.c $(wildcard bpf/include/bpfl/*.h) $(wildcard bpf/*.h) | deps-bpf
	@mkdir -p $(BPF_OUT)
	$(CLANG) -target bpf $(BPF_CFLAGS) -c $< -o $@
$(BPF_OUT)/%.llc.o: bpf/%.bpf.c $(wildcard bpf/include/bpfl/*.h) $(wildcard bpf/*.h) | deps-bpf
	@mkdir -p $(BPF_OUT)
	$(CLANG) $(BPF_CFLAGS) -D__BPF_TRACING__ -emit-llvm -c $< -o - | $(LLC) -march=bpf -filetype=obj -o $@

$(BUILD)/syscount: bindings/c/examples/syscount.c $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_C) $< -o $@ $(STATIC_LIBS)

# ---- the demo ---------------------------------------------------------------
demo: all mounts $(BUILD)/syscount
	@if [ "$$(id -u)" != 0 ]; then echo "the demo loads BPF programs: run it as root (sudo make demo)" >&2; exit 1; fi
	$(BUILD)/syscount $(BPF_OUT)/syscount.o $${SECONDS_TO_RUN:-5}

# ---- tests ------------------------------------------------------------------
test: all mounts check-header test-header test-rust test-c $(EXTRA_TESTS)

# The header compiles as C11 and C++17 with every warning an error.
test-header: $(HEADER)
	@mkdir -p $(BUILD)
	@printf '#include <bpfl.h>\nint main(void) { return bpfl_version()[0] == 0; }\n' > $(BUILD)/header_check.c
	$(CC) -std=c11 -Wall -Wextra -Werror -pedantic -I include -c $(BUILD)/header_check.c -o $(BUILD)/header_check_c.o
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic -I include -x c++ -c $(BUILD)/header_check.c -o $(BUILD)/header_check_cpp.o

# The USDT test's target (tests/kernel/usdt.rs): sys/sdt.h from systemtap-sdt-dev.
$(BUILD)/usdt_target: tests/usdt/usdt_target.c
	@$(NEED) usdt_target $(NEED_TESTS)
	@mkdir -p $(BUILD)
	$(CC) -O1 -g -Wall -Werror $< -o $@

test-rust: bpf $(BUILD)/usdt_target
	BPFL_BPF_DIR=$(CURDIR)/$(BPF_OUT) $(CARGO) test --release --workspace -- --test-threads=1

$(BUILD)/test_capi: tests/c/test_capi.c $(wildcard tests/c/*.h) $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_C) -D_GNU_SOURCE $< -o $@ $(STATIC_LIBS)

test-c: lib bpf $(BUILD)/test_capi $(BUILD)/usdt_target
	@$(BUILD)/test_capi $(BPF_OUT); rc=$$?; \
	if [ $$rc = 77 ]; then echo "SKIPPED: C ABI kernel test (needs root and bpf())"; elif [ $$rc != 0 ]; then exit $$rc; fi

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
