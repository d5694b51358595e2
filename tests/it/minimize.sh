# Minimization: a supervised run finds a crash, `stutterfuzz minimize` shrinks
# its record to the connections, cuts and bytes it needs; the minimal record
# replays, and the python3 reproducer crashes a fresh server. Sourced by
# tests/integration.sh.

MZ=$TMP/mz
mkdir -p "$MZ/split" "$MZ/first1" "$MZ/header" "$MZ/pair" "$MZ/flaky" "$MZ/twin"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$MZ/split/crash"
printf 'PING\r\n' >"$MZ/split/ping"
printf 'GET / HTTP/1.1\r\n\r\n' >"$MZ/split/get"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$MZ/first1/get"
printf '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n' >"$MZ/header/set"
printf 'GET /LEFT HTTP/1.0\r\n\r\n' >"$MZ/pair/left"
printf 'GET /RIGHT HTTP/1.0\r\n\r\n' >"$MZ/pair/right"
printf 'GET / HTTP/1.0\r\n\r\n' >"$MZ/pair/get"
printf 'PING\r\n' >"$MZ/pair/ping"
printf 'xCRASHy' >"$MZ/flaky/crash"
printf 'GET /TWIN HTTP/1.0\r\n\r\n' >"$MZ/twin/twin"
printf 'PING\r\n' >"$MZ/twin/ping"
# stutterfuzz by an absolute path, for runs from another directory.
case $SF in /*) MZ_SF=$SF ;; *) MZ_SF=$PWD/$SF ;; esac

# mz_port: a port nothing listens on now.
mz_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# mz_record DIR CORPUS PORT [RUN-ARGS...] -- SERVER-ARGS...: a supervised run
# of the test server until it dies; sets REC to its target-exit record.
mz_record() {
	local dir=$1 corpus=$2 p=$3 run=()
	shift 3
	while [ "$1" != "--" ]; do run+=("$1"); shift; done
	shift
	rm -rf "$dir"
	sf --blob-dir="$corpus" --host=127.0.0.1 --port="$p" --seed=1 --findings-dir="$dir" -q \
		"${run[@]}" -- "$SERVER" --port="$p" --max-seconds=60 "$@"
	REC=$(ls "$dir"/target-exit-*.json 2>/dev/null | head -1)
}

# mz ARGS...: stutterfuzz minimize (at most 150 s), like sf.
mz() {
	timeout -k 5 150 "$SF" minimize "$@" 2>"$TMP/err" >"$TMP/out"
	RC=$?
}

# mz_took: "Ns, A attempts, S server starts" from the last minimize.
mz_took() {
	sed -n 's/^Minimized in \([0-9.]*s\): \([0-9]*\) attempts, \([0-9]*\) server starts.*/\1, \2 attempts, \3 server starts/p' "$TMP/err"
}

# expect_out NAME LINE: stdout has exactly this line.
expect_out() {
	if grep -qxF -- "$2" "$TMP/out"; then return 0; fi
	fail "$1" "stdout lacks the line: $2" "$(cat "$TMP/out")"
	return 1
}

# mz_one_of NAME LINES...: stdout's cut lines are exactly one of LINES.
mz_one_of() {
	local name=$1 got
	shift
	got=$(grep '^cut ' "$TMP/out")
	for want in "$@"; do
		[ "$got" = "$want" ] && return 0
	done
	fail "$name" "unexpected cut lines:" "$got"
	return 1
}

# mz_agree NAME SIZE: the last progress line and the result line both give
# SIZE ("1 connection, 5 bytes, 1 cut"), and the first progress line (the
# record's check) the same size as the result's "from".
mz_agree() {
	local name=$1 want=$2 last first from
	last=$(grep '^attempt ' "$TMP/err" | tail -1)
	first=$(grep '^attempt ' "$TMP/err" | head -1)
	from=$(sed -n 's/^Minimized in [0-9.]*s: [0-9]* attempts*, [0-9]* server starts*; \(.*\) -> .*/\1/p' "$TMP/err")
	case "$last" in "attempt "*" (confirm): reproduced; smallest so far $want") ;;
	*) fail "$name" "last progress line: $last, wanted ... $want"; return 1 ;; esac
	grep -Eq -- "-> $want\$" "$TMP/err" || { fail "$name" "result line lacks -> $want" "$(grep '^Minimized' "$TMP/err")"; return 1; }
	[ -n "$from" ] && [ "$first" = "attempt 1 (check): reproduced; smallest so far $from" ] ||
		{ fail "$name" "first progress line: $first; result from: $from"; return 1; }
}

