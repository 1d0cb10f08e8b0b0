# Go bindings (bindings/go): a cgo package over the C ABI, linked statically
# against target/release/libbpfl.a. See bindings/go/README.md.
#
#   make test-go      gofmt check, go vet, and the kernel tests (go test -v)
#
# Only the standard library is used: no module proxy, no network. The build
# cache lives under build/go so a fresh machine (or root) needs no set-up.

NEED_GO   = golang-go=$(GO)
NEED_ALL += $(NEED_GO)
EXTRA_TESTS += test-go

GO       ?= go
GO_DIR   := bindings/go
GO_OUT   := $(BUILD)/go
# The cgo package's cache entry does not see include/bpfl.h: a stamp of it in
# CGO_CFLAGS makes a changed header rebuild the package.
GO_ENV = GOCACHE=$(CURDIR)/$(GO_OUT)/cache GOPATH=$(CURDIR)/$(GO_OUT)/gopath \
	GOPROXY=off GOFLAGS="-mod=mod -tags=bpfl_intree" GOWORK=off GOENV=off GOTOOLCHAIN=local CGO_ENABLED=1 CC="$(CC)" \
	CGO_CFLAGS="-g -O2 -DBPFL_HEADER_STAMP=$$(cksum < $(CURDIR)/$(HEADER) | cut -d' ' -f1)" \
	GODEBUG=asyncpreemptoff=1 BPFL_BPF_DIR=$(CURDIR)/$(BPF_OUT)

.PHONY: test-go go-build deps-go

# Any go on PATH (or GO=/path/to/go) will do; as root, Debian's golang-go is installed when none is.
deps-go:
	@$(NEED) deps-go $(NEED_GO)

# The package and the example (build/go/syscount).
go-build: deps-go lib
	@mkdir -p $(GO_OUT)
	cd $(GO_DIR) && $(GO_ENV) $(GO) build ./... && $(GO_ENV) $(GO) build -o $(CURDIR)/$(GO_OUT)/syscount ./examples/syscount && $(GO_ENV) $(GO) build -o $(CURDIR)/$(GO_OUT)/xdpcount ./examples/xdpcount

test-go: deps-go lib bpf mounts $(BUILD)/usdt_target
	@mkdir -p $(GO_OUT)
	@cd $(GO_DIR) && bad=$$(gofmt -l .) && if [ -n "$$bad" ]; then echo "test-go: not gofmt-ed: $$bad" >&2; exit 1; fi
	cd $(GO_DIR) && $(GO_ENV) $(GO) vet ./...
	@cd $(GO_DIR) && { $(GO_ENV) $(GO) test -count=1 -v ./... 2>&1; echo $$? > $(CURDIR)/$(GO_OUT)/test.rc; } | tee $(CURDIR)/$(GO_OUT)/test.log; \
	rc=$$(cat $(CURDIR)/$(GO_OUT)/test.rc); log=$(CURDIR)/$(GO_OUT)/test.log; \
	p=$$(grep -c -- '--- PASS' $$log); f=$$(grep -c -- '--- FAIL' $$log); s=$$(grep -c -- '--- SKIP' $$log); \
	echo "test-go: $$p passed, $$f failed, $$s skipped (tests and subtests)"; \
	if [ $$s != 0 ]; then echo "SKIPPED: $$s Go kernel test(s) did not run (each says why above)" ; fi; \
	exit $$rc
