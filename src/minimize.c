/* Minimization: ddmin over connections, cuts and bytes. */
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "json.h"
#include "minimize.h"
#include "plan.h"
#include "record.h"
#include "util.h"

/* The three things minimized, in order. */
enum mstage {
	MSTAGE_CONNS,
	MSTAGE_CUTS,
	MSTAGE_BYTES,
};

static const char *const stage_names[MINIMIZE_STAGES] = {
	[MSTAGE_CONNS] = "connections",
	[MSTAGE_CUTS] = "cuts",
	[MSTAGE_BYTES] = "bytes",
};

static const char *const end_names[MINIMIZE__END_COUNT] = {
	[MINIMIZE_DONE] = "done",
	[MINIMIZE_NOT_REPRODUCIBLE] = "not reproducible",
	[MINIMIZE_BUDGET] = "budget",
	[MINIMIZE_STOPPED] = "interrupted",
	[MINIMIZE_ERROR] = "error",
};

/* One thing that may go: a connection, a cut or a byte of a connection. */
struct munit {
	size_t	conn;
	size_t	pos;	/* cut number or byte offset */
};

/* A minimization in progress. */
struct mctx {
	const struct minimize_config	*cfg;
	struct minimize_result		*res;
	enum mstage			 stage;
	const char			*stage_name;
	unsigned			 tries;		/* per candidate */
	uint64_t			 start_us;
	int				 stop;		/* verdict that ends it all */
	uint64_t			*failed;	/* fingerprints of cases */
	size_t				 nfailed;	/* ... that did not reproduce */
	size_t				 failed_cap;
	unsigned char			**keep;		/* bytes stage: per conn */
	struct record			*base;		/* the case the stage began with */
};

/* Name of a stage. */
const char *
minimize_stage_name(unsigned i)
{
	return i < MINIMIZE_STAGES ? stage_names[i] : "?";
}

/* Name of an end. */
const char *
minimize_end_name(enum minimize_end e)
{
	return (unsigned)e < MINIMIZE__END_COUNT ? end_names[e] : "?";
}

/* Copies one connection (bytes, plan, gaps). */
static void
conn_copy(struct record_conn *dst, const struct record_conn *src)
{
	uint32_t	n;

	*dst = *src;
	dst->blob.name = xstrdup(src->blob.name);
	dst->blob.data = xmalloc(src->blob.len ? src->blob.len : 1);
	if (src->blob.len > 0)
		memcpy(dst->blob.data, src->blob.data, src->blob.len);
	n = src->plan.nfrags;
	dst->plan.sizes = xcalloc(n ? n : 1, sizeof *dst->plan.sizes);
	dst->plan.gaps_us = xcalloc(n ? n : 1, sizeof *dst->plan.gaps_us);
	dst->plan.cap = n;
	if (n > 0)
		memcpy(dst->plan.sizes, src->plan.sizes, n * sizeof
		    *dst->plan.sizes);
	if (n > 0 && src->plan.gaps_us != NULL)
		memcpy(dst->plan.gaps_us, src->plan.gaps_us, n * sizeof
		    *dst->plan.gaps_us);
}

/* Duplicates a string that may be NULL. */
static char *
strdup_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A record like rec with no connections yet (room for n). */
static struct record *
record_shell(const struct record *rec, size_t n)
{
	struct record	*r = xcalloc(1, sizeof *r);

	r->kind = strdup_null(rec->kind);
	r->phase = strdup_null(rec->phase);
	r->err = rec->err;
	r->seed = rec->seed;
	r->format_version = rec->format_version;
	r->target = strdup_null(rec->target);
	r->target_unix = rec->target_unix;
	r->target_host = strdup_null(rec->target_host);
	r->target_port = strdup_null(rec->target_port);
	r->tool_version = strdup_null(rec->tool_version);
	r->detail = strdup_null(rec->detail);
	r->pace = strdup_null(rec->pace);
	r->conns = xcalloc(n ? n : 1, sizeof *r->conns);
	return r;
}

/* A deep copy of a record. */
struct record *
minimize_record_copy(const struct record *rec)
{
	struct record	*r = record_shell(rec, rec->nconns);

	for (size_t i = 0; i < rec->nconns; i++)
		conn_copy(&r->conns[i], &rec->conns[i]);
	r->nconns = rec->nconns;
	r->has_culprit = rec->has_culprit;
	return r;
}

