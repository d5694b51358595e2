/*
 * Answers as evidence: bounded answers, references learned from whole
 * sends, token-wise comparison.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "turn.h"
#include "util.h"

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL
#define CONTEXT_BYTES	24	/* bytes of each side shown in an account */
#define MASKS_MAX	64	/* --mask options */

static const char *class_names[ANSWER_CLASS__COUNT] = {
	[ANSWER_DIGITS] = "digits",
	[ANSWER_HEX] = "hex",
	[ANSWER_LETTERS] = "letters",
	[ANSWER_ALNUM] = "alnum",
	[ANSWER_BLANK] = "blank",
	[ANSWER_PUNCT] = "punct",
	[ANSWER_OTHER] = "other",
	[ANSWER_MASKED] = "masked",
};

static const char *verdict_names[] = {
	[ANSWER_SAME] = "same",
	[ANSWER_DIFFERENT] = "different",
	[ANSWER_UNCOMPARED] = "uncompared",
};

struct answer_masks {
	regex_t		re[MASKS_MAX];
	int		drop[MASKS_MAX];	/* parts matched are left out */
	unsigned	n;
};

/* A token whose value varied between whole sends: the ordinal-th token. */
struct wild {
	uint32_t		ordinal;
	enum answer_class	cls;
};

struct answer_ref {
	const struct answer_masks *masks;
	struct answer	*first;		/* the first answer learned */
	unsigned	 samples;
	uint32_t	 ntok;		/* tokens compared */
	int		 truncated;	/* a sample was cut at its limit: tokens
					 * past ntok are not compared */
	struct wild	*wild;		/* sorted by ordinal */
	uint32_t	 nwild, capwild;
	int		 closed;	/* 0, 1, or -1: varies */
	int		 tail_exact;	/* every sample had this total and hash */
	uint64_t	 total, hash;
	char		*why;		/* unstable: why */
	int		 same_len;	/* every sample as long as the first,
					 * none truncated */
	unsigned char	*bytes;		/* byte mode (token structures differed,
					 * lengths did not): 1 where whole sends
					 * differed; NULL in token mode */
};

/* One token: bytes [off, off + len) of class cls. */
struct tok {
	size_t			off, len;
	enum answer_class	cls;
};

/* Walks the tokens of some bytes, masks applied. */
struct tokenizer {
	const unsigned char		*d;
	size_t				 n, pos;
	int				 truncated;	/* drop a last token at n */
	const struct answer_masks	*m;
	size_t				 mso, meo;	/* next mask match */
	int				 mdrop;		/* it is left out */
	size_t				 searched;	/* mso is valid from here */
};

/* A new, empty answer keeping at most limit bytes. */
struct answer *
answer_new(size_t limit)
{
	struct answer	*a = xcalloc(1, sizeof *a);

	a->limit = limit ? limit : ANSWER_KEEP_DEFAULT;
	a->hash = FNV_OFFSET;
	return a;
}

/* Frees a; accepts NULL. */
void
answer_free(struct answer *a)
{
	if (a == NULL)
		return;
	free(a->data);
	free(a);
}

/* Empties a for the next connection, keeping its buffer. */
void
answer_reset(struct answer *a)
{
	a->len = 0;
	a->total = 0;
	a->hash = FNV_OFFSET;
	a->closed = 0;
}

/* Adds n received bytes to a. */
void
answer_add(struct answer *a, const void *buf, size_t n)
{
	const unsigned char	*p = buf;
	size_t			 keep = a->limit - a->len;

	for (size_t i = 0; i < n; i++)
		a->hash = (a->hash ^ p[i]) * FNV_PRIME;
	a->total += n;
	if (keep > n)
		keep = n;
	if (keep == 0)
		return;
	if (a->len + keep > a->cap) {
		size_t	cap = a->cap ? a->cap : 256;

		while (cap < a->len + keep)
			cap *= 2;
		if (cap > a->limit)
			cap = a->limit;
		/* One more for a NUL: regexec may look for one even with
		 * REG_STARTEND (sanitizers' interceptors do). */
		a->data = xreallocarray(a->data, cap + 1, 1);
		a->cap = cap;
	}
	memcpy(a->data + a->len, p, keep);
	a->len += keep;
	a->data[a->len] = '\0';
}

