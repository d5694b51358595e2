#!/bin/sh
# make demo: start the example server on a free loopback port, fuzz it with
# the bundled HTTP samples for about 10 seconds, show what both saw, stop both.
#   DEMO_SECONDS=N   run longer or shorter (default 10)
#   DEMO_BUG=1       start the server with its planted bug, to see a finding
set -u
BUILD=${BUILD:-build}
SECONDS_RUN=${DEMO_SECONDS:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-demo.XXXXXX")
trap 'kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

bug=
[ "${DEMO_BUG:-0}" = 1 ] && bug=--bug=crlf
"$BUILD/examples/exampled" --port-file="$tmp/port" $bug &
server=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat "$tmp/port")

echo "== ./stutterfuzz --blob-dir=corpus-samples/http --host=127.0.0.1 --port=$port --duration=${SECONDS_RUN}s"
./stutterfuzz --blob-dir=corpus-samples/http --host=127.0.0.1 --port="$port" \
	--duration="${SECONDS_RUN}s"
status=$?
kill -TERM "$server" 2>/dev/null
wait "$server" 2>/dev/null
echo "== stutterfuzz exited with status $status (0 clean, 1 findings, 2 usage, 3 runtime error)"
if [ -n "$bug" ]; then
	# The planted bug is meant to be found: a finding is the demo working.
	[ "$status" -eq 1 ] && exit 0
	echo "demo: the planted bug was not found" >&2
	exit 1
fi
exit "$status"
