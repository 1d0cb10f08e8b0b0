# Debian packages, built with dpkg-deb alone (no debhelper):
#
#   make deb        build/deb/libbpfl0_V_ARCH.deb       the shared library
#                   build/deb/libbpfl-dev_V_ARCH.deb    headers (C, C++, BPF side), .pc files,
#                                                       the static library, the Go module proxy
#                   build/deb/bpfl-tools_V_ARCH.deb     the bpfl command
#   make test-deb   unpack them into a scratch root (dpkg -x, no system
#                   install) and build and run a C program against them
#
# One staged `make install DESTDIR=... PREFIX=/usr libdir=/usr/lib/MULTIARCH`
# is split into the three package roots.

DEB_OUT   := $(BUILD)/deb
DEB_ARCH   = $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_MA     = $(shell $(CC) -print-multiarch 2>/dev/null || echo $$(uname -m)-linux-gnu)
DEB_MAINT ?= bpfl developers <bpfl@localhost>
EXTRA_TESTS += test-deb
.PHONY: deb test-deb

define deb_control
Package: $(1)
Version: $(BPFL_VERSION)
Architecture: $(DEB_ARCH)
Maintainer: $(DEB_MAINT)
Section: $(2)
Priority: optional
$(3)Description: $(4)
 bpfl is an eBPF loader written from scratch in Rust (no libbpf, libelf or
 zlib), with a C ABI and bindings for C++, Go and Nim.
endef
export deb_ctl_lib  = $(call deb_control,libbpfl0,libs,Depends: libc6$(nl),eBPF loader library)
export deb_ctl_dev  = $(call deb_control,libbpfl-dev,libdevel,Depends: libbpfl0 (= $(BPFL_VERSION))$(nl),eBPF loader library - development files)
export deb_ctl_tool = $(call deb_control,bpfl-tools,admin,Depends: libc6$(nl),eBPF loader - the bpfl command)
define nl


endef

deb: lib cli
	@command -v dpkg-deb >/dev/null 2>&1 || { echo "make deb needs dpkg-deb (Debian package dpkg)" >&2; exit 1; }
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)
	$(MAKE) --no-print-directory -s install DESTDIR=$(CURDIR)/$(DEB_OUT)/stage PREFIX=/usr \
	  libdir=/usr/lib/$(DEB_MA) LDCONFIG=true >$(DEB_OUT)/install.log
	@set -e; S=$(DEB_OUT)/stage; L=usr/lib/$(DEB_MA); \
	for p in libbpfl0 libbpfl-dev bpfl-tools; do mkdir -p $(DEB_OUT)/$$p/DEBIAN $(DEB_OUT)/$$p/usr/share/doc/$$p; done; \
	mkdir -p $(DEB_OUT)/libbpfl0/$$L $(DEB_OUT)/libbpfl-dev/$$L $(DEB_OUT)/libbpfl-dev/usr $(DEB_OUT)/bpfl-tools/usr; \
	mv $$S/$$L/libbpfl.so.* $(DEB_OUT)/libbpfl0/$$L/; \
	mv $$S/usr/bin $(DEB_OUT)/bpfl-tools/usr/; \
	mv $$S/$$L/* $(DEB_OUT)/libbpfl-dev/$$L/; \
	mv $$S/usr/include $(DEB_OUT)/libbpfl-dev/usr/; \
	if [ -d $$S/usr/share/bpfl ]; then mv $$S/usr/share/bpfl $(DEB_OUT)/libbpfl-dev/usr/share/; fi; \
	left=$$(find $$S ! -type d); [ -z "$$left" ] || { echo "deb: staged files in no package: $$left" >&2; exit 1; }; \
	printf '%s\n' "$$deb_ctl_lib" > $(DEB_OUT)/libbpfl0/DEBIAN/control; \
	printf '%s\n' "$$deb_ctl_dev" > $(DEB_OUT)/libbpfl-dev/DEBIAN/control; \
	printf '%s\n' "$$deb_ctl_tool" > $(DEB_OUT)/bpfl-tools/DEBIAN/control; \
	echo 'libbpfl $(BPFL_SOMAJOR) libbpfl0 (>= $(BPFL_VERSION))' > $(DEB_OUT)/libbpfl0/DEBIAN/shlibs; \
	echo 'activate-noawait ldconfig' > $(DEB_OUT)/libbpfl0/DEBIAN/triggers; \
	for p in libbpfl0 libbpfl-dev bpfl-tools; do \
	  printf 'bpfl %s\nLicense: MIT\n' '$(BPFL_VERSION)' > $(DEB_OUT)/$$p/usr/share/doc/$$p/copyright; \
	  dpkg-deb --root-owner-group -Zxz --build $(DEB_OUT)/$$p $(DEB_OUT)/$${p}_$(BPFL_VERSION)_$(DEB_ARCH).deb >/dev/null; \
	  echo "deb: $(DEB_OUT)/$${p}_$(BPFL_VERSION)_$(DEB_ARCH).deb"; done

test-deb: deb bpf
	@sh tests/pkg/test_deb.sh $(CURDIR)/$(DEB_OUT) $(CURDIR)/$(BPF_OUT) $(BPFL_VERSION) $(DEB_ARCH) $(DEB_MA) "$(CC)"
