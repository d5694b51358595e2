#!/usr/bin/env bash
# Records and replay, measured: for TRIALS seeds, fuzz the test server that
# crashes on a split token with --findings-dir, measure the time from the
# crash (logged by the server) to the refused record (its time_unix),
# then restart the server and replay the record. Prints one line per trial
# and a summary. Loopback only; every step bounded by timeout.
set -u
BUILD=${BUILD:-build}
TRIALS=${TRIALS:-10}
SF=$BUILD/stutterfuzz
SERVER=$BUILD/servers/testserver
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-bench-replay.XXXXXX")
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$tmp/blobs/crash"
printf 'PING\r\n' >"$tmp/blobs/ping"
printf 'GET / HTTP/1.1\r\n\r\n' >"$tmp/blobs/get"

start() {
	rm -f "$tmp/port"
	"$SERVER" --mode=crash-split --token=CRASH --port-file="$tmp/port" \
		--log="$tmp/log" --max-seconds=60 &
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
}

reproduced=0 found=0 lat_sum=0
printf '%-6s %-10s %-12s %-10s %s\n' seed found crash_to_ms replay culprit
for seed in $(seq 1 "$TRIALS"); do
	rm -rf "$tmp/fd"
	start
	timeout 30 "$SF" --blob-dir="$tmp/blobs" --host=127.0.0.1 --port="$(cat "$tmp/port")" \
		--seed="$seed" --findings-dir="$tmp/fd" -q 2>/dev/null
	wait "$srv" 2>/dev/null
	rec=$(ls "$tmp"/fd/refused-*.json 2>/dev/null | head -1)
	crash=$(sed -n 's/^crash_at //p' "$tmp/log")
	if [ -z "$rec" ] || [ -z "$crash" ]; then
		printf '%-6s %-10s\n' "$seed" no
		continue
	fi
	found=$((found + 1))
	lat=$(echo "($(sed -n 's/^"time_unix":\([0-9.]*\),$/\1/p' "$rec") - $crash) * 1000" | bc -l)
	lat_sum=$(echo "$lat_sum + $lat" | bc -l)
	start
	out=$(timeout 120 "$SF" replay "$rec" --host=127.0.0.1 --port="$(cat "$tmp/port")" \
		--settle=200ms 2>&1)
	rc=$?
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
	culprit=$(echo "$out" | sed -n 's/^Result: reproduced (refused) by \(connection [0-9]*\).*/\1/p')
	[ "$rc" = 1 ] && reproduced=$((reproduced + 1))
	printf '%-6s %-10s %-12.2f %-10s %s\n' "$seed" yes "$lat" \
		"$([ "$rc" = 1 ] && echo yes || echo "no($rc)")" "$culprit"
done
echo "found $found/$TRIALS; mean crash-to-record $(echo "scale=2; $lat_sum / ($found + ($found == 0))" | bc -l) ms; replay reproduced $reproduced/$found"
