# Integration tests of the answer test servers themselves, so that they are
# known to behave as specified before stutterfuzz compares answers: each
# planted bug shows on a cut made by hand, not on the whole send, and not
# with --fixed. Sourced by tests/integration.sh.
. tests/lib_responses.sh

# --- kvserver: a SET whose key is cut loses the key's tail -------------------
t_resp_kv() {
	local name="kvserver: whole SET/GET answers the value"
	start_resp kvserver
	respc 's:SET user:1001 alice\r\nGET user:1001\r\n' 'w:alice\r\n'
	expect_got "$name" '+OK\r\n$5\r\nalice\r\n' || { stop_server; return; }
	pass "$name"

	name="kvserver: SET cut inside its key stores the key's head; GET answers nil"
	respc 's:SET user:20' 'r:1' 's:02 alice\r\nGET user:2002\r\nGET user:20\r\n' \
		'w:alice\r\n'
	expect_got "$name" '+OK\r\n$-1\r\n$5\r\nalice\r\n' || { stop_server; return; }
	expect_log "$name" '^cut key user:20$' || { stop_server; return; }
	pass "$name"

	name="kvserver: a cut elsewhere in the line is harmless"
	respc 's:SE' 'r:1' 's:T user:7 bob\r' 'r:2' 's:\nGET user:7\r\n' 'w:bob\r\n'
	stop_server
	expect_got "$name" '+OK\r\n$3\r\nbob\r\n' || return
	pass "$name"

	name="kvserver --fixed: the cut SET key stays whole"
	start_resp kvserver --fixed
	respc 's:SET user:10' 'r:1' 's:01 alice\r\nGET user:1001\r\n' 'w:alice\r\n'
	stop_server
	expect_got "$name" '+OK\r\n$5\r\nalice\r\n' || return
	if grep -q '^cut key' "$TMP/server.log"; then
		fail "$name" "the fixed server logged a cut key"; return
	fi
	pass "$name"
}

# --- kvserver: INCR is a counter shared by every connection -----------------
t_resp_counter() {
	local name="kvserver: INCR counts across connections, digits grow"
	start_resp kvserver --fixed
	respc 's:INCR hits\r\nINCR hits\r\n' 'w::2\r\n'
	expect_got "$name" ':1\r\n:2\r\n' || { stop_server; return; }
	local steps=() i
	for i in $(seq 3 11); do steps+=('s:INCR hits\r\n' "w::$i\\r\\n"); done
	respc "${steps[@]}" 's:GET hits\r\n' 'w:$2\r\n11\r\n'
	stop_server
	case "$GOT" in
	':3\r\n'*':10\r\n:11\r\n$2\r\n11\r\n') pass "$name" ;;
	*) fail "$name" "got '$GOT' (status $RC)" ;;
	esac
}

