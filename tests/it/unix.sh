# Integration tests of Unix-domain stream socket targets (--unix=PATH):
# read pacing by SIOCOUTQ, findings, records and replay, supervision, bad
# input, a full backlog, and a real server's socket (memcached) when one
# is installed. Sourced by tests/integration.sh.

USOCK=$TMP/u.sock
UCORPUS=$TMP/ucorpus
mkdir -p "$UCORPUS"
printf 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$UCORPUS/get"
printf '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n' >"$UCORPUS/set"
head -c 3000 /dev/urandom >"$UCORPUS/random"
USPLIT=$TMP/usplit
mkdir -p "$USPLIT"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$USPLIT/crash"
printf 'PING\r\n' >"$USPLIT/ping"

# --- every fragment read on its own -------------------------------------------
t_unix_record() {
	local name="unix: the recording server reads every fragment on its own"
	start_unix_server "$USOCK" record
	sf --blob-dir="$UCORPUS" --unix="$USOCK" --seed=7 --rounds=100 --check=none \
		--num-conns=20 --close-chance=0 --summary="$TMP/usum.json" -q
	stop_server
	expect_rc "$name" 0 || return
	expect_err "$name" "^Target unix:$USOCK \(Unix socket\)" || return
	expect_err "$name" "^note: fast open and source-address spreading .* do not apply" || return
	expect_err "$name" "^Pacing: read \(SIOCOUTQ confirms" || return
	local frags pace fid reads conns bad=0 want b data
	frags=$(json_get "$TMP/usum.json" totals.fragments)
	pace=$(json_get "$TMP/usum.json" pace)
	fid=$(json_get "$TMP/usum.json" totals.fidelity)
	reads=$(sed -n 's/^total conns [0-9]* reads \([0-9]*\) .*/\1/p' "$TMP/server.log")
	# The check that the server is up before the run is one connection
	# without a byte: not counted.
	conns=$(grep -c '^conn [0-9]* bytes [1-9]' "$TMP/server.log")
	want=" "
	for b in get set random; do want="$want$(hex "$UCORPUS/$b") "; done
	while read -r _ _ _ _ _ _ _ _ _ data; do
		case "$want" in *" $data "*) ;; *) bad=$((bad + 1)) ;; esac
	done < <(grep '^conn [0-9]* bytes [1-9]' "$TMP/server.log")
	if [ "$pace" != read ] || [ "$conns" -ne 300 ] || [ "$bad" -ne 0 ]; then
		fail "$name" "pace=$pace, $conns connections (wanted 300), $bad with bytes that are no blob"
		return
	fi
	# Every fragment read on its own but for a rare race the kernel leaves
	# open (a recv() that drains one fragment can take the next if it
	# arrives within that same call); the exact figure is make bench's.
	if [ -z "$frags" ] || [ -z "$reads" ] || [ "$frags" -le 300 ] ||
		[ "$reads" -gt "$frags" ] || [ $((reads * 100)) -lt $((frags * 99)) ]; then
		fail "$name" "fragments sent $frags, server reads $reads (wanted at least 99% read apart, more than one a blob)"
		return
	fi
	[ "$fid" = 1.0 ] || { fail "$name" "fidelity $fid"; return; }
	if [ "$(json_get "$TMP/usum.json" target)" != "unix:$USOCK" ] ||
		[ "$(json_get "$TMP/usum.json" target_kind)" != unix ]; then
		fail "$name" "summary target: $(json_get "$TMP/usum.json" target) kind $(json_get "$TMP/usum.json" target_kind)"
		return
	fi
	pass "$name ($frags fragments, $reads reads, fidelity $fid)"
}

# --- ack and cycle pacing keep boundaries too: SIOCOUTQ is 0 once read ---------
t_unix_ack() {
	local name="unix: ack pacing reads every fragment on its own as well"
	start_unix_server "$USOCK" record
	sf --blob-dir="$UCORPUS" --unix="$USOCK" --seed=8 --rounds=20 --check=none \
		--num-conns=10 --close-chance=0 --pace=ack --gap-us=0 \
		--summary="$TMP/usum.json" -q
	stop_server
	expect_rc "$name" 0 || return
	local frags reads
	frags=$(json_get "$TMP/usum.json" totals.fragments)
	reads=$(sed -n 's/^total conns [0-9]* reads \([0-9]*\) .*/\1/p' "$TMP/server.log")
	if [ -z "$frags" ] || [ "$frags" != "$reads" ]; then
		fail "$name" "fragments sent $frags, server reads $reads"
		return
	fi
	pass "$name ($frags fragments, $reads reads)"
}