/* Gives a connection the fragments between the cuts (sorted offsets inside
 * the blob) with, for each, the gap of old fragment from[k]. */
static void
conn_set_cuts(struct record_conn *c, const size_t *cuts, size_t ncuts,
    const uint32_t *gaps)
{
	uint32_t	n = c->blob.len == 0 ? 0 : (uint32_t)ncuts + 1;
	size_t		prev = 0;

	free(c->plan.sizes);
	free(c->plan.gaps_us);
	c->plan.sizes = xcalloc(n ? n : 1, sizeof *c->plan.sizes);
	c->plan.gaps_us = xcalloc(n ? n : 1, sizeof *c->plan.gaps_us);
	for (uint32_t k = 0; k < n; k++) {
		size_t	end = k < ncuts ? cuts[k] : c->blob.len;

		c->plan.sizes[k] = (uint32_t)(end - prev);
		c->plan.gaps_us[k] = gaps != NULL ? gaps[k] : 0;
		prev = end;
	}
	c->plan.nfrags = n;
	c->plan.cap = n;
	c->plan.close_after = n;
	c->plan.len = c->blob.len;
	c->frags_sent = n;
	c->bytes_sent = c->blob.len;
}

/* The cut offsets of a connection (nfrags - 1 of them) into a new array. */
static size_t *
conn_cuts(const struct record_conn *c, size_t *ncuts)
{
	size_t	*cuts, off = 0;

	*ncuts = c->plan.nfrags > 1 ? c->plan.nfrags - 1 : 0;
	cuts = xcalloc(*ncuts ? *ncuts : 1, sizeof *cuts);
	for (size_t k = 0; k < *ncuts; k++) {
		off += c->plan.sizes[k];
		cuts[k] = off;
	}
	return cuts;
}

/* What a connection puts on the wire: an early close after k fragments
 * sends the same as a blob of those fragments sent whole. */
static void
conn_normalize(struct record_conn *c)
{
	size_t		 ncuts, keep = c->plan.close_after;
	size_t		*cuts = conn_cuts(c, &ncuts);
	uint32_t	*gaps = NULL;

	if (keep < c->plan.nfrags) {
		size_t	len = 0;

		for (size_t k = 0; k < keep; k++)
			len += c->plan.sizes[k];
		c->blob.len = len;
		ncuts = keep > 0 ? keep - 1 : 0;
	}
	if (c->plan.gaps_us != NULL) {
		gaps = xcalloc(c->plan.nfrags ? c->plan.nfrags : 1,
		    sizeof *gaps);
		memcpy(gaps, c->plan.gaps_us, c->plan.nfrags * sizeof *gaps);
	}
	conn_set_cuts(c, cuts, ncuts, gaps);
	free(gaps);
	free(cuts);
}

/* Totals of a record. */
void
minimize_size(const struct record *rec, size_t *conns, size_t *bytes,
    size_t *cuts)
{
	*conns = rec->nconns;
	*bytes = *cuts = 0;
	for (size_t i = 0; i < rec->nconns; i++) {
		*bytes += rec->conns[i].blob.len;
		if (rec->conns[i].plan.nfrags > 1)
			*cuts += rec->conns[i].plan.nfrags - 1;
	}
}

/* Reports an attempt through the progress callback: the sizes of the
 * best case so far (of rec before there is one). */
static void
progress(struct mctx *m, const struct record *rec, const char *stage,
    int reproduced)
{
	struct minimize_progress	p = {
		.stage = stage,
		.attempts = m->res->attempts,
		.reproduced = reproduced,
	};

	if (m->cfg->progress == NULL)
		return;
	minimize_size(m->res->best != NULL ? m->res->best : rec, &p.conns,
	    &p.bytes, &p.cuts);
	m->cfg->progress(m->cfg->arg, &p);
}

/* The clock. */
static uint64_t
now_us(const struct mctx *m)
{
	return m->cfg->now_us != NULL ? m->cfg->now_us(m->cfg->arg) :
	    util_now_us();
}