# mz_replays NAME RECORD REPLAY-ARGS... -- SERVER-ARGS...: the record brings
# a fresh (unsupervised) server down: replay exits 1, the server 42.
mz_replays() {
	local name=$1 rec=$2 args=() st
	shift 2
	while [ "$1" != "--" ]; do args+=("$1"); shift; done
	shift
	start_server "$@"
	sf replay "$rec" --host=127.0.0.1 --port="$PORT" --settle=200ms "${args[@]}"
	wait "$SERVER_PID" 2>/dev/null
	st=$?
	SERVER_PID=
	expect_rc "$name (replay of the minimal record)" 1 || return 1
	[ "$st" = 42 ] && return 0
	fail "$name" "the server exited with $st after the replay, wanted 42"
	return 1
}

# mz_repro NAME SCRIPT SERVER-ARGS...: the reproducer script crashes a fresh
# server and says so (exit 1; the server exits 42).
mz_repro() {
	local name=$1 script=$2 rc st
	shift 2
	start_server "$@"
	timeout -k 5 30 "$script" 127.0.0.1 "$PORT" >"$TMP/repro.out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	st=$?
	SERVER_PID=
	if [ "$rc" = 1 ] && [ "$st" = 42 ] &&
		grep -q '^reproduced: the server no longer accepts connections' "$TMP/repro.out"; then
		return 0
	fi
	fail "$name (reproducer)" "script exit $rc, server exit $st" "$(cat "$TMP/repro.out")"
	return 1
}

# mz_crash NAME X SERVER-ARGS...: mz_record of the corpus $MZ/X into
# $MZ/f-X (with $MZ/out-X made for the results) on a free port; fails NAME
# when the run left no target-exit record.
mz_crash() {
	local name=$1 x=$2
	shift 2
	mkdir -p "$MZ/out-$x"
	mz_record "$MZ/f-$x" "$MZ/$x" "$(mz_port)" -- "$@"
	[ -n "$REC" ] && return 0
	fail "$name" "no target-exit record" "$(tail -5 "$TMP/err")"
	return 1
}

# mz_min_crashes NAME DIR REPLAY-ARGS... -- SERVER-ARGS...: DIR/min.json
# replays to a crash (mz_replays) and DIR/repro.py reproduces it (mz_repro).
mz_min_crashes() {
	local name=$1 dir=$2 args=()
	shift 2
	while [ "$1" != "--" ]; do args+=("$1"); shift; done
	shift
	mz_replays "$name" "$dir/min.json" "${args[@]}" -- "$@" &&
		mz_repro "$name" "$dir/repro.py" "$@"
}

t_minimize_split() {
	local name="minimize a token split across two reads: one cut inside the token, 5 bytes"
	local d=$MZ/out-split
	mz_crash "$name" split --mode=crash-split --token=CRASH || return
	mz "$REC" --output="$d/min.json" --reproducer="$d/repro.py" --settle=50ms
	expect_rc "$name" 1 || return
	expect_out "$name" 'connection 1 of 1: blob crash, 5 bytes, 2 fragments: "CRASH"' || return
	mz_one_of "$name" 'cut 1 of 1 at byte 1 of 5: "C" | "RASH"' 'cut 1 of 1 at byte 2 of 5: "CR" | "ASH"' \
		'cut 1 of 1 at byte 3 of 5: "CRA" | "SH"' 'cut 1 of 1 at byte 4 of 5: "CRAS" | "H"' || return
	expect_err "$name" "^Result: minimal: every remaining connection, cut and byte is needed; exit 1" || return
	expect_err "$name" "^Reproduced: the record 3 of 3 tries, the minimal case 3 of 3 tries" || return
	mz_agree "$name" '1 connection, 5 bytes, 1 cut' || return
	local took
	took=$(mz_took)
	mz_min_crashes "$name" "$d" -- crash-split --token=CRASH || return
	pass "$name (from $(grep -c '"blob_base64"' "$REC") connections; $took)"
}

