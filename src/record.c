/* Finding records and traces. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "record.h"
#include "rng.h"
#include "sha256.h"
#include "util.h"

#define RECORD_MAX_FILE	(1024UL * 1024 * 1024)

struct record_entry {
	uint64_t	 key;
	char		*name;		/* file name in the dir */
	char		*kind;
	uint64_t	 count;
};

struct recorder {
	char			*dir;
	uint64_t		 cap;
	uint64_t		 run_id;
	uint64_t		 written;
	uint64_t		 duplicates;
	uint64_t		 over_cap;
	struct record_entry	*entries;	/* written records, in order */
	size_t			 nentries;
	size_t			 entries_cap;
	size_t			*table;		/* open addressing: entry index + 1 */
	size_t			 table_cap;	/* power of two */
};

/* Makes a recorder that writes into dir (created if missing). */
struct recorder *
recorder_new(const char *dir, uint64_t cap, char **cause)
{
	struct recorder	*r;
	struct stat	 st;

	if (mkdir(dir, 0777) == -1 && errno != EEXIST) {
		*cause = xasprintf("--findings-dir %s: %s", dir,
		    strerror(errno));
		return NULL;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf("--findings-dir %s: not a directory", dir);
		return NULL;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		*cause = xasprintf("--findings-dir %s: %s", dir,
		    strerror(errno));
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->dir = xstrdup(dir);
	r->cap = cap;
	r->run_id = rng_fresh_seed();
	r->table_cap = 64;
	r->table = xcalloc(r->table_cap, sizeof *r->table);
	return r;
}

/* Frees a recorder; accepts NULL. */
void
recorder_free(struct recorder *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nentries; i++) {
		free(r->entries[i].name);
		free(r->entries[i].kind);
	}
	free(r->entries);
	free(r->table);
	free(r->dir);
	free(r);
}

const char *
recorder_dir(const struct recorder *r)
{
	return r->dir;
}

/* Totals: records written, duplicates counted, findings over the cap. */
void
recorder_totals(const struct recorder *r, uint64_t *written,
    uint64_t *duplicates, uint64_t *over_cap)
{
	*written = r->written;
	*duplicates = r->duplicates;
	*over_cap = r->over_cap;
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

/* Identity of a finding for deduplication: kind, blob bytes, the cut as
 * sent so far, and whether it ended early. */
static uint64_t
record_key(const char *kind, const struct conn_report *c)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	uint32_t	n = c->frags_sent;
	int		early = c->plan->close_after < c->plan->nfrags;

	h = fnv(h, kind, strlen(kind) + 1);
	h = fnv(h, c->blob->data, c->blob->len);
	h = fnv(h, &c->blob->len, sizeof c->blob->len);
	h = fnv(h, &n, sizeof n);
	h = fnv(h, c->plan->sizes, n * sizeof *c->plan->sizes);
	h = fnv(h, &c->bytes_sent, sizeof c->bytes_sent);
	h = fnv(h, &early, sizeof early);
	return h;
}

/* Looks key up; returns the entry or NULL (and the free slot in *slot). */
static struct record_entry *
recorder_find(struct recorder *r, uint64_t key, size_t *slot)
{
	size_t	mask = r->table_cap - 1;

	for (size_t i = (size_t)key & mask;; i = (i + 1) & mask) {
		if (r->table[i] == 0) {
			*slot = i;
			return NULL;
		}
		if (r->entries[r->table[i] - 1].key == key)
			return &r->entries[r->table[i] - 1];
	}
}

/* Doubles the hash table. */
static void
recorder_grow(struct recorder *r)
{
	size_t	 old_cap = r->table_cap, *old = r->table, slot = 0;

	r->table_cap *= 2;
	r->table = xcalloc(r->table_cap, sizeof *r->table);
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i] == 0)
			continue;
		recorder_find(r, r->entries[old[i] - 1].key, &slot);
		r->table[slot] = old[i];
	}
	free(old);
}

