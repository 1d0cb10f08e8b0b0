#!/bin/sh
# `make test-pkg`, part 2: bpfl used as a user would, from a temporary
# directory outside the checkout, against an installed bpfl only:
#   - a BPF object compiled against the installed <bpfl/bpf_helpers.h>;
#   - C through bpfl-static.pc;
#   - Go in module mode: `go get bpfl.dev/bpfl` from the installed module
#     proxy (GOPROXY=file://PREFIX/share/bpfl/go-proxy), built shared,
#     static (-tags bpfl_static) and vendored (go mod vendor), and the
#     one-line error of CGO_ENABLED=0;
#   - Nim: `nimble install` of bindings/nim into a scratch nimble dir, the
#     library found through pkg-config.
#   tests/pkg/test_user.sh MAKE PKG_OUT BPF_DIR CC GO NIM NIMBLE CLANG   (from the repo root)
set -u
MAKE=$1 OUT=$2 BPF=$3 CC=$4 GO=$5 NIM=$6 NIMBLE=$7 CLANG=$8
REPO=$(pwd)
PREFIX=$OUT/user-prefix
. "$(dirname "$0")/../tap.sh"
has() { command -v "$1" >/dev/null 2>&1; }

rm -rf "$PREFIX"
if ! $MAKE --no-print-directory -s install PREFIX="$PREFIX" LDCONFIG=true >"$OUT/user-install.log" 2>&1; then
	cat "$OUT/user-install.log"; echo "FAIL - make install PREFIX=$PREFIX"; exit 1
fi
ok "make install PREFIX=$PREFIX"
# Nothing below may see the checkout: a scratch directory, sources copied in.
W=$(mktemp -d /tmp/bpfl-user.XXXXXX)
trap 'rm -rf "$W"' EXIT
cp tests/pkg/pkg_prog.c tests/pkg/pkg_prog.go tests/pkg/pkg_prog.nim bpf/seed_tp.bpf.c bpf/seed_common.h "$W/"
cd "$W" || exit 1
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
L=$PREFIX/lib

# ---- the BPF side: our helper header, installed --------------------------------
chk "include/bpfl/bpf_helpers.h installed" cmp -s "$PREFIX/include/bpfl/bpf_helpers.h" "$REPO/bpf/include/bpfl/bpf_helpers.h"
OBJ=$BPF/seed_tp.o
if has "$CLANG"; then
	if $CLANG -target bpf -g -O2 -Wall -Werror -I "$PREFIX/include" -I "/usr/include/$(uname -m)-linux-gnu" \
		-c seed_tp.bpf.c -o seed_tp.o; then
		ok "clang -target bpf -I\$PREFIX/include seed_tp.bpf.c (the installed <bpfl/bpf_helpers.h>)"
		OBJ=$W/seed_tp.o
	else bad "clang -target bpf against the installed headers"; fi
else skip=$((skip + 1)); echo "SKIPPED: BPF object against the installed headers ($CLANG not found)"; fi

# ---- C, static, with bpfl-static.pc alone ---------------------------------------
chk "pkg-config --libs bpfl-static == $L/libbpfl.a -lpthread -ldl -lm -lrt" \
	test "$(pkg-config --libs bpfl-static | xargs)" = "$L/libbpfl.a -lpthread -ldl -lm -lrt"
# shellcheck disable=SC2046
if $CC -std=c11 -Wall -Wextra -Werror pkg_prog.c -o c_static $(pkg-config --cflags --libs bpfl-static); then
	ok "cc pkg_prog.c \$(pkg-config --cflags --libs bpfl-static)"
	chk "static C program has no NEEDED libbpfl" sh -c "! readelf -d c_static | grep NEEDED | grep -q libbpfl"
	run "static C program (bpfl-static.pc), 23 getppid() calls" ./c_static "$OBJ" 23
else bad "cc with bpfl-static.pc"; fi

