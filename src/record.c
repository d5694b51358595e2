/* Finding records and traces. */
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base64.h"
#include "finding.h"
#include "json.h"
#include "net.h"
#include "record.h"
#include "rng.h"
#include "sha256.h"
#include "util.h"

/* Numbers as written: reals with the digits a microsecond needs. */
#define DUMP_FLAGS	(JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(16))

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

/* The run id in the names of the files this recorder writes. */
uint64_t
recorder_run_id(const struct recorder *r)
{
	return r->run_id;
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

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0: shortest
 * form, no surrogates, nothing past U+10FFFF. *cp gets the code point. */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		len, i;
	uint32_t	c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/* Is s valid UTF-8 throughout? */
static int
utf8_valid(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 n = strlen(s), l;
	uint32_t		 cp;

	for (size_t i = 0; i < n; i += l) {
		if ((l = utf8_seq(u + i, n - i, &cp)) == 0)
			return 0;
	}
	return 1;
}

/* Text as a JSON string: valid UTF-8 as it is, else a display form in
 * which every byte that is not UTF-8 became U+FFFD. */
static json_t *
text_json(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 n = strlen(s), l, o = 0;
	uint32_t		 cp;
	char			*lossy;
	json_t			*j;

	if (utf8_valid(s))
		return json_string(s);
	lossy = xmalloc(3 * n + 1);
	for (size_t i = 0; i < n; i += l) {
		if ((l = utf8_seq(u + i, n - i, &cp)) == 0) {
			memcpy(lossy + o, "\xef\xbf\xbd", 3);
			o += 3;
			l = 1;
			continue;
		}
		memcpy(lossy + o, s + i, l);
		o += l;
	}
	lossy[o] = '\0';
	j = json_string(lossy);
	free(lossy);
	return j;
}

/* Record text made safe for a terminal. */
char *
record_escape(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 n = strlen(s), l, o = 0;
	uint32_t		 cp;
	char			*out = xmalloc(4 * n + 1);

	for (size_t i = 0; i < n; i += l) {
		l = utf8_seq(u + i, n - i, &cp);
		/* Printable ASCII, and UTF-8 past the C1 controls except the
		 * line separators and the bidirectional overrides. */
		if (l == 1 && cp >= 0x20 && cp < 0x7f && cp != '\\') {
			out[o++] = s[i];
		} else if (l > 1 && cp >= 0xa0 && !(cp >= 0x2028 &&
		    cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069)) {
			memcpy(out + o, s + i, l);
			o += l;
		} else if (cp == '\\' && l == 1) {
			memcpy(out + o, "\\\\", 2);
			o += 2;
		} else {
			l = 1;
			o += (size_t)sprintf(out + o, "\\x%02x", u[i]);
		}
	}
	out[o] = '\0';
	return out;
}

/* Sets o[key] to v (taking it); a NULL v (out of memory) is left out. */
static void
set(json_t *o, const char *key, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, key, v);
}

