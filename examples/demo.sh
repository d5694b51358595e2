#!/bin/sh
# make demo: fuzz the example server for about 10 seconds and show what both
# saw.
#   DEMO_SECONDS=N   run longer or shorter (default 10)
#   DEMO_BUG=1       the server has a planted bug (it aborts when "\r\n"
#                    arrives cut in two): stutterfuzz starts and supervises
#                    it, records the crash with its suspects, then replays
#                    the record against a restarted server to name the
#                    connection that kills it
set -u
BUILD=${BUILD:-build}
SECONDS_RUN=${DEMO_SECONDS:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-demo.XXXXXX")
server=
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

# start_server [ARGS]: the example server on a free loopback port.
start_server() {
	rm -f "$tmp/port"
	"$BUILD/examples/exampled" --port-file="$tmp/port" "$@" &
	server=$!
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(cat "$tmp/port")
}

if [ "${DEMO_BUG:-0}" != 1 ]; then
	start_server
	echo "== ./stutterfuzz --blob-dir=corpus-samples/http --host=127.0.0.1 --port=$port --duration=${SECONDS_RUN}s"
	./stutterfuzz --blob-dir=corpus-samples/http --host=127.0.0.1 --port="$port" \
		--duration="${SECONDS_RUN}s"
	status=$?
	kill -TERM "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	echo "== stutterfuzz exited with status $status (0 clean, 1 findings, 2 usage, 3 runtime error)"
	exit "$status"
fi

# A free port for the supervised server: take one, give it back.
start_server
kill "$server"; wait "$server" 2>/dev/null; server=
echo "== ./stutterfuzz --blob-dir=corpus-samples/http --host=127.0.0.1 --port=$port --findings-dir=FINDINGS -- exampled --bug=crlf --port=$port"
./stutterfuzz --blob-dir=corpus-samples/http --host=127.0.0.1 --port="$port" \
	--duration="${SECONDS_RUN}s" --findings-dir="$tmp/findings" -q \
	-- "$BUILD/examples/exampled" --bug=crlf --port="$port"
status=$?
echo "== stutterfuzz exited with status $status (1: findings)"
record=$(ls "$tmp"/findings/target-exit-*.json 2>/dev/null | head -1)
if [ "$status" -ne 1 ] || [ -z "$record" ]; then
	echo "demo: the planted bug was not found" >&2
	exit 1
fi
start_server --bug=crlf
echo "== ./stutterfuzz replay FINDINGS/$(basename "$record") --host=127.0.0.1 --port=$port"
./stutterfuzz replay "$record" --host=127.0.0.1 --port="$port" --settle=200ms
status=$?
kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; server=
echo "== replay exited with status $status (1: the crash came back)"
[ "$status" -eq 1 ]
