#!/usr/bin/env bash
# Shared helpers of the integration tests (sourced by tests/integration.sh):
# the test server, bounded stutterfuzz runs, checks, a corpus of known blobs.

BUILD=${BUILD:-build}
SF=${SF:-$BUILD/stutterfuzz}
SERVER=$BUILD/servers/testserver
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stutterfuzz-it.XXXXXX")
PASSED=0
FAILED=0
SERVER_PID=
PORT=

cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "PASS: $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $1"; shift; for l in "$@"; do echo "    $l"; done; }

# await_file FILE: waits (at most 5 s) until FILE is not empty.
await_file() {
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# spawn_server MODE [args...]: starts the test server with $TMP/port and
# $TMP/server.log, sets SERVER_PID, waits for the port file.
spawn_server() {
	local mode=$1; shift
	rm -f "$TMP/port" "$TMP/server.log"
	"$SERVER" --mode="$mode" --port-file="$TMP/port" --log="$TMP/server.log" \
		--max-seconds=90 "$@" &
	SERVER_PID=$!
	await_file "$TMP/port"
}

# start_server MODE [args...]: starts the test server, sets SERVER_PID, PORT.
start_server() {
	spawn_server "$@"
	PORT=$(cat "$TMP/port" 2>/dev/null)
	[ -n "$PORT" ] || { echo "test server did not start"; exit 1; }
}

# start_unix_server PATH MODE [args...]: the test server on the Unix socket
# PATH; sets SERVER_PID once it listens (its --port-file is written after
# listen()).
start_unix_server() {
	local path=$1 mode=$2; shift 2
	rm -f "$path"
	spawn_server "$mode" --unix="$path" "$@"
	[ -S "$path" ] || { echo "test server did not listen on $path"; exit 1; }
}

# unix_exit_record NAME DIR PATH: the target-exit record in DIR, in REC;
# fails NAME unless there is one and it names the Unix socket PATH.
unix_exit_record() {
	REC=$(ls "$2"/target-exit-*.json 2>/dev/null | head -1)
	[ -n "$REC" ] || { fail "$1" "no target-exit record in $2"; return 1; }
	[ "$(json_get "$REC" target_kind)" = unix ] && [ "$(json_get "$REC" target)" = "$3" ] &&
		return 0
	fail "$1" "record target: $(json_get "$REC" target_kind) $(json_get "$REC" target)"
	return 1
}

# stop_server: SIGTERM and wait, so its log is complete.
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
	fi
}

# sf ARGS...: runs stutterfuzz (at most 60 s), stderr to $TMP/err, sets RC.
sf() {
	timeout -k 5 60 "$SF" "$@" 2>"$TMP/err" >"$TMP/out"
	RC=$?
}

# expect_rc NAME WANT: checks RC.
expect_rc() {
	if [ "$RC" = "$2" ]; then return 0; fi
	fail "$1" "exit status $RC, wanted $2" "$(tail -n 8 "$TMP/err")"
	return 1
}

# expect_err NAME REGEX: checks that stderr matches.
expect_err() {
	if grep -Eq -- "$2" "$TMP/err"; then return 0; fi
	fail "$1" "stderr lacks /$2/" "$(tail -n 8 "$TMP/err")"
	return 1
}

# summary_field NAME: a "name=value" from the summary lines.
summary_field() {
	sed -n '/^Summary/,$p' "$TMP/err" | grep -oE "(^| )$1=[0-9]+" | head -1 | cut -d= -f2
}

# json_get FILE KEY.KEY...: one value of a JSON file ("" if absent).
# run_conns FILE: the test server's "conn" lines of a run without a
# supervised target, less the first connection: the check that the server
# is up before the run (accepted first, closed without a byte).
run_conns() {
	grep '^conn ' "$1" | grep -v '^conn 1 '
}

# tfree_port: a port nothing listens on now.
tfree_port() {
	start_server record --no-data
	local p=$PORT
	stop_server
	echo "$p"
}

# jget FILE EXPR: a Python expression over the JSON document d of FILE.
jget() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

json_get() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" "$2" 2>/dev/null
}

# wait_for FILE REGEX: waits (at most 30 s) until a line of FILE matches.
wait_for() {
	local i
	for i in $(seq 600); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# A corpus of known blobs, including a 0-byte one.
CORPUS=$TMP/corpus
mkdir -p "$CORPUS"
printf 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$CORPUS/get"
printf '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n' >"$CORPUS/set"
head -c 2000 /dev/urandom >"$CORPUS/random"
: >"$CORPUS/zero"
printf 'x' >"$CORPUS/.hidden"
