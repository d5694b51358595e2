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

register t_records_v1
