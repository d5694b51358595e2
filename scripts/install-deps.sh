#!/bin/sh
# Install what building and testing stutterfuzz needs on Debian/Ubuntu:
# a C compiler, make, pkg-config, libevent 2.1 and jansson headers; for the
# tests also Check, valgrind (memory check of stutterfuzz itself), mandoc
# (man page lint), python3 with jsonschema and xmllint (test helpers, SARIF and JUnit
# validation), memcached (a real server's Unix socket for tests/it/unix.sh;
# the test skips it when missing). Only packages that are missing are
# installed.
# For the benchmark also bc and time (bench/*.sh do their arithmetic with
# bc and measure CPU and peak memory with /usr/bin/time).
# Usage: scripts/install-deps.sh [build|check|bench]
set -eu

want="build-essential pkg-config libevent-dev libjansson-dev"
case "${1:-build}" in
check) want="$want check valgrind mandoc python3 python3-jsonschema python3-yaml libxml2-utils memcached" ;;
bench) want="$want bc time valgrind" ;;
build) ;;
*) echo "usage: $0 [build|check|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: missing:$missing; no apt-get here, install them by hand" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "install-deps: missing:$missing; not root and no sudo" >&2
		exit 1
	fi
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
