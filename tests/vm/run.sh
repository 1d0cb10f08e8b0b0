#!/bin/bash
# bpfl VM tests: boot Debian's distribution kernels under QEMU and run the
# kernel test suites inside (the host kernel has no kprobes). `make vmtest`
# builds the test binaries and calls this script; see docs/vm-tests.md.
#
#   tests/vm/run.sh [KERNEL...]      KERNEL: 6.1, 6.12, any other X.Y Debian
#                                    ships as linux-image-X.Y*-amd64-unsigned,
#                                    "all" (6.1 and 6.12), or a path to a bzImage.
#   tests/vm/run.sh fetch SERIES     only fetch (and cache) a kernel; prints its directory.
#
# Environment (all optional):
#   VM_CACHE     kernel cache (default ~/.cache/bpfl-vm)
#   VM_OUT       work directory: initramfs, logs (default build/vm)
#   VM_BIN       directory holding the guest test binaries `kernel` and `kprobe_tests` (default $VM_OUT/bin)
#   BPF_DIR      compiled BPF objects (default build/bpf)
#   VM_ACCEL     tcg (default) or kvm
#   VM_TIMEOUT   seconds before a guest is killed and reported as hung (default 240)
#   VM_MEM       guest memory in MiB (default 512); VM_SMP: vCPUs (default 1)
#   VM_JOBS      guests booted at once (default: number of host CPUs)
#   VM_VERBOSE   1: stream the guests' consoles while they run
#   VM_ALLOW_SKIP 1: a SKIPPED test inside a guest does not fail the run
#   VM_APPEND    extra kernel command line arguments
set -u
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VM_CACHE=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpfl-vm}
VM_OUT=${VM_OUT:-build/vm}
VM_BIN=${VM_BIN:-$VM_OUT/bin}
BPF_DIR=${BPF_DIR:-build/bpf}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_TIMEOUT=${VM_TIMEOUT:-240}
VM_MEM=${VM_MEM:-512}
VM_SMP=${VM_SMP:-1}
VM_JOBS=${VM_JOBS:-$(nproc 2>/dev/null || echo 1)}
VM_VERBOSE=${VM_VERBOSE:-0}
VM_ALLOW_SKIP=${VM_ALLOW_SKIP:-0}
VM_APPEND=${VM_APPEND:-}
DEFAULT_SERIES="6.1 6.12"
ARCH_SUFFIX=amd64
# What a guest kernel must have built in.
REQUIRED_CONFIG="BPF_SYSCALL KPROBES KPROBE_EVENTS BPF_EVENTS PERF_EVENTS DEBUG_INFO_BTF TRACING
  BLK_DEV_INITRD RD_GZIP DEVTMPFS SERIAL_8250 SERIAL_8250_CONSOLE TMPFS NET_NS"
# The modules the networking tests need (veth pairs, clsact, cls_bpf), taken
# from the same kernel package, decompressed, and loaded by /init. None of
# them depends on another module in Debian's 6.1 and 6.12 kernels.
NET_MODULES="kernel/drivers/net/veth kernel/net/sched/sch_ingress kernel/net/sched/cls_bpf"

say() { echo "vmtest: $*"; }
die() { echo "vmtest: error: $*" >&2; exit 2; }

# ---- kernels ----------------------------------------------------------------

# The newest Debian package name for series X.Y (generic amd64 flavour, unsigned).
newest_package() {
  local series=$1 re
  re="^linux-image-${series//./\\.}[.-][^ ]*-${ARCH_SUFFIX}-unsigned\$"
  apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$re" | grep -vE -- "-(cloud|rt)-${ARCH_SUFFIX}-unsigned\$" | sort -V | tail -1
}

