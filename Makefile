# bpfl — build, demo, tests. `make demo` and `make test` do all set-up on a
# fresh Debian machine (as root: packages, cbindgen, bpffs/tracefs mounts).

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

APT_PKGS := clang-19 llvm-19 linux-libc-dev pkg-config
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.o,$(BPF_SRCS))
# The seed's own pipeline: clang -emit-llvm | llc -march=bpf.
BPF_LLC_OBJS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.llc.o,$(filter bpf/seed_%,$(BPF_SRCS)))
RUST_SRCS := $(shell find src -name '*.rs') Cargo.toml

.PHONY: all deps mounts lib header check-header bpf demo test test-rust test-c clean

# Bindings, VM tests and benchmarks each keep their rules in mk/<topic>.mk and
# add their test target to EXTRA_TESTS.
EXTRA_TESTS :=
.DEFAULT_GOAL := all
-include mk/*.mk

all: lib bpf

# ---- set-up -----------------------------------------------------------------
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "deps: missing packages:$$missing — run 'sudo make deps' or install them" >&2; exit 1; fi; fi
	@command -v cbindgen >/dev/null 2>&1 || command -v $$HOME/.cargo/bin/cbindgen >/dev/null 2>&1 || \
	  { echo "deps: installing cbindgen"; $(CARGO) install --quiet --locked cbindgen; }

# bpffs and tracefs, where they are not mounted yet (root only; harmless otherwise).
mounts:
	@if [ "$$(id -u)" = 0 ]; then \
	  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true; \
	  [ -d /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true; \
	fi

# ---- build ------------------------------------------------------------------
lib: deps $(LIBDIR)/libbpfl.so
$(LIBDIR)/libbpfl.so $(LIBDIR)/libbpfl.a: $(RUST_SRCS)
	$(CARGO) build --release --quiet

CBINDGEN = $(shell command -v cbindgen || echo $$HOME/.cargo/bin/cbindgen)
header: deps
	$(CBINDGEN) --quiet --config cbindgen.toml --crate bpfl --output $(HEADER) 2>/dev/null || \
	  $(CBINDGEN) --config cbindgen.toml --crate bpfl --output $(HEADER)

# Fails when include/bpfl.h does not match src/ffi.
check-header: deps
	@$(CBINDGEN) --quiet --config cbindgen.toml --crate bpfl --output $(BUILD)/bpfl.h.check 2>/dev/null || \
	  $(CBINDGEN) --config cbindgen.toml --crate bpfl --output $(BUILD)/bpfl.h.check
	@cmp -s $(BUILD)/bpfl.h.check $(HEADER) || { echo "include/bpfl.h is stale: run 'make header' and commit it" >&2; diff -u $(HEADER) $(BUILD)/bpfl.h.check | head -40; exit 1; }
	@echo "include/bpfl.h is up to date"

bpf: deps $(BPF_OBJS) $(BPF_LLC_OBJS)
$(BPF_OUT)/%.o: bpf/%.bpf.c $(wildcard bpf/include/bpfl/*.h)
	@mkdir -p $(BPF_OUT)
	$(CLANG) -target bpf $(BPF_CFLAGS) -c $< -o $@
$(BPF_OUT)/%.llc.o: bpf/%.bpf.c $(wildcard bpf/include/bpfl/*.h)
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

test-rust: bpf
	BPFL_BPF_DIR=$(CURDIR)/$(BPF_OUT) $(CARGO) test --release --workspace -- --test-threads=1

$(BUILD)/test_capi: tests/c/test_capi.c $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_C) -D_GNU_SOURCE $< -o $@ $(STATIC_LIBS)

test-c: lib bpf $(BUILD)/test_capi
	@$(BUILD)/test_capi $(BPF_OUT); rc=$$?; \
	if [ $$rc = 77 ]; then echo "SKIPPED: C ABI kernel test (needs root and bpf())"; elif [ $$rc != 0 ]; then exit $$rc; fi

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
