# Integration tests of stutterfuzz proxy: forwarding, recording, cutting,
# findings and replay, bad input. Sourced by tests/integration.sh.

PYC="python3 tests/proxyclient.py"
PROXY_PID=
PPORT=
ECHO_PID=
EPORT=

# start_proxy ARGS...: stutterfuzz proxy in the background (at most 60 s),
# stderr to $TMP/perr; sets PROXY_PID and PPORT once it listens.
start_proxy() {
	rm -f "$TMP/perr"
	timeout --foreground -k 30 90 ${PROXY_WRAP:-} "$SF" proxy --listen=127.0.0.1:0 -q "$@" 2>"$TMP/perr" &
	PROXY_PID=$!
	PPORT=$($PYC listen-port "$TMP/perr") || { cat "$TMP/perr"; PPORT=; }
}

# stop_proxy: SIGTERM, wait; RC is its exit status, $TMP/err its stderr.
stop_proxy() {
	kill -TERM "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID"
	RC=$?
	PROXY_PID=
	cp "$TMP/perr" "$TMP/err"
}

# px_send_stop STREAM...: sends each $TMP/px/STREAM through the proxy
# (answers unread), then stops the proxy (its status in RC) and the server.
px_send_stop() {
	local f
	for f; do
		$PYC send 127.0.0.1 "$PPORT" "$TMP/px/$f" "$TMP/px/ans" >/dev/null
	done
	stop_proxy
	stop_server
}

# px_whole NAME STREAM...: checks that each stream is one connection's data
# in the test server's log.
px_whole() {
	local f
	for f in "${@:2}"; do
		grep -q " data $(hex "$TMP/px/$f")\$" "$TMP/server.log" ||
			{ fail "$1" "$f did not arrive whole"; return 1; }
	done
}

# start_answerer MODE: the python answering server; sets ECHO_PID, EPORT.
start_answerer() {
	rm -f "$TMP/eport"
	$PYC serve "$1" "$TMP/eport" ${2:-} &
	ECHO_PID=$!
	await_file "$TMP/eport"
	EPORT=$(cat "$TMP/eport" 2>/dev/null)
}

stop_answerer() {
	[ -n "$ECHO_PID" ] && kill "$ECHO_PID" 2>/dev/null && wait "$ECHO_PID" 2>/dev/null
	ECHO_PID=
}

# A few requests of known bytes.
proxy_samples() {
	mkdir -p "$TMP/px"
	printf 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' >"$TMP/px/r1"
	printf '*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n' >"$TMP/px/r2"
	head -c 5000 /dev/urandom >"$TMP/px/r3"
	head -c 400000 /dev/urandom >"$TMP/px/big"
}

# --- recording: blobs are what the clients sent, repeats kept once ----------
t_proxy_record() {
	local name="proxy --record: blobs equal what clients sent, repeats kept once"
	proxy_samples
	start_server record
	start_proxy --to=127.0.0.1:"$PORT" --record="$TMP/px/rec"
	[ -n "$PPORT" ] || { stop_server; fail "$name" "proxy did not listen"; return; }
	local f how
	for f in r1 r2 r3 r1 r3; do
		how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/$f" "$TMP/px/ans")
		[ "$how" = eof ] || { stop_proxy; stop_server; fail "$name" "$f: $how"; return; }
	done
	stop_proxy
	stop_server
	expect_rc "$name" 0 || return
	expect_err "$name" "corpus: recorded=3 duplicates=2 truncated=0" || return
	local n=0 b
	for f in r1 r2 r3; do
		b=$(sha256sum "$TMP/px/$f" | cut -d' ' -f1)
		cmp -s "$TMP/px/$f" "$TMP/px/rec/$b" || { fail "$name" "$f not kept as $b"; return; }
	done
	n=$(find "$TMP/px/rec" -maxdepth 1 -type f | wc -l)
	[ "$n" -eq 3 ] || { fail "$name" "$n files in the corpus, wanted 3"; return; }
	# The server got the same bytes, whole: five connections.
	[ "$(grep -c '^conn ' "$TMP/server.log")" -eq 5 ] || { fail "$name" "server saw $(grep -c '^conn ' "$TMP/server.log") connections"; return; }
	# The recorded corpus is a corpus the main run takes.
	sf --blob-dir="$TMP/px/rec" --port=1 --only=0 --connect-timeout=100ms
	expect_err "$name" "Loaded 3 blobs" || return
	pass "$name"
}

# --- --record-max: a long stream is kept truncated and counted ---------------
t_proxy_record_cap() {
	local name="proxy --record-max: long streams kept truncated, counted"
	proxy_samples
	start_answerer echo
	start_proxy --to=127.0.0.1:"$EPORT" --record="$TMP/px/cap" --record-max=1000 --answers
	$PYC send 127.0.0.1 "$PPORT" "$TMP/px/r3" "$TMP/px/ans" >/dev/null
	stop_proxy
	stop_answerer
	expect_rc "$name" 0 || return
	expect_err "$name" "corpus: recorded=1 duplicates=0 truncated=1" || return
	local b
	b=$(head -c 1000 "$TMP/px/r3" | sha256sum | cut -d' ' -f1)
	cmp -s <(head -c 1000 "$TMP/px/r3") "$TMP/px/cap/$b" || { fail "$name" "the first 1000 bytes are not kept as $b"; return; }
	[ -f "$TMP/px/cap/answers/$b.answer" ] || { fail "$name" "no answer kept beside the blob"; return; }
	pass "$name"
}