/* Notes that the server closed its side. */
void
answer_close(struct answer *a)
{
	a->closed = 1;
}

/* Whether bytes were received beyond those kept. */
int
answer_truncated(const struct answer *a)
{
	return a->total > a->len;
}

static int	answer_masks_add_as(struct answer_masks *, const char *, int,
		    char **);

/* Copies src into a new answer. */
static struct answer *
answer_dup(const struct answer *src)
{
	struct answer	*a = answer_new(src->limit);

	answer_add(a, src->data, src->len);
	a->total = src->total;
	a->hash = src->hash;
	a->closed = src->closed;
	return a;
}

/* An empty set of masks. */
struct answer_masks *
answer_masks_new(void)
{
	return xcalloc(1, sizeof (struct answer_masks));
}

/* Frees m; accepts NULL. */
void
answer_masks_free(struct answer_masks *m)
{
	if (m == NULL)
		return;
	for (unsigned i = 0; i < m->n; i++)
		regfree(&m->re[i]);
	free(m);
}

/* Adds a POSIX extended regex to m. */
int
answer_masks_add(struct answer_masks *m, const char *regex, char **cause)
{
	return answer_masks_add_as(m, regex, 0, cause);
}

/* Adds a regex whose matches are left out of comparisons (--ignore). */
int
answer_masks_ignore(struct answer_masks *m, const char *regex, char **cause)
{
	return answer_masks_add_as(m, regex, 1, cause);
}

/* Adds a regex to m: its matches are wildcards, or with drop left out. */
static int
answer_masks_add_as(struct answer_masks *m, const char *regex, int drop,
    char **cause)
{
	const char	*opt = drop ? "--ignore" : "--mask";
	char	err[128];
	int	rc;

	if (m->n == MASKS_MAX) {
		*cause = xasprintf("%s '%s': more than %d masks", opt, regex,
		    MASKS_MAX);
		return -1;
	}
	if (*regex == '\0') {
		*cause = xasprintf("%s '': empty regex", opt);
		return -1;
	}
	rc = regcomp(&m->re[m->n], regex, REG_EXTENDED | REG_NEWLINE);
	if (rc != 0) {
		regerror(rc, &m->re[m->n], err, sizeof err);
		*cause = xasprintf("%s '%s': %s", opt, regex, err);
		return -1;
	}
	m->drop[m->n++] = drop;
	return 0;
}

/* Finds the earliest (then longest) non-empty mask match at or after
 * t->pos; sets t->mso to n when there is none. */
static void
tok_find_mask(struct tokenizer *t)
{
	t->mso = t->meo = t->n;
	t->searched = t->pos;
	for (unsigned i = 0; t->m != NULL && i < t->m->n; i++) {
		size_t	from = t->pos;

		while (from < t->n) {
			regmatch_t	pm[1] = { { (regoff_t)from,
					    (regoff_t)t->n } };
			int		flags = REG_STARTEND;
			size_t		so, eo;

			if (from > 0 && t->d[from - 1] != '\n')
				flags |= REG_NOTBOL;
			if (regexec(&t->m->re[i], (const char *)t->d, 1, pm,
			    flags) != 0)
				break;
			so = (size_t)pm[0].rm_so;
			eo = (size_t)pm[0].rm_eo;
			if (eo == so) {		/* empty: look further on */
				from = so + 1;
				continue;
			}
			if (so < t->mso || (so == t->mso && eo > t->meo)) {
				t->mso = so;
				t->meo = eo;
				t->mdrop = t->m->drop[i];
			}
			break;
		}
	}
}

/* Starts walking the tokens of n bytes at d. */
static void
tok_init(struct tokenizer *t, const unsigned char *d, size_t n,
    int truncated, const struct answer_masks *m)
{
	*t = (struct tokenizer){ .d = d, .n = n, .truncated = truncated,
	    .m = m, .searched = SIZE_MAX };
}

