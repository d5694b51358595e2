/* The summary model, its JSON form, and reading that form back (merge). */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "summary.h"
#include "util.h"

/* The counters of struct stats by name, for the "counters" object. */
static const struct {
	const char	*name;
	size_t		 off;
} counters[] = {
	{ "conns_started", offsetof(struct stats, conns_started) },
	{ "conns_established", offsetof(struct stats, conns_established) },
	{ "conns_completed", offsetof(struct stats, conns_completed) },
	{ "early_closes", offsetof(struct stats, early_closes) },
	{ "peer_closed", offsetof(struct stats, peer_closed) },
	{ "drain_timeouts", offsetof(struct stats, drain_timeouts) },
	{ "fastopens", offsetof(struct stats, fastopens) },
	{ "fragments", offsetof(struct stats, fragments) },
	{ "bytes", offsetof(struct stats, bytes) },
	{ "rounds", offsetof(struct stats, rounds) },
	{ "cycles_to_connect", offsetof(struct stats, cycles_to_connect) },
	{ "ready", offsetof(struct stats, ready) },
	{ "not_ready", offsetof(struct stats, not_ready) },
	{ "local_errors", offsetof(struct stats, local_errors) },
	{ "cuts_possible", offsetof(struct stats, cuts_possible) },
	{ "cuts_used", offsetof(struct stats, cuts_used) },
	{ "fid_checked", offsetof(struct stats, fid_checked) },
	{ "fid_ok", offsetof(struct stats, fid_ok) },
};
#define NCOUNTERS	(sizeof counters / sizeof counters[0])

/* Makes an empty model. */
struct summary *
summary_new(void)
{
	return xcalloc(1, sizeof(struct summary));
}

/* Frees a model; accepts NULL. */
void
summary_free(struct summary *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nfindings; i++) {
		struct summary_finding	*f = &s->findings[i];

		free(f->blob);
		free(f->cut);
		free(f->detail);
		free(f->phase);
		free(f->record);
		free(f->reproduce);
		free(f->run_id);
	}
	for (size_t i = 0; i < s->nblobs; i++)
		free(s->blobs[i].name);
	for (size_t i = 0; i < s->nruns; i++)
		free(s->runs[i]);
	free(s->runs);
	free(s->blobs);
	free(s->findings);
	free(s->table);
	free(s->target);
	free(s->pace);
	free(s->stopped);
	free(s->started);
	free(s->findings_dir);
	free(s->blob_dir);
	free(s->run_id);
	free(s);
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Identity of a finding. */
uint64_t
summary_key(enum finding_kind kind, const unsigned char *data, size_t len,
    const uint32_t *cut, uint32_t ncut, size_t sent_bytes, int early,
    const char *detail)
{
	const char	*name = finding_kind_name(kind);
	uint64_t	 h = 0xcbf29ce484222325ULL, n64 = len, s64 = sent_bytes;

	h = fnv(h, name, strlen(name) + 1);
	if (data == NULL) {
		if (detail != NULL)
			h = fnv(h, detail, strlen(detail));
		return h;
	}
	h = fnv(h, data, len);
	h = fnv(h, &n64, sizeof n64);
	h = fnv(h, &ncut, sizeof ncut);
	for (uint32_t i = 0; i < ncut; i++)
		h = fnv(h, &cut[i], sizeof cut[i]);
	h = fnv(h, &s64, sizeof s64);
	h = fnv(h, &early, sizeof early);
	return h;
}

/* Duplicates a string that may be NULL, as valid UTF-8. */
static char *
text_or_null(const char *s)
{
	return s != NULL ? summary_text(s) : NULL;
}

