#!/usr/bin/env bash
# Cut strategies, measured: connections each --split needs to crash the test
# servers whose bugs need two cuts inside a 5-byte header or a first read of
# exactly 1 byte (SEEDS seeds each, a run capped at 15 s: ">" marks a cap),
# boundary coverage after COVER_SECONDS on all of corpus-samples/, and the
# cost of planning per connection. Loopback only; every run bounded.
set -u
BUILD=${BUILD:-build}
SEEDS=${SEEDS:-5}
COVER_SECONDS=${COVER_SECONDS:-60}
SF=$BUILD/stutterfuzz
SERVER=$BUILD/servers/testserver
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-bench-split.XXXXXX")
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/hdr"
{ printf '\x00\xc8\x01\x02\x03'; head -c 195 /dev/zero | tr '\0' 'p'; } >"$tmp/hdr/frame"

start() {
	rm -f "$tmp/port"
	"$SERVER" --mode="$1" --no-data --port-file="$tmp/port" --log="$tmp/log" \
		--max-seconds=60 &
	srv=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
}

echo "Connections to the first crash ($SEEDS seeds, 200-byte blob, 10 connections in flight):"
printf '%-10s %16s %16s\n' split header-2-cuts first-read-1
for split in uniform small bytewise delimiter sweep mix; do
	row=""
	for mode in crash-header crash-first1; do
		total=0 capped=""
		for seed in $(seq 1 "$SEEDS"); do
			start "$mode"
			timeout 30 "$SF" --blob-dir="$tmp/hdr" --host=127.0.0.1 \
				--port="$(cat "$tmp/port")" --seed="$seed" --split="$split" \
				--num-conns=10 --duration=15s -q 2>"$tmp/err"
			kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
			n=$(sed -n 's/^crash after \([0-9]*\) connections$/\1/p' "$tmp/log")
			if [ -z "$n" ]; then
				n=$(sed -n '/^Summary/,$p' "$tmp/err" | grep -oE ' conns=[0-9]+' | head -1 | cut -d= -f2)
				capped=">"
			fi
			total=$((total + ${n:-0}))
		done
		row="$row $(printf '%16s' "$capped$((total / SEEDS))")"
	done
	printf '%-10s%s\n' "$split" "$row"
done

echo
echo "Coverage after ${COVER_SECONDS}s on all of corpus-samples/ (default options, example server):"
mkdir -p "$tmp/all"
for d in corpus-samples/*/; do
	for f in "$d"*; do cp "$f" "$tmp/all/$(basename "$d")-$(basename "$f")"; done
done
rm -f "$tmp/port"
"$BUILD/examples/exampled" --port-file="$tmp/port" 2>/dev/null &
srv=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
timeout $((COVER_SECONDS + 30)) "$SF" --blob-dir="$tmp/all" --host=127.0.0.1 --port="$(cat "$tmp/port")" \
	--duration="${COVER_SECONDS}s" --stats-interval=10s --seed=1 2>&1 |
	grep -E '^(Loaded|Stats|  rounds)' | grep -oE '^Loaded.*|coverage=[0-9.]+' | paste -sd' '
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null

echo
echo "Planning cost per connection (corpus-samples/http):"
"$BUILD/bench/plancost" corpus-samples/http
