#!/usr/bin/env bash
# A long run at many connections, watched from outside: every INTERVAL
# seconds, stutterfuzz's resident memory and open file descriptors (from
# /proc), and its live statistics. RSS and fds must be flat after warm-up.
#   SOAK_SECONDS=600  CONNS=1000  INTERVAL=30
set -u
BUILD=${BUILD:-build}
SOAK_SECONDS=${SOAK_SECONDS:-600}
CONNS=${CONNS:-1000}
INTERVAL=${INTERVAL:-30}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-soak.XXXXXX")
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null
"$BUILD/servers/testserver" --mode=record --no-data --port-file="$tmp/port" \
	--log="$tmp/log" --max-seconds=$((SOAK_SECONDS + 120)) &
srv=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
timeout $((SOAK_SECONDS + 60)) "$BUILD/stutterfuzz" --blob-dir=corpus-samples/http \
	--host=127.0.0.1 --port="$(cat "$tmp/port")" --num-conns="$CONNS" \
	--duration="${SOAK_SECONDS}s" --stats-interval="${INTERVAL}s" --stop-on=none \
	--fail-on=none 2>"$tmp/err" &
sf=$!
sleep 1
pid=$(pgrep -P "$sf" -x stutterfuzz | head -1)	# not timeout's pid
printf '%8s %10s %6s\n' seconds rss_kib fds
t=0
while kill -0 "$pid" 2>/dev/null && [ "$t" -le "$SOAK_SECONDS" ]; do
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
	[ -n "$rss" ] && printf '%8s %10s %6s\n' "$t" "$rss" "$fds"
	sleep "$INTERVAL"; t=$((t + INTERVAL))
done
wait "$sf"
grep -E '^(Summary|  rounds|  findings|Result)' "$tmp/err"