/* The table slot of key: where it is, or the free slot to put it. */
static size_t
summary_slot(const struct summary *s, uint64_t key, enum finding_kind kind)
{
	size_t	mask = s->table_cap - 1, i = (size_t)key & mask;

	while (s->table[i] != 0) {
		const struct summary_finding	*f = &s->findings[s->table[i] - 1];

		if (f->key == key && f->kind == kind)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

/* Doubles the table (or makes it) and puts every finding back. */
static void
summary_grow(struct summary *s)
{
	free(s->table);
	s->table_cap = s->table_cap ? s->table_cap * 2 : 64;
	s->table = xcalloc(s->table_cap, sizeof *s->table);
	for (size_t i = 0; i < s->nfindings; i++)
		s->table[summary_slot(s, s->findings[i].key,
		    s->findings[i].kind)] = i + 1;
}

/* The finding of kind with identity key, or NULL. */
struct summary_finding *
summary_find(struct summary *s, enum finding_kind kind, uint64_t key)
{
	size_t	slot;

	if (s->table == NULL)
		return NULL;
	slot = summary_slot(s, key, kind);
	return s->table[slot] != 0 ? &s->findings[s->table[slot] - 1] : NULL;
}

/* Adds a finding, or counts it. */
struct summary_finding *
summary_add(struct summary *s, const struct summary_finding *in)
{
	struct summary_finding	*f;
	size_t			 slot;

	if (s->table == NULL || (s->nfindings + 1) * 2 > s->table_cap)
		summary_grow(s);
	slot = summary_slot(s, in->key, in->kind);
	if (s->table[slot] != 0) {
		f = &s->findings[s->table[slot] - 1];
		f->count += in->count;
		if (f->record == NULL && in->record != NULL)
			f->record = summary_text(in->record);
		if (f->reproduce == NULL && in->reproduce != NULL)
			f->reproduce = summary_text(in->reproduce);
		return f;
	}
	if (s->nfindings >= SUMMARY_MAX_FINDINGS) {
		s->over_cap++;
		return NULL;
	}
	if (s->nfindings == s->findings_cap) {
		s->findings_cap = s->findings_cap ? s->findings_cap * 2 : 16;
		s->findings = xreallocarray(s->findings, s->findings_cap,
		    sizeof *s->findings);
	}
	s->table[slot] = s->nfindings + 1;
	f = &s->findings[s->nfindings++];
	*f = *in;
	f->blob = text_or_null(in->blob);
	f->detail = text_or_null(in->detail);
	f->phase = text_or_null(in->phase);
	f->record = text_or_null(in->record);
	f->reproduce = text_or_null(in->reproduce);
	f->run_id = text_or_null(in->run_id);
	f->cut = NULL;
	if (in->ncut > 0) {
		f->cut = xreallocarray(NULL, in->ncut, sizeof *f->cut);
		memcpy(f->cut, in->cut, in->ncut * sizeof *f->cut);
	}
	return f;
}

/* Adds a blob of the corpus with its coverage. */
void
summary_add_blob(struct summary *s, const char *name, size_t size,
    uint64_t possible, uint64_t used)
{
	struct summary_blob	*b;

	s->blobs = xreallocarray(s->blobs, s->nblobs + 1, sizeof *s->blobs);
	b = &s->blobs[s->nblobs++];
	b->name = summary_text(name);
	b->size = size;
	b->cuts_possible = possible;
	b->cuts_used = used;
}

/* Adds every counter of from to to. */
void
summary_add_totals(struct stats *to, const struct stats *from)
{
	for (size_t i = 0; i < NCOUNTERS; i++)
		*(uint64_t *)((char *)to + counters[i].off) +=
		    *(const uint64_t *)((const char *)from + counters[i].off);
	for (int k = 0; k < FINDING__COUNT; k++)
		to->findings[k] += from->findings[k];
}

/* Is a kind one that fails the run? */
int
summary_fails(const struct summary *s, enum finding_kind k)
{
	return (s->fail_on & FINDING_BIT(k)) != 0;
}

/* Findings of kinds that fail the run. */
uint64_t
summary_failing(const struct summary *s)
{
	uint64_t	n = 0;

	for (int k = 0; k < FINDING__COUNT; k++)
		if (summary_fails(s, (enum finding_kind)k))
			n += s->totals.findings[k];
	return n;
}

/* Sets key of o to a string (or null). */
static void
set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v != NULL ? json_string(v) : json_null());
}

/* The kinds of a mask as an array of names. */
static json_t *
kinds_json(unsigned mask)
{
	json_t	*a = json_array();

	for (int k = 0; k < FINDING__COUNT; k++)
		if (mask & FINDING_BIT(k))
			json_array_append_new(a, json_string(
			    finding_kind_name((enum finding_kind)k)));
	return a;
}

