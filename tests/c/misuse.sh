#!/bin/sh
# The C ABI misuse suite (tests/c/test_misuse.c) under AddressSanitizer and
# UBSan: the C side always, the Rust library too when a nightly toolchain can
# build it with -Zsanitizer=address (else the plain release library; set
# BPFL_MISUSE_PLAIN=1 to force that). Prints which mode ran.
#   misuse.sh OUT_DIR BPF_DIR
set -u
out=$1 bpf=$2
cc=${CC:-cc}
mkdir -p "$out"

# Every export of the header must be exercised: a new one without a misuse check fails here.
exports=$(grep -E '^(const )?[a-z_]+ \*?bpfl_[a-z_]+\(' include/bpfl.h | sed -E 's/.*(bpfl_[a-z_]+)\(.*/\1/' | sort -u)
[ -n "$exports" ] || { echo "misuse.sh: found no exports in include/bpfl.h" >&2; exit 1; }
missing=""
for f in $exports; do
	grep -qw "$f" tests/c/test_misuse.c || missing="$missing $f"
done
if [ -n "$missing" ]; then
	echo "FAIL: tests/c/test_misuse.c does not cover these exports of include/bpfl.h:$missing" >&2
	exit 1
fi
echo "misuse: all $(echo "$exports" | wc -l) exports of include/bpfl.h are covered"

lib=target/release/libbpfl.a
mode="plain Rust library (no nightly toolchain), C side under ASan+UBSan"
if [ -z "${BPFL_MISUSE_PLAIN:-}" ] && rustup toolchain list 2>/dev/null | grep -q nightly; then
	host=$(rustc -vV | sed -n 's/^host: //p')
	if RUSTFLAGS=-Zsanitizer=address cargo +nightly build --quiet --release --lib --target "$host" --target-dir target/asan; then
		lib=target/asan/$host/release/libbpfl.a
		mode="ASan: Rust library built with nightly -Zsanitizer=address, C side under ASan+UBSan"
	else
		mode="plain Rust library (the nightly ASan build failed, see above), C side under ASan+UBSan"
	fi
elif [ -n "${BPFL_MISUSE_PLAIN:-}" ]; then
	mode="plain Rust library (BPFL_MISUSE_PLAIN), C side under ASan+UBSan"
fi
echo "misuse mode: $mode"
$cc -std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I include -fsanitize=address,undefined -fno-omit-frame-pointer \
	tests/c/test_misuse.c -o "$out/test_misuse" "$lib" -lpthread -ldl -lm -lrt || exit 1
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	"$out/test_misuse" "$bpf"
rc=$?
if [ $rc = 77 ]; then
	echo "SKIPPED: the C ABI misuse suite (needs root and bpf())"
	exit 0
fi
echo "misuse mode: $mode"
exit $rc
