# Integration tests of the core: corpus, cutting, findings, records and
# replay, supervision, pacing. Sourced by tests/integration.sh.

# --- a well-behaved server: blobs arrive whole and cut -----------------------
t_record() {
	local name="record: blobs arrive whole, byte for byte, in several reads"
	start_server record
	# --check=none: no whole sends for references, so the server sees
	# exactly the run's connections (and the check that it is up).
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=7 \
		--rounds=200 --close-chance=0 --num-conns=20 --check=none
	stop_server
	expect_rc "$name" 0 || return
	expect_err "$name" "Loaded 4 blobs\. Bytes: 0 min, [0-9]+ mean, 2000 max" || return
	expect_err "$name" "stopped: all connections done" || return
	local want=() b
	for b in get set random zero; do want+=("$(hex "$CORPUS/$b")"); done
	want[3]=-
	local total=0 bad=0 reads=0 data
	while read -r _ _ _ _ _ r _ _ _ data; do
		total=$((total + 1)); reads=$((reads + r))
		case " ${want[*]} " in *" $data "*) ;; *) bad=$((bad + 1)) ;; esac
	done < <(run_conns "$TMP/server.log")
	local zero_conns
	zero_conns=$(run_conns "$TMP/server.log" | grep -c '^conn [0-9]* bytes 0 ')
	if [ "$total" -ne 800 ] || [ "$bad" -ne 0 ]; then
		fail "$name" "server saw $total connections (wanted 800), $bad with bytes that are no blob"
		return
	fi
	# 600 non-empty connections; uniform cuts average about 2.5 reads each.
	if [ $((reads * 100 / 600)) -lt 150 ]; then
		fail "$name" "only $reads reads for 600 non-empty blobs: not cut"
		return
	fi
	if [ "$zero_conns" -ne 200 ]; then
		fail "$name" "0-byte blob: $zero_conns empty connections, wanted 200"
		return
	fi
	pass "$name ($reads reads for 600 blobs)"
}

# --- the same seed and index cut the same way ---------------------------------
t_only_repeats() {
	local name="--seed and --only replay the same cuts"
	local sizes=()
	for i in 1 2; do
		start_server record
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=12345 \
			--only=2 --fastopen-chance=0
		stop_server
		expect_rc "$name" 0 || return
		sizes[i]=$(run_conns "$TMP/server.log" | awk '{print $4, $8}')
	done
	if [ -z "${sizes[1]}" ] || [ "${sizes[1]}" != "${sizes[2]}" ]; then
		fail "$name" "run 1: ${sizes[1]}" "run 2: ${sizes[2]}"
		return
	fi
	# Index 2 of the sorted corpus (get, random, set, zero) is "set": 33 bytes.
	case "${sizes[1]}" in
	"33 "*) pass "$name (bytes and read sizes: ${sizes[1]})" ;;
	*) fail "$name" "wanted blob 'set' (33 bytes), got ${sizes[1]}" ;;
	esac
}

# --- a server that dies: failed connect is a finding, exit 1 ------------------
t_server_exits() {
	local name="server exits: refused finding names blob, conn and seed; exit 1"
	start_server exit-after --count=300
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=99 --num-conns=20
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: refused blob=(get|set|random|zero) conn=[0-9]+ seed=99 ' || return
	expect_err "$name" 'reproduce: stutterfuzz .*--seed=99 --only=[0-9]+' || return
	expect_err "$name" 'stopped: stop-on finding' || return
	expect_err "$name" 'Result: [0-9]+ findings? of a --fail-on kind; exit 1' || return
	pass "$name"
}

# --- a server that dies on the first whole send (the reference phase) ----------
t_whole_send_dies() {
	local name="server dies on a reference send: conn=whole, a reproduce command that sends blobs whole, no local error"
	# The check that it is up is its first connection, the first reference
	# send its second: it exits there, with the other sends queued.
	start_server exit-after --count=2
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=4 --summary="$TMP/whole.json"
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 || return
	# The whole sends queued behind it are reset or refused (which comes
	# first varies); a refusal ends the run.
	expect_err "$name" '^finding: (reset|refused) blob=(get|set|random|zero) conn=whole seed=4 ' || return
	expect_err "$name" '^finding: refused blob=(get|set|random|zero) conn=(whole|[0-9]{1,6}) ' || return
	if grep -q '^finding: refused .*conn=whole' "$TMP/err"; then
		expect_err "$name" "reproduce: stutterfuzz --blob-dir=.* --port=$PORT --rounds=1 --max-fragments=1 --fastopen-chance=0 --close-chance=0 --check=none\$" || return
	fi
	if grep -q '^local error' "$TMP/err"; then fail "$name" "$(grep '^local error' "$TMP/err")"; return; fi
	if grep -q -- '--only=4611686018427387904' "$TMP/err" "$TMP/whole.json"; then
		fail "$name" "an internal index in a reproduce command"; return
	fi
	pass "$name"
}

