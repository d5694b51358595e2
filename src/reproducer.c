/* Reproducers: a minimal case as a standalone python3 script. */
#include <inttypes.h>
#include <string.h>

#include "corpus.h"
#include "json.h"
#include "record.h"
#include "reproducer.h"
#include "util.h"

/* Bytes per line of a long fragment's literal. */
#define LITERAL_LINE	48

/* What the script does, after its data. */
static const char script_body[] =
"\n"
"\n"
"def outq(s):\n"
"    # Bytes this socket sent that the server's kernel has not acknowledged\n"
"    # yet (SIOCOUTQ, the same number as TIOCOUTQ).\n"
"    buf = fcntl.ioctl(s.fileno(), getattr(termios, \"TIOCOUTQ\", 0x5411),\n"
"                      b\"\\0\\0\\0\\0\")\n"
"    return struct.unpack(\"i\", buf)[0]\n"
"\n"
"\n"
"def server_unread(s):\n"
"    # Bytes that reached the server's end of this connection but that the\n"
"    # server has not read() yet: its Recv-Q (what `ss` shows), asked of\n"
"    # the kernel through NETLINK_SOCK_DIAG. Works where the server runs on\n"
"    # this machine; None where it cannot be asked. A Unix socket needs no\n"
"    # asking: its SIOCOUTQ is 0 only once the server read everything.\n"
"    if s.family == socket.AF_UNIX:\n"
"        return 0\n"
"    try:\n"
"        mine, peer = s.getsockname(), s.getpeername()\n"
"        fam = s.family\n"
"        src = socket.inet_pton(fam, peer[0]).ljust(16, b\"\\0\")\n"
"        dst = socket.inet_pton(fam, mine[0]).ljust(16, b\"\\0\")\n"
"        # struct inet_diag_req_v2 for the server's socket (it is bound to\n"
"        # the address we sent to; its peer is us); no cookie.\n"
"        req = (struct.pack(\"=BBBBI\", fam, socket.IPPROTO_TCP, 0, 0,\n"
"                           0xffffffff) +\n"
"               struct.pack(\"!HH\", peer[1], mine[1]) + src + dst +\n"
"               struct.pack(\"=III\", 0, 0xffffffff, 0xffffffff))\n"
"        # struct nlmsghdr: SOCK_DIAG_BY_FAMILY (20), NLM_F_REQUEST (1).\n"
"        msg = struct.pack(\"=IHHII\", 16 + len(req), 20, 1, 1, 0) + req\n"
"        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4) as nl:\n"
"            nl.settimeout(1)\n"
"            nl.send(msg)\n"
"            reply = nl.recv(65536)\n"
"    except (AttributeError, OSError, ValueError):\n"
"        return None\n"
"    if len(reply) < 80 or struct.unpack_from(\"=H\", reply, 4)[0] != 20:\n"
"        return None\n"
"    if reply[17] == 10:  # TCP_LISTEN: not a connection's socket\n"
"        return None\n"
"    # struct inet_diag_msg after the header: 4 bytes, the 48-byte id,\n"
"    # idiag_expires, then idiag_rqueue.\n"
"    return struct.unpack_from(\"=I\", reply, 16 + 4 + 48 + 4)[0]\n"
"\n"
"\n"
"def wait_taken(s):\n"
"    # A fragment reaches the server's parser as its own read() only if the\n"
"    # server read the one before first. Waits until the server's kernel\n"
"    # acknowledged every byte sent (SIOCOUTQ is 0: they are in its receive\n"
"    # queue) and the server read them all (its Recv-Q is 0, through\n"
"    # NETLINK_SOCK_DIAG), as stutterfuzz's read pacing does. Where the\n"
"    # Recv-Q cannot be asked (a server on another machine), waits for the\n"
"    # acknowledgement and then PAUSE seconds instead.\n"
"    deadline = time.monotonic() + 5\n"
"    while outq(s) > 0 and time.monotonic() < deadline:\n"
"        time.sleep(0.0005)\n"
"    while time.monotonic() < deadline:\n"
"        unread = server_unread(s)\n"
"        if unread is None:\n"
"            time.sleep(PAUSE)\n"
"            return\n"
"        if unread == 0:\n"
"            return\n"
"        time.sleep(0.0005)\n"
"\n"
"\n"
"def connect(target, timeout):\n"
"    # TARGET is [HOST, PORT], or [PATH] of a Unix socket.\n"
"    if len(target) == 1:\n"
"        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
"        s.settimeout(timeout)\n"
"        try:\n"
"            s.connect(target[0])\n"
"        except OSError:\n"
"            s.close()\n"
"            raise\n"
"        return s\n"
"    s = socket.create_connection((target[0], int(target[1])), timeout)\n"
"    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
"    return s\n"
"\n"
"\n"
"def alive(target):\n"
"    try:\n"
"        connect(target, 2).close()\n"
"        return True\n"
"    except OSError:\n"
"        return False\n"
"\n"
"\n"
"def main():\n"
"    if len(sys.argv) not in (2, 3):\n"
"        print(\"usage: %s HOST PORT | %s SOCKET-PATH\" % (sys.argv[0],\n"
"              sys.argv[0]), file=sys.stderr)\n"
"        return 2\n"
"    target = sys.argv[1:]\n"
"    if len(target) == 2 and not (target[1].isdigit() and\n"
"                                 0 < int(target[1]) < 65536):\n"
"        print(\"%s: port %r is not a number from 1 to 65535\" %\n"
"              (sys.argv[0], target[1]), file=sys.stderr)\n"
"        return 2\n"
"    socks, reset = [], False\n"
"    for i in range(len(CONNS)):\n"
"        try:\n"
"            s = connect(target, 5)\n"
"        except OSError as e:\n"
"            print(\"connection %d: cannot connect: %s\" % (i + 1, e))\n"
"            return 2\n"
"        socks.append(s)\n"
"    # All connections at once, as stutterfuzz replays them: fragment k\n"
"    # of each in turn.\n"
"    for k in range(max(len(c) for c in CONNS)):\n"
"        for i, (s, frags) in enumerate(zip(socks, CONNS)):\n"
"            if s is None or k >= len(frags):\n"
"                continue\n"
"            try:\n"
"                s.sendall(frags[k])  # small: one send() on loopback\n"
"                wait_taken(s)\n"
"            except OSError as e:\n"
"                print(\"connection %d: fragment %d: %s\" % (i + 1, k + 1, e))\n"
"                reset, socks[i] = True, None\n"
"                s.close()\n"
"    for i, s in enumerate(socks):\n"
"        if s is None:\n"
"            continue\n"
"        try:\n"
"            s.shutdown(socket.SHUT_WR)\n"
"            s.settimeout(2)\n"
"            while s.recv(65536):\n"
"                pass\n"
"        except socket.timeout:\n"
"            pass\n"
"        except OSError as e:\n"
"            print(\"connection %d: %s\" % (i + 1, e))\n"
"            reset = True\n"
"        s.close()\n"
"    # Give a dying server time to die.\n"
"    deadline = time.monotonic() + SETTLE\n"
"    up = alive(target)\n"
"    while up and time.monotonic() < deadline:\n"
"        time.sleep(0.05)\n"
"        up = alive(target)\n"
"    if not up:\n"
"        print(\"reproduced: the server no longer accepts connections\")\n"
"        return 1\n"
"    if reset:\n"
"        print(\"reproduced: the server reset a connection\")\n"
"        return 1\n"
"    print(\"not reproduced: the server still accepts connections\")\n"
"    return 0\n"
"\n"
"\n"
"if __name__ == \"__main__\":\n"
"    sys.exit(main())\n";

