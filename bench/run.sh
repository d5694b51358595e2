#!/usr/bin/env bash
# make bench: stutterfuzz against a recording server (tests/servers/
# testserver: single-threaded epoll, counts its reads), in each pace mode at
# 10, 100, 1,000 and 10,000 connections, beside the ceiling client
# (bench/ceiling.c) at the same counts, all in one go on this machine; then
# against the server slowed to 200 and 1,000 us per read. Prints one table:
# fragments the server read as separate reads per second, fidelity (server
# reads / fragments sent), connections/s, client CPU and peak RSS, and the
# ratio to the ceiling. Blobs of 16 B to 4 KiB; default options except the
# ones named. Then read pacing over a Unix-domain socket (--unix, SIOCOUTQ)
# against the same server. Loopback only; every run bounded.
#   DUR=10      seconds per run        CONNS="10 100 1000 10000"
#   MODES="read ack cycle"             SLOW="200 1000"
#   UNIX_CONNS="10 100 1000"          (connection counts over a Unix socket)
#   LONG=1      also hold 10,000 connections for 60 s
set -u
BUILD=${BUILD:-build}
DUR=${DUR:-10}
CONNS=${CONNS-10 100 1000 10000}
MODES=${MODES-read ack cycle}
SLOW=${SLOW-200 1000}
SF=${SF:-$BUILD/stutterfuzz}	# SF=other/stutterfuzz compares another build
SERVER=$BUILD/servers/testserver
CEIL=$BUILD/bench/ceiling
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-bench.XXXXXX")
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null
mkdir -p "$tmp/blobs"
size=16 i=0
while [ "$size" -le 4096 ]; do
	head -c "$size" /dev/zero | tr '\0' "$(printf "\\$(printf '%03o' $((97 + i % 26)))")" \
		>"$tmp/blobs/b$(printf '%02d' "$i")"
	size=$((size * 5 / 4 + 1)); i=$((i + 1))
done

start_server() {
	rm -f "$tmp/port" "$tmp/log"
	"$SERVER" --mode="$1" --delay-us="$2" --no-data --port-file="$tmp/port" \
		--log="$tmp/log" --max-seconds=$((DUR * 3 + 120)) \
		${USOCK:+--unix="$USOCK"} &
	srv=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
}
stop_server() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=; }
server_reads() { sed -n 's/^total conns [0-9]* reads \([0-9]*\).*/\1/p' "$tmp/log"; }

# row LABEL CONNS DELAY FRAGS CONNS_STARTED CPU_S RSS_KB ELAPSED CEILING_SEPREAD
declare -A ceiling
row() {
	local label=$1 n=$2 delay=$3 frags=$4 cstart=$5 cpu=$6 rss=$7 el=$8 reads sep fid ratio
	reads=$(server_reads); reads=${reads:-0}
	sep=$(( reads < frags ? reads : frags ))
	fid=$(printf '%.3f' "$(echo "if ($frags > 0) $reads / $frags else 0" | bc -l)")
	ratio="-"
	[ "$delay" = 0 ] && [ -z "${USOCK:-}" ] && [ -n "${ceiling[$n]:-}" ] && [ "${ceiling[$n]}" -gt 0 ] &&
		ratio=$(printf '%.2f' "$(echo "$sep / $el / ${ceiling[$n]}" | bc -l)")
	printf '| %-12s | %6s | %5s | %9.0f | %8s | %8.0f | %5.0f%% | %8.2f | %7.1f | %5s |\n' \
		"$label" "$n" "$delay" "$(echo "$sep / $el" | bc -l)" "$fid" \
		"$(echo "$cstart / $el" | bc -l)" "$(echo "$cpu * 100 / $el" | bc -l)" \
		"$(echo "if ($frags > 0) $cpu * 1000000 / $frags else 0" | bc -l)" \
		"$(echo "$rss / 1024" | bc -l)" "$ratio"
}

# timed CMD...: runs it, sets CPU (user+sys s), RSS (KB), EL (s).
timed() {
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err"
	read -r EL u s RSS <"$tmp/time"
	CPU=$(echo "$u + $s" | bc)
}

