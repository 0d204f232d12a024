#!/bin/sh
# commentd's developer entry point (README "Quick start").
#
#   tools/dev.sh run [--set NAME=VALUE]...
#                       install what is missing, build, start on 127.0.0.1:8080
#                       with the development state (STATE) and defaults; each
#                       --set overrides one setting (docs/configuration.md)
#   tools/dev.sh ctl ARGS...
#                       commentctl ARGS against the development state, e.g.
#                       `tools/dev.sh ctl token create --name me`
#   tools/dev.sh test   install what is missing, build, run every test
#   tools/dev.sh deb    install what is missing, build the Debian package into
#                       $BUILD/deb/ and check it with lintian
#   tools/dev.sh deps   only install the Debian packages
#
# Environment: BUILD (build directory, default build), MESON_ARGS (extra
# `meson setup` arguments), LISTEN (run: address, default 127.0.0.1:8080),
# STATE (run, ctl: directory for the database and key, default ./dev-state).
set -eu

caller=$(pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
BUILD=${BUILD:-build}

# A path relative to the checkout, made absolute.
absolute() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$here" "$1" ;;
	esac
}

# Debian 12 packages the build, the tests and the tools need.  nodejs and
# npm run the Akismet client libraries in tests/akismet/ (its run.py does
# `npm ci` there when node_modules is missing); chromium with them runs the
# browser tests in tests/e2e/ (playwright-core drives /usr/bin/chromium).
# The integration tests also run ss (iproute2), setpriv (util-linux), mount
# and umount (mount), systemd-socket-activate and systemd-analyze (systemd).
# wordpress (with its Akismet plugin), a theme, php and mariadb-server run
# the WordPress plugin end to end (tests/integration/test_wordpress.py starts
# its own php -S and mariadbd in a temporary directory).
# nginx, caddy and openssl run the documented nginx and Caddy sites in
# tests/integration/test_nginx.py and test_caddy.py; debhelper, dpkg-dev
# and lintian build and check the Debian package (tools/build-deb.sh,
# tests/check-deb.py).
# python3-aiosmtpd is the real SMTP server the notification tests start
# (tests/smtp-sink.py, run by Debian's /usr/bin/python3); libcurl sends mail.
# libpq-dev builds the PostgreSQL engine (lib/store_pg.c); postgresql-15 is
# the server tests/pgserver.py starts in a temporary directory for the tests.
# With CI set a test whose dependency is missing fails instead of skipping.
PACKAGES="gcc pkg-config meson ninja-build python3 sqlite3
libmicrohttpd-dev libsqlite3-dev libsodium-dev libjansson-dev libcmark-dev
libutf8proc-dev libicu-dev libpsl-dev libidn2-dev publicsuffix libexpat1-dev libxml2-dev zlib1g-dev
libcurl4-openssl-dev systemd nodejs npm chromium iproute2 util-linux mount nginx caddy openssl
debhelper dpkg-dev lintian wordpress wordpress-theme-twentytwentythree php-cli php-mysql mariadb-server
python3-aiosmtpd libpq-dev postgresql-15"

deps() {
	missing=""
	for p in $PACKAGES; do
		# A nodejs from NodeSource bundles npm (and conflicts with Debian's).
		[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
		installed "$p" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		need_root "$missing"
		apt-get update -qq
		# shellcheck disable=SC2086 # a list of names
		apt_quietly install $missing
	fi
}

# Only what building the package needs (debian/control's Build-Depends, and
# lintian), not the test tools: `tools/dev.sh deb` may run on a small server.
deb_deps() {
	missing=""
	for p in dpkg-dev debhelper lintian; do
		installed "$p" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		need_root "$missing"
		apt-get update -qq
		# shellcheck disable=SC2086 # a list of names
		apt_quietly install $missing
	fi
	if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
		need_root " the build dependencies in debian/control"
		apt-get update -qq
		apt_quietly build-dep ./
	fi
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

need_root() {
	echo "dev.sh: installing$1" >&2
	if [ "$(id -u)" != 0 ]; then
		echo "dev.sh: run as root (or install:$1)" >&2
		exit 1
	fi
}

# apt-get install (or build-dep) without starting the services the packages
# bring (nginx would take port 80, caddy ports 80 and 2019, its admin
# endpoint): the tests start their own, in temporary folders, on free ports.
# invoke-rc.d and deb-systemd-invoke (which caddy's postinst uses) ask
# policy-rc.d first; 101 means "not now".
apt_quietly() {
	policy=/usr/sbin/policy-rc.d
	own_policy=""
	if [ ! -e "$policy" ]; then
		# Never left behind, even when interrupted.
		trap 'rm -f "$policy"' EXIT
		trap 'exit 130' INT TERM
		printf '#!/bin/sh\n# tools/dev.sh: no service starts during its apt-get\nexit 101\n' \
			>"$policy"
		chmod 0755 "$policy"
		own_policy=yes
	fi
	status=0
	DEBIAN_FRONTEND=noninteractive apt-get "$@" -y -qq --no-install-recommends >/dev/null ||
		status=$?
	if [ -n "$own_policy" ]; then
		rm -f "$policy"
		trap - EXIT INT TERM
	fi
	return $status
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
	shift
	deps
	build
	STATE=${STATE:-dev-state}
	LISTEN=${LISTEN:-127.0.0.1:8080}
	mkdir -p "$STATE"
	# Only this development command generates a key for you.
	[ -f "$STATE/secret.key" ] || "$BUILD/daemon/commentd" --keygen "$STATE/secret.key"
	# Development defaults: the page's own origins, and room for a few dozen
	# comments typed by hand (50 at once, then 60 a minute, where a server's
	# default is 5, then 10).  The caller's arguments (--set NAME=VALUE)
	# come last and win.
	exec "$BUILD/daemon/commentd" --listen "$LISTEN" \
		--db "$STATE/comments.db" --key "$STATE/secret.key" \
		--set "site_origins=http://$LISTEN http://localhost:${LISTEN##*:}" \
		--set rate_burst=50 --set rate_limit=60 "$@"
	;;
ctl)
	shift
	out=$(build 2>&1) || {
		printf '%s\n' "$out" >&2
		exit 1
	}
	ctl=$(absolute "$BUILD/ctl/commentctl")
	state=$(absolute "${STATE:-dev-state}")
	# Back in the caller's folder: file names in ARGS mean what they say.
	cd "$caller"
	# The development database and key, unless the command names its own
	# (commentctl reads options after the command's words too).
	for arg in "$@"; do
		case "$arg" in
		--db | --db=* | --key | --key=* | --config | --config=*)
			exec "$ctl" "$@"
			;;
		esac
	done
	[ $# -gt 0 ] || exec "$ctl"
	exec "$ctl" "$@" --db "$state/comments.db" --key "$state/secret.key"
	;;
deb)
	deb_deps
	tools/build-deb.sh "$BUILD/deb"
	;;
test)
	deps
	build
	status=0
	# TEST_ARGS: more options for meson test (.ci/run's sanitizer pass
	# gives --timeout-multiplier); word-split on purpose.
	# shellcheck disable=SC2086
	meson test -C "$BUILD" --print-errorlogs --num-processes 2 ${TEST_ARGS:-} || status=$?
	# Skips are counted as skips; with CI set they fail the run.
	python3 tools/testsummary.py "$BUILD/meson-logs/testlog.json" || status=1
	exit $status
	;;
*)
	echo "usage: tools/dev.sh run [--set NAME=VALUE]... | ctl ARGS... | test | deb | deps" >&2
	exit 2
	;;
esac
