#!/bin/sh
# Runs every libFuzzer target for a bounded time (see docs/fuzzing.md).
#
#   tests/fuzz/run.sh [BUILD_DIR [TARGET...]]
#
# BUILD_DIR is a build configured with -Dfuzzing=true (default: build-fuzz):
#   CC=clang meson setup build-fuzz -Dfuzzing=true -Db_lundef=false
# Each target fuzzes a temporary copy of tests/fuzz/corpus/<target>/ (the
# tree is never written) for FUZZ_SECONDS (default 30).  Crash, leak,
# timeout and OOM inputs are kept in FUZZ_ARTIFACTS (default: a fresh
# directory under /tmp, printed) and make the script exit 1.
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_ARTIFACTS where reproducers go (default: mktemp -d)
#   FUZZ_MERGE=1   afterwards, minimise the grown corpus back into
#                  tests/fuzz/corpus/<target>/ with -merge=1 (hand-written
#                  seeds and crash-* reproducers are always kept)
#   FUZZ_ARGS      extra libFuzzer flags (e.g. "-jobs=2 -workers=2")
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-fuzz}
[ $# -gt 0 ] && shift
seconds=${FUZZ_SECONDS:-30}
targets=${*:-akismet config form import-disqus import-html import-isso import-jsonl import-remark42 import-waline import-wxr json-comment jsontext net query render tokenize}
if [ -n "${FUZZ_ARTIFACTS:-}" ]; then
	artifacts=$FUZZ_ARTIFACTS
	own_artifacts=0
else
	artifacts=$(mktemp -d /tmp/commentd-fuzz-artifacts.XXXXXX)
	own_artifacts=1
fi
work=$(mktemp -d /tmp/commentd-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# Minimises src plus the grown corpus back into src: hand-written files
# (any name that is not libFuzzer's 40-hex-digit SHA-1) are always kept;
# generated ones are replaced by those that -merge=1 selects for edge
# coverage beyond them (-use_counters=0 keeps the set small).
merge_corpus()
{
	m=$work/merge.$$
	rm -rf "$m" "$m.gen" && mkdir -p "$m" "$m.gen"
	for f in "$2"/*; do
		case $(basename "$f") in
		????????????????????????????????????????)
			cp "$f" "$m.gen"/ ;;
		*) cp "$f" "$m"/ ;;
		esac
	done
	"$1" -merge=1 -use_counters=0 -timeout=5 -rss_limit_mb=2048 "$m" "$m.gen" "$3" ||
		return 1
	find "$2" -maxdepth 1 -type f -regextype posix-egrep -regex '.*/[0-9a-f]{40}' -delete
	cp -n "$m"/* "$2"/
	rm -rf "$m" "$m.gen"
}

status=0
summary=""
for t in $targets; do
	bin=$build/tests/fuzz/fuzz-$t
	src=$here/corpus/$t
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin not built (configure with -Dfuzzing=true and run ninja)" >&2
		exit 2
	fi
	if ! "$bin" -help=1 >/dev/null 2>&1; then
		echo "run.sh: $bin is a replay binary, not libFuzzer (-Dfuzzing=true?)" >&2
		exit 2
	fi
	mkdir -p "$work/$t" "$artifacts/$t"
	cp "$src"/* "$work/$t"/
	dict=""
	[ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
	log=$artifacts/$t.log
	echo "== fuzz-$t: ${seconds}s"
	rc=0
	# shellcheck disable=SC2086 # FUZZ_ARGS and dict are word lists
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	"$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
		-print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
		-artifact_prefix="$artifacts/$t/" $dict ${FUZZ_ARGS:-} \
		"$work/$t" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	found=$(find "$artifacts/$t" -type f | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		status=1
		echo "fuzz-$t: FAILED (exit $rc); log $log; reproducers:"
		find "$artifacts/$t" -type f | sed 's/^/  /'
		tail -n 40 "$log"
		line="fuzz-$t: FAIL, ${execs:-?} execs"
	else
		line="fuzz-$t: ok, ${execs:-?} execs in ${seconds}s, corpus $(ls "$work/$t" | wc -l) files"
		if [ "${FUZZ_MERGE:-0}" = 1 ]; then
			merge_corpus "$bin" "$src" "$work/$t" >>"$log" 2>&1
			line="$line, merged into $src ($(ls "$src" | wc -l) files)"
		fi
	fi
	echo "$line"
	summary="$summary$line
"
done
echo
echo "== summary"
printf '%s' "$summary"
if [ "$status" -eq 0 ] && [ "$own_artifacts" = 1 ]; then
	rm -rf "$artifacts"
else
	echo "logs and reproducers: $artifacts"
fi
exit "$status"
