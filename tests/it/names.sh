#!/usr/bin/env bash
# Host names: localhost and names under .localhost are the loopback
# addresses without the resolver (RFC 6761), so they work on machines whose
# /etc/hosts is empty or missing (issue 9, section 5).

# in_empty_hosts CMD...: runs CMD in a private mount namespace where
# /etc/hosts is an empty file (bind mount), or as it is on a machine whose
# /etc/hosts has no localhost; sets RC. Returns 1 (skip) when mount
# namespaces are not permitted here.
in_empty_hosts() {
	: >"$TMP/hosts.empty"
	if ! grep -qs localhost /etc/hosts; then	# a machine without it
		timeout -k 5 60 "$@" 2>"$TMP/err" >"$TMP/out"
		RC=$?
		return 0
	fi
	unshare -m true 2>/dev/null || return 1
	# shellcheck disable=SC2016
	timeout -k 5 60 unshare -m sh -c '
		if [ -e /etc/hosts ]; then mount --bind "$1" /etc/hosts || exit 99; fi
		[ ! -s /etc/hosts ] || exit 98
		shift; exec "$@"' sh "$TMP/hosts.empty" "$@" 2>"$TMP/err" >"$TMP/out"
	RC=$?
	return 0
}

t_localhost_no_hosts() {
	local name host
	start_server record --no-data	# on 127.0.0.1
	for host in localhost svc.localhost LOCALHOST.; do
		name="--host=$host with an empty /etc/hosts reaches 127.0.0.1"
		if ! in_empty_hosts "$SF" --blob-dir="$CORPUS" --host="$host" --port="$PORT" --rounds=2; then
			echo "SKIP: $name (unshare -m is not permitted here)"
			break
		fi
		if [ "$RC" = 98 ] || [ "$RC" = 99 ]; then
			fail "$name" "could not hide /etc/hosts (status $RC)"
			continue
		fi
		expect_rc "$name" 0 && expect_err "$name" "^Target 127\.0\.0\.1:$PORT \(loopback\)" && pass "$name"
	done
	stop_server
	name="a supervised target on the default host with an empty /etc/hosts"
	in_empty_hosts "$SF" --blob-dir="$CORPUS" --port="$PORT" --rounds=2 --startup-timeout=20s -- \
		"$SERVER" --mode=record --no-data --port="$PORT" --max-seconds=60 || return 0
	expect_rc "$name" 0 && expect_err "$name" "^Target ready at 127\.0\.0\.1:$PORT" && pass "$name"
}

t_invalid_name() {
	local name="a name under .invalid fails at once without the resolver"
	sf --blob-dir="$CORPUS" --host=x.invalid --port=1
	expect_rc "$name" 2 && expect_err "$name" "^stutterfuzz: --host x.invalid: a name under \.invalid never resolves" &&
		pass "$name"
}

register t_localhost_no_hosts t_invalid_name
