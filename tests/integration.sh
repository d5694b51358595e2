#!/usr/bin/env bash
# Integration tests: the real stutterfuzz binary against real servers on
# loopback (tests/servers/). Every run is bounded by `timeout`; ports are
# chosen by the kernel at run time. Each tests/it/NAME.sh defines test
# functions and registers them; TESTS="t_a t_b" runs only those, and
# TEST_GROUPS="core hangs" only the tests of those files. Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

ALL_TESTS=()
# register NAME...: adds test functions to the run, in order.
register() { ALL_TESTS+=("$@"); }

. tests/lib.sh
for f in tests/it/*.sh; do
	g=$(basename "$f" .sh)
	case " ${TEST_GROUPS:-$g} " in *" $g "*) . "$f" ;; esac
done

for t in ${TESTS:-${ALL_TESTS[@]}}; do
	$t
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
