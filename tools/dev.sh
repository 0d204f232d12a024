#!/bin/sh
# commentd's developer entry point (README "Quick start").
#
#   tools/dev.sh run    install what is missing, build, start on 127.0.0.1:8080
#   tools/dev.sh test   install what is missing, build, run every test
#   tools/dev.sh deps   only install the Debian packages
#
# Environment: BUILD (build directory, default build), MESON_ARGS (extra
# `meson setup` arguments), LISTEN (run: address, default 127.0.0.1:8080),
# STATE (run: directory for the database and key, default ./dev-state).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
BUILD=${BUILD:-build}

# Debian 12 packages the build, the tests and the tools need.  nodejs and
# npm run the Akismet client libraries in tests/akismet/ (its run.py does
# `npm ci` there when node_modules is missing); chromium with them runs the
# browser tests in tests/e2e/ (playwright-core drives /usr/bin/chromium).
# The integration tests also run ss (iproute2), setpriv (util-linux), mount
# and umount (mount), systemd-socket-activate and systemd-analyze (systemd).
# wordpress (with its Akismet plugin), a theme, php and mariadb-server run
# the WordPress plugin end to end (tests/integration/test_wordpress.py starts
# its own php -S and mariadbd in a temporary directory).
# With CI set a test whose dependency is missing fails instead of skipping.
PACKAGES="gcc pkg-config meson ninja-build python3 sqlite3
libmicrohttpd-dev libsqlite3-dev libsodium-dev libjansson-dev libcmark-dev
libutf8proc-dev libicu-dev libpsl-dev libidn2-dev publicsuffix systemd nodejs npm chromium
iproute2 util-linux mount
wordpress wordpress-theme-twentytwentythree php-cli php-mysql mariadb-server"

deps() {
	missing=""
	for p in $PACKAGES; do
		# A nodejs from NodeSource bundles npm (and conflicts with Debian's).
		[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "dev.sh: installing$missing" >&2
		if [ "$(id -u)" != 0 ]; then
			echo "dev.sh: run as root (or install:$missing)" >&2
			exit 1
		fi
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
}

build() {
	if [ ! -f "$BUILD/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$BUILD" ${MESON_ARGS:-} >/dev/null
	fi
	meson compile -C "$BUILD"
}

case "${1:-}" in
deps)
	deps
	;;
run)
	deps
	build
	STATE=${STATE:-dev-state}
	mkdir -p "$STATE"
	# Only this development command generates a key for you.
	[ -f "$STATE/secret.key" ] || "$BUILD/daemon/commentd" --keygen "$STATE/secret.key"
	exec "$BUILD/daemon/commentd" --listen "${LISTEN:-127.0.0.1:8080}" \
		--db "$STATE/comments.db" --key "$STATE/secret.key" \
		--set "site_origins=http://${LISTEN:-127.0.0.1:8080} http://localhost:8080"
	;;
test)
	deps
	build
	status=0
	meson test -C "$BUILD" --print-errorlogs --num-processes 2 || status=$?
	# Skips are counted as skips; with CI set they fail the run.
	python3 tools/testsummary.py "$BUILD/meson-logs/testlog.json" || status=1
	exit $status
	;;
*)
	echo "usage: tools/dev.sh run|test|deps" >&2
	exit 2
	;;
esac
