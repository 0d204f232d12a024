#!/bin/sh
# check-units.sh: the shipped systemd units pass `systemd-analyze verify` and
# score 1.5 or lower ("OK" or better) with `systemd-analyze security
# --offline=yes`.  TAP output.
#
# usage: check-units.sh SERVICE SOCKET INSTALLED_BIN BUILT_BIN MANPAGE...
#
# SERVICE and SOCKET are the units exactly as `meson install` installs them.
# verify checks that ExecStart's binary exists, and the installed one does
# not exist on a build machine, so verify runs on a copy whose ExecStart
# names the built binary instead; test 1 proves that this is the only
# difference.  verify also runs `man` for every Documentation= page: the
# built man pages are put on MANPATH, so those must exist too.
set -u
service=$1 socket=$2 installed=$3
built=$(readlink -f "$4") # meson passes it relative to the build directory
shift 4

if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ -n "${CI:-}" ]; then
		echo "1..1"
		echo "not ok 1 - systemd-analyze is missing (apt-get install systemd)"
		exit 1
	fi
	echo "1..0 # SKIP systemd-analyze is not installed"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
result() { # result STATUS NAME [OUTPUT_FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && grep -v "✓" "$3" | head -60 | sed "s/^/#   /"
	fi
}

mkdir -p "$tmp/units"
sed "s|^ExecStart=$installed |ExecStart=$built |" "$service" >"$tmp/units/commentd.service"
cp "$socket" "$tmp/units/commentd.socket"
for page in "$@"; do
	sec=${page##*.}
	mkdir -p "$tmp/man/man$sec"
	cp "$page" "$tmp/man/man$sec/"
done

# 1. The verified copy differs from the installed unit only in ExecStart.
diff "$service" "$tmp/units/commentd.service" >"$tmp/diff"
grep -c '^[<>]' "$tmp/diff" >"$tmp/count"
[ "$(cat "$tmp/count")" = 2 ] && grep -q "^< ExecStart=$installed " "$tmp/diff"
result $? "the unit runs $installed; the verified copy differs only in that path" "$tmp/diff"

# 2. systemd-analyze verify: no error, no warning at all.
MANPATH="$tmp/man" systemd-analyze verify \
	"$tmp/units/commentd.socket" "$tmp/units/commentd.service" >"$tmp/verify" 2>&1
status=$?
[ $status -eq 0 ] && [ ! -s "$tmp/verify" ]
result $? "systemd-analyze verify commentd.socket commentd.service: clean (exit $status)" "$tmp/verify"

# 3. The exposure score of the installed unit, gated at 1.5.
systemd-analyze security --offline=yes --threshold=15 "$service" >"$tmp/security" 2>&1
status=$?
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$tmp/security")
echo "# exposure: $(grep 'Overall exposure' "$tmp/security" | sed 's/^[^O]*//')"
[ $status -eq 0 ] && [ -n "$score" ]
result $? "systemd-analyze security --offline=yes --threshold=15: score ${score:-?} <= 1.5" "$tmp/security"

echo "1..$n"
[ $failed -eq 0 ]
