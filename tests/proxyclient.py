#!/usr/bin/env python3
"""Clients and a small answering server for the proxy's integration tests.

  serve MODE PORTFILE     a threaded server on 127.0.0.1 (or --host):
                          echo: echo every byte; at EOF close
                          answer-close: read a line, answer it, close first
                          reset: read something, then reset the connection
                          ends: read to EOF or reset, and append "eof N" or
                          "reset N" (N bytes read) to PORTFILE.ends
  hold HOST PORT N FILE   opens N connections and keeps them until FILE
                          appears (bounded), then closes them
  seq HOST PORT N FILE    N connections one after the other, each sending
                          FILE whole and reading to EOF; prints "N done"
  sends HOST PORT N FILE  N connections one after the other, each as send
                          does (answers dropped); prints each outcome
  abort HOST PORT FILE    send FILE, wait for it to be taken, then reset
                          the connection (SO_LINGER 0 and close)
  send HOST PORT FILE OUT send FILE whole (one sendall), half-close unless
                          --no-shut, read until EOF into OUT; prints
                          "eof", "reset" (ECONNRESET) or "timeout"
  many HOST PORT N OUTDIR FILE...
                          N connections at once, connection i sends file
                          i mod len(FILE) and keeps the answer in OUTDIR/i
  push HOST PORT BYTES SECONDS
                          sends up to BYTES for at most SECONDS without
                          reading, prints how many bytes the socket took
  listen-port ERRFILE     waits (bounded) for the proxy's "Proxy listening
                          on ADDR:PORT" line and prints PORT
  trace-vs-log TRACE LOG  each connection's read sizes in the test server's
                          log equal the fragments of the proxy's trace line
                          for the same bytes; prints "N matched"
HOST "unix" takes PORT as the path of a Unix-domain stream socket (and
serve's HOST "unix:PATH" listens on one).
Every wait is bounded; only loopback addresses and Unix sockets are used.
"""
import errno
import fcntl
import hashlib
import os
import re
import socket
import socketserver
import struct
import sys
import threading
import time

TIMEOUT = 20


def dial(host, port):
    """A connected socket: TCP to host:port, or the Unix socket at port
    when host is "unix"."""
    if host == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        try:
            s.connect(port)
        except OSError:
            s.close()
            raise
        return s
    return socket.create_connection((host, int(port)), timeout=TIMEOUT)


def serve(mode, port_file, host="127.0.0.1"):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            s = self.request
            s.settimeout(TIMEOUT)
            try:
                if mode == "echo":
                    while True:
                        d = s.recv(65536)
                        if not d:
                            break
                        s.sendall(d)
                elif mode == "answer-close":
                    buf = b""
                    while b"\n" not in buf:
                        d = s.recv(65536)
                        if not d:
                            break
                        buf += d
                    line = buf.split(b"\n", 1)[0]
                    s.sendall(b"ANSWER " + hashlib.sha256(line).hexdigest()
                              .encode() + b"\n")
                elif mode == "ends":
                    n, how = 0, "eof"
                    try:
                        while True:
                            d = s.recv(65536)
                            if not d:
                                break
                            n += len(d)
                    except ConnectionResetError:
                        how = "reset"
                    with open(port_file + ".ends", "a") as f:
                        f.write("%s %d\n" % (how, n))
                elif mode == "reset":
                    s.recv(65536)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            s.close()

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        request_queue_size = 1024
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class UnixServer(socketserver.ThreadingUnixStreamServer):
        request_queue_size = 1024
        daemon_threads = True

    if host.startswith("unix:"):
        path = host[5:]
        if os.path.exists(path):
            os.unlink(path)
        srv = UnixServer(path, Handler)
        port = path
    else:
        srv = Server((host, 0), Handler)
        port = srv.server_address[1]
    with open(port_file + ".tmp", "w") as f:
        f.write("%s\n" % port)
    os.rename(port_file + ".tmp", port_file)
    threading.Timer(90, srv.shutdown).start()
    srv.serve_forever()


def send_one(host, port, data, shut=True):
    """Sends data whole, reads until EOF; returns (answer, how)."""
    got = []
    how = "eof"
    s = dial(host, port)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got.append(d)
    except socket.timeout:
        how = "timeout"
    except (ConnectionResetError, BrokenPipeError):
        how = "reset"
    except OSError as e:
        # A shutdown after the peer reset us (ENOTCONN): a reset too.
        if e.errno != errno.ENOTCONN:
            raise
        how = "reset"
    finally:
        s.close()
    return b"".join(got), how


def cmd_send(host, port, path, out, shut=True):
    with open(path, "rb") as f:
        data = f.read()
    try:
        answer, how = send_one(host, port, data, shut)
    except (ConnectionRefusedError, FileNotFoundError):
        answer, how = b"", "refused"
    except ConnectionResetError:
        answer, how = b"", "reset"
    with open(out, "wb") as f:
        f.write(answer)
    print(how)


