/* Unit tests: SHA-256, base64, JSON, finding records, replay candidates. */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "corpus.h"
#include "base64.h"
#include "json.h"
#include "plan.h"
#include "record.h"
#include "replay.h"
#include "sha256.h"

START_TEST(test_sha256_vectors)
{
	char		hex[65];
	static char	million[1000000];

	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"
	    "ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9"
	    "cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff216"
	    "7f6ecedd419db06c1");
	memset(million, 'a', sizeof million);
	sha256_hex(million, sizeof million, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200"
	    "e046d39ccc7112cd0");
}
END_TEST

START_TEST(test_base64_roundtrip)
{
	unsigned char	 data[300];
	unsigned char	*back;
	char		*text;
	size_t		 len;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7);
	for (size_t n = 0; n < 12; n++) {
		text = base64_encode(data, n);
		ck_assert_uint_eq(strlen(text), base64_encoded_len(n));
		back = base64_decode(text, strlen(text), &len);
		ck_assert_ptr_nonnull(back);
		ck_assert_uint_eq(len, n);
		ck_assert_int_eq(memcmp(back, data, n), 0);
		free(back);
		free(text);
	}
	text = base64_encode((const unsigned char *)"foobar", 6);
	ck_assert_str_eq(text, "Zm9vYmFy");
	free(text);
	ck_assert_ptr_null(base64_decode("Zm9v!mFy", 8, &len));
	ck_assert_ptr_null(base64_decode("Zm9", 3, &len));
	ck_assert_ptr_null(base64_decode("Z===", 4, &len));
	ck_assert_ptr_null(base64_decode("Zm=v", 4, &len));
	ck_assert_ptr_null(base64_decode("Zm==Zm==", 8, &len));
	/* Padding bits that are not zero: a second text for the same bytes. */
	ck_assert_ptr_null(base64_decode("Zh==", 4, &len));
	ck_assert_ptr_null(base64_decode("Zm9=", 4, &len));
	back = base64_decode("Zg==", 4, &len);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(len, 1);
	free(back);
}
END_TEST

/* A finished connection of blob b, cut as sizes say, gaps 10, 20, ... */
static void
make_report(struct conn_report *r, struct plan *p, const struct blob *b,
    const uint32_t *sizes, uint32_t n, uint32_t *gaps)
{
	memset(p, 0, sizeof *p);
	p->len = b->len;
	p->nfrags = n;
	p->close_after = n;
	p->sizes = (uint32_t *)sizes;
	for (uint32_t i = 0; i < n; i++)
		gaps[i] = 10 * (i + 1);
	memset(r, 0, sizeof *r);
	r->index = 42;
	r->blob = b;
	r->plan = p;
	r->frags_sent = n;
	r->bytes_sent = b->len;
	r->gaps_us = gaps;
	r->ngaps = n;
	r->local_port = 40000;
	r->state = "draining";
	r->outcome = CONN_OUT_RESET;
	r->start_us = 1000;
	r->end_us = 2000;
}

static const struct record_meta meta = {
	.kind = "reset",
	.err = 104,
	.phase = "read",
	.at_us = 1500000,
	.seed = 18446744073709551615ULL,
	.target = "127.0.0.1:6789",
	.options_json = "{\"pace\":\"ack\"}",
};

