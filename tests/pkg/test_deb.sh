#!/bin/sh
# `make test-deb`: the three .deb files of `make deb`, unpacked into a
# scratch root with dpkg -x (never installed on the system): their control
# data and contents, then a C program built against the unpacked libbpfl-dev
# (pkg-config with PKG_CONFIG_SYSROOT_DIR) and run (exact getppid count),
# and the packaged bpfl command.
#   tests/pkg/test_deb.sh DEB_OUT BPF_DIR VERSION ARCH MULTIARCH CC   (from the repo root)
set -u
D=$1 BPF=$2 V=$3 ARCH=$4 MA=$5 CC=$6
. "$(dirname "$0")/../tap.sh"
R=$(mktemp -d /tmp/bpfl-deb.XXXXXX)
trap 'rm -rf "$R"' EXIT
for p in libbpfl0 libbpfl-dev bpfl-tools; do
	f=$D/${p}_${V}_$ARCH.deb
	chk "$p: $f exists" test -f "$f"
	chk "$p: dpkg-deb -f Package/Version" test "$(dpkg-deb -f "$f" Package Version | tr '\n' ' ')" = "Package: $p Version: $V "
	dpkg -x "$f" "$R" || bad "dpkg -x $f"
done
chk "libbpfl-dev depends on libbpfl0 (= $V)" test "$(dpkg-deb -f "$D/libbpfl-dev_${V}_$ARCH.deb" Depends)" = "libbpfl0 (= $V)"
chk "libbpfl0 holds only the shared library (and its doc)" \
	test "$(dpkg-deb -c "$D/libbpfl0_${V}_$ARCH.deb" | grep -c 'usr/lib/.*libbpfl.so.0')" = 2
chk "libbpfl0 has shlibs" sh -c "dpkg-deb -I '$D/libbpfl0_${V}_$ARCH.deb' shlibs | grep -q 'libbpfl 0 libbpfl0'"
L=$R/usr/lib/$MA
for f in usr/include/bpfl.h usr/include/bpfl.hpp usr/include/bpfl/bpf_helpers.h usr/lib/$MA/libbpfl.a \
	usr/lib/$MA/libbpfl.so usr/lib/$MA/pkgconfig/bpfl.pc usr/lib/$MA/pkgconfig/bpfl-static.pc usr/bin/bpfl; do
	chk "unpacked: /$f" test -e "$R/$f"
done
export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_LIBDIR=$L/pkgconfig
chk "pkg-config --cflags bpfl == -I$R/usr/include" test "$(pkg-config --cflags bpfl | xargs)" = "-I$R/usr/include"
# shellcheck disable=SC2046
if $CC -std=c11 -Wall -Wextra -Werror tests/pkg/pkg_prog.c -o "$R/prog" $(pkg-config --cflags --libs bpfl); then
	ok "cc pkg_prog.c against the unpacked libbpfl-dev"
	run "C program on the packaged libbpfl.so.0, 37 getppid() calls" env LD_LIBRARY_PATH="$L" "$R/prog" "$BPF/seed_tp.o" 37
else bad "cc against the unpacked packages"; fi
chk "packaged bpfl --help" sh -c "'$R/usr/bin/bpfl' --help | grep -q 'bpfl inspect\|inspect OBJ'"
chk "packaged bpfl inspect seed_tp.o names its programs" sh -c "'$R/usr/bin/bpfl' inspect '$BPF/seed_tp.o' | grep -q enter_getppid"
summary "deb"