# --- a crash found under supervision, replayed over the socket -----------------
t_unix_crash_replay() {
	local name="unix: a crash on a split token, found under supervision"
	local fd=$TMP/ufind rec
	rm -rf "$fd" "$USOCK"
	sf --blob-dir="$USPLIT" --unix="$USOCK" --seed=1 --findings-dir="$fd" -q \
		-- "$SERVER" --mode=crash-split --token=CRASH --unix="$USOCK" --max-seconds=60
	expect_rc "$name" 1 || return
	expect_err "$name" "^Target ready at unix:$USOCK \(pid [0-9]+" || return
	expect_err "$name" "^finding: target-exit seed=1 at=[0-9.]+s: exited with status 42" || return
	unix_exit_record "$name" "$fd" "$USOCK" || return
	rec=$REC
	pass "$name"

	name="unix: the record replays over the socket it names; exit 1"
	start_unix_server "$USOCK" crash-split --token=CRASH
	sf replay "$rec" --settle=100ms
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 || return
	expect_err "$name" "^Target unix:$USOCK \(Unix socket\)" || return
	expect_err "$name" "^Result: reproduced \(target-exit\) by connection [0-9]+ \(blob crash\); exit 1" || return
	pass "$name"

	name="unix: replay against a fixed server: not reproduced, exit 0"
	start_unix_server "$USOCK" crash-split --token=CRASH --fixed
	sf replay "$rec" --unix="$USOCK" --settle=50ms
	stop_server
	expect_rc "$name" 0 && expect_err "$name" "^Result: not reproduced; exit 0" || return
	grep -Eq ' split [1-9][0-9]*$' "$TMP/server.log" ||
		{ fail "$name" "the fixed server never saw the token split"; return; }
	pass "$name"

	name="unix: replay with --unix at a directory: one line, exit 2"
	sf replay "$rec" --unix="$TMP"
	expect_rc "$name" 2 && expect_err "$name" "a directory, not a socket" && pass "$name"
}

# --- minimize: attempts against fresh servers on the record's socket -----------
t_unix_minimize() {
	local name="unix: minimize shrinks a supervised crash over the record's socket"
	local fd=$TMP/umin rec
	rm -rf "$fd" "$USOCK"
	sf --blob-dir="$USPLIT" --unix="$USOCK" --seed=1 --num-conns=4 --findings-dir="$fd" -q \
		-- "$SERVER" --mode=crash-split --token=CRASH --unix="$USOCK" --max-seconds=60
	expect_rc "$name" 1 || return
	rec=$(ls "$fd"/target-exit-*.json 2>/dev/null | head -1)
	[ -n "$rec" ] || { fail "$name" "no target-exit record in $fd"; return; }
	sf minimize "$rec" --output="$TMP/umin.json" --reproducer="$TMP/urepro.py" --tries=1 -q
	expect_rc "$name" 1 || return
	expect_err "$name" "-> 1 connection, 5 bytes, 1 cut" || return
	if [ "$(json_get "$TMP/umin.json" target_kind)" != unix ] ||
		[ "$(json_get "$TMP/umin.json" target)" != "$USOCK" ]; then
		fail "$name" "minimal record's target: $(json_get "$TMP/umin.json" target_kind) $(json_get "$TMP/umin.json" target)"
		return
	fi
	sf minimize "$rec" --unix="$USOCK" --port=1
	expect_rc "$name" 2 && expect_err "$name" "--unix and --port exclude each other" ||
		return
	pass "$name"

	name="unix: the python3 reproducer takes a socket path: 1 crashed, 0 fixed"
	local rc1 rc0
	start_unix_server "$USOCK" crash-split --token=CRASH
	timeout 60 python3 "$TMP/urepro.py" "$USOCK" >"$TMP/out" 2>&1; rc1=$?
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	start_unix_server "$USOCK" crash-split --token=CRASH --fixed
	timeout 60 python3 "$TMP/urepro.py" "$USOCK" >>"$TMP/out" 2>&1; rc0=$?
	stop_server
	if [ "$rc1" != 1 ] || [ "$rc0" != 0 ]; then
		fail "$name" "exit $rc1 against the crashing server, $rc0 against the fixed one" "$(cat "$TMP/out")"
		return
	fi
	grep -Eq ' split [1-9][0-9]*$' "$TMP/server.log" ||
		{ fail "$name" "the fixed server never saw the token split"; return; }
	pass "$name"
}

# --- findings: a server that goes away, a socket that was never there ---------
t_unix_refused() {
	local name="unix: a server that exits: refused finding, exit 1"
	start_unix_server "$USOCK" exit-after --count=100
	sf --blob-dir="$UCORPUS" --unix="$USOCK" --seed=99 --num-conns=20
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 1 || return
	# Refused, or reset while queued in the backlog of the socket it closed.
	expect_err "$name" '^finding: refused blob=(get|set|random) conn=[0-9]+ seed=99 .*error=Connection (refused|reset by peer)' || return
	expect_err "$name" "reproduce: stutterfuzz --blob-dir=.* --unix=$USOCK --seed=99 --only=[0-9]+" || return
	pass "$name"

	name="unix: no socket at the path at the start: not up, no finding, exit 3"
	rm -f "$USOCK"
	sf --blob-dir="$UCORPUS" --unix="$USOCK" --seed=5 --num-conns=2
	expect_rc "$name" 3 &&
		expect_err "$name" "^stutterfuzz: nothing accepts connections at unix:$USOCK \(No such file or directory\)" &&
		pass "$name"
}