START_TEST(test_record_roundtrip)
{
	struct blob		 b = { .name = (char *)"we\"ird name",
				    .data = (unsigned char *)"GET /\r\n\x00\xff",
				    .len = 9 };
	static const uint32_t	 sizes[] = { 2, 3, 4 }, other[] = { 9 };
	uint32_t		 gaps[3], gaps2[1];
	struct plan		 p, p2;
	struct conn_report	 r, s;
	struct recorder		*rec;
	struct record		*back;
	char			*cause = NULL, path[600];
	const char		*name = NULL;
	uint64_t		 w, d, o;

	make_report(&r, &p, &b, sizes, 3, gaps);
	make_report(&s, &p2, &b, other, 1, gaps2);
	s.index = 7;
	s.outcome = CONN_OUT_COMPLETED;
	rec = recorder_new(check_dir, 2, &cause);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(recorder_add(rec, &meta, &r, &s, 1, &name, &cause), 1);
	ck_assert_ptr_nonnull(strstr(name, "reset-"));
	/* The same kind, blob and cut again: counted, not written. */
	ck_assert_int_eq(recorder_add(rec, &meta, &r, NULL, 0, &name, &cause),
	    0);
	/* Another cut: written; a third: over the cap. */
	ck_assert_int_eq(recorder_add(rec, &meta, &s, NULL, 0, &name, &cause),
	    1);
	r.frags_sent = 2;
	r.bytes_sent = 5;
	ck_assert_int_eq(recorder_add(rec, &meta, &r, NULL, 0, &name, &cause),
	    2);
	recorder_totals(rec, &w, &d, &o);
	ck_assert_uint_eq(w, 2);
	ck_assert_uint_eq(d, 1);
	ck_assert_uint_eq(o, 1);
	ck_assert_int_eq(recorder_finish(rec, 5, "signal", &cause), 0);

	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	back = record_load(path, &cause);
	ck_assert_msg(back != NULL, "%s", cause);
	ck_assert_str_eq(back->kind, "reset");
	ck_assert_uint_eq(back->seed, 18446744073709551615ULL);
	ck_assert_uint_eq(back->nconns, 1);
	ck_assert_str_eq(back->conns[0].blob.name, "we\"ird name");
	ck_assert_uint_eq(back->conns[0].blob.len, 9);
	ck_assert_int_eq(memcmp(back->conns[0].blob.data, b.data, 9), 0);
	ck_assert_uint_eq(back->conns[0].plan.nfrags, 1);
	ck_assert_uint_eq(back->conns[0].plan.sizes[0], 9);
	ck_assert_uint_eq(back->conns[0].plan.gaps_us[0], 10);
	record_free(back);
	recorder_free(rec);
}
END_TEST

/* A target finding's record keeps the command and where it ran: the
 * given directory, else the working directory of the writer. */
START_TEST(test_record_target_cwd)
{
	static char *const	 argv[] = { (char *)"./server", (char *)"-v",
				    NULL };
	struct record_meta	 m = meta;
	struct blob		 b = { .name = (char *)"b",
				    .data = (unsigned char *)"xy", .len = 2 };
	static const uint32_t	 sizes[] = { 2 };
	uint32_t		 gaps[1];
	struct plan		 p;
	struct conn_report	 r;
	struct recorder		*rec;
	struct record		*back;
	char			*cause = NULL, path[600], *here;
	const char		*name = NULL;

	make_report(&r, &p, &b, sizes, 1, gaps);
	m.kind = "target-exit";
	m.detail = "exited with status 42";
	m.target_argv = argv;
	m.target_tail = "bye\n";
	rec = recorder_new(check_dir, 10, &cause);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(recorder_add(rec, &m, NULL, &r, 1, &name, &cause), 1);
	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	back = record_load(path, &cause);
	ck_assert_msg(back != NULL, "%s", cause);
	here = getcwd(NULL, 0);
	ck_assert_str_eq(back->target_cwd, here);
	ck_assert_int_eq(back->minimized, 0);
	free(here);
	record_free(back);
	m.target_cwd = "/srv/ci/job 7";
	m.detail = "exited with status 43";
	ck_assert_int_eq(recorder_add(rec, &m, NULL, &r, 1, &name, &cause), 1);
	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	back = record_load(path, &cause);
	ck_assert_msg(back != NULL, "%s", cause);
	ck_assert_str_eq(back->target_cwd, "/srv/ci/job 7");
	record_free(back);
	recorder_free(rec);
}
END_TEST