def cmd_many(host, port, n, outdir, files):
    blobs = []
    for p in files:
        with open(p, "rb") as f:
            blobs.append(f.read())
    errors = []

    def one(i):
        try:
            answer, how = send_one(host, port, blobs[i % len(blobs)])
            with open(os.path.join(outdir, str(i)), "wb") as f:
                f.write(answer)
            if how != "eof":
                errors.append("%d: %s" % (i, how))
        except OSError as e:
            errors.append("%d: %s" % (i, e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    if errors:
        print("errors: " + "; ".join(errors[:5]))
        sys.exit(1)
    print("%d answered" % n)


def cmd_hold(host, port, n, path):
    held = []
    for _ in range(n):
        try:
            held.append(dial(host, port))
        except OSError:
            break
    print("holding %d" % len(held), flush=True)
    deadline = time.time() + TIMEOUT
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.02)
    for s in held:
        s.close()


def cmd_seq(host, port, n, path):
    with open(path, "rb") as f:
        data = f.read()
    for i in range(n):
        _, how = send_one(host, port, data)
        if how != "eof":
            sys.exit("connection %d: %s" % (i, how))
    print("%d done" % n)


def cmd_sends(host, port, n, path):
    with open(path, "rb") as f:
        data = f.read()
    hows = []
    for _ in range(n):
        try:
            hows.append(send_one(host, port, data)[1])
        except (ConnectionRefusedError, FileNotFoundError):
            hows.append("refused")
        except ConnectionResetError:
            hows.append("reset")
    print(" ".join(hows))


def cmd_abort(host, port, path):
    with open(path, "rb") as f:
        data = f.read()
    s = dial(host, port)
    s.sendall(data)
    # Until the peer acknowledged everything (nothing left in the send
    # queue), bounded; then the reset.
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        outq = struct.unpack("i", fcntl.ioctl(s.fileno(), 0x5411,
                                              b"\0\0\0\0"))[0]
        if outq == 0:
            break
        time.sleep(0.01)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack("ii", 1, 0))
    s.close()
    print("aborted")


def cmd_push(host, port, total, seconds):
    s = dial(host, port)
    s.setblocking(False)
    chunk = b"p" * 65536
    sent = 0
    deadline = time.time() + seconds
    while sent < total and time.time() < deadline:
        try:
            sent += s.send(chunk[:min(len(chunk), total - sent)])
        except BlockingIOError:
            time.sleep(0.01)
    print(sent)
    s.close()


def cmd_listen_port(errfile):
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        try:
            with open(errfile) as f:
                m = re.search(r"Proxy listening on \[?[0-9a-f.:]*\]?:(\d+)",
                              f.read())
            if m:
                print(m.group(1))
                return
        except OSError:
            pass
        time.sleep(0.02)
    sys.exit("no 'Proxy listening' line in %s" % errfile)


def cmd_trace_vs_log(trace, log):
    import json
    want = {}
    with open(trace) as f:
        for line in f:
            t = json.loads(line)
            want.setdefault(t["blob"], []).append(t["fragments"])
    matched = 0
    bad = []
    with open(log) as f:
        for line in f:
            w = line.split()
            if not w or w[0] != "conn" or w[3] == "0":
                continue
            sizes = [int(x) for x in w[7].split(",")]
            data = bytes.fromhex(w[9])
            name = hashlib.sha256(data).hexdigest()
            if name in want and sizes in want[name]:
                matched += 1
            else:
                bad.append("reads %s, cut %s" % (sizes, want.get(name)))
    if bad:
        print("%d matched; mismatches: %s" % (matched, "; ".join(bad[:3])))
        sys.exit(1)
    print("%d matched" % matched)


def main():
    a = sys.argv[1:]
    if a[0] == "serve":
        serve(a[1], a[2], *(a[3:4]))
    elif a[0] == "send":
        shut = "--no-shut" not in a
        a = [x for x in a if x != "--no-shut"]
        cmd_send(a[1], a[2], a[3], a[4], shut)
    elif a[0] == "many":
        cmd_many(a[1], a[2], int(a[3]), a[4], a[5:])
    elif a[0] == "hold":
        cmd_hold(a[1], a[2], int(a[3]), a[4])
    elif a[0] == "seq":
        cmd_seq(a[1], a[2], int(a[3]), a[4])
    elif a[0] == "sends":
        cmd_sends(a[1], a[2], int(a[3]), a[4])
    elif a[0] == "abort":
        cmd_abort(a[1], a[2], a[3])
    elif a[0] == "push":
        cmd_push(a[1], a[2], int(a[3]), float(a[4]))
    elif a[0] == "listen-port":
        cmd_listen_port(a[1])
    elif a[0] == "trace-vs-log":
        cmd_trace_vs_log(a[1], a[2])
    else:
        sys.exit("unknown command " + a[0])


if __name__ == "__main__":
    main()
