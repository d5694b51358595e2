# Integration tests of records and replay: records written by earlier
# versions, hostile records. Sourced by tests/integration.sh.

# --- records of format version 1 still load and replay ------------------------
t_records_v1() {
	local name f want
	for f in refused:crash-split target-exit:crash-split reset:reset; do
		name="a format 1 record (${f%%:*}) loads and replays: reproduced, exit 1"
		want=${f%%:*}
		if [ "${f#*:}" = crash-split ]; then
			start_server crash-split --token=CRASH
		else
			start_server reset
		fi
		sf replay "tests/records/v1-$want.json" --host=127.0.0.1 --port="$PORT" --settle=100ms
		stop_server
		expect_rc "$name" 1 || continue
		expect_err "$name" "^Record: $want in [a-z-]+, seed=[0-9]+, recorded against 127\.0\.0\.1:[0-9]+ by stutterfuzz 0\.1\.0" || continue
		expect_err "$name" "^Result: reproduced \($want\)" && pass "$name"
	done
}

# edit_record IN OUT PYTHON: OUT is IN's JSON with PYTHON applied to d.
edit_record() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(d))' "$1" "$2" "$3"
}

# --- record text reaches the terminal escaped ---------------------------------
t_records_escape() {
	local name="terminal escapes in a record's names are printed escaped"
	edit_record tests/records/v1-reset.json "$TMP/esc.json" '
d["connection"]["blob"] = "\x1b]0;owned\x07\x1b[2J\nResult: not reproduced; exit 0"
d["phase"] = "send\x1b[31m"'
	start_server reset
	sf replay "$TMP/esc.json" --host=127.0.0.1 --port="$PORT" --settle=0ms
	stop_server
	expect_rc "$name" 1 || return
	if LC_ALL=C grep -q $'\x1b' "$TMP/err"; then
		fail "$name" "an escape byte reached stderr"; return
	fi
	if grep -q '^Result: not reproduced' "$TMP/err"; then
		fail "$name" "a record faked a Result line"; return
	fi
	expect_err "$name" 'blob \\x1b\]0;owned\\x07\\x1b\[2J\\x0aResult' &&
		expect_err "$name" 'in send\\x1b\[31m' && pass "$name"
}

# --- the record's target: a port in range, loopback unless --host -------------
t_records_target() {
	local name t
	for t in 127.0.0.1:99999 127.0.0.1:0 127.0.0.1: 127.0.0.1 '[::1]:65536'; do
		name="a record whose target is $t: corrupt, one line, exit 2"
		edit_record tests/records/v1-reset.json "$TMP/port.json" "d['target'] = '$t'"
		sf replay "$TMP/port.json"
		expect_rc "$name" 2 || continue
		expect_err "$name" "^stutterfuzz: .*port.json: corrupt record: target '.*' is not host:port with a port from 1 to 65535" || continue
		[ "$(wc -l <"$TMP/err")" = 1 ] || { fail "$name" "more than one line"; continue; }
		pass "$name"
	done
	name="a record aimed at another machine is refused without --host, exit 2"
	edit_record tests/records/v1-reset.json "$TMP/remote.json" "d['target'] = '192.0.2.7:80'"
	sf replay "$TMP/remote.json"
	expect_rc "$name" 2 && expect_err "$name" "the record's target 192\.0\.2\.7:80 is not a loopback address; give --host" &&
		pass "$name"
	name="with --host naming it, the record's target host is the user's"
	start_server reset
	edit_record tests/records/v1-reset.json "$TMP/remote.json" "d['target'] = '192.0.2.7:$PORT'"
	sf replay "$TMP/remote.json" --host=127.0.0.1 --settle=0ms
	stop_server
	expect_rc "$name" 1 && expect_err "$name" "^Target 127\.0\.0\.1:$PORT \(loopback\)" && pass "$name"
}

