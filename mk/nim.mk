# Nim bindings (bindings/nim): the seed's nimbpf API and the idiomatic bpfl
# module, their kernel tests and the ovfslat example. See bindings/nim/README.md.
#
#   make test-nim     build and run the Nim tests (root: real kernel)
#   make nim          build the Nim tests and example into build/nim/
#   make nim-demo     run the example tracer for SECONDS_TO_RUN (default 5)

NEED_NIM  = nim=$(NIM)
NEED_ALL += $(NEED_NIM)
EXTRA_TESTS += test-nim

NIM       ?= nim
NIM_OUT   := $(BUILD)/nim
NIM_SRC   := $(wildcard bindings/nim/src/*.nim bindings/nim/src/bpfl/*.nim bindings/nim/compat/*.nim)
NIM_FLAGS := --hints:off --verbosity:0 -d:release -p:bindings/nim/src -p:bindings/nim/compat
NIM_BINS  := $(NIM_OUT)/test_nimbpf $(NIM_OUT)/test_bpfl $(NIM_OUT)/test_bpfl_orc \
             $(NIM_OUT)/boot_only $(NIM_OUT)/ovfslat $(NIM_OUT)/xdpcount $(NIM_OUT)/test_kinds $(NIM_OUT)/test_net2 $(NIM_OUT)/test_loaded $(NIM_OUT)/test_batch

.PHONY: nim test-nim nim-demo deps-nim

deps-nim:
	@$(NEED) deps-nim $(NEED_NIM)

nim: deps-nim lib bpf $(NIM_BINS)

# layout.c includes bpfl.h, which Nim's C cache does not track: a changed
# header starts the test's cache afresh.
$(NIM_OUT)/%: bindings/nim/tests/%.nim bindings/nim/tests/harness.nim bindings/nim/tests/layout.c bindings/nim/tests/batch_layout.c $(NIM_SRC) $(HEADER) $(LIBDIR)/libbpfl.a | deps-nim
	@mkdir -p $(NIM_OUT)
	@rm -rf $(NIM_OUT)/cache/$*
	$(NIM) c $(NIM_FLAGS) --nimcache:$(NIM_OUT)/cache/$* -o:$@ $<

# The same test with Nim's ORC memory management (destructors under both).
$(NIM_OUT)/test_bpfl_orc: bindings/nim/tests/test_bpfl.nim bindings/nim/tests/harness.nim bindings/nim/tests/layout.c $(NIM_SRC) $(HEADER) $(LIBDIR)/libbpfl.a | deps-nim
	@mkdir -p $(NIM_OUT)
	@rm -rf $(NIM_OUT)/cache/test_bpfl_orc
	$(NIM) c $(NIM_FLAGS) --gc:orc --nimcache:$(NIM_OUT)/cache/test_bpfl_orc -o:$@ $<

$(NIM_OUT)/ovfslat: bindings/nim/examples/ovfslat.nim $(NIM_SRC) $(LIBDIR)/libbpfl.a | deps-nim
	@mkdir -p $(NIM_OUT)
	$(NIM) c $(NIM_FLAGS) --nimcache:$(NIM_OUT)/cache/ovfslat -o:$@ $<

$(NIM_OUT)/xdpcount: bindings/nim/examples/xdpcount.nim $(NIM_SRC) $(LIBDIR)/libbpfl.a | deps-nim
	@mkdir -p $(NIM_OUT)
	$(NIM) c $(NIM_FLAGS) --nimcache:$(NIM_OUT)/cache/xdpcount -o:$@ $<

test-nim: deps-nim lib bpf mounts $(NIM_BINS) $(BUILD)/usdt_target
	@fail=0; for t in test_bpfl test_bpfl_orc test_kinds test_net2 test_loaded test_batch; do \
	  $(NIM_OUT)/$$t $(BPF_OUT); rc=$$?; \
	  if [ $$rc = 77 ]; then echo "SKIPPED: Nim bpfl kernel tests (needs root and bpf())"; \
	  elif [ $$rc != 0 ]; then fail=1; fi; done; \
	$(NIM_OUT)/test_nimbpf $(BPF_OUT) $(NIM_OUT); rc=$$?; \
	if [ $$rc = 77 ]; then echo "SKIPPED: Nim nimbpf kernel tests (needs root and bpf())"; \
	elif [ $$rc != 0 ]; then fail=1; fi; \
	exit $$fail

nim-demo: nim mounts
	@if [ "$$(id -u)" != 0 ]; then echo "the demo loads BPF programs: run it as root" >&2; exit 1; fi
	$(NIM_OUT)/ovfslat $(BPF_OUT)/ovfs_latency.o --duration=$$(( $${SECONDS_TO_RUN:-5} * 1000 ))
