# Installation: shared library with a soname, static library, headers, pkg-config file.
#
#   make install                          into /usr/local (PREFIX=/usr/local)
#   make install PREFIX=/opt/bpfl         elsewhere
#   make install DESTDIR=/tmp/stage PREFIX=/usr    staged (packaging)
#   make uninstall [PREFIX=...] [DESTDIR=...]
#   make test-pkg                         install into temporary prefixes; build C/C++/Go/Nim programs
#                                         against the installed files only (tests/pkg/)
#
# Installs $(libdir)/libbpfl.so.X.Y.Z (soname libbpfl.so.X) with the links
# libbpfl.so.X and libbpfl.so, $(libdir)/libbpfl.a, $(includedir)/bpfl.h and
# bpfl.hpp, the BPF-side headers as $(includedir)/bpfl/*.h, and
# $(pkgconfigdir)/bpfl.pc (shared) and bpfl-static.pc (the archive itself:
# `pkg-config --libs bpfl-static`). When go is on PATH, the Go bindings too,
# as a module proxy directory $(datadir)/bpfl/go-proxy (GOPROXY=file://...,
# see bindings/go/README.md). libdir, includedir, datadir and pkgconfigdir
# can be set too (e.g. libdir=/usr/lib/x86_64-linux-gnu).
#
# The installed .so is linked here from cargo's libbpfl.a (cargo's own cdylib
# has no soname, and the crate is not changed for packaging): a version
# script exports the bpfl_* functions and nothing else.

PREFIX       ?= /usr/local
NIMBLE       ?= nimble
DESTDIR      ?=
libdir       ?= $(PREFIX)/lib
includedir   ?= $(PREFIX)/include
datadir      ?= $(PREFIX)/share
bindir       ?= $(PREFIX)/bin
pkgconfigdir ?= $(libdir)/pkgconfig
LDCONFIG     ?= ldconfig