# --- the reproduce command carries the turns and the answer checks ----------
t_reproduce_args() {
	local name="reproduce commands carry --turns, its timeouts, --check and --mask"
	start_server exit-after --count=30
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=6 --check=1/4 \
		--mask='[0-9]+' --turns='\r\n' --turn-timeout=20ms --turn-quiet=5ms --num-conns=5
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 || return
	expect_err "$name" "reproduce: stutterfuzz .*--only=[0-9]+ .*--turns='?\\\\r\\\\n'? --turn-timeout=20ms --turn-quiet=5ms --check=1/4 '?--mask=\[0-9\]\+'?" || return
	pass "$name"
}

# --- nothing listens ----------------------------------------------------------
t_wrong_port() {
	local name="nothing listens at the start (a wrong port): not up, no finding, exit 3"
	start_server record
	local p=$PORT
	stop_server
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" --seed=1 --summary="$TMP/wp.json" \
		--findings-dir="$TMP/wp-findings"
	expect_rc "$name" 3 || return
	expect_err "$name" "^stutterfuzz: nothing accepts connections at 127.0.0.1:$p \(Connection refused\): start the server first" || return
	if grep -q '^finding:' "$TMP/err"; then fail "$name" "a finding was reported"; return; fi
	if ls "$TMP/wp-findings"/*.json >/dev/null 2>&1; then fail "$name" "a record was written"; return; fi
	pass "$name"
}

# --- resets are counted, not fatal by default ---------------------------------
t_reset() {
	local name="resets are counted; exit 0 by default"
	start_server reset
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=3 --duration=2s \
		--num-conns=10
	expect_rc "$name" 0 || { stop_server; return; }
	local resets
	resets=$(summary_field reset)
	if [ -z "$resets" ] || [ "$resets" -lt 10 ]; then
		stop_server; fail "$name" "summary reset=$resets"; return
	fi
	expect_err "$name" '^finding: reset blob=' || { stop_server; return; }
	pass "$name (reset=$resets)"

	name="--fail-on=reset --stop-on=reset: first reset stops the run, exit 1"
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=3 --duration=20s \
		--num-conns=10 --fail-on=reset --stop-on=reset
	stop_server
	expect_rc "$name" 1 || return
	expect_err "$name" 'stopped: stop-on finding' || return
	pass "$name"
}

# --- a server that stops accepting: connect timeout ---------------------------
t_no_accept() {
	local name="server stops accepting: connect-timeout finding, exit 1"
	start_server no-accept --count=3
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=5 \
		--num-conns=20 --connect-timeout=1s --drain-timeout=100ms
	stop_server
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: connect-timeout blob=.* phase=connect' || return
	pass "$name"
}

# --- a server that stops reading: hang ----------------------------------------
t_no_read() {
	local name="server stops reading: hang finding within --hang-timeout, exit 1"
	local big=$TMP/big
	mkdir -p "$big"
	head -c 4000000 /dev/zero >"$big/large"
	start_server no-read
	local t0=$SECONDS
	sf --blob-dir="$big" --host=127.0.0.1 --port="$PORT" --seed=5 --num-conns=2 \
		--hang-timeout=2s --max-fragments=4
	local took=$((SECONDS - t0))
	stop_server
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: hang blob=large .*phase=send' || return
	if [ "$took" -gt 20 ]; then fail "$name" "took ${took}s"; return; fi
	pass "$name (${took}s)"
}

# --- bad input: one line, exit 2 ----------------------------------------------
t_bad_input() {
	local empty=$TMP/empty subdirs=$TMP/subdirs
	mkdir -p "$empty" "$subdirs/a" "$subdirs/b"
	local cases=(
		"missing blob dir|--blob-dir=$TMP/nope --port=1|blob dir .*/nope: No such file or directory"
		"empty blob dir|--blob-dir=$empty --port=1|blob dir .*: empty"
		"only subdirectories|--blob-dir=$subdirs --port=1|blob dir .*: no files, only 2 subdirectories"
		"port 0|--blob-dir=$CORPUS --port=0|--port: 0 is out of range"
		"port 65536|--blob-dir=$CORPUS --port=65536|--port: 65536 is out of range"
		"unknown service|--blob-dir=$CORPUS --port=no-such-service-x|--port no-such-service-x: unknown service"
		"unresolvable host|--blob-dir=$CORPUS --port=1 --host=no-such-host.invalid|--host no-such-host.invalid: "
		"bad number|--blob-dir=$CORPUS --port=1 --num-conns=ten|--num-conns: 'ten' is not a number"
		"out of range|--blob-dir=$CORPUS --port=1 --close-chance=99999999999|--close-chance: .* out of range"
		"bad duration|--blob-dir=$CORPUS --port=1 --duration=5y|--duration: '5y' has an unknown unit"
		"unknown option|--blob-dir=$CORPUS --port=1 --frobnicate|unknown option '--frobnicate'"
		"stray argument|--blob-dir=$CORPUS --port=1 extra|unexpected argument 'extra'"
		"missing port|--blob-dir=$CORPUS|--port is required"
	)
	local c name args want lines
	for c in "${cases[@]}"; do
		IFS='|' read -r name args want <<<"$c"
		# shellcheck disable=SC2086
		sf $args
		expect_rc "bad input: $name" 2 || continue
		expect_err "bad input: $name" "^stutterfuzz: $want" || continue
		lines=$(wc -l <"$TMP/err")
		if [ "$lines" -ne 1 ]; then
			fail "bad input: $name" "$lines lines of error, wanted 1"
			continue
		fi
		pass "bad input: $name"
	done

	name="bad input: --num-conns above the fd limit"
	(ulimit -n 64; ulimit -Hn 64; sf --blob-dir="$CORPUS" --port=1 --num-conns=100; echo "$RC" >"$TMP/rc")
	RC=$(cat "$TMP/rc")
	expect_rc "$name" 2 && expect_err "$name" "--num-conns 100 needs 132 file descriptors, but the limit is 64" &&
		pass "$name"
}

