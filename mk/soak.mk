# Long runs, not in `make test`:
#   make soak [SOAK_CYCLES=10000]   open/load/attach/map ops/close cycles of a real
#                                   object; fds, RSS and BPF objects every 1,000
#   make stress [STRESS_ROUNDS=100] use while closing, many loaders at once, poll
#                                   while freeing (tests/soak/stress.c)
#   make tsan-stress                the same under ThreadSanitizer: the C side with
#                                   -fsanitize=thread, the Rust library with nightly
#                                   -Zsanitizer=thread (std itself is not rebuilt:
#                                   -Zbuild-std needs rust-src, absent offline,
#                                   hence -Cunsafe-allow-abi-mismatch=sanitizer)

SOAK_CYCLES ?= 10000
STRESS_ROUNDS ?= 100
SOAK_OUT := $(BUILD)/soak
TSAN_CC ?= clang-19
HOST_TRIPLE = $(shell rustc -vV | sed -n 's/^host: //p')

.PHONY: soak stress tsan-stress

$(SOAK_OUT)/soak: tests/soak/soak.c tests/soak/common.h $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(SOAK_OUT)
	$(CC) $(CFLAGS_C) -D_GNU_SOURCE $< -o $@ $(STATIC_LIBS)

$(SOAK_OUT)/stress: tests/soak/stress.c tests/soak/common.h $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(SOAK_OUT)
	$(CC) $(CFLAGS_C) -D_GNU_SOURCE $< -o $@ $(STATIC_LIBS)

soak: lib bpf mounts $(SOAK_OUT)/soak
	$(SOAK_OUT)/soak $(BPF_OUT) $(SOAK_CYCLES)

stress: lib bpf mounts $(SOAK_OUT)/stress
	$(SOAK_OUT)/stress $(BPF_OUT) $(STRESS_ROUNDS)

tsan-stress: bpf mounts
	@command -v $(TSAN_CC) >/dev/null || { echo "tsan-stress needs $(TSAN_CC) (its ThreadSanitizer runtime)" >&2; exit 1; }
	RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" $(CARGO) +nightly build --quiet --release --lib --target $(HOST_TRIPLE) --target-dir target/tsan
	@mkdir -p $(SOAK_OUT)
	$(TSAN_CC) -std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I include -fsanitize=thread -fno-omit-frame-pointer \
	  tests/soak/stress.c -o $(SOAK_OUT)/stress-tsan target/tsan/$(HOST_TRIPLE)/release/libbpfl.a -lpthread -ldl -lm -lrt
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 print_suppressions=1 suppressions=$(CURDIR)/tests/soak/tsan.supp $(TSAN_OPTIONS)" $(SOAK_OUT)/stress-tsan $(BPF_OUT) $(STRESS_ROUNDS)