# --- httpka: a read ending right after the header block drops the body's
# length: the body is parsed as a request, an extra 400 comes back --------
t_resp_http() {
	local name="httpka: whole keep-alive POST then GET: two 200s"
	local blob
	blob=$(resp_blob tests/corpus-http-ka/post-then-get)
	start_resp httpka
	respc "s:$blob" 'w:GET /after body=0\n'
	case "$GOT" in
	'HTTP/1.1 200 OK\r\nDate: '*' GMT\r\nContent-Length: 19\r\n\r\nPOST /form body=12\nHTTP/1.1 200 OK\r\nDate: '*'\r\nContent-Length: 18\r\n\r\nGET /after body=0\n') ;;
	*) stop_server; fail "$name" "got '$GOT' (status $RC)"; return ;;
	esac
	pass "$name"

	name="httpka: a read that ends after the header block: an extra 400"
	respc 's:POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 12\r\n\r\n' \
		'r:1' 's:name=stutterGET /after HTTP/1.1\r\nHost: localhost\r\n\r\n' \
		'n:2:400 Bad Request\r\n'
	[ "$RC" = 0 ] || { stop_server; fail "$name" "got '$GOT' (status $RC)"; return; }
	local n200 n400
	n200=$(grep -o 'HTTP/1.1 200' <<<"$GOT" | wc -l)
	n400=$(grep -o 'HTTP/1.1 400' <<<"$GOT" | wc -l)
	if [ "$n200" != 1 ] || [ "$n400" != 2 ]; then
		stop_server; fail "$name" "$n200 200s and $n400 400s: '$GOT'"; return
	fi
	case "$GOT" in *'POST /form body=0\n'*) ;; *) stop_server; fail "$name" "no 'body=0': $GOT"; return ;; esac
	expect_log "$name" '^dropped content-length$' || { stop_server; return; }
	pass "$name"

	name="httpka: a read ending inside the body is harmless"
	respc 's:POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 12\r\n\r\nname=' \
		'r:1' 's:stutterGET /after HTTP/1.1\r\nHost: localhost\r\n\r\n' \
		'w:GET /after body=0\n'
	stop_server
	case "$GOT" in *'POST /form body=12\n'*'GET /after body=0\n') pass "$name" ;;
	*) fail "$name" "got '$GOT' (status $RC)" ;; esac

	name="httpka --fixed: the same cut keeps the body's length"
	start_resp httpka --fixed
	respc 's:POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 12\r\n\r\n' \
		'r:1' 's:name=stutterGET /after HTTP/1.1\r\nHost: localhost\r\n\r\n' \
		'w:GET /after body=0\n'
	stop_server
	case "$GOT" in *'POST /form body=12\n'*'GET /after body=0\n') ;;
	*) fail "$name" "got '$GOT' (status $RC)"; return ;; esac
	case "$GOT" in *' 400 '*) fail "$name" "a 400: $GOT"; return ;; esac
	pass "$name"
}

# --- httpka --stamps: every answer differs, the structure does not ----------
t_resp_stamps() {
	local name="httpka --stamps: ids, times and lengths vary between sends"
	local blob a b
	blob=$(resp_blob tests/corpus-http-ka/get-two)
	start_resp httpka --fixed --stamps
	respc "s:$blob" 'w:GET /b body=0"}\n'
	a=$GOT
	respc "s:$blob" 'w:GET /b body=0"}\n'
	b=$GOT
	stop_server
	[ "$RC" = 0 ] || { fail "$name" "got '$b' (status $RC)"; return; }
	if [ "$a" = "$b" ]; then fail "$name" "two sends got the same answer: $a"; return; fi
	local re='^(HTTP/1\.1 200 OK\\r\\nDate: [A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9:]{8} GMT\\r\\nX-Request-Id: [0-9a-f]{16}\\r\\nX-Time-Us: [0-9]+\\r\\nContent-Length: [0-9]+\\r\\n\\r\\n\{"at":[0-9]+,"id":"[0-9a-f]{6}","n":[0-9]+,"req":"GET /[ab] body=0"\}\\n){2}$'
	if ! [[ $a =~ $re && $b =~ $re ]]; then
		fail "$name" "unexpected shape:" "$a" "$b"; return
	fi
	pass "$name"
}