/* Is c a letter or digit? */
static int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* The class of the word [d, d + n). */
static enum answer_class
word_class(const unsigned char *d, size_t n)
{
	int	digit = 0, hexletter = 0, letter = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char	c = d[i];

		if (c >= '0' && c <= '9')
			digit = 1;
		else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			hexletter = 1;
		else
			letter = 1;
	}
	if (letter)
		return digit ? ANSWER_ALNUM : ANSWER_LETTERS;
	return hexletter ? ANSWER_HEX : ANSWER_DIGITS;
}

/* The next token; 0 at the end. */
static int
tok_next(struct tokenizer *t, struct tok *out)
{
	size_t		end, stop;
	unsigned char	c;

	for (;;) {
		if (t->pos >= t->n)
			return 0;
		if (t->m != NULL && t->m->n > 0 &&
		    (t->searched == SIZE_MAX || t->pos > t->mso))
			tok_find_mask(t);
		if (t->m == NULL || t->m->n == 0 || t->pos != t->mso ||
		    !t->mdrop)
			break;
		t->pos = t->meo;	/* left out of comparisons */
	}
	stop = t->m != NULL && t->m->n > 0 ? t->mso : t->n;
	c = t->d[t->pos];
	end = t->pos + 1;
	if (t->pos == stop) {
		end = t->meo;
		out->cls = ANSWER_MASKED;
	} else if (is_alnum(c)) {
		while (end < stop && is_alnum(t->d[end]))
			end++;
		out->cls = word_class(t->d + t->pos, end - t->pos);
	} else if (c == ' ' || c == '\t') {
		while (end < stop && (t->d[end] == ' ' || t->d[end] == '\t'))
			end++;
		out->cls = ANSWER_BLANK;
	} else {
		out->cls = (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' ?
		    ANSWER_PUNCT : ANSWER_OTHER;
	}
	if (t->truncated && end >= t->n)
		return 0;	/* perhaps incomplete */
	out->off = t->pos;
	out->len = end - t->pos;
	t->pos = end;
	return 1;
}

/* Is c a class whose tokens may vary in value (a word, blanks, a mask)? */
static int
is_variable(enum answer_class c)
{
	return c <= ANSWER_BLANK || c == ANSWER_MASKED;
}

/* Is c one of the word classes? */
static int
is_word(enum answer_class c)
{
	return c <= ANSWER_ALNUM;
}

/* Does a wildcard of class w match a token of class c? */
static int
class_contains(enum answer_class w, enum answer_class c)
{
	if (w == c)
		return 1;
	if (w == ANSWER_HEX)
		return c == ANSWER_DIGITS;
	if (w == ANSWER_ALNUM)
		return is_word(c);
	return 0;
}

/* The narrowest class containing a and b, or ANSWER_CLASS__COUNT. */
static enum answer_class
class_join(enum answer_class a, enum answer_class b)
{
	if (class_contains(a, b))
		return a;
	if (class_contains(b, a))
		return b;
	if (is_word(a) && is_word(b))
		return ANSWER_ALNUM;
	return ANSWER_CLASS__COUNT;
}

/* Appends s (n bytes) C-escaped to out at *pos, within size. */
static void
esc_append(char *out, size_t size, size_t *pos, const unsigned char *s,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char		buf[8];
		unsigned char	c = s[i];
		size_t		len;

		if (c == '\r')
			memcpy(buf, "\\r", len = 2);
		else if (c == '\n')
			memcpy(buf, "\\n", len = 2);
		else if (c == '\t')
			memcpy(buf, "\\t", len = 2);
		else if (c == '"' || c == '\\') {
			buf[0] = '\\';
			buf[1] = (char)c;
			len = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			buf[0] = (char)c;
			len = 1;
		} else
			len = (size_t)snprintf(buf, sizeof buf, "\\x%02x", c);
		if (*pos + len >= size)
			break;
		memcpy(out + *pos, buf, len);
		*pos += len;
	}
	out[*pos < size ? *pos : size - 1] = '\0';
}

/* Writes s (n bytes) escaped and quoted into out, at most max bytes. */
void
answer_escape(const unsigned char *s, size_t n, size_t max, char *out,
    size_t size)
{
	size_t	pos = 0;

	if (size < 8) {
		if (size > 0)
			out[0] = '\0';
		return;
	}
	out[pos++] = '"';
	esc_append(out, size - 5, &pos, s, n < max ? n : max);
	out[pos++] = '"';
	if (n > max) {
		memcpy(out + pos, "...", 3);
		pos += 3;
	}
	out[pos] = '\0';
}