# Fetch kernel series X.Y into the cache (once); prints the cache directory.
fetch_kernel() {
  local series=$1 pkg dir tmp deb
  command -v apt-cache >/dev/null || { echo "no apt-cache: cannot fetch Debian kernels (pass KERNEL=/path/to/bzImage)" >&2; return 1; }
  pkg=$(newest_package "$series")
  if [ -z "$pkg" ]; then
    # Not in the package lists: refresh them once.
    if [ "$(id -u)" = 0 ]; then
      echo "vmtest: no linux-image-$series*-$ARCH_SUFFIX-unsigned in the apt lists: apt-get update" >&2
      apt-get update -qq >&2 || true
      pkg=$(newest_package "$series")
    fi
  fi
  if [ -z "$pkg" ]; then
    # Offline or no such package: fall back to what the cache holds.
    dir=$(ls -d "$VM_CACHE"/linux-image-"$series"[.-]*-$ARCH_SUFFIX-unsigned 2>/dev/null | sort -V | tail -1)
    if [ -n "$dir" ] && [ -f "$dir/vmlinuz" ]; then echo "$dir"; return 0; fi
    echo "no Debian package linux-image-$series*-$ARCH_SUFFIX-unsigned found (apt sources: bookworm, bookworm-backports/security for 6.12)" >&2
    return 1
  fi
  dir=$VM_CACHE/$pkg
  # A cache entry from before the networking modules were kept is fetched again.
  if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/modules/.done" ]; then
    mkdir -p "$VM_CACHE" || return 1
    tmp=$(mktemp -d "$VM_CACHE/.fetch.XXXXXX") || return 1
    chmod 755 "$tmp"
    echo "vmtest: downloading $pkg" >&2
    if ! (cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed as root' >&2); then
      rm -rf "$tmp"; echo "apt-get download $pkg failed" >&2; return 1
    fi
    deb=$(ls "$tmp"/*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { rm -rf "$tmp"; echo "apt-get download $pkg produced no .deb" >&2; return 1; }
    # /boot, and the few modules of NET_MODULES (the rest is built in, checked below).
    mkdir -p "$tmp/x"
    local pats=() m f rel
    for m in $NET_MODULES; do pats+=("./lib/modules/*/$m.ko*"); done
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*' './boot/config-*' "${pats[@]}" ||
      { rm -rf "$tmp"; echo "cannot unpack $deb" >&2; return 1; }
    mkdir -p "$tmp/k"
    mv "$tmp"/x/boot/vmlinuz-* "$tmp/k/vmlinuz" && mv "$tmp"/x/boot/config-* "$tmp/k/config" &&
      basename "$deb" > "$tmp/k/package" || { rm -rf "$tmp"; return 1; }
    # modules/<uname -r>/NAME.ko, uncompressed (busybox insmod reads plain .ko).
    for f in $(find "$tmp/x/lib/modules" -name '*.ko*' 2>/dev/null); do
      rel=${f#"$tmp/x/lib/modules/"}; rel=${rel%%/*}
      mkdir -p "$tmp/k/modules/$rel"
      case $f in
        *.ko.xz) xz -dc "$f" > "$tmp/k/modules/$rel/$(basename "${f%.xz}")" ;;
        *.ko.zst) zstd -qdc "$f" > "$tmp/k/modules/$rel/$(basename "${f%.zst}")" ;;
        *.ko.gz) gzip -dc "$f" > "$tmp/k/modules/$rel/$(basename "${f%.gz}")" ;;
        *) cp "$f" "$tmp/k/modules/$rel/" ;;
      esac || { rm -rf "$tmp"; echo "cannot decompress $f" >&2; return 1; }
    done
    mkdir -p "$tmp/k/modules" && touch "$tmp/k/modules/.done"
    rm -rf "$dir"; mv "$tmp/k" "$dir"; rm -rf "$tmp"
  fi
  echo "$dir"
}

# Missing CONFIG_ options (built in) of a kernel config, space-separated.
missing_config() {
  local cfg=$1 o miss=""
  [ -f "$cfg" ] || { echo "(no config file)"; return; }
  for o in $REQUIRED_CONFIG; do grep -q "^CONFIG_$o=y" "$cfg" || miss="$miss $o"; done
  echo "$miss"
}

# ---- initramfs --------------------------------------------------------------

is_static() { ! ldd "$1" >/dev/null 2>&1; }

# Copy binary $1 to $2 in the image root $3, with its loader and shared libraries if dynamic.
install_bin() {
  local src=$1 dst=$2 root=$3 lib
  mkdir -p "$root/$(dirname "$dst")"
  cp "$src" "$root/$dst" && chmod 755 "$root/$dst"
  strip --strip-debug "$root/$dst" 2>/dev/null || true
  if ! is_static "$src"; then
    for lib in $(ldd "$src" | grep -oE '/[^ ]+'); do
      [ -f "$root$lib" ] && continue
      mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
    done
  fi
}