/* One attempt, within the budget: a verdict, or m->stop set and -1. */
static int
attempt(struct mctx *m, const struct record *cand)
{
	int	v;

	if (m->stop != 0)
		return -1;
	if (m->cfg->budget_us != 0 &&
	    now_us(m) - m->start_us >= m->cfg->budget_us) {
		m->stop = MINIMIZE_BUDGET;
		return -1;
	}
	v = m->cfg->attempt(m->cfg->arg, cand, &m->res->cause);
	m->res->attempts++;
	if (v == MINIMIZE_INTERRUPTED) {
		m->stop = MINIMIZE_STOPPED;
		return -1;
	}
	if (v < 0) {
		m->stop = MINIMIZE_ERROR;
		if (m->res->cause == NULL)
			m->res->cause = xstrdup("an attempt failed");
		return -1;
	}
	return v == MINIMIZE_REPRODUCED;
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* What a case sends: its connections' bytes and cuts. */
static uint64_t
fingerprint(const struct record *r)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < r->nconns; i++) {
		const struct record_conn	*c = &r->conns[i];

		h = fnv(h, &c->index, sizeof c->index);
		h = fnv(h, &c->blob.len, sizeof c->blob.len);
		h = fnv(h, c->blob.data, c->blob.len);
		h = fnv(h, &c->plan.nfrags, sizeof c->plan.nfrags);
		h = fnv(h, c->plan.sizes, c->plan.nfrags *
		    sizeof *c->plan.sizes);
	}
	return h;
}

/* Was this case tried already, without the fault coming back? */
static int
failed_before(const struct mctx *m, uint64_t fp)
{
	for (size_t i = 0; i < m->nfailed; i++) {
		if (m->failed[i] == fp)
			return 1;
	}
	return 0;
}

/* Remembers a case that did not reproduce. */
static void
remember_failed(struct mctx *m, uint64_t fp)
{
	if (m->nfailed == m->failed_cap) {
		m->failed_cap = m->failed_cap ? m->failed_cap * 2 : 64;
		m->failed = xreallocarray(m->failed, m->failed_cap,
		    sizeof *m->failed);
	}
	m->failed[m->nfailed++] = fp;
}

/* Tries a candidate up to m->tries times; on a hit it becomes the best
 * case (and cand is taken over). A case already tried in vain is not tried
 * again. Returns 1 reproduced, 0 not, -1 stop. */
static int
try_candidate(struct mctx *m, struct record *cand)
{
	uint64_t	fp = fingerprint(cand);
	int		v = 0;

	if (failed_before(m, fp)) {
		record_free(cand);
		return 0;
	}
	m->res->candidates++;
	for (unsigned t = 0; t < m->tries; t++) {
		v = attempt(m, cand);
		if (v == 1 && t > 0)
			m->res->flaky = 1;	/* it came back, not every time */
		if (v == 1) {
			record_free(m->res->best);
			m->res->best = cand;
		}
		if (v != -1)
			progress(m, cand, m->stage_name, v);
		if (v != 0)
			break;
	}
	if (v == 0)
		remember_failed(m, fp);
	if (v != 1)
		record_free(cand);
	return v;
}

/* Builds the case that keeps only connections units[0..n). */
static struct record *
build_conns(const struct record *best, const struct munit *units, size_t n)
{
	struct record	*r = record_shell(best, n);

	for (size_t i = 0; i < n; i++)
		conn_copy(&r->conns[i], &best->conns[units[i].conn]);
	r->nconns = n;
	r->has_culprit = best->has_culprit && n > 0 && units[0].conn == 0;
	return r;
}

/* Builds the case that keeps only cuts units[0..n) (sorted). */
static struct record *
build_cuts(const struct record *best, const struct munit *units, size_t n)
{
	struct record	*r = minimize_record_copy(best);
	size_t		 u = 0;

	for (size_t i = 0; i < r->nconns; i++) {
		struct record_conn	*c = &r->conns[i];
		size_t			 ncuts, nk = 0, *cuts = conn_cuts(c, &ncuts);
		size_t			*kept = xcalloc(ncuts + 1, sizeof *kept);
		uint32_t		*gaps = xcalloc(ncuts + 1, sizeof *gaps);

		/* A merged fragment waits as long as its first part did. */
		gaps[0] = c->plan.gaps_us != NULL && c->plan.nfrags > 0 ?
		    c->plan.gaps_us[0] : 0;
		for (; u < n && units[u].conn == i; u++) {
			kept[nk] = cuts[units[u].pos];
			nk++;
			gaps[nk] = c->plan.gaps_us != NULL ?
			    c->plan.gaps_us[units[u].pos + 1] : 0;
		}
		conn_set_cuts(c, kept, nk, gaps);
		free(gaps);
		free(kept);
		free(cuts);
	}
	return r;
}

