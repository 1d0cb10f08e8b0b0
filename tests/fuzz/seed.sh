#!/bin/sh
# Seeds for the fuzz targets from real objects: each object whole (object),
# its .BTF (btf), and its .BTF as a length-prefixed blob followed by its
# .BTF.ext (btf_ext, the input format of bpfl_obj::fuzz::btf_ext).
# Usage: seed.sh OUT_DIR OBJECT...
set -eu
out=$1; shift
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
mkdir -p "$out/object" "$out/btf" "$out/btf_ext"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for o in "$@"; do
  n=$(basename "$o" .o)
  cp "$o" "$out/object/$n.o"
  rm -f "$tmp/btf" "$tmp/ext"
  $OBJCOPY --dump-section .BTF="$tmp/btf" "$o" "$tmp/junk" 2>/dev/null || continue
  [ -s "$tmp/btf" ] || continue
  cp "$tmp/btf" "$out/btf/$n"
  $OBJCOPY --dump-section .BTF.ext="$tmp/ext" "$o" "$tmp/junk" 2>/dev/null || continue
  [ -s "$tmp/ext" ] || continue
  python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); e=open(sys.argv[2],"rb").read(); sys.stdout.buffer.write(struct.pack("<I",len(b))+b+e)' "$tmp/btf" "$tmp/ext" > "$out/btf_ext/$n"
done
echo "seeds: $(ls "$out/object" | wc -l) objects, $(ls "$out/btf" | wc -l) BTF, $(ls "$out/btf_ext" | wc -l) BTF.ext in $out"
