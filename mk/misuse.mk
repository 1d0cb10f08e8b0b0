# The C ABI misuse suite: NULLs, wrong sizes, bad handles, close races and
# re-entrant callbacks, under AddressSanitizer (tests/c/misuse.sh picks the mode).
#
#   make test-misuse

EXTRA_TESTS += test-misuse
.PHONY: test-misuse

test-misuse: lib bpf mounts
	@CC=$(CC) sh tests/c/misuse.sh $(BUILD)/misuse $(BPF_OUT)