# --- smtpish: speaks first, forbids pipelining, crashes on a cut line -------
t_resp_smtp() {
	local name="smtpish: greeting first, one reply per command"
	start_resp smtpish --fixed
	respc 'w:220 ready\r\n' 's:HELO client\r\n' 'w:250 smtpish\r\n' \
		's:MAIL FROM:<a@b.example>\r\n' 'w:250 sender ok\r\n' 's:QUIT\r\n' 'e'
	expect_got "$name" '220 ready\r\n250 smtpish\r\n250 sender ok\r\n221 bye\r\n' ||
		{ stop_server; return; }
	pass "$name"

	name="smtpish: a cut inside a line, waiting for each reply, is fine when fixed"
	respc 'w:220 ready\r\n' 's:HELO client\r\n' 'w:250 smtpish\r\n' \
		's:MAIL FROM:' 'r:2' 's:<a@b.example>\r\n' 'w:250 sender ok\r\n'
	stop_server
	expect_got "$name" '220 ready\r\n250 smtpish\r\n250 sender ok\r\n' || return
	pass "$name"

	name="smtpish: input before the greeting gets 554 and a close"
	start_resp smtpish --greet-ms=60000
	respc 's:HELO client\r\n' 'e'
	stop_server
	expect_got "$name" '554 5.5.1 input before greeting\r\n' || return
	expect_log "$name" '^554 early$' || return
	pass "$name"

	name="smtpish: input before the previous reply gets 554 and a close"
	start_resp smtpish --reply-ms=60000 --greet-ms=0
	respc 'w:220 ready\r\n' 's:HELO client\r\n' 'r:1' 's:NOOP\r\n' 'e'
	stop_server
	expect_got "$name" '220 ready\r\n554 5.5.1 input before reply\r\n' || return
	pass "$name"

	name="smtpish: two lines in one read (pipelining) get 554 and a close"
	start_resp smtpish
	respc 'w:220 ready\r\n' 's:HELO client\r\nNOOP\r\n' 'e'
	expect_got "$name" '220 ready\r\n554 5.5.1 pipelining\r\n' || { stop_server; return; }
	pass "$name"

	name="smtpish: the whole session blob, one line per turn, is clean"
	respc 'w:220 ready\r\n' 's:HELO client\r\n' 'w:250 smtpish\r\n' \
		's:MAIL FROM:<a@b.example>\r\n' 'w:250 sender ok\r\n' \
		's:RCPT TO:<c@d.example>\r\n' 'w:250 recipient ok\r\n' 's:QUIT\r\n' 'e'
	expect_got "$name" '220 ready\r\n250 smtpish\r\n250 sender ok\r\n250 recipient ok\r\n221 bye\r\n' ||
		{ stop_server; return; }
	pass "$name"

	name="smtpish: a read ending right after 'MAIL FROM:' aborts the server"
	respc 'w:220 ready\r\n' 's:HELO client\r\n' 'w:250 smtpish\r\n' 's:MAIL FROM:' 'e'
	wait "$SERVER_PID" 2>/dev/null
	local st=$?
	SERVER_PID=
	[ "$RC" = 0 ] || { fail "$name" "client: '$GOT' (status $RC)"; return; }
	if [ "$st" != 134 ]; then fail "$name" "server exit status $st, wanted 134 (SIGABRT)"; return; fi
	expect_log "$name" '^crash$' || return
	pass "$name"
}

register t_resp_kv t_resp_counter t_resp_http t_resp_stamps t_resp_smtp

# --- the cuts reach the planted bugs; without comparison, nothing shows ----
t_resp_reach() {
	local name="with --check=none the cuts reach the kv and HTTP bugs unseen; without turns the speak-first server rejects every connection"
	start_resp kvserver
	sf --blob-dir=tests/corpus-kv --host=127.0.0.1 --port="$PORT" --seed=11 \
		--rounds=100 --num-conns=10 --close-chance=0 --check=none
	stop_server
	expect_rc "$name" 0 || return
	expect_log "$name" '^cut key ' || return
	start_resp httpka
	sf --blob-dir=tests/corpus-http-ka --host=127.0.0.1 --port="$PORT" --seed=11 \
		--rounds=100 --num-conns=10 --close-chance=0 --split=delimiter --check=none
	stop_server
	expect_rc "$name" 0 || return
	expect_log "$name" '^dropped content-length$' || return
	start_resp smtpish
	sf --blob-dir=tests/corpus-smtpish --host=127.0.0.1 --port="$PORT" --seed=11 \
		--rounds=20 --num-conns=10 --close-chance=0 --check=none
	stop_server
	expect_rc "$name" 0 || return
	expect_log "$name" '^554 early$' || return
	if grep -q '^crash$' "$TMP/server.log"; then
		fail "$name" "the speak-first server crashed without turns"; return
	fi
	pass "$name"
}

register t_resp_reach