/* Formats one connection as a JSON object. */
void
record_conn_json(struct jbuf *b, const struct conn_report *c, int with_bytes)
{
	const struct plan	*p = c->plan;
	char			 hex[2 * SHA256_LEN + 1];

	jbuf_printf(b, "{\"index\":%" PRIu64 ",\"blob\":", c->index);
	jbuf_string(b, c->blob->name, strlen(c->blob->name));
	jbuf_printf(b, ",\"blob_size\":%zu", c->blob->len);
	if (with_bytes) {
		sha256_hex(c->blob->data, c->blob->len, hex);
		jbuf_printf(b, ",\"blob_sha256\":\"%s\",\"blob_base64\":", hex);
		jbuf_base64(b, c->blob->data, c->blob->len);
	}
	jbuf_printf(b, ",\"split\":\"%s\",\"fastopen\":%s,\"close_after\":%"
	    PRIu32 ",\"fragments\":[", plan_split_name(p->split) ?
	    plan_split_name(p->split) : "replay",
	    p->fastopen ? "true" : "false", p->close_after);
	for (uint32_t i = 0; i < p->nfrags; i++)
		jbuf_printf(b, "%s%" PRIu32, i ? "," : "", p->sizes[i]);
	jbuf_printf(b, "],\"sent_fragments\":%" PRIu32 ",\"sent_bytes\":%zu,"
	    "\"gaps_us\":[", c->frags_sent, c->bytes_sent);
	for (uint32_t i = 0; i < c->ngaps; i++)
		jbuf_printf(b, "%s%" PRIu32, i ? "," : "", c->gaps_us[i]);
	if (p->nturns > 0) {
		/* Turns: where each message ends, in fragments sent. */
		jbuf_printf(b, "],\"turn_ends\":[");
		for (uint32_t i = 0; i < p->nturns; i++)
			jbuf_printf(b, "%s%" PRIu32, i ? "," : "",
			    p->turn_ends[i]);
	}
	jbuf_append(b, "]", 1);
	if (c->greet_us != 0)
		jbuf_printf(b, ",\"greet_us\":%" PRIu64, c->greet_us);
	jbuf_printf(b, ",\"local_port\":%u,\"state\":\"%s\",\"outcome\":\"%s\","
	    "\"start_s\":%.6f,\"end_s\":", c->local_port, c->state, conn_outcome_name(c->outcome),
	    (double)c->start_us / 1e6);
	if (c->end_us != 0)
		jbuf_printf(b, "%.6f}", (double)c->end_us / 1e6);
	else
		jbuf_append(b, "null}", 5);
}

/* Writes text to dir/name through a temporary file and a rename, so a
 * reader never sees half a record, even when stutterfuzz is killed. */
