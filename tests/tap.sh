# The pass/fail/skip bookkeeping of the shell tests (sourced by
# tests/pkg/test_{pkg,user,deb}.sh, tests/c/examples.sh, tests/skel/run.sh).
pass=0 fail=0 skip=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
# chk DESC CMD...: CMD's success is the check.
chk() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
# run DESC CMD...: a kernel run; exit 77 counts as skipped.
run() {
	desc=$1; shift
	out=$("$@" 2>&1); rc=$?
	if [ $rc = 0 ]; then ok "$desc: $(printf '%s' "$out" | tail -n1)"
	elif [ $rc = 77 ]; then skip=$((skip + 1)); echo "SKIPPED: $desc (needs root and bpf())"
	else bad "$desc: exit $rc"; printf '%s\n' "$out" | sed 's/^/    /'; fi
}
# has_line OUTPUT LINE DESC: OUTPUT has LINE as a whole line.
has_line() { if printf '%s\n' "$1" | grep -qxF -- "$2"; then ok "$3"; else bad "$3: no line '$2' in:"; printf '%s\n' "$1" | sed 's/^/    /'; fi; }
# summary WHAT: the counts line; fails when any check failed.
summary() { echo "$1: $pass passed, $fail failed, $skip skipped"; [ $fail = 0 ]; }