# --- stopping: --duration and SIGINT give exit 0 and a summary ----------------
t_stopping() {
	local name="--duration stops with exit 0 and a summary" secs
	start_server record --no-data
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=2s --summary="$TMP/stop.json"
	secs=$(json_get "$TMP/stop.json" totals.seconds)
	if expect_rc "$name" 0 && expect_err "$name" "^Summary: ran [0-9.]+s, stopped: duration reached; seed=[0-9]+" &&
		expect_err "$name" "^Result: clean; exit 0"; then
		# It ran at least its duration (no upper bound: the machine may be busy).
		if [ "$(json_get "$TMP/stop.json" stopped)" = "duration reached" ] &&
			python3 -c "import sys; sys.exit(not float('$secs') >= 2.0)" 2>/dev/null; then
			pass "$name (${secs}s)"
		else
			fail "$name" "summary: $(cat "$TMP/stop.json")"
		fi
	fi

	local sig pid
	for sig in INT TERM; do
		name="SIG$sig stops with exit 0 and a summary"
		: >"$TMP/err"
		timeout -k 5 30 "$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" 2>"$TMP/err" &
		pid=$!
		wait_for "$TMP/err" "^Pacing: " || { fail "$name" "never started"; kill "$pid"; wait "$pid"; continue; }
		kill -"$sig" "$pid"
		wait "$pid"
		RC=$?
		expect_rc "$name" 0 && expect_err "$name" "stopped: signal" && expect_err "$name" "^Summary" && pass "$name"
	done

	name="stats on a non-terminal: one plain line per interval"
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=2s --stats-interval=500ms
	local n
	n=$(grep -c '^Stats: rounds=[0-9]*, mean_cycles_to_connect=[0-9.]*, ready_to_send=[0-9.]*, .*frags/s=' "$TMP/err")
	# At most one line per 500 ms of a 2 s run; at least one.
	if grep -q $'\r' "$TMP/err"; then
		fail "$name" "carriage return in non-terminal output"
	elif [ "$n" -lt 1 ] || [ "$n" -gt 5 ] || [ "$n" -ne "$(grep -c '^Stats:' "$TMP/err")" ]; then
		fail "$name" "$n stats lines in 2s at 500ms"
	else
		pass "$name ($n lines)"
	fi

	name="--quiet: no live stats, still a summary"
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=1s -q
	if expect_rc "$name" 0 && expect_err "$name" "^Summary"; then
		if grep -q '^Stats:' "$TMP/err"; then fail "$name" "stats printed"; else pass "$name"; fi
	fi
	stop_server
}

# --- addresses: IPv6, and a name whose first address has no listener -----------
t_addresses() {
	local name="IPv6 loopback target"
	start_server record --bind=::1 --no-data
	sf --blob-dir="$CORPUS" --host=::1 --port="$PORT" --rounds=5
	stop_server
	expect_rc "$name" 0 && expect_err "$name" "Target \[::1\]:$PORT \(loopback\)" && pass "$name"

	# localhost is ::1 then 127.0.0.1 whatever /etc/hosts says (names.sh).
	name="a host name whose other address answers (localhost, server on 127.0.0.1)"
	start_server record --bind=127.0.0.1 --no-data
	sf --blob-dir="$CORPUS" --host=localhost --port="$PORT" --rounds=5
	stop_server
	expect_rc "$name" 0 && expect_err "$name" "Target 127\.0\.0\.1:$PORT" && pass "$name"
}

