#!/bin/sh
# The skeleton of every BPF object in BPF_DIR compiles, in every language:
# C and C++ (with the warnings the project builds with; their size and
# offset assertions), Go (go vet, its compile-time size checks; all in one
# package, as the NAME prefixes allow) and Nim (nim check, its static
# asserts). An object bpfl refuses to open (bad_maps.o, on purpose) is left
# out with a line saying so.
#   tests/skel/all.sh BPFL BPF_DIR OUT_DIR   (run by make test-skel, with the Go environment of mk/go.mk)
set -u
BPFL=$1 BPF=$2 OUT=$3
rm -rf "$OUT" && mkdir -p "$OUT/c" "$OUT/nim" "$OUT/go/examples/all"
n=0 fail=0 refused=0
for o in "$BPF"/*.o; do
	b=$(basename "$o" .o | tr -c 'a-zA-Z0-9\n' _)
	name=x_$b
	if ! "$BPFL" gen skeleton "$o" --lang c --name "$name" -o "$OUT/c/$b.h" 2>"$OUT/c/$b.err"; then
		echo "left out: $(cat "$OUT/c/$b.err")"; refused=$((refused + 1)); continue
	fi
	"$BPFL" gen skeleton "$o" --lang cpp --name "$name" -o "$OUT/c/$b.hpp" &&
	"$BPFL" gen skeleton "$o" --lang nim --name "$name" -o "$OUT/nim/${name}_skel.nim" &&
	"$BPFL" gen skeleton "$o" --lang go --name "$name" -o "$OUT/go/examples/all/${name}_bpfl.go" || { fail=$((fail + 1)); continue; }
	printf '#include "%s.h"\nint main(void) { return 0; }\n' "$b" > "$OUT/c/$b.c"
	printf '#include "%s.hpp"\nint main() { return 0; }\n' "$b" > "$OUT/c/$b.cpp"
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic -I include -fsyntax-only "$OUT/c/$b.c" || { echo "FAIL - C skeleton of $o"; fail=$((fail + 1)); }
	${CXX:-c++} -std=c++17 -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wsign-conversion -I include -I bindings/cpp -fsyntax-only "$OUT/c/$b.cpp" || { echo "FAIL - C++ skeleton of $o"; fail=$((fail + 1)); }
	echo "import ${name}_skel" >> "$OUT/nim/all.nim"
	n=$((n + 1))
done
${NIM:-nim} check --hints:off --warning:UnusedImport:off -p:bindings/nim/src "$OUT/nim/all.nim" || { echo "FAIL - Nim skeletons"; fail=$((fail + 1)); }
# Go: a module over the checkout's binding, one package holding every skeleton.
printf 'module skelall\n\ngo 1.19\n\nrequire bpfl.dev/bpfl v0.0.0\n\nreplace bpfl.dev/bpfl => %s\n' "$(pwd)/bindings/go" > "$OUT/go/examples/all/go.mod"
printf 'package main\n\nfunc main() {}\n' > "$OUT/go/examples/all/main.go"
bad=$(gofmt -l "$OUT/go/examples/all") && [ -z "$bad" ] || { echo "FAIL - Go skeletons not gofmt-ed: $bad"; fail=$((fail + 1)); }
(cd "$OUT/go/examples/all" && ${GO:-go} vet .) || { echo "FAIL - Go skeletons"; fail=$((fail + 1)); }
echo "skeletons of every object: $n objects x 4 languages compiled, $fail failed, $refused left out (bpfl refuses them)"
[ $fail = 0 ]
