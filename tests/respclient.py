#!/usr/bin/env python3
"""A scripted loopback client for the answer test servers.

Usage: respclient.py PORT STEP...
Steps (TEXT takes Python escapes such as \\r\\n):
  s:TEXT   send TEXT in one send()
  r:N      wait until the server's log (--log, with --log-reads; env
           RESP_LOG names it) holds N more "read " lines than at the start
  w:TEXT   wait until what came back ends with TEXT
  n:K:TEXT wait until what came back holds TEXT K times
  e        wait until the server closes
Prints what came back, escaped, on one line. Every wait is bounded (5 s);
a wait that times out exits 3 after printing what came back.
"""
import os
import socket
import sys
import time

LIMIT = 5.0


def unescape(text):
    return text.encode("latin1").decode("unicode_escape").encode("latin1")


def escape(data):
    return data.decode("latin1").encode("unicode_escape").decode("ascii")


def reads_logged():
    try:
        with open(os.environ["RESP_LOG"], encoding="latin1") as f:
            return sum(1 for line in f if line.startswith("read "))
    except OSError:
        return 0


def main():
    sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), LIMIT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = b""
    closed = False
    base = reads_logged()

    def pull(until):
        nonlocal got, closed
        end = time.monotonic() + LIMIT
        while not until() and time.monotonic() < end:
            if closed:
                time.sleep(0.01)
                continue
            sock.settimeout(max(0.01, min(0.05, end - time.monotonic())))
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if data:
                got += data
            else:
                closed = True
        return until()

    for step in sys.argv[2:]:
        kind, _, arg = step.partition(":")
        ok = True
        if kind == "s":
            try:
                sock.sendall(unescape(arg))
            except OSError:
                pass
        elif kind == "r":
            ok = pull(lambda: reads_logged() >= base + int(arg))
        elif kind == "w":
            want = unescape(arg)
            ok = pull(lambda: got.endswith(want))
        elif kind == "n":
            count, _, text = arg.partition(":")
            want = unescape(text)
            ok = pull(lambda: got.count(want) >= int(count))
        elif kind == "e":
            ok = pull(lambda: closed)
        if not ok:
            print(escape(got))
            print("timed out at step " + step, file=sys.stderr)
            sys.exit(3)
    print(escape(got))


main()