/* Builds the case that drops every byte not protected (m->keep) and not in
 * units[0..n) (sorted); cuts stay between the same bytes. */
static struct record *
build_bytes(struct mctx *m, const struct record *best,
    const struct munit *units, size_t n)
{
	struct record	*r = minimize_record_copy(best);
	size_t		 u = 0;

	for (size_t i = 0; i < r->nconns; i++) {
		struct record_conn	*c = &r->conns[i];
		const struct record_conn *o = &best->conns[i];
		size_t			 ncuts, *cuts = conn_cuts(o, &ncuts);
		size_t			 len = 0, k = 0;
		unsigned char		*in = xcalloc(o->blob.len + 1, 1);

		for (; u < n && units[u].conn == i; u++)
			in[units[u].pos] = 1;
		for (size_t b = 0; b < o->blob.len; b++) {
			/* A cut at offset b moves to what stays before it. */
			while (k < ncuts && cuts[k] == b)
				cuts[k++] = len;
			if (in[b] || m->keep[i][b])
				c->blob.data[len++] = o->blob.data[b];
		}
		c->blob.len = len;
		conn_set_cuts(c, cuts, ncuts, o->plan.gaps_us);
		free(in);
		free(cuts);
	}
	return r;
}

/* Builds the candidate of the current stage from a subset of units. */
static struct record *
build(struct mctx *m, const struct munit *units, size_t n)
{
	const struct record	*best = m->base;

	switch (m->stage) {
	case MSTAGE_CONNS:
		return build_conns(best, units, n);
	case MSTAGE_CUTS:
		return build_cuts(best, units, n);
	default:
		return build_bytes(m, best, units, n);
	}
}

/* Tests units[0..n) as a candidate. Returns 1, 0 or -1 (stop). */
static int
test(struct mctx *m, const struct munit *units, size_t n)
{
	return try_candidate(m, build(m, units, n));
}

/* Units [lo, hi) of n split into k parts: part i. */
static void
part(size_t n, size_t k, size_t i, size_t *lo, size_t *hi)
{
	*lo = n * i / k;
	*hi = n * (i + 1) / k;
}

/* ddmin over units (which reproduce together): leaves in *units, *n the
 * smallest set found such that dropping any one of them loses the fault.
 * Returns 0, or -1 when the minimization must stop. */
static int
ddmin(struct mctx *m, struct munit **units, size_t *n, int allow_empty)
{
	struct munit	*cur = *units, *sub = xcalloc(*n + 1, sizeof *sub);
	size_t		 k = 2, lo, hi, ns;
	int		 v = 0;

	if (allow_empty && *n > 0 && (v = test(m, NULL, 0)) != 0) {
		*n = v == 1 ? 0 : *n;
		goto out;
	}
	while (*n >= 2) {
		int	reduced = 0;

		/* One part alone, then (with more than two) all but one. */
		for (int comp = 0; comp < 2 && !reduced; comp++) {
			if (comp && k == 2)
				break;
			for (size_t i = 0; i < k && !reduced; i++) {
				part(*n, k, i, &lo, &hi);
				if (comp) {
					memcpy(sub, cur, lo * sizeof *sub);
					memcpy(sub + lo, cur + hi,
					    (*n - hi) * sizeof *sub);
					ns = *n - (hi - lo);
				} else {
					memcpy(sub, cur + lo,
					    (hi - lo) * sizeof *sub);
					ns = hi - lo;
				}
				if ((v = test(m, sub, ns)) == -1)
					goto out;
				if (v == 1) {
					memcpy(cur, sub, ns * sizeof *sub);
					*n = ns;
					k = comp ? (k > 3 ? k - 1 : 2) : 2;
					reduced = 1;
				}
			}
		}
		if (reduced)
			continue;
		if (k >= *n)
			break;
		k = k * 2 < *n ? k * 2 : *n;
	}
	v = 0;
out:
	free(sub);
	return v == -1 ? -1 : 0;
}