START_TEST(test_record_unix_target)
{
	struct blob		 b = { .name = (char *)"b",
				    .data = (unsigned char *)"PING\r\n", .len = 6 };
	static const uint32_t	 sizes[] = { 2, 4 };
	uint32_t		 gaps[2];
	struct plan		 p;
	struct conn_report	 r;
	struct record_meta	 m = meta;
	struct recorder		*rec;
	struct record		*back;
	char			*cause = NULL, path[600];
	const char		*name = NULL;

	make_report(&r, &p, &b, sizes, 2, gaps);
	m.target = "/run/x.sock";
	m.target_kind = "unix";
	rec = recorder_new(check_dir, 0, &cause);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(recorder_add(rec, &m, &r, NULL, 0, &name, &cause), 1);
	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	back = record_load(path, &cause);
	ck_assert_msg(back != NULL, "%s", cause);
	ck_assert_int_eq(back->target_unix, 1);
	ck_assert_str_eq(back->target, "/run/x.sock");
	record_free(back);
	/* A record without target_kind (every older one) is TCP. */
	m = meta;
	r.plan = &p;
	r.frags_sent = 1;
	ck_assert_int_eq(recorder_add(rec, &m, &r, NULL, 0, &name, &cause), 1);
	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	back = record_load(path, &cause);
	ck_assert_msg(back != NULL, "%s", cause);
	ck_assert_int_eq(back->target_unix, 0);
	ck_assert_str_eq(back->target, "127.0.0.1:6789");
	record_free(back);
	recorder_free(rec);
}
END_TEST

/* Writes text as a record file and expects record_load to fail with want. */
static void
expect_bad_record(const char *text, size_t len, const char *want)
{
	char		 path[600], *cause = NULL;
	FILE		*f;

	snprintf(path, sizeof path, "%s/bad.json", check_dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(text, 1, len, f);
	fclose(f);
	ck_assert_ptr_null(record_load(path, &cause));
	ck_assert_msg(cause != NULL && strstr(cause, want) != NULL,
	    "got '%s', wanted '%s'", cause, want);
	ck_assert_ptr_null(strchr(cause, '\n'));
	free(cause);
}

START_TEST(test_record_corrupt)
{
	struct blob		 b = { .name = (char *)"b",
				    .data = (unsigned char *)"hello", .len = 5 };
	static const uint32_t	 sizes[] = { 2, 3 };
	uint32_t		 gaps[2];
	struct plan		 p;
	struct conn_report	 r;
	struct recorder		*rec;
	char			*cause = NULL, path[600], *text, *at;
	const char		*name = NULL;
	FILE			*f;
	long			 len;

	make_report(&r, &p, &b, sizes, 2, gaps);
	rec = recorder_new(check_dir, 0, &cause);
	ck_assert_int_eq(recorder_add(rec, &meta, &r, NULL, 0, &name, &cause),
	    1);
	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)len + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	recorder_free(rec);

	/* Cut in half. */
	expect_bad_record(text, (size_t)len / 2, "not a complete JSON record");
	/* Bytes changed: the checksum no longer matches. */
	at = strstr(text, "aGVsbG8=");
	ck_assert_ptr_nonnull(at);
	at[0] = 'b';
	expect_bad_record(text, (size_t)len, "do not match their SHA-256");
	at[0] = 'a';
	/* Fragments that do not add up to the blob. */
	at = strstr(text, "\"fragments\":[2,3]");
	ck_assert_ptr_nonnull(at);
	at[13] = '4';
	expect_bad_record(text, (size_t)len, "fragments do not cover the blob");
	at[13] = '2';
	expect_bad_record("{\"format\":\"other\"}", 18,
	    "not a stutterfuzz finding record");
	expect_bad_record("[]", 2, "not a stutterfuzz finding record");
	snprintf(path, sizeof path, "%s/missing.json", check_dir);
	ck_assert_ptr_null(record_load(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "No such file"));
	free(cause);
	free(text);
}
END_TEST

/* A record of blob "hello" cut 2+3, as the recorder writes it. */
static char *
base_record(size_t *len)
{
	struct blob		 b = { .name = (char *)"b",
				    .data = (unsigned char *)"hello", .len = 5 };
	static const uint32_t	 sizes[] = { 2, 3 };
	uint32_t		 gaps[2];
	struct plan		 p;
	struct conn_report	 r;
	struct recorder		*rec;
	char			*cause = NULL, path[600], *text;
	const char		*name = NULL;
	FILE			*f;
	long			 n;

	make_report(&r, &p, &b, sizes, 2, gaps);
	rec = recorder_new(check_dir, 0, &cause);
	ck_assert_int_eq(recorder_add(rec, &meta, &r, NULL, 0, &name, &cause),
	    1);
	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	recorder_free(rec);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	*len = (size_t)n;
	return text;
}

