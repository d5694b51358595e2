# Integration tests of the CI outputs: JUnit, SARIF, GitHub annotations and
# step summary, merge of findings directories, the HTML report, and the
# examples in examples/ci. Sourced by tests/integration.sh.

SCHEMAS=tests/schemas
CHECK="python3 tests/ci_check.py"
# Blobs of which one crashes the crash-split server when its token is cut.
CI_SPLIT=$TMP/ci-split
mkdir -p "$CI_SPLIT"
printf 'GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n' >"$CI_SPLIT/crash"
printf 'PING\r\n' >"$CI_SPLIT/ping"
printf 'GET / HTTP/1.1\r\n\r\n' >"$CI_SPLIT/get"

# check NAME CMD...: runs a check, sets OUT; fails NAME with its output.
check() {
	local name=$1; shift
	if ! OUT=$("$@" 2>&1); then fail "$name" "$OUT"; return 1; fi
}

# ci_failing_run DIR: a run that finds a crash (refused), records in DIR.
ci_failing_run() {
	rm -rf "$1"
	start_server crash-split --token=CRASH
	sf --blob-dir="$CI_SPLIT" --host=127.0.0.1 --port="$PORT" --seed=1 \
		--findings-dir="$1" -q "${@:2}"
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
}

# --- JUnit and SARIF validate, clean and failing ---------------------------------
t_ci_junit_sarif() {
	local name="--junit and --sarif validate for a clean run (no failures, no results)"
	start_server record
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=4 --rounds=5 \
		--junit="$TMP/clean.xml" --sarif="$TMP/clean.sarif" --summary="$TMP/clean.json"
	stop_server
	expect_rc "$name" 0 || return
	check "$name" xmllint --noout --schema "$SCHEMAS/junit.xsd" "$TMP/clean.xml" || return
	check "$name" $CHECK junit "$TMP/clean.xml" || return
	[ "$OUT" = "tests=7 failures=0 reproduce=0" ] || { fail "$name" "junit: $OUT"; return; }
	check "$name" $CHECK sarif "$TMP/clean.sarif" "$SCHEMAS/sarif-schema-2.1.0.json" || return
	[ "$OUT" = "results=0 rules=7" ] || { fail "$name" "sarif: $OUT"; return; }
	[ "$(jget "$TMP/clean.json" 'd["format"], d["exit_code"], d["failing"]')" = "('stutterfuzz-summary', 0, 0)" ] ||
		{ fail "$name" "summary: $(head -c 300 "$TMP/clean.json")"; return; }
	pass "$name"

	name="--junit and --sarif validate for a failing run (failure with record, blob, cut, reproduce)"
	ci_failing_run "$TMP/ci-fail" --junit="$TMP/fail.xml" --sarif="$TMP/fail.sarif" \
		--summary="$TMP/fail.json"
	expect_rc "$name" 1 || return
	check "$name" xmllint --noout --schema "$SCHEMAS/junit.xsd" "$TMP/fail.xml" || return
	check "$name" $CHECK junit "$TMP/fail.xml" || return
	case "$OUT" in "tests=7 failures=1 reproduce="[1-9]*) ;; *) fail "$name" "junit: $OUT"; return ;; esac
	grep -q 'record: .*ci-fail/refused-' "$TMP/fail.xml" && grep -q 'cut [0-9+]* (' "$TMP/fail.xml" ||
		{ fail "$name" "failure text lacks record or cut: $(grep -A3 '<failure' "$TMP/fail.xml")"; return; }
	check "$name" $CHECK sarif "$TMP/fail.sarif" "$SCHEMAS/sarif-schema-2.1.0.json" || return
	local distinct
	distinct=$(jget "$TMP/fail.json" 'len(d["distinct_findings"])')
	[ "$OUT" = "results=$distinct rules=7" ] && [ "$distinct" -ge 1 ] ||
		{ fail "$name" "sarif: $OUT, distinct findings in the summary: $distinct"; return; }
	[ "$(jget "$TMP/fail.sarif" 'sorted({(r["ruleId"], r["level"]) for r in d["runs"][0]["results"]} - {("reset", "warning")})')" = "[('refused', 'error')]" ] ||
		{ fail "$name" "levels: a --fail-on kind is no error, or a counted one no warning"; return; }
	pass "$name ($distinct distinct)"
}