/* The units of a stage over the best case so far. */
static struct munit *
stage_units(struct mctx *m, size_t *n)
{
	const struct record	*best = m->base;
	struct munit		*u;
	size_t			 cap = best->nconns;

	for (size_t i = 0; i < best->nconns; i++)
		cap += best->conns[i].blob.len;
	u = xcalloc(cap + 1, sizeof *u);
	*n = 0;
	for (size_t i = 0; i < best->nconns; i++) {
		const struct record_conn	*c = &best->conns[i];
		size_t				 ncuts, *cuts = conn_cuts(c, &ncuts);

		if (m->stage == MSTAGE_CONNS) {
			u[(*n)++] = (struct munit){ .conn = i };
		} else if (m->stage == MSTAGE_CUTS) {
			for (size_t k = 0; k < ncuts; k++)
				u[(*n)++] = (struct munit){ i, k };
		} else {
			for (size_t b = 0; b < c->blob.len; b++) {
				if (!m->keep[i][b])
					u[(*n)++] = (struct munit){ i, b };
			}
		}
		free(cuts);
	}
	return u;
}

/* Marks the bytes next to every cut of the best case: they stay. */
static void
protect_cut_bytes(struct mctx *m)
{
	const struct record	*best = m->base;

	m->keep = xcalloc(best->nconns + 1, sizeof *m->keep);
	for (size_t i = 0; i < best->nconns; i++) {
		const struct record_conn	*c = &best->conns[i];
		size_t				 ncuts, *cuts = conn_cuts(c, &ncuts);

		m->keep[i] = xcalloc(c->blob.len + 1, 1);
		for (size_t k = 0; k < ncuts; k++) {
			m->keep[i][cuts[k] - 1] = 1;
			m->keep[i][cuts[k]] = 1;
		}
		free(cuts);
	}
}

/* Frees the byte protection of the bytes stage. */
static void
unprotect(struct mctx *m, size_t nconns)
{
	if (m->keep == NULL)
		return;
	for (size_t i = 0; i < nconns; i++)
		free(m->keep[i]);
	free(m->keep);
	m->keep = NULL;
}

/* Runs one stage over the best case. Returns 1 if it made the case
 * smaller, 0 if not, -1 when the minimization must stop. */
static int
stage(struct mctx *m, enum mstage s)
{
	struct munit	*units;
	size_t		 n, before;
	uint64_t	 t0 = now_us(m), a0 = m->res->attempts;
	int		 rc;

	/* Units name parts of the case the stage starts from; every
	 * candidate is built from it, whatever became the best since. */
	m->base = minimize_record_copy(m->res->best);
	m->stage = s;
	m->stage_name = stage_names[s];
	if (s == MSTAGE_BYTES)
		protect_cut_bytes(m);
	units = stage_units(m, &n);
	before = n;
	rc = ddmin(m, &units, &n, s != MSTAGE_CONNS);
	m->res->stage_attempts[s] += m->res->attempts - a0;
	m->res->stage_us[s] += now_us(m) - t0;
	unprotect(m, m->base->nconns);
	record_free(m->base);
	m->base = NULL;
	free(units);
	if (rc == -1)
		return -1;
	return n < before;
}

/* Tries rec cfg->tries times (all of them); returns the hits, or -1. */
static int
measure(struct mctx *m, const struct record *rec, const char *what)
{
	int	hits = 0, v;

	for (unsigned t = 0; t < m->cfg->tries; t++) {
		if ((v = attempt(m, rec)) == -1)
			return -1;
		progress(m, rec, what, v);
		hits += v;
	}
	return hits;
}

/* Connections, cuts, bytes; then cuts and bytes again while bytes going
 * made a cut unneeded (a few rounds at most). Returns 0 or -1 (stop). */
static int
stages(struct mctx *m)
{
	int	rc;

	if (m->res->best->nconns > 1 && stage(m, MSTAGE_CONNS) == -1)
		return -1;
	if (stage(m, MSTAGE_CUTS) == -1)
		return -1;
	for (int round = 0; round < 3; round++) {
		if ((rc = stage(m, MSTAGE_BYTES)) <= 0)
			return rc;
		if ((rc = stage(m, MSTAGE_CUTS)) <= 0)
			return rc;
	}
	return 0;
}

