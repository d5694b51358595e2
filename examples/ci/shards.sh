#!/bin/sh
# Sharded soak of the example server, as CI runs it: each shard fuzzes its
# own server with every N-th blob of the corpus (--shard=K/N) and keeps a
# findings directory; a merge unites them into one verdict, JUnit, SARIF
# and an HTML report. The GitHub Actions workflow and the Kubernetes job in
# this directory run the same two steps ("shard" and "merge").
#
# usage: shards.sh                      N shards side by side, then merge
#        shards.sh shard K N DIR        one shard, findings in DIR
#        shards.sh merge OUT DIR...     OUT/merged, OUT/junit.xml,
#                                       OUT/results.sarif, OUT/report.html
# Environment: SF (stutterfuzz binary, default ./stutterfuzz), EXAMPLED
# (default build/examples/exampled), CORPUS (default corpus-samples/http),
# SHARDS (default 2), DURATION (per shard, default 10s), OUT (default
# shards-out), BUG (exampled --bug= value, default crlf; empty: none).
# Exit status: the merge's (0 clean, 1 findings that fail, 2 bad input).
set -u
SF=${SF:-./stutterfuzz}
EXAMPLED=${EXAMPLED:-build/examples/exampled}
CORPUS=${CORPUS:-corpus-samples/http}
DURATION=${DURATION:-10s}
BUG=${BUG-crlf}

# shard K N DIR: starts an example server on a free port, fuzzes it with
# shard K of N, records into DIR. Returns stutterfuzz's status.
shard() {
	k=$1 n=$2 dir=$3
	mkdir -p "$dir"
	rm -f "$dir.port"
	"$EXAMPLED" --port-file="$dir.port" ${BUG:+--bug="$BUG"} 2>"$dir.server.log" &
	server=$!
	i=0
	while [ ! -s "$dir.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(cat "$dir.port" 2>/dev/null)
	if [ -z "$port" ]; then
		echo "shards.sh: the example server did not start" >&2
		kill "$server" 2>/dev/null
		return 3
	fi
	"$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$port" \
		--shard="$k/$n" --duration="$DURATION" --findings-dir="$dir" -q
	status=$?
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	rm -f "$dir.port"
	return $status
}

# merge OUT DIR...: one verdict for all shards, and the files CI shows.
merge() {
	out=$1; shift
	mkdir -p "$out"
	"$SF" merge --output="$out/merged" --junit="$out/junit.xml" \
		--sarif="$out/results.sarif" "$@"
	status=$?
	[ "$status" -le 1 ] && "$SF" report "$out/merged" --output="$out/report.html"
	return $status
}

case "${1:-all}" in
shard)
	shift
	shard "$@"
	exit $?
	;;
merge)
	shift
	merge "$@"
	exit $?
	;;
all)
	out=${OUT:-shards-out}
	n=${SHARDS:-2}
	pids= dirs=
	mkdir -p "$out"
	k=0
	while [ $k -lt "$n" ]; do
		shard $k "$n" "$out/shard-$k" >"$out/shard-$k.log" 2>&1 &
		pids="$pids $!"
		dirs="$dirs $out/shard-$k"
		k=$((k + 1))
	done
	for p in $pids; do wait "$p"; done
	# shellcheck disable=SC2086
	merge "$out" $dirs
	exit $?
	;;
*)
	sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
