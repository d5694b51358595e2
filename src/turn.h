/*
 * Turns: where one message of a blob ends and the next must wait for the
 * server's reply (protocols that forbid pipelining).
 *
 * A turn rule is data: TURN_NONE (the blob is one message), TURN_DELIM (a
 * message ends right after each occurrence of a delimiter, e.g. "\r\n"); a
 * length-prefixed rule (a header of `width` bytes at `offset` giving the
 * length of what follows) fits the same struct later. Pure functions.
 */
#ifndef STUTTERFUZZ_TURN_H
#define STUTTERFUZZ_TURN_H

#include <stddef.h>

/* Longest delimiter --turns takes. */
#define TURN_DELIM_MAX	32

enum turn_rule {
	TURN_NONE,		/* the blob is one message: no turns */
	TURN_DELIM,		/* messages end after each delimiter */
	TURN__COUNT
};

struct turn_spec {
	enum turn_rule	rule;
	unsigned char	delim[TURN_DELIM_MAX];	/* TURN_DELIM */
	size_t		delim_len;
};

/* Parses --turns=DELIM (C escapes: \r \n \t \0 \\ \xHH \NNN ...) into *spec.
 * Returns 0, or -1 with *cause naming the option and the reason. */
int		 turn_parse(const char *arg, struct turn_spec *spec,
		     char **cause);

/* Decodes the C escapes of s into out (size bytes), *len bytes written.
 * Returns 0, or -1 with *cause ("bad escape '\q' at byte 3"). */
int		 turn_unescape(const char *s, unsigned char *out, size_t size,
		     size_t *len, char **cause);

/* The end (offset just past it) of the message of data (len bytes) that
 * starts at `from`; len when the rest is one message. */
size_t		 turn_message_end(const struct turn_spec *spec,
		     const unsigned char *data, size_t len, size_t from);

/* How many messages the blob holds (0 for an empty blob). */
size_t		 turn_count(const struct turn_spec *spec,
		     const unsigned char *data, size_t len);

/* Name of a rule ("none", "delim"), or NULL. */
const char	*turn_rule_name(enum turn_rule r);

#endif
