#!/usr/bin/env bash
# Answers compared (issue 10), against the answer test servers of tests/:
#  1. throughput with comparison on (--check=all, the default) against
#     --check=none, at each connection count: conns/s and fragments/s of
#     TPUT_DUR seconds each against kvserver --fixed, and their ratio;
#  2. false alarms: FA_DUR seconds against each control (httpka --stamps:
#     dates, random ids, times and the lengths that depend on them; a
#     counter every connection increments; the speak-first server without
#     its bug, with --turns='\r\n') at each connection count: mismatches
#     (none expected), with the candidates and how they were settled;
#  3. time to the first confirmed finding of each planted bug, REPS runs
#     each at default options: kvserver's cut SET key and httpka's dropped
#     Content-Length (mismatch), smtpish's cut-line crash with --turns
#     (target-exit, supervised).
# Loopback only; every run bounded.
#   CONNS="100 1000"  TPUT_DUR=10  FA_DUR=60  REPS=3
#   PARTS="tput fa first"   (the parts to run)
set -u
PARTS=${PARTS:-tput fa first}
BUILD=${BUILD:-build}
CONNS=${CONNS:-100 1000}
TPUT_DUR=${TPUT_DUR:-10}
FA_DUR=${FA_DUR:-60}
REPS=${REPS:-3}
SF=${SF:-$BUILD/stutterfuzz}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-resp.XXXXXX")
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null

# start_server NAME ARGS...: one of the answer test servers.
start_server() {
	local name=$1; shift
	rm -f "$tmp/port" "$tmp/log"
	(ulimit -c 0; exec "$BUILD/servers/$name" --port-file="$tmp/port" \
		--log="$tmp/log" --max-seconds=$((FA_DUR + TPUT_DUR + 300)) "$@") &
	srv=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
}
stop_server() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=; }

# total KEY: a figure of the last run's summary (--summary).
total() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"].get(sys.argv[2], 0))' \
		"$tmp/sum.json" "$1"
}

# sf_run CORPUS CONNS ARGS...: stutterfuzz against the running server.
sf_run() {
	local corpus=$1 n=$2; shift 2
	rm -rf "$tmp/f" "$tmp/sum.json"
	timeout -k 5 $((FA_DUR + TPUT_DUR + 200)) "$SF" --blob-dir="$corpus" \
		--host=127.0.0.1 --port="$(cat "$tmp/port")" --num-conns="$n" -q \
		--findings-dir="$tmp/f" --summary="$tmp/sum.json" "$@" \
		2>"$tmp/err" >/dev/null
}

echo "answers benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

if part tput; then
echo
echo "Throughput, comparison on vs off (kvserver --fixed, tests/corpus-kv, ${TPUT_DUR}s each)"
echo
echo "| conns | check | conns/s | frags/s | compared | ratio (frags/s) |"
echo "| ---: | --- | ---: | ---: | ---: | ---: |"
for n in $CONNS; do
	declare -A fps=()
	for check in none all; do
		start_server kvserver --fixed
		sf_run tests/corpus-kv "$n" --duration="${TPUT_DUR}s" --check="$check" \
			--stop-on=none
		stop_server
		secs=$(total seconds)
		fps[$check]=$(echo "$(total fragments) / $secs" | bc -l)
		ratio=-
		[ "$check" = all ] && ratio=$(printf '%.2f' "$(echo "${fps[all]} / ${fps[none]}" | bc -l)")
		printf '| %s | %s | %.0f | %.0f | %s | %s |\n' "$n" "$check" \
			"$(echo "$(total conns) / $secs" | bc -l)" "${fps[$check]}" \
			"$(total compared)" "$ratio"
	done
done

fi

if part fa; then
echo
echo "False alarms against the controls (${FA_DUR}s each, default options)"
echo
echo "| control | conns | compared | candidates | unconfirmed | drift | unstable | mismatches |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
controls=(
	"httpka --stamps|httpka --fixed --stamps|tests/corpus-http-ka|"
	"shared counter|kvserver|tests/corpus-counter|"
	"smtpish --fixed, turns|smtpish --fixed|tests/corpus-smtpish|--turns=\\r\\n"
)
for n in $CONNS; do
	for c in "${controls[@]}"; do
		IFS='|' read -r label server corpus extra <<<"$c"
		# shellcheck disable=SC2086
		start_server $server
		# shellcheck disable=SC2086
		sf_run "$corpus" "$n" --duration="${FA_DUR}s" $extra
		stop_server
		for rec in "$tmp"/f/mismatch-*.json; do
			[ -e "$rec" ] || continue
			python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["check"]; print("    false alarm:", c["difference"], "| again:", c["again"])' "$rec" >&2
		done
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$n" \
			"$(total compared)" "$(total candidates)" "$(total unconfirmed)" \
			"$(total drift)" "$(total unstable)" "$(total mismatch)"
	done
done

fi

if part first; then
echo
echo "Time to the first confirmed finding (default options, 100 conns; since the run began, references included)"
echo
echo "| planted bug | kind | run | seconds |"
echo "| --- | --- | ---: | ---: |"
first() {
	local rec
	rec=$(ls "$tmp"/f/"$1"-*.json 2>/dev/null | head -1)
	if [ -z "$rec" ]; then echo "none"; return; fi
	python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["since_start_s"])' "$rec"
}
for r in $(seq "$REPS"); do
	start_server kvserver
	sf_run tests/corpus-kv 100 --seed="$r" --duration=60s
	stop_server
	echo "| kvserver cut SET key | mismatch | $r | $(first mismatch) |"
	start_server httpka
	sf_run tests/corpus-http-ka 100 --seed="$r" --duration=60s
	stop_server
	echo "| httpka dropped Content-Length | mismatch | $r | $(first mismatch) |"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	rm -rf "$tmp/f"
	(ulimit -c 0; timeout -k 5 120 "$SF" --blob-dir=tests/corpus-smtpish --host=127.0.0.1 \
		--port="$port" --seed="$r" --duration=60s '--turns=\r\n' -q \
		--findings-dir="$tmp/f" -- "$BUILD/servers/smtpish" --port="$port" \
		--max-seconds=120 2>"$tmp/err" >/dev/null)
	echo "| smtpish cut command line (turns) | target-exit | $r | $(first target-exit) |"
done
fi
echo
echo "ratio: fragments/s with every answer compared over fragments/s with"
echo "--check=none (the issue asks >= 0.80); candidates: answers that differed"
echo "from the reference; unconfirmed: the same cut answered right again; drift:"
echo "a whole send taught the reference the difference; mismatches: confirmed."