static int
write_atomic(const char *dir, const char *name, const char *text, size_t len,
    char **cause)
{
	char	*tmp = xasprintf("%s/.tmp-%s", dir, name);
	char	*path = xasprintf("%s/%s", dir, name);
	int	 fd, rc = -1;
	size_t	 off = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t	n = write(fd, text + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf("%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)n;
	}
	/* No fsync: the rename is atomic for readers and survives a kill of
	 * stutterfuzz; only a machine crash could lose the last records, and
	 * an fsync per record would stall the event loop. */
	if (close(fd) == -1) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

/* Writes the record of a finding, or counts it. */
int
recorder_add(struct recorder *r, const struct record_meta *m,
    const struct conn_report *culprit, const struct conn_report *suspects,
    size_t nsuspects, const char **path, char **cause)
{
	struct record_entry	*e;
	struct jbuf		 b = { 0 };
	struct tm		 tm;
	struct timespec		 ts;
	time_t			 now = time(NULL);
	char			 stamp[32], *name;
	uint64_t		 key;
	size_t			 slot = 0;

	if (culprit != NULL) {
		key = record_key(m->kind, culprit);
	} else {
		key = fnv(0xcbf29ce484222325ULL, m->kind, strlen(m->kind) + 1);
		if (m->detail != NULL)
			key = fnv(key, m->detail, strlen(m->detail));
	}

	e = recorder_find(r, key, &slot);
	if (e != NULL) {
		e->count++;
		r->duplicates++;
		return 0;
	}
	if (r->cap != 0 && r->written >= r->cap) {
		r->over_cap++;
		return 2;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	name = xasprintf("%s-%s-%016" PRIx64 "-%04" PRIu64 ".json", m->kind,
	    stamp, r->run_id, r->written + 1);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);

	jbuf_printf(&b, "{\n\"format\":\"%s\",\n\"format_version\":%d,\n"
	    "\"tool_version\":\"%s\",\n\"kind\":\"%s\",\n\"phase\":\"%s\",\n"
	    "\"errno\":%d,\n\"error\":", RECORD_FORMAT, RECORD_FORMAT_VERSION,
	    STUTTERFUZZ_VERSION, m->kind, m->phase, m->err);
	if (m->err != 0) {
		const char	*es = strerror(m->err);

		jbuf_string(&b, es, strlen(es));
	} else {
		jbuf_append(&b, "null", 4);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	jbuf_printf(&b, ",\n\"time\":\"%s\",\n\"time_unix\":%lld.%06ld,\n"
	    "\"since_start_s\":%.6f,\n\"seed\":\"%" PRIu64 "\",\n"
	    "\"target\":", stamp, (long long)ts.tv_sec, ts.tv_nsec / 1000,
	    (double)m->at_us / 1e6, m->seed);
	jbuf_string(&b, m->target, strlen(m->target));
	if (m->detail != NULL) {
		jbuf_append(&b, ",\n\"detail\":", 11);
		jbuf_string(&b, m->detail, strlen(m->detail));
	}
	if (m->target_json != NULL)
		jbuf_printf(&b, ",\n\"target_process\":%s", m->target_json);
	if (m->check_json != NULL)
		jbuf_printf(&b, ",\n\"check\":%s", m->check_json);
	jbuf_printf(&b, ",\n\"options\":%s,\n\"socket\":{\"tcp_nodelay\":true,"
	    "\"msg_nosignal\":true,\"one_send_per_fragment\":true},\n"
	    "\"connection\":", m->options_json);
	if (culprit != NULL)
		record_conn_json(&b, culprit, 1);
	else
		jbuf_append(&b, "null", 4);
	jbuf_append(&b, ",\n\"suspects\":[", 14);
	for (size_t i = 0; i < nsuspects; i++) {
		jbuf_append(&b, i ? ",\n" : "\n", i ? 2 : 1);
		record_conn_json(&b, &suspects[i], 1);
	}
	jbuf_append(&b, "]\n}\n", 4);

	if (write_atomic(r->dir, name, b.s, b.len, cause) == -1) {
		jbuf_free(&b);
		free(name);
		return -1;
	}
	jbuf_free(&b);
	if (r->nentries == r->entries_cap) {
		r->entries_cap = r->entries_cap ? r->entries_cap * 2 : 16;
		r->entries = xreallocarray(r->entries, r->entries_cap,
		    sizeof *r->entries);
	}
	e = &r->entries[r->nentries++];
	e->key = key;
	e->name = name;
	e->kind = xstrdup(m->kind);
	e->count = 1;
	r->table[slot] = r->nentries;
	if (r->nentries * 2 > r->table_cap)
		recorder_grow(r);
	r->written++;
	*path = name;
	return 1;
}

/* Writes <dir>/run-<id>.json: every record of this run and its count. */
int
recorder_finish(struct recorder *r, uint64_t seed, const char *stop_reason,
    char **cause)
{
	struct jbuf	 b = { 0 };
	char		*name;
	int		 rc;

	jbuf_printf(&b, "{\"format\":\"stutterfuzz-run\",\"format_version\":%d,"
	    "\"tool_version\":\"%s\",\"seed\":\"%" PRIu64 "\",\"stopped\":",
	    RECORD_FORMAT_VERSION, STUTTERFUZZ_VERSION, seed);
	jbuf_string(&b, stop_reason, strlen(stop_reason));
	jbuf_printf(&b, ",\"records_written\":%" PRIu64 ",\"duplicates\":%"
	    PRIu64 ",\"over_cap\":%" PRIu64 ",\"records\":[", r->written,
	    r->duplicates, r->over_cap);
	for (size_t i = 0; i < r->nentries; i++) {
		jbuf_printf(&b, "%s\n{\"file\":", i ? "," : "");
		jbuf_string(&b, r->entries[i].name, strlen(r->entries[i].name));
		jbuf_printf(&b, ",\"kind\":\"%s\",\"count\":%" PRIu64 "}",
		    r->entries[i].kind, r->entries[i].count);
	}
	jbuf_append(&b, "]}\n", 3);
	name = xasprintf("run-%016" PRIx64 ".json", r->run_id);
	rc = write_atomic(r->dir, name, b.s, b.len, cause);
	free(name);
	jbuf_free(&b);
	return rc;
}

/* Reads a whole file. */
static char *
read_file(const char *path, size_t *len, char **cause)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	int		 fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > RECORD_MAX_FILE) {
		*cause = xasprintf("%s: not a regular file of a sane size",
		    path);
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t	n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*cause = xasprintf("%s: %s", path, n == 0 ?
			    "shorter than its size" : strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* A member that must be a string. */
static const char *
get_str(const struct json *o, const char *key)
{
	const struct json	*v = json_get(o, key);

	return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

/* A member that must be an unsigned integer. */
static int
get_uint(const struct json *o, const char *key, uint64_t *out)
{
	const struct json	*v = json_get(o, key);

	if (v == NULL || v->type != JSON_NUMBER || !v->is_uint)
		return -1;
	*out = v->uint;
	return 0;
}

/* An array of uint32 values. */
static int
get_u32_array(const struct json *o, const char *key, uint32_t **out,
    uint32_t *n)
{
	const struct json	*v = json_get(o, key);

	if (v == NULL || v->type != JSON_ARRAY || v->n > UINT32_MAX)
		return -1;
	*out = xcalloc(v->n ? v->n : 1, sizeof **out);
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i].type != JSON_NUMBER || !v->items[i].is_uint ||
		    v->items[i].uint > UINT32_MAX) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[i] = (uint32_t)v->items[i].uint;
	}
	*n = (uint32_t)v->n;
	return 0;
}

/* Reads a connection's turns and greeting wait (absent in records of runs
 * without them). */
static int
record_conn_turns(const struct json *o, struct record_conn *rc, char **why)
{
	uint32_t	n = 0;

	if (get_uint(o, "greet_us", &rc->greet_us) == -1)
		rc->greet_us = 0;
	if (json_get(o, "turn_ends") == NULL)
		return 0;
	if (get_u32_array(o, "turn_ends", &rc->plan.turn_ends, &n) == -1 ||
	    n == 0 || rc->plan.turn_ends[n - 1] != rc->plan.nfrags) {
		*why = xasprintf("connection %" PRIu64 ": bad turn_ends",
		    rc->index);
		return -1;
	}
	for (uint32_t i = 1; i < n; i++) {
		if (rc->plan.turn_ends[i] <= rc->plan.turn_ends[i - 1]) {
			*why = xasprintf("connection %" PRIu64 ": turn_ends "
			    "not ascending", rc->index);
			return -1;
		}
	}
	rc->plan.nturns = rc->plan.turn_cap = n;
	return 0;
}

/* Reads a string array of a record's check object into *out. */
static void
record_strings(const struct json *o, const char *key, char ***out, size_t *n)
{
	const struct json	*v = json_get(o, key);

	*n = 0;
	if (v == NULL || v->type != JSON_ARRAY)
		return;
	*out = xcalloc(v->n ? v->n : 1, sizeof **out);
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i].type == JSON_STRING)
			(*out)[(*n)++] = xstrdup(v->items[i].str);
}