# --- answers compared: the planted wrong answers are found at defaults -----
# resp_mismatch NAME SERVER CORPUS: a run at default options finds a
# mismatch with a record that replays (exit 1) against the buggy server and
# not (exit 0) against the fixed one.
resp_mismatch() {
	local name=$1 server=$2 corpus=$3
	start_resp "$server"
	sf_resp "$corpus" --rounds=2000
	stop_server
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: mismatch blob=' || return
	expect_err "$name" '^  answer (at|past) byte [0-9]+' || return
	one_record mismatch || { fail "$name" "no mismatch record" "$(ls "$TMP/f")"; return; }
	# It stopped the run: one finding, counted once.
	[ "$(summary_field mismatch)" = 1 ] ||
		{ fail "$name" "summary counts mismatch=$(summary_field mismatch), wanted 1"; return; }
	local k
	for k in check.expected check.got check.difference check.again; do
		[ -n "$(resp_json "$REC" $k)" ] ||
			{ fail "$name" "record lacks $k"; return; }
	done
	replay_rc "$name" "$server"
	[ "$RC" = 1 ] || { fail "$name" "replay against the buggy server: $RC" "$(tail -n 5 "$TMP/replay")"; return; }
	grep -q '^Result: reproduced (mismatch' "$TMP/replay" ||
		{ fail "$name" "replay: $(tail -n 3 "$TMP/replay")"; return; }
	replay_rc "$name" "$server" --fixed
	[ "$RC" = 0 ] || { fail "$name" "replay against the fixed server: $RC" "$(tail -n 5 "$TMP/replay")"; return; }
	pass "$name"
}

t_resp_kv_mismatch() {
	resp_mismatch "kvserver: a cut SET key is a mismatch at default options; its record replays" \
		kvserver tests/corpus-kv
}

t_resp_http_mismatch() {
	resp_mismatch "httpka: the dropped Content-Length is a mismatch at default options; its record replays" \
		httpka tests/corpus-http-ka
}

# resp_quiet NAME SERVER-ARGS CORPUS [sf args...]: three runs with three
# seeds are clean, with answers compared and no mismatch.
resp_quiet() {
	local name=$1 sargs=$2 corpus=$3 seed; shift 3
	for seed in 1 2 3; do
		# shellcheck disable=SC2086
		start_resp $sargs
		sf_resp "$corpus" --seed=$seed --rounds=300 "$@"
		stop_server
		if [ "$RC" != 0 ] && one_record mismatch; then
			fail "$name (seed $seed)" "a mismatch: $(resp_json "$REC" check.difference)" \
				"again: $(resp_json "$REC" check.again)" \
				"expected: $(resp_json "$REC" check.expected)" \
				"got: $(resp_json "$REC" check.got)"
			return
		fi
		expect_rc "$name (seed $seed)" 0 || return
		[ "$(summary_field mismatch)" = 0 ] || { fail "$name" "mismatches"; return; }
		[ "$(summary_field compared)" -gt 0 ] ||
			{ fail "$name" "nothing compared" "$(grep -E '^note|compared' "$TMP/err")"; return; }
	done
	pass "$name"
}

t_resp_controls() {
	resp_quiet "controls: httpka --stamps (dates, ids, times, lengths) stays quiet" \
		"httpka --fixed --stamps" tests/corpus-http-ka
	resp_quiet "controls: a counter every connection increments stays quiet" \
		"kvserver" tests/corpus-counter
	resp_quiet "controls: kvserver --fixed stays quiet" \
		"kvserver --fixed" tests/corpus-kv
	resp_quiet "controls: httpka --fixed stays quiet" \
		"httpka --fixed" tests/corpus-http-ka
}