# --- cycle pacing: the original model still works ------------------------------
t_cycle() {
	local name="--pace=cycle sends one fragment per connection per cycle"
	start_server record --no-data
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --pace=cycle --cycle-ms=10 \
		--num-conns=10 --duration=2s --close-chance=0 --summary="$TMP/cycle.json"
	stop_server
	expect_rc "$name" 0 || return
	local frags secs most
	frags=$(json_get "$TMP/cycle.json" totals.fragments)
	secs=$(json_get "$TMP/cycle.json" totals.seconds)
	# 10 connections, one fragment each per 10 ms cycle of the time it ran
	# (fast open adds one per connection): an upper bound, whatever the load.
	most=$(python3 -c "print(int(10 * (float('$secs') * 100 + 1) * 1.3))" 2>/dev/null)
	if [ -z "$frags" ] || [ -z "$most" ] || [ "$frags" -lt 1 ] || [ "$frags" -gt "$most" ]; then
		fail "$name" "fragments=$frags in ${secs}s (at most $most)"
		return
	fi
	expect_err "$name" "mean_cycles_to_connect=1\.00" && pass "$name (fragments=$frags)"
}

# --- stutterfuzz itself under valgrind (or ASan/UBSan) -------------------------
t_memcheck() {
	local name="stutterfuzz under valgrind: no errors, no leaks"
	if [ "${SANITIZE:-}" = 1 ]; then
		name="stutterfuzz under ASan/UBSan: no reports"
		start_server record --no-data
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=3s --num-conns=50
		stop_server
		expect_rc "$name" 0 && ! grep -q 'Sanitizer\|runtime error' "$TMP/err" && pass "$name"
		return
	fi
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "SKIP: $name (valgrind not installed)"
		return
	fi
	start_server reset
	timeout -k 5 90 valgrind -q --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
		"$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=3s \
		--num-conns=50 2>"$TMP/err"
	RC=$?
	stop_server
	expect_rc "$name" 0 || return
	start_server exit-after --count=100
	timeout -k 5 90 valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect,possible \
		"$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --num-conns=50 2>"$TMP/err"
	RC=$?
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name (finding path)" 1 || return
	pass "$name"
}

# --- records: find a crash, replay it, name the culprit ------------------------
SPLIT=$TMP/split
mkdir -p "$SPLIT"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$SPLIT/crash"
printf 'PING\r\n' >"$SPLIT/ping"
printf 'GET / HTTP/1.1\r\n\r\n' >"$SPLIT/get"

t_record_replay() {
	local name="a crash on a split token: a record with suspects, written at once"
	local fd=$TMP/findings rec
	rm -rf "$fd"
	start_server crash-split --token=CRASH
	local t0=$SECONDS
	sf --blob-dir="$SPLIT" --host=127.0.0.1 --port="$PORT" --seed=1 --findings-dir="$fd" -q
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 || return
	rec=$(ls "$fd"/refused-*.json 2>/dev/null | head -1)
	if [ -z "$rec" ]; then fail "$name" "no refused record in $fd: $(ls "$fd")"; return; fi
	expect_err "$name" "record: .*/refused-.*\.json \(with [0-9]+ suspect connections" || return
	expect_err "$name" "reproduce: stutterfuzz replay .*refused-" || return
	if ls -a "$fd" | grep -q '^\.tmp-'; then fail "$name" "temporary files left"; return; fi
	grep -q '"suspects":\[' "$rec" && grep -q '"blob_base64":"R0VUIC9DUkFTSCBIVFRQLzEuMQ0KSG9zdDogeA0KDQo="' "$rec" ||
		{ fail "$name" "record lacks the crashing blob among its suspects"; return; }
	ls "$fd"/run-*.json >/dev/null 2>&1 || { fail "$name" "no run index"; return; }
	pass "$name ($((SECONDS - t0))s)"

	name="replay against the same server: reproduced, culprit named, exit 1"
	start_server crash-split --token=CRASH
	sf replay "$rec" --host=127.0.0.1 --port="$PORT" --settle=100ms
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 || return
	expect_err "$name" "^Result: reproduced \(refused\) by connection [0-9]+ \(blob crash\); exit 1" || return
	pass "$name"

	name="replay against a fixed build: not reproduced, exit 0"
	start_server crash-split --token=CRASH --fixed
	sf replay "$rec" --host=127.0.0.1 --port="$PORT" --settle=50ms
	stop_server
	expect_rc "$name" 0 || return
	expect_err "$name" "^Result: not reproduced; exit 0" || return
	local splits
	splits=$(sed -n 's/.* split \([0-9]*\)$/\1/p' "$TMP/server.log")
	if [ -z "$splits" ] || [ "$splits" -lt 1 ]; then
		fail "$name" "the fixed server never saw the token split (split=$splits)"
		return
	fi
	pass "$name (the fixed server saw the token split $splits times)"

	name="replay --all: every suspect together reproduces"
	start_server crash-split --token=CRASH
	sf replay "$rec" --all --host=127.0.0.1 --port="$PORT" --settle=100ms
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 && expect_err "$name" "reproduced \(refused\) with all connections together" &&
		pass "$name"

	name="replay of a corrupt or truncated record: one line, exit 2"
	head -c 500 "$rec" >"$TMP/truncated.json"
	sf replay "$TMP/truncated.json" --port=1
	expect_rc "$name" 2 && expect_err "$name" "^stutterfuzz: .*truncated.json: not a complete JSON record" || return
	sed 's/"blob_sha256":"[0-9a-f]/"blob_sha256":"x/' "$rec" >"$TMP/corrupt.json"
	sf replay "$TMP/corrupt.json" --port=1
	expect_rc "$name" 2 && expect_err "$name" "do not match their SHA-256" || return
	sf replay "$TMP/nope.json" --port=1
	expect_rc "$name" 2 && expect_err "$name" "nope.json: No such file" && pass "$name"
}