# --- bounds: gaps, sizes, suspects, numbers; a FIFO ----------------------------
t_records_bounds() {
	local name
	name="a recorded gap of 4294967295 us: corrupt record, exit 2 at once"
	edit_record tests/records/v1-reset.json "$TMP/gap.json" 'd["connection"]["gaps_us"] = [4294967295]'
	sf replay "$TMP/gap.json"
	expect_rc "$name" 2 && expect_err "$name" "'gaps_us' holds a value that is not an integer from 0 to 600000000" &&
		pass "$name"

	name="100,000 suspects: corrupt record, refused before it is parsed, exit 2"
	edit_record tests/records/v1-reset.json "$TMP/sus.json" 'd["suspects"] = [d["connection"]] * 100000'
	sf replay "$TMP/sus.json"
	expect_rc "$name" 2 && expect_err "$name" "corrupt record: [0-9]+ JSON objects, more than the 532 a record of 128 suspects holds" &&
		pass "$name"

	name="a 21 MB record of fragment sizes: refused before it is parsed, exit 2"
	edit_record tests/records/v1-reset.json "$TMP/frags.json" 'd["connection"]["fragments"] = [1] * 10000000'
	sf replay "$TMP/frags.json"
	expect_rc "$name" 2 && expect_err "$name" "corrupt record: [0-9]+ JSON values, more than its [0-9]+ bytes of text can account for" &&
		pass "$name"

	name="numbers read strictly: seed "5abc", errno 1e30: corrupt, exit 2"
	edit_record tests/records/v1-reset.json "$TMP/seed.json" 'd["seed"] = "5abc"'
	sf replay "$TMP/seed.json"
	expect_rc "$name" 2 && expect_err "$name" "corrupt record: seed '5abc' is not a decimal number" || return
	edit_record tests/records/v1-reset.json "$TMP/errno.json" 'd["errno"] = 1e30'
	sf replay "$TMP/errno.json"
	expect_rc "$name" 2 && expect_err "$name" "corrupt record: 'errno' is not an integer from 0 to 2147483647" || return
	edit_record tests/records/v1-reset.json "$TMP/errno.json" 'd["errno"] = 2**31'
	sf replay "$TMP/errno.json"
	expect_rc "$name" 2 && expect_err "$name" "'errno' is not an integer" && pass "$name"

	name="a FIFO given as the record: one line, exit 2, never blocks"
	rm -f "$TMP/fifo.json"
	mkfifo "$TMP/fifo.json"
	sf replay "$TMP/fifo.json"
	expect_rc "$name" 2 && expect_err "$name" "^stutterfuzz: .*fifo.json: not a regular file" && pass "$name"
}

# --- names that are not ASCII survive a record -------------------------------
t_records_names() {
	local name="a blob name with an emoji or a byte that is not UTF-8 survives record and replay"
	local dir=$TMP/names fd=$TMP/findings-names rec n
	rm -rf "$dir" "$fd"; mkdir -p "$dir"
	printf 'abc' >"$dir/$(printf 'smile-\xf0\x9f\x98\x80')"
	printf 'abd' >"$dir/$(printf 'raw-\xff')"
	start_server reset
	sf --blob-dir="$dir" --host=127.0.0.1 --port="$PORT" --seed=4 --findings-dir="$fd" \
		--rounds=2 --num-conns=1 -q
	expect_rc "$name" 0 || { stop_server; return; }
	n=0
	for rec in "$fd"/reset-*.json; do
		[ -e "$rec" ] || continue
		sf replay "$rec" --settle=0ms
		if grep -q 'smile-' "$rec"; then
			grep -q "\"blob\":\"smile-$(printf '\xf0\x9f\x98\x80')\"" "$rec" &&
				expect_err "$name" "blob smile-$(printf '\xf0\x9f\x98\x80')" || { stop_server; return; }
		else
			grep -q '"blob_name_base64":"cmF3Lf8="' "$rec" &&
				expect_err "$name" 'blob raw-\\xff' || { stop_server; fail "$name" "raw name not kept"; return; }
		fi
		n=$((n + 1))
	done
	stop_server
	[ "$n" -ge 2 ] || { fail "$name" "$n records"; return; }
	pass "$name ($n records)"
}

