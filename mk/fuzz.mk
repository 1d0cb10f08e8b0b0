# Fuzzing (cargo-fuzz, nightly; not in `make test`). `make test` replays the
# checked-in corpus and past crashes on stable instead (test-rust:
# src/obj/tests/fuzz_replay.rs).
#   make fuzz              every target, FUZZ_SECONDS each (one core)
#   make fuzz-seed         seeds from build/bpf and the libbpf-tools objects
#   make fuzz-cmin         minimise the checked-in corpus (tests/fuzz/corpus)
# A crash leaves its input in build/fuzz/artifacts/TARGET/: fix it, then copy
# the input to tests/fuzz/regressions/TARGET/ so that `make test` replays it.

FUZZ_SECONDS ?= 180
FUZZ_TARGETS := object btf btf_ext
FUZZ_DIR := tests/fuzz
FUZZ_OUT := $(BUILD)/fuzz
CARGO_FUZZ = $(CARGO) +nightly fuzz

.PHONY: fuzz fuzz-seed fuzz-cmin deps-fuzz

deps-fuzz:
	@$(CARGO) +nightly --version >/dev/null 2>&1 || { echo "make fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2; exit 1; }
	@$(CARGO) fuzz --help >/dev/null 2>&1 || { echo "deps-fuzz: installing cargo-fuzz"; $(CARGO) install --quiet cargo-fuzz; }

fuzz-seed: bpf
	@[ -d $(BUILD)/bench/tools ] || $(MAKE) --no-print-directory bench-objs || echo "fuzz-seed: no libbpf-tools objects, seeding with build/bpf only"
	@rm -rf $(FUZZ_OUT)/seeds
	@sh $(FUZZ_DIR)/seed.sh $(FUZZ_OUT)/seeds $(BPF_OUT)/*.o $(wildcard $(BUILD)/bench/tools/*.o)

# Every target for FUZZ_SECONDS, one after the other, one process each. New
# inputs go to build/fuzz/corpus (the checked-in corpus is read only).
fuzz: deps-fuzz fuzz-seed
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_OUT)/corpus/$$t $(FUZZ_OUT)/artifacts/$$t; \
	  echo "== fuzz target $$t for $(FUZZ_SECONDS) s"; \
	  $(CARGO_FUZZ) run --fuzz-dir $(FUZZ_DIR) $$t $(FUZZ_OUT)/corpus/$$t $(FUZZ_DIR)/corpus/$$t $(FUZZ_OUT)/seeds/$$t \
	    -- -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(CURDIR)/$(FUZZ_OUT)/artifacts/$$t/ -print_final_stats=1 \
	    > $(FUZZ_OUT)/$$t.log 2>&1; rc=$$?; \
	  grep -E '^(#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)' $(FUZZ_OUT)/$$t.log; \
	  [ $$rc = 0 ] || { echo "fuzz target $$t crashed: see $(FUZZ_OUT)/$$t.log and $(FUZZ_OUT)/artifacts/$$t/" >&2; exit 1; }; \
	done

# Shrinks the checked-in corpus to the inputs that add coverage (libFuzzer's
# merge), then keeps the smallest of them within FUZZ_CORPUS_KB per target:
# the repository stays small; `make fuzz` starts from every seed anyway.
FUZZ_CORPUS_KB ?= 120
fuzz-cmin: deps-fuzz fuzz-seed
	@for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_OUT)/cmin/$$t && mkdir -p $(FUZZ_OUT)/cmin/$$t && \
	  $(CARGO_FUZZ) run --fuzz-dir $(FUZZ_DIR) $$t $(FUZZ_OUT)/cmin/$$t $(FUZZ_DIR)/corpus/$$t $(FUZZ_OUT)/seeds/$$t -- -merge=1 >/dev/null 2>&1 && \
	  rm -rf $(FUZZ_DIR)/corpus/$$t && mkdir -p $(FUZZ_DIR)/corpus/$$t && total=0 && \
	  for f in $$(ls -Sr $(FUZZ_OUT)/cmin/$$t); do \
	    sz=$$(( $$(stat -c %s $(FUZZ_OUT)/cmin/$$t/$$f) / 1024 + 1 )); \
	    [ $$((total + sz)) -le $(FUZZ_CORPUS_KB) ] || break; \
	    total=$$((total + sz)); cp $(FUZZ_OUT)/cmin/$$t/$$f $(FUZZ_DIR)/corpus/$$t/; \
	  done && \
	  echo "$$t: $$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) of $$(ls $(FUZZ_OUT)/cmin/$$t | wc -l) inputs kept, $$(du -sk $(FUZZ_DIR)/corpus/$$t | cut -f1) kB"; \
	done

# The replay in a debug build too: with overflow checks, as the fuzzer runs
# (the release test in test-rust replays without them). Seconds: the pure
# crate has no dependency.
EXTRA_TESTS += test-fuzz-replay
.PHONY: test-fuzz-replay
test-fuzz-replay:
	BPFL_BPF_DIR=$(CURDIR)/$(BPF_OUT) $(CARGO) test --quiet -p bpfl-obj --test fuzz_replay