/* A new reference with no sample yet. */
struct answer_ref *
answer_ref_new(const struct answer_masks *masks)
{
	struct answer_ref	*r = xcalloc(1, sizeof *r);

	r->masks = masks;
	return r;
}

/* Frees r; accepts NULL. */
void
answer_ref_free(struct answer_ref *r)
{
	if (r == NULL)
		return;
	answer_free(r->first);
	free(r->bytes);
	free(r->wild);
	free(r->why);
	free(r);
}

/* Starts walking the tokens of answer a under r's masks. */
static void
tok_answer(struct tokenizer *t, const struct answer_ref *r,
    const struct answer *a)
{
	tok_init(t, a->data, a->len, answer_truncated(a), r->masks);
}

/* Appends a wildcard to list (ordinals ascending). */
static void
wild_push(struct wild **list, uint32_t *n, uint32_t *cap, uint32_t ordinal,
    enum answer_class cls)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*list = xreallocarray(*list, *cap, sizeof **list);
	}
	(*list)[(*n)++] = (struct wild){ ordinal, cls };
}

/* Learns the first answer. */
static void
ref_first(struct answer_ref *r, const struct answer *a)
{
	struct tokenizer	t;
	struct tok		k;

	r->first = answer_dup(a);
	r->truncated = answer_truncated(a);
	r->same_len = !r->truncated;
	r->closed = a->closed;
	r->tail_exact = 1;
	r->total = a->total;
	r->hash = a->hash;
	tok_answer(&t, r, r->first);
	while (tok_next(&t, &k))
		r->ntok++;
}

/* Marks r unstable: sample b differs in structure from the first at token
 * kb (NULL: b ended there). */
static void
ref_unstable(struct answer_ref *r, const struct answer *b,
    const struct tok *ka, const struct tok *kb)
{
	char	want[96], got[96];
	size_t	at = kb != NULL ? kb->off : b->len;

	if (ka != NULL)
		answer_escape(r->first->data + ka->off,
		    r->first->len - ka->off, CONTEXT_BYTES, want, sizeof want);
	else
		snprintf(want, sizeof want, "the end");
	if (kb != NULL)
		answer_escape(b->data + kb->off, b->len - kb->off,
		    CONTEXT_BYTES, got, sizeof got);
	else
		snprintf(got, sizeof got, "the end");
	r->why = xasprintf("whole sends differ in structure at byte %zu: %s "
	    "then %s", at, want, got);
}

/* Learns one more answer: lockstep over both token walks. Returns 0, or -1
 * when the structure differs (r->why says where). */
static int
ref_merge(struct answer_ref *r, const struct answer *b)
{
	struct tokenizer	 ta, tb;
	struct tok		 ka, kb;
	struct wild		*nw = NULL;
	uint32_t		 nn = 0, cap = 0, w = 0, i;

	tok_answer(&ta, r, r->first);
	tok_answer(&tb, r, b);
	for (i = 0;; i++) {
		int			 ha = i < r->ntok && tok_next(&ta, &ka);
		int			 hb = tok_next(&tb, &kb);
		enum answer_class	 ca, cls;
		int			 wild;

		if (!ha && !hb) {
			/* b goes on past what is kept: so do whole sends. */
			r->truncated |= answer_truncated(b);
			break;
		}
		if (!ha && r->truncated)
			break;
		if (!hb && answer_truncated(b)) {
			r->ntok = i;
			r->truncated = 1;
			break;
		}
		if (!ha || !hb) {
			ref_unstable(r, b, ha ? &ka : NULL, hb ? &kb : NULL);
			free(nw);
			return -1;
		}
		wild = w < r->nwild && r->wild[w].ordinal == i;
		ca = wild ? r->wild[w++].cls : ka.cls;
		if (!wild && ((ka.cls == ANSWER_MASKED &&
		    kb.cls == ANSWER_MASKED) || (ka.len == kb.len &&
		    memcmp(r->first->data + ka.off, b->data + kb.off,
		    ka.len) == 0)))
			continue;
		cls = is_variable(ca) && is_variable(kb.cls) ?
		    class_join(ca, kb.cls) : ANSWER_CLASS__COUNT;
		if (cls == ANSWER_CLASS__COUNT) {
			ref_unstable(r, b, &ka, &kb);
			free(nw);
			return -1;
		}
		wild_push(&nw, &nn, &cap, i, cls);
	}
	while (nn > 0 && nw[nn - 1].ordinal >= r->ntok)
		nn--;
	free(r->wild);
	r->wild = nw;
	r->nwild = nn;
	r->capwild = cap;
	return 0;
}