# --- a signal during --settle stops the replay at once ------------------------
t_records_signal() {
	local name sig want pid i
	for sig in TERM INT; do
		[ "$sig" = TERM ] && want=143 || want=130
		name="SIG$sig during --settle: interrupted at once, exit $want"
		start_server record --no-data
		rm -f "$TMP/err"
		"$SF" replay tests/records/v1-reset.json --host=127.0.0.1 --port="$PORT" \
			--settle=60s 2>"$TMP/err" &
		pid=$!
		# The connection is over once the server logged it: the settle runs.
		for i in $(seq 200); do
			grep -q '^conn ' "$TMP/server.log" 2>/dev/null && break
			sleep 0.05
		done
		kill -s "$sig" "$pid"
		for i in $(seq 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid"; wait "$pid" 2>/dev/null; stop_server
			fail "$name" "still settling 10 s after SIG$sig"; continue
		fi
		wait "$pid"; RC=$?
		stop_server
		expect_rc "$name" "$want" && expect_err "$name" "^Interrupted by SIG$sig; exit $want" && pass "$name"
	done
}

# --- the supervised command's working directory: a path, or corrupt ------------
t_records_cwd() {
	local name v
	for v in '5' '""' '"relative/dir"' '"/" + "x" * 5000' '["/"]'; do
		name="a record whose target_process cwd is $v: corrupt, one line, exit 2"
		edit_record tests/records/v1-target-exit.json "$TMP/cwd.json" "d['target_process']['cwd'] = $v"
		sf replay "$TMP/cwd.json" --port=1
		expect_rc "$name" 2 || continue
		expect_err "$name" "^stutterfuzz: .*cwd.json: corrupt record: target_process 'cwd' (is not a string|is not an absolute path|is longer than a path may be)$" ||
			continue
		[ "$(wc -l <"$TMP/err")" = 1 ] || { fail "$name" "more than one line"; continue; }
		pass "$name"
	done
	name="a record with a cwd that is a path loads (replay does not start a server)"
	edit_record tests/records/v1-target-exit.json "$TMP/cwd.json" "d['target_process']['cwd'] = '/nonexistent/dir'"
	start_server crash-split --token=CRASH
	sf replay "$TMP/cwd.json" --host=127.0.0.1 --port="$PORT" --settle=100ms
	stop_server
	expect_rc "$name" 1 && pass "$name"
}

# --- counts in replay's lines: singular for one -------------------------------
t_records_plural() {
	local name="replay of one connection of 1 byte in 1 fragment: singular counts"
	edit_record tests/records/v1-reset.json "$TMP/one.json" '
c = d["connection"]
c.update(blob="x", blob_size=1, blob_base64="eA==", fragments=[1], close_after=1,
	sent_fragments=1, sent_bytes=1, gaps_us=[3], fastopen=False,
	blob_sha256="2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")'
	start_server reset
	sf replay "$TMP/one.json" --host=127.0.0.1 --port="$PORT" --settle=0ms
	stop_server
	expect_rc "$name" 1 || return
	expect_err "$name" "; 1 distinct connection to replay \(of 1 recorded\)$" || return
	expect_err "$name" "^Replaying connection 0 \(blob x, 1 byte, 1 fragment, recorded outcome reset\)$" || return
	start_server reset
	sf replay "$TMP/one.json" --all --host=127.0.0.1 --port="$PORT" --settle=0ms
	stop_server
	expect_rc "$name (--all)" 1 || return
	expect_err "$name" "; 1 connection to replay together \(of 1 recorded\)$" || return
	expect_err "$name" "^Replaying 1 connection together$" || return
	expect_err "$name" "^Result: reproduced \(reset\) with the connection together; exit 1$" && pass "$name"
}

# --- every subcommand's --help is its own usage, exit 0 -----------------------
t_records_help() {
	local name c
	for c in replay minimize merge report proxy; do
		name="stutterfuzz $c --help: its own usage on stdout, exit 0"
		sf "$c" --help
		expect_rc "$name" 0 || continue
		head -1 "$TMP/out" | grep -q "^usage: stutterfuzz $c " ||
			{ fail "$name" "first line: $(head -1 "$TMP/out")"; continue; }
		[ ! -s "$TMP/err" ] || { fail "$name" "stderr: $(head -2 "$TMP/err")"; continue; }
		pass "$name"
	done
	name="stutterfuzz replay RECORD --help and replay -h: replay's usage, exit 0"
	sf replay tests/records/v1-reset.json --help
	expect_rc "$name" 0 && head -1 "$TMP/out" | grep -q '^usage: stutterfuzz replay RECORD' ||
		{ fail "$name" "$(head -1 "$TMP/out")"; return; }
	sf replay -h
	expect_rc "$name" 0 && head -1 "$TMP/out" | grep -q '^usage: stutterfuzz replay RECORD' &&
		pass "$name"
}

register t_records_v1 t_records_escape t_records_target t_records_bounds t_records_names \
	t_records_signal t_records_cwd t_records_plural t_records_help