# --- output files: checked before the run, write errors at the end -----------------
t_ci_output_errors() {
	local opt name
	start_server record --no-data
	for opt in --junit --sarif; do
		name="$opt=/dev/full: the write error is reported, exit 3"
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --rounds=2 "$opt=/dev/full"
		expect_rc "$name" 3 && expect_err "$name" "^stutterfuzz: $opt /dev/full: write failed: No space left on device" &&
			pass "$name"
		name="$opt in a missing directory: exit 2 before the run"
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --rounds=2 "$opt=$TMP/no/such/dir/x"
		expect_rc "$name" 2 && expect_err "$name" "^stutterfuzz: $opt $TMP/no/such/dir/x: " &&
			! grep -q '^Summary:' "$TMP/err" && pass "$name"
	done
	stop_server
}

# --- the findings dir keeps stats lines and the summary ----------------------------
t_ci_findings_dir() {
	local name="--findings-dir keeps JSON stats lines (text stats format) and the summary"
	local fd=$TMP/ci-keep
	rm -rf "$fd"
	start_server record
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=4 --duration=1s \
		--stats-interval=100ms --findings-dir="$fd"
	stop_server
	expect_rc "$name" 0 || return
	expect_err "$name" '^Stats: rounds=' || return
	local stats id
	stats=$(ls "$fd"/stats-*.jsonl 2>/dev/null)
	id=${stats##*/stats-}; id=${id%.jsonl}
	[ -s "$stats" ] && [ -s "$fd/summary-$id.json" ] && [ -s "$fd/run-$id.json" ] ||
		{ fail "$name" "files: $(ls "$fd")"; return; }
	check "$name" python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)["frags/s"]' "$stats" || return
	[ "$(jget "$fd/summary-$id.json" 'd["run_id"], len(d["corpus"]), d["corpus"][1]["cuts_possible"]')" = "('$id', 4, 1999)" ] ||
		{ fail "$name" "summary: $(jget "$fd/summary-$id.json" 'd.get("run_id"), d.get("corpus")')"; return; }
	pass "$name ($(wc -l <"$stats") lines)"
}

# --- merge: shards, a directory with its own copy ---------------------------------
t_ci_merge() {
	local name="merge of two shards: findings added, records deduplicated, exit 1"
	local k
	start_server reset
	for k in 0 1; do
		rm -rf "$TMP/shard$k"
		sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=$((k + 5)) \
			--rounds=40 --num-conns=4 --shard=$k/2 --fail-on=reset \
			--findings-dir="$TMP/shard$k" -q
		expect_rc "$name (shard $k)" 1 || { stop_server; return; }
	done
	stop_server
	rm -rf "$TMP/merged"
	sf merge --output="$TMP/merged" --junit="$TMP/merged.xml" --sarif="$TMP/merged.sarif" \
		"$TMP/shard0" "$TMP/shard1"
	expect_rc "$name" 1 || return
	expect_err "$name" '^Merged 2 runs from 2 directories' || return
	local m=$TMP/merged/summary.json want got
	want=$(( $(jget "$TMP"/shard0/summary-*.json 'd["findings"]["reset"]') + \
		$(jget "$TMP"/shard1/summary-*.json 'd["findings"]["reset"]') ))
	got=$(jget "$m" 'd["findings"]["reset"], sum(f["count"] for f in d["distinct_findings"]), len(d["distinct_findings"]) == len([f for f in __import__("os").listdir(sys.argv[1].rsplit("/",1)[0]) if f.startswith("reset-")]), sorted(b["blob"] for b in d["corpus"])')
	[ "$got" = "($want, $want, True, ['get', 'random', 'set', 'zero'])" ] ||
		{ fail "$name" "merged: $got, wanted $want resets in all"; return; }
	check "$name" xmllint --noout --schema "$SCHEMAS/junit.xsd" "$TMP/merged.xml" || return
	check "$name" $CHECK sarif "$TMP/merged.sarif" "$SCHEMAS/sarif-schema-2.1.0.json" || return
	pass "$name ($want resets)"

	name="merge of a directory with its own copy counts nothing twice"
	rm -rf "$TMP/copy" "$TMP/merged2" "$TMP/merged3"
	cp -r "$TMP/shard0" "$TMP/copy"
	sf merge --output="$TMP/merged2" "$TMP/shard0" "$TMP/copy"
	expect_rc "$name" 1 || return
	want=$(jget "$TMP"/shard0/summary-*.json 'd["findings"]["reset"], d["counters"]["fragments"], len(d["distinct_findings"])')
	got=$(jget "$TMP/merged2/summary.json" 'd["findings"]["reset"], d["counters"]["fragments"], len(d["distinct_findings"])')
	[ "$got" = "$want" ] || { fail "$name" "merged $got, one shard $want"; return; }
	sf merge --output="$TMP/merged3" "$TMP/merged2" "$TMP/shard0"
	got=$(jget "$TMP/merged3/summary.json" 'd["findings"]["reset"], d["counters"]["fragments"], len(d["distinct_findings"])')
	[ "$got" = "$want" ] || { fail "$name" "merge of a merge: $got, one shard $want"; return; }
	pass "$name"
}

