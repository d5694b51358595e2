#!/usr/bin/env bash
# The proxy, measured (part of make bench): plain forwarding against a
# direct connection to an echo server (bench/pxload.c), at 1 and 100
# connections: round trips of 64 bytes (added latency) and streamed bytes
# (throughput), as ratios proxy/direct; then --cut against the recording
# test server: pieces the server read as separate reads over pieces sent
# (fidelity), with 100 connections each sending a 200-byte request,
# half-closing and waiting for the close, again and again; the same toward
# the server on a Unix socket (proxy --to=unix:PATH). Loopback only;
# every run bounded.
#   DUR=5   seconds per run      CONNS="1 100"
set -u
BUILD=${BUILD:-build}
DUR=${DUR:-5}
CONNS=${CONNS:-1 100}
SF=$BUILD/stutterfuzz
LOAD=$BUILD/bench/pxload
SERVER=$BUILD/servers/testserver
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-bench-proxy.XXXXXX")
srv= px=
trap 'kill $srv $px 2>/dev/null; rm -rf "$tmp"' EXIT

wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
proxy_port() { for _ in $(seq 200); do
	p=$(sed -n 's/^Proxy listening on .*:\([0-9]*\),.*/\1/p' "$tmp/perr")
	[ -n "$p" ] && { echo "$p"; return 0; }; sleep 0.05; done; return 1; }
start_proxy() {
	rm -f "$tmp/perr"
	timeout --foreground $((DUR + 60)) "$SF" proxy --listen=127.0.0.1:0 --to="$1" -q \
		"${@:2}" 2>"$tmp/perr" & px=$!
	PP=$(proxy_port) || { echo "proxy did not start"; cat "$tmp/perr"; exit 1; }
}
stop_proxy() { kill "$px" 2>/dev/null; wait "$px" 2>/dev/null; px=; }
# load PORT CONNS MODE: sets OPS MEAN BYTES SECS
load() {
	read -r _ _ _ SECS _ OPS _ MEAN _ BYTES < <(timeout $((DUR + 30)) "$LOAD" run \
		--port="$1" --conns="$2" --seconds="$DUR" --mode="$3")
}

rm -f "$tmp/eport"
"$LOAD" serve --port-file="$tmp/eport" --max-seconds=$((DUR * 20 + 120)) & srv=$!
wait_file "$tmp/eport" || { echo "echo server did not start"; exit 1; }
EP=$(cat "$tmp/eport")
echo "proxy benchmark, $(date -u +%Y-%m-%d), ${DUR}s per run, $(nproc) cores"
echo
echo '| conns | direct RTT us | proxy RTT us | added us | RTT ratio | direct MB/s | proxy MB/s | tput ratio |'
echo '|------:|--------------:|-------------:|---------:|----------:|------------:|-----------:|-----------:|'
for n in $CONNS; do
	load "$EP" "$n" pingpong; d_rtt=$MEAN
	load "$EP" "$n" bulk; d_mb=$(echo "$BYTES / $SECS / 1000000" | bc -l)
	start_proxy 127.0.0.1:"$EP"
	load "$PP" "$n" pingpong; p_rtt=$MEAN
	load "$PP" "$n" bulk; p_mb=$(echo "$BYTES / $SECS / 1000000" | bc -l)
	stop_proxy
	printf '| %5s | %13.1f | %12.1f | %8.1f | %9.2f | %11.1f | %10.1f | %10.2f |\n' \
		"$n" "$d_rtt" "$p_rtt" "$(echo "$p_rtt - $d_rtt" | bc -l)" \
		"$(echo "$p_rtt / $d_rtt" | bc -l)" "$d_mb" "$p_mb" "$(echo "$p_mb / $d_mb" | bc -l)"
done
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=

echo
echo '| --cut split | pace | server | conns | streams/s | pieces sent | server reads | fidelity | proxy says |'
echo '|-------------|------|--------|------:|----------:|------------:|-------------:|---------:|-----------:|'
for sp in mix/read/tcp small/read/tcp mix/ack/tcp mix/read/unix mix/ack/unix; do
	split=${sp%%/*} pace=${sp#*/} kind=${sp##*/}
	pace=${pace%/*}
	rm -f "$tmp/port" "$tmp/log" "$tmp/u.sock"
	where=(); [ "$kind" = unix ] && where=(--unix="$tmp/u.sock")
	"$SERVER" --mode=record --no-data --port-file="$tmp/port" --log="$tmp/log" \
		"${where[@]}" --max-seconds=$((DUR + 60)) & srv=$!
	wait_file "$tmp/port" || { echo "test server did not start"; exit 1; }
	to=127.0.0.1:$(cat "$tmp/port"); [ "$kind" = unix ] && to=unix:$tmp/u.sock
	start_proxy "$to" --cut --split="$split" --pace="$pace" --seed=1
	load "$PP" 100 oneshot
	stop_proxy
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=
	frags=$(grep -oE ' fragments=[0-9]+' "$tmp/perr" | tail -1 | cut -d= -f2)
	says=$(grep -oE ' fidelity=[^ ]+' "$tmp/perr" | tail -1 | cut -d= -f2)
	[ "$says" = "n/a" ] && says="-"
	reads=$(sed -n 's/^total conns [0-9]* reads \([0-9]*\).*/\1/p' "$tmp/log")
	printf '| %-11s | %-4s | %-6s | %5s | %9.0f | %11s | %12s | %8.3f | %10s |\n' "$split" "$pace" \
		"$kind" 100 "$(echo "$OPS / $SECS" | bc -l)" "$frags" "$reads" \
		"$(echo "$reads / $frags" | bc -l)" "$says"
done
echo
echo "RTT: mean time of a 64-byte round trip per connection; tput: bytes echoed"
echo "per second with 64 KiB writes; ratio: proxy over direct. fidelity: server"
echo "reads over pieces sent (1.000: every piece read on its own; a read may"
echo "also be an empty EOF read, so slightly above 1 is possible); proxy says:"
echo "the share of pieces confirmed read before the next went (sock_diag over"
echo "TCP, SIOCOUTQ toward a Unix socket; -: not measured, ack pacing over TCP)."
echo "server unix: the recording server on a Unix socket behind proxy --unix."