/* The live-statistics object of the totals (stats.c formats it). */
static json_t *
totals_json(const struct summary *s)
{
	struct stats		zero = { 0 };
	struct stats_rates	rates;
	json_t			*t;

	stats_rates(&s->totals, &zero, s->seconds, &rates);
	t = stats_json(&s->totals, &rates);
	return t != NULL ? t : json_object();
}

/* One finding as a JSON object. */
static json_t *
finding_json(const struct summary *s, const struct summary_finding *f)
{
	json_t	*o = json_object(), *cut = json_array();
	char	*text = summary_cut_text(f);
	char	 seed[24];

	json_object_set_new(o, "kind", json_string(finding_kind_name(f->kind)));
	json_object_set_new(o, "failing", json_boolean(summary_fails(s,
	    f->kind)));
	json_object_set_new(o, "count", json_integer((json_int_t)f->count));
	set_str(o, "record", f->record);
	set_str(o, "blob", f->blob);
	if (f->blob != NULL) {
		json_object_set_new(o, "blob_size",
		    json_integer((json_int_t)f->blob_size));
		json_object_set_new(o, "blob_sha256",
		    json_string(f->blob_sha256));
		for (uint32_t i = 0; i < f->ncut; i++)
			json_array_append_new(cut, json_integer(f->cut[i]));
		json_object_set_new(o, "sent_bytes",
		    json_integer((json_int_t)f->sent_bytes));
		json_object_set_new(o, "early_close", json_boolean(f->early));
	}
	json_object_set_new(o, "cut", cut);
	json_object_set_new(o, "cut_text", json_string(text));
	set_str(o, "detail", f->detail);
	set_str(o, "phase", f->phase);
	json_object_set_new(o, "at_s", json_real(f->at_s));
	snprintf(seed, sizeof seed, "%" PRIu64, f->seed);
	json_object_set_new(o, "seed", json_string(seed));
	set_str(o, "run_id", f->run_id);
	set_str(o, "reproduce", f->reproduce);
	free(text);
	return o;
}

/* The figures and the model's lists, added to the summary object o. */
static void
summary_lists_json(const struct summary *s, json_t *o)
{
	json_t	*c = json_object(), *fl = json_array(), *bl = json_array();

	for (size_t i = 0; i < NCOUNTERS; i++)
		json_object_set_new(c, counters[i].name, json_integer(
		    (json_int_t)*(const uint64_t *)((const char *)&s->totals +
		    counters[i].off)));
	json_object_set_new(o, "counters", c);
	for (size_t i = 0; i < s->nfindings; i++)
		json_array_append_new(fl, finding_json(s, &s->findings[i]));
	json_object_set_new(o, "distinct_findings", fl);
	json_object_set_new(o, "distinct_over_cap",
	    json_integer((json_int_t)s->over_cap));
	for (size_t i = 0; i < s->nblobs; i++) {
		const struct summary_blob	*b = &s->blobs[i];

		json_array_append_new(bl, json_pack("{s:s,s:I,s:I,s:I}",
		    "blob", b->name, "size", (json_int_t)b->size,
		    "cuts_possible", (json_int_t)b->cuts_possible,
		    "cuts_used", (json_int_t)b->cuts_used));
	}
	json_object_set_new(o, "corpus", bl);
	if (s->merged) {
		json_t	*r = json_array();

		for (size_t i = 0; i < s->nruns; i++)
			json_array_append_new(r, json_string(s->runs[i]));
		json_object_set_new(o, "runs", r);
	}
}

/* Formats the model as the --summary JSON text: the keys of the first
 * format first, in their order, then the added ones. */