# --- merge: bad inputs -------------------------------------------------------------
t_ci_merge_bad() {
	local name="merge of a clean run's directory: exit 0"
	start_server record
	rm -rf "$TMP/cleanfd" "$TMP/mclean"
	sf --blob-dir="$CORPUS" --host=127.0.0.1 --port="$PORT" --seed=4 --rounds=3 \
		--findings-dir="$TMP/cleanfd" -q
	stop_server
	sf merge --output="$TMP/mclean" "$TMP/cleanfd"
	expect_rc "$name" 0 && expect_err "$name" "Result: clean; exit 0" || return
	pass "$name"

	name="merge: bad inputs are exit 2 naming the directory or record, nothing written"
	mkdir -p "$TMP/empty" "$TMP/badrec"
	: >"$TMP/afile"
	rm -rf "$TMP/mb"
	sf merge --output="$TMP/mb" "$TMP/empty"
	expect_rc "$name (empty dir)" 2 && expect_err "$name" "empty: not a findings directory" || return
	sf merge --output="$TMP/mb" "$TMP/nonexistent"
	expect_rc "$name (missing)" 2 && expect_err "$name" "nonexistent: No such file" || return
	sf merge --output="$TMP/mb" "$TMP/afile"
	expect_rc "$name (file)" 2 && expect_err "$name" "afile: not a directory" || return
	printf '{"format":"stutterfuzz-finding","format_version":1' >"$TMP/badrec/reset-x.json"
	sf merge --output="$TMP/mb" "$TMP/cleanfd" "$TMP/badrec"
	expect_rc "$name (truncated record)" 2 && expect_err "$name" "badrec/reset-x.json: " || return
	[ ! -e "$TMP/mb" ] || { fail "$name" "a failed merge wrote $(ls "$TMP/mb" | head -3)"; return; }
	sf merge "$TMP/cleanfd"
	expect_rc "$name (no --output)" 2 && expect_err "$name" "--output=DIR is required" || return
	sf merge --output="$TMP/mb"
	expect_rc "$name (no input)" 2 || return
	sf merge --output="$TMP/mb" --fail-on=bogus "$TMP/cleanfd"
	expect_rc "$name (--fail-on)" 2 || return
	pass "$name"
}

# --- merge and report check every file they read: one line, exit 2 ------------------
# ci_bad_case NAME DIR REGEX: merge and report of DIR both fail with exit 2
# and one line on stderr matching REGEX; the merge writes nothing.
ci_bad_case() {
	local name=$1 dir=$2 re=$3 cmd
	for cmd in merge report; do
		rm -rf "$TMP/mbad" "$TMP/rbad.html"
		if [ "$cmd" = merge ]; then
			sf merge --output="$TMP/mbad" "$dir"
		else
			sf report "$dir" --output="$TMP/rbad.html"
		fi
		expect_rc "$cmd: $name" 2 || return 1
		expect_err "$cmd: $name" "^stutterfuzz $cmd: $re\$" || return 1
		[ "$(wc -l <"$TMP/err")" = 1 ] || { fail "$cmd: $name" "more than one line" "$(cat "$TMP/err")"; return 1; }
		[ ! -e "$TMP/mbad" ] && [ ! -e "$TMP/rbad.html" ] ||
			{ fail "$cmd: $name" "it wrote its output"; return 1; }
	done
}

