/*
 * Answers as evidence: what a server says back, a reference learned from
 * whole sends of a blob, and the comparison of an answer with it.
 *
 * Pure: no sockets, no event loop. An answer is a bounded buffer (the first
 * `limit` bytes kept, the rest only counted and hashed). Comparison works on
 * tokens: runs of letters and digits ("words"), runs of blanks, and single
 * other bytes. A reference is built from several whole sends: word or blank
 * tokens whose values differ between sends become wildcards of their class
 * (digits < hex < alnum, letters < alnum; blanks), so timestamps, counters,
 * ids and the lengths that depend on them match whatever value they take
 * later, however many digits it has. When the token structure itself
 * differs between whole sends of the same length, the bytes that differed
 * are wildcards instead (byte mode); of other lengths, the reference is
 * unstable and compares nothing. Parts matched by a user's mask (POSIX extended regex) are one
 * wildcard token each; parts matched by an ignore are left out.
 */
#ifndef STUTTERFUZZ_ANSWER_H
#define STUTTERFUZZ_ANSWER_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of an answer kept by default; beyond them, length and hash only. */
#define ANSWER_KEEP_DEFAULT	16384
/* Whole sends a reference is built from by default. */
#define ANSWER_SAMPLES_DEFAULT	3
/* Enough room for any account of a difference. */
#define ANSWER_ACCOUNT_MAX	256

/* What a server said on one connection. */
struct answer {
	unsigned char	*data;		/* the first bytes received, NUL after */
	size_t		 len;		/* bytes kept in data (<= limit) */
	size_t		 cap;		/* allocated bytes of data, less the NUL */
	size_t		 limit;		/* most bytes kept */
	uint64_t	 total;		/* bytes received in all */
	uint64_t	 hash;		/* FNV-1a 64 of every byte received */
	int		 closed;	/* the server closed its side (FIN) */
};

/* Token classes, from narrow to wide; a wildcard of a class matches any
 * token of a class it contains. */
enum answer_class {
	ANSWER_DIGITS,		/* [0-9]+ */
	ANSWER_HEX,		/* [0-9A-Fa-f]+ with a letter */
	ANSWER_LETTERS,		/* [A-Za-z]+ with a letter outside a-f */
	ANSWER_ALNUM,		/* [0-9A-Za-z]+, the rest */
	ANSWER_BLANK,		/* [ \t]+ */
	ANSWER_PUNCT,		/* one other printable byte, CR or LF */
	ANSWER_OTHER,		/* one control or non-ASCII byte */
	ANSWER_MASKED,		/* a part a mask matched */
	ANSWER_CLASS__COUNT
};

/* Result of a comparison. */
enum answer_verdict {
	ANSWER_SAME,		/* the answer matches the reference */
	ANSWER_DIFFERENT,	/* it does not: a candidate */
	ANSWER_UNCOMPARED	/* the reference is unstable or empty */
};

struct answer_masks;
struct answer_ref;

/* A new, empty answer keeping at most limit bytes (0: the default). */
struct answer	*answer_new(size_t limit);

/* Frees a; accepts NULL. */
void		 answer_free(struct answer *a);

/* Empties a for the next connection, keeping its buffer. */
void		 answer_reset(struct answer *a);

/* Adds n received bytes to a. */
void		 answer_add(struct answer *a, const void *buf, size_t n);

/* Notes that the server closed its side. */
void		 answer_close(struct answer *a);

/* Whether bytes were received beyond those kept. */
int		 answer_truncated(const struct answer *a);

/* An empty set of masks. */
struct answer_masks *answer_masks_new(void);

/* Frees m; accepts NULL. */
void		 answer_masks_free(struct answer_masks *m);

/* Adds a POSIX extended regex (--mask) to m. Returns 0, or -1 with *cause
 * ("--mask 'x(': parentheses not balanced"). */
int		 answer_masks_add(struct answer_masks *m, const char *regex,
		     char **cause);

/* Adds a POSIX extended regex (--ignore) whose matches are left out of
 * comparisons altogether, on both sides: for parts whose presence a cut may
 * legitimately change (an interim "HTTP/1.1 100 Continue\r\n\r\n"). Returns
 * 0, or -1 with *cause. */
int		 answer_masks_ignore(struct answer_masks *m, const char *regex,
		     char **cause);

/* A new reference with no sample yet; masks (may be NULL) must outlive it. */
struct answer_ref *answer_ref_new(const struct answer_masks *masks);

/* Frees r; accepts NULL. */
void		 answer_ref_free(struct answer_ref *r);

/* Learns one answer to a whole send: the first is kept, each later one
 * turns the tokens it differs in into wildcards, or makes r unstable when
 * its token structure differs. Also used during a run when a whole resend
 * no longer matches (the server's answers drifted). */
void		 answer_ref_add(struct answer_ref *r, const struct answer *a);

/* Answers learned so far. */
unsigned	 answer_ref_samples(const struct answer_ref *r);

/* Whether r compares: at least one sample and a stable structure. */
int		 answer_ref_stable(const struct answer_ref *r);

/* Why r is unstable ("whole sends differ at byte 12: ..."), or NULL. */
const char	*answer_ref_why(const struct answer_ref *r);

/* The first answer r learned (for records: the expected answer). */
const struct answer *answer_ref_first(const struct answer_ref *r);

/* Wildcard tokens of r, or in byte mode bytes that vary (for statistics
 * and tests). */
unsigned	 answer_ref_wildcards(const struct answer_ref *r);

/* Whether r compares byte by byte: the whole sends' token structures
 * differed but their lengths did not (binary answers with fixed-size random
 * fields, such as a greeting's salt); masks do not apply then. */
int		 answer_ref_bytewise(const struct answer_ref *r);

/* Compares a with r. On ANSWER_DIFFERENT, writes an account of the first
 * difference into account (size bytes; may be NULL), e.g.
 * at byte 17: expected "$5\r\nvalue" got "$-1\r\n". */
enum answer_verdict answer_compare(const struct answer_ref *r,
		     const struct answer *a, char *account, size_t size);

/* Whether a differs from r, if at all, only in the values of words and
 * blanks that r could learn as wildcards (the same token structure; in
 * byte mode, the same length): a difference that more whole sends may
 * show to be variation the samples missed (a length of random digits
 * that happened to be the same three times). */
int		 answer_value_only(const struct answer_ref *r,
		     const struct answer *a);

/* Writes s (n bytes) C-escaped and quoted into out (size bytes), at most
 * max source bytes, "..." after the quote if more remain. */
void		 answer_escape(const unsigned char *s, size_t n, size_t max,
		     char *out, size_t size);

/* Parses --check: "all" (every connection compared: *every = 1), "none"
 * (*every = 0), or "1/N" (one connection in N, 1 <= N <= 1000000). Returns
 * 0, or -1 with *cause. */
int		 answer_check_parse(const char *arg, uint32_t *every,
		     char **cause);

/* Whether connection index is compared under --check's every. */
int		 answer_check_this(uint32_t every, uint64_t index);

/* The kept bytes of a, C-escaped in full, unquoted (for records: JSON
 * strings must be text); allocated. */
char		*answer_text(const struct answer *a);

/* Fills a (reset first) from text made by answer_text. Returns 0, or -1
 * with *cause. */
int		 answer_parse_text(struct answer *a, const char *text,
		     char **cause);

/* Name of a token class ("digits"), or NULL. */
const char	*answer_class_name(enum answer_class c);

/* Name of a verdict ("same", "different", "uncompared"), or NULL. */
const char	*answer_verdict_name(enum answer_verdict v);

#endif
