# C examples and the C++ header-only wrapper (bindings/cpp/bpfl.hpp).
#
#   make test-c-examples    build bindings/c/examples/*.c and run them against the kernel
#   make test-cpp           build and run tests/cpp/test_cpp.cpp (C++17, warnings are errors)

EXAMPLES_OUT := $(BUILD)/examples
CPP_OUT      := $(BUILD)/cpp
# syscount.c is the lead's demo (built by the top Makefile).
C_EXAMPLES   := getppid_count pinned xdp_count
CXXFLAGS_CPP := -std=c++17 -O2 -g -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wsign-conversion -I include -I bindings/cpp

EXTRA_TESTS += test-c-examples test-cpp
.PHONY: c-examples test-c-examples test-cpp

c-examples: $(addprefix $(EXAMPLES_OUT)/,$(C_EXAMPLES))

$(EXAMPLES_OUT)/%: bindings/c/examples/%.c $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(EXAMPLES_OUT)
	$(CC) $(CFLAGS_C) $< -o $@ $(STATIC_LIBS)

$(EXAMPLES_OUT)/pin_fixture: tests/c/pin_fixture.c $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(EXAMPLES_OUT)
	$(CC) $(CFLAGS_C) $< -o $@ $(STATIC_LIBS)

test-c-examples: lib bpf mounts c-examples $(EXAMPLES_OUT)/pin_fixture
	@sh tests/c/examples.sh $(EXAMPLES_OUT) $(BPF_OUT)

$(CPP_OUT)/test_cpp: tests/cpp/test_cpp.cpp $(wildcard tests/cpp/*.hpp) bindings/cpp/bpfl.hpp $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(CPP_OUT)
	$(CXX) $(CXXFLAGS_CPP) $< -o $@ $(STATIC_LIBS)

# The header alone, in C++17 and C++20, with g++ and (when installed) clang++-19.
$(CPP_OUT)/header_ok: bindings/cpp/bpfl.hpp $(HEADER)
	@mkdir -p $(CPP_OUT)
	@printf '#include <bpfl.hpp>\nint main() { return bpfl::version().empty(); }\n' > $(CPP_OUT)/hpp_check.cpp
	$(CXX) $(CXXFLAGS_CPP) -fsyntax-only $(CPP_OUT)/hpp_check.cpp
	$(CXX) $(filter-out -std=c++17,$(CXXFLAGS_CPP)) -std=c++20 -fsyntax-only $(CPP_OUT)/hpp_check.cpp
	@if command -v clang++-19 >/dev/null 2>&1; then echo "clang++-19 ... -fsyntax-only hpp_check.cpp"; \
	  clang++-19 $(CXXFLAGS_CPP) -fsyntax-only $(CPP_OUT)/hpp_check.cpp; fi
	@touch $@

test-cpp: lib bpf mounts $(CPP_OUT)/header_ok $(CPP_OUT)/test_cpp $(BUILD)/usdt_target
	@$(CPP_OUT)/test_cpp $(BPF_OUT); rc=$$?; \
	if [ $$rc = 77 ]; then echo "SKIPPED: C++ wrapper kernel test (needs root and bpf())"; elif [ $$rc != 0 ]; then exit $$rc; fi