build_initramfs() {
  local root=$VM_OUT/initramfs out=$VM_OUT/initramfs.gz bb
  bb=$(command -v busybox || echo /bin/busybox)
  [ -x "$bb" ] || die "busybox not found (apt-get install busybox-static)"
  is_static "$bb" || die "$bb is not static (apt-get install busybox-static)"
  command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
  [ -x "$VM_BIN/kernel" ] || die "$VM_BIN/kernel missing (make vmtest builds it)"
  [ -x "$VM_BIN/kprobe_tests" ] || die "$VM_BIN/kprobe_tests missing (make vmtest builds it)"
  ls "$BPF_DIR"/*.o >/dev/null 2>&1 || die "no BPF objects in $BPF_DIR (make bpf)"
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,run,bpfl/bpf}
  cp "$bb" "$root/bin/busybox"
  cp "$HERE/init" "$root/init" && chmod 755 "$root/init"
  install_bin "$VM_BIN/kernel" /bpfl/kernel "$root"
  install_bin "$VM_BIN/kprobe_tests" /bpfl/kprobe_tests "$root"
  # The USDT/uprobe target of tests/kernel/probes.rs, found as $BPFL_BPF_DIR/../usdt_target.
  [ -x "$VM_BIN/usdt_target" ] && install_bin "$VM_BIN/usdt_target" /bpfl/usdt_target "$root"
  cp "$BPF_DIR"/*.o "$root/bpfl/bpf/"
  # Each kernel's config where a Debian system has it (/boot/config-$(uname -r)):
  # bpfl reads CONFIG_* values for __kconfig externs from there (Debian
  # kernels have no /proc/config.gz).
  local i
  for i in "${!cfg_labels[@]}"; do
    mkdir -p "$root/boot" && cp "${cfg_files[$i]}" "$root/boot/config-${cfg_labels[$i]}"
    # Each kernel's networking modules, under /lib/modules/<uname -r>/ (loaded by init).
    if [ -d "$(dirname "${cfg_files[$i]}")/modules" ]; then
      mkdir -p "$root/lib/modules" && cp -r "$(dirname "${cfg_files[$i]}")"/modules/*/ "$root/lib/modules/" 2>/dev/null
    fi
  done
  # iproute2's ip and tc (with their libraries), for the networking tests'
  # namespaces, veth pairs and qdisc/filter checks: busybox's ip has no netns
  # or veth, and its tc no clsact.
  local t
  for t in ip tc; do
    t=$(command -v $t) && install_bin "$t" "/usr/local/sbin/${t##*/}" "$root"
  done
  mkdir -p "$root/var" && ln -s ../run "$root/var/run"
  # name, then the command the guest runs (see init).
  printf '%s\n' "kernel /bpfl/kernel" "kprobe /bpfl/kprobe_tests /bpfl/bpf" > "$root/bpfl/suites"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) > "$out.tmp" && mv "$out.tmp" "$out" ||
    die "cannot build $out"
  say "initramfs $out: $(du -h "$out" | cut -f1)"
}

# ---- boot and report --------------------------------------------------------

# boot LABEL VMLINUZ: run one guest; its files land in $VM_OUT/LABEL/.
boot() {
  local label=$1 kernel=$2 d=$VM_OUT/$1 accel t0 rc
  rm -rf "$d"; mkdir -p "$d"
  case $VM_ACCEL in
    kvm) accel="-accel kvm -cpu host" ;;
    tcg) accel="-accel tcg -cpu max" ;;
    *) accel="-accel $VM_ACCEL" ;;
  esac
  t0=$(date +%s.%N)
  # -nodefaults: no VGA, NIC or default serial; ttyS0 = console, ttyS1 = results.
  timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 $accel -smp "$VM_SMP" -m "$VM_MEM" \
    -nodefaults -no-user-config -display none -no-reboot -monitor none \
    -serial "file:$d/console.log" -serial "file:$d/results.log" \
    -kernel "$kernel" -initrd "$VM_OUT/initramfs.gz" \
    -append "console=ttyS0 quiet panic=-1${VM_APPEND:+ $VM_APPEND}" </dev/null >"$d/qemu.log" 2>&1
  rc=$?
  echo "$rc" > "$d/qemu.rc"
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' > "$d/wall"
}