/* Hostile edits of a good record and the words their refusal must hold. */
static const struct {
	const char	*from;
	const char	*to;
	const char	*want;
} hostile[] = {
	{ "\"seed\":\"18446744073709551615\"", "\"seed\":\"5abc\"", "seed '5abc'" },
	{ "\"seed\":\"18446744073709551615\"", "\"seed\":\"18446744073709551616\"", "seed" },
	{ "\"seed\":\"18446744073709551615\"", "\"seed\":\"-1\"", "seed" },
	{ "\"seed\":\"18446744073709551615\"", "\"seed\":\" 5\"", "seed" },
	{ "\"seed\":\"18446744073709551615\"", "\"seed\":\"\"", "seed" },
	{ "\"seed\":\"18446744073709551615\"", "\"seed\":5", "'seed' is not a string" },
	{ "\"errno\":104", "\"errno\":1e30", "'errno' is not an integer" },
	{ "\"errno\":104", "\"errno\":2147483648", "'errno' is not an integer" },
	{ "\"errno\":104", "\"errno\":-1", "'errno' is not an integer" },
	{ "\"errno\":104", "\"errno\":104.0", "'errno' is not an integer" },
	{ "\"errno\":104", "\"errno\":99999999999999999999", "not a complete JSON record" },
	{ "\"errno\":104", "\"errno\":0104", "not a complete JSON record" },
	{ "\"errno\":104", "\"errno\":104,\"errno\":104", "not a complete JSON record" },
	{ "\"blob_size\":5", "\"blob_size\":-5", "'blob_size' is not an integer" },
	{ "\"fragments\":[2,3]", "\"fragments\":[2,3.0]", "'fragments' holds a value" },
	{ "\"fragments\":[2,3]", "\"fragments\":[1,1,1,1,1,0]", "'fragments' is not an array of at most 5" },
	{ "\"fragments\":[2,3]", "\"fragments\":[2,3,0]", "fragments do not cover the blob" },
	{ "\"fragments\":[2,3]", "\"fragments\":[4294967297,3]", "'fragments' holds a value" },
	{ "\"gaps_us\":[10,20]", "\"gaps_us\":[10,4294967295]", "'gaps_us' holds a value" },
	{ "\"gaps_us\":[10,20]", "\"gaps_us\":[10,600000001]", "'gaps_us' holds a value" },
	{ "\"gaps_us\":[10,20]", "\"gaps_us\":[1,2,3]", "'gaps_us' is not an array of at most 2" },
	{ "\"close_after\":2", "\"close_after\":3", "'close_after' is not an integer from 0 to 2" },
	{ "\"sent_bytes\":5", "\"sent_bytes\":6", "'sent_bytes' is not an integer from 0 to 5" },
	{ "\"fastopen\":false", "\"fastopen\":0", "'fastopen' is not a boolean" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"127.0.0.1:99999\"", "port from 1 to 65535" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"127.0.0.1:0\"", "port from 1 to 65535" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"127.0.0.1:\"", "port from 1 to 65535" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"127.0.0.1\"", "port from 1 to 65535" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\":80\"", "port from 1 to 65535" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"[::1:80\"", "port from 1 to 65535" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"127.0.0.1:+80\"", "port from 1 to 65535" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"/s\",\"target_kind\":\"sctp\"", "target_kind 'sctp' is neither tcp nor unix" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"/s\",\"target_kind\":1", "'target_kind' is not a string" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"\",\"target_kind\":\"unix\"", "Unix socket target '' is empty or longer" },
	{ "\"target\":\"127.0.0.1:6789\"", "\"target\":\"/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"target_kind\":\"unix\"", "is empty or longer than a socket address holds" },
	{ "\"format_version\":2", "\"format_version\":3", "version not supported" },
	{ "\"format_version\":2", "\"format_version\":0", "version not supported" },
	{ "\"kind\":\"reset\"", "\"kind\":\"\\u00ff\xff\"", "not a complete JSON record" },
	{ "\"kind\":\"reset\"", "\"kind\":\"a\\u0000b\"", "not a complete JSON record" },
	{ "\"kind\":\"reset\"", "\"kind\":\"\\ud800\"", "not a complete JSON record" },
	{ "\"index\":42", "\"index\":\"42\"", "'index' is not an integer" },
	{ "\"suspects\":[]", "\"suspects\":[1]", "a suspect is not an object" },
	{ "\"suspects\":[]", "\"suspects\":{}", "record lacks kind, seed, connection or suspects" },
};

