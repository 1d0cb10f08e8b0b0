#!/bin/sh
# Runs the skeleton examples of every language (make skel-examples) against
# the kernel and checks the exact values they print for N getppid() calls:
# the .rodata filter (own pid; a child's N calls left out), .data's step 3
# written after load, .bss's total read through the skeleton and through
# the map, the counts map's typed value and the ring buffer's typed events.
#   tests/skel/run.sh BIN_DIR
set -u
BIN=$1
. "$(dirname "$0")/../tap.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIPPED: skeleton examples (they load BPF programs: run as root)"
	exit 0
fi
for lang in c cpp go nim; do
	for n in 1 37 500; do
		out=$("$BIN/skel_count_$lang" $n 2>&1); rc=$?
		if [ $rc != 0 ]; then bad "$lang $n: exit $rc: $out"; continue; fi
		has_line "$out" "calls: $n" "$lang $n: made $n calls"
		has_line "$out" "total: $((3 * n)) (.bss map: $((3 * n)))" "$lang $n: .bss total through the skeleton == the map == 3N (.data step written after load)"
		has_line "$out" "counts: $n calls, last step 3" "$lang $n: counts[pid] (typed value) == N, the child filtered out by .rodata"
		has_line "$out" "events: $n, seq sum $((3 * n * (n + 1) / 2)), fields ok" "$lang $n: N typed ring buffer events, every field as the program wrote it"
	done
done
echo "test-skel: $pass passed, $fail failed"
[ $fail = 0 ]
