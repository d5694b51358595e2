#!/usr/bin/env bash
# Helpers of the answer tests (sourced by tests/it/responses.sh): the answer
# test servers (kvserver, httpka, smtpish) and a scripted client.

# start_resp NAME [args...]: starts build/servers/NAME like start_server
# (port file, log with one "read B" line per read, --max-seconds), sets
# SERVER_PID and PORT.
start_resp() {
	local name=$1; shift
	rm -f "$TMP/port" "$TMP/server.log"
	(ulimit -c 0; exec "$BUILD/servers/$name" --port-file="$TMP/port" \
		--log="$TMP/server.log" --log-reads --max-seconds=90 "$@") &
	SERVER_PID=$!
	for _ in $(seq 100); do
		[ -s "$TMP/port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$TMP/port" 2>/dev/null)
	[ -n "$PORT" ] || { echo "$name did not start"; exit 1; }
}

# respc STEP...: runs the scripted client (tests/respclient.py) against
# $PORT; what came back, escaped, in GOT; its status in RC.
respc() {
	GOT=$(RESP_LOG="$TMP/server.log" timeout -k 2 20 python3 \
		tests/respclient.py "$PORT" "$@" 2>"$TMP/resp.err")
	RC=$?
}

# expect_got NAME WANT: checks what the client got back (escaped).
expect_got() {
	if [ "$RC" = 0 ] && [ "$GOT" = "$2" ]; then return 0; fi
	fail "$1" "got '$GOT' (client status $RC), wanted '$2'" \
		"$(cat "$TMP/resp.err")"
	return 1
}

# expect_log NAME REGEX: checks the server's log.
expect_log() {
	if grep -Eq -- "$2" "$TMP/server.log"; then return 0; fi
	fail "$1" "server log lacks /$2/" "$(tail -n 8 "$TMP/server.log")"
	return 1
}

# resp_blob FILE: a corpus blob as respclient text (escaped).
resp_blob() {
	python3 -c 'import sys; print(open(sys.argv[1],"rb").read().decode("latin1").encode("unicode_escape").decode())' "$1"
}

# sf_resp SERVER CORPUS [args...]: runs stutterfuzz at default options
# against the running answer server, findings into $TMP/f (emptied first).
sf_resp() {
	local corpus=$1; shift
	rm -rf "$TMP/f"
	sf --blob-dir="$corpus" --host=127.0.0.1 --port="$PORT" \
		--findings-dir="$TMP/f" --stats-interval=10s "$@"
}

# one_record KIND: the path of the single record of KIND in $TMP/f, in REC.
one_record() {
	REC=$(ls "$TMP/f/$1"-*.json 2>/dev/null | head -1)
	[ -n "$REC" ]
}

# replay_rc NAME SERVER ARGS... : replays $REC against a fresh SERVER started
# with ARGS; status in RC, output in $TMP/replay.
replay_rc() {
	local name=$1; shift
	start_resp "$@"
	timeout -k 5 60 "$SF" replay "$REC" --host=127.0.0.1 --port="$PORT" \
		>"$TMP/replay" 2>&1
	RC=$?
	stop_server
}

# resp_json FILE KEY.KEY...: one value of a JSON file ("" if absent).
resp_json() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" "$2"
}
