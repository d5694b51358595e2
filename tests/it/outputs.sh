#!/usr/bin/env bash
# Output files checked before a run (issue 16, items 9 and 10), options named
# as typed (item 11), the live line on a terminal (issue 9, section 4).

# one_line NAME WANT: exit 2 and exactly one line of error matching WANT.
one_line() {
	expect_rc "$1" 2 || return 1
	expect_err "$1" "^stutterfuzz: $2" || return 1
	if [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
		fail "$1" "$(wc -l <"$TMP/err") lines of error, wanted 1"
		return 1
	fi
}

# An output file that cannot be made fails before the run: exit 2, one line.
# The run would last an hour (then sf's timeout) if the check came at the end.
t_outputs_up_front() {
	local cases=(
		"--summary a directory|--summary=$TMP|--summary $TMP: Is a directory"
		"--summary in a missing directory|--summary=$TMP/no/such/s.json|--summary $TMP/no/such/s.json: No such file or directory"
		"--stats-file a directory|--stats-file=$TMP|--stats-file $TMP: Is a directory"
		"--trace in a missing directory|--trace=$TMP/nope/t.jsonl|--trace $TMP/nope/t.jsonl: No such file or directory"
	)
	local c name arg want
	start_server record --no-data
	for c in "${cases[@]}"; do
		IFS='|' read -r name arg want <<<"$c"
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=1h -q "$arg"
		one_line "output checked first: $name" "$want" && pass "output checked first: $name"
	done
	name="output checked first: no summary file left by a failed start"
	sf --blob-dir="$TMP/no-corpus" --host=127.0.0.1 --port="$PORT" --summary="$TMP/left.json"
	if expect_rc "$name" 2 && [ ! -e "$TMP/left.json" ]; then pass "$name"; else fail "$name" "left.json exists"; fi
	stop_server
}

# /dev/full opens fine; its write errors show at the end: exit 3, named.
t_outputs_write_errors() {
	local opt name
	start_server record --no-data
	for opt in --summary --stats-file --trace; do
		name="$opt=/dev/full: the write error is reported, exit 3"
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=1s \
			--stats-interval=100ms "$opt=/dev/full"
		expect_rc "$name" 3 && expect_err "$name" "^stutterfuzz: $opt /dev/full: write failed: No space left on device" &&
			expect_err "$name" "^Result: stutterfuzz could not write an output file; exit 3" && pass "$name"
	done
	name="--stats-file to a file: plain lines, exit 0"
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --rounds=2 --stats-interval=100ms \
		--stats-file="$TMP/stats.txt" --summary="$TMP/s.json"
	expect_rc "$name" 0 && [ -s "$TMP/s.json" ] && pass "$name"
	stop_server
}

# A value given to a flag names the option as typed.
t_flag_values() {
	local cases=(
		"--quiet=1|option '--quiet' takes no value"
		"--all=1|option '--all' takes no value"
		"--restart=yes|option '--restart' takes no value"
		"--keep-t=1|option '--keep-t' takes no value"
		"--help=x|option '--help' takes no value"
	)
	local c arg want
	for c in "${cases[@]}"; do
		IFS='|' read -r arg want <<<"$c"
		sf --blob-dir="$CORPUS" --port=1 "$arg"
		one_line "flag given a value: $arg" "$want" && pass "flag given a value: $arg"
	done
}

# On a terminal of 80 columns the live line fits, redrawn with \r; it
# follows the terminal when it narrows (SIGWINCH).
t_tty_line() {
	local name="live line on an 80-column terminal: fits, redrawn in place" msg
	start_server record --no-data
	if msg=$(timeout -k 5 70 python3 tests/helpers/ptyrun.py --cols=80 --out="$TMP/pty.out" -- \
		"$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=2s --stats-interval=100ms); then
		pass "$name ($msg)"
	else
		fail "$name" "$msg"
	fi
	name="live line follows the terminal narrowing to 40 columns"
	if msg=$(timeout -k 5 70 python3 tests/helpers/ptyrun.py --cols=80 --resize=40 --out="$TMP/pty.out" -- \
		"$SF" --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --duration=2s --stats-interval=100ms); then
		pass "$name ($msg)"
	else
		fail "$name" "$msg"
	fi
	stop_server
}

register t_outputs_up_front t_outputs_write_errors t_flag_values t_tty_line