/* Reads one connection object of a record. */
static int
record_conn_load(const struct json *o, struct record_conn *rc, char **why)
{
	const char	*name = get_str(o, "blob");
	const char	*b64 = get_str(o, "blob_base64");
	const char	*sha = get_str(o, "blob_sha256");
	const char	*outcome = get_str(o, "outcome");
	const struct json *fo = json_get(o, "fastopen");
	const struct json *b64v = json_get(o, "blob_base64");
	uint64_t	 size, close_after, sent, sent_bytes;
	uint32_t	*gaps = NULL, ngaps = 0, n = 0;
	char		 hex[2 * SHA256_LEN + 1];
	size_t		 sum = 0;

	if (name == NULL || b64 == NULL || sha == NULL || fo == NULL ||
	    fo->type != JSON_BOOL || get_uint(o, "index", &rc->index) == -1 ||
	    get_uint(o, "blob_size", &size) == -1 ||
	    get_uint(o, "close_after", &close_after) == -1 ||
	    get_uint(o, "sent_fragments", &sent) == -1 ||
	    get_uint(o, "sent_bytes", &sent_bytes) == -1) {
		*why = xasprintf("a connection lacks a field or has one of "
		    "the wrong type");
		return -1;
	}
	rc->blob.name = xstrdup(name);
	rc->outcome = conn_outcome_parse(outcome ? outcome : "unknown");
	rc->blob.data = json_base64_decode(b64, b64v->len, &rc->blob.len);
	if (rc->blob.data == NULL || rc->blob.len != size) {
		*why = xasprintf("connection %" PRIu64 ": blob bytes are not "
		    "valid base64 of %" PRIu64 " bytes", rc->index, size);
		return -1;
	}
	sha256_hex(rc->blob.data, rc->blob.len, hex);
	if (strcmp(hex, sha) != 0) {
		*why = xasprintf("connection %" PRIu64 ": blob bytes do not "
		    "match their SHA-256", rc->index);
		return -1;
	}
	if (get_u32_array(o, "fragments", &rc->plan.sizes, &n) == -1 ||
	    get_u32_array(o, "gaps_us", &gaps, &ngaps) == -1) {
		*why = xasprintf("connection %" PRIu64 ": bad fragments or "
		    "gaps", rc->index);
		free(gaps);
		return -1;
	}
	rc->plan.cap = n;
	rc->plan.nfrags = n;
	for (uint32_t i = 0; i < n; i++) {
		if (rc->plan.sizes[i] == 0)
			sum = SIZE_MAX;
		else if (sum != SIZE_MAX)
			sum += rc->plan.sizes[i];
	}
	if (sum != rc->blob.len || close_after > n || sent > n ||
	    ngaps > n || sent_bytes > rc->blob.len) {
		*why = xasprintf("connection %" PRIu64 ": fragments do not "
		    "cover the blob", rc->index);
		free(gaps);
		return -1;
	}
	/* The plan replays the gaps that happened; fragments never sent in
	 * the run wait no longer than the last gap seen. */
	rc->plan.gaps_us = xcalloc(n ? n : 1, sizeof *rc->plan.gaps_us);
	for (uint32_t i = 0; i < n; i++)
		rc->plan.gaps_us[i] = i < ngaps ? gaps[i] :
		    (ngaps ? gaps[ngaps - 1] : 0);
	free(gaps);
	rc->plan.len = rc->blob.len;
	rc->plan.index = rc->index;
	rc->plan.fastopen = fo->boolean;
	rc->plan.close_after = (uint32_t)close_after;
	rc->plan.split = PLAN_SPLIT__COUNT;	/* "replay" */
	rc->frags_sent = (uint32_t)sent;
	rc->bytes_sent = (size_t)sent_bytes;
	return record_conn_turns(o, rc, why);
}