# ci_bad_copy: a fresh copy of the failing run's directory in $TMP/bad; sets
# RUNID.
ci_bad_copy() {
	rm -rf "$TMP/bad"
	cp -r "$TMP/ci-badsrc" "$TMP/bad"
	RUNID=$(ls "$TMP/bad"/run-*.json); RUNID=${RUNID##*/run-}; RUNID=${RUNID%.json}
}

t_ci_bad_files() {
	local name="merge and report: a corrupt run index, summary or stats file is exit 2, one line naming it"
	ci_failing_run "$TMP/ci-badsrc" --stats-interval=100ms
	expect_rc "$name (run)" 1 || return
	local b=$TMP/bad
	ci_bad_copy
	sf merge --output="$TMP/mgood" "$b"
	expect_rc "$name (the copy merges)" 1 || return

	ci_bad_copy; echo '{"format":"stutterfuzz-run",' >"$b/run-$RUNID.json"
	ci_bad_case "truncated run index" "$b" ".*/bad/run-$RUNID\.json: not JSON: .*" || return
	ci_bad_copy; edit_json "$b/run-$RUNID.json" 'd["records"][0]["count"] = "many"'
	ci_bad_case "run index with a count that is not one" "$b" \
		".*/bad/run-$RUNID\.json: 'records' entry 1: 'count' is not a count" || return
	ci_bad_copy; edit_json "$b/run-$RUNID.json" 'd["records"][0]["file"] = "../../etc/passwd"'
	ci_bad_case "run index naming a path" "$b" ".*/bad/run-$RUNID\.json: 'records' entry 1: 'file' is not a file name" ||
		return
	ci_bad_copy; edit_json "$b/run-$RUNID.json" 'd["format"] = "other"'
	ci_bad_case "run index of another format" "$b" ".*/bad/run-$RUNID\.json: not a stutterfuzz run index" || return
	ci_bad_copy; edit_json "$b/summary-$RUNID.json" 'd["target"] = 5'
	ci_bad_case "summary with a target that is not text" "$b" ".*/bad/summary-$RUNID\.json: \"target\" is not a string" ||
		return
	ci_bad_copy; edit_json "$b/summary-$RUNID.json" 'd["corpus"] = {}'
	ci_bad_case "summary with a corpus that is not a list" "$b" \
		".*/bad/summary-$RUNID\.json: \"corpus\" is not an array" || return
	ci_bad_copy; printf '{"seconds":0.1}\n{"seconds":0.1,"frags/s":-4}\n{"seconds":0.1}\n' >"$b/stats-$RUNID.jsonl"
	ci_bad_case "stats line with a negative rate" "$b" \
		".*/bad/stats-$RUNID\.jsonl: line 2 is not a statistics line: \"frags/s\" is not a number >= 0" || return
	ci_bad_copy; printf '{"seconds":0.1}\n\nnot json\n' >>"$b/stats-$RUNID.jsonl"
	ci_bad_case "stats line that is not JSON" "$b" \
		".*/bad/stats-$RUNID\.jsonl: line [0-9]+ is not a statistics line: not JSON: .*" || return
	ci_bad_copy; rm "$b/stats-$RUNID.jsonl"; mkfifo "$b/stats-$RUNID.jsonl"
	ci_bad_case "stats FIFO" "$b" ".*/bad/stats-$RUNID\.jsonl: not a regular file" || return
	ci_bad_copy; rm "$b/run-$RUNID.json"; mkfifo "$b/run-$RUNID.json"
	ci_bad_case "run index FIFO" "$b" ".*/bad/run-$RUNID\.json: not a regular file" || return
	ci_bad_copy; rm "$b/run-$RUNID.json"; ln -s "run-$RUNID.json" "$b/run-$RUNID.json"
	ci_bad_case "run index symlink loop" "$b" ".*/bad/run-$RUNID\.json: Too many levels of symbolic links" || return
	ci_bad_copy; rm "$b/summary-$RUNID.json"; ln -s /dev/zero "$b/summary-$RUNID.json"
	ci_bad_case "endless summary (/dev/zero)" "$b" ".*/bad/summary-$RUNID\.json: not a regular file" || return
	ci_bad_copy; truncate -s 300M "$b/stats-$RUNID.jsonl"
	ci_bad_case "huge stats file" "$b" ".*/bad/stats-$RUNID\.jsonl: larger than the 256 MiB it may be" || return
	rm -rf "$b"
	pass "$name"
}

# edit_json FILE PYTHON: FILE's JSON with PYTHON applied to d, in place.
edit_json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(d))' "$1" "$2"
}

# --- the report -----------------------------------------------------------------------
t_ci_report() {
	local name="report: one page with SVG plots, an entry per finding, escaped, nothing external"
	local odd=$TMP/oddcorpus
	rm -rf "$odd"; mkdir -p "$odd"
	printf 'GET /CRASH HTTP/1.1\r\n\r\n' >"$odd/<b>&amp;crash"
	printf 'PING\r\n' >"$odd/ping"
	rm -rf "$TMP/ci-rep"
	start_server crash-split --token=CRASH
	sf --blob-dir="$odd" --host=127.0.0.1 --port="$PORT" --seed=1 --findings-dir="$TMP/ci-rep" \
		--stats-interval=100ms -q
	wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	expect_rc "$name (run)" 1 || return
	sf report "$TMP/ci-rep" --output="$TMP/report.html"
	expect_rc "$name" 0 || return
	check "$name" $CHECK report "$TMP/report.html" || return
	local distinct
	distinct=$(ls "$TMP/ci-rep" | grep -Evc '^(run|summary|stats)-|^target\.log$')
	[ "$OUT" = "plots=3 findings=$distinct blobs=2 reproduce=$distinct" ] ||
		{ fail "$name" "report: $OUT, distinct findings: $distinct"; return; }
	grep -q '&lt;b&gt;&amp;amp;crash' "$TMP/report.html" && ! grep -q '<b>&amp;crash' "$TMP/report.html" ||
		{ fail "$name" "the blob name is not escaped"; return; }
	sf report "$TMP/empty" --output="$TMP/r2.html"
	expect_rc "$name (not a findings dir)" 2 || return
	sf report --output="$TMP/r2.html"
	expect_rc "$name (no dir)" 2 || return
	pass "$name ($distinct findings)"
}