char *
summary_json(const struct summary *s)
{
	json_t	*o = json_object(), *fk = json_object();
	char	 seed[24], *text, *out;

	json_object_set_new(o, "format", json_string(SUMMARY_FORMAT));
	json_object_set_new(o, "format_version", json_integer(1));
	json_object_set_new(o, "tool_version", json_string(STUTTERFUZZ_VERSION));
	snprintf(seed, sizeof seed, "%" PRIu64, s->seed);
	set_str(o, "seed", s->seed_set ? seed : NULL);
	set_str(o, "target", s->target);
	set_str(o, "pace", s->pace);
	set_str(o, "stopped", s->stopped);
	json_object_set_new(o, "exit_code", json_integer(s->exit_code));
	json_object_set_new(o, "totals", totals_json(s));
	for (int k = 0; k < FINDING__COUNT; k++)
		json_object_set_new(fk, finding_kind_name((enum finding_kind)k),
		    json_integer((json_int_t)s->totals.findings[k]));
	json_object_set_new(o, "findings", fk);
	if (s->findings_dir != NULL)
		set_str(o, "findings_dir", s->findings_dir);
	json_object_set_new(o, "target_restarts",
	    json_integer((json_int_t)s->restarts));
	json_object_set_new(o, "source", json_string(s->merged ? "merge" :
	    "run"));
	set_str(o, "started", s->started);
	json_object_set_new(o, "seconds", json_real(s->seconds));
	json_object_set_new(o, "fail_on", kinds_json(s->fail_on));
	json_object_set_new(o, "failing",
	    json_integer((json_int_t)summary_failing(s)));
	if (s->run_id != NULL)
		set_str(o, "run_id", s->run_id);
	if (s->blob_dir != NULL)
		set_str(o, "blob_dir", s->blob_dir);
	if (summary_target_kind(s) != NULL)
		set_str(o, "target_kind", summary_target_kind(s));
	summary_lists_json(s, o);
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(10));
	json_decref(o);
	out = xasprintf("%s\n", text != NULL ? text : "{}");
	free(text);
	return out;
}

/* The kind of the run's target: "unix" for a Unix socket ("unix:PATH"),
 * "tcp" for an address and port, NULL when unknown or several. */
const char *
summary_target_kind(const struct summary *s)
{
	if (s->target == NULL || strcmp(s->target, SUMMARY_SEVERAL_TARGETS) == 0)
		return NULL;
	return strncmp(s->target, "unix:", 5) == 0 ? "unix" : "tcp";
}

/* A string member of o, copied, or NULL. */
static char *
get_text(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	return json_is_string(v) ? summary_text(json_string_value(v)) : NULL;
}

/* A non-negative integer member of o, or -1 if it is something else. */
static int
get_count(const json_t *o, const char *key, uint64_t *out)
{
	const json_t	*v = json_object_get(o, key);

	if (v == NULL) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Reads "counters" and "findings" into s->totals. */
static int
read_counts(struct summary *s, const json_t *o, char **cause)
{
	const json_t	*c = json_object_get(o, "counters");
	const json_t	*fk = json_object_get(o, "findings");

	if (!json_is_object(c) || !json_is_object(fk)) {
		*cause = xasprintf("no \"counters\" or \"findings\" object");
		return -1;
	}
	for (size_t i = 0; i < NCOUNTERS; i++) {
		if (get_count(c, counters[i].name, (uint64_t *)((char *)
		    &s->totals + counters[i].off)) == -1) {
			*cause = xasprintf("counter \"%s\" is not a count",
			    counters[i].name);
			return -1;
		}
	}
	for (int k = 0; k < FINDING__COUNT; k++) {
		const char	*name = finding_kind_name((enum finding_kind)k);

		if (get_count(fk, name, &s->totals.findings[k]) == -1) {
			*cause = xasprintf("findings \"%s\" is not a count",
			    name);
			return -1;
		}
	}
	return 0;
}

/* Reads fail_on's kind names into s->fail_on. */
static int
read_fail_on(struct summary *s, const json_t *o, char **cause)
{
	const json_t	*a = json_object_get(o, "fail_on"), *v;
	size_t		 i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a)) {
		*cause = xasprintf("\"fail_on\" is not an array");
		return -1;
	}
	json_array_foreach(a, i, v) {
		int	k;

		for (k = 0; k < FINDING__COUNT; k++)
			if (json_is_string(v) && strcmp(json_string_value(v),
			    finding_kind_name((enum finding_kind)k)) == 0)
				break;
		if (k == FINDING__COUNT) {
			*cause = xasprintf("\"fail_on\" holds an unknown kind");
			return -1;
		}
		s->fail_on |= FINDING_BIT(k);
	}
	return 0;
}

/* The text members a summary may hold: each a string, or null. And the
 * seed, when there is one, a decimal string. */