t_minimize_first1() {
	local name="minimize a first read of one byte: the cut at byte 1 of 2"
	local d=$MZ/out-first1
	mz_crash "$name" first1 --mode=crash-first1 || return
	mz "$REC" --output="$d/min.json" --reproducer="$d/repro.py" --settle=50ms
	expect_rc "$name" 1 || return
	expect_out "$name" 'cut 1 of 1 at byte 1 of 2: "G" | "E"' || return
	[ "$(grep -c '^cut ' "$TMP/out")" = 1 ] || { fail "$name" "more than one cut" "$(cat "$TMP/out")"; return; }
	local took
	took=$(mz_took)
	mz_min_crashes "$name" "$d" -- crash-first1 || return
	pass "$name ($took)"
}

t_minimize_header() {
	local name="minimize a header cut into three pieces: two cuts, 3 or 4 bytes"
	local d=$MZ/out-header
	mz_crash "$name" header --mode=crash-header || return
	mz "$REC" --output="$d/min.json" --reproducer="$d/repro.py" --settle=50ms
	expect_rc "$name" 1 || return
	# Each cut stays between the bytes it was between: only the bytes
	# on either side of the two cuts are left.
	local cuts
	cuts=$(grep '^cut ' "$TMP/out" | sed 's/: .*//' | tr '\n' ';')
	case "$cuts" in
	"cut 1 of 2 at byte 1 of 3;cut 2 of 2 at byte 2 of 3;" | \
	"cut 1 of 2 at byte 1 of 4;cut 2 of 2 at byte 3 of 4;") ;;
	*) fail "$name" "unexpected cuts: $cuts" "$(cat "$TMP/out")"; return ;;
	esac
	local took
	took=$(mz_took)
	mz_min_crashes "$name" "$d" -- crash-header || return
	pass "$name ($took)"
}

t_minimize_pair() {
	local name="minimize a fault that needs two connections at once: both kept, no cut"
	local d=$MZ/out-pair
	mz_crash "$name" pair --mode=crash-pair --token=LEFT --token2=RIGHT || return
	mz "$REC" --output="$d/min.json" --reproducer="$d/repro.py" --settle=50ms
	expect_rc "$name" 1 || return
	grep -qE '^connection [12] of 2: blob left, 4 bytes, 1 fragment: "LEFT"$' "$TMP/out" ||
		{ fail "$name" "no LEFT connection" "$(cat "$TMP/out")"; return; }
	grep -qE '^connection [12] of 2: blob right, 5 bytes, 1 fragment: "RIGHT"$' "$TMP/out" ||
		{ fail "$name" "no RIGHT connection" "$(cat "$TMP/out")"; return; }
	expect_out "$name" 'no cut is needed: the fault comes back with every connection sent whole' || return
	expect_err "$name" "^Minimal record: .* \(stutterfuzz replay --all " || return
	local took
	took=$(mz_took)
	mz_min_crashes "$name" "$d" --all -- crash-pair --token=LEFT --token2=RIGHT || return
	pass "$name ($took)"
}

t_minimize_twin() {
	local name="a fault that needs two identical connections: minimized to both, and the record replays"
	local d=$MZ/out-twin
	mz_crash "$name" twin --mode=crash-pair --token=TWIN --token2=TWIN || return
	mz "$REC" --output="$d/min.json" --settle=50ms
	expect_rc "$name" 1 || return
	expect_out "$name" 'connection 1 of 2: blob twin, 4 bytes, 1 fragment: "TWIN"' || return
	expect_out "$name" 'connection 2 of 2: blob twin, 4 bytes, 1 fragment: "TWIN"' || return
	mz_agree "$name" '2 connections, 8 bytes, 0 cuts' || return
	local took
	took=$(mz_took)
	mz_replays "$name" "$d/min.json" --all -- crash-pair --token=TWIN --token2=TWIN || return
	expect_err "$name" '; 2 connections to replay together, as minimized \(of 2 recorded\)$' || return
	expect_err "$name" '^Result: reproduced \(target-exit\) with all connections together; exit 1$' || return
	# A minimized record's connections go together even without --all.
	mz_replays "$name (without --all)" "$d/min.json" -- crash-pair --token=TWIN --token2=TWIN || return
	pass "$name ($took)"
}