/* An array of n uint32 values. */
static json_t *
u32_array(const uint32_t *v, uint32_t n)
{
	json_t	*a = json_array();

	for (uint32_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

/* One connection as a JSON object, with the blob's bytes if with_bytes. */
static json_t *
conn_json(const struct conn_report *c, int with_bytes)
{
	const struct plan	*p = c->plan;
	const char		*split = plan_split_name(p->split);
	json_t			*o = json_object();
	char			 hex[2 * SHA256_LEN + 1];

	if (o == NULL)
		return NULL;
	set(o, "index", json_integer((json_int_t)c->index));
	set(o, "blob", text_json(c->blob->name));
	if (!utf8_valid(c->blob->name)) {
		char	*b64 = base64_encode((const unsigned char *)c->blob->name,
			    strlen(c->blob->name));

		set(o, "blob_name_base64", json_string_nocheck(b64));
		free(b64);
	}
	set(o, "blob_size", json_integer((json_int_t)c->blob->len));
	if (with_bytes) {
		char	*b64 = base64_encode(c->blob->data, c->blob->len);

		sha256_hex(c->blob->data, c->blob->len, hex);
		set(o, "blob_sha256", json_string(hex));
		set(o, "blob_base64", json_string_nocheck(b64));
		free(b64);
	}
	set(o, "split", json_string(split != NULL ? split : "replay"));
	set(o, "fastopen", json_boolean(p->fastopen));
	set(o, "close_after", json_integer(p->close_after));
	set(o, "fragments", u32_array(p->sizes, p->nfrags));
	set(o, "sent_fragments", json_integer(c->frags_sent));
	set(o, "sent_bytes", json_integer((json_int_t)c->bytes_sent));
	set(o, "gaps_us", u32_array(c->gaps_us, c->ngaps));
	/* Turns: where each message ends, in fragments; the greeting wait. */
	if (p->nturns > 0)
		set(o, "turn_ends", u32_array(p->turn_ends, p->nturns));
	if (c->greet_us != 0)
		set(o, "greet_us", json_integer((json_int_t)c->greet_us));
	set(o, "local_port", json_integer(c->local_port));
	set(o, "state", json_string(c->state));
	set(o, "outcome", json_string(conn_outcome_name(c->outcome)));
	set(o, "start_s", json_real((double)c->start_us / 1e6));
	set(o, "end_s", c->end_us != 0 ? json_real((double)c->end_us / 1e6) :
	    json_null());
	return o;
}

/* One connection as JSON text, the same as a record holds. */
char *
record_conn_text(const struct conn_report *c, int with_bytes)
{
	json_t	*o = conn_json(c, with_bytes);
	char	*text = o != NULL ? json_dumps(o, DUMP_FLAGS) : NULL;

	json_decref(o);
	return text;
}

/* The same appended to a jbuf. */
void
record_conn_json(struct jbuf *b, const struct conn_report *c, int with_bytes)
{
	char	*text = record_conn_text(c, with_bytes);

	if (text != NULL)
		jbuf_append(b, text, strlen(text));
	free(text);
}

/* Writes one connection as a trace line. */
int
record_trace_write(FILE *f, const struct conn_report *c, char **cause)
{
	json_t	*o = conn_json(c, 0);
	int	 rc = o != NULL ? json_dumpf(o, f, DUMP_FLAGS) : -1;

	json_decref(o);
	if (rc == -1 || fputc('\n', f) == EOF) {
		*cause = xasprintf("%s", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	return 0;
}

/* Writes text to dir/name through a temporary file and a rename, so a
 * reader never sees half a record, even when stutterfuzz is killed. */
static int
write_atomic(const char *dir, const char *name, const char *text, size_t len,
    char **cause)
{
	char	*tmp = xasprintf("%s/.tmp-%s", dir, name);
	char	*path = xasprintf("%s/%s", dir, name);
	int	 rc = util_write_atomic(tmp, path, text, len, cause);

	free(tmp);
	free(path);
	return rc;
}

/* Appends "key":value (compact) to f, one member a line. */
static int
dump_member(FILE *f, const char *key, const json_t *v, int first)
{
	if (fprintf(f, "%s\"%s\":", first ? "" : ",\n", key) < 0)
		return -1;
	return json_dumpf(v, f, DUMP_FLAGS);
}

/* A record as text: one top-level member a line, suspects one a line. */
static char *
record_text(const json_t *top, size_t *len)
{
	FILE		*f;
	char		*text = NULL;
	const char	*key;
	json_t		*v, *s;
	size_t		 i;
	int		 first = 1, rc = 0;

	if ((f = open_memstream(&text, len)) == NULL)
		return NULL;
	fputs("{\n", f);
	json_object_foreach((json_t *)top, key, v) {
		if (strcmp(key, "suspects") != 0) {
			rc |= dump_member(f, key, v, first);
			first = 0;
			continue;
		}
		fprintf(f, "%s\"suspects\":[", first ? "" : ",\n");
		first = 0;
		json_array_foreach(v, i, s) {
			fputs(i ? ",\n" : "\n", f);
			rc |= json_dumpf(s, f, DUMP_FLAGS);
		}
		fputc(']', f);
	}
	fputs("\n}\n", f);
	if (fclose(f) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The meta of a finding's record against target t. */
void
record_meta_init(struct record_meta *m, const struct finding *f,
    const struct net_target *t, const char *options_json)
{
	*m = (struct record_meta){
		.kind = finding_kind_name(f->kind),
		.err = f->err,
		.phase = f->phase,
		.at_us = f->at_us,
		.seed = f->seed,
		.target = net_record_target(t),
		.target_kind = t->is_unix ? "unix" : NULL,
		.options_json = options_json,
		.detail = f->detail,
		.check_json = f->check_json,
	};
}

/* The supervised target of a target finding: command, the directory it
 * was started in, and output tail. */
static json_t *
target_process_json(const struct record_meta *m)
{
	json_t	*o = json_object(), *cmd = json_array();
	char	*cwd = m->target_cwd == NULL ? getcwd(NULL, 0) : NULL;

	for (char *const *a = m->target_argv; cmd != NULL && *a != NULL; a++)
		json_array_append_new(cmd, text_json(*a));
	set(o, "command", cmd);
	if (m->target_cwd != NULL || cwd != NULL)
		set(o, "cwd", text_json(m->target_cwd != NULL ? m->target_cwd :
		    cwd));
	free(cwd);
	set(o, "output_tail", text_json(m->target_tail != NULL ?
	    m->target_tail : ""));
	return o;
}

/* A finding's record as a JSON object. */
static json_t *
record_json(const struct record_meta *m, const struct conn_report *culprit,
    const struct conn_report *suspects, size_t nsuspects)
{
	json_t		*o = json_object(), *sus = json_array();
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[32], seed[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(seed, sizeof seed, "%" PRIu64, m->seed);
	set(o, "format", json_string(RECORD_FORMAT));
	set(o, "format_version", json_integer(RECORD_FORMAT_VERSION));
	set(o, "tool_version", json_string(STUTTERFUZZ_VERSION));
	set(o, "kind", text_json(m->kind));
	set(o, "phase", text_json(m->phase));
	set(o, "errno", json_integer(m->err));
	set(o, "error", m->err != 0 ? text_json(strerror(m->err)) :
	    json_null());
	set(o, "time", json_string(stamp));
	set(o, "time_unix", json_real((double)ts.tv_sec +
	    (double)(ts.tv_nsec / 1000) / 1e6));
	set(o, "since_start_s", json_real((double)m->at_us / 1e6));
	set(o, "seed", json_string(seed));
	set(o, "target", text_json(m->target));
	if (m->target_kind != NULL)
		set(o, "target_kind", json_string(m->target_kind));
	if (m->detail != NULL)
		set(o, "detail", text_json(m->detail));
	if (m->target_argv != NULL)
		set(o, "target_process", target_process_json(m));
	if (m->check_json != NULL)
		set(o, "check", json_loads(m->check_json, 0, NULL));
	set(o, "options", m->options_json != NULL ?
	    json_loads(m->options_json, 0, NULL) : json_null());
	set(o, "socket", json_pack("{s:b,s:b,s:b}", "tcp_nodelay",
	    m->target_kind == NULL,
	    "msg_nosignal", 1, "one_send_per_fragment", 1));
	set(o, "connection", culprit != NULL ? conn_json(culprit, 1) :
	    json_null());
	for (size_t i = 0; sus != NULL && i < nsuspects; i++)
		json_array_append_new(sus, conn_json(&suspects[i], 1));
	set(o, "suspects", sus);
	return o;
}

/* Remembers a written record for deduplication and the run index. */
static void
recorder_remember(struct recorder *r, uint64_t key, size_t slot, char *name,
    const char *kind)
{
	struct record_entry	*e;

	if (r->nentries == r->entries_cap) {
		r->entries_cap = r->entries_cap ? r->entries_cap * 2 : 16;
		r->entries = xreallocarray(r->entries, r->entries_cap,
		    sizeof *r->entries);
	}
	e = &r->entries[r->nentries++];
	e->key = key;
	e->name = name;
	e->kind = xstrdup(kind);
	e->count = 1;
	r->table[slot] = r->nentries;
	if (r->nentries * 2 > r->table_cap)
		recorder_grow(r);
	r->written++;
}

/* Writes the record of a finding, or counts it. */
int
recorder_add(struct recorder *r, const struct record_meta *m,
    const struct conn_report *culprit, const struct conn_report *suspects,
    size_t nsuspects, const char **path, char **cause)
{
	struct record_entry	*e;
	struct tm		 tm;
	time_t			 now = time(NULL);
	json_t			*j;
	char			 stamp[32], *name, *text;
	uint64_t		 key;
	size_t			 slot = 0, len = 0;

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
	j = record_json(m, culprit, suspects, nsuspects);
	text = j != NULL ? record_text(j, &len) : NULL;
	json_decref(j);
	if (text == NULL) {
		*cause = xasprintf("cannot format a %s record", m->kind);
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	name = xasprintf("%s-%s-%016" PRIx64 "-%04" PRIu64 ".json", m->kind,
	    stamp, r->run_id, r->written + 1);
	if (write_atomic(r->dir, name, text, len, cause) == -1) {
		free(text);
		free(name);
		return -1;
	}
	free(text);
	recorder_remember(r, key, slot, name, m->kind);
	*path = name;
	return 1;
}

/* Writes <dir>/run-<id>.json: every record of this run and its count. */
int
recorder_finish(struct recorder *r, uint64_t seed, const char *stop_reason,
    char **cause)
{
	json_t	*o, *recs = json_array();
	char	*name, *text, *dump, num[32];
	int	 rc = -1;

	snprintf(num, sizeof num, "%" PRIu64, seed);
	for (size_t i = 0; recs != NULL && i < r->nentries; i++)
		json_array_append_new(recs, json_pack("{s:o,s:o,s:I}", "file",
		    text_json(r->entries[i].name), "kind",
		    text_json(r->entries[i].kind), "count",
		    (json_int_t)r->entries[i].count));
	o = json_pack("{s:s,s:i,s:s,s:s,s:o,s:I,s:I,s:I,s:o}", "format",
	    "stutterfuzz-run", "format_version", 1,
	    "tool_version", STUTTERFUZZ_VERSION, "seed", num, "stopped",
	    text_json(stop_reason), "records_written", (json_int_t)r->written,
	    "duplicates", (json_int_t)r->duplicates, "over_cap",
	    (json_int_t)r->over_cap, "records", recs);
	dump = o != NULL ? json_dumps(o, DUMP_FLAGS) : NULL;
	json_decref(o);
	if (dump == NULL) {
		*cause = xasprintf("cannot format the run index");
		return -1;
	}
	text = xasprintf("%s\n", dump);
	free(dump);
	name = xasprintf("run-%016" PRIx64 ".json", r->run_id);
	rc = write_atomic(r->dir, name, text, strlen(text), cause);
	free(name);
	free(text);
	return rc;
}

/* Reads a whole regular file of at most RECORD_MAX_FILE bytes; never
 * blocks on a FIFO or a device. */
static char *
read_file(const char *path, size_t *len, char **cause)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	int		 fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
			    O_NOCTTY);

	if (fd == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > RECORD_MAX_FILE) {
		*cause = xasprintf("%s: %s", path, S_ISREG(st.st_mode) ?
		    "larger than a record may be (256 MiB)" :
		    "not a regular file");
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

/* Before parsing: counts the JSON values of text and the bytes inside its
 * strings, and refuses more values than a record can account for. Every
 * number of a record's arrays (fragments, gaps) stands for at least one
 * byte of a blob, and the blob's bytes are in the record (base64); each
 * connection is one object, the record a handful more. */
static int
scan_bounds(const char *text, size_t len, char **why)
{
	size_t	values = 1, strbytes = 0, objects = 0;
	int	in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char	c = text[i];

		if (in_str) {
			strbytes++;
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == ',' || c == '[' || c == '{')
			values++;
		objects += c == '{';
	}
	if (objects > RECORD_MAX_OBJECTS) {
		*why = xasprintf("corrupt record: %zu JSON objects, more than "
		    "the %d a record of %d suspects holds", objects,
		    RECORD_MAX_OBJECTS, RECORD_MAX_SUSPECTS);
		return -1;
	}
	if (values > RECORD_MAX_VALUES || values > 2 * strbytes + 65536) {
		*why = xasprintf("corrupt record: %zu JSON values, more than "
		    "its %zu bytes of text can account for", values, strbytes);
		return -1;
	}
	return 0;
}

/* Member key of o, which must be a string unless optional (then *out may
 * be NULL). */
static int
get_str(const json_t *o, const char *key, int optional, const char **out,
    char **why)
{
	const json_t	*v = json_object_get(o, key);

	*out = json_string_value(v);
	if (*out != NULL || (optional && v == NULL))
		return 0;
	*why = xasprintf("corrupt record: '%s' %s", key, v == NULL ?
	    "is missing" : "is not a string");
	return -1;
}

/* Member key of o, which must be a JSON integer from 0 to max. */
static int
get_uint(const json_t *o, const char *key, uint64_t max, uint64_t *out,
    char **why)
{
	const json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		if (v == NULL)
			*why = xasprintf("corrupt record: '%s' is missing",
			    key);
		else
			*why = xasprintf("corrupt record: '%s' is not an "
			    "integer from 0 to %" PRIu64, key, max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Member key of o: an array of at most max_n integers of at most max_v,
 * its size checked before anything is allocated. */
static int
get_u32_array(const json_t *o, const char *key, size_t max_n, uint32_t max_v,
    uint32_t **out, uint32_t *n, char **why)
{
	const json_t	*a = json_object_get(o, key), *v;
	size_t		 i;

	if (!json_is_array(a) || json_array_size(a) > max_n) {
		*why = xasprintf("corrupt record: '%s' is not an array of at "
		    "most %zu numbers", key, max_n);
		return -1;
	}
	*out = xcalloc(json_array_size(a) + 1, sizeof **out);
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > max_v) {
			*why = xasprintf("corrupt record: '%s' holds a value "
			    "that is not an integer from 0 to %" PRIu32, key,
			    max_v);
			return -1;
		}
		(*out)[i] = (uint32_t)json_integer_value(v);
	}
	*n = (uint32_t)json_array_size(a);
	return 0;
}

/* A seed: the decimal string of a uint64, digits only. */
static int
parse_seed(const char *s, uint64_t *out)
{
	uint64_t	v = 0;

	if (*s == '\0' || strlen(s) > 20)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' ||
		    v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Splits "host:port" or "[v6]:port"; the port must be 1 to 65535. */
static int
split_target(const char *text, char **host, char **port)
{
	const char	*h = text, *p, *end;
	size_t		 hlen;
	uint64_t	 v = 0;

	if (text[0] == '[') {
		if ((end = strchr(text, ']')) == NULL || end[1] != ':')
			return -1;
		h = text + 1;
		hlen = (size_t)(end - h);
		p = end + 2;
	} else {
		if ((end = strrchr(text, ':')) == NULL)
			return -1;
		hlen = (size_t)(end - text);
		p = end + 1;
	}
	if (hlen == 0 || *p == '\0' || strlen(p) > 5)
		return -1;
	for (const char *d = p; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		v = v * 10 + (uint64_t)(*d - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*host = xasprintf("%.*s", (int)hlen, h);
	*port = xstrdup(p);
	return 0;
}

/* Is the record's target host a literal loopback address? */
int
record_target_is_loopback(const struct record *r)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (r->target_host == NULL)
		return 0;
	if (inet_pton(AF_INET, r->target_host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, r->target_host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/* Reads a connection's blob: name, bytes, and their checksum. */
static int
conn_blob(const json_t *o, struct record_conn *rc, char **why)
{
	const char	*name, *b64, *sha, *nb64, *outcome;
	uint64_t	 size;
	char		 hex[2 * SHA256_LEN + 1];
	size_t		 n;

	if (get_uint(o, "index", UINT64_MAX >> 1, &rc->index, why) == -1 ||
	    get_str(o, "blob", 0, &name, why) == -1 ||
	    get_str(o, "blob_name_base64", 1, &nb64, why) == -1 ||
	    get_str(o, "blob_base64", 0, &b64, why) == -1 ||
	    get_str(o, "blob_sha256", 0, &sha, why) == -1 ||
	    get_str(o, "outcome", 1, &outcome, why) == -1 ||
	    get_uint(o, "blob_size", RECORD_MAX_FILE, &size, why) == -1)
		return -1;
	rc->outcome = conn_outcome_parse(outcome ? outcome : "unknown");
	/* A name that is not UTF-8 is kept exactly in blob_name_base64. */
	if (nb64 != NULL) {
		rc->blob.name = (char *)base64_decode(nb64, strlen(nb64), &n);
		if (rc->blob.name == NULL || memchr(rc->blob.name, 0, n)) {
			*why = xasprintf("corrupt record: blob_name_base64 is "
			    "not base64 of a name");
			return -1;
		}
		rc->blob.name[n] = '\0';
	} else {
		rc->blob.name = xstrdup(name);
	}
	n = json_string_length(json_object_get(o, "blob_base64"));
	if (n != base64_encoded_len((size_t)size) ||
	    (rc->blob.data = base64_decode(b64, n, &rc->blob.len)) == NULL) {
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
	return 0;
}

/* Reads a connection's cut: fragments, gaps, fast open, early close. */
static int
conn_plan(const json_t *o, struct record_conn *rc, char **why)
{
	const json_t	*fo = json_object_get(o, "fastopen");
	uint32_t	*gaps = NULL, ngaps = 0, n = 0;
	uint64_t	 close_after, sent, sent_bytes, sum = 0;
	size_t		 len = rc->blob.len;
	int		 bad = 0;

	if (!json_is_boolean(fo)) {
		*why = xasprintf("corrupt record: 'fastopen' is not a boolean");
		return -1;
	}
	/* Every fragment holds a byte at least: no more than the blob's. */
	if (get_u32_array(o, "fragments", len, UINT32_MAX, &rc->plan.sizes, &n,
	    why) == -1 || get_u32_array(o, "gaps_us", n, RECORD_MAX_GAP_US,
	    &gaps, &ngaps, why) == -1 ||
	    get_uint(o, "close_after", n, &close_after, why) == -1 ||
	    get_uint(o, "sent_fragments", n, &sent, why) == -1 ||
	    get_uint(o, "sent_bytes", len, &sent_bytes, why) == -1) {
		free(gaps);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		bad |= rc->plan.sizes[i] == 0;
		sum += rc->plan.sizes[i];
	}
	if (bad || sum != len) {
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
	rc->plan.cap = n;
	rc->plan.nfrags = n;
	rc->plan.len = len;
	rc->plan.index = rc->index;
	rc->plan.fastopen = json_is_true(fo);
	rc->plan.close_after = (uint32_t)close_after;
	rc->plan.split = PLAN_SPLIT__COUNT;	/* "replay" */
	rc->frags_sent = (uint32_t)sent;
	rc->bytes_sent = (size_t)sent_bytes;
	return 0;
}

/* Reads a connection's turns and greeting wait (absent in records of runs
 * without them, and in version 1 records). */
static int
conn_turns(const json_t *o, struct record_conn *rc, char **why)
{
	uint32_t	n = 0;
	uint64_t	v;

	if (json_object_get(o, "greet_us") != NULL) {
		if (get_uint(o, "greet_us", 3600ULL * 1000000, &v, why) == -1)
			return -1;
		rc->greet_us = v;
	}
	if (json_object_get(o, "turn_ends") == NULL)
		return 0;
	if (get_u32_array(o, "turn_ends", rc->plan.nfrags, rc->plan.nfrags,
	    &rc->plan.turn_ends, &n, why) == -1)
		return -1;
	rc->plan.nturns = rc->plan.turn_cap = n;
	for (uint32_t i = 0; i < n; i++) {
		if (rc->plan.turn_ends[i] == 0 || (i > 0 &&
		    rc->plan.turn_ends[i] <= rc->plan.turn_ends[i - 1]) ||
		    (i == n - 1 && rc->plan.turn_ends[i] != rc->plan.nfrags)) {
			*why = xasprintf("connection %" PRIu64 ": turn_ends do "
			    "not rise to the fragment count", rc->index);
			return -1;
		}
	}
	return 0;
}

/* Reads the turn rule at o's member "turns" (key names it, e.g.
 * "check.turns"): absent or null is none; else a string --turns takes.
 * Returns 0, or -1 with *why. */
static int
turns_rule(const json_t *o, const char *key, struct record *r, char **why)
{
	const json_t	*v = json_object_get(o, "turns");
	const char	*text = json_string_value(v), *reason;
	char		*cause = NULL, *prefix;

	if (v == NULL || json_is_null(v))
		return 0;
	if (text == NULL || strlen(text) != json_string_length(v)) {
		*why = xasprintf("corrupt record: '%s' is not a turn rule (a "
		    "string or null)", key);
		return -1;
	}
	if (turn_parse(text, &r->turns, &cause) == -1) {
		/* The parser's cause names --turns and the rule; keep the
		 * reason. */
		prefix = xasprintf("--turns '%s': ", text);
		reason = strncmp(cause, prefix, strlen(prefix)) == 0 ?
		    cause + strlen(prefix) : cause;
		*why = xasprintf("corrupt record: '%s' is not a turn rule: %s",
		    key, reason);
		free(prefix);
		free(cause);
		return -1;
	}
	free(r->turns_text);
	r->turns_text = xstrdup(text);
	return 0;
}

/* Reads the turn rule of the run (options.turns) and of a mismatch's check
 * (check.turns); records without turns have neither. Returns 0, or -1 with
 * *why naming the field. */
static int
record_turns(const json_t *j, struct record *r, char **why)
{
	const json_t	*o = json_object_get(j, "options");
	const json_t	*c = json_object_get(j, "check");

	r->turns = (struct turn_spec){ .rule = TURN_NONE };
	if (json_is_object(o) && turns_rule(o, "options.turns", r, why) == -1)
		return -1;
	if (json_is_object(c) && turns_rule(c, "check.turns", r, why) == -1)
		return -1;
	return 0;
}

/* Reads a string array member of a mismatch record's check object. */
static void
check_strings(const json_t *o, const char *key, char ***out, size_t *n)
{
	const json_t	*a = json_object_get(o, key), *v;
	size_t		 i;

	*n = 0;
	if (!json_is_array(a))
		return;
	*out = xcalloc(json_array_size(a) + 1, sizeof **out);
	json_array_foreach(a, i, v) {
		if (json_is_string(v))
			(*out)[(*n)++] = xstrdup(json_string_value(v));
	}
}

/* Reads a mismatch record's check object: the expected answer, masks. */
static void
record_check(const json_t *j, struct record *r)
{
	const json_t	*c = json_object_get(j, "check");
	const char	*exp = json_string_value(json_object_get(c,
			    "expected"));

	if (!json_is_object(c) || exp == NULL)
		return;
	r->expected = xstrdup(exp);
	r->expected_closed = json_is_true(json_object_get(c,
	    "expected_closed"));
	check_strings(c, "masks", &r->masks, &r->nmasks);
	check_strings(c, "ignores", &r->ignores, &r->nignores);
}

/* Reads the finding: format, kind, seed, errno, target and the rest. */
static int
record_header(const json_t *j, struct record *r, char **why)
{
	const char	*fmt = json_string_value(json_object_get(j, "format"));
	const char	*kind, *phase, *target, *tv, *detail, *seed, *pace;
	const char	*tkind;
	uint64_t	 v, err;

	if (fmt == NULL || strcmp(fmt, RECORD_FORMAT) != 0) {
		*why = xasprintf("not a stutterfuzz finding record");
		return -1;
	}
	if (get_uint(j, "format_version", UINT32_MAX, &v, why) == -1 ||
	    v < 1 || v > RECORD_FORMAT_VERSION) {
		free(*why);
		*why = xasprintf("record format version not supported (this "
		    "is version %d, which reads 1 to %d)",
		    RECORD_FORMAT_VERSION, RECORD_FORMAT_VERSION);
		return -1;
	}
	r->format_version = (unsigned)v;
	if (get_str(j, "kind", 0, &kind, why) == -1 ||
	    get_str(j, "seed", 0, &seed, why) == -1 ||
	    get_str(j, "target", 0, &target, why) == -1 ||
	    get_str(j, "target_kind", 1, &tkind, why) == -1 ||
	    get_str(j, "phase", 1, &phase, why) == -1 ||
	    get_str(j, "tool_version", 1, &tv, why) == -1 ||
	    get_str(j, "detail", 1, &detail, why) == -1 ||
	    get_uint(j, "errno", INT_MAX, &err, why) == -1)
		return -1;
	if (parse_seed(seed, &r->seed) == -1) {
		*why = xasprintf("corrupt record: seed '%s' is not a decimal "
		    "number from 0 to %" PRIu64, seed, UINT64_MAX);
		return -1;
	}
	if (net_target_kind(tkind, &r->target_unix) == -1) {
		*why = xasprintf("corrupt record: target_kind '%s' is neither "
		    "tcp nor unix", tkind);
		return -1;
	}
	if (r->target_unix) {
		if (*target == '\0' || strlen(target) >= sizeof(((struct
		    sockaddr_un *)0)->sun_path)) {
			*why = xasprintf("corrupt record: Unix socket target "
			    "'%s' is empty or longer than a socket address "
			    "holds", target);
			return -1;
		}
	} else if (split_target(target, &r->target_host, &r->target_port) ==
	    -1) {
		*why = xasprintf("corrupt record: target '%s' is not host:port "
		    "with a port from 1 to 65535", target);
		return -1;
	}
	pace = json_string_value(json_object_get(json_object_get(j,
	    "options"), "pace"));
	r->err = (int)err;
	r->kind = xstrdup(kind);
	r->target = xstrdup(target);
	r->phase = xstrdup(phase ? phase : "?");
	r->tool_version = xstrdup(tv ? tv : "?");
	r->detail = detail ? xstrdup(detail) : NULL;
	r->pace = xstrdup(pace ? pace : "ack");
	return 0;
}

/* Reads target_process.cwd, where a supervised run's command ran: absent,
 * or an absolute path shorter than PATH_MAX. */
static int
record_target_cwd(const json_t *j, struct record *r, char **why)
{
	const json_t	*tp = json_object_get(j, "target_process");
	const json_t	*v = json_object_get(tp, "cwd");
	const char	*cwd = json_string_value(v);

	if (v == NULL)
		return 0;
	if (cwd == NULL || *cwd != '/' || strlen(cwd) >= PATH_MAX) {
		*why = xasprintf("corrupt record: target_process 'cwd' %s",
		    cwd == NULL ? "is not a string" : *cwd != '/' ?
		    "is not an absolute path" : "is longer than a path may be");
		return -1;
	}
	r->target_cwd = xstrdup(cwd);
	return 0;
}

/* Reads the connections: the finding's own first, then the suspects. */
static int
record_conns(const json_t *j, struct record *r, char **why)
{
	const json_t	*conn = json_object_get(j, "connection");
	const json_t	*sus = json_object_get(j, "suspects");
	size_t		 n;

	if ((!json_is_object(conn) && !json_is_null(conn)) ||
	    !json_is_array(sus)) {
		*why = xasprintf("record lacks kind, seed, connection or "
		    "suspects");
		return -1;
	}
	n = json_array_size(sus);
	if (n > RECORD_MAX_SUSPECTS) {
		*why = xasprintf("corrupt record: %zu suspects, more than the "
		    "%d a record holds", n, RECORD_MAX_SUSPECTS);
		return -1;
	}
	r->has_culprit = json_is_object(conn);
	if (!r->has_culprit && n == 0) {
		*why = xasprintf("record holds no connection to replay");
		return -1;
	}
	r->conns = xcalloc(1 + n, sizeof *r->conns);
	for (size_t i = r->has_culprit ? 0 : 1; i <= n; i++) {
		const json_t		*o = i == 0 ? conn :
					    json_array_get(sus, i - 1);
		struct record_conn	*rc = &r->conns[r->nconns++];

		if (!json_is_object(o)) {
			*why = xasprintf("corrupt record: a suspect is not an "
			    "object");
			return -1;
		}
		if (conn_blob(o, rc, why) == -1 ||
		    conn_plan(o, rc, why) == -1 || conn_turns(o, rc, why) == -1)
			return -1;
	}
	return 0;
}

/* Reads and checks a record. */
struct record *
record_load(const char *path, char **cause)
{
	struct record	*r;
	json_t		*j;
	json_error_t	 err;
	char		*text, *why = NULL;
	size_t		 len;

	if ((text = read_file(path, &len, cause)) == NULL)
		return NULL;
	if (scan_bounds(text, len, &why) == -1) {
		free(text);
		*cause = xasprintf("%s: %s", path, why);
		free(why);
		return NULL;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	free(text);
	if (j == NULL) {
		*cause = xasprintf("%s: not a complete JSON record (%s at "
		    "byte %d)", path, err.text, err.position);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	if (!json_is_object(j) || record_header(j, r, &why) == -1 ||
	    record_target_cwd(j, r, &why) == -1 ||
	    record_conns(j, r, &why) == -1 || record_turns(j, r, &why) == -1) {
		*cause = xasprintf("%s: %s", path, why != NULL ? why :
		    "not a stutterfuzz finding record");
		free(why);
		json_decref(j);
		record_free(r);
		return NULL;
	}
	record_check(j, r);
	r->minimized = json_is_object(json_object_get(j, "minimized"));
	json_decref(j);
	return r;
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
	free(r->target_cwd);
	free(r->turns_text);
	free(r->detail);
	free(r->pace);
	free(r->kind);
	free(r->phase);
	free(r->target);
	free(r->target_host);
	free(r->target_port);
	free(r->tool_version);
	free(r);
}
