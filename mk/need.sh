#!/bin/sh
# mk/need.sh TARGET PACKAGE=CHECK...
#
# Makes sure the tools a make target needs are there. CHECK says how to tell
# that PACKAGE's part is present: a command name or path to a command
# (`command -v`), an absolute path ending in .h (the file exists), or nothing
# (the Debian package is installed). Tools found on PATH count whatever
# installed them, so a user with clang-19 or Go from elsewhere is not stopped.
# Missing ones are installed with apt when running as root; otherwise the
# message names them and how to get them.
set -u
target=$1; shift

present() { # PACKAGE CHECK
	case $2 in
	'') dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' ;;
	/*.h) [ -e "$2" ] ;;
	*) command -v "$2" >/dev/null 2>&1 ;;
	esac
}

missing() {
	out=""
	for spec in "$@"; do
		pkg=${spec%%=*}; check=${spec#*=}
		present "$pkg" "$check" || case " $out " in *" $pkg "*) ;; *) out="$out $pkg" ;; esac
	done
	echo "$out"
}

pkgs=$(missing "$@")
[ -z "$pkgs" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "$target: installing$pkgs"
	# Try the current apt lists first; a fresh machine has none, so update then.
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null; } ||
		{ echo "$target: apt-get could not install$pkgs" >&2; exit 1; }
	pkgs=$(missing "$@")
	[ -z "$pkgs" ] && exit 0
	echo "$target: still missing after apt-get:$pkgs (is the command on PATH?)" >&2
	exit 1
fi

for spec in "$@"; do
	pkg=${spec%%=*}; check=${spec#*=}
	present "$pkg" "$check" || echo "$target: missing ${check:-the package $pkg} (Debian package $pkg)" >&2
done
echo "$target: install$pkgs (as root 'make $target' does it with apt), or put the tools on PATH" >&2
exit 1
