#!/usr/bin/env bash
# Minimization, measured. For each crash mode of the test server: a
# supervised run finds the crash, then `stutterfuzz minimize` shrinks the
# record, with the default --settle and with SETTLE_FAST; one line each with
# the time, the attempts and the server starts. Then a 100-suspect record
# whose culprit one-by-one replay tries last: one-by-one `replay` against
# bisection (minimize's connection stage). Loopback only; every step bounded
# by timeout.
#   BUILD=build bench/minimize.sh      (after make and make build/servers/testserver)
set -u
BUILD=${BUILD:-build}
SETTLE_FAST=${SETTLE_FAST:-50ms}
SF=$BUILD/stutterfuzz
SERVER=$BUILD/servers/testserver
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-bench-minimize.XXXXXX")
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT

port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$tmp/split" "$tmp/first1" "$tmp/header" "$tmp/pair" "$tmp/flaky"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$tmp/split/crash"
printf 'PING\r\n' >"$tmp/split/ping"
printf 'GET / HTTP/1.1\r\n\r\n' >"$tmp/split/get"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$tmp/first1/get"
printf '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n' >"$tmp/header/set"
printf 'GET /LEFT HTTP/1.0\r\n\r\n' >"$tmp/pair/left"
printf 'GET /RIGHT HTTP/1.0\r\n\r\n' >"$tmp/pair/right"
printf 'GET / HTTP/1.0\r\n\r\n' >"$tmp/pair/get"
printf 'PING\r\n' >"$tmp/pair/ping"
printf 'xCRASHy' >"$tmp/flaky/crash"

# record NAME CORPUS [RUN-ARGS...] -- SERVER-ARGS...: prints the record.
record() {
	local name=$1 corpus=$2 p run=()
	shift 2
	while [ "$1" != "--" ]; do run+=("$1"); shift; done
	shift
	p=$(port)
	rm -rf "$tmp/fd-$name"
	timeout 60 "$SF" --blob-dir="$corpus" --host=127.0.0.1 --port="$p" --seed=1 \
		--findings-dir="$tmp/fd-$name" -q "${run[@]}" \
		-- "$SERVER" --port="$p" --max-seconds=120 "$@" 2>/dev/null
	ls "$tmp/fd-$name"/target-exit-*.json 2>/dev/null | head -1
}

# measure NAME RECORD MINIMIZE-ARGS...: one line per settle time.
measure() {
	local name=$1 rec=$2 settle line
	shift 2
	for settle in 500ms "$SETTLE_FAST"; do
		line=$(timeout 600 "$SF" minimize "$rec" --settle="$settle" -q "$@" 2>&1 >/dev/null |
			sed -n 's/^Minimized in \([0-9.]*s\): \([0-9]*\) attempts, \([0-9]*\) server starts; \(.*\)/\1 \2 \3 \4/p')
		printf '%-8s %-7s %s\n' "$name" "$settle" "${line:-failed}"
	done
}

printf '%-8s %-7s %s\n' mode settle "time attempts server-starts; from -> to"
measure split "$(record split "$tmp/split" -- --mode=crash-split --token=CRASH)"
measure first1 "$(record first1 "$tmp/first1" -- --mode=crash-first1)"
measure header "$(record header "$tmp/header" -- --mode=crash-header)"
measure pair "$(record pair "$tmp/pair" -- --mode=crash-pair --token=LEFT --token2=RIGHT)"
echo 2 >"$tmp/count"
flaky=$(record flaky "$tmp/flaky" --num-conns=1 -- --mode=crash-split --token=CRASH --every=3 \
	--count-file="$tmp/count")
measure flaky "$flaky" --tries=3

# A 100-suspect record: 99 harmless connections of the split record, then
# one that splits the token, marked so that one-by-one replay tries it last.
split=$(ls "$tmp"/fd-split/target-exit-*.json | head -1)
python3 - "$split" "$tmp/worst.json" <<'EOF'
import base64, json, sys
r = json.load(open(sys.argv[1]))
def splits(c):
    d = base64.b64decode(c["blob_base64"])
    i, off = d.find(b"CRASH"), 0
    for s in c["fragments"][:-1]:
        off += s
        if i >= 0 and i < off < i + 5:
            return True
    return False
good = [c for c in r["suspects"] if c["blob"] != "crash"]
bad = [c for c in r["suspects"] if splits(c)]
out = [dict(good[i % len(good)], outcome="reset") for i in range(99)]
out.append(dict(bad[0], outcome="completed"))
r["connection"], r["suspects"] = None, out
json.dump(r, open(sys.argv[2], "w"))
EOF
p=$(port)
rm -f "$tmp/port"
"$SERVER" --mode=crash-split --token=CRASH --port="$p" --port-file="$tmp/port" --max-seconds=300 &
srv=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
t0=$(date +%s.%N)
timeout 300 "$SF" replay "$tmp/worst.json" --host=127.0.0.1 --port="$p" 2>"$tmp/replay.err"
t1=$(date +%s.%N)
wait "$srv" 2>/dev/null
srv=
echo
echo "100 suspects, culprit last: one-by-one replay: $(grep -c '^Replaying' "$tmp/replay.err") replays," \
	"$(echo "$t1 - $t0" | bc | sed 's/^\./0./') s"
for settle in 500ms "$SETTLE_FAST"; do
	timeout 600 "$SF" minimize "$tmp/worst.json" --settle="$settle" -q 2>&1 >/dev/null |
		sed -n "s/^Stages: connections \([0-9]*\) attempts in \([0-9.]*s\).*/bisection (settle $settle): \1 attempts, \2 (server starts included)/p"
done