# --- servers that speak first; turns ---------------------------------------
t_resp_smtp_turns() {
	local name="smtpish --fixed with --turns: the greeting is awaited, each line its reply; clean"
	local seed
	for seed in 1 2 3; do
		start_resp smtpish --fixed
		sf_resp tests/corpus-smtpish --seed=$seed --rounds=50 '--turns=\r\n'
		stop_server
		expect_rc "$name" 0 || return
		expect_err "$name" 'the server speaks first' || return
		[ "$(summary_field mismatch)" = 0 ] || { fail "$name" "mismatches"; return; }
		if grep -q '554' "$TMP/server.log"; then
			fail "$name" "the server answered 554" "$(grep 554 "$TMP/server.log" | head -3)"; return
		fi
		grep -qE 'commands [1-9][0-9]* rejected 0$' "$TMP/server.log" ||
			{ fail "$name" "no commands parsed: $(tail -n 1 "$TMP/server.log")"; return; }
	done
	pass "$name"

	name="smtpish with --turns, supervised: the cut-line crash is a target-exit whose record replays"
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	rm -rf "$TMP/f"
	(ulimit -c 0; timeout -k 5 60 "$SF" --blob-dir=tests/corpus-smtpish --host=127.0.0.1 \
		--port="$port" --findings-dir="$TMP/f" '--turns=\r\n' --stats-interval=10s \
		-- "$BUILD/servers/smtpish" --port="$port" --max-seconds=60 2>"$TMP/err" >"$TMP/out")
	RC=$?
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: target-exit .*SIGABRT' || return
	one_record target-exit || { fail "$name" "no target-exit record"; return; }
	grep -q '"turn_ends":\[' "$REC" || { fail "$name" "the record lacks turn_ends"; return; }
	grep -q '"greet_us":' "$REC" || { fail "$name" "the record lacks greet_us"; return; }
	replay_rc "$name" smtpish
	[ "$RC" = 1 ] || { fail "$name" "replay: $RC" "$(tail -n 5 "$TMP/replay")"; return; }
	pass "$name"
}

# --- the project's other servers stay clean with comparison on -------------
t_resp_others_clean() {
	local name="testserver (record, slow) and exampled: no mismatch with answers compared"
	local mode
	for mode in record slow; do
		start_server "$mode"
		sf --blob-dir=corpus-samples/http --host=127.0.0.1 --port="$PORT" --rounds=20 \
			--stats-interval=10s
		stop_server
		expect_rc "$name ($mode)" 0 || return
		[ "$(summary_field mismatch)" = 0 ] || { fail "$name" "$mode: mismatches"; return; }
	done
	rm -f "$TMP/port"
	"$BUILD/examples/exampled" --port-file="$TMP/port" >/dev/null 2>&1 &
	SERVER_PID=$!
	await_file "$TMP/port"
	PORT=$(cat "$TMP/port")
	sf --blob-dir=corpus-samples/http --host=127.0.0.1 --port="$PORT" --rounds=20 \
		--stats-interval=10s
	stop_server
	expect_rc "$name (exampled)" 0 || return
	[ "$(summary_field mismatch)" = 0 ] || { fail "$name" "exampled: mismatches"; return; }
	pass "$name"
}

# --- the reference refresh: its period, off, bad values --------------------
t_resp_refresh() {
	local name="--reference-refresh: whole sends again at the period given; none with 0 or the default (60s) in a short run"
	local period arg n v
	for period in 1ms 0 default; do
		arg=--reference-refresh=$period
		[ "$period" = default ] && arg=--stop-on=none
		start_resp kvserver --fixed
		sf_resp tests/corpus-kv --duration=1s --stop-on=none "$arg"
		stop_server
		expect_rc "$name ($period)" 0 || return
		n=$(summary_field refreshes)
		[ "$(summary_field compared)" -gt 0 ] ||
			{ fail "$name" "$period: nothing compared"; return; }
		if [ "$period" = 1ms ]; then
			[ "${n:-0}" -gt 0 ] || { fail "$name" "1ms: refreshes=$n"; return; }
		else
			[ "$n" = 0 ] || { fail "$name" "$period: refreshes=$n, wanted 0"; return; }
		fi
	done
	for v in abc 2d 1.5s -1s; do
		sf --blob-dir=tests/corpus-kv --port=9 "--reference-refresh=$v"
		expect_rc "$name ($v)" 2 || return
		expect_err "$name ($v)" "^stutterfuzz: --reference-refresh: " || return
		[ "$(wc -l <"$TMP/err")" = 1 ] ||
			{ fail "$name" "$v: more than one line" "$(cat "$TMP/err")"; return; }
	done
	pass "$name"
}

register t_resp_kv_mismatch t_resp_http_mismatch t_resp_controls \
	t_resp_smtp_turns t_resp_others_clean t_resp_refresh