/* Merges the wildcards add (sorted, none in r's list) into r's list. */
static void
wild_merge(struct answer_ref *r, const struct wild *add, uint32_t nadd)
{
	struct wild	*out = NULL;
	uint32_t	 n = 0, cap = 0, a = 0, w = 0;

	if (nadd == 0)
		return;
	while (a < nadd || w < r->nwild) {
		const struct wild	*x = w == r->nwild || (a < nadd &&
					    add[a].ordinal < r->wild[w].ordinal) ?
					    &add[a++] : &r->wild[w++];

		wild_push(&out, &n, &cap, x->ordinal, x->cls);
	}
	free(r->wild);
	r->wild = out;
	r->nwild = n;
	r->capwild = cap;
}

/* Numbers joined by ':', '.', '-' or '/' (a time, a date) vary as one: when
 * a digit group of such a run varied between whole sends, every group of
 * it becomes a wildcard, so "09:12:12.123" whose milliseconds varied
 * matches "10:00:00.5" later, not only another "09:12:12.x". */
static void
ref_widen_numbers(struct answer_ref *r)
{
	struct tokenizer	 t;
	struct tok		 k;
	struct wild		*add = NULL;
	uint32_t		 chain[16], n = 0, w = 0, nadd = 0, capadd = 0;
	int			 varied = 0, sep = 0;

	tok_answer(&t, r, r->first);
	for (uint32_t i = 0; i <= r->ntok; i++) {
		int			have = i < r->ntok && tok_next(&t, &k);
		int			wild = have && w < r->nwild &&
					    r->wild[w].ordinal == i;
		enum answer_class	cls = !have ? ANSWER_CLASS__COUNT :
					    wild ? r->wild[w++].cls : k.cls;

		if (cls == ANSWER_DIGITS && (n == 0 || sep) && n < 16) {
			chain[n++] = i;
			varied |= wild;
			sep = 0;
			continue;
		}
		if (have && !wild && n > 0 && !sep && k.len == 1 &&
		    strchr(":.-/", r->first->data[k.off]) != NULL) {
			sep = 1;
			continue;
		}
		for (uint32_t j = 0; varied && j < n; j++) {
			uint32_t	x = 0;

			while (x < r->nwild && r->wild[x].ordinal < chain[j])
				x++;
			if (x == r->nwild || r->wild[x].ordinal != chain[j])
				wild_push(&add, &nadd, &capadd, chain[j],
				    ANSWER_DIGITS);
		}
		n = 0;
		varied = sep = 0;
		if (cls == ANSWER_DIGITS) {
			chain[n++] = i;
			varied = wild;
		}
	}
	wild_merge(r, add, nadd);
	free(add);
}

/* Byte mode: marks where b differs from the first answer; b must be as
 * long, or r turns unstable. */
static void
ref_bytes_merge(struct answer_ref *r, const struct answer *b)
{
	if (answer_truncated(b) || b->len != r->first->len) {
		r->why = xasprintf("whole sends differ in structure and length: "
		    "%zu then %llu bytes", r->first->len,
		    (unsigned long long)b->total);
		return;
	}
	for (size_t i = 0; i < b->len; i++)
		r->bytes[i] |= b->data[i] != r->first->data[i];
}

/* Leaves token mode for byte mode: every byte of a wildcard token is a
 * byte that varied. */
static void
ref_to_bytes(struct answer_ref *r)
{
	struct tokenizer	t;
	struct tok		k;
	uint32_t		w = 0;

	r->bytes = xcalloc(r->first->len + 1, 1);
	tok_answer(&t, r, r->first);
	for (uint32_t i = 0; w < r->nwild && tok_next(&t, &k); i++) {
		if (r->wild[w].ordinal != i)
			continue;
		memset(r->bytes + k.off, 1, k.len);
		w++;
	}
	free(r->why);
	r->why = NULL;
}

