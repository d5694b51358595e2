/* Merging findings directories into one. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "json.h"
#include "merge.h"
#include "options.h"
#include "record.h"
#include "report.h"
#include "sha256.h"
#include "summary.h"
#include "util.h"

#define MERGE_MAX_SUMMARY	(64UL * 1024 * 1024)	/* and run index */
#define MERGE_MAX_STATS		(256UL * 1024 * 1024)

/* A record named by a run's summary: how often it happened, and when. */
struct merge_count {
	char	*name;		/* the record's file name */
	uint64_t count;
	double	 at_s;
};

/* Names to indexes, by open addressing (records and blobs can be many). */
struct strmap {
	char	**keys;
	size_t	 *vals;
	size_t	  cap;		/* a power of two, or 0 */
	size_t	  n;
};

struct merge_state {
	const struct merge_config *cfg;
	struct summary		*s;
	struct merge_count	*counts;	/* from the runs merged */
	size_t			 ncounts;
	struct merge_count	*pending;	/* from the summary being read */
	size_t			 npending;
	struct strmap		 count_of;	/* record name -> counts index */
	struct strmap		 names;		/* record files merged already */
	struct strmap		 blob_of;	/* blob name -> s->blobs index */
	unsigned		 fail_on;	/* union of the runs' */
	int			 fail_on_seen;
	int			 seeds;		/* runs with a seed; -1 differ */
	struct stat		 out_st;
};

/* FNV-1a of a string. */
static size_t
str_hash(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (size_t)h;
}

/* The slot of key in m: where it is, or where it would go. */
static size_t
strmap_slot(const struct strmap *m, const char *key)
{
	size_t	i = str_hash(key) & (m->cap - 1);

	while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* The value of key, or NULL. */
static size_t *
strmap_find(const struct strmap *m, const char *key)
{
	size_t	i;

	if (m->cap == 0)
		return NULL;
	i = strmap_slot(m, key);
	return m->keys[i] != NULL ? &m->vals[i] : NULL;
}

/* Sets key to val (the map grows to stay at most half full). */
static void
strmap_put(struct strmap *m, const char *key, size_t val)
{
	size_t	i;

	if ((m->n + 1) * 2 > m->cap) {
		struct strmap	old = *m;

		m->cap = m->cap ? m->cap * 2 : 64;
		m->keys = xcalloc(m->cap, sizeof *m->keys);
		m->vals = xcalloc(m->cap, sizeof *m->vals);
		for (size_t j = 0; j < old.cap; j++) {
			if (old.keys[j] == NULL)
				continue;
			i = strmap_slot(m, old.keys[j]);
			m->keys[i] = old.keys[j];
			m->vals[i] = old.vals[j];
		}
		free(old.keys);
		free(old.vals);
	}
	i = strmap_slot(m, key);
	if (m->keys[i] == NULL) {
		m->keys[i] = xstrdup(key);
		m->n++;
	}
	m->vals[i] = val;
}

/* Frees a map's contents. */
static void
strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
}

/* Adds a string to a list. */
static void
list_add(char ***list, size_t *n, const char *s)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = xstrdup(s);
}