/* Appends bytes as a python bytes literal. */
void
reproducer_bytes(struct jbuf *b, const unsigned char *p, size_t n)
{
	jbuf_append(b, "b\"", 2);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\' || p[i] == '"')
			jbuf_printf(b, "\\%c", p[i]);
		else if (p[i] == '\r')
			jbuf_append(b, "\\r", 2);
		else if (p[i] == '\n')
			jbuf_append(b, "\\n", 2);
		else if (p[i] == '\t')
			jbuf_append(b, "\\t", 2);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			jbuf_append(b, (const char *)&p[i], 1);
		else
			jbuf_printf(b, "\\x%02x", p[i]);
	}
	jbuf_append(b, "\"", 1);
}

/* Appends text for a comment line: anything but printable ASCII becomes
 * '?', so a name cannot end the comment. */
static void
reproducer_comment(struct jbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		char	ch = *s >= 0x20 && *s < 0x7f ? *s : '?';

		jbuf_append(b, &ch, 1);
	}
}

/* Appends one fragment, long ones over several lines. */
static void
reproducer_fragment(struct jbuf *b, const unsigned char *p, size_t n)
{
	jbuf_append(b, "        ", 8);
	if (n <= LITERAL_LINE) {
		reproducer_bytes(b, p, n);
		jbuf_append(b, ",\n", 2);
		return;
	}
	jbuf_append(b, "(", 1);
	for (size_t off = 0; off < n; off += LITERAL_LINE) {
		size_t	len = n - off < LITERAL_LINE ? n - off : LITERAL_LINE;

		if (off > 0)
			jbuf_append(b, "\n         ", 10);
		reproducer_bytes(b, p + off, len);
	}
	jbuf_append(b, "),\n", 3);
}

