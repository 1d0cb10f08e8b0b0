#!/bin/sh
# `make test-pkg`: install bpfl into a temporary prefix, check what was
# installed, build C and C++ programs with pkg-config alone (shared and
# static), run them (exact getppid counts from seed_tp.o), uninstall, and
# check a staged install (DESTDIR).
#   tests/pkg/test_pkg.sh MAKE PKG_OUT BPF_DIR VERSION CC CXX   (from the repo root)
set -u
MAKE=$1 OUT=$2 BPF=$3 VERSION=$4 CC=$5 CXX=$6
PREFIX=$OUT/prefix
STAGE=$OUT/destdir
BIN=$OUT/bin
MAJOR=${VERSION%%.*}
. "$(dirname "$0")/../tap.sh"

rm -rf "$PREFIX" "$STAGE" "$BIN"
mkdir -p "$BIN"

# ---- install into the temporary prefix --------------------------------------
if ! $MAKE --no-print-directory -s install PREFIX="$PREFIX" LDCONFIG=true >"$OUT/install.log" 2>&1; then
	cat "$OUT/install.log"; echo "FAIL - make install PREFIX=$PREFIX"; exit 1
fi
ok "make install PREFIX=$PREFIX"
L=$PREFIX/lib
chk "libbpfl.so.$VERSION is a file"                 test -f "$L/libbpfl.so.$VERSION" -a ! -L "$L/libbpfl.so.$VERSION"
chk "libbpfl.so.$MAJOR -> libbpfl.so.$VERSION"      test "$(readlink "$L/libbpfl.so.$MAJOR")" = "libbpfl.so.$VERSION"
chk "libbpfl.so -> libbpfl.so.$MAJOR"               test "$(readlink "$L/libbpfl.so")" = "libbpfl.so.$MAJOR"
chk "libbpfl.a installed"                           test -f "$L/libbpfl.a"
chk "include/bpfl.h installed (same as the repo's)" cmp -s "$PREFIX/include/bpfl.h" include/bpfl.h
chk "include/bpfl.hpp installed"                    cmp -s "$PREFIX/include/bpfl.hpp" bindings/cpp/bpfl.hpp
chk "lib/pkgconfig/bpfl.pc installed"               test -f "$L/pkgconfig/bpfl.pc"
soname=$(readelf -d "$L/libbpfl.so.$VERSION" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
chk "SONAME is libbpfl.so.$MAJOR (readelf -d: '$soname')" test "$soname" = "libbpfl.so.$MAJOR"
# Exported functions: exactly the header's.
nm -D --defined-only "$L/libbpfl.so.$VERSION" | awk '{print $3}' | sort -u > "$OUT/exported.txt"
grep -o '\bbpfl_[a-z_]*(' include/bpfl.h | tr -d '(' | sort -u > "$OUT/declared.txt"
chk "only bpfl_* exported: $(wc -l < "$OUT/exported.txt") symbols == the $(wc -l < "$OUT/declared.txt") functions of bpfl.h" \
	cmp -s "$OUT/exported.txt" "$OUT/declared.txt"
[ -s "$OUT/exported.txt" ] || bad "no exported symbols at all"

# ---- pkg-config --------------------------------------------------------------
export PKG_CONFIG_PATH="$L/pkgconfig"
chk "pkg-config --modversion bpfl == $VERSION" test "$(pkg-config --modversion bpfl)" = "$VERSION"
chk "pkg-config --cflags bpfl == -I$PREFIX/include" test "$(pkg-config --cflags bpfl | xargs)" = "-I$PREFIX/include"
chk "pkg-config --libs bpfl == -L$L -lbpfl" test "$(pkg-config --libs bpfl | xargs)" = "-L$L -lbpfl"
chk "pkg-config --static --libs bpfl adds -lpthread -ldl -lm -lrt" \
	test "$(pkg-config --static --libs bpfl | xargs)" = "-L$L -lbpfl -lpthread -ldl -lm -lrt"

# ---- a C program, shared ----------------------------------------------------
# shellcheck disable=SC2046
if $CC -std=c11 -Wall -Wextra -Werror tests/pkg/pkg_prog.c -o "$BIN/prog_shared" $(pkg-config --cflags --libs bpfl); then
	ok "cc pkg_prog.c \$(pkg-config --cflags --libs bpfl)"
	needed=$(readelf -d "$BIN/prog_shared" | sed -n 's/.*(NEEDED).*\[\(libbpfl[^]]*\)\]/\1/p')
	chk "shared program NEEDs libbpfl.so.$MAJOR ('$needed')" test "$needed" = "libbpfl.so.$MAJOR"
	chk "ldd resolves libbpfl.so.$MAJOR to the prefix" \
		sh -c "LD_LIBRARY_PATH='$L' ldd '$BIN/prog_shared' | grep -q 'libbpfl.so.$MAJOR => $L/libbpfl.so.$MAJOR'"
	run "shared C program, 29 getppid() calls" env LD_LIBRARY_PATH="$L" "$BIN/prog_shared" "$BPF/seed_tp.o" 29
	run "shared C program, 0 getppid() calls" env LD_LIBRARY_PATH="$L" "$BIN/prog_shared" "$BPF/seed_tp.o" 0
else bad "cc pkg_prog.c with pkg-config (shared)"; fi

# ---- the same program, static -----------------------------------------------
# pkg-config gives -lbpfl, which the linker resolves to the .so: ask for the .a.
static_libs=$(pkg-config --static --libs bpfl | sed 's/-lbpfl\b/-l:libbpfl.a/')
# shellcheck disable=SC2086
if $CC -std=c11 -Wall -Wextra -Werror tests/pkg/pkg_prog.c -o "$BIN/prog_static" $(pkg-config --cflags bpfl) $static_libs; then
	ok "cc pkg_prog.c \$(pkg-config --cflags bpfl) $static_libs"
	chk "static program does not need libbpfl (ldd)" sh -c "! ldd '$BIN/prog_static' | grep -q libbpfl"
	chk "static program has no NEEDED libbpfl (readelf)" sh -c "! readelf -d '$BIN/prog_static' | grep NEEDED | grep -q libbpfl"
else bad "cc pkg_prog.c with pkg-config --static"; fi

# ---- C++ through the installed bpfl.hpp --------------------------------------
if $CXX -std=c++17 -Wall -Wextra -Werror tests/pkg/pkg_prog.cpp -o "$BIN/prog_cpp" $(pkg-config --cflags --libs bpfl); then
	ok "c++ -std=c++17 pkg_prog.cpp \$(pkg-config --cflags --libs bpfl)"
	run "shared C++ program, 17 getppid() calls" env LD_LIBRARY_PATH="$L" "$BIN/prog_cpp" "$BPF/seed_tp.o" 17
else bad "c++ pkg_prog.cpp with pkg-config"; fi

# ---- uninstall: the static program still runs, the shared one cannot --------
$MAKE --no-print-directory -s uninstall PREFIX="$PREFIX" LDCONFIG=true >"$OUT/uninstall.log" 2>&1 \
	&& ok "make uninstall PREFIX=$PREFIX" || bad "make uninstall PREFIX=$PREFIX"
left=$(find "$PREFIX" ! -type d | wc -l)
chk "uninstall left no files ($left)" test "$left" = 0
if [ -x "$BIN/prog_static" ]; then
	run "static C program with no libbpfl.so installed, 31 getppid() calls" env LD_LIBRARY_PATH="$L" "$BIN/prog_static" "$BPF/seed_tp.o" 31
fi
if [ -x "$BIN/prog_shared" ]; then
	out=$(env LD_LIBRARY_PATH="$L" "$BIN/prog_shared" "$BPF/seed_tp.o" 1 2>&1)
	chk "shared program no longer starts (it really used the .so)" \
		sh -c "printf '%s' \"\$1\" | grep -q 'libbpfl.so.$MAJOR: cannot open shared object file'" _ "$out"
fi

# ---- staged install (DESTDIR) for packagers ---------------------------------
if $MAKE --no-print-directory -s install DESTDIR="$STAGE" PREFIX=/usr LDCONFIG=true >"$OUT/stage.log" 2>&1; then
	ok "make install DESTDIR=$STAGE PREFIX=/usr"
	chk "staged: usr/lib/libbpfl.so.$VERSION, usr/include/bpfl.h" test -f "$STAGE/usr/lib/libbpfl.so.$VERSION" -a -f "$STAGE/usr/include/bpfl.h"
	chk "staged bpfl.pc says prefix=/usr" grep -qx 'prefix=/usr' "$STAGE/usr/lib/pkgconfig/bpfl.pc"
	chk "staged bpfl.pc: libdir=\${prefix}/lib" grep -qx 'libdir=${prefix}/lib' "$STAGE/usr/lib/pkgconfig/bpfl.pc"
	$MAKE --no-print-directory -s uninstall DESTDIR="$STAGE" PREFIX=/usr LDCONFIG=true >/dev/null 2>&1
	left=$(find "$STAGE" ! -type d | wc -l)
	chk "staged uninstall left no files ($left)" test "$left" = 0
else cat "$OUT/stage.log"; bad "make install DESTDIR=$STAGE PREFIX=/usr"; fi
chk "a relative PREFIX is refused" sh -c "! $MAKE --no-print-directory -s install PREFIX=relative/dir LDCONFIG=true >/dev/null 2>&1"

summary "packaging"