# --- GitHub Actions: annotations and the step summary ---------------------------------
t_ci_github() {
	local name="GITHUB_ACTIONS=true: an escaped annotation per distinct finding; step summary table"
	local odd=$TMP/ghcorpus
	rm -rf "$odd"; mkdir -p "$odd"
	printf 'GET / HTTP/1.1\r\n\r\n' >"$odd/a,b:c%d"
	: >"$TMP/step.md"
	start_server reset
	GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$TMP/step.md" \
		sf --blob-dir="$odd" --host=127.0.0.1 --port="$PORT" --seed=2 --rounds=30 \
		--num-conns=2 --fail-on=reset --summary="$TMP/gh.json" -q
	stop_server
	expect_rc "$name" 1 || return
	check "$name" $CHECK annotations "$TMP/out" || return
	local distinct
	distinct=$(jget "$TMP/gh.json" 'min(len(d["distinct_findings"]), 50)')
	[ "$OUT" = "annotations=$distinct" ] || { fail "$name" "$OUT, wanted $distinct"; return; }
	grep -q '^::error title=stutterfuzz reset%3A blob a%2Cb%3Ac%25d::reset x' "$TMP/out" ||
		{ fail "$name" "title not escaped: $(head -1 "$TMP/out")"; return; }
	grep -q '%0Areproduce: stutterfuzz --blob-dir=' "$TMP/out" ||
		{ fail "$name" "message lacks an escaped newline and reproduce line"; return; }
	grep -q '^| reset | [1-9][0-9]* | [1-9][0-9]* | \*\*fail\*\* |$' "$TMP/step.md" &&
		grep -q '^| Kind | Blob or detail | Cut | Count | Record | Reproduce |$' "$TMP/step.md" &&
		grep -q 'a,b:c%d' "$TMP/step.md" ||
		{ fail "$name" "step summary: $(head -12 "$TMP/step.md")"; return; }
	GITHUB_ACTIONS=false sf --blob-dir="$odd" --host=127.0.0.1 --port=1 --seed=2 --rounds=1 -q
	if grep -q '^::' "$TMP/out"; then fail "$name" "annotations outside GitHub Actions"; return; fi
	pass "$name ($distinct)"
}

# --- examples/ci: the workflow parses, the shard script runs and merges -------------------
t_ci_examples() {
	local name="examples/ci: YAML parses; shards.sh runs 2 shards against exampled and merges"
	check "$name" $CHECK yaml examples/ci/github-actions.yml examples/ci/k8s-indexed-job.yaml || return
	[ "$OUT" = "parsed=2" ] || { fail "$name" "$OUT"; return; }
	grep -q 'merge --output' examples/ci/github-actions.yml &&
		grep -q -- '--shard=\$JOB_COMPLETION_INDEX/4' examples/ci/k8s-indexed-job.yaml ||
		{ fail "$name" "the examples lack the merge or the indexed shard"; return; }
	rm -rf "$TMP/shards"
	timeout -k 5 120 env SF="$SF" EXAMPLED="$BUILD/examples/exampled" SHARDS=2 DURATION=2s \
		OUT="$TMP/shards" examples/ci/shards.sh >"$TMP/out" 2>"$TMP/err"
	RC=$?
	expect_rc "$name" 1 || return
	expect_err "$name" '^Merged 2 runs from 2 directories' || return
	[ -s "$TMP/shards/merged/summary.json" ] && [ -s "$TMP/shards/junit.xml" ] &&
		[ -s "$TMP/shards/report.html" ] || { fail "$name" "outputs: $(ls -R "$TMP/shards" | head)"; return; }
	check "$name" xmllint --noout --schema "$SCHEMAS/junit.xsd" "$TMP/shards/junit.xml" || return
	pass "$name"
}

register t_ci_junit_sarif t_ci_output_errors t_ci_findings_dir t_ci_merge t_ci_merge_bad \
	t_ci_bad_files t_ci_report t_ci_github t_ci_examples