# --- replay keeps the recorded boundaries -------------------------------------
t_replay_fidelity() {
	local name="replay delivers the recorded fragments as separate reads"
	local fd=$TMP/findings-fid big=$TMP/fid-corpus rec frags sizes
	rm -rf "$fd"; mkdir -p "$big"
	head -c 3000 /dev/urandom >"$big/blob"
	# Every connection is reset after its first read: records of many cuts.
	start_server reset
	sf --blob-dir="$big" --host=127.0.0.1 --port="$PORT" --seed=11 --findings-dir="$fd" \
		--rounds=60 --num-conns=4 --close-chance=0 --fastopen-chance=0 -q
	stop_server
	local tried=0 ok=0
	for rec in "$fd"/reset-*.json; do
		frags=$(grep -o '"connection":{[^}]*' "$rec" | grep -o '"fragments":\[[0-9,]*\]' | tr -dc '0-9,')
		case "$frags" in *,*,*) ;; *) continue ;; esac
		tried=$((tried + 1))
		start_server record --no-data
		sf replay "$rec" --host=127.0.0.1 --port="$PORT" --settle=0ms
		stop_server
		sizes=$(awk '/^conn / && $4 > 0 {print $8; exit}' "$TMP/server.log")
		if [ "$RC" = 0 ] && [ "$sizes" = "$frags" ]; then ok=$((ok + 1)); else
			fail "$name" "record $rec: fragments $frags, server read $sizes (exit $RC)"; return
		fi
		[ "$tried" -ge 5 ] && break
	done
	if [ "$tried" -lt 3 ]; then fail "$name" "only $tried records with 3+ fragments"; return; fi
	pass "$name ($ok of $tried replays read exactly as recorded)"
}

# --- deduplication and the cap ------------------------------------------------
t_dedup_cap() {
	local name="a resetting server: one record per distinct cut; repeats counted"
	local fd=$TMP/findings-dedup tiny=$TMP/tiny
	rm -rf "$fd"; mkdir -p "$tiny"
	printf 'abc' >"$tiny/abc"
	start_server reset
	sf --blob-dir="$tiny" --host=127.0.0.1 --port="$PORT" --seed=2 --findings-dir="$fd" \
		--duration=2s --num-conns=10 --max-records=0 -q
	local files resets counted
	files=$(ls "$fd"/reset-*.json 2>/dev/null | wc -l)
	resets=$(summary_field reset)
	counted=$(grep -o '"count":[0-9]*' "$fd"/run-*.json | cut -d: -f2 | awk '{ n += $1 } END { print n }')
	if [ "$files" -lt 1 ] || [ "$files" -gt 16 ] || [ "$resets" -lt 100 ] || [ "$counted" != "$resets" ]; then
		stop_server
		fail "$name" "$files records for $resets resets (run index counts $counted)"
		return
	fi
	pass "$name ($files records, counts add up to $resets resets)"

	name="--max-records caps the records; findings past it are still counted"
	rm -rf "$fd"
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=2 --findings-dir="$fd" \
		--duration=2s --num-conns=10 --max-records=3 -q
	stop_server
	files=$(ls "$fd"/reset-*.json 2>/dev/null | wc -l)
	resets=$(summary_field reset)
	if [ "$files" -ne 3 ]; then fail "$name" "$files records with --max-records=3"; return; fi
	expect_err "$name" "records: 3 written to .*, [0-9]+ repeats counted, [1-9][0-9]* over --max-records" &&
		pass "$name ($resets resets, 3 records)"
}