t_minimize_cwd() {
	local name="minimize from another directory: the record's relative server command starts where the run started it"
	local p d=$MZ/cwd
	p=$(mz_port)
	rm -rf "$d"
	mkdir -p "$d/srv" "$d/elsewhere"
	cp "$SERVER" "$d/srv/server"
	(cd "$d/srv" && timeout -k 5 60 "$MZ_SF" --blob-dir="$MZ/split" --host=127.0.0.1 --port="$p" --seed=1 \
		--findings-dir="$d/f" -q -- ./server --port="$p" --max-seconds=60 --mode=crash-split --token=CRASH \
		>/dev/null 2>&1)
	REC=$(ls "$d"/f/target-exit-*.json 2>/dev/null | head -1)
	[ -n "$REC" ] || { fail "$name" "no target-exit record"; return; }
	[ "$(json_get "$REC" target_process.cwd)" = "$d/srv" ] ||
		{ fail "$name" "the record's cwd is '$(json_get "$REC" target_process.cwd)', wanted $d/srv"; return; }
	(cd "$d/elsewhere" && timeout -k 5 150 "$MZ_SF" minimize "$REC" --settle=50ms 2>"$TMP/err" >"$TMP/out")
	RC=$?
	expect_rc "$name" 1 || return
	expect_err "$name" "^A fresh server for every attempt: ./server .* \(from the record, in $d/srv\)$" || return
	expect_err "$name" "^Result: minimal" || return
	pass "$name"

	name="minimize of a record whose directory is gone: says so in one line, runs here"
	edit_mz_record "$REC" "$d/gone.json" "d['target_process']['cwd'] = '$d/gone'"
	(cd "$d/srv" && timeout -k 5 150 "$MZ_SF" minimize "$d/gone.json" --settle=50ms 2>"$TMP/err" >"$TMP/out")
	RC=$?
	expect_rc "$name" 1 || return
	expect_err "$name" "^stutterfuzz minimize: the record's server ran in $d/gone, which is not a directory here \(No such file or directory\); starting its command in the current directory \(give -- SERVER-COMMAND to choose\)$" ||
		return
	expect_err "$name" "^A fresh server for every attempt: ./server .* \(from the record\)$" && pass "$name"
}

# edit_mz_record IN OUT PYTHON: OUT is IN's JSON with PYTHON applied to d.
edit_mz_record() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(d))' "$1" "$2" "$3"
}

t_minimize_flaky() {
	local name="minimize a fault that comes back one time in three: rate reported, not called minimal"
	local p d=$MZ/out-flaky
	p=$(mz_port)
	mkdir -p "$d"
	echo 2 >"$MZ/count"	# the run's server is the third start: it crashes
	mz_record "$MZ/f-flaky" "$MZ/flaky" "$p" --num-conns=1 -- --mode=crash-split --token=CRASH \
		--every=3 --count-file="$MZ/count"
	[ -n "$REC" ] || { fail "$name" "no target-exit record" "$(tail -5 "$TMP/err")"; return; }
	mz "$REC" --output="$d/min.json" --tries=3 --settle=50ms
	expect_rc "$name" 1 || return
	expect_err "$name" "^Reproduced: the record 1 of 3 tries, the minimal case 1 of 3 tries \(each candidate tried up to 3 times\)" || return
	expect_err "$name" "^Result: the smallest case found, but the fault is flaky .*: not proven minimal; exit 1" || return
	mz_one_of "$name" 'cut 1 of 1 at byte 1 of 5: "C" | "RASH"' 'cut 1 of 1 at byte 2 of 5: "CR" | "ASH"' \
		'cut 1 of 1 at byte 3 of 5: "CRA" | "SH"' 'cut 1 of 1 at byte 4 of 5: "CRAS" | "H"' || return
	grep -q '"flaky": true' "$d/min.json" || { fail "$name" "the record does not say flaky"; return; }
	pass "$name ($(mz_took))"
}