# ---- the bpfl command ------------------------------------------------------------
B=$PREFIX/bin/bpfl
chk "bin/bpfl installed" test -x "$B"
chk "bpfl --help lists the commands" sh -c "'$B' --help | grep -q 'inspect OBJ' && '$B' map --help | grep -q 'map dump PIN'"
chk "bpfl with an unknown command exits 2" sh -c "'$B' frobnicate >/dev/null 2>&1; test \$? = 2"
chk "bpfl inspect: programs, maps, globals with C types" sh -c "out=\$('$B' inspect '$BPF/modern.o') && \
	printf '%s' \"\$out\" | grep -q 'on_getpid .*BPF_PROG_TYPE_TRACEPOINT' && \
	printf '%s' \"\$out\" | grep -q 'pinned_counts .*BPF_MAP_TYPE_HASH key 4 value 8 max_entries 16 flags 0x0 pinned by name' && \
	printf '%s' \"\$out\" | grep -q 'const volatile __u32 target_tgid'"
chk "bpfl inspect of a missing file exits 1 with the path" sh -c "'$B' inspect /nonexistent.o 2>&1 | grep -q \"cannot read '/nonexistent.o'\"; '$B' inspect /nonexistent.o 2>/dev/null; test \$? = 1"
chk "bpfl map lookup of a missing pin exits 1" sh -c "'$B' map lookup /sys/fs/bpf/bpfl-no-such-pin-$$ 00000000 >/dev/null 2>&1; test \$? = 1"
if [ "$(id -u)" = 0 ]; then
	chk "bpfl check seed_tp.o: both programs ok, exit 0" sh -c "out=\$('$B' check '$BPF/seed_tp.o') && \
		test \$(printf '%s\n' \"\$out\" | grep -c ' ok ') = 2"
	chk "bpfl check bad_verifier.o: FAIL with the verifier's reason, exit 1" sh -c "out=\$('$B' check '$BPF/bad_verifier.o'); rc=\$?; \
		test \$rc = 1 && printf '%s' \"\$out\" | grep -q \"invalid mem access 'map_value_or_null'\""
else skip=$((skip + 1)); echo "SKIPPED: bpfl check (needs root)"; fi

# ---- Go, module mode, offline ---------------------------------------------------
if has "$GO"; then
	V=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$REPO/Cargo.toml" | head -n1)
	chk "Go module proxy installed (share/bpfl/go-proxy/bpfl.dev/bpfl/@v/v$V.zip)" \
		test -f "$PREFIX/share/bpfl/go-proxy/bpfl.dev/bpfl/@v/v$V.zip"
	mkdir -p gomod && mv pkg_prog.go gomod/main.go
	# A fresh GOPATH (module cache) and build cache: nothing from the checkout's builds.
	export GOPATH="$W/gopath" GOCACHE="$W/gocache" GOFLAGS=-modcacherw GOWORK=off GOENV=off GOTOOLCHAIN=local
	export GOPROXY="file://$PREFIX/share/bpfl/go-proxy" GONOSUMDB=bpfl.dev CGO_ENABLED=1 CC="$CC"
	( cd gomod && printf 'module example.com/counter\n\ngo 1.19\n' > go.mod ) 
	if (cd gomod && $GO get "bpfl.dev/bpfl@v$V") >go-get.log 2>&1; then
		ok "go get bpfl.dev/bpfl@v$V (GOPROXY=file://\$PREFIX/share/bpfl/go-proxy)"
		chk "go.mod requires bpfl.dev/bpfl v$V, no replace" sh -c "grep -q 'bpfl.dev/bpfl v$V' gomod/go.mod && ! grep -q replace gomod/go.mod"
		chk "go.sum records the module's hash" grep -q "^bpfl.dev/bpfl v$V h1:" gomod/go.sum
	else bad "go get bpfl.dev/bpfl@v$V"; sed 's/^/    /' go-get.log; fi
	if (cd gomod && $GO build -o ../go_shared .) >go-build.log 2>&1; then
		ok "go build (#cgo pkg-config: bpfl, from the module cache)"
		chk "Go program NEEDs libbpfl.so.0" sh -c "readelf -d go_shared | grep NEEDED | grep -q 'libbpfl.so.0'"
		run "Go program (shared), 19 getppid() calls" env LD_LIBRARY_PATH="$L" ./go_shared "$OBJ" 19
	else bad "go build"; sed 's/^/    /' go-build.log; fi
	if (cd gomod && $GO build -tags bpfl_static -o ../go_static .) >go-static.log 2>&1; then
		ok "go build -tags bpfl_static (pkg-config: bpfl-static)"
		chk "static Go program has no NEEDED libbpfl" sh -c "! readelf -d go_static | grep NEEDED | grep -q libbpfl"
		run "Go program (static), 13 getppid() calls" ./go_static "$OBJ" 13
	else bad "go build -tags bpfl_static"; sed 's/^/    /' go-static.log; fi
	if (cd gomod && $GO mod vendor && GOFLAGS=-mod=vendor GOPROXY=off $GO build -tags bpfl_static -o ../go_vendored .) >go-vendor.log 2>&1; then
		ok "go mod vendor, then go build -mod=vendor with no proxy"
		chk "vendor/bpfl.dev/bpfl holds the bindings" test -f gomod/vendor/bpfl.dev/bpfl/object.go
		run "vendored Go program, 7 getppid() calls" ./go_vendored "$OBJ" 7
	else bad "go mod vendor + build"; sed 's/^/    /' go-vendor.log; fi
	out=$(cd gomod && CGO_ENABLED=0 GOFLAGS=-mod=vendor $GO build -o /dev/null . 2>&1)
	chk "CGO_ENABLED=0 fails with the one-line reason" \
		sh -c "printf '%s' \"\$1\" | grep -q 'bpfl_needs_cgo_build_with_CGO_ENABLED_1_and_a_C_compiler' && ! printf '%s' \"\$1\" | grep -q 'undefined: Map'" _ "$out"
	unset GOPATH GOCACHE GOFLAGS GOPROXY GONOSUMDB
