#!/bin/sh
# Runs the C examples against the real kernel and checks the values they print.
#   tests/c/examples.sh BIN_DIR BPF_DIR
# BIN_DIR holds getppid_count, pinned and pin_fixture (built by `make test-c-examples`).
set -u
BIN=$1
BPF=$2
. "$(dirname "$0")/../tap.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIPPED: C examples (they load BPF programs: run as root)"
	exit 0
fi

# ---- getppid_count: prints what seed_tp.o counted for N getppid() calls -----
for obj in seed_tp.o seed_tp.llc.o; do
	for n in 0 1 37 1000; do
		out=$("$BIN/getppid_count" "$BPF/$obj" $n 2>&1); rc=$?
		if [ $rc != 0 ]; then bad "getppid_count $obj $n: exit $rc: $out"; continue; fi
		has_line "$out" "attached 2 programs" "getppid_count $obj $n: attached both tracepoints"
		has_line "$out" "getppid() calls: $n" "getppid_count $obj $n: made $n calls"
		has_line "$out" "enter: $n  exit: $n" "getppid_count $obj $n: by_key enter/exit == $n"
		has_line "$out" "counted: $n" "getppid_count $obj $n: per_pid == $n"
	done
done
out=$("$BIN/getppid_count" "$BPF/no-such-object.o" 3 2>&1); rc=$?
if [ $rc = 1 ] && printf '%s' "$out" | grep -q "no-such-object.o" && printf '%s' "$out" | grep -q "No such file"; then
	ok "getppid_count: a missing object fails with its path and ENOENT"
else bad "getppid_count: missing object: exit $rc: $out"; fi

# ---- pinned: dumps maps that modern.o's programs filled and pinned ----------
PIN=/sys/fs/bpf/bpfl-cex-$$
cleanup() { rm -f "$PIN/pinned_counts" "$PIN/by_kind" "$PIN/percpu"; rmdir "$PIN" 2>/dev/null; }
trap cleanup EXIT INT TERM
NP=7 NT=3
if ! "$BIN/pin_fixture" "$BPF" "$PIN" $NP $NT; then
	bad "pin_fixture could not pin modern.o's maps"
else
	out=$("$BIN/pinned" "$PIN/pinned_counts" 2>&1); rc=$?
	[ $rc = 0 ] && ok "pinned pinned_counts: exit 0" || bad "pinned pinned_counts: exit $rc"
	has_line "$out" "map 'pinned_counts': type 1, key 4 B, value 8 B, max_entries 16" "pinned pinned_counts: header (hash u32 -> u64)"
	has_line "$out" "0 => $NP" "pinned pinned_counts: [0] == $NP getpid calls"
	has_line "$out" "1 => $NT" "pinned pinned_counts: [1] == $NT gettid calls"
	has_line "$out" "9 => 3735928559" "pinned pinned_counts: [9] == 0xdeadbeef (user space)"
	has_line "$out" "entries: 3" "pinned pinned_counts: 3 entries"

	out=$("$BIN/pinned" "$PIN/by_kind" 2>&1)
	has_line "$out" "map 'by_kind': type 2, key 4 B, value 8 B, max_entries 4" "pinned by_kind: header (array)"
	has_line "$out" "0 => $NP" "pinned by_kind: [0] == $NP (tp/)"
	has_line "$out" "1 => $NT" "pinned by_kind: [1] == $NT (tracepoint/)"
	has_line "$out" "2 => $NP" "pinned by_kind: [2] == $NP (raw_tracepoint)"
	has_line "$out" "3 => 4660" "pinned by_kind: [3] == magic 0x1234 (.data)"
	has_line "$out" "entries: 4" "pinned by_kind: 4 entries"

	out=$("$BIN/pinned" "$PIN/percpu" 2>&1)
	has_line "$out" "map 'percpu': type 6, key 4 B, value 8 B, max_entries 1" "pinned percpu: header (per-CPU array)"
	if printf '%s\n' "$out" | grep -qE "^0 => \[[0-9 ]+\] sum=$((NP + NT))\$"; then
		ok "pinned percpu: per-CPU values sum to $((NP + NT))"
	else bad "pinned percpu: no sum=$((NP + NT)) in: $out"; fi
fi
out=$("$BIN/pinned" "$PIN/nothing-here" 2>&1); rc=$?
if [ $rc = 1 ] && printf '%s' "$out" | grep -q "nothing-here"; then
	ok "pinned: a missing pin fails and names the path"
else bad "pinned: missing pin: exit $rc: $out"; fi

# ---- xdp_count: counts the packets a veth end receives ----------------------
# The far end lives in a namespace and sends N UDP datagrams (bash's
# /dev/udp); IPv6 and multicast are off and the neighbour entries static, so they are the
# only packets that arrive.
NS=bpflcex$$ A=bcxa$$ B=bcxb$$ N=5
if command -v bash >/dev/null && ip netns add $NS 2>/dev/null && ip link add $A type veth peer name $B netns $NS 2>/dev/null; then
	sysctl -qw net.ipv6.conf.$A.disable_ipv6=1
	ip netns exec $NS sysctl -qw net.ipv6.conf.$B.disable_ipv6=1
	ip addr add 10.251.$(($$ % 250)).1/24 dev $A && ip link set $A up
	# No multicast: no IGMP reports on the wire.
	ip -n $NS link set $B multicast off
	ip -n $NS addr add 10.251.$(($$ % 250)).2/24 dev $B && ip -n $NS link set $B up
	ip -n $NS neigh replace 10.251.$(($$ % 250)).1 lladdr "$(cat /sys/class/net/$A/address)" dev $B nud permanent
	# And the other way, for the ICMP port-unreachable replies (no ARP reply comes back).
	ip neigh replace 10.251.$(($$ % 250)).2 lladdr "$(ip netns exec $NS cat /sys/class/net/$B/address)" dev $A nud permanent
	"$BIN/xdp_count" "$BPF/xdp_count.o" $A 3 > /tmp/bpfl-cex-xdp.$$ 2>&1 &
	pid=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do grep -q attached /tmp/bpfl-cex-xdp.$$ && break; sleep 0.2; done
	ip netns exec $NS bash -c "for i in \$(seq $N); do echo x > /dev/udp/10.251.$(($$ % 250)).1/9; done"
	wait $pid; rc=$?
	out=$(cat /tmp/bpfl-cex-xdp.$$); rm -f /tmp/bpfl-cex-xdp.$$
	[ $rc = 0 ] && ok "xdp_count: exit 0" || bad "xdp_count: exit $rc: $out"
	has_line "$out" "attached to $A (ifindex $(cat /sys/class/net/$A/ifindex), generic mode)" "xdp_count: attached to the veth end"
	has_line "$out" "total: $N" "xdp_count: counted exactly the $N datagrams"
	ip link del $A; ip netns del $NS
	out=$("$BIN/xdp_count" "$BPF/xdp_count.o" nosuchif0 1 2>&1); rc=$?
	if [ $rc = 1 ] && printf '%s' "$out" | grep -q "nosuchif0"; then ok "xdp_count: a missing interface fails and names it"
	else bad "xdp_count: missing interface: exit $rc: $out"; fi
else
	ip netns del $NS 2>/dev/null
	echo "SKIPPED: xdp_count (cannot make a veth pair in a namespace here)"
fi

echo "C examples: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
