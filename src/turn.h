/*
 * Turns: where one message of a blob ends and the next must wait for the
 * server's reply (protocols that forbid pipelining).
 *
 * A turn rule is data: TURN_NONE (the blob is one message), TURN_DELIM (a
 * message ends right after each occurrence of a delimiter, e.g. "\r\n"),
 * TURN_LEN (a length field of `width` bytes at `offset` in each message
 * says how long the message is: binary protocols). Pure functions.
 *
 * TURN_LEN, --turns=len:OFFSET:WIDTH[:be|:le][:all][:+N|:-N]: the header is
 * the OFFSET + WIDTH bytes up to the field's end; the field's value V counts
 * the bytes after the field (the message is header + V + N bytes) or, with
 * `all`, the whole message (V + N bytes). A message whose header is cut off
 * by the blob's end, or whose size is smaller than its header or runs past
 * the blob's end (whatever V, up to 2^64-1), makes the rest of the blob one
 * message; V = 0 without `all` is a message of the header alone. Every
 * message is at least one byte long, so splitting always advances.
 */
#ifndef STUTTERFUZZ_TURN_H
#define STUTTERFUZZ_TURN_H

#include <stddef.h>

/* Longest delimiter --turns takes. */
#define TURN_DELIM_MAX	32
/* Bounds of a length rule's offset and adjustment. */
#define TURN_LEN_OFFSET_MAX	65535
#define TURN_LEN_ADJUST_MAX	2147483647LL

enum turn_rule {
	TURN_NONE,		/* the blob is one message: no turns */
	TURN_DELIM,		/* messages end after each delimiter */
	TURN_LEN,		/* a length field gives each message's size */
	TURN__COUNT
};

struct turn_spec {
	enum turn_rule	rule;
	unsigned char	delim[TURN_DELIM_MAX];	/* TURN_DELIM */
	size_t		delim_len;
	size_t		len_offset;	/* TURN_LEN: where the field starts */
	unsigned	len_width;	/* ... its bytes: 1, 2, 4 or 8 */
	int		len_le;		/* ... little-endian (else big) */
	int		len_all;	/* ... counts the whole message (else
					 * what follows the field) */
	long long	len_adjust;	/* ... added to the size it gives */
};

/* Parses --turns=DELIM (C escapes: \r \n \t \0 \\ \xHH \NNN ...) or
 * --turns=len:OFFSET:WIDTH[:be|:le][:all][:+N|:-N] into *spec. An argument
 * that starts with "len:" is a length rule; a delimiter that starts so is
 * written with an escape ('\x6cen:'). Returns 0, or -1 with *cause naming
 * the option and the reason. */
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

/* Name of a rule ("none", "delim", "len"), or NULL. */
const char	*turn_rule_name(enum turn_rule r);

#endif