# --- the trace: one JSON line per finished connection --------------------------
t_trace() {
	local name="--trace writes one JSON line per finished connection"
	start_server record --no-data
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=4 --rounds=25 \
		--trace="$TMP/trace.jsonl" -q
	stop_server
	expect_rc "$name" 0 || return
	local lines good
	lines=$(wc -l <"$TMP/trace.jsonl")
	good=$(grep -c '^{"index":[0-9]*,"blob":"[a-z]*","blob_size":[0-9]*,"split":"[a-z]*",.*"fragments":\[[0-9,]*\],"sent_fragments":[0-9]*,.*"gaps_us":\[[0-9,]*\],"local_port":[1-9][0-9]*,.*"outcome":"[a-z-]*"' "$TMP/trace.jsonl")
	if [ "$lines" -ne 100 ] || [ "$good" -ne 100 ]; then
		fail "$name" "$lines lines, $good well-formed, wanted 100" "$(head -2 "$TMP/trace.jsonl")"
		return
	fi
	pass "$name ($lines lines)"
}

# --- the loop never spins: refusals and local faults still let timers run -------
t_no_spin() {
	local name="refused connects with --stop-on=none: --duration still stops the run"
	start_server exit-after --count=5
	local p=$PORT
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" --duration=2s --stop-on=none \
		--fail-on=none --num-conns=50 -q
	# sf's own timeout (60 s) fails a loop that spins past --duration.
	if expect_rc "$name" 0 && expect_err "$name" "stopped: duration reached"; then
		local refused
		refused=$(summary_field refused)
		if [ "${refused:-0}" -lt 50 ]; then
			fail "$name" "refused=$refused (50 connections, each refused)"
		else
			pass "$name (refused=$refused)"
		fi
	fi

	name="out of file descriptors: a local error, never a finding"
	start_server record --no-data
	(
		ulimit -n 80
		for fd in $(seq 10 45); do eval "exec $fd>/dev/null"; done
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=2s --num-conns=48 -q
		echo "$RC" >"$TMP/rc"
	)
	stop_server
	RC=$(cat "$TMP/rc")
	expect_rc "$name" 0 || return
	expect_err "$name" "^local error \(not a finding\): file descriptors: Too many open files" || return
	if grep -q '^finding:' "$TMP/err"; then fail "$name" "reported as a finding"; return; fi
	pass "$name"
}

# --- cut strategies: bugs that need tiny pieces ---------------------------------
# Connections a run needs to crash a server (its log counts them), or all it
# started in $2 if it never did.
conns_to_crash() {
	local mode=$1 split=$2 seed=$3 n
	start_server "$mode" --no-data
	sf --blob-dir="$HDR" --host=127.0.0.1 --port="$PORT" --seed="$seed" --split="$split" \
		--num-conns=10 --duration=15s -q
	kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	n=$(sed -n 's/^crash after \([0-9]*\) connections$/\1/p' "$TMP/server.log")
	[ -n "$n" ] || n=$(summary_field conns)
	echo "${n:-0}"
}

HDR=$TMP/hdr
mkdir -p "$HDR"
{ printf '\x00\xc8\x01\x02\x03'; head -c 195 /dev/zero | tr '\0' 'p'; } >"$HDR/frame"

t_split_strategies() {
	local mode label mix uni s m u found
	for mode in crash-header crash-first1; do
		case $mode in
		crash-header) label="two cuts inside a 5-byte header" ;;
		*) label="a first read of exactly 1 byte" ;;
		esac
		mix=0 uni=0 found=0
		for s in 1 2 3; do
			m=$(conns_to_crash "$mode" mix "$s")
			grep -q '^crash after ' "$TMP/server.log" && found=$((found + 1))
			u=$(conns_to_crash "$mode" uniform "$s")
			mix=$((mix + m)) uni=$((uni + u))
		done
		# How many fewer connections mix needs is a measurement: make bench
		# (bench/split.sh). Here: mix finds the bug with every seed.
		local name="--split=mix finds $label (3 seeds)"
		if [ "$found" -ne 3 ]; then
			fail "$name" "crashed the server with $found of 3 seeds: mix $mix, uniform $uni connections"
			continue
		fi
		pass "$name (mix $mix, uniform $uni connections)"
	done
}