# --- answers through the proxy are the answers without it --------------------
t_proxy_answers() {
	local name="proxy: 100 connections at once, answers equal direct ones (IPv4 and IPv6)"
	proxy_samples
	start_answerer echo
	mkdir -p "$TMP/px/direct" "$TMP/px/via" "$TMP/px/via6"
	local out
	out=$($PYC many 127.0.0.1 "$EPORT" 100 "$TMP/px/direct" "$TMP/px"/r1 "$TMP/px"/r3 "$TMP/px"/big) || { stop_answerer; fail "$name" "direct: $out"; return; }
	start_proxy --to=127.0.0.1:"$EPORT" --buffer=65536
	out=$($PYC many 127.0.0.1 "$PPORT" 100 "$TMP/px/via" "$TMP/px"/r1 "$TMP/px"/r3 "$TMP/px"/big) || { stop_proxy; stop_answerer; fail "$name" "via the proxy: $out"; return; }
	stop_proxy
	expect_rc "$name" 0 || { stop_answerer; return; }
	if ! diff -rq "$TMP/px/direct" "$TMP/px/via" >/dev/null; then
		stop_answerer; fail "$name" "answers differ"; return
	fi
	cmp -s "$TMP/px/big" "$TMP/px/direct/2" || { stop_answerer; fail "$name" "echo is not an echo"; return; }
	# IPv6 on the client side, IPv4 toward the server.
	rm -f "$TMP/perr"
	timeout --foreground -k 30 90 "$SF" proxy --listen='[::1]:0' -q --to=127.0.0.1:"$EPORT" 2>"$TMP/perr" &
	PROXY_PID=$!
	PPORT=$($PYC listen-port "$TMP/perr")
	out=$($PYC many ::1 "$PPORT" 20 "$TMP/px/via6" "$TMP/px"/r1 "$TMP/px"/r3 "$TMP/px"/big) || { stop_proxy; stop_answerer; fail "$name" "IPv6: $out"; return; }
	stop_proxy
	stop_answerer
	expect_rc "$name" 0 || return
	for i in $(seq 0 19); do
		cmp -s "$TMP/px/direct/$i" "$TMP/px/via6/$i" || { fail "$name" "IPv6 answer $i differs"; return; }
	done
	pass "$name"
}

# --- IPv6 toward the server; --duration ends it with a summary --------------
t_proxy_v6_duration() {
	local name="proxy: IPv6 toward the server; --duration ends it cleanly"
	proxy_samples
	start_answerer echo ::1
	[ -n "$EPORT" ] || { fail "$name" "no IPv6 answerer"; return; }
	start_proxy --to="[::1]:$EPORT" --duration=2s
	local how
	how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/r3" "$TMP/px/ans")
	wait "$PROXY_PID"
	RC=$?
	PROXY_PID=
	cp "$TMP/perr" "$TMP/err"
	stop_answerer
	[ "$how" = eof ] || { fail "$name" "client: $how"; return; }
	cmp -s "$TMP/px/r3" "$TMP/px/ans" || { fail "$name" "echo over IPv6 differs"; return; }
	expect_rc "$name" 0 || return
	expect_err "$name" "forwarding to \[::1\]:$EPORT" || return
	expect_err "$name" "stopped: duration" || return
	pass "$name"
}