# --- a server that stops reading: the stall check sees it through SIOCOUTQ ----
t_unix_stall() {
	local name="unix: a server spinning on a split token: a stall finding (hang), exit 1"
	start_unix_server "$USOCK" spin-split --token=CRASH
	sf --blob-dir="$USPLIT" --unix="$USOCK" --seed=2 --num-conns=5 --stall-timeout=1s -q
	stop_server
	expect_rc "$name" 1 &&
		expect_err "$name" '^finding: hang blob=crash conn=[0-9]+ seed=2 at=[0-9.]+s phase=stall ' &&
		pass "$name"
}

# --- bad input: one line, exit 2 ----------------------------------------------
t_unix_bad_input() {
	local name="unix: bad paths and combinations: one line, exit 2"
	local long=$TMP/ case args
	while [ ${#long} -le 120 ]; do long="${long}x"; done
	mkdir -p "$TMP/udir"; : >"$TMP/ufile"
	for case in \
		"$TMP/udir|a directory, not a socket" \
		"$TMP/ufile|exists but is not a socket" \
		"$long|longer than the 107 a socket address holds" \
		"|--unix: empty path"; do
		args=${case%%|*}
		sf --blob-dir="$UCORPUS" --unix="$args"
		expect_rc "$name ($args)" 2 || return
		expect_err "$name" "^stutterfuzz: .*${case#*|}" || return
		[ "$(wc -l <"$TMP/err")" -eq 1 ] || { fail "$name" "more than one line:" "$(cat "$TMP/err")"; return; }
	done
	sf --blob-dir="$UCORPUS" --unix="$USOCK" --port=1
	expect_rc "$name" 2 && expect_err "$name" "--unix and --port exclude each other" || return
	sf --blob-dir="$UCORPUS" --unix="$USOCK" --host=localhost
	expect_rc "$name" 2 && expect_err "$name" "--unix and --host exclude each other" || return
	pass "$name"
}

# --- a full backlog is backed off, never a finding ----------------------------
t_unix_backlog() {
	local name="unix: a full listen backlog (EAGAIN) is backed off, not a finding"
	# Accepts one connection, then never again; its backlog holds one more.
	start_unix_server "$USOCK" no-accept --count=1
	sf --blob-dir="$UCORPUS" --unix="$USOCK" --seed=3 --num-conns=20 \
		--duration=1s --hang-timeout=0 --stall-timeout=0
	stop_server
	expect_rc "$name" 0 || return
	expect_err "$name" "^local error \(not a finding\): room in the server's listen backlog: Resource temporarily unavailable, [0-9]+ times?; the server's listen backlog is full" || return
	expect_err "$name" "findings: refused=0 connect-timeout=0 reset=0 hang=0" || return
	pass "$name"
}

# --- a real server's Unix socket ----------------------------------------------
t_unix_memcached() {
	local name="unix: memcached -s, supervised: clean run, every boundary kept"
	if ! command -v memcached >/dev/null 2>&1; then
		echo "SKIP: $name (memcached is not installed; scripts/install-deps.sh check installs it)"
		return
	fi
	local mc=$TMP/mccorpus sock=$TMP/mc.sock user=()
	mkdir -p "$mc"
	printf 'set key1 0 0 5\r\nhello\r\nget key1\r\n' >"$mc/set"
	printf 'get key1 key2\r\ndelete key1\r\n' >"$mc/get"
	printf 'incr n 1\r\nversion\r\nstats\r\n' >"$mc/misc"
	[ "$(id -u)" -eq 0 ] && user=(-u root)
	sf --blob-dir="$mc" --unix="$sock" --seed=4 --rounds=100 --num-conns=10 --check=none \
		--summary="$TMP/mcsum.json" -q -- memcached -s "$sock" "${user[@]}" -U 0 -t 1
	expect_rc "$name" 0 || return
	expect_err "$name" "^Target ready at unix:$sock" || return
	local fid frags
	fid=$(json_get "$TMP/mcsum.json" totals.fidelity)
	frags=$(json_get "$TMP/mcsum.json" totals.fragments)
	[ "$fid" = 1.0 ] || { fail "$name" "fidelity $fid"; return; }
	pass "$name ($frags fragments, fidelity $fid)"
}

register t_unix_record t_unix_ack t_unix_crash_replay t_unix_minimize t_unix_refused t_unix_stall t_unix_bad_input \
	t_unix_backlog t_unix_memcached