# --- a supervised target: stutterfuzz starts the server after -- ---------------
# free_port: a port nothing listens on now.
free_port() {
	start_server record --no-data
	local p=$PORT
	stop_server
	echo "$p"
}

# sf_target NAME ARGS... -- CMD...: runs stutterfuzz in the background, waits.
t_supervise() {
	local name p rec
	name="supervised target killed by a signal: target-exit finding with suspects, exit 1"
	p=$(free_port)
	rm -rf "$TMP/sup"
	sf --blob-dir="$SPLIT" --host=127.0.0.1 --port="$p" --seed=1 --findings-dir="$TMP/sup" -q \
		-- "$SERVER" --mode=crash-split --token=CRASH --abort --port="$p" --max-seconds=60
	if expect_rc "$name" 1 && expect_err "$name" "^Target ready at 127\.0\.0\.1:$p \(pid [0-9]+" &&
		expect_err "$name" "^finding: target-exit seed=1 at=[0-9.]+s: killed by SIGABRT" &&
		expect_err "$name" "record: .*/target-exit-.*\(with [0-9]+ suspect connections"; then
		rec=$(ls "$TMP"/sup/target-exit-*.json | head -1)
		if grep -q '"detail":"killed by SIGABRT' "$rec" && grep -q '"output_tail":' "$rec" &&
			grep -q 'R0VUIC9DUkFTSCBIVFRQLzEuMQ0KSG9zdDogeA0KDQo=' "$rec"; then
			pass "$name"
		else
			fail "$name" "record lacks status, output tail or the culprit blob"
		fi
	fi

	name="a memory error only valgrind sees: target-report finding, exit 1"
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "SKIP: $name (valgrind not installed)"
	else
		p=$(free_port)
		sf --blob-dir="$SPLIT" --host=127.0.0.1 --port="$p" --seed=1 -q --startup-timeout=20s \
			-- valgrind -q --error-exitcode=99 "$SERVER" --mode=overread --token=CRASH \
			--port="$p" --max-seconds=60
		expect_rc "$name" 1 && expect_err "$name" "^finding: target-report .*: Invalid read of size 1" &&
			pass "$name"
	fi

	name="a target that stops reading: hang finding, exit 1"
	p=$(free_port)
	local big=$TMP/big2
	mkdir -p "$big"; head -c 4000000 /dev/zero >"$big/large"
	sf --blob-dir="$big" --host=127.0.0.1 --port="$p" --num-conns=2 --hang-timeout=2s \
		--max-fragments=4 -q -- "$SERVER" --mode=no-read --port="$p" --max-seconds=60
	expect_rc "$name" 1 && expect_err "$name" "^finding: hang blob=large" && pass "$name"

	name="a target that never listens: start-up error, exit 3"
	p=$(free_port)
	local t0=$SECONDS
	sf --blob-dir="$CORPUS" --port="$p" --startup-timeout=1s -- sleep 30
	expect_rc "$name" 3 && expect_err "$name" "did not accept connections within 1\.0s" &&
		pass "$name ($((SECONDS - t0))s)"

	name="a target that exits during start-up: exit 3 with its last output"
	sf --blob-dir="$CORPUS" --port="$p" -- sh -c 'echo "cannot bind: boom" >&2; exit 3'
	expect_rc "$name" 3 && expect_err "$name" "target exited with status 3 during start-up" &&
		expect_err "$name" "\| cannot bind: boom" && pass "$name"

	name="a target command that does not exist: exit 3"
	sf --blob-dir="$CORPUS" --port="$p" -- /nonexistent/server
	expect_rc "$name" 3 && expect_err "$name" "cannot run /nonexistent/server: No such file" &&
		pass "$name"

	name="--restart: the target is restarted and fuzzed again; findings add up"
	p=$(free_port)
	sf --blob-dir="$SPLIT" --host=127.0.0.1 --port="$p" --seed=1 -q --restart --duration=4s \
		-- "$SERVER" --mode=crash-split --token=CRASH --port="$p" --max-seconds=60
	local exits
	exits=$(summary_field target-exit)
	if expect_rc "$name" 1 && expect_err "$name" "^Target restarted \(pid [0-9]+\), fuzzing again" &&
		[ "${exits:-0}" -ge 2 ]; then
		pass "$name (target-exit=$exits)"
	elif [ "$RC" = 1 ]; then
		fail "$name" "target-exit=$exits"
	fi

	local sig
	for sig in INT TERM; do
		name="SIG$sig: the target's process group is gone afterwards"
		p=$(free_port)
		timeout -k 5 60 "$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" \
			-- "$SERVER" --mode=record --no-data --port="$p" --max-seconds=60 2>"$TMP/err" &
		local pid=$! pg=""
		for _ in $(seq 100); do
			pg=$(sed -n 's/^Target ready .*process group \([0-9]*\)).*/\1/p' "$TMP/err")
			[ -n "$pg" ] && break
			sleep 0.05
		done
		sleep 0.5
		kill -"$sig" "$pid"
		wait "$pid"
		RC=$?
		if [ -z "$pg" ]; then fail "$name" "target never ready"; continue; fi
		if kill -0 -- "-$pg" 2>/dev/null; then
			fail "$name" "process group $pg still has processes"
			kill -KILL -- "-$pg" 2>/dev/null
			continue
		fi
		expect_rc "$name" 0 && expect_err "$name" "stopped: signal" && pass "$name"
	done
}

