#!/bin/sh
# build-deb.sh OUTDIR: builds commentd's Debian package from this checkout
# into OUTDIR and checks it with lintian (an error fails, warnings are shown).
#
# The package is built from a copy of the source (the files git knows,
# committed or not, or the whole tree without build folders when there is
# no git), so the checkout stays clean and dpkg-buildpackage's outputs, which
# go to the parent of the source folder, land in OUTDIR:
#   OUTDIR/commentd_VERSION_ARCH.deb (and -dbgsym, .buildinfo, .changes,
#   lintian.txt).
# `tools/dev.sh deb` installs the build dependencies and calls this;
# tests/check-deb.py calls it too.  DEB_BUILD_OPTIONS passes through
# (nocheck skips the unit tests the package build runs).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: build-deb.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

rm -rf "$out/src" "$out"/commentd_* "$out"/commentd-dbgsym_* "$out/lintian.txt"
mkdir "$out/src"
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Deleted but uncommitted files are listed too: skip what is missing.
	# shellcheck disable=SC2016 # $f is the inner shell's
	(cd "$here" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done; true' sh |
		tar --null -T - -cf -) | tar -C "$out/src" -xf -
else
	(cd "$here" && tar --exclude='./build*' --exclude='./dev-state' \
		--exclude='node_modules' --exclude='./.git' -cf - .) | tar -C "$out/src" -xf -
fi

echo "build-deb: dpkg-buildpackage -us -uc -b in $out/src" >&2
(cd "$out/src" && dpkg-buildpackage -us -uc -b -jauto) >"$out/build.log" 2>&1 || {
	tail -n 60 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (the whole log: $out/build.log)" >&2
	exit 1
}
rm -rf "$out/src"

changes=$(ls "$out"/commentd_*.changes)
status=0
lintian --fail-on error --display-info "$changes" >"$out/lintian.txt" 2>&1 || status=$?
cat "$out/lintian.txt" >&2
if [ $status -ne 0 ]; then
	echo "build-deb: lintian reports errors (exit $status)" >&2
	exit 1
fi
ls "$out"/commentd_*.deb