# Parse $VM_OUT/LABEL/results.log into "suite passed failed skipped secs result" lines.
report_kernel() {
  local label=$1 d=$VM_OUT/$1 suite
  cat "$d/results.log" 2>/dev/null | awk -v allow_skip="$VM_ALLOW_SKIP" '
    { sub(/\r$/, "") }
    /^@@BPFL-VM begin / { s = $3; order[++n] = s; began[s] = 1; next }
    /^@@BPFL-VM end / {
      s = $3; ended[s] = 1
      for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "rc") rc[s] = kv[2]; if (kv[1] == "secs") secs[s] = kv[2] }
      next }
    /^@@BPFL-VM done/ { done = 1; next }
    # A feature the kernel is too old for: expected, not a failure.
    /^SKIPPED / && /needs Linux [0-9]/ && s != "" && !ended[s] { old[s]++ }
    /^[0-9]+ passed, [0-9]+ failed/ && s != "" && !ended[s] {
      p[s] = $1; f[s] = $3; k[s] = ($5 == "" ? 0 : $5); summary[s] = 1 }
    END {
      for (i = 1; i <= n; i++) {
        s = order[i]
        if (!ended[s]) res = "FAIL (no result: guest hung or crashed)"
        else if (!summary[s]) res = "FAIL (no summary line, rc=" rc[s] ")"
        else if (rc[s] != 0 || f[s] > 0) res = "FAIL"
        else if (k[s] - old[s] > 0 && allow_skip != 1) res = "FAIL (tests skipped)"
        else if (p[s] == 0) res = "FAIL (nothing ran)"
        else res = "PASS"
        printf "%s %s %s %s %s %s\n", s, (summary[s] ? p[s] : "-"), (summary[s] ? f[s] : "-"), (summary[s] ? k[s] : "-"), (ended[s] ? secs[s] : "-"), res
      }
      if (!done) {
        missing = 0; for (i = 1; i <= n; i++) if (!ended[order[i]]) missing = 1
        if (n == 0) printf "- - - - - FAIL (guest reported nothing: no boot?)\n"
        else if (!missing) printf "- - - - - FAIL (guest did not finish)\n"
      }
    }'
}

