/* SARIF 2.1.0 over the summary model. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sarif.h"
#include "summary.h"
#include "util.h"

/* What each kind of finding means, for its rule. */
static const struct {
	const char	*title;
	const char	*help;
} rules[FINDING__COUNT] = {
	[FINDING_REFUSED] = { "Server stopped listening",
	    "A connect() was refused: nothing listens any more, so the server "
	    "most likely died; the connections in flight just before are in "
	    "the record." },
	[FINDING_CONNECT_TIMEOUT] = { "Server stopped accepting",
	    "A connect() did not complete in time: the server stopped "
	    "accepting connections." },
	[FINDING_RESET] = { "Connection reset",
	    "The server reset the connection (ECONNRESET or EPIPE) while the "
	    "blob was being sent in pieces or drained." },
	[FINDING_HANG] = { "Server hang",
	    "Data sent to the server stayed unread or unacknowledged for the "
	    "hang timeout." },
	[FINDING_TARGET_EXIT] = { "Target exited",
	    "The supervised target exited or was killed by a signal." },
	[FINDING_TARGET_REPORT] = { "Target error report",
	    "Valgrind or a sanitizer reported an error in the supervised "
	    "target's output." },
	[FINDING_MISMATCH] = { "Wrong answer",
	    "A cut blob got a different answer than the same blob sent whole, "
	    "confirmed: the whole send still got the reference answer and the "
	    "same cut a wrong one again; the record holds both answers and "
	    "the first difference." },
};

/* s percent-encoded as a URI path, after prefix (allocated). */
char *
sarif_uri_path(const char *prefix, const char *s)
{
	size_t		 plen = strlen(prefix), n = plen;
	char		*out = xmalloc(plen + 3 * strlen(s) + 1);

	memcpy(out, prefix, plen);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL)
			out[n++] = (char)*p;
		else
			n += (size_t)sprintf(out + n, "%%%02X", *p);
	}
	out[n] = '\0';
	return out;
}

/* The artifact URI of a finding: its blob in the corpus directory, or its
 * record. Allocated. */
static char *
finding_uri(const struct summary *s, const struct summary_finding *f)
{
	char	*dir, *uri;

	if (f->blob == NULL)
		return sarif_uri_path("", f->record != NULL ? f->record :
		    "stutterfuzz-target");
	if (s->blob_dir == NULL)
		return sarif_uri_path("", f->blob);
	dir = sarif_uri_path(s->blob_dir[0] == '/' ? "file://" : "",
	    s->blob_dir);
	uri = sarif_uri_path("", f->blob);
	dir = xreallocarray(dir, strlen(dir) + strlen(uri) + 2, 1);
	strcat(dir, "/");
	strcat(dir, uri);
	free(uri);
	return dir;
}

/* The rules, one per kind. */
static json_t *
rules_json(const struct summary *s)
{
	json_t	*a = json_array();

	for (int k = 0; k < FINDING__COUNT; k++) {
		const char	*id = finding_kind_name((enum finding_kind)k);
		const char	*title = rules[k].title ? rules[k].title : id;
		const char	*help = rules[k].help ? rules[k].help :
				    "A finding of stutterfuzz.";

		json_array_append_new(a, json_pack("{s:s,s:s,s:{s:s},s:{s:s},"
		    "s:{s:s},s:{s:s},s:{s:[s,s]}}", "id", id, "name", id,
		    "shortDescription", "text", title,
		    "fullDescription", "text", help,
		    "help", "text", help,
		    "defaultConfiguration", "level",
		    summary_fails(s, (enum finding_kind)k) ? "error" : "warning",
		    "properties", "tags", "robustness", "stutterfuzz"));
	}
	return a;
}

/* The message of a result: what, which cut, how to reproduce. */
static char *
result_message(const struct summary_finding *f)
{
	char	*cut = summary_cut_text(f), *m;

	if (f->blob != NULL)
		m = xasprintf("%s: blob %s cut %s (%" PRIu64 " time%s, seed %"
		    PRIu64 ", phase %s). Reproduce: %s", finding_kind_name(
		    f->kind), f->blob, cut, f->count, f->count == 1 ? "" : "s",
		    f->seed, f->phase ? f->phase : "?", f->reproduce ?
		    f->reproduce : "no record written");
	else
		m = xasprintf("%s: %s (%" PRIu64 " time%s). Reproduce: %s",
		    finding_kind_name(f->kind), f->detail ? f->detail : "?",
		    f->count, f->count == 1 ? "" : "s", f->reproduce ?
		    f->reproduce : "no record written");
	free(cut);
	return m;
}

/* Index of uri among the artifacts, added if new. */
static size_t
artifact_index(json_t *artifacts, const char *uri,
    const struct summary_finding *f)
{
	size_t	 i;
	json_t	*a;

	json_array_foreach(artifacts, i, a) {
		const char	*u = json_string_value(json_object_get(
		    json_object_get(a, "location"), "uri"));

		if (u != NULL && strcmp(u, uri) == 0)
			return i;
	}
	a = json_pack("{s:{s:s}}", "location", "uri", uri);
	if (f->blob != NULL) {
		json_object_set_new(a, "length",
		    json_integer((json_int_t)f->blob_size));
		json_object_set_new(a, "hashes", json_pack("{s:s}", "sha-256",
		    f->blob_sha256));
	}
	json_array_append_new(artifacts, a);
	return json_array_size(artifacts) - 1;
}

/* One result per distinct finding. */
static json_t *
result_json(const struct summary *s, const struct summary_finding *f,
    json_t *artifacts)
{
	char	*uri = finding_uri(s, f), *msg = result_message(f), fp[24];
	size_t	 ai = artifact_index(artifacts, uri, f);
	json_t	*r;

	snprintf(fp, sizeof fp, "%016" PRIx64, f->key);
	r = json_pack("{s:s,s:i,s:s,s:{s:s},s:[{s:{s:{s:s,s:I},s:{s:i}}}],"
	    "s:{s:s}}", "ruleId", finding_kind_name(f->kind),
	    "ruleIndex", (int)f->kind,
	    "level", summary_fails(s, f->kind) ? "error" : "warning",
	    "message", "text", msg,
	    "locations", "physicalLocation", "artifactLocation", "uri", uri,
	    "index", (json_int_t)ai, "region", "startLine", 1,
	    "partialFingerprints", "stutterfuzzFinding/v1", fp);
	json_object_set_new(r, "occurrenceCount", json_integer(
	    (json_int_t)(f->count > 0 ? f->count : 1)));
	free(uri);
	free(msg);
	return r;
}

/* The SARIF log as JSON text. */
char *
sarif_json(const struct summary *s)
{
	json_t	*results = json_array(), *artifacts = json_array(), *log;
	char	*text, *out;

	for (size_t i = 0; i < s->nfindings; i++)
		json_array_append_new(results, result_json(s, &s->findings[i],
		    artifacts));
	log = json_pack("{s:s,s:s,s:[{s:{s:{s:s,s:s,s:s,s:o}},s:o,s:o,"
	    "s:[{s:b,s:i}]}]}",
	    "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
	    "version", "2.1.0",
	    "runs", "tool", "driver", "name", "stutterfuzz",
	    "semanticVersion", STUTTERFUZZ_VERSION,
	    "version", STUTTERFUZZ_VERSION, "rules", rules_json(s),
	    "artifacts", artifacts, "results", results,
	    "invocations", "executionSuccessful", 1, "exitCode", s->exit_code);
	text = log != NULL ? json_dumps(log, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(log);
	out = xasprintf("%s\n", text != NULL ? text : "{}");
	free(text);
	return out;
}