/* Returns text with the first from replaced by to. */
static char *
edit(const char *text, const char *from, const char *to)
{
	const char	*at = strstr(text, from);
	char		*out;

	ck_assert_msg(at != NULL, "no '%s' in the record", from);
	out = malloc(strlen(text) - strlen(from) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

START_TEST(test_record_hostile)
{
	size_t	 len;
	char	*text = base_record(&len), *bad;

	bad = edit(text, hostile[_i].from, hostile[_i].to);
	expect_bad_record(bad, strlen(bad), hostile[_i].want);
	free(bad);
	free(text);
}
END_TEST

/* Writes a record with n copies of the connection as suspects. */
static char *
with_suspects(const char *text, size_t n)
{
	const char	*c = strstr(text, "\"connection\":{"), *end;
	char		*conn, *sus, *out;
	size_t		 clen, off = 0;

	ck_assert_ptr_nonnull(c);
	c += strlen("\"connection\":");
	end = strstr(c, "},\n\"suspects\"");
	ck_assert_ptr_nonnull(end);
	clen = (size_t)(end - c) + 1;
	conn = strndup(c, clen);
	sus = malloc(n * (clen + 1) + 16);
	off += (size_t)sprintf(sus, "\"suspects\":[");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(sus + off, "%s%s", i ? "," : "", conn);
	sprintf(sus + off, "]");
	out = edit(text, "\"suspects\":[]", sus);
	free(conn);
	free(sus);
	return out;
}

START_TEST(test_record_bounds)
{
	size_t	 len, off;
	char	*text = base_record(&len), *bad, *frags;
	char	 path[600], *cause = NULL;
	struct record *r;

	/* 128 suspects load; 129 are more than a record holds. */
	bad = with_suspects(text, RECORD_MAX_SUSPECTS);
	snprintf(path, sizeof path, "%s/many.json", check_dir);
	FILE *f = fopen(path, "w");
	fputs(bad, f);
	fclose(f);
	r = record_load(path, &cause);
	ck_assert_msg(r != NULL, "%s", cause);
	ck_assert_uint_eq(r->nconns, RECORD_MAX_SUSPECTS + 1);
	record_free(r);
	free(bad);
	bad = with_suspects(text, RECORD_MAX_SUSPECTS + 1);
	expect_bad_record(bad, strlen(bad), "129 suspects, more than the 128");
	free(bad);
	/* A million numbers for a 5-byte blob: refused before parsing. */
	frags = malloc(2 * 1000000 + 32);
	off = (size_t)sprintf(frags, "\"fragments\":[2,3");
	for (int i = 0; i < 1000000; i++)
		off += (size_t)sprintf(frags + off, ",0");
	sprintf(frags + off, "]");
	bad = edit(text, "\"fragments\":[2,3]", frags);
	expect_bad_record(bad, strlen(bad), "more than its");
	free(bad);
	free(frags);
	free(text);
}
END_TEST

START_TEST(test_record_fifo)
{
	char	 path[600], *cause = NULL;

	/* Opening a FIFO for reading blocks until a writer comes, unless
	 * O_NONBLOCK: this test would hang before the fix. */
	snprintf(path, sizeof path, "%s/fifo.json", check_dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_ptr_null(record_load(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(cause);
	ck_assert_ptr_null(record_load("/dev/null", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(cause);
}
END_TEST

/* Names that must come back byte for byte, and how "blob" shows them. */
static const struct {
	const char	*name;
	const char	*shown;		/* the display form in "blob" */
	int		 b64;		/* blob_name_base64 written */
} names[] = {
	{ "smile-\xf0\x9f\x98\x80", "\"blob\":\"smile-\xf0\x9f\x98\x80\"", 0 },
	{ "caf\xc3\xa9", "\"blob\":\"caf\xc3\xa9\"", 0 },
	{ "bad\xff", "\"blob\":\"bad\xef\xbf\xbd\"", 1 },
	{ "\xed\xa0\x80surrogate", "\"blob\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdsurrogate\"", 1 },
	{ "ctl\x1b[2J\"q\\", "\"blob\":\"ctl\\u001B[2J\\\"q\\\\\"", 0 },
};

START_TEST(test_record_names)
{
	struct blob		 b = { .name = (char *)names[_i].name,
				    .data = (unsigned char *)"abc", .len = 3 };
	static const uint32_t	 sizes[] = { 3 };
	uint32_t		 gaps[1];
	struct plan		 p;
	struct conn_report	 r;
	struct recorder		*rec;
	struct record		*back;
	char			*cause = NULL, path[600], text[4096];
	const char		*name = NULL;
	FILE			*f;
	size_t			 n;

	make_report(&r, &p, &b, sizes, 1, gaps);
	rec = recorder_new(check_dir, 0, &cause);
	ck_assert_int_eq(recorder_add(rec, &meta, &r, NULL, 0, &name, &cause),
	    1);
	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	recorder_free(rec);
	f = fopen(path, "r");
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	ck_assert_msg(strstr(text, names[_i].shown) != NULL, "%s", text);
	ck_assert_int_eq(strstr(text, "blob_name_base64") != NULL,
	    names[_i].b64);
	back = record_load(path, &cause);
	ck_assert_msg(back != NULL, "%s", cause);
	ck_assert_str_eq(back->conns[0].blob.name, names[_i].name);
	ck_assert_uint_eq(back->format_version, RECORD_FORMAT_VERSION);
	record_free(back);
}
END_TEST

/* Records written by format version 1 (tests/records) still load. */
static const struct {
	const char	*path;
	const char	*kind;
	int		 culprit;
	size_t		 nconns;
} v1[] = {
	{ "tests/records/v1-refused.json", "refused", 1, 101 },
	{ "tests/records/v1-reset.json", "reset", 1, 1 },
	{ "tests/records/v1-target-exit.json", "target-exit", 0, 96 },
};

START_TEST(test_record_v1)
{
	char		*cause = NULL;
	struct record	*r = record_load(v1[_i].path, &cause);

	ck_assert_msg(r != NULL, "%s", cause);
	ck_assert_uint_eq(r->format_version, 1);
	ck_assert_str_eq(r->kind, v1[_i].kind);
	ck_assert_int_eq(r->has_culprit, v1[_i].culprit);
	ck_assert_uint_eq(r->nconns, v1[_i].nconns);
	ck_assert_str_eq(r->target_host, "127.0.0.1");
	ck_assert_int_eq(record_target_is_loopback(r), 1);
	ck_assert_str_eq(r->pace, "read");
	for (size_t i = 0; i < r->nconns; i++)
		ck_assert_uint_eq(r->conns[i].plan.len, r->conns[i].blob.len);
	record_free(r);
}
END_TEST

/* Record text and what a terminal must be shown instead. */
static const struct {
	const char	*in;
	const char	*out;
} escapes[] = {
	{ "plain name.txt", "plain name.txt" },
	{ "\x1b]0;owned\x07", "\\x1b]0;owned\\x07" },
	{ "\x1b[2J", "\\x1b[2J" },
	{ "x\nResult: not reproduced", "x\\x0aResult: not reproduced" },
	{ "cr\rtab\tdel\x7f", "cr\\x0dtab\\x09del\\x7f" },
	{ "back\\slash", "back\\\\slash" },
	{ "\xf0\x9f\x98\x80 caf\xc3\xa9", "\xf0\x9f\x98\x80 caf\xc3\xa9" },
	{ "c1\xc2\x9b" "2J", "c1\\xc2\\x9b2J" },
	{ "bad\xff\xfe", "bad\\xff\\xfe" },
	{ "rlo\xe2\x80\xae", "rlo\\xe2\\x80\\xae" },
	{ "", "" },
};

START_TEST(test_record_escape)
{
	char	*got = record_escape(escapes[_i].in);

	ck_assert_str_eq(got, escapes[_i].out);
	free(got);
}
END_TEST

START_TEST(test_record_loopback)
{
	static const struct {
		const char	*host;
		int		 loopback;
	} hosts[] = {
		{ "127.0.0.1", 1 }, { "127.255.0.9", 1 }, { "::1", 1 },
		{ "::ffff:127.0.0.1", 1 }, { "10.0.0.1", 0 }, { "::2", 0 },
		{ "localhost", 0 }, { "example.com", 0 }, { "128.0.0.1", 0 },
	};
	struct record	r = { 0 };

	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		r.target_host = (char *)hosts[i].host;
		ck_assert_int_eq(record_target_is_loopback(&r),
		    hosts[i].loopback);
	}
}
END_TEST

START_TEST(test_replay_candidates_many)
{
	size_t			  n = 20000;
	struct record		  rec = { 0 };
	struct record_conn	 *c = calloc(n, sizeof *c);
	const struct record_conn **out = calloc(n, sizeof *out);
	static uint32_t		  s1[] = { 1, 2 }, s2[] = { 3 };
	static const char	 *blobs[] = { "abc", "abd", "xyz", "xyw" };

	/* 20,000 connections, 8 distinct cuts (4 blobs, 2 cuts each). */
	for (size_t i = 0; i < n; i++) {
		c[i].index = i;
		c[i].blob.data = (unsigned char *)blobs[i % 4];
		c[i].blob.len = 3;
		c[i].plan.sizes = (i / 4) % 2 ? s2 : s1;
		c[i].plan.nfrags = (i / 4) % 2 ? 1 : 2;
		c[i].plan.close_after = c[i].plan.nfrags;
		c[i].bytes_sent = 3;
		c[i].outcome = CONN_OUT_RESET;
	}
	rec.conns = c;
	rec.nconns = n;
	ck_assert_uint_eq(replay_candidates(&rec, out), 8);
	for (size_t i = 0; i < 8; i++)
		ck_assert_uint_eq(out[i]->index, i);
	free(out);
	free(c);
}
END_TEST

START_TEST(test_replay_candidates_distinct)
{
	size_t			  n = 100000;
	struct record		  rec = { 0 };
	struct record_conn	 *c = calloc(n, sizeof *c);
	const struct record_conn **out = calloc(n, sizeof *out);
	uint64_t		 *bytes = calloc(n, sizeof *bytes);
	static uint32_t		  s1[] = { 8 };

	/* 100,000 distinct cuts: pairwise comparison would take 5e9 steps,
	 * far past the test's timeout; a hash table takes 1e5. */
	for (size_t i = 0; i < n; i++) {
		bytes[i] = i;
		c[i].index = i;
		c[i].blob.data = (unsigned char *)&bytes[i];
		c[i].blob.len = sizeof bytes[i];
		c[i].plan.sizes = s1;
		c[i].plan.nfrags = 1;
		c[i].plan.close_after = 1;
		c[i].bytes_sent = 8;
		c[i].outcome = CONN_OUT_RESET;
	}
	rec.conns = c;
	rec.nconns = n;
	ck_assert_uint_eq(replay_candidates(&rec, out), n);
	ck_assert_uint_eq(out[n - 1]->index, n - 1);
	free(bytes);
	free(out);
	free(c);
}
END_TEST

START_TEST(test_record_conn_text)
{
	struct blob		 b = { .name = (char *)"n\xf0\x9f\x98\x80",
				    .data = (unsigned char *)"hello", .len = 5 };
	static const uint32_t	 sizes[] = { 2, 3 };
	uint32_t		 gaps[2];
	struct plan		 p;
	struct conn_report	 r;
	struct jbuf		 jb = { 0 };
	char			*bare, *full;

	make_report(&r, &p, &b, sizes, 2, gaps);
	bare = record_conn_text(&r, 0);
	full = record_conn_text(&r, 1);
	ck_assert_ptr_nonnull(bare);
	ck_assert_ptr_nonnull(full);
	ck_assert_ptr_null(strchr(bare, '\n'));
	ck_assert_ptr_nonnull(strstr(bare, "\"blob\":\"n\xf0\x9f\x98\x80\""));
	ck_assert_ptr_nonnull(strstr(bare, "\"fragments\":[2,3],"));
	ck_assert_ptr_nonnull(strstr(bare, "\"gaps_us\":[10,20],"));
	ck_assert_ptr_null(strstr(bare, "blob_base64"));
	ck_assert_ptr_nonnull(strstr(full, "\"blob_base64\":\"aGVsbG8=\""));
	record_conn_json(&jb, &r, 1);
	ck_assert_str_eq(jb.s, full);
	jbuf_free(&jb);
	free(bare);
	free(full);
}
END_TEST

START_TEST(test_replay_candidates)
{
	struct record		 rec = { 0 };
	struct record_conn	 c[5];
	const struct record_conn *out[5];
	static uint32_t		 s1[] = { 1, 2 }, s2[] = { 3 };
	static const enum conn_outcome outcomes[] = { CONN_OUT_REFUSED,
				    CONN_OUT_COMPLETED, CONN_OUT_RESET,
				    CONN_OUT_RESET, CONN_OUT_PEER_CLOSED };

	memset(c, 0, sizeof c);
	for (int i = 0; i < 5; i++) {
		c[i].index = (uint64_t)i;
		c[i].blob.data = (unsigned char *)"abc";
		c[i].blob.len = 3;
		c[i].plan.sizes = i == 4 ? s2 : s1;
		c[i].plan.nfrags = i == 4 ? 1 : 2;
		c[i].plan.close_after = c[i].plan.nfrags;
		c[i].bytes_sent = i == 0 ? 0 : 3;
		c[i].outcome = outcomes[i];
	}
	rec.conns = c;
	rec.nconns = 5;
	/* 0 sent nothing; 1, 2 and 3 are the same cut; abnormal first. */
	ck_assert_uint_eq(replay_candidates(&rec, out), 2);
	ck_assert_uint_eq(out[0]->index, 2);
	ck_assert_uint_eq(out[1]->index, 4);
}
END_TEST

Suite *
record_suite(void)
{
	Suite	*s = suite_create("record");
	TCase	*enc = tcase_create("encoding");
	TCase	*rec = tcase_create("records");

	tcase_add_test(enc, test_sha256_vectors);
	tcase_add_test(enc, test_base64_roundtrip);
	tcase_add_checked_fixture(rec, check_tmpdir_setup, check_tmpdir_teardown);
	tcase_add_test(rec, test_record_roundtrip);
	tcase_add_test(rec, test_record_unix_target);
	tcase_add_test(rec, test_record_corrupt);
	tcase_add_test(rec, test_record_target_cwd);
	tcase_add_test(rec, test_replay_candidates);
	tcase_add_test(rec, test_replay_candidates_many);
	tcase_add_test(rec, test_replay_candidates_distinct);
	tcase_add_test(enc, test_record_conn_text);
	tcase_add_loop_test(rec, test_record_hostile, 0,
	    (int)(sizeof hostile / sizeof hostile[0]));
	tcase_add_test(rec, test_record_bounds);
	tcase_add_test(rec, test_record_fifo);
	tcase_add_loop_test(rec, test_record_names, 0,
	    (int)(sizeof names / sizeof names[0]));
	tcase_add_loop_test(rec, test_record_v1, 0,
	    (int)(sizeof v1 / sizeof v1[0]));
	tcase_add_loop_test(enc, test_record_escape, 0,
	    (int)(sizeof escapes / sizeof escapes[0]));
	tcase_add_test(enc, test_record_loopback);
	suite_add_tcase(s, enc);
	suite_add_tcase(s, rec);
	return s;
}