/* Reads and checks a record. */
struct record *
record_load(const char *path, char **cause)
{
	struct record		*r = NULL;
	struct json		*j;
	const struct json	*conn, *sus, *v;
	char			*text, *why = NULL;
	const char		*s;
	size_t			 len;
	uint64_t		 u;

	text = read_file(path, &len, cause);
	if (text == NULL)
		return NULL;
	j = json_parse(text, len, &why);
	free(text);
	if (j == NULL) {
		*cause = xasprintf("%s: not a complete JSON record (%s)", path,
		    why);
		free(why);
		return NULL;
	}
	s = get_str(j, "format");
	if (s == NULL || strcmp(s, RECORD_FORMAT) != 0) {
		*cause = xasprintf("%s: not a stutterfuzz finding record", path);
		goto fail;
	}
	if (get_uint(j, "format_version", &u) == -1 ||
	    u != RECORD_FORMAT_VERSION) {
		*cause = xasprintf("%s: record format version not supported "
		    "(this is version %d)", path, RECORD_FORMAT_VERSION);
		goto fail;
	}
	r = xcalloc(1, sizeof *r);
	conn = json_get(j, "connection");
	sus = json_get(j, "suspects");
	if (get_str(j, "kind") == NULL || get_str(j, "seed") == NULL ||
	    conn == NULL || (conn->type != JSON_OBJECT &&
	    conn->type != JSON_NULL) || sus == NULL ||
	    sus->type != JSON_ARRAY) {
		*cause = xasprintf("%s: record lacks kind, seed, connection or "
		    "suspects", path);
		goto fail;
	}
	r->kind = xstrdup(get_str(j, "kind"));
	r->phase = xstrdup(get_str(j, "phase") ? get_str(j, "phase") : "?");
	r->target = xstrdup(get_str(j, "target") ? get_str(j, "target") : "?");
	r->tool_version = xstrdup(get_str(j, "tool_version") ?
	    get_str(j, "tool_version") : "?");
	r->seed = strtoull(get_str(j, "seed"), NULL, 10);
	v = json_get(j, "errno");
	r->err = v != NULL && v->type == JSON_NUMBER ? (int)v->number : 0;
	if (get_str(j, "detail") != NULL)
		r->detail = xstrdup(get_str(j, "detail"));
	r->pace = xstrdup(get_str(json_get(j, "options"), "pace") ?
	    get_str(json_get(j, "options"), "pace") : "ack");
	v = json_get(j, "check");
	if (v != NULL && v->type == JSON_OBJECT &&
	    get_str(v, "expected") != NULL) {
		const struct json	*cl = json_get(v, "expected_closed");

		r->expected = xstrdup(get_str(v, "expected"));
		r->expected_closed = cl != NULL && cl->type == JSON_BOOL &&
		    cl->boolean;
		record_strings(v, "masks", &r->masks, &r->nmasks);
		record_strings(v, "ignores", &r->ignores, &r->nignores);
	}
	r->has_culprit = conn->type == JSON_OBJECT;
	if (!r->has_culprit && sus->n == 0) {
		*cause = xasprintf("%s: record holds no connection to replay",
		    path);
		goto fail;
	}
	r->conns = xcalloc(1 + sus->n, sizeof *r->conns);
	for (size_t i = r->has_culprit ? 0 : 1; i <= sus->n; i++) {
		const struct json	*o = i == 0 ? conn : &sus->items[i - 1];

		r->nconns++;
		if (o->type != JSON_OBJECT || record_conn_load(o,
		    &r->conns[r->nconns - 1], &why) == -1) {
			*cause = xasprintf("%s: %s", path, why ? why :
			    "a suspect is not an object");
			free(why);
			goto fail;
		}
	}
	json_free(j);
	return r;

fail:
	json_free(j);
	record_free(r);
	return NULL;
}

/* Frees a record; accepts NULL. */
void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nconns; i++) {
		free(r->conns[i].blob.name);
		free(r->conns[i].blob.data);
		plan_release(&r->conns[i].plan);
	}
	free(r->conns);
	for (size_t i = 0; i < r->nmasks; i++)
		free(r->masks[i]);
	for (size_t i = 0; i < r->nignores; i++)
		free(r->ignores[i]);
	free(r->masks);
	free(r->ignores);
	free(r->expected);
	free(r->detail);
	free(r->pace);
	free(r->kind);
	free(r->phase);
	free(r->target);
	free(r->tool_version);
	free(r);
}