# --- bounded buffering: a server that does not read stops the client ---------
t_proxy_backpressure() {
	local name="proxy: a server that never reads slows the client (bounded buffers)"
	start_server no-read
	start_proxy --to=127.0.0.1:"$PORT" --buffer=65536
	local sent
	# 256 MiB would all go through if the proxy buffered without bound.
	sent=$($PYC push 127.0.0.1 "$PPORT" 268435456 2)
	stop_proxy
	stop_server
	expect_rc "$name" 0 || return
	[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$sent" -lt 268435456 ] || { fail "$name" "the client sent $sent bytes"; return; }
	pass "$name (the client got $sent bytes in before it was held)"
}

# --- half-close and the server closing first ---------------------------------
t_proxy_half_close() {
	local name="proxy: client half-close reaches the server; the server closing first reaches the client"
	proxy_samples
	# The echo server answers everything and closes only at the client's
	# EOF: the whole echo comes back only if the half-close got through.
	start_answerer echo
	start_proxy --to=127.0.0.1:"$EPORT"
	local how
	how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/big" "$TMP/px/ans")
	stop_proxy
	stop_answerer
	[ "$how" = eof ] || { fail "$name" "half-close: $how"; return; }
	cmp -s "$TMP/px/big" "$TMP/px/ans" || { fail "$name" "half-close: echo differs"; return; }
	expect_err "$name" "half_closes=2 resets=0 server_first=0" || return
	# answer-close: the server answers a line and closes first; the client
	# never half-closes, and still sees the answer and the EOF.
	start_answerer answer-close
	printf 'hello there\nmore' >"$TMP/px/line"
	$PYC send 127.0.0.1 "$EPORT" "$TMP/px/line" "$TMP/px/direct-ans" --no-shut >/dev/null
	start_proxy --to=127.0.0.1:"$EPORT"
	how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/line" "$TMP/px/ans" --no-shut)
	stop_proxy
	stop_answerer
	[ "$how" = eof ] || { fail "$name" "server first: $how"; return; }
	cmp -s "$TMP/px/direct-ans" "$TMP/px/ans" || { fail "$name" "server first: answer differs"; return; }
	expect_err "$name" "server_first=1" || return
	pass "$name"
}

# --- resets are passed on as resets ------------------------------------------
t_proxy_reset() {
	local name="proxy: a server's reset reaches the client as a reset, counted"
	proxy_samples
	start_answerer reset
	start_proxy --to=127.0.0.1:"$EPORT"
	local how
	how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/r1" "$TMP/px/ans" --no-shut)
	stop_proxy
	stop_answerer
	[ "$how" = reset ] || { fail "$name" "client saw $how"; return; }
	expect_rc "$name" 0 || return
	expect_err "$name" "^finding: reset conn=0 .*error=Connection reset by peer" || return
	pass "$name"

	name="proxy: a client's reset reaches the server as a reset"
	start_answerer ends
	start_proxy --to=127.0.0.1:"$EPORT"
	$PYC abort 127.0.0.1 "$PPORT" "$TMP/px/r3" >/dev/null
	$PYC send 127.0.0.1 "$PPORT" "$TMP/px/r1" "$TMP/px/ans" >/dev/null
	for _ in $(seq 200); do
		[ "$(wc -l <"$TMP/eport.ends" 2>/dev/null)" = 2 ] && break
		sleep 0.05
	done
	stop_proxy
	stop_answerer
	expect_rc "$name" 0 || return
	# The aborted client's bytes (up to 5000), then its reset; the other
	# client's whole request and an EOF.
	grep -qE "^reset [0-9]+$" "$TMP/eport.ends" && grep -qx "eof $(wc -c <"$TMP/px/r1")" "$TMP/eport.ends" ||
		{ fail "$name" "the server saw: $(tr '\n' ';' <"$TMP/eport.ends")"; return; }
	pass "$name"
}

# --- --cut: the server reads every stream in the proxy's pieces --------------
t_proxy_cut() {
	local name="proxy --cut: the server reads each stream in the pieces of the trace"
	proxy_samples
	start_server record
	start_proxy --to=127.0.0.1:"$PORT" --cut --seed=5 --split=small --trace="$TMP/px/trace"
	px_send_stop r1 r2 r3 r1
	expect_rc "$name" 0 || return
	expect_err "$name" "pace=read" || return
	local reads out
	reads=$(awk '/^conn /{n += $6} END {print n}' "$TMP/server.log")
	[ "$reads" -ge 8 ] || { fail "$name" "only $reads reads for 4 streams"; return; }
	local frags
	frags=$(grep -oE ' fragments=[0-9]+' "$TMP/err" | tail -1 | cut -d= -f2)
	[ "$frags" = "$reads" ] || { fail "$name" "$frags pieces sent, $reads reads"; return; }
	out=$($PYC trace-vs-log "$TMP/px/trace" "$TMP/server.log") || { fail "$name" "$out"; return; }
	[ "$out" = "4 matched" ] || { fail "$name" "$out"; return; }
	expect_err "$name" "fidelity=1.000" || return
	pass "$name ($reads reads)"

	name="proxy --cut --pace=ack: streams arrive whole and cut, byte for byte"
	start_server record
	start_proxy --to=127.0.0.1:"$PORT" --cut --pace=ack --seed=5 --split=small
	px_send_stop r1 r2 r3
	expect_rc "$name" 0 || return
	expect_err "$name" "pace=ack" || return
	px_whole "$name" r1 r2 r3 || return
	reads=$(awk '/^conn /{n += $6} END {print n}' "$TMP/server.log")
	[ "$reads" -ge 6 ] || { fail "$name" "only $reads reads for 3 streams"; return; }
	pass "$name ($reads reads)"
}

# --- --cut: one slot used more than 4096 times (generations wrap in lookups) -
t_proxy_cut_slot_reuse() {
	local name="proxy --cut --max-conns=1: 4200 connections through one slot stay paced"
	mkdir -p "$TMP/px"
	printf 'PING x\r\n' >"$TMP/px/ping"
	start_server record --no-data
	start_proxy --to=127.0.0.1:"$PORT" --cut --split=bytewise --max-conns=1 --hang-timeout=5s
	local out
	out=$($PYC seq 127.0.0.1 "$PPORT" 4200 "$TMP/px/ping")
	stop_proxy
	stop_server
	expect_rc "$name" 0 || return
	[ "$out" = "4200 done" ] || { fail "$name" "$out"; return; }
	expect_err "$name" "accepted=4200 " || return
	expect_err "$name" "fragments=33600 .*fid_ok=33600 fidelity=1.000" || return
	pass "$name"
}

# --- --cut: a server that stops reading is a hang finding --------------------
t_proxy_cut_hang() {
	local name="proxy --cut: a piece left unread is a hang finding with a record; exit 1"
	proxy_samples
	start_server no-read
	start_proxy --to=127.0.0.1:"$PORT" --cut --split=bytewise --hang-timeout=1s \
		--findings-dir="$TMP/px/hang"
	local how
	how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/r1" "$TMP/px/ans")
	stop_proxy
	stop_server
	[ "$how" = reset ] || { fail "$name" "client saw $how"; return; }
	expect_rc "$name" 1 || return
	expect_err "$name" "^finding: hang conn=0 .*phase=send" || return
	ls "$TMP/px/hang"/hang-*.json >/dev/null 2>&1 || { fail "$name" "no record"; return; }
	pass "$name"
}

# --- --cut brings down a server whose bug needs a cut; replay reproduces -----
t_proxy_cut_crash() {
	local name="proxy --cut: whole requests crash a split-sensitive server; replay reproduces"
	printf 'xxTOKENyy\n' >"$TMP/px/tok"
	start_server crash-split
	local port=$PORT how
	# Whole, the request is harmless.
	how=$($PYC send 127.0.0.1 "$port" "$TMP/px/tok" "$TMP/px/ans")
	[ "$how" = eof ] || { stop_server; fail "$name" "direct: $how"; return; }
	start_proxy --to=127.0.0.1:"$port" --cut --split=bytewise --seed=3 \
		--findings-dir="$TMP/px/findings"
	$PYC send 127.0.0.1 "$PPORT" "$TMP/px/tok" "$TMP/px/ans" >/dev/null
	wait "$SERVER_PID" 2>/dev/null
	local status=$?
	SERVER_PID=
	[ "$status" -eq 42 ] || { stop_proxy; fail "$name" "server exit status $status, wanted 42"; return; }
	# The next client finds the server gone.
	$PYC send 127.0.0.1 "$PPORT" "$TMP/px/tok" "$TMP/px/ans" >/dev/null
	stop_proxy
	expect_rc "$name" 1 || return
	expect_err "$name" "^finding: refused " || return
	local rec
	rec=$(ls "$TMP/px/findings"/refused-*.json 2>/dev/null | head -1)
	[ -n "$rec" ] || { fail "$name" "no record"; return; }
	start_server crash-split --port="$port"
	sf replay "$rec"
	wait "$SERVER_PID" 2>/dev/null
	status=$?
	SERVER_PID=
	expect_rc "$name" 1 || return
	expect_err "$name" "Result: reproduced" || return
	[ "$status" -eq 42 ] || { fail "$name" "replay: server exit status $status"; return; }
	pass "$name"
}

# --- a supervised target after -- ---------------------------------------------
t_proxy_supervised() {
	local name="proxy -- SERVER: the target's exit is a finding with a record; exit 1"
	printf 'xxTOKENyy\n' >"$TMP/px/tok"
	start_server record
	local port=$PORT
	stop_server
	start_proxy --to=127.0.0.1:"$port" --cut --split=bytewise --findings-dir="$TMP/px/sup" \
		-- "$SERVER" --mode=crash-split --port="$port" --max-seconds=60
	for _ in $(seq 200); do
		grep -q '^Target ready' "$TMP/perr" && break
		sleep 0.05
	done
	$PYC send 127.0.0.1 "$PPORT" "$TMP/px/tok" "$TMP/px/ans" >/dev/null
	wait "$PROXY_PID"
	RC=$?
	PROXY_PID=
	cp "$TMP/perr" "$TMP/err"
	expect_rc "$name" 1 || return
	expect_err "$name" "^finding: target-exit .*exited with status 42" || return
	expect_err "$name" "stopped: target exited" || return
	ls "$TMP/px/sup"/target-exit-*.json >/dev/null 2>&1 || { fail "$name" "no record"; return; }
	pass "$name"
}

# --- the proxy itself under valgrind (ASan/UBSan in a SANITIZE=1 build) -------
t_proxy_memcheck() {
	local name="proxy under valgrind: no errors, no leaks (forwarding, cut, record, trace; TCP and Unix)"
	local PROXY_WRAP=
	if [ "${SANITIZE:-}" = 1 ]; then
		name="proxy under ASan/UBSan: no reports"
	elif command -v valgrind >/dev/null 2>&1; then
		PROXY_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible"
	else
		echo "SKIP: $name (valgrind not installed)"
		return
	fi
	proxy_samples
	start_answerer echo
	mkdir -p "$TMP/px/vg"
	start_proxy --to=127.0.0.1:"$EPORT" --cut --record="$TMP/px/vgrec" --answers \
		--trace="$TMP/px/vgtrace" --findings-dir="$TMP/px/vgf"
	local out
	out=$($PYC many 127.0.0.1 "$PPORT" 20 "$TMP/px/vg" "$TMP/px"/r1 "$TMP/px"/r2 "$TMP/px"/r3)
	stop_proxy
	stop_answerer
	[ "$out" = "20 answered" ] || { fail "$name" "$out"; return; }
	expect_rc "$name" 0 || return
	grep -q 'Sanitizer\|runtime error' "$TMP/err" && { fail "$name" "$(head -5 "$TMP/err")"; return; }
	cmp -s "$TMP/px/r3" "$TMP/px/vg/2" || { fail "$name" "echo through --cut differs"; return; }
	# Unix sockets on both sides, cut by SIOCOUTQ, with a --summary.
	local esock=$TMP/pvg-e.sock lsock=$TMP/pvg-l.sock
	rm -f "$TMP/eport"
	$PYC serve echo "$TMP/eport" unix:"$esock" &
	ECHO_PID=$!
	wait_for "$TMP/eport" . || { stop_answerer; fail "$name" "no Unix answerer"; return; }
	mkdir -p "$TMP/px/vgu"
	start_uproxy "$lsock" --unix="$esock" --cut --trace="$TMP/px/vgutrace" \
		--summary="$TMP/px/vgusum.json"
	out=$($PYC many unix "$lsock" 10 "$TMP/px/vgu" "$TMP/px"/r1 "$TMP/px"/r2 "$TMP/px"/r3)
	stop_proxy
	stop_answerer
	[ "$out" = "10 answered" ] || { fail "$name" "Unix: $out"; return; }
	expect_rc "$name" 0 || return
	grep -q 'Sanitizer\|runtime error' "$TMP/err" && { fail "$name" "$(head -5 "$TMP/err")"; return; }
	[ ! -e "$lsock" ] || { fail "$name" "$lsock left behind"; return; }
	pass "$name"
}

# --- a trace that cannot be written: exit 3 ----------------------------------
t_proxy_trace_full() {
	local name="proxy --trace=/dev/full: the write error is reported, exit 3"
	proxy_samples
	start_answerer echo
	start_proxy --to=127.0.0.1:"$EPORT" --trace=/dev/full
	$PYC send 127.0.0.1 "$PPORT" "$TMP/px/r1" "$TMP/px/ans" >/dev/null
	stop_proxy
	stop_answerer
	expect_rc "$name" 3 || return
	expect_err "$name" "^stutterfuzz: --trace /dev/full: " || return
	pass "$name"
}

# --- out of descriptors: a local error, and the proxy goes on ----------------
t_proxy_fd_limit() {
	local name="proxy out of file descriptors: local error, not a finding; it recovers"
	proxy_samples
	start_answerer echo
	rm -f "$TMP/perr" "$TMP/px/release"
	# 40 descriptors: a few for the proxy itself, then two per client.
	timeout --foreground -k 30 90 bash -c 'ulimit -n 40 && exec "$@"' sh "$SF" proxy \
		--listen=127.0.0.1:0 -q --to=127.0.0.1:"$EPORT" 2>"$TMP/perr" &
	PROXY_PID=$!
	PPORT=$($PYC listen-port "$TMP/perr")
	$PYC hold 127.0.0.1 "$PPORT" 40 "$TMP/px/release" >"$TMP/px/held" &
	local holder=$!
	for _ in $(seq 200); do
		grep -q '^local error' "$TMP/perr" && break
		sleep 0.05
	done
	touch "$TMP/px/release"
	wait "$holder"
	local how
	how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/r1" "$TMP/px/ans")
	stop_proxy
	stop_answerer
	expect_rc "$name" 0 || return
	expect_err "$name" "^local error \(not a finding\): (accepting clients|a socket toward the server): Too many open files" || return
	[ "$how" = eof ] && cmp -s "$TMP/px/r1" "$TMP/px/ans" || { fail "$name" "after the clients left: $how"; return; }
	expect_err "$name" "findings: refused=0 connect-timeout=0 reset=0 " || return
	pass "$name"
}

# --- bad input: one line, exit 2 ----------------------------------------------
t_proxy_bad_input() {
	local name="proxy bad input: address in use, unresolvable --to, --to = --listen; one line, exit 2"
	start_server record
	local args
	for args in "--listen=127.0.0.1:$PORT --to=127.0.0.1:1" \
		"--listen=192.0.2.1:0 --to=127.0.0.1:1" \
		"--listen=127.0.0.1:0 --to=nosuch.invalid:80" \
		"--listen=127.0.0.1:$PORT --to=127.0.0.1:$PORT" \
		"--listen=0.0.0.0:$PORT --to=127.0.0.1:$PORT" \
		"--listen=127.0.0.1:0" \
		"--listen=127.0.0.1:0 --to=127.0.0.1" \
		"--listen=127.0.0.1:0 --to=127.0.0.1:1 --buffer=0"; do
		# shellcheck disable=SC2086
		sf proxy $args
		if [ "$RC" != 2 ] || [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
			stop_server
			fail "$name" "$args: exit $RC, $(wc -l <"$TMP/err") lines" "$(cat "$TMP/err")"
			return
		fi
	done
	sf proxy --listen=127.0.0.1:"$PORT" --to=127.0.0.1:1
	stop_server
	expect_err "$name" "^stutterfuzz: --listen 127.0.0.1:$PORT: Address already in use$" || return
	pass "$name"
}

# --- Unix-domain stream sockets on either side ------------------------------

PUSOCK=$TMP/pu.sock

# start_uproxy PATH ARGS...: stutterfuzz proxy listening on unix:PATH;
# sets PROXY_PID once it says it listens (PPORT empty if it did not).
start_uproxy() {
	local path=$1; shift
	rm -f "$TMP/perr"
	timeout --foreground -k 30 90 ${PROXY_WRAP:-} "$SF" proxy --listen=unix:"$path" -q "$@" 2>"$TMP/perr" &
	PROXY_PID=$!
	PPORT=
	wait_for "$TMP/perr" "^Proxy listening on unix:$path," && PPORT=$path
}

# --- --cut toward a Unix server: every piece read on its own ------------------
t_proxy_unix_cut() {
	local name="proxy --unix --cut: the server reads each stream in the pieces sent (SIOCOUTQ)"
	proxy_samples
	start_unix_server "$PUSOCK" record
	start_proxy --unix="$PUSOCK" --cut --seed=5 --split=small --trace="$TMP/px/utrace" \
		--summary="$TMP/px/usum.json"
	[ -n "$PPORT" ] || { stop_server; fail "$name" "proxy did not listen"; return; }
	px_send_stop r1 r2 r3 r1
	expect_rc "$name" 0 || return
	expect_err "$name" "forwarding to unix:$PUSOCK \(Unix socket\)" || return
	expect_err "$name" "^Cutting: split=small, pacing: read \(SIOCOUTQ" || return
	local reads frags fid pace out ports
	reads=$(sed -n 's/^total conns [0-9]* reads \([0-9]*\) .*/\1/p' "$TMP/server.log")
	frags=$(json_get "$TMP/px/usum.json" fragments)
	fid=$(json_get "$TMP/px/usum.json" fidelity)
	pace=$(json_get "$TMP/px/usum.json" pace)
	[ "$(json_get "$TMP/px/usum.json" target_kind)" = unix ] || { fail "$name" "summary target_kind"; return; }
	[ "$(json_get "$TMP/px/usum.json" target)" = "unix:$PUSOCK" ] &&
		[ "$(json_get "$TMP/px/usum.json" seed)" = 5 ] &&
		[ "$(json_get "$TMP/px/usum.json" exit_code)" = 0 ] &&
		grep -q '"seed": *"5"' "$TMP/px/usum.json" &&
		[ "$(json_get "$TMP/px/usum.json" format)" = stutterfuzz-proxy-summary ] ||
		{ fail "$name" "summary: $(cat "$TMP/px/usum.json")"; return; }
	[ -n "$reads" ] && [ "$reads" -ge 8 ] || { fail "$name" "only $reads reads for 4 streams"; return; }
	[ "$frags" = "$reads" ] || { fail "$name" "$frags pieces sent, $reads reads"; return; }
	[ "$(summary_field fragments)" = "$reads" ] || { fail "$name" "summary line: $(summary_field fragments) pieces"; return; }
	[ "$fid" = 1.0 ] && [ "$pace" = read ] || { fail "$name" "pace $pace, fidelity $fid"; return; }
	[ "$(json_get "$TMP/px/usum.json" fid_checked)" = "$frags" ] || { fail "$name" "fid_checked $(json_get "$TMP/px/usum.json" fid_checked) of $frags"; return; }
	out=$($PYC trace-vs-log "$TMP/px/utrace" "$TMP/server.log") || { fail "$name" "$out"; return; }
	[ "$out" = "4 matched" ] || { fail "$name" "$out"; return; }
	# A Unix socket has no port.
	ports=$(grep -c '"local_port":0,' "$TMP/px/utrace")
	[ "$ports" -eq 4 ] || { fail "$name" "$ports of 4 trace lines with local_port 0"; return; }
	pass "$name ($reads reads)"

	name="proxy --to=unix:PATH --cut --pace=ack: pieces read apart, --gap-us kept"
	start_unix_server "$PUSOCK" record
	start_proxy --to=unix:"$PUSOCK" --cut --pace=ack --gap-us=0 --seed=5 --split=small \
		--summary="$TMP/px/usum.json"
	px_send_stop r1 r2 r3
	expect_rc "$name" 0 || return
	expect_err "$name" "^Cutting: split=small, pacing: ack \(--gap-us, then SIOCOUTQ" || return
	px_whole "$name" r1 r2 r3 || return
	reads=$(sed -n 's/^total conns [0-9]* reads \([0-9]*\) .*/\1/p' "$TMP/server.log")
	frags=$(json_get "$TMP/px/usum.json" fragments)
	[ "$frags" = "$reads" ] && [ "$(json_get "$TMP/px/usum.json" pace)" = ack ] ||
		{ fail "$name" "$frags pieces sent, $reads reads, pace $(json_get "$TMP/px/usum.json" pace)"; return; }
	pass "$name ($reads reads)"
}

# --- --cut toward a Unix server that stops reading: a hang -------------------
t_proxy_unix_hang() {
	local name="proxy --unix --cut: a piece left unread (SIOCOUTQ) is a hang finding; exit 1"
	proxy_samples
	start_unix_server "$PUSOCK" no-read
	start_proxy --unix="$PUSOCK" --cut --split=bytewise --hang-timeout=1s \
		--findings-dir="$TMP/px/uhang"
	local how rec
	how=$($PYC send 127.0.0.1 "$PPORT" "$TMP/px/r1" "$TMP/px/ans")
	stop_proxy
	stop_server
	[ "$how" = reset ] || { fail "$name" "client saw $how"; return; }
	expect_rc "$name" 1 || return
	expect_err "$name" "^finding: hang conn=0 .*phase=send fragments=1/" || return
	rec=$(ls "$TMP/px/uhang"/hang-*.json 2>/dev/null | head -1)
	[ -n "$rec" ] && [ "$(json_get "$rec" target_kind)" = unix ] || { fail "$name" "no record of kind unix"; return; }
	pass "$name"
}

# --- --listen=unix:PATH: clients of Unix-socket servers -----------------------
t_proxy_unix_listen() {
	local name="proxy --listen=unix:PATH: 50 clients at once, answers equal direct ones; socket removed at exit"
	proxy_samples
	local lsock=$TMP/pl.sock out
	mkdir -p "$TMP/px/udirect" "$TMP/px/uvia" "$TMP/px/uvia2"
	start_answerer echo
	out=$($PYC many 127.0.0.1 "$EPORT" 50 "$TMP/px/udirect" "$TMP/px"/r1 "$TMP/px"/r3 "$TMP/px"/big) || { stop_answerer; fail "$name" "direct: $out"; return; }
	start_uproxy "$lsock" --to=127.0.0.1:"$EPORT"
	[ -n "$PPORT" ] || { stop_proxy; stop_answerer; fail "$name" "proxy did not listen" "$(cat "$TMP/err")"; return; }
	[ -S "$lsock" ] || { stop_proxy; stop_answerer; fail "$name" "no socket at $lsock"; return; }
	out=$($PYC many unix "$lsock" 50 "$TMP/px/uvia" "$TMP/px"/r1 "$TMP/px"/r3 "$TMP/px"/big) || { stop_proxy; stop_answerer; fail "$name" "via the proxy: $out"; return; }
	stop_proxy
	stop_answerer
	expect_rc "$name" 0 || return
	diff -rq "$TMP/px/udirect" "$TMP/px/uvia" >/dev/null || { fail "$name" "answers differ"; return; }
	[ ! -e "$lsock" ] || { fail "$name" "$lsock is left behind"; return; }
	pass "$name"

	name="proxy --listen=unix:A --unix=B: Unix on both sides, answers equal direct ones"
	local esock=$TMP/pe.sock
	rm -f "$TMP/eport"
	$PYC serve echo "$TMP/eport" unix:"$esock" &
	ECHO_PID=$!
	wait_for "$TMP/eport" . || { stop_answerer; fail "$name" "no Unix answerer"; return; }
	mkdir -p "$TMP/px/udirect2"
	# Not the big one: a client that sends all before it reads fills a
	# Unix socket's smaller buffers both ways against an echo.
	out=$($PYC many unix "$esock" 20 "$TMP/px/udirect2" "$TMP/px"/r1 "$TMP/px"/r2 "$TMP/px"/r3) || { stop_answerer; fail "$name" "direct: $out"; return; }
	start_uproxy "$lsock" --unix="$esock" --cut --split=small --seed=2
	out=$($PYC many unix "$lsock" 20 "$TMP/px/uvia2" "$TMP/px"/r1 "$TMP/px"/r2 "$TMP/px"/r3) || { stop_proxy; stop_answerer; fail "$name" "via the proxy: $out"; return; }
	stop_proxy
	stop_answerer
	expect_rc "$name" 0 || return
	diff -rq "$TMP/px/udirect2" "$TMP/px/uvia2" >/dev/null || { fail "$name" "answers differ"; return; }
	expect_err "$name" "accepted=20 established=20 completed=20 " || return
	pass "$name"
}

# --- the listening path: stale replaced, live refused, only ours removed ------
t_proxy_unix_listen_path() {
	local name="proxy --listen=unix: a stale socket is replaced; one in use: one line, exit 2"
	proxy_samples
	local lsock=$TMP/ps.sock how
	# A socket file nobody listens on any more.
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$lsock"
	[ -S "$lsock" ] || { fail "$name" "no stale socket made"; return; }
	start_answerer echo
	start_uproxy "$lsock" --to=127.0.0.1:"$EPORT"
	[ -n "$PPORT" ] || { stop_proxy; stop_answerer; fail "$name" "did not listen on the stale path" "$(cat "$TMP/err")"; return; }
	how=$($PYC send unix "$lsock" "$TMP/px/r1" "$TMP/px/ans")
	[ "$how" = eof ] && cmp -s "$TMP/px/r1" "$TMP/px/ans" || { stop_proxy; stop_answerer; fail "$name" "client: $how"; return; }
	# A second proxy on the same live path.
	sf proxy --listen=unix:"$lsock" --to=127.0.0.1:"$EPORT"
	if [ "$RC" != 2 ] || [ "$(wc -l <"$TMP/err")" -ne 1 ] ||
		! grep -q "^stutterfuzz: --listen unix:$lsock: in use" "$TMP/err"; then
		stop_proxy; stop_answerer
		fail "$name" "second proxy: exit $RC" "$(cat "$TMP/err")"
		return
	fi
	how=$($PYC send unix "$lsock" "$TMP/px/r1" "$TMP/px/ans")
	stop_proxy
	stop_answerer
	[ "$how" = eof ] || { fail "$name" "after the refused second proxy: $how"; return; }
	expect_rc "$name" 0 || return
	[ ! -e "$lsock" ] || { fail "$name" "$lsock left behind"; return; }
	pass "$name"

	name="proxy --listen=unix: a socket file replaced meanwhile is not removed at exit"
	start_answerer echo
	start_uproxy "$lsock" --to=127.0.0.1:"$EPORT"
	rm -f "$lsock"
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$lsock"
	stop_proxy
	stop_answerer
	expect_rc "$name" 0 || return
	[ -S "$lsock" ] || { fail "$name" "another's socket file was removed"; return; }
	rm -f "$lsock"
	pass "$name"
}

# --- a split-token crash found through the proxy over a Unix socket -----------
t_proxy_unix_crash_replay() {
	local name="proxy --unix -- SERVER: a split-token crash is one target-exit finding, record of kind unix"
	local fd=$TMP/px/ucrash rec cmdline
	printf 'xxTOKENyy\n' >"$TMP/px/tok"
	rm -rf "$fd" "$PUSOCK"
	start_proxy --unix="$PUSOCK" --cut --split=bytewise --seed=3 --findings-dir="$fd" \
		-- "$SERVER" --mode=crash-split --unix="$PUSOCK" --max-seconds=60
	wait_for "$TMP/perr" '^Target ready at unix:' || { stop_proxy; fail "$name" "target not ready" "$(cat "$TMP/err")"; return; }
	$PYC send 127.0.0.1 "$PPORT" "$TMP/px/tok" "$TMP/px/ans" >/dev/null
	wait "$PROXY_PID"
	RC=$?
	PROXY_PID=
	cp "$TMP/perr" "$TMP/err"
	expect_rc "$name" 1 || return
	cmdline="^Starting target: $SERVER --mode=crash-split --unix=$PUSOCK --max-seconds=60\$"
	expect_err "$name" "$cmdline" || return
	expect_err "$name" "^finding: target-exit .*exited with status 42" || return
	expect_err "$name" "findings: refused=0 connect-timeout=0 reset=0 hang=0 target-exit=1 " || return
	unix_exit_record "$name" "$fd" "$PUSOCK" || return
	rec=$REC
	# The command whole and the directory it ran in, for minimize.
	if [ "$(json_get "$rec" target_process.cwd)" != "$PWD" ] ||
		[ "$(jget "$rec" '" ".join(d["target_process"]["command"])')" != "$SERVER --mode=crash-split --unix=$PUSOCK --max-seconds=60" ]; then
		fail "$name" "target_process: $(jget "$rec" 'd["target_process"]')"
		return
	fi
	pass "$name"

	name="proxy --unix: replay of its record reproduces against a crashing server (1), not a fixed one (0)"
	start_unix_server "$PUSOCK" crash-split
	sf replay "$rec" --settle=100ms
	wait "$SERVER_PID" 2>/dev/null
	local status=$?
	SERVER_PID=
	expect_rc "$name" 1 || return
	expect_err "$name" "^Target unix:$PUSOCK \(Unix socket\)" || return
	expect_err "$name" "Result: reproduced" || return
	[ "$status" -eq 42 ] || { fail "$name" "replay: server exit status $status"; return; }
	start_unix_server "$PUSOCK" crash-split --fixed
	sf replay "$rec" --settle=50ms
	stop_server
	expect_rc "$name" 0 && expect_err "$name" "^Result: not reproduced; exit 0" || return
	grep -Eq ' split [1-9][0-9]*$' "$TMP/server.log" ||
		{ fail "$name" "the fixed server never saw the token split"; return; }
	pass "$name"
}

# --- a refusal after a supervised target died is lost with it -----------------
# The target is a shell that runs the test server, then waits for a file
# before it exits: the server is gone while the target still lives.
t_proxy_lost_with_target() {
	local name kind flag wrap=$TMP/px/wrap.sh how srv
	proxy_samples
	cat >"$wrap" <<'WRAP'
flag=$1; shift
"$@"
i=0
while [ ! -e "$flag" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
WRAP
	for kind in unix tcp; do
		name="proxy -- SERVER ($kind): refused after the server died, the target exiting: lost_with_target, not a finding"
		flag=$TMP/px/flag.$kind
		rm -f "$flag" "$PUSOCK"
		if [ $kind = unix ]; then
			srv=(--unix="$PUSOCK")
			start_proxy --unix="$PUSOCK" -- sh "$wrap" "$flag" "$SERVER" --mode=exit-after --count=2 "${srv[@]}" --max-seconds=60
		else
			start_server record; local port=$PORT; stop_server
			srv=(--port="$port")
			start_proxy --to=127.0.0.1:"$port" -- sh "$wrap" "$flag" "$SERVER" --mode=exit-after --count=2 "${srv[@]}" --max-seconds=60
		fi
		wait_for "$TMP/perr" '^Target ready' || { stop_proxy; fail "$name" "target not ready" "$(cat "$TMP/err")"; return; }
		# The readiness probe is the server's first connection; the first
		# client's makes it exit; the second client's is refused.
		how=$($PYC sends 127.0.0.1 "$PPORT" 2 "$TMP/px/r1")
		touch "$flag"
		wait "$PROXY_PID"
		RC=$?
		PROXY_PID=
		cp "$TMP/perr" "$TMP/err"
		[ "${how#* }" = reset ] || { fail "$name" "clients: $how"; return; }
		expect_rc "$name" 1 || return
		expect_err "$name" "findings: refused=0 connect-timeout=0 reset=0 hang=0 target-exit=1 .*; lost_with_target=[1-9]" || return
		grep -q '^finding: refused' "$TMP/err" && { fail "$name" "a refused finding was printed"; return; }
		pass "$name"

		name="proxy -- SERVER ($kind): refused while the target lives is a finding"
		rm -f "$flag" "$PUSOCK"
		if [ $kind = unix ]; then
			start_proxy --unix="$PUSOCK" -- sh "$wrap" "$flag" "$SERVER" --mode=exit-after --count=2 "${srv[@]}" --max-seconds=60
		else
			start_proxy --to=127.0.0.1:"$port" -- sh "$wrap" "$flag" "$SERVER" --mode=exit-after --count=2 "${srv[@]}" --max-seconds=60
		fi
		wait_for "$TMP/perr" '^Target ready' || { stop_proxy; fail "$name" "target not ready"; return; }
		$PYC sends 127.0.0.1 "$PPORT" 2 "$TMP/px/r1" >/dev/null
		# Once the refusal was decided a finding, the target may go.
		wait_for "$TMP/perr" '^finding: refused' || { stop_proxy; fail "$name" "no refused finding" "$(cat "$TMP/perr")"; return; }
		touch "$flag"
		wait "$PROXY_PID"
		RC=$?
		PROXY_PID=
		cp "$TMP/perr" "$TMP/err"
		expect_rc "$name" 1 || return
		expect_err "$name" "findings: refused=1 .* target-exit=1 " || return
		pass "$name"
	done
}

# --- many refusals while a dying target lingers: every one lost with it ------
# The target outlives its server by 100 ms; the clients that come meanwhile
# are refused by nothing listening, each verdict held until the exit.
t_proxy_lost_many() {
	local name="proxy -- SERVER: refusals of many clients while the target lingers are all lost with it"
	local p
	proxy_samples
	p=$(tfree_port)
	rm -f "$PUSOCK"
	timeout --foreground -k 30 90 "$SF" proxy --listen=unix:"$PUSOCK" --to=127.0.0.1:"$p" -q \
		-- sh -c "\"\$0\" --mode=exit-after --count=2 --port=$p --max-seconds=60; sleep 0.1" "$SERVER" \
		2>"$TMP/perr" &
	PROXY_PID=$!
	wait_for "$TMP/perr" '^Target ready' || { stop_proxy; fail "$name" "target not ready" "$(cat "$TMP/err")"; return; }
	# The first of them makes the server exit; the others are refused.
	$PYC many unix "$PUSOCK" 100 "$TMP/px" "$TMP/px/r1" >/dev/null 2>&1
	wait "$PROXY_PID"
	RC=$?
	PROXY_PID=
	cp "$TMP/perr" "$TMP/err"
	expect_rc "$name" 1 || return
	expect_err "$name" "findings: refused=0 connect-timeout=0 reset=0 hang=0 target-exit=1 " || return
	grep -q '^finding: refused' "$TMP/err" && { fail "$name" "a refused finding was printed"; return; }
	[ "$(summary_field lost_with_target)" -ge 1 ] || { fail "$name" "no refusal was held"; return; }
	pass "$name (lost_with_target=$(summary_field lost_with_target))"
}

# --- a full backlog of a Unix server: the client waits, a local error --------
t_proxy_unix_backlog() {
	local name="proxy --unix: a full listen backlog (EAGAIN) is retried, a local error, never a finding"
	start_unix_server "$PUSOCK" no-accept --count=1
	start_proxy --unix="$PUSOCK" --connect-timeout=1s
	rm -f "$TMP/px/release"
	$PYC hold 127.0.0.1 "$PPORT" 6 "$TMP/px/release" >/dev/null &
	local holder=$!
	wait_for "$TMP/perr" "^local error \(not a finding\): room in the server's listen backlog: Resource temporarily unavailable, 1 time so far; the server's listen backlog is full" ||
		{ touch "$TMP/px/release"; wait "$holder"; stop_proxy; stop_server; fail "$name" "no local error" "$(cat "$TMP/err")"; return; }
	touch "$TMP/px/release"
	wait "$holder"
	stop_proxy
	stop_server
	expect_rc "$name" 0 || return
	expect_err "$name" "findings: refused=0 connect-timeout=0 reset=0 hang=0 " || return
	pass "$name"
}

# --- bad input with Unix sockets: one line, exit 2 ----------------------------
t_proxy_unix_bad_input() {
	local name="proxy Unix bad input: too long, a directory, not a socket, --unix with --to, listen = server; one line, exit 2"
	local long=$TMP/ case args want
	while [ ${#long} -le 120 ]; do long="${long}x"; done
	mkdir -p "$TMP/px/udir"; : >"$TMP/px/ufile"
	for case in \
		"--listen=unix:$long --to=127.0.0.1:1|--listen unix:$long: .*longer than the 107 a socket address holds" \
		"--listen=unix:$TMP/px/udir --to=127.0.0.1:1|--listen unix:$TMP/px/udir: a directory, not a socket" \
		"--listen=unix:$TMP/px/ufile --to=127.0.0.1:1|--listen unix:$TMP/px/ufile: exists but is not a socket" \
		"--listen=unix: --to=127.0.0.1:1|--listen unix:: empty path" \
		"--listen=127.0.0.1:0 --unix=$TMP/px/udir|--unix $TMP/px/udir: a directory, not a socket" \
		"--listen=127.0.0.1:0 --to=unix:$TMP/px/ufile|--to unix:$TMP/px/ufile: exists but is not a socket" \
		"--listen=127.0.0.1:0 --unix=$long|--unix .*longer than the 107" \
		"--listen=127.0.0.1:0 --unix=$PUSOCK --to=127.0.0.1:1|--unix and --to exclude each other" \
		"--listen=127.0.0.1:0 --unix=$PUSOCK --to=unix:$PUSOCK|--unix and --to exclude each other" \
		"--listen=unix:$TMP/px/same.sock --unix=$TMP/px/same.sock|is the server's own socket" \
		"--listen=unix:$TMP/px/./same.sock --unix=$TMP/px//same.sock|is the server's own socket" \
		"--listen=127.0.0.1:0 --unix=$PUSOCK --summary=$TMP/px/udir|--summary"; do
		args=${case%%|*}
		want=${case#*|}
		# shellcheck disable=SC2086
		sf proxy $args
		if [ "$RC" != 2 ] || [ "$(wc -l <"$TMP/err")" -ne 1 ] || ! grep -Eq -- "^stutterfuzz: .*$want" "$TMP/err"; then
			fail "$name" "$args: exit $RC, $(wc -l <"$TMP/err") lines" "$(cat "$TMP/err")"
			return
		fi
	done
	[ ! -e "$TMP/px/same.sock" ] || { fail "$name" "a socket was left at the server's path"; return; }
	# Relative and absolute spellings of one path.
	(cd "$TMP/px" && timeout -k 5 60 "$OLDPWD/$SF" proxy --listen=unix:same.sock --unix="$TMP/px/same.sock" 2>"$TMP/err"); RC=$?
	[ "$RC" = 2 ] && grep -q "is the server's own socket" "$TMP/err" || { fail "$name" "relative path: exit $RC" "$(cat "$TMP/err")"; return; }
	pass "$name"
}

register t_proxy_record t_proxy_record_cap t_proxy_answers t_proxy_v6_duration \
	t_proxy_backpressure t_proxy_half_close \
	t_proxy_reset t_proxy_cut t_proxy_cut_slot_reuse t_proxy_cut_hang \
	t_proxy_cut_crash t_proxy_supervised \
	t_proxy_memcheck t_proxy_trace_full t_proxy_fd_limit t_proxy_bad_input \
	t_proxy_unix_cut t_proxy_unix_hang t_proxy_unix_listen t_proxy_unix_listen_path \
	t_proxy_unix_crash_replay t_proxy_lost_with_target t_proxy_lost_many t_proxy_unix_backlog \
	t_proxy_unix_bad_input
