# The corpus check (issue 10): every program of the BPF objects embedded in
# Debian's libbpf-tools, loaded alone with the tools' run-time set-up, by
# libbpf and by bpfl side by side (tests/compat/corpus.c; libbpf is linked
# into that test binary only). Fails when a program loads with libbpf and not
# with bpfl, except the known ones of tests/compat/known.txt. See docs/compat.md.
#
#   make test-compat

EXTRA_TESTS += test-compat
COMPAT_OUT  := $(BUILD)/compat
.PHONY: test-compat

$(COMPAT_OUT)/corpus: tests/compat/corpus.c $(HEADER) $(LIBDIR)/libbpfl.a | deps-bench
	@mkdir -p $(COMPAT_OUT)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I include $< -o $@ $(STATIC_LIBS) -lbpf

test-compat: lib bench-objs mounts $(COMPAT_OUT)/corpus
	@$(COMPAT_OUT)/corpus $(BENCH_TOOLS) tests/compat/known.txt > $(COMPAT_OUT)/table.md; rc=$$?; \
	cat $(COMPAT_OUT)/table.md; [ $$rc = 77 ] && exit 0; exit $$rc