/* Appends a python3 reproducer of rec. */
void
reproducer_write(const struct record *rec, const char *about, struct jbuf *b)
{
	jbuf_printf(b, "#!/usr/bin/env python3\n"
	    "# Reproducer written by stutterfuzz %s minimize: ",
	    STUTTERFUZZ_VERSION);
	reproducer_comment(b, about);
	jbuf_printf(b, "\n# Usage: FILE HOST PORT, or FILE SOCKET-PATH (Unix)\n"
	    "# Sends %zu connection%s with the same cuts as the minimal case:\n"
	    "# TCP_NODELAY, one send() per fragment, and before the next\n"
	    "# fragment a wait until the server read this one (wait_taken).\n"
	    "# Exit status: 1 the server went away or reset a connection,\n"
	    "# 0 it did not, 2 usage or cannot connect. Python 3 standard\n"
	    "# library only, Linux (SIOCOUTQ).\n"
	    "import fcntl\nimport socket\nimport struct\nimport sys\n"
	    "import termios\nimport time\n\n"
	    "PAUSE = 0.1    # seconds after each fragment (no Recv-Q to ask)\n"
	    "SETTLE = 1.0   # seconds to watch for the server going away\n\n"
	    "# One list of fragments per connection.\nCONNS = [\n",
	    rec->nconns, rec->nconns == 1 ? "" : "s");
	for (size_t i = 0; i < rec->nconns; i++) {
		const struct record_conn	*c = &rec->conns[i];
		size_t				 off = 0;

		jbuf_printf(b, "    [  # connection %zu: %zu byte%s, blob ",
		    i + 1, c->blob.len, c->blob.len == 1 ? "" : "s");
		reproducer_comment(b, c->blob.name);
		jbuf_append(b, "\n", 1);
		for (uint32_t k = 0; k < c->plan.close_after &&
		    k < c->plan.nfrags; k++) {
			reproducer_fragment(b, c->blob.data + off,
			    c->plan.sizes[k]);
			off += c->plan.sizes[k];
		}
		jbuf_append(b, "    ],\n", 7);
	}
	jbuf_append(b, "]", 1);
	jbuf_append(b, script_body, sizeof script_body - 1);
}
