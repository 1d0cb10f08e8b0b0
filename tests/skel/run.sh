#!/bin/sh
# Runs the skeleton examples of every language (make skel-examples) against
# the kernel and checks the exact values they print for N getppid() calls:
# the .rodata filter (own pid; a child's N calls left out), .data's step 3
# written after load, .bss's total read through the skeleton and through
# the map, the counts map's typed value and the ring buffer's typed events.
#   tests/skel/run.sh BIN_DIR
set -u
BIN=$1
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
has() { if printf '%s\n' "$1" | grep -qxF -- "$2"; then ok "$3"; else bad "$3: no line '$2' in:"; printf '%s\n' "$1" | sed 's/^/    /'; fi; }

if [ "$(id -u)" != 0 ]; then
	echo "SKIPPED: skeleton examples (they load BPF programs: run as root)"
	exit 0
fi
for lang in c cpp go nim; do
	for n in 1 37 500; do
		out=$("$BIN/skel_count_$lang" $n 2>&1); rc=$?
		if [ $rc != 0 ]; then bad "$lang $n: exit $rc: $out"; continue; fi
		has "$out" "calls: $n" "$lang $n: made $n calls"
		has "$out" "total: $((3 * n)) (.bss map: $((3 * n)))" "$lang $n: .bss total through the skeleton == the map == 3N (.data step written after load)"
		has "$out" "counts: $n calls, last step 3" "$lang $n: counts[pid] (typed value) == N, the child filtered out by .rodata"
		has "$out" "events: $n, seq sum $((3 * n * (n + 1) / 2)), fields ok" "$lang $n: N typed ring buffer events, every field as the program wrote it"
	done
done
echo "test-skel: $pass passed, $fail failed"
[ $fail = 0 ]
