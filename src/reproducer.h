/*
 * Reproducers: a minimal case as a standalone python3 script (standard
 * library only, no stutterfuzz needed) that a bug report can carry. Pure:
 * it writes text.
 */
#ifndef STUTTERFUZZ_REPRODUCER_H
#define STUTTERFUZZ_REPRODUCER_H

#include <stddef.h>

struct jbuf;
struct record;

/* Appends to b a python3 script, run as `FILE HOST PORT`, that opens rec's
 * connections, sends each fragment with one send() on a TCP_NODELAY
 * socket and waits until the server read it (SIOCOUTQ down to 0, then the
 * server's Recv-Q down to 0 through NETLINK_SOCK_DIAG, or a short pause
 * where that cannot be asked), shuts the write side, and checks whether
 * the server still accepts connections. It exits 1 if the server went away or reset
 * a connection, 0 if not, 2 on a usage or connect error. about is one
 * line of text for the header comment (what the case reproduces). */
void	reproducer_write(const struct record *rec, const char *about,
	    struct jbuf *b);

/* Appends n bytes as a python bytes literal: b"..." with \r, \n, \t,
 * \\, \" and \xNN for anything else that is not printable ASCII. */
void	reproducer_bytes(struct jbuf *b, const unsigned char *p, size_t n);

#endif