run_ceiling() {
	local n=$1 delay=$2 frags conns
	start_server "$3" "$delay"
	timed timeout $((DUR + 60)) "$CEIL" --port="$(cat "$tmp/port")" --conns="$n" --seconds="$DUR"
	[ "$delay" != 0 ] && sleep $(( 1 + n * delay / 1000000 ))
	stop_server
	read -r _ conns _ frags <"$tmp/out"
	if [ "$delay" = 0 ]; then
		local reads
		reads=$(server_reads)
		ceiling[$n]=$(printf '%.0f' "$(echo "(${reads:-0} < $frags) * ${reads:-0} + (${reads:-0} >= $frags) * $frags" | bc)")
		ceiling[$n]=$(printf '%.0f' "$(echo "${ceiling[$n]} / $EL" | bc -l)")
	fi
	row "ceiling" "$n" "$delay" "$frags" "$conns" "$CPU" "$RSS" "$EL"
}

run_sf() {
	local mode=$1 n=$2 delay=$3 frags conns
	start_server "$4" "$delay"
	local target=(--host=127.0.0.1 --port="$(cat "$tmp/port")")
	[ -n "${USOCK:-}" ] && target=(--unix="$USOCK")
	timed timeout $((DUR + 120)) "$SF" --blob-dir="$tmp/blobs" "${target[@]}" \
		--pace="$mode" --num-conns="$n" --duration="${DUR}s" \
		--stop-on=none --fail-on=none -q --summary="$tmp/sum.json" ${SF_EXTRA:-}
	# At the end up to one fragment per connection still waits in the
	# server's queue; a slowed server needs time to read it before it is
	# stopped, or it would count as merged.
	[ "$delay" != 0 ] && sleep $(( 1 + n * delay / 1000000 ))
	stop_server
	frags=$(grep -o '"fragments":[0-9]*' "$tmp/sum.json" | head -1 | cut -d: -f2)
	conns=$(grep -o '"conns":[0-9]*' "$tmp/sum.json" | head -1 | cut -d: -f2)
	row "sf $mode${SF_LABEL:-}" "$n" "$delay" "${frags:-0}" "${conns:-0}" "$CPU" "$RSS" "$EL"
	grep -q '^local error' "$tmp/err" && grep '^local error' "$tmp/err" | head -2 | sed 's/^/    /'
}

echo "stutterfuzz benchmark, $(date -u +%Y-%m-%d), ${DUR}s per run"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r)"
echo "corpus: $(ls "$tmp/blobs" | wc -l) blobs of 16 B to 4 KiB"
echo
echo '| client       |  conns | delay | sep.reads/s | fidelity |  conns/s |   CPU | us CPU/frag | RSS MiB | ratio |'
echo '|--------------|-------:|------:|----------:|---------:|---------:|------:|---------:|--------:|------:|'
for n in $CONNS; do
	run_ceiling "$n" 0 record
	for mode in $MODES; do run_sf "$mode" "$n" 0 record; done
done
for d in $SLOW; do
	run_ceiling 100 "$d" slow
	for mode in $MODES; do run_sf "$mode" 100 "$d" slow; done
	# A short fixed cycle against a slow server: what read pacing saves
	# (this was a threshold of the integration tests; it is a measurement).
	SF_EXTRA=--cycle-ms=1 SF_LABEL=" 1ms" run_sf cycle 20 "$d" slow
	run_sf read 20 "$d" slow
done
for n in ${UNIX_CONNS-10 100 1000}; do
	USOCK=$tmp/u.sock SF_LABEL=" unix" run_sf read "$n" 0 record
done
if [ "${LONG:-0}" = 1 ]; then
	DUR=60 run_sf read 10000 0 record
fi
echo
echo "sep.reads/s: fragments the server read as separate reads per second (min of"
echo "its reads and the fragments sent); fidelity: server reads / fragments sent;"
echo "ratio: sep.reads/s over the ceiling client's at the same connection count;"
echo "delay: microseconds the server sleeps before each read (ratio: only"
echo "for the unslowed server); us CPU/frag: client CPU per fragment sent;"
echo "sf read unix: over a Unix-domain socket (--unix), paced by SIOCOUTQ."
echo
BUILD=$BUILD ./bench/proxy.sh
# Answers compared (issue 10): throughput on vs off, false alarms, time to
# the first mismatch. RESPONSES=0 skips it.
[ "${RESPONSES:-1}" = 0 ] || BUILD=$BUILD SF=$SF ./bench/responses.sh