/* The check of the record, the stages, the confirmation. */
static void
steps(struct mctx *m, struct record *start)
{
	struct minimize_result	*res = m->res;
	int			 hits;

	if ((hits = measure(m, start, "check")) <= 0) {
		record_free(start);
		res->first_tries = (unsigned)res->attempts;
		res->end = hits == 0 ? MINIMIZE_NOT_REPRODUCIBLE :
		    (enum minimize_end)m->stop;
		return;
	}
	res->first_hits = (unsigned)hits;
	res->flaky = res->first_hits < m->cfg->tries;
	res->best = start;
	m->tries = res->flaky ? m->cfg->tries : 1;
	res->per_candidate = m->tries;
	if (stages(m) == -1 ||
	    (hits = measure(m, res->best, "confirm")) == -1) {
		res->end = (enum minimize_end)m->stop;
		return;
	}
	res->final_hits = (unsigned)hits;
	res->final_tries = m->cfg->tries;
	if (res->final_hits < res->final_tries)
		res->flaky = 1;
	res->end = MINIMIZE_DONE;
}

/* Minimizes rec. */
int
minimize_run(const struct record *rec, const struct minimize_config *cfg,
    struct minimize_result *res)
{
	struct mctx	 m = { .cfg = cfg, .res = res };
	struct record	*start = minimize_record_copy(rec);

	memset(res, 0, sizeof *res);
	m.start_us = now_us(&m);
	for (size_t i = 0; i < start->nconns; i++)
		conn_normalize(&start->conns[i]);
	/* Counted as the progress reports count: what the connections
	 * send (an early close sends only the fragments before it). */
	minimize_size(start, &res->orig_conns, &res->orig_bytes,
	    &res->orig_cuts);
	res->first_tries = cfg->tries;
	steps(&m, start);
	free(m.failed);
	return res->end == MINIMIZE_ERROR ? -1 : 0;
}

/* Is the case 1-minimal as far as a steady fault can tell? */
int
minimize_is_minimal(const struct minimize_result *res)
{
	return res->end == MINIMIZE_DONE && !res->flaky;
}

/* Frees what a result holds. */
void
minimize_result_release(struct minimize_result *res)
{
	if (res == NULL)
		return;
	record_free(res->best);
	res->best = NULL;
	free(res->cause);
	res->cause = NULL;
}

/* Appends bytes as a C-escaped, double-quoted string. */
void
minimize_escape(struct jbuf *b, const unsigned char *p, size_t n)
{
	jbuf_append(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		switch (p[i]) {
		case '\r':
			jbuf_append(b, "\\r", 2);
			break;
		case '\n':
			jbuf_append(b, "\\n", 2);
			break;
		case '\t':
			jbuf_append(b, "\\t", 2);
			break;
		case '\\':
		case '"':
			jbuf_printf(b, "\\%c", p[i]);
			break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x7f)
				jbuf_append(b, (const char *)&p[i], 1);
			else
				jbuf_printf(b, "\\x%02x", p[i]);
		}
	}
	jbuf_append(b, "\"", 1);
}

/* Appends one line per cut of rec. */
void
minimize_describe_cuts(const struct record *rec, size_t context,
    struct jbuf *b)
{
	size_t	total = 0, nth = 0;

	for (size_t i = 0; i < rec->nconns; i++)
		total += rec->conns[i].plan.nfrags > 1 ?
		    rec->conns[i].plan.nfrags - 1 : 0;
	for (size_t i = 0; i < rec->nconns; i++) {
		const struct record_conn	*c = &rec->conns[i];
		size_t				 ncuts, *cuts = conn_cuts(c, &ncuts);

		for (size_t k = 0; k < ncuts; k++) {
			size_t	lo = k > 0 ? cuts[k - 1] : 0;
			size_t	hi = k + 1 < ncuts ? cuts[k + 1] : c->blob.len;

			if (cuts[k] - lo > context)
				lo = cuts[k] - context;
			if (hi - cuts[k] > context)
				hi = cuts[k] + context;
			if (rec->nconns > 1)
				jbuf_printf(b, "conn %zu: ", i + 1);
			jbuf_printf(b, "cut %zu of %zu at byte %zu of %zu: %s",
			    ++nth, total, cuts[k], c->blob.len,
			    lo > (k > 0 ? cuts[k - 1] : 0) ? "..." : "");
			minimize_escape(b, c->blob.data + lo, cuts[k] - lo);
			jbuf_append(b, " | ", 3);
			minimize_escape(b, c->blob.data + cuts[k], hi - cuts[k]);
			if (hi < (k + 1 < ncuts ? cuts[k + 1] : c->blob.len))
				jbuf_append(b, "...", 3);
			jbuf_append(b, "\n", 1);
		}
		free(cuts);
	}
}