/* Learns one answer to a whole send. */
void
answer_ref_add(struct answer_ref *r, const struct answer *a)
{
	int	len_same;

	r->samples++;
	if (r->first == NULL) {
		ref_first(r, a);
		return;
	}
	len_same = !answer_truncated(a) && a->len == r->first->len;
	if (r->why != NULL)
		return;
	if (r->bytes != NULL)
		ref_bytes_merge(r, a);
	else if (ref_merge(r, a) == -1) {
		/* Structures differ: same lengths still compare bytewise
		 * (binary answers with fixed-size random fields). */
		if (!r->same_len || !len_same)
			return;
		ref_to_bytes(r);
		ref_bytes_merge(r, a);
	} else
		ref_widen_numbers(r);
	r->same_len &= len_same;
	if (r->why != NULL)
		return;
	if (r->closed != a->closed)
		r->closed = -1;
	if (a->total != r->total || a->hash != r->hash)
		r->tail_exact = 0;
}

/* Answers learned so far. */
unsigned
answer_ref_samples(const struct answer_ref *r)
{
	return r->samples;
}

/* Whether r compares. */
int
answer_ref_stable(const struct answer_ref *r)
{
	return r->first != NULL && r->why == NULL;
}

/* Why r is unstable, or NULL. */
const char *
answer_ref_why(const struct answer_ref *r)
{
	return r->why;
}

/* The first answer r learned. */
const struct answer *
answer_ref_first(const struct answer_ref *r)
{
	return r->first;
}

/* Wildcard tokens of r (bytes that vary, in byte mode). */
unsigned
answer_ref_wildcards(const struct answer_ref *r)
{
	unsigned	n = 0;

	if (r->bytes == NULL)
		return r->nwild;
	for (size_t i = 0; i < r->first->len; i++)
		n += r->bytes[i];
	return n;
}

/* Whether r compares byte by byte. */
int
answer_ref_bytewise(const struct answer_ref *r)
{
	return r->bytes != NULL;
}

/* Renders the reference from token k (ordinal i, wildcard index w) on:
 * about CONTEXT_BYTES of it, wildcards as <class>, quoted. */
static void
render_expected(const struct answer_ref *r, struct tokenizer *t,
    struct tok k, uint32_t i, uint32_t w, char *out, size_t size)
{
	size_t	pos = 0, shown = 0;
	int	more = 1;

	out[pos++] = '"';
	for (;;) {
		if (w < r->nwild && r->wild[w].ordinal == i) {
			char	name[24];

			snprintf(name, sizeof name, "<%s>",
			    class_names[r->wild[w++].cls]);
			if (pos + strlen(name) < size - 5) {
				memcpy(out + pos, name, strlen(name));
				pos += strlen(name);
			}
		} else
			esc_append(out, size - 5, &pos,
			    r->first->data + k.off, k.len);
		shown += k.len;
		i++;
		if (shown >= CONTEXT_BYTES || i >= r->ntok ||
		    !tok_next(t, &k)) {
			more = shown >= CONTEXT_BYTES && i < r->ntok;
			break;
		}
	}
	out[pos++] = '"';
	if (more) {
		memcpy(out + pos, "...", 3);
		pos += 3;
	}
	out[pos] = '\0';
}

/* Writes the account of a difference at token ka / kb (either NULL: that
 * side ended) into account. */
static void
account_tokens(const struct answer_ref *r, struct tokenizer *ta,
    const struct tok *ka, uint32_t i, uint32_t w, const struct answer *a,
    const struct tok *kb, char *account, size_t size)
{
	char	want[ANSWER_ACCOUNT_MAX / 2], got[ANSWER_ACCOUNT_MAX / 2];

	if (ka != NULL)
		render_expected(r, ta, *ka, i, w, want, sizeof want);
	else
		snprintf(want, sizeof want, "the end of the answer");
	if (kb != NULL)
		answer_escape(a->data + kb->off, a->len - kb->off,
		    CONTEXT_BYTES, got, sizeof got);
	else
		snprintf(got, sizeof got, "the end of the answer");
	snprintf(account, size, "at byte %zu: expected %s got %s",
	    kb != NULL ? kb->off : a->len, want, got);
}

