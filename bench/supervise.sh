#!/usr/bin/env bash
# Target supervision, measured: (1) time from the death of a supervised
# target (logged by the test server at its crash) to the target-exit record
# (its time_unix, taken as it is written), over TRIALS seeds; (2) false hangs: the example server under
# valgrind, fuzzed at 100 connections for VALGRIND_SECONDS with default
# timeouts; any hang or connect-timeout finding there is a false one.
set -u
BUILD=${BUILD:-build}
TRIALS=${TRIALS:-10}
VALGRIND_SECONDS=${VALGRIND_SECONDS:-60}
SF=$BUILD/stutterfuzz
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-bench-sup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$tmp/blobs/crash"
printf 'PING\r\n' >"$tmp/blobs/ping"

# free_port: a port the kernel picks for the test server, given back.
free_port() {
	local pid
	rm -f "$tmp/fp"
	"$BUILD/servers/testserver" --port-file="$tmp/fp" --max-seconds=5 &
	pid=$!
	for _ in $(seq 100); do [ -s "$tmp/fp" ] && break; sleep 0.05; done
	kill "$pid"; wait "$pid" 2>/dev/null
	cat "$tmp/fp"
}

sum=0 n=0
for seed in $(seq 1 "$TRIALS"); do
	p=$(free_port)
	rm -rf "$tmp/fd" "$tmp/log"
	timeout 60 "$SF" --blob-dir="$tmp/blobs" --host=127.0.0.1 --port="$p" --seed="$seed" \
		--findings-dir="$tmp/fd" -q -- "$BUILD/servers/testserver" --mode=crash-split \
		--token=CRASH --port="$p" --log="$tmp/log" --max-seconds=60 2>/dev/null
	rec=$(ls "$tmp"/fd/target-exit-*.json 2>/dev/null | head -1)
	crash=$(sed -n 's/^crash_at //p' "$tmp/log" 2>/dev/null)
	[ -n "$rec" ] && [ -n "$crash" ] || { echo "seed $seed: no record"; continue; }
	ms=$(echo "($(sed -n 's/^"time_unix":\([0-9.]*\),$/\1/p' "$rec") - $crash) * 1000" | bc -l)
	printf 'seed %-3s target death to record: %6.2f ms\n' "$seed" "$ms"
	sum=$(echo "$sum + $ms" | bc -l); n=$((n + 1))
done
[ "$n" -gt 0 ] && printf 'mean over %d: %.2f ms\n' "$n" "$(echo "$sum / $n" | bc -l)"

if command -v valgrind >/dev/null 2>&1; then
	p=$(free_port)
	echo "example server under valgrind, 100 connections, ${VALGRIND_SECONDS}s, default timeouts:"
	timeout $((VALGRIND_SECONDS + 60)) "$SF" --blob-dir=corpus-samples/http --host=127.0.0.1 --port="$p" \
		--duration="${VALGRIND_SECONDS}s" --stats-interval=10s --startup-timeout=30s \
		-- valgrind -q --error-exitcode=99 "$BUILD/examples/exampled" --port="$p" 2>&1 |
		grep -E '^(Target ready|Summary|  rounds|  findings|Result)'
fi