t_minimize_errors() {
	local name="minimize of a record a fixed server survives: not reproduced, exit 0"
	local p rec
	p=$(mz_port)
	mz_record "$MZ/f-err" "$MZ/split" "$p" -- --mode=crash-split --token=CRASH
	rec=$REC
	[ -n "$rec" ] || { fail "$name" "no target-exit record"; return; }
	mz "$rec" --settle=50ms --tries=2 -- "$SERVER" --mode=crash-split --token=CRASH --fixed --port="$p" \
		--max-seconds=60
	expect_rc "$name" 0 && expect_err "$name" "^Result: the record did not reproduce in 2 tries; nothing to minimize; exit 0" &&
		pass "$name"

	name="minimize with a server command that cannot run or start: exit 3"
	mz "$rec" -- /nonexistent/server
	expect_rc "$name" 3 && expect_err "$name" "cannot run /nonexistent/server" || return
	mz "$rec" -- sh -c 'echo starting; echo "cannot bind: boom" >&2; exit 3'
	expect_rc "$name" 3 && expect_err "$name" "^stutterfuzz minimize: the server could not be started: .*exited with status 3 during start-up; its last output: cannot bind: boom$" &&
		pass "$name"

	name="minimize without a way to restart the server: says so, exit 3"
	local fd=$MZ/f-unsup
	rm -rf "$fd"
	start_server crash-split --token=CRASH
	sf --blob-dir="$MZ/split" --host=127.0.0.1 --port="$PORT" --seed=1 --findings-dir="$fd" -q
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	rec=$(ls "$fd"/refused-*.json 2>/dev/null | head -1)
	[ -n "$rec" ] || { fail "$name" "no refused record"; return; }
	mz "$rec" --host=127.0.0.1 --port="$PORT" --settle=50ms
	expect_rc "$name" 3 && expect_err "$name" "does not accept connections, and there is no command to start a server" ||
		return
	start_server crash-split --token=CRASH
	mz "$rec" --host=127.0.0.1 --port="$PORT" --settle=50ms
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name" 3 && expect_err "$name" "went away and there is no command to restart it" || return
	pass "$name"

	name="minimize usage and unreadable records: one line, exit 2"
	mz "$MZ/nope.json"
	expect_rc "$name" 2 && expect_err "$name" "^stutterfuzz minimize: .*nope.json: No such file" || return
	mz
	expect_rc "$name" 2 && expect_err "$name" "needs a record file" || return
	mz "$rec" --tries=0
	expect_rc "$name" 2 && expect_err "$name" "^stutterfuzz minimize: --tries: 0 is out of range" || return
	mz "$rec" --output="$MZ/no/such/dir/min.json"
	expect_rc "$name" 2 && expect_err "$name" "^stutterfuzz minimize: --output .*/no/such/dir/min.json: No such file" ||
		return
	mz "$rec" --bogus
	expect_rc "$name" 2 && expect_err "$name" "unknown option or missing value: --bogus" || return
	mz --help
	expect_rc "$name" 0 && grep -q '^usage: stutterfuzz minimize RECORD' "$TMP/out" && pass "$name"
}

t_minimize_interrupt() {
	local name="SIGINT during minimize: the smallest case so far is written, exit 1"
	local p d=$MZ/out-int pid
	p=$(mz_port)
	mkdir -p "$d"
	rm -f "$d/min.json"
	mz_record "$MZ/f-int" "$MZ/split" "$p" -- --mode=crash-split --token=CRASH
	[ -n "$REC" ] || { fail "$name" "no target-exit record"; return; }
	timeout -k 5 150 "$SF" minimize "$REC" --output="$d/min.json" --settle=50ms \
		2>"$TMP/err" >"$TMP/out" &
	pid=$!
	for _ in $(seq 600); do
		grep -q '(connections): reproduced' "$TMP/err" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -INT "$pid"
	wait "$pid"
	RC=$?
	expect_rc "$name" 1 && expect_err "$name" "^Result: interrupted: the smallest case so far, not minimal; exit 1" ||
		return
	grep -q '"end": "interrupted"' "$d/min.json" || { fail "$name" "no minimal record written"; return; }
	mz_replays "$name" "$d/min.json" -- crash-split --token=CRASH && pass "$name"
}

register t_minimize_split t_minimize_first1 t_minimize_header t_minimize_pair t_minimize_twin \
	t_minimize_cwd t_minimize_flaky t_minimize_errors t_minimize_interrupt