/* Compares the tokens of a with r's; returns 1 when they differ (account
 * written), 0 when they match as far as both are kept. */
static int
compare_tokens(const struct answer_ref *r, const struct answer *a,
    char *account, size_t size)
{
	struct tokenizer	ta, tb;
	struct tok		ka, kb;
	uint32_t		w = 0;

	tok_answer(&ta, r, r->first);
	tok_answer(&tb, r, a);
	for (uint32_t i = 0;; i++) {
		int	ha = i < r->ntok && tok_next(&ta, &ka);
		int	hb = tok_next(&tb, &kb);
		int	same;

		if ((!ha && !hb) || (!ha && r->truncated) ||
		    (!hb && answer_truncated(a)))
			return 0;
		if (!ha || !hb) {
			account_tokens(r, &ta, ha ? &ka : NULL, i, w, a,
			    hb ? &kb : NULL, account, size);
			return 1;
		}
		if (w < r->nwild && r->wild[w].ordinal == i)
			same = class_contains(r->wild[w].cls, kb.cls);
		else if (ka.cls == ANSWER_MASKED)
			same = kb.cls == ANSWER_MASKED;
		else
			same = ka.len == kb.len && memcmp(r->first->data +
			    ka.off, a->data + kb.off, ka.len) == 0;
		if (!same) {
			account_tokens(r, &ta, &ka, i, w, a, &kb, account,
			    size);
			return 1;
		}
		if (w < r->nwild && r->wild[w].ordinal == i)
			w++;
	}
}

/* Whether a differs from r only in values r could learn. */
int
answer_value_only(const struct answer_ref *r, const struct answer *a)
{
	struct tokenizer	ta, tb;
	struct tok		ka, kb;
	uint32_t		w = 0;

	if (!answer_ref_stable(r) || (r->closed != -1 && r->closed != a->closed))
		return 0;
	if (r->bytes != NULL)
		return a->len == r->first->len && !answer_truncated(a);
	tok_answer(&ta, r, r->first);
	tok_answer(&tb, r, a);
	for (uint32_t i = 0;; i++) {
		int			ha = i < r->ntok && tok_next(&ta, &ka);
		int			hb = tok_next(&tb, &kb);
		enum answer_class	ca = ka.cls;

		if ((!ha && !hb) || (!ha && r->truncated) ||
		    (!hb && answer_truncated(a)))
			return 1;
		if (!ha || !hb)
			return 0;
		if (w < r->nwild && r->wild[w].ordinal == i)
			ca = r->wild[w++].cls;
		else if (ka.len == kb.len && memcmp(r->first->data + ka.off,
		    a->data + kb.off, ka.len) == 0)
			continue;
		if (!is_variable(ca) || !is_variable(kb.cls) ||
		    class_join(ca, kb.cls) == ANSWER_CLASS__COUNT)
			return 0;
	}
}

/* Byte mode: compares a with r byte by byte; returns 1 when they differ
 * (account written). */
static int
compare_bytes(const struct answer_ref *r, const struct answer *a,
    char *account, size_t size)
{
	const struct answer	*f = r->first;
	size_t			 n = a->len < f->len ? a->len : f->len, i;
	char			 want[ANSWER_ACCOUNT_MAX / 2];
	char			 got[ANSWER_ACCOUNT_MAX / 2];

	for (i = 0; i < n; i++) {
		if (!r->bytes[i] && a->data[i] != f->data[i])
			break;
	}
	if (i == n && a->len == f->len && !answer_truncated(a))
		return 0;
	if (i < f->len)
		answer_escape(f->data + i, f->len - i, CONTEXT_BYTES, want,
		    sizeof want);
	else
		snprintf(want, sizeof want, "the end of the answer");
	if (i < a->len)
		answer_escape(a->data + i, a->len - i, CONTEXT_BYTES, got,
		    sizeof got);
	else
		snprintf(got, sizeof got, "the end of the answer");
	snprintf(account, size, "at byte %zu: expected %s got %s", i, want,
	    got);
	return 1;
}