PKG_OUT       := $(BUILD)/pkg
BPFL_VERSION  := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
BPFL_SOMAJOR  := $(firstword $(subst ., ,$(BPFL_VERSION)))
BPFL_SONAME   := libbpfl.so.$(BPFL_SOMAJOR)
BPFL_SOREAL   := libbpfl.so.$(BPFL_VERSION)
PKG_PRIVATE   := -lpthread -ldl -lm -lrt
BPF_HEADERS   := $(wildcard bpf/include/bpfl/*.h)
GO_MODULE     := $(shell sed -n 's/^module *//p' bindings/go/go.mod)
GO_PROXY_OUT  := $(PKG_OUT)/go-proxy

NEED_PKG  = pkg-config=pkg-config binutils=readelf
NEED_ALL += $(NEED_PKG)
EXTRA_TESTS += test-pkg
.PHONY: cli install uninstall test-pkg pkg-so pkg-pc pkg-go-proxy deps-pkg

deps-pkg:
	@$(NEED) deps-pkg $(NEED_PKG)

STRIP ?= strip

pkg-so: $(PKG_OUT)/$(BPFL_SOREAL)

$(PKG_OUT)/bpfl.map: mk/pkg.mk
	@mkdir -p $(PKG_OUT)
	@printf '{\n  global: bpfl_*;\n  local: *;\n};\n' > $@

$(PKG_OUT)/$(BPFL_SOREAL): $(LIBDIR)/libbpfl.a $(PKG_OUT)/bpfl.map
	@mkdir -p $(PKG_OUT)
	$(CC) -shared -o $@.tmp -Wl,-soname,$(BPFL_SONAME) -Wl,--version-script=$(PKG_OUT)/bpfl.map \
	  -Wl,--gc-sections -Wl,-z,relro -Wl,-z,now \
	  -Wl,--whole-archive $(LIBDIR)/libbpfl.a -Wl,--no-whole-archive $(PKG_PRIVATE)
	@readelf -d $@.tmp | grep -q 'Library soname: \[$(BPFL_SONAME)\]' || { echo "pkg: $@ has no soname $(BPFL_SONAME)" >&2; exit 1; }
	@bad=$$(nm -D --defined-only $@.tmp | awk '$$3 !~ /^bpfl_/ {print $$3}'); \
	  if [ -n "$$bad" ]; then echo "pkg: $@ exports more than bpfl_*: $$bad" >&2; exit 1; fi
	@mv $@.tmp $@

# The .pc files depend on PREFIX etc., so they are written on every install.
# bpfl.pc links libbpfl.so; bpfl-static.pc names the archive, because
# `pkg-config --static` only adds Libs.private and -lbpfl would still pick the .so.
pkg-pc:
	@mkdir -p $(PKG_OUT)
	@{ echo 'prefix=$(PREFIX)'; \
	   echo 'libdir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(libdir))'; \
	   echo 'includedir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(includedir))'; \
	   echo; } > $(PKG_OUT)/pc.head
	@{ cat $(PKG_OUT)/pc.head; \
	   echo 'Name: bpfl'; \
	   echo 'Description: eBPF loader (no libbpf, libelf or zlib) with a C ABI'; \
	   echo 'Version: $(BPFL_VERSION)'; \
	   echo 'Libs: -L$${libdir} -lbpfl'; \
	   echo 'Libs.private: $(PKG_PRIVATE)'; \
	   echo 'Cflags: -I$${includedir}'; } > $(PKG_OUT)/bpfl.pc
	@{ cat $(PKG_OUT)/pc.head; \
	   echo 'Name: bpfl-static'; \
	   echo 'Description: eBPF loader (no libbpf, libelf or zlib), linked statically'; \
	   echo 'Version: $(BPFL_VERSION)'; \
	   echo 'Libs: $${libdir}/libbpfl.a $(PKG_PRIVATE)'; \
	   echo 'Cflags: -I$${includedir}'; } > $(PKG_OUT)/bpfl-static.pc

# The Go module as a file proxy (needs go; skipped with a note without it).
pkg-go-proxy:
	@rm -rf $(GO_PROXY_OUT)
	@if command -v $(GO) >/dev/null 2>&1; then \
	  GOCACHE=$(CURDIR)/$(BUILD)/go/cache GOFLAGS= GOWORK=off GOPROXY=off GOENV=off GOTOOLCHAIN=local \
	    $(GO) run mk/gomodproxy.go bindings/go v$(BPFL_VERSION) $(GO_PROXY_OUT); \
	else echo "install: no go on PATH: the Go module ($(GO_MODULE)) is not installed"; fi

# The bpfl command (src/cli, a workspace member).
cli: $(LIBDIR)/bpfl
$(LIBDIR)/bpfl: $(RUST_SRCS) | deps-lib
	$(CARGO) build --release --quiet -p bpfl-cli

install: lib cli $(PKG_OUT)/$(BPFL_SOREAL) pkg-pc pkg-go-proxy
	@case "$(PREFIX)" in /*) ;; *) echo "install: PREFIX must be an absolute path (got '$(PREFIX)')" >&2; exit 1;; esac
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir)/bpfl $(DESTDIR)$(pkgconfigdir)
	install -m 755 $(LIBDIR)/bpfl $(DESTDIR)$(bindir)/bpfl
	install -m 755 $(PKG_OUT)/$(BPFL_SOREAL) $(DESTDIR)$(libdir)/$(BPFL_SOREAL)
	ln -sfn $(BPFL_SOREAL) $(DESTDIR)$(libdir)/$(BPFL_SONAME)
	ln -sfn $(BPFL_SONAME) $(DESTDIR)$(libdir)/libbpfl.so
	install -m 644 $(LIBDIR)/libbpfl.a $(DESTDIR)$(libdir)/libbpfl.a
	install -m 644 $(HEADER) $(DESTDIR)$(includedir)/bpfl.h
	install -m 644 bindings/cpp/bpfl.hpp $(DESTDIR)$(includedir)/bpfl.hpp
	install -m 644 $(BPF_HEADERS) $(DESTDIR)$(includedir)/bpfl/
	install -m 644 $(PKG_OUT)/bpfl.pc $(PKG_OUT)/bpfl-static.pc $(DESTDIR)$(pkgconfigdir)/
	@if [ -d $(GO_PROXY_OUT) ]; then install -d $(DESTDIR)$(datadir)/bpfl && cp -R $(GO_PROXY_OUT) $(DESTDIR)$(datadir)/bpfl/; fi
	@# Installed libraries carry no debug info (the build tree keeps it for backtraces).
	$(STRIP) --strip-debug $(DESTDIR)$(libdir)/$(BPFL_SOREAL) $(DESTDIR)$(libdir)/libbpfl.a $(DESTDIR)$(bindir)/bpfl
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG) 2>/dev/null || true; fi

uninstall:
	rm -f $(DESTDIR)$(bindir)/bpfl $(DESTDIR)$(libdir)/$(BPFL_SOREAL) $(DESTDIR)$(libdir)/$(BPFL_SONAME) $(DESTDIR)$(libdir)/libbpfl.so \
	  $(DESTDIR)$(libdir)/libbpfl.a $(DESTDIR)$(includedir)/bpfl.h $(DESTDIR)$(includedir)/bpfl.hpp \
	  $(DESTDIR)$(pkgconfigdir)/bpfl.pc $(DESTDIR)$(pkgconfigdir)/bpfl-static.pc \
	  $(patsubst bpf/include/bpfl/%,$(DESTDIR)$(includedir)/bpfl/%,$(BPF_HEADERS))
	rm -rf $(DESTDIR)$(datadir)/bpfl/go-proxy
	@rmdir $(DESTDIR)$(includedir)/bpfl $(DESTDIR)$(datadir)/bpfl 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG) 2>/dev/null || true; fi

test-pkg: deps-pkg lib bpf
	@sh tests/pkg/test_pkg.sh "$(MAKE)" $(CURDIR)/$(PKG_OUT) $(CURDIR)/$(BPF_OUT) $(BPFL_VERSION) "$(CC)" "$(CXX)"
	@sh tests/pkg/test_user.sh "$(MAKE)" $(CURDIR)/$(PKG_OUT) $(CURDIR)/$(BPF_OUT) "$(CC)" "$(GO)" "$(NIM)" "$(NIMBLE)" "$(CLANG)"