static int
read_check_texts(const json_t *o, char **cause)
{
	static const char *const keys[] = {
		"target", "pace", "stopped", "started", "run_id", "blob_dir",
		"source", "findings_dir", "seed",
	};
	const json_t	*v;
	const char	*seed;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		v = json_object_get(o, keys[i]);
		if (v != NULL && !json_is_string(v) && !json_is_null(v)) {
			*cause = xasprintf("\"%s\" is not a string", keys[i]);
			return -1;
		}
	}
	seed = json_string_value(json_object_get(o, "seed"));
	if (seed != NULL && !util_decimal_u64(seed)) {
		*cause = xasprintf("\"seed\" is not a decimal number");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		const char	*key = i ? "distinct_findings" : "corpus";

		v = json_object_get(o, key);
		if (v != NULL && !json_is_array(v)) {
			*cause = xasprintf("\"%s\" is not an array", key);
			return -1;
		}
	}
	return 0;
}

/* Reads "corpus" and "distinct_findings". */
static int
read_lists(struct summary *s, const json_t *o, summary_finding_fn fn,
    void *arg, char **cause)
{
	const json_t	*a, *v;
	size_t		 i;

	a = json_object_get(o, "corpus");
	json_array_foreach(a, i, v) {
		const json_t	*name = json_object_get(v, "blob");
		uint64_t	 size, possible, used;

		if (!json_is_string(name) || get_count(v, "size", &size) ||
		    get_count(v, "cuts_possible", &possible) ||
		    get_count(v, "cuts_used", &used) || used > possible) {
			*cause = xasprintf("corpus entry %zu is not a blob", i);
			return -1;
		}
		summary_add_blob(s, json_string_value(name), size, possible,
		    used);
	}
	a = json_object_get(o, "distinct_findings");
	json_array_foreach(a, i, v) {
		const json_t	*rec = json_object_get(v, "record");
		const json_t	*at = json_object_get(v, "at_s");
		uint64_t	 count;

		if (!json_is_object(v) || get_count(v, "count", &count) == -1 ||
		    (rec != NULL && !json_is_string(rec) &&
		    !json_is_null(rec)) ||
		    (at != NULL && !json_is_number(at))) {
			*cause = xasprintf("finding %zu: bad count or time", i);
			return -1;
		}
		if (json_is_string(rec) && fn != NULL)
			fn(arg, json_string_value(rec), count,
			    at != NULL ? json_number_value(at) : 0);
	}
	return 0;
}

/* Reads the figures of a summary JSON text into s. */
int
summary_read_json(struct summary *s, const char *text, size_t len,
    summary_finding_fn per_finding, void *arg, char **cause)
{
	json_error_t	 err;
	json_t		*o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	const json_t	*v;
	int		 rc = -1;

	if (o == NULL) {
		*cause = xasprintf("not JSON: %s (line %d)", err.text, err.line);
		return -1;
	}
	v = json_object_get(o, "format");
	if (!json_is_object(o) || !json_is_string(v) ||
	    strcmp(json_string_value(v), SUMMARY_FORMAT) != 0) {
		*cause = xasprintf("not a stutterfuzz summary");
		goto out;
	}
	v = json_object_get(o, "source");
	s->merged = json_is_string(v) && strcmp(json_string_value(v),
	    "merge") == 0;
	v = json_object_get(o, "seconds");
	if (v != NULL && (!json_is_number(v) || json_number_value(v) < 0)) {
		*cause = xasprintf("\"seconds\" is not a duration");
		goto out;
	}
	s->seconds = v != NULL ? json_number_value(v) : 0;
	if (read_counts(s, o, cause) == -1 || read_fail_on(s, o, cause) == -1 ||
	    read_check_texts(o, cause) == -1)
		goto out;
	v = json_object_get(o, "seed");
	if (json_is_string(v)) {
		char	*end;

		errno = 0;
		s->seed = strtoull(json_string_value(v), &end, 10);
		s->seed_set = errno == 0 && *end == '\0' &&
		    end != json_string_value(v);
	}
	s->target = get_text(o, "target");
	s->pace = get_text(o, "pace");
	s->stopped = get_text(o, "stopped");
	s->started = get_text(o, "started");
	s->run_id = get_text(o, "run_id");
	s->blob_dir = get_text(o, "blob_dir");
	if (get_count(o, "target_restarts", &s->restarts) == -1) {
		*cause = xasprintf("\"target_restarts\" is not a count");
		goto out;
	}
	rc = read_lists(s, o, per_finding, arg, cause);
out:
	json_decref(o);
	return rc;
}