/* Is s in the list? */
static int
list_has(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* The last path component of p. */
static const char *
base_name(const char *p)
{
	const char	*slash = strrchr(p, '/');

	return slash != NULL ? slash + 1 : p;
}

/* summary_read_json callback: remember a record's count and time. */
static void
merge_note(void *arg, const char *record, uint64_t count, double at_s)
{
	struct merge_state	*m = arg;
	struct merge_count	*c;

	m->pending = xreallocarray(m->pending, m->npending + 1,
	    sizeof *m->pending);
	c = &m->pending[m->npending++];
	c->name = xstrdup(base_name(record));
	c->count = count;
	c->at_s = at_s;
}

/* Drops the counts of the summary being read. */
static void
merge_drop_pending(struct merge_state *m)
{
	for (size_t i = 0; i < m->npending; i++)
		free(m->pending[i].name);
	m->npending = 0;
}

/* Reads a whole regular file of at most max bytes. */
char *
merge_read_file(const char *path, size_t max, size_t *len, char **cause)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n = 0;
	int		 fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
			    O_NOCTTY);

	if (fd == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		*cause = S_ISREG(st.st_mode) ? xasprintf("%s: larger than the "
		    "%zu MiB it may be", path, max >> 20) :
		    xasprintf("%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	/* One byte more than it may hold: a file still growing is caught. */
	buf = xmalloc((size_t)st.st_size + 2);
	while (off <= (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (n == -1 || off > (size_t)st.st_size) {
		*cause = n == -1 ? xasprintf("%s: %s", path, strerror(errno)) :
		    xasprintf("%s: changed while it was read", path);
		free(buf);
		return NULL;
	}
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* Writes text, read from src, to dir/name through a temporary file,
 * unless src is that file already. */
static int
merge_copy(const char *src, const char *text, size_t len, const char *dir,
    const char *name, char **cause)
{
	char		*dst, *tmp;
	struct stat	 a, b;
	int		 rc = 0;

	if (dir == NULL)		/* reading only (report, the check) */
		return 0;
	dst = xasprintf("%s/%s", dir, name);
	tmp = xasprintf("%s/.tmp-%d-%s", dir, (int)getpid(), name);
	if (stat(src, &a) == -1 || stat(dst, &b) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		rc = util_write_atomic(tmp, dst, text, len, cause);
	free(tmp);
	free(dst);
	return rc;
}

/* Folds one run's figures into the merged model. */
static void
merge_fold(struct merge_state *m, const struct summary *r)
{
	struct summary	*s = m->s;

	summary_add_totals(&s->totals, &r->totals);
	if (r->seconds > s->seconds)	/* shards run side by side */
		s->seconds = r->seconds;
	s->restarts += r->restarts;
	if (r->fail_on != 0 || m->fail_on_seen) {
		m->fail_on |= r->fail_on;
		m->fail_on_seen = 1;
	}
	if (m->seeds >= 0 && r->seed_set) {
		if (m->seeds > 0 && s->seed != r->seed)
			m->seeds = -1;
		else
			s->seed = r->seed, m->seeds++;
	}
	if (s->target == NULL && r->target != NULL)
		s->target = xstrdup(r->target);
	else if (r->target != NULL && strcmp(s->target, r->target) != 0) {
		free(s->target);
		s->target = xstrdup("several targets");
	}
	if (s->pace == NULL && r->pace != NULL)
		s->pace = xstrdup(r->pace);
	if (s->blob_dir == NULL && r->blob_dir != NULL)
		s->blob_dir = xstrdup(r->blob_dir);
	if (r->started != NULL && (s->started == NULL ||
	    strcmp(r->started, s->started) < 0)) {
		free(s->started);
		s->started = xstrdup(r->started);
	}
}

/* Folds one run's corpus coverage in: a blob seen by several runs keeps
 * the highest coverage (their bitmaps are not kept). */
static void
merge_fold_blobs(struct merge_state *m, const struct summary *r)
{
	for (size_t i = 0; i < r->nblobs; i++) {
		const struct summary_blob	*b = &r->blobs[i];
		size_t				*j = strmap_find(&m->blob_of,
						    b->name);

		if (j == NULL) {
			strmap_put(&m->blob_of, b->name, m->s->nblobs);
			summary_add_blob(m->s, b->name, b->size,
			    b->cuts_possible, b->cuts_used);
		} else if (b->cuts_used > m->s->blobs[*j].cuts_used)
			m->s->blobs[*j].cuts_used = b->cuts_used;
	}
}

/* Reads dir/name, a run's summary; counts it unless its run was merged. */
static int
merge_run_summary(struct merge_state *m, const char *dir, const char *name,
    char **cause)
{
	char		*path = xasprintf("%s/%s", dir, name), *text, *why = NULL;
	char		*id = NULL;
	struct summary	*r = summary_new();
	size_t		 len;
	int		 rc = -1;

	text = merge_read_file(path, MERGE_MAX_SUMMARY, &len, cause);
	if (text == NULL)
		goto out;
	if (summary_read_json(r, text, len, merge_note, m, &why) == -1) {
		*cause = xasprintf("%s: %s", path, why);
		goto out;
	}
	if (r->merged) {		/* a merge's own: derived, skip */
		rc = 0;
		goto out;
	}
	id = r->run_id != NULL ? xstrdup(r->run_id) :
	    xasprintf("%.*s", (int)(strlen(name) - 13), name + 8);
	if (!list_has(m->s->runs, m->s->nruns, id)) {
		list_add(&m->s->runs, &m->s->nruns, id);
		merge_fold(m, r);
		merge_fold_blobs(m, r);
		if (m->npending > 0) {
			m->counts = xreallocarray(m->counts, m->ncounts +
			    m->npending, sizeof *m->counts);
			memcpy(m->counts + m->ncounts, m->pending, m->npending *
			    sizeof *m->pending);
			for (size_t i = 0; i < m->npending; i++)
				strmap_put(&m->count_of, m->pending[i].name,
				    m->ncounts + i);
			m->ncounts += m->npending;
			m->npending = 0;
		}
		if (merge_copy(path, text, len, m->cfg->output, name,
		    cause) == -1)
			goto out;
	}
	rc = 0;
out:
	merge_drop_pending(m);
	summary_free(r);
	free(text);
	free(path);
	free(why);
	free(id);
	return rc;
}

/* The kind a record names, or FINDING__COUNT. */
static enum finding_kind
merge_kind(const char *name)
{
	int	k;

	for (k = 0; k < FINDING__COUNT; k++)
		if (strcmp(name, finding_kind_name((enum finding_kind)k)) == 0)
			break;
	return (enum finding_kind)k;
}

/* The run id in a record's file name (KIND-STAMP-RUNID-N.json), or NULL. */
static char *
merge_record_run(const char *name)
{
	const char	*end = strrchr(name, '-'), *start;

	if (end == NULL || end == name)
		return NULL;
	for (start = end - 1; start > name && start[-1] != '-'; start--)
		;
	return start > name ? xasprintf("%.*s", (int)(end - start), start) :
	    NULL;
}

/* The model's entry for a loaded record. */
static void
merge_entry(struct merge_state *m, const struct record *rec,
    const char *dir, const char *name, struct summary_finding *f)
{
	struct jbuf	 b = { 0 };
	const size_t	*ci = strmap_find(&m->count_of, name);

	f->count = ci != NULL ? m->counts[*ci].count : 1;
	f->at_s = ci != NULL ? m->counts[*ci].at_s : 0;
	f->detail = rec->detail;
	f->phase = rec->phase;
	f->seed = rec->seed;
	if (rec->has_culprit) {
		const struct record_conn	*c = &rec->conns[0];

		f->blob = c->blob.name;
		f->blob_size = c->blob.len;
		sha256_hex(c->blob.data, c->blob.len, f->blob_sha256);
		f->cut = c->plan.sizes;
		f->ncut = c->frags_sent;
		f->sent_bytes = c->bytes_sent;
		f->early = c->plan.close_after < c->plan.nfrags;
	}
	f->key = summary_key(f->kind, rec->has_culprit ?
	    rec->conns[0].blob.data : NULL, f->blob_size, f->cut, f->ncut,
	    f->sent_bytes, f->early, f->detail);
	f->record = xasprintf("%s/%s", m->cfg->output != NULL ?
	    m->cfg->output : dir, name);
	jbuf_printf(&b, "stutterfuzz replay ");
	options_shell_quote(&b, f->record);
	f->reproduce = b.s;
	f->run_id = merge_record_run(name);
}

/* Reads dir/name, a record, and adds it; a new one is copied. */
static int
merge_record(struct merge_state *m, const char *dir, const char *name,
    char **cause)
{
	char			*path = xasprintf("%s/%s", dir, name);
	struct record		*rec;
	struct summary_finding	 f = { 0 };
	size_t			 before = m->s->nfindings;
	int			 rc = 0;

	if (strmap_find(&m->names, name) != NULL) {	/* the same file */
		free(path);
		return 0;
	}
	rec = record_load(path, cause);
	if (rec == NULL) {
		free(path);
		return -1;
	}
	f.kind = merge_kind(rec->kind);
	if (f.kind == FINDING__COUNT) {
		*cause = xasprintf("%s: unknown finding kind", path);
		rc = -1;
		goto out;
	}
	strmap_put(&m->names, name, 0);
	merge_entry(m, rec, dir, name, &f);
	if (summary_add(m->s, &f) != NULL && m->s->nfindings > before &&
	    m->cfg->output != NULL) {
		size_t	 len;
		char	*text = merge_read_file(path, RECORD_MAX_FILE, &len,
			    cause);

		rc = text == NULL ? -1 : merge_copy(path, text, len,
		    m->cfg->output, name, cause);
		free(text);
	}
out:
	free(f.record);
	free(f.reproduce);
	free(f.run_id);
	record_free(rec);
	free(path);
	return rc;
}

/* A member of a run index that must be a count if present. */
static int
index_count(const json_t *o, const char *key, int optional, char **why)
{
	const json_t	*v = json_object_get(o, key);

	if ((v == NULL && optional) ||
	    (json_is_integer(v) && json_integer_value(v) >= 0))
		return 0;
	*why = xasprintf("'%s' is %s", key, v == NULL ? "missing" :
	    "not a count");
	return -1;
}

/* Checks a run index's JSON: what recorder_finish writes. */
static int
index_check(const json_t *o, char **why)
{
	const json_t	*recs = json_object_get(o, "records"), *v, *e;
	const char	*fmt = json_string_value(json_object_get(o, "format"));
	const char	*seed = json_string_value(json_object_get(o, "seed"));
	size_t		 i;

	if (!json_is_object(o) || fmt == NULL ||
	    strcmp(fmt, "stutterfuzz-run") != 0) {
		*why = xstrdup("not a stutterfuzz run index");
		return -1;
	}
	v = json_object_get(o, "format_version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		*why = xstrdup("run index format version not supported (this "
		    "version reads 1)");
		return -1;
	}
	if (seed == NULL || !util_decimal_u64(seed)) {
		*why = xstrdup("'seed' is not a decimal string");
		return -1;
	}
	if (index_count(o, "records_written", 1, why) == -1 ||
	    index_count(o, "duplicates", 1, why) == -1 ||
	    index_count(o, "over_cap", 1, why) == -1)
		return -1;
	if (!json_is_array(recs)) {
		*why = xstrdup("'records' is not an array");
		return -1;
	}
	json_array_foreach(recs, i, e) {
		const char	*file = json_string_value(json_object_get(e,
				    "file"));
		const char	*kind = json_string_value(json_object_get(e,
				    "kind"));

		const char	*bad = NULL;
		char		*what = NULL;

		if (!json_is_object(e))
			bad = "not an object";
		else if (file == NULL || *file == '\0' ||
		    strchr(file, '/') != NULL)
			bad = "'file' is not a file name";
		else if (kind == NULL || merge_kind(kind) == FINDING__COUNT)
			bad = "'kind' is not a finding kind";
		else if (index_count(e, "count", 0, &what) == -1)
			bad = what;
		if (bad != NULL) {
			*why = xasprintf("'records' entry %zu: %s", i + 1, bad);
			free(what);
			return -1;
		}
	}
	return 0;
}

/* Reads dir/name, a run index: nothing of it is merged (the summary
 * holds the counts), but a corrupt one is bad input. */
static int
merge_run_index(const char *dir, const char *name, char **cause)
{
	char		*path = xasprintf("%s/%s", dir, name), *text, *why = NULL;
	json_error_t	 err;
	json_t		*o = NULL;
	size_t		 len;
	int		 rc = -1;

	if ((text = merge_read_file(path, MERGE_MAX_SUMMARY, &len,
	    cause)) == NULL)
		goto out;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL)
		*cause = xasprintf("%s: not JSON: %s (line %d)", path,
		    err.text, err.line);
	else if (index_check(o, &why) == -1)
		*cause = xasprintf("%s: %s", path, why);
	else
		rc = 0;
out:
	json_decref(o);
	free(why);
	free(text);
	free(path);
	return rc;
}

/* Reads dir/name, a run's statistics lines, checks each as report reads
 * it (report_parse_stats), and copies it. */
static int
merge_stats(struct merge_state *m, const char *dir, const char *name,
    char **cause)
{
	char			*path = xasprintf("%s/%s", dir, name), *text;
	char			*why = NULL;
	struct report_series	 rs = { 0 };
	size_t			 len;
	int			 rc = -1;

	if ((text = merge_read_file(path, MERGE_MAX_STATS, &len,
	    cause)) == NULL)
		goto out;
	if (report_parse_stats(&rs, text, len, &why) == -1) {
		*cause = xasprintf("%s: %s", path, why);
		goto out;
	}
	rc = merge_copy(path, text, len, m->cfg->output, name, cause);
out:
	report_series_clear(&rs);
	free(why);
	free(text);
	free(path);
	return rc;
}

/* What a file of a findings directory is. */
enum merge_file {
	MF_OTHER,
	MF_RECORD,
	MF_SUMMARY,
	MF_INDEX,
	MF_STATS,
};

/* Classifies a file name. */
static enum merge_file
merge_classify(const char *name)
{
	size_t	n = strlen(name);

	if (name[0] == '.' || strcmp(name, MERGE_SUMMARY) == 0)
		return MF_OTHER;
	if (n > 13 && strncmp(name, "summary-", 8) == 0 &&
	    strcmp(name + n - 5, ".json") == 0)
		return MF_SUMMARY;
	if (strncmp(name, "run-", 4) == 0 && n > 9 &&
	    strcmp(name + n - 5, ".json") == 0)
		return MF_INDEX;
	if (strncmp(name, "stats-", 6) == 0 && n > 12 &&
	    strcmp(name + n - 6, ".jsonl") == 0)
		return MF_STATS;
	if (n > 5 && strcmp(name + n - 5, ".json") == 0)
		return MF_RECORD;
	return MF_OTHER;
}

/* Only regular files. */
static int
merge_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Merges one directory: its runs' summaries first, then their indexes
 * (checked), its records, then its statistics lines (checked, copied). */
static int
merge_dir(struct merge_state *m, const char *dir, char **cause)
{
	static const enum merge_file order[] = {
		MF_SUMMARY, MF_INDEX, MF_RECORD, MF_STATS,
	};
	struct dirent	**ents = NULL;
	struct stat	 st;
	int		 n, rc = 0, found = 0;

	if (stat(dir, &st) == -1) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*cause = xasprintf("%s: not a directory", dir);
		return -1;
	}
	if (m->cfg->output != NULL && st.st_dev == m->out_st.st_dev &&
	    st.st_ino == m->out_st.st_ino) {
		*cause = xasprintf("%s: also the --output directory", dir);
		return -1;
	}
	n = scandir(dir, &ents, merge_filter, alphasort);
	if (n == -1) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	/* Summaries first: the records' counts come from them. */
	for (size_t p = 0; p < sizeof order / sizeof order[0] && rc == 0;
	    p++) {
		for (int i = 0; i < n && rc == 0; i++) {
			const char	*name = ents[i]->d_name;

			if (merge_classify(name) != order[p])
				continue;
			found += order[p] != MF_STATS;
			switch (order[p]) {
			case MF_SUMMARY:
				rc = merge_run_summary(m, dir, name, cause);
				break;
			case MF_INDEX:
				rc = merge_run_index(dir, name, cause);
				break;
			case MF_RECORD:
				rc = merge_record(m, dir, name, cause);
				break;
			default:
				rc = merge_stats(m, dir, name, cause);
				break;
			}
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (rc == 0 && found == 0) {
		*cause = xasprintf("%s: not a findings directory (no record, "
		    "run index or summary in it)", dir);
		rc = -1;
	}
	return rc;
}

/* Makes the output directory. */
static int
merge_output(struct merge_state *m, char **cause)
{
	const char	*out = m->cfg->output;

	if (out == NULL)
		return 0;
	if (mkdir(out, 0777) == -1 && errno != EEXIST) {
		*cause = xasprintf("--output %s: %s", out, strerror(errno));
		return -1;
	}
	if (stat(out, &m->out_st) == -1 || !S_ISDIR(m->out_st.st_mode)) {
		*cause = xasprintf("--output %s: not a directory", out);
		return -1;
	}
	return 0;
}

/* The verdict: fail-on kinds, figures no summary had. */
static void
merge_verdict(struct merge_state *m)
{
	struct summary	*s = m->s;
	struct options	 defaults;
	uint64_t	 seen[FINDING__COUNT] = { 0 };

	options_defaults(&defaults);
	s->merged = 1;
	s->fail_on = m->cfg->fail_on_set ? m->cfg->fail_on :
	    m->fail_on_seen ? m->fail_on : defaults.fail_on;
	s->seed_set = m->seeds > 0;
	for (size_t i = 0; i < s->nfindings; i++)
		seen[s->findings[i].kind] += s->findings[i].count;
	for (int k = 0; k < FINDING__COUNT; k++)	/* runs without summary */
		if (seen[k] > s->totals.findings[k])
			s->totals.findings[k] = seen[k];
	s->exit_code = summary_failing(s) > 0 ? 1 : 0;
	s->stopped = xasprintf("merged %zu run%s", s->nruns,
	    s->nruns == 1 ? "" : "s");
	s->findings_dir = summary_text(m->cfg->output != NULL ?
	    m->cfg->output : "");
}

/* One pass over dirs: reading only when cfg->output is NULL. */
static struct summary *
merge_pass(const struct merge_config *cfg, char **dirs, size_t ndirs,
    char **cause)
{
	struct merge_state	m = { .cfg = cfg, .s = summary_new() };
	int			rc = merge_output(&m, cause);

	for (size_t i = 0; i < ndirs && rc == 0; i++)
		rc = merge_dir(&m, dirs[i], cause);
	if (rc == 0)
		merge_verdict(&m);
	for (size_t i = 0; i < m.ncounts; i++)
		free(m.counts[i].name);
	free(m.counts);
	free(m.pending);
	strmap_free(&m.names);
	strmap_free(&m.count_of);
	strmap_free(&m.blob_of);
	if (rc == -1) {
		summary_free(m.s);
		return NULL;
	}
	return m.s;
}

/* Merges dirs into cfg->output: a reading pass first, so that bad input
 * leaves the output as it was. */
struct summary *
merge_dirs(const struct merge_config *cfg, char **dirs, size_t ndirs,
    char **cause)
{
	struct merge_config	 check = *cfg;
	struct summary		*s;

	if (cfg->output == NULL)
		return merge_pass(cfg, dirs, ndirs, cause);
	check.output = NULL;
	s = merge_pass(&check, dirs, ndirs, cause);
	if (s == NULL)
		return NULL;
	summary_free(s);
	return merge_pass(cfg, dirs, ndirs, cause);
}