else skip=$((skip + 1)); echo "SKIPPED: Go user program ($GO not found)"; fi

# ---- Nim: nimble install, then a program outside the checkout -----------------
if has "$NIM" && has "$NIMBLE"; then
	ND=$W/nimble
	if (cd "$REPO/bindings/nim" && $NIMBLE install -y --nimbleDir:"$ND") >nimble.log 2>&1; then
		ok "nimble install (bindings/nim) into a scratch nimble dir"
		chk "nimble accepts the package structure (no 'incorrect structure' warning)" sh -c "! grep -qi 'incorrect structure' nimble.log"
	else bad "nimble install"; sed 's/^/    /' nimble.log; fi
	if (cd "$REPO/bindings/nim/compat" && $NIMBLE install -y --nimbleDir:"$ND") >nimble-compat.log 2>&1; then
		ok "nimble install of the nimbpf compatibility package"
	else bad "nimble install (compat)"; sed 's/^/    /' nimble-compat.log; fi
	if $NIM c --hints:off --verbosity:0 --nimblePath:"$ND/pkgs" --nimcache:"$W/nimcache" -o:"$W/nim_prog" pkg_prog.nim >nim.log 2>&1; then
		ok "nim c pkg_prog.nim (installed package, pkg-config bpfl-static)"
		chk "Nim program has no NEEDED libbpfl" sh -c "! readelf -d nim_prog | grep NEEDED | grep -q libbpfl"
		run "Nim program, 11 getppid() calls" ./nim_prog "$OBJ" 11
	else bad "nim c against the installed package"; sed 's/^/    /' nim.log; fi
	printf 'import nimbpf\nlet n = tryBootBpf("%s")\necho "attached ", n\nquit(if n == 2: 0 else: 1)\n' "$OBJ" > seed.nim
	if $NIM c --hints:off --verbosity:0 --nimblePath:"$ND/pkgs" --nimcache:"$W/nimcache2" -o:"$W/seed_prog" seed.nim >nim2.log 2>&1; then
		ok "nim c with the seed's 'import nimbpf'"
		if [ "$(id -u)" = 0 ]; then run "seed-style program attaches seed_tp.o's 2 programs" ./seed_prog
		else skip=$((skip + 1)); echo "SKIPPED: seed-style Nim program (needs root)"; fi
	else bad "nim c import nimbpf"; sed 's/^/    /' nim2.log; fi
else skip=$((skip + 1)); echo "SKIPPED: Nim user program ($NIM/$NIMBLE not found)"; fi

cd "$REPO" && $MAKE --no-print-directory -s uninstall PREFIX="$PREFIX" LDCONFIG=true >/dev/null 2>&1
left=$(find "$PREFIX" ! -type d | wc -l)
chk "uninstall left no files ($left)" test "$left" = 0
summary "user installs"
