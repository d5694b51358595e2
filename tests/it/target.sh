# Integration tests of target supervision: the process group dies with
# stutterfuzz, --max-restarts above 64, refusals and resets that only echo
# a target's death, sanitizer reports kept whole. Sourced by
# tests/integration.sh (uses free_port and $SPLIT from core.sh when loaded
# with it, or defines its own).

TSPLIT=$TMP/tsplit
mkdir -p "$TSPLIT"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$TSPLIT/crash"
printf 'PING\r\n' >"$TSPLIT/ping"
printf 'GET / HTTP/1.1\r\n\r\n' >"$TSPLIT/get"

# port_free PORT: can a listener bind it now?
port_free() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(1)
except OSError:
    sys.exit(1)
PY
}

# wait_group_gone PGID: up to 10 s for the process group to empty.
wait_group_gone() {
	for _ in $(seq 200); do
		kill -0 -- "-$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# wait_ready: up to 10 s for "Target ready" in $TMP/err; prints its group.
wait_ready() {
	local pg=""
	for _ in $(seq 200); do
		pg=$(sed -n 's/^Target ready .*process group \([0-9]*\)).*/\1/p' "$TMP/err")
		[ -n "$pg" ] && break
		sleep 0.05
	done
	echo "$pg"
}

# --- SIGKILL of stutterfuzz takes the whole group with it -----------------------
t_target_sigkill() {
	local name="SIGKILL of stutterfuzz: a server under 'sh -c \"server; true\"' goes too, its port is free"
	local p pid pg
	p=$(tfree_port)
	"$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" -q \
		-- sh -c "$SERVER --mode=record --no-data --port=$p --max-seconds=60; true" \
		2>"$TMP/err" &
	pid=$!
	pg=$(wait_ready)
	if [ -z "$pg" ]; then
		kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		fail "$name" "target never ready" "$(tail -n 5 "$TMP/err")"
		return
	fi
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	if ! wait_group_gone "$pg"; then
		fail "$name" "process group $pg still has processes: $(pgrep -g "$pg" -a | tr '\n' ' ')"
		kill -KILL -- "-$pg" 2>/dev/null
		return
	fi
	if ! port_free "$p"; then
		fail "$name" "port $p still has a listener"
		return
	fi
	pass "$name"
}

# --- --keep-target: the guardian stands down --------------------------------------
t_target_keep() {
	local name="--keep-target leaves the target running after stutterfuzz exits"
	local p pg
	p=$(tfree_port)
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" -q --duration=1s --keep-target \
		-- "$SERVER" --mode=record --no-data --port="$p" --max-seconds=60
	pg=$(sed -n 's/^Target ready .*process group \([0-9]*\)).*/\1/p' "$TMP/err")
	if expect_rc "$name" 0 && expect_err "$name" "^Leaving the target running"; then
		if [ -n "$pg" ] && kill -0 -- "-$pg" 2>/dev/null && ! port_free "$p"; then
			pass "$name"
		else
			fail "$name" "the target is gone"
		fi
	fi
	[ -n "$pg" ] && kill -KILL -- "-$pg" 2>/dev/null
}

# --- --max-restarts above the old ring of 64 ----------------------------------------
t_target_max_restarts() {
	local name="--max-restarts=65 is enforced: the 66th death within a minute stops the run"
	local p exits
	p=$(tfree_port)
	sf --blob-dir="$TSPLIT" --host=127.0.0.1 --port="$p" --seed=1 -q --restart \
		--max-restarts=65 --duration=50s --num-conns=20 \
		-- "$SERVER" --mode=crash-split --token=CRASH --port="$p" --max-seconds=60
	exits=$(summary_field target-exit)
	expect_rc "$name" 1 &&
		expect_err "$name" "the target died again after 65 restarts within a minute \(--max-restarts\); stopping" &&
		expect_err "$name" "target: 65 restarts" &&
		if [ "${exits:-0}" = 66 ]; then pass "$name"; else fail "$name" "target-exit=$exits"; fi
}

# --- with --restart every death is a target-exit, never a refusal or reset ------------
t_target_restart_refused() {
	local name="--restart: deaths are target-exit findings; refusals and resets are lost with it"
	local p exits refused resets lost
	p=$(tfree_port)
	sf --blob-dir="$TSPLIT" --host=127.0.0.1 --port="$p" --seed=3 -q --restart \
		--max-restarts=1000 --duration=5s \
		-- "$SERVER" --mode=crash-split --token=CRASH --port="$p" --max-seconds=60
	exits=$(summary_field target-exit)
	refused=$(summary_field refused)
	resets=$(summary_field reset)
	lost=$(summary_field lost_with_target)
	if ! expect_rc "$name" 1; then return; fi
	if [ "${exits:-0}" -ge 3 ] && [ "$refused" = 0 ] && [ "$resets" = 0 ]; then
		pass "$name (target-exit=$exits, lost_with_target=$lost)"
	else
		fail "$name" "target-exit=$exits refused=$refused reset=$resets lost=$lost"
	fi
}

# --- one crash with 100 connections in flight: one finding ----------------------------
t_target_lost() {
	local name="a crash with 100 connections in flight: one target-exit, reset=0, no reset records"
	local p exits refused resets lost
	p=$(tfree_port)
	rm -rf "$TMP/lost"
	sf --blob-dir="$TSPLIT" --host=127.0.0.1 --port="$p" --seed=1 -q --num-conns=100 \
		--findings-dir="$TMP/lost" --summary="$TMP/lost.json" \
		-- "$SERVER" --mode=crash-split --token=CRASH --abort --port="$p" --max-seconds=60
	exits=$(summary_field target-exit)
	refused=$(summary_field refused)
	resets=$(summary_field reset)
	lost=$(summary_field lost_with_target)
	if ! expect_rc "$name" 1; then return; fi
	if [ "$exits" = 1 ] && [ "$refused" = 0 ] && [ "$resets" = 0 ] &&
		! ls "$TMP"/lost/reset-* "$TMP"/lost/refused-* >/dev/null 2>&1 &&
		grep -q '"lost_with_target":' "$TMP/lost.json"; then
		pass "$name (lost_with_target=$lost)"
	else
		fail "$name" "target-exit=$exits refused=$refused reset=$resets lost=$lost" \
			"$(ls "$TMP/lost")"
	fi
}

# --- a server that resets on its own, supervised: still reset findings ------------------
t_target_real_reset() {
	local name="a supervised server that resets connections while alive: reset findings"
	local p resets
	p=$(tfree_port)
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" -q --duration=2s \
		-- "$SERVER" --mode=reset --port="$p" --max-seconds=60
	resets=$(summary_field reset)
	expect_rc "$name" 0 &&
		if [ "${resets:-0}" -ge 1 ]; then pass "$name (reset=$resets)"; else
			fail "$name" "reset=$resets"; fi
}

# --- an ASan report reaches the record whole --------------------------------------------
t_target_asan() {
	local name="an ASan-built target's whole report, up to SUMMARY:, is in the record and target.log"
	local asan=$TMP/asan-server p rec
	if ! cc -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=address -fno-omit-frame-pointer \
		-o "$asan" tests/servers/testserver.c tests/servers/serve.c 2>"$TMP/cc.err"; then
		echo "SKIP: $name (no AddressSanitizer: $(head -n 1 "$TMP/cc.err"))"
		return
	fi
	p=$(tfree_port)
	rm -rf "$TMP/asan"
	ASAN_OPTIONS=detect_leaks=0 sf --blob-dir="$TSPLIT" --host=127.0.0.1 --port="$p" --seed=1 \
		-q --findings-dir="$TMP/asan" --startup-timeout=20s \
		-- "$asan" --mode=overread --token=CRASH --port="$p" --max-seconds=60
	rec=$(ls "$TMP"/asan/target-report-*.json 2>/dev/null | head -1)
	if ! expect_rc "$name" 1 || ! expect_err "$name" "^finding: target-report .*ERROR: AddressSanitizer"; then
		return
	fi
	if [ -z "$rec" ]; then
		fail "$name" "no target-report record" "$(ls "$TMP/asan")"
	elif ! grep -q 'SUMMARY: AddressSanitizer' "$rec"; then
		fail "$name" "the record's output tail stops before SUMMARY:" \
			"$(grep -o '"output_tail":.\{0,300\}' "$rec")"
	elif ! grep -q 'SUMMARY: AddressSanitizer' "$TMP/asan/target.log"; then
		fail "$name" "target.log lacks SUMMARY:"
	else
		pass "$name"
	fi
}

# --- a target that ignores SIGTERM gets SIGKILL after --grace ---------------------------
t_target_grace() {
	local name="a target ignoring SIGTERM: SIGKILL after --grace, its group gone at exit"
	local p pg
	p=$(tfree_port)
	cat >"$TMP/stubborn.py" <<'PY'
import selectors, signal, socket, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(128)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is ls:
            c, _ = ls.accept()
            sel.register(c, selectors.EVENT_READ)
        else:
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
PY
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" -q --duration=1s --grace=1s \
		--stop-on=none --fail-on=none -- python3 "$TMP/stubborn.py" "$p"
	pg=$(sed -n 's/^Target ready .*process group \([0-9]*\)).*/\1/p' "$TMP/err")
	if expect_rc "$name" 0 && expect_err "$name" "stopped: duration"; then
		if [ -z "$pg" ]; then
			fail "$name" "target never ready"
		elif kill -0 -- "-$pg" 2>/dev/null; then
			fail "$name" "process group $pg still has processes"
			kill -KILL -- "-$pg" 2>/dev/null
		elif ! port_free "$p"; then
			fail "$name" "port $p still has a listener"
		else
			pass "$name"
		fi
	fi
}

# --- a planted target.log symlink is not followed ------------------------------------
t_target_log_symlink() {
	local name="a target.log symlink planted in the findings dir is refused, its target untouched"
	local p
	p=$(tfree_port)
	rm -rf "$TMP/trap"; mkdir -p "$TMP/trap"
	printf 'precious\n' >"$TMP/victim"
	ln -s "$TMP/victim" "$TMP/trap/target.log"
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$p" -q --duration=1s \
		--findings-dir="$TMP/trap" -- "$SERVER" --mode=record --no-data --port="$p" --max-seconds=60
	if [ "$RC" = 0 ] || [ "$RC" = 1 ]; then
		fail "$name" "exit status $RC"
	elif ! expect_err "$name" "target log .*target\.log: is a symbolic link"; then
		:
	elif [ "$(cat "$TMP/victim")" != precious ]; then
		fail "$name" "the symlink's target was written"
	else
		pass "$name (exit $RC)"
	fi
}

# --- a stalled supervised server: what it is doing, from /proc ------------------------
t_target_stall_state() {
	local name="a supervised server spinning: the stall record says its process is running (R)"
	local p rec
	mkdir -p "$TMP/tspin"
	printf 'GET /SPIN HTTP/1.1\r\nHost: x\r\n\r\n' >"$TMP/tspin/spin"
	printf 'PING\r\n' >"$TMP/tspin/ping"
	p=$(tfree_port)
	rm -rf "$TMP/tstall"
	sf --blob-dir="$TMP/tspin" --host=127.0.0.1 --port="$p" --seed=1 -q \
		--findings-dir="$TMP/tstall" --stall-timeout=2s \
		-- "$SERVER" --mode=spin-split --token=SPIN --port="$p" --max-seconds=60
	expect_rc "$name" 1 || return
	rec=$(ls "$TMP"/tstall/hang-*.json 2>/dev/null | head -1)
	if [ -z "$rec" ]; then
		fail "$name" "no hang record: $(ls "$TMP/tstall")"
	elif grep -Eq '"detail":"stall: [^"]*server: [0-9]+ testserver R \(running\)' "$rec"; then
		pass "$name ($(grep -o 'server: [^"]*' "$rec" | head -1))"
	else
		fail "$name" "$(grep -o '"detail":"[^"]*"' "$rec")"
	fi
}

register t_target_stall_state t_target_log_symlink t_target_grace t_target_sigkill t_target_keep t_target_max_restarts t_target_restart_refused \
	t_target_lost t_target_real_reset t_target_asan