# --- read pacing keeps boundaries where a short fixed cycle loses them ---------
# fidelity_of ARGS...: server reads / fragments sent, in percent, against a
# server sleeping 1 ms before every read.
fidelity_of() {
	local frags reads
	start_server slow --delay-us=1000 --no-data
	sf --blob-dir="$FID" --host=127.0.0.1 --port="$PORT" --seed=5 --num-conns=20 \
		--duration=3s --stop-on=none --fail-on=none -q --summary="$TMP/sum.json" "$@"
	stop_server
	frags=$(grep -o '"fragments":[0-9]*' "$TMP/sum.json" | head -1 | cut -d: -f2)
	reads=$(sed -n 's/^total conns [0-9]* reads \([0-9]*\).*/\1/p' "$TMP/server.log")
	echo $(( ${reads:-0} * 100 / (${frags:-0} + (${frags:-0} == 0)) )) "${frags:-0}"
}

FID=$TMP/fid
mkdir -p "$FID"
for i in 1 2 3 4 5 6; do head -c $((i * 90)) /dev/zero | tr '\0' "$i" >"$FID/b$i"; done

t_read_pacing() {
	# Read pacing sends a fragment only once the server read the last, so
	# each arrives alone, however slow the server or busy the machine. How
	# much a fixed cycle loses instead is a measurement: make bench.
	local name="read pacing: a slow server reads every fragment alone"
	local rd rf
	read -r rd rf < <(fidelity_of --pace=read)
	if [ "$rf" -lt 1 ]; then
		fail "$name" "no fragments sent"
	elif [ "$rd" -lt 95 ]; then
		fail "$name" "server reads / fragments: ${rd}% of $rf"
	else
		pass "$name (server reads / fragments: ${rd}% of $rf)"
	fi
	name="the pacing in effect is stated at start"
	start_server record --no-data
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=1s -q
	stop_server
	expect_err "$name" "^Pacing: read \(sock_diag confirms" && expect_err "$name" "fidelity=[0-9.]+" &&
		pass "$name"
	name="--stats-format=json and --summary write JSON"
	start_server record --no-data
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=2s --stats-format=json \
		--stats-file="$TMP/stats.jsonl" --stats-interval=500ms --summary="$TMP/summary.json"
	stop_server
	local lines
	lines=$(grep -c '^{"seconds":[0-9.]*,"rounds":[0-9]*,.*"fidelity":[0-9.]*,.*}$' "$TMP/stats.jsonl")
	if expect_rc "$name" 0 && [ "$lines" -ge 1 ] && [ "$lines" -eq "$(wc -l <"$TMP/stats.jsonl")" ] &&
		grep -q '"format":"stutterfuzz-summary".*"pace":"read","stopped":"duration reached","exit_code":0' "$TMP/summary.json" &&
		[ "$(json_get "$TMP/summary.json" target)" = "127.0.0.1:$PORT" ] &&
		[ "$(json_get "$TMP/summary.json" target_kind)" = tcp ]; then
		pass "$name ($lines stats lines)"
	else
		fail "$name" "$lines stats lines" "$(cat "$TMP/summary.json")"
	fi
}

t_help() {
	local name="--help and --version exit 0; help documents exit codes"
	"$SF" --help >"$TMP/out" 2>&1 || { fail "$name" "--help failed"; return; }
	grep -q "Exit status: 0 ran clean" "$TMP/out" || { fail "$name" "no exit codes in --help"; return; }
	"$SF" --version | grep -Eq '^stutterfuzz [0-9]+\.[0-9]+\.[0-9]+$' || { fail "$name" "--version"; return; }
	pass "$name"
}

register t_help t_record t_only_repeats t_server_exits t_whole_send_dies t_reproduce_args t_wrong_port t_reset t_no_accept \
	t_no_read t_bad_input t_stopping t_addresses t_cycle t_record_replay t_replay_fidelity \
	t_dedup_cap t_trace t_no_spin t_split_strategies t_supervise t_read_pacing t_memcheck