run_all() {
  local specs=() labels=() kernels=() s dir miss label i running=0 any_fail=0 line
  [ $# -eq 0 ] && set -- all
  for s in "$@"; do
    for s in ${s//,/ }; do
      if [ "$s" = all ]; then specs+=($DEFAULT_SERIES); else specs+=("$s"); fi
    done
  done
  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
  if [ "$VM_ACCEL" = kvm ] && ! [ -w /dev/kvm ]; then die "VM_ACCEL=kvm but /dev/kvm is not usable"; fi

  mkdir -p "$VM_OUT"
  local fetch_fail=()
  cfg_labels=(); cfg_files=()
  for s in "${specs[@]}"; do
    if [ -f "$s" ]; then
      labels+=("$(basename "$s")"); kernels+=("$s"); continue
    fi
    if ! dir=$(fetch_kernel "$s"); then
      fetch_fail+=("$s"); continue
    fi
    miss=$(missing_config "$dir/config")
    [ -z "$miss" ] || say "warning: $(basename "$dir") lacks built-in:$miss"
    label=${dir##*/linux-image-}; label=${label%-unsigned}
    labels+=("$label"); kernels+=("$dir/vmlinuz")
    cfg_labels+=("$label"); cfg_files+=("$dir/config")
  done

  build_initramfs
  local t_all=$(date +%s)
  say "booting ${#kernels[@]} kernel(s) with $VM_ACCEL (${VM_SMP} vCPU, ${VM_MEM} MiB, timeout ${VM_TIMEOUT}s, $VM_JOBS at once)"
  local pids=()
  for i in "${!kernels[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$VM_JOBS" ]; do wait -n; done
    say "boot ${labels[$i]} ($(cat "$(dirname "${kernels[$i]}")/package" 2>/dev/null || echo "${kernels[$i]}"))"
    boot "${labels[$i]}" "${kernels[$i]}" &
    pids+=($!)
    if [ "$VM_VERBOSE" = 1 ]; then
      (sleep 0.5; tail -n +1 -F --pid="${pids[-1]}" "$VM_OUT/${labels[$i]}/console.log" 2>/dev/null | sed -u "s/^/[${labels[$i]}] /") &
    fi
  done
  wait
  local elapsed=$(( $(date +%s) - t_all ))

  echo
  echo "bpfl VM tests ($VM_ACCEL, $VM_SMP vCPU, $VM_MEM MiB)"
  printf '%-26s %-8s %6s %6s %7s %6s %6s  %s\n' kernel suite passed failed skipped secs 'vm s' result
  printf '%-26s %-8s %6s %6s %7s %6s %6s  %s\n' -------------------------- -------- ------ ------ ------- ------ ------ ------
  for i in "${!labels[@]}"; do
    label=${labels[$i]}
    local d=$VM_OUT/$label qrc wall first=1 kfail=0
    qrc=$(cat "$d/qemu.rc" 2>/dev/null || echo '?'); wall=$(cat "$d/wall" 2>/dev/null || echo '?')
    while read -r suite p f k secs res; do
      if [ "$suite" = - ]; then
        # A guest-level failure; a killed guest gets its own row below.
        [ "$qrc" = 124 ] || [ "$qrc" = 137 ] && { kfail=1; continue; }
        suite=""
      fi
      [ "$res" = PASS ] || kfail=1
      printf '%-26s %-8s %6s %6s %7s %6s %6s  %s\n' "$([ $first = 1 ] && echo "$label")" "$suite" "$p" "$f" "$k" "$secs" \
        "$([ $first = 1 ] && echo "$wall")" "$res"
      first=0
    done < <(report_kernel "$label")
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
      printf '%-26s %-8s %6s %6s %7s %6s %6s  %s\n' "$([ $first = 1 ] && echo "$label")" "" "" "" "" "" "$wall" \
        "FAIL (guest killed after the ${VM_TIMEOUT}s timeout: hung)"
      kfail=1
    elif [ "$qrc" != 0 ]; then
      printf '%-26s %-8s %6s %6s %7s %6s %6s  %s\n' "$([ $first = 1 ] && echo "$label")" "" "" "" "" "" "$wall" \
        "FAIL (qemu exited with $qrc: $(tail -1 "$d/qemu.log" 2>/dev/null))"
      kfail=1
    fi
    local panic
    panic=$(tr -d '\r' < "$d/console.log" 2>/dev/null | grep -m1 -o 'Kernel panic - .*')
    if [ -n "$panic" ]; then
      printf '%-26s %-8s %6s %6s %7s %6s %6s  %s\n' "" "" "" "" "" "" "" "FAIL ($panic)"
      kfail=1
    fi
    if [ $kfail = 1 ]; then
      any_fail=1
      failed_kernels+=("$label")
    fi
  done
  for s in "${fetch_fail[@]}"; do
    printf '%-26s %-8s %6s %6s %7s %6s %6s  %s\n' "$s" "" "" "" "" "" "" "FAIL (kernel not available, see above)"
    any_fail=1
  done
  echo
  for label in "${failed_kernels[@]}"; do
    local d=$VM_OUT/$label
    echo "---- $label: failures (full console: $d/console.log, results: $d/results.log)"
    tr -d '\r' < "$d/results.log" 2>/dev/null | grep -E '^(FAIL|SKIPPED)' | sed 's/^/    /'
    echo "---- $label: last console lines"
    tail -n 25 "$d/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/    /'
  done
  local total=0 np=0 nf=0
  for i in "${!labels[@]}"; do total=$((total + 1)); done
  nf=$(( ${#failed_kernels[@]} + ${#fetch_fail[@]} ))
  np=$(( total - ${#failed_kernels[@]} ))
  echo "vmtest: ${elapsed}s for ${#labels[@]} kernel(s); logs in $VM_OUT/<kernel>/"
  echo "$np passed, $nf failed"
  return $any_fail
}

failed_kernels=()
case "${1:-}" in
  fetch) shift; fetch_kernel "${1:?usage: run.sh fetch SERIES}" ;;
  -h|--help) sed -n '2,25p' "$0" ;;
  *) run_all "$@" ;;
esac