/* Compares a with r. */
enum answer_verdict
answer_compare(const struct answer_ref *r, const struct answer *a,
    char *account, size_t size)
{
	char	scratch[ANSWER_ACCOUNT_MAX];

	if (account == NULL || size == 0) {
		account = scratch;
		size = sizeof scratch;
	}
	*account = '\0';
	if (!answer_ref_stable(r))
		return ANSWER_UNCOMPARED;
	/* The common case, cheaply: the very answer the reference began
	 * with (which matches its wildcards, masks and close by making). */
	if (r->first != NULL && a->total == r->first->total &&
	    a->hash == r->first->hash && a->closed == r->first->closed &&
	    a->len == r->first->len && (a->len == 0 ||
	    memcmp(a->data, r->first->data, a->len) == 0))
		return ANSWER_SAME;
	if (r->bytes != NULL ? compare_bytes(r, a, account, size) :
	    compare_tokens(r, a, account, size))
		return ANSWER_DIFFERENT;
	if (!r->truncated && answer_truncated(a)) {
		snprintf(account, size, "at byte %zu: expected the end of the "
		    "answer got %llu bytes more", a->len,
		    (unsigned long long)(a->total - a->len));
		return ANSWER_DIFFERENT;
	}
	if (r->truncated && r->tail_exact &&
	    (a->total != r->total || a->hash != r->hash)) {
		snprintf(account, size, "past byte %zu (compared by hash): "
		    "expected %llu bytes got %llu bytes%s", a->len,
		    (unsigned long long)r->total,
		    (unsigned long long)a->total,
		    a->total == r->total ? " that differ" : "");
		return ANSWER_DIFFERENT;
	}
	if (r->closed >= 0 && a->closed != r->closed) {
		snprintf(account, size, "at byte %llu: expected the server to "
		    "%s got %s", (unsigned long long)a->total,
		    r->closed ? "close" : "keep the connection open",
		    a->closed ? "a close" : "the connection open");
		return ANSWER_DIFFERENT;
	}
	return ANSWER_SAME;
}

/* Parses --check. */
int
answer_check_parse(const char *arg, uint32_t *every, char **cause)
{
	char		*end;
	unsigned long	 n;

	if (strcmp(arg, "all") == 0) {
		*every = 1;
		return 0;
	}
	if (strcmp(arg, "none") == 0) {
		*every = 0;
		return 0;
	}
	if (strncmp(arg, "1/", 2) == 0 && arg[2] >= '0' && arg[2] <= '9') {
		errno = 0;
		n = strtoul(arg + 2, &end, 10);
		if (errno == 0 && *end == '\0' && n >= 1 && n <= 1000000) {
			*every = (uint32_t)n;
			return 0;
		}
	}
	*cause = xasprintf("--check '%s': wanted all, none or 1/N (N from 1 "
	    "to 1000000)", arg);
	return -1;
}

/* Whether connection index is compared. */
int
answer_check_this(uint32_t every, uint64_t index)
{
	return every != 0 && index % every == 0;
}

/* The kept bytes of a, C-escaped in full, unquoted. */
char *
answer_text(const struct answer *a)
{
	size_t	size = 4 * a->len + 1, pos = 0;
	char	*out = xmalloc(size);

	esc_append(out, size, &pos, a->data, a->len);
	out[pos] = '\0';
	return out;
}

/* Fills a from text made by answer_text. */
int
answer_parse_text(struct answer *a, const char *text, char **cause)
{
	size_t		 size = strlen(text) + 1, len;
	unsigned char	*buf = xmalloc(size);
	char		*why = NULL;

	if (turn_unescape(text, buf, size, &len, &why) == -1) {
		*cause = xasprintf("answer: %s", why);
		free(why);
		free(buf);
		return -1;
	}
	answer_reset(a);
	answer_add(a, buf, len);
	free(buf);
	return 0;
}

/* Name of a token class, or NULL. */
const char *
answer_class_name(enum answer_class c)
{
	return c < ANSWER_CLASS__COUNT ? class_names[c] : NULL;
}

/* Name of a verdict, or NULL. */
const char *
answer_verdict_name(enum answer_verdict v)
{
	return v <= ANSWER_UNCOMPARED ? verdict_names[v] : NULL;
}
