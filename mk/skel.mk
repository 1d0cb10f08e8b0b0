# Skeletons (`bpfl gen skeleton`, docs/skeletons.md): the example of each
# language, built from a skeleton generated here from build/bpf/skel_count.o.
#
#   make skel-examples   generate the four skeletons and build the examples into build/skel/
#   make test-skel       the skeleton of every object in build/bpf compiles in every
#                        language; the examples run against the kernel, with exact values

SKEL_OUT := $(BUILD)/skel
SKEL_OBJ := $(BPF_OUT)/skel_count.o
SKEL_GO  := bindings/go/examples/skelcount
SKEL_BINS := $(SKEL_OUT)/skel_count_c $(SKEL_OUT)/skel_count_cpp $(SKEL_OUT)/skel_count_go $(SKEL_OUT)/skel_count_nim

EXTRA_TESTS += test-skel
.PHONY: skel-examples test-skel

skel-examples: $(SKEL_BINS)

$(SKEL_OUT)/c/skel_count.skel.h: $(SKEL_OBJ) $(LIBDIR)/bpfl
	@mkdir -p $(@D)
	$(LIBDIR)/bpfl gen skeleton $< --lang c -o $@
$(SKEL_OUT)/cpp/skel_count.skel.hpp: $(SKEL_OBJ) $(LIBDIR)/bpfl
	@mkdir -p $(@D)
	$(LIBDIR)/bpfl gen skeleton $< --lang cpp -o $@
$(SKEL_OUT)/nim/skel_count_skel.nim: $(SKEL_OBJ) $(LIBDIR)/bpfl
	@mkdir -p $(@D)
	$(LIBDIR)/bpfl gen skeleton $< --lang nim -o $@
$(SKEL_GO)/skel_count_bpfl.go: $(SKEL_OBJ) $(LIBDIR)/bpfl
	$(LIBDIR)/bpfl gen skeleton $< --lang go -o $@

$(SKEL_OUT)/skel_count_c: bindings/c/examples/skel_count.c $(SKEL_OUT)/c/skel_count.skel.h $(HEADER) $(LIBDIR)/libbpfl.a
	$(CC) $(CFLAGS_C) -I $(SKEL_OUT)/c $< -o $@ $(STATIC_LIBS)
$(SKEL_OUT)/skel_count_cpp: bindings/cpp/examples/skel_count.cpp $(SKEL_OUT)/cpp/skel_count.skel.hpp bindings/cpp/bpfl.hpp $(HEADER) $(LIBDIR)/libbpfl.a
	$(CXX) $(CXXFLAGS_CPP) -I $(SKEL_OUT)/cpp $< -o $@ $(STATIC_LIBS)
$(SKEL_OUT)/skel_count_go: $(SKEL_GO)/main.go $(SKEL_GO)/skel_count_bpfl.go $(wildcard $(GO_DIR)/*.go) $(HEADER) $(LIBDIR)/libbpfl.a | deps-go
	@bad=$$(gofmt -l $(SKEL_GO)) && if [ -n "$$bad" ]; then echo "skel: not gofmt-ed: $$bad" >&2; exit 1; fi
	cd $(SKEL_GO) && $(GO_ENV) $(GO) vet . && $(GO_ENV) $(GO) build -o $(CURDIR)/$@ .
$(SKEL_OUT)/skel_count_nim: bindings/nim/examples/skel_count.nim $(SKEL_OUT)/nim/skel_count_skel.nim $(NIM_SRC) $(LIBDIR)/libbpfl.a | deps-nim
	$(NIM) c $(NIM_FLAGS) -p:$(SKEL_OUT)/nim --nimcache:$(SKEL_OUT)/nimcache -o:$@ $<

test-skel: lib bpf mounts $(SKEL_BINS)
	@$(GO_ENV) GO=$(GO) NIM=$(NIM) CXX="$(CXX)" sh tests/skel/all.sh $(LIBDIR)/bpfl $(BPF_OUT) $(SKEL_OUT)/all
	@sh tests/skel/run.sh $(SKEL_OUT)

# The Go example's generated skeleton lives in its module directory.
.PHONY: clean-skel
clean: clean-skel
clean-skel:
	rm -f $(SKEL_GO)/skel_count_bpfl.go