# --- lenserver: a length-prefixed binary protocol; --turns=len:0:2 ---------
t_resp_len() {
	local name="lenserver: each frame is echoed with its type's high bit set"
	start_resp lenserver
	respc 's:\x00\x06\x01hello' 'w:\x00\x06\x81hello' 's:\x00\x01\x02' 'w:\x00\x01\x82'
	expect_got "$name" '\x00\x06\x81hello\x00\x01\x82' || { stop_server; return; }
	pass "$name"

	name="lenserver: a read ending inside the length header misparses the length: an empty-frame error"
	respc 's:\x00' 'r:1' 's:\x06\x01hello' 'e'
	expect_got "$name" '\x00\x0c\xffempty frame' || { stop_server; return; }
	expect_log "$name" '^misparsed length$' || { stop_server; return; }
	pass "$name"

	name="lenserver: two frames in one read (pipelining) get an error and a close"
	respc 's:\x00\x06\x01hello\x00\x01\x02' 'e'
	stop_server
	expect_got "$name" '\x00\x0b\xffpipelining' || return
	expect_log "$name" '^pipelining$' || return
	pass "$name"

	name="lenserver: a frame before the previous reply gets an error and a close"
	start_resp lenserver --fixed --reply-ms=60000
	respc 's:\x00\x06\x01hello' 'r:1' 's:\x00\x01\x02' 'e'
	stop_server
	expect_got "$name" '\x00\x0b\xffpipelining' || return
	pass "$name"

	name="lenserver --fixed: a header split by a read is read whole"
	start_resp lenserver --fixed
	respc 's:\x00' 'r:1' 's:\x06\x01hel' 'r:2' 's:lo' 'w:\x00\x06\x81hello'
	stop_server
	expect_got "$name" '\x00\x06\x81hello' || return
	if grep -q '^misparsed' "$TMP/server.log"; then
		fail "$name" "the fixed server misparsed a length"; return
	fi
	pass "$name"
}

t_resp_len_mismatch() {
	local name="lenserver with --turns=len:0:2: the misparsed length is a mismatch at default options; its record keeps the rule and replays"
	start_resp lenserver
	sf_resp tests/corpus-len --rounds=2000 --turns=len:0:2
	stop_server
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: mismatch blob=' || return
	# A misread length of high byte 0 gives "empty frame"; of another
	# (frame-256: 0x01) the rest arrives as a second frame, "pipelining".
	expect_err "$name" 'got ".*(empty frame|pipelining)' || return
	one_record mismatch || { fail "$name" "no mismatch record" "$(ls "$TMP/f")"; return; }
	local k
	for k in check.turns options.turns; do
		[ "$(resp_json "$REC" $k)" = len:0:2 ] ||
			{ fail "$name" "$k is '$(resp_json "$REC" $k)'"; return; }
	done
	grep -q '"turn_ends":\[' "$REC" || { fail "$name" "the record lacks turn_ends"; return; }
	replay_rc "$name" lenserver
	[ "$RC" = 1 ] || { fail "$name" "replay against the buggy server: $RC" "$(tail -n 5 "$TMP/replay")"; return; }
	grep -q '^Result: reproduced (mismatch' "$TMP/replay" ||
		{ fail "$name" "replay: $(tail -n 3 "$TMP/replay")"; return; }
	replay_rc "$name" lenserver --fixed
	[ "$RC" = 0 ] || { fail "$name" "replay against the fixed server: $RC" "$(tail -n 5 "$TMP/replay")"; return; }
	grep -q 'pipelining' "$TMP/server.log" &&
		{ fail "$name" "the replay pipelined: $(grep -c pipelining "$TMP/server.log")"; return; }
	pass "$name"

	# A record whose rule is malformed or not a rule is corrupt: exit 2,
	# one line naming the field.
	name="a record with a malformed or unknown turn rule is corrupt: exit 2 naming the field"
	local edit want good=$REC
	for edit in "d['check']['turns'] = 'len:0:3'|'check.turns' is not a turn rule: width '3' is not 1, 2, 4 or 8" \
		"d['options']['turns'] = 'len:x:2'|'options.turns' is not a turn rule: offset 'x' is not a number" \
		"d['check']['turns'] = {'rule': 'crc'}|'check.turns' is not a turn rule \(a string or null\)" \
		"d['options']['turns'] = 5|'options.turns' is not a turn rule \(a string or null\)" \
		"d['check']['turns'] = 'bad\\\\q'|'check.turns' is not a turn rule: bad escape"; do
		want=${edit#*|}
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(d))' "$good" "$TMP/bad-turns.json" "${edit%%|*}"
		sf replay "$TMP/bad-turns.json" --host=127.0.0.1 --port=1
		expect_rc "$name (${edit%%|*})" 2 || return
		[ "$(wc -l <"$TMP/err")" = 1 ] || { fail "$name" "not one line:" "$(cat "$TMP/err")"; return; }
		expect_err "$name" "^stutterfuzz: .*bad-turns\.json: corrupt record: $want" || return
	done
	pass "$name"
}

