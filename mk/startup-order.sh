#!/bin/sh
# mk/startup-order.sh: keep the code a tool runs at start-up together.
#
# A process that opens one object runs about 150 KB of bpfl's 1.9 MB of code,
# but those functions lie wherever the compiler put them, and each first call
# maps the 64 KB around it (the kernel's fault-around): an open touched 1.5 MB
# of text, which made its peak RSS 1.5x libbpf's. Grouping the functions that
# run at start-up puts them on a few pages.
#
#   mk/startup-order.sh record ORDER COLD_BPFL OBJECT...
#       runs COLD_BPFL (tests/bench/cold_bpfl.c) under valgrind's callgrind,
#       `open` and `load` on each OBJECT, and writes to ORDER the symbols of
#       every function that ran (root: load calls bpf()). `make startup-order`.
#   mk/startup-order.sh apply ARCHIVE ORDER
#       renames, in ARCHIVE, each function section `.text.SYM` with SYM on
#       line N of ORDER to `.text.sorted.N.SYM`: GNU ld's default script
#       (2.34+) places `.text.sorted.*` together, sorted by name. Run by
#       `make lib` on libbpfl.a; the cdylib gets the same order from lld's
#       --symbol-ordering-file (build.rs).
#   mk/startup-order.sh check ARCHIVE ORDER
#       says how many of ORDER's functions ARCHIVE groups (`make bench` does).
#
# ORDER holds exact (mangled) symbols, one per line, in the order wanted. A
# symbol the build no longer has is skipped: a stale list costs memory, never
# correctness.
set -eu

record() {
	order=$1 bin=$2; shift 2
	tmp=$(mktemp -d) pins=/sys/fs/bpf/bpfl-startup-order-$$
	trap 'rm -rf "$tmp" "$pins"' EXIT
	mkdir -p "$pins" 2>/dev/null || true
	i=0
	for obj in "$@"; do
		for mode in open load; do
			i=$((i + 1))
			# A failed load still counts what ran up to the failure.
			valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$i" --demangle=no \
				--compress-strings=no --compress-pos=no "$bin" "$mode" "$obj" "$pins" >/dev/null 2>&1 || true
			rm -rf "$pins"; mkdir -p "$pins" 2>/dev/null || true
		done
	done
	# A function ran in a run when its block (fn=NAME) has a cost line. Rank:
	# first what most `open` runs ran, then what most `load` runs ran, so that
	# the code every start needs comes first and rarer paths follow.
	for f in "$tmp"/cg.*; do
		awk -v run="${f##*.}" '/^fn=/ { f = substr($0, 4); next } /^[0-9+-]/ && f != "" && !seen[f]++ { print run, f }' "$f"
	done | awk '{ if ($1 % 2) open[$2]++; else load[$2]++; all[$2] = 1 }
		END { for (f in all) printf "%06d %06d %s\n", 999999 - open[f], 999999 - load[f], f }' |
		sort | awk '{ print $3 }' >"$tmp/ran"
	# Only symbols bpfl's library defines (not libc's, not the test program's).
	nm --defined-only "$bin" 2>/dev/null | awk '$2 ~ /^[tTwW]$/ && $3 !~ /^(main|_start|cold_.*)$/ { print $3 }' >"$tmp/defined"
	# ThinLTO's promoted locals end in .llvm.NUMBER, a number that changes
	# with the build directory: the list keeps the name without it.
	awk 'NR == FNR { d[$0] = 1; next } $0 in d { sub(/\.llvm\.[0-9]+$/, ""); if (!seen[$0]++) print }' \
		"$tmp/defined" "$tmp/ran" >"$order"
	echo "startup-order: $(wc -l <"$order") functions ran, written to $order"
}

apply() {
	archive=$1 order=$2
	[ -s "$order" ] || { echo "startup-order: no $order: $archive left as built" >&2; return 0; }
	args=$(mktemp)
	trap 'rm -f "$args" "$archive.tmp"' EXIT
	readelf -SW "$archive" 2>/dev/null |
		awk 'NR == FNR { rank[$0] = FNR; next }
		     { for (i = 1; i <= NF; i++) if ($i ~ /^\.text\./ && !seen[$i]++) {
		         s = substr($i, 7); b = s; sub(/\.llvm\.[0-9]+$/, "", b)
		         if (b in rank) printf "--rename-section %s=.text.sorted.%06d.%s\n", $i, rank[b], s } }' "$order" - >"$args"
	if [ -s "$args" ]; then
		objcopy @"$args" "$archive" "$archive.tmp" && mv "$archive.tmp" "$archive"
	fi
}

# How many of ORDER's functions ARCHIVE has grouped: a list recorded with
# another toolchain matches less (symbol hashes change), and says so.
check() {
	archive=$1 order=$2
	want=$(wc -l <"$order")
	got=$(readelf -SW "$archive" 2>/dev/null | grep -o '\.text\.sorted\.[0-9]*\.[^ ]*' |
		sed 's/^\.text\.sorted\.[0-9]*\.//; s/\.llvm\.[0-9]*$//' | sort -u | wc -l)
	echo "startup-order: $got of the $want functions in $order are grouped in $archive"
	[ $((got * 2)) -ge "$want" ] || echo "startup-order: fewer than half: re-record the list (make startup-order) for this toolchain" >&2
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
record) [ $# -ge 3 ] || { echo "usage: $0 record ORDER COLD_BPFL OBJECT..." >&2; exit 2; }; record "$@" ;;
apply) [ $# -eq 2 ] || { echo "usage: $0 apply ARCHIVE ORDER" >&2; exit 2; }; apply "$@" ;;
check) [ $# -eq 2 ] || { echo "usage: $0 check ARCHIVE ORDER" >&2; exit 2; }; check "$@" ;;
*) echo "usage: $0 record ORDER COLD_BPFL OBJECT... | apply|check ARCHIVE ORDER" >&2; exit 2 ;;
esac
