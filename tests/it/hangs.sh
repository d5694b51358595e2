# Integration tests: stalls (read pacing sees a server that reads nothing on
# any connection) and the servers that must not be taken for one.

HANGS=$TMP/hangs
mkdir -p "$HANGS"
printf 'GET /SPIN HTTP/1.1\r\nHost: x\r\n\r\n' >"$HANGS/spin"
printf 'PING\r\n' >"$HANGS/ping"
# base64 of the spin blob, as records carry it.
SPIN_B64=R0VUIC9TUElOIEhUVFAvMS4xDQpIb3N0OiB4DQoNCg==

# hangs_port: a port free at the time of asking.
hangs_port() {
	start_server record --no-data
	local p=$PORT
	stop_server
	echo "$p"
}

# wait_log REGEX: waits (at most 10 s) for the server log to match.
wait_log() {
	for _ in $(seq 200); do
		grep -Eq -- "$1" "$TMP/server.log" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

t_stall_spin() {
	local name="a server spinning on a split token: a hang finding of phase stall with a record, exit 1"
	local fd=$TMP/stall rec
	rm -rf "$fd"
	start_server spin-split --token=SPIN
	sf --blob-dir="$HANGS" --host=127.0.0.1 --port="$PORT" --seed=1 --findings-dir="$fd" \
		--stall-timeout=2s --summary="$TMP/stall.json"
	stop_server
	grep -q '^spin_at ' "$TMP/server.log" || { fail "$name" "the server never spun"; return; }
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: hang blob=[a-z]+ conn=[0-9]+ .*phase=stall' || return
	rec=$(ls "$fd"/hang-*.json 2>/dev/null | head -1)
	[ -n "$rec" ] || { fail "$name" "no hang record in $fd: $(ls "$fd")"; return; }
	python3 - "$rec" "$SPIN_B64" <<'PY' || { fail "$name" "record: $(head -c 600 "$rec")"; return; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "hang" and r["phase"] == "stall", (r["kind"], r["phase"])
assert r["detail"].startswith("stall: the server read nothing on any connection"), r["detail"]
conns = [r["connection"]] + r.get("suspects", [])
assert r["connection"]["outcome"] == "hang"
assert any(c["blob_base64"] == sys.argv[2] for c in conns), "spin blob not in the record"
PY
	[ "$(summary_field hang)" = 1 ] || { fail "$name" "summary hang=$(summary_field hang), wanted 1"; return; }
	pass "$name"

	name="replay of the stall record against the spinning server: reproduced, exit 1"
	start_server spin-split --token=SPIN
	sf replay "$rec" --host=127.0.0.1 --port="$PORT" --settle=100ms --stall-timeout=2s
	stop_server
	expect_rc "$name" 1 || return
	expect_err "$name" "^Result: reproduced \(hang\)" || return
	pass "$name"

	name="replay of the stall record against a server that reads: not reproduced, exit 0"
	start_server record --no-data
	sf replay "$rec" --host=127.0.0.1 --port="$PORT" --settle=50ms --stall-timeout=2s
	stop_server
	expect_rc "$name" 0 && expect_err "$name" "^Result: not reproduced; exit 0" && pass "$name"
}

t_stall_supervised() {
	local name="a supervised server spinning: a stall record, exit 1"
	local fd=$TMP/stall-sup p rec
	rm -rf "$fd"
	p=$(hangs_port)
	sf --blob-dir="$HANGS" --host=127.0.0.1 --port="$p" --seed=1 --findings-dir="$fd" -q \
		--stall-timeout=2s -- "$SERVER" --mode=spin-split --token=SPIN --port="$p" --max-seconds=60
	expect_rc "$name" 1 || return
	expect_err "$name" '^finding: hang blob=[a-z]+ conn=[0-9]+ .*phase=stall' || return
	rec=$(ls "$fd"/hang-*.json 2>/dev/null | head -1)
	[ -n "$rec" ] || { fail "$name" "no hang record in $fd: $(ls "$fd")"; return; }
	python3 - "$rec" <<'PY' || { fail "$name" "record: $(grep -o '"detail":"[^"]*"' "$rec")"; return; }
import json, re, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "hang" and r["phase"] == "stall"
assert r["detail"].startswith("stall: the server read nothing"), r["detail"]
PY
	pass "$name"
}

t_stall_ack() {
	local name="without read pacing there is no stall check: ack pacing misses a spin on small blobs (as before), exit 0"
	start_server spin-split --token=SPIN
	sf --blob-dir="$HANGS" --host=127.0.0.1 --port="$PORT" --seed=1 --pace=ack \
		--stall-timeout=1s --duration=3s -q
	stop_server
	grep -q '^spin_at ' "$TMP/server.log" || { fail "$name" "the server never spun"; return; }
	if grep -q 'phase=stall' "$TMP/err"; then fail "$name" "a stall under ack pacing"; return; fi
	expect_rc "$name" 0 && pass "$name"
}

t_stall_clean() {
	local name="a server slowed to 1 ms per read: clean at default options, exit 0"
	start_server slow --delay-us=1000 --no-data
	sf --blob-dir="$HANGS" --host=127.0.0.1 --port="$PORT" --seed=2 --duration=7s -q
	stop_server
	expect_rc "$name" 0 || return
	[ "$(summary_field hang)" = 0 ] || { fail "$name" "hang=$(summary_field hang)"; return; }
	pass "$name"

	name="a server that stops reading for 1.5 s after every 2 s of reading: clean at default options, exit 0"
	start_server pause --pause-ms=1500 --every-ms=2000 --no-data
	sf --blob-dir="$HANGS" --host=127.0.0.1 --port="$PORT" --seed=3 --duration=8s -q
	stop_server
	local pauses
	pauses=$(sed -n 's/.* pauses \([0-9]*\) .*/\1/p' "$TMP/server.log")
	[ "${pauses:-0}" -ge 2 ] || { fail "$name" "the server paused ${pauses:-0} times"; return; }
	expect_rc "$name" 0 || return
	[ "$(summary_field hang)" = 0 ] || { fail "$name" "hang=$(summary_field hang)"; return; }
	pass "$name ($pauses pauses)"
}

register t_stall_spin t_stall_supervised t_stall_ack t_stall_clean