t_resp_len_clean() {
	local name="lenserver --fixed with --turns=len:0:2: clean at three seeds, no pipelining"
	local seed
	for seed in 1 2 3; do
		start_resp lenserver --fixed
		sf_resp tests/corpus-len --seed=$seed --rounds=300 --turns=len:0:2
		stop_server
		expect_rc "$name (seed $seed)" 0 || return
		[ "$(summary_field mismatch)" = 0 ] || { fail "$name" "mismatches"; return; }
		[ "$(summary_field compared)" -gt 0 ] || { fail "$name" "nothing compared"; return; }
		if grep -q 'pipelining' "$TMP/server.log"; then
			fail "$name (seed $seed)" "the server saw pipelining" \
				"$(grep -c pipelining "$TMP/server.log") times"; return
		fi
		grep -qE 'frames [1-9][0-9]* rejected 0$' "$TMP/server.log" ||
			{ fail "$name" "no frames answered: $(tail -n 1 "$TMP/server.log")"; return; }
	done
	pass "$name"

	name="lenserver --fixed without --turns: the multi-frame blobs are rejected as pipelining"
	start_resp lenserver --fixed
	sf_resp tests/corpus-len --seed=1 --rounds=50 --close-chance=0
	stop_server
	expect_rc "$name" 0 || return
	expect_log "$name" '^pipelining$' || return
	pass "$name"
}

t_resp_len_bad_turns() {
	local name="bad --turns length rules: exit 2, one line naming --turns and the reason"
	local arg want
	for arg in "len:0:3|width '3' is not 1, 2, 4 or 8" \
		"len:x:2|offset 'x' is not a number from 0 to 65535" \
		"len:70000:2|offset '70000' is not a number from 0 to 65535" \
		"len:0:2:+99999999999|adjustment '\+99999999999' is not \+N or -N" \
		"len:0:2:be:le|byte order given twice" \
		"len:0:2:big|'big' is not be, le, all or an adjustment" \
		"len:0|a length rule is len:OFFSET:WIDTH" \
		"len:|offset '' is not a number"; do
		want=${arg#*|}
		sf --blob-dir=tests/corpus-len --host=127.0.0.1 --port=1 "--turns=${arg%%|*}"
		expect_rc "$name (${arg%%|*})" 2 || return
		[ "$(wc -l <"$TMP/err")" = 1 ] || { fail "$name" "not one line:" "$(cat "$TMP/err")"; return; }
		case $(cat "$TMP/err") in
		"stutterfuzz: --turns '${arg%%|*}': "*) ;;
		*) fail "$name" "does not name --turns '${arg%%|*}':" "$(cat "$TMP/err")"; return ;;
		esac
		expect_err "$name" "': $want" || return
	done
	pass "$name"

	# The delimiter "len:" never occurs: each blob is one message, and the
	# multi-frame blobs are pipelined as without --turns.
	name="a delimiter that starts with len: is written with an escape"
	start_resp lenserver --fixed
	sf_resp tests/corpus-len --seed=1 --rounds=20 --close-chance=0 '--turns=\x6cen:'
	stop_server
	expect_rc "$name" 0 || return
	expect_log "$name" '^pipelining$' || return
	pass "$name"
}

register t_resp_len t_resp_len_mismatch t_resp_len_clean t_resp_len_bad_turns
