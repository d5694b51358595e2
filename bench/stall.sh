#!/usr/bin/env bash
# Stall detection: how long from the moment a server starts spinning to the
# stall finding, and false alarms against servers that must run clean.
#  1. the test server in spin-split mode (spins on the CPU once a token
#     arrives split): REPS runs at each connection count, each timed from
#     the server's "spin_at" (its clock) to the record's time_unix;
#  2. the server slowed to 1 ms per read, and the server that stops reading
#     for 1.5 s after every 2 s: DUR seconds each at each connection count,
#     counting hang findings (none expected).
# All at default options unless named (STALL="--stall-timeout=..." adds one).
#   CONNS="100 1000"  REPS=3  DUR=30  STALL=
set -u
BUILD=${BUILD:-build}
CONNS=${CONNS:-100 1000}
REPS=${REPS:-3}
DUR=${DUR:-30}
STALL=${STALL:-}
SF=${SF:-$BUILD/stutterfuzz}
SERVER=$BUILD/servers/testserver
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-stall.XXXXXX")
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null
mkdir -p "$tmp/blobs"
printf 'GET /SPIN HTTP/1.1\r\nHost: x\r\n\r\n' >"$tmp/blobs/spin"
for i in 1 2 3 4 5 6 7; do
	printf 'GET /page%d HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n' "$i" >"$tmp/blobs/get$i"
done

# start_server MODE ARGS... (spin-split needs the data: no --no-data)
start_server() {
	rm -f "$tmp/port" "$tmp/log"
	"$SERVER" --mode="$1" --port-file="$tmp/port" --log="$tmp/log" \
		--max-seconds=$((DUR + 120)) "${@:2}" &
	srv=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
}
stop_server() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=; }

# json FILE EXPR: a value out of a JSON file (python3, stdlib).
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

echo "| server | conns | run | spin to finding (s) | phase | stuck with it |"
echo "| --- | ---: | ---: | ---: | --- | ---: |"
for n in $CONNS; do
	for r in $(seq "$REPS"); do
		start_server spin-split --token=SPIN
		rm -rf "$tmp/f"
		timeout -k 5 120 "$SF" --blob-dir="$tmp/blobs" --host=127.0.0.1 \
			--port="$(cat "$tmp/port")" --num-conns="$n" --seed="$r" -q \
			--findings-dir="$tmp/f" $STALL 2>"$tmp/err" >/dev/null
		stop_server
		spin=$(sed -n 's/^spin_at //p' "$tmp/log" | head -1)
		rec=$(ls "$tmp"/f/hang-*.json 2>/dev/null | head -1)
		if [ -z "$spin" ] || [ -z "$rec" ]; then
			echo "| spin-split | $n | $r | none (spin ${spin:-never}) | - | - |"
			continue
		fi
		at=$(json "$rec" 'd["time_unix"]')
		phase=$(json "$rec" 'd["phase"]')
		stuck=$(json "$rec" 'd["detail"].split(" while ")[1].split()[0]')
		printf '| spin-split | %s | %s | %.3f | %s | %s |\n' "$n" "$r" \
			"$(echo "$at - $spin" | bc -l)" "$phase" "$stuck"
	done
done

echo
echo "| server | conns | seconds | fragments/s | hang findings | exit |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for n in $CONNS; do
	for s in "slow --delay-us=1000 --no-data" "pause --pause-ms=1500 --every-ms=2000 --no-data"; do
		# shellcheck disable=SC2086
		start_server $s
		timeout -k 5 $((DUR + 60)) "$SF" --blob-dir="$tmp/blobs" --host=127.0.0.1 \
			--port="$(cat "$tmp/port")" --num-conns="$n" --duration="$DUR" -q \
			--summary="$tmp/s.json" $STALL 2>"$tmp/err" >/dev/null
		rc=$?
		stop_server
		printf '| %s | %s | %s | %s | %s | %s |\n' "${s%% *}" "$n" "$DUR" \
			"$(json "$tmp/s.json" 'd["totals"]["frags/s"]')" \
			"$(json "$tmp/s.json" 'd["findings"]["hang"]')" "$rc"
	done
done
