/* Unit tests: SHA-256, base64, JSON, finding records, replay candidates. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "corpus.h"
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
	struct jbuf	 b = { 0 };
	unsigned char	*back;
	size_t		 len;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7);
	for (size_t n = 0; n < 12; n++) {
		b.len = 0;
		jbuf_base64(&b, data, n);
		back = json_base64_decode(b.s + 1, b.len - 2, &len);
		ck_assert_ptr_nonnull(back);
		ck_assert_uint_eq(len, n);
		ck_assert_int_eq(memcmp(back, data, n), 0);
		free(back);
	}
	b.len = 0;
	jbuf_base64(&b, (const unsigned char *)"foobar", 6);
	ck_assert_str_eq(b.s, "\"Zm9vYmFy\"");
	ck_assert_ptr_null(json_base64_decode("Zm9v!mFy", 8, &len));
	ck_assert_ptr_null(json_base64_decode("Zm9", 3, &len));
	ck_assert_ptr_null(json_base64_decode("Z===", 4, &len));
	jbuf_free(&b);
}
END_TEST

START_TEST(test_json_parse)
{
	const char	*text = "{\"a\":[1,2,18446744073709551615],\"s\":"
	    "\"x\\u00e9\\n\\\"\",\"t\":true,\"n\":null,\"f\":-1.5e3,\"o\":{}}";
	char		*cause = NULL;
	struct json	*j = json_parse(text, strlen(text), &cause);
	const struct json *a, *s;

	ck_assert_ptr_nonnull(j);
	a = json_get(j, "a");
	ck_assert_int_eq(a->type, JSON_ARRAY);
	ck_assert_uint_eq(a->n, 3);
	ck_assert_int_eq(a->items[2].is_uint, 1);
	ck_assert_uint_eq(a->items[2].uint, UINT64_MAX);
	s = json_get(j, "s");
	ck_assert_uint_eq(s->len, 5);
	ck_assert_int_eq(memcmp(s->str, "x\xc3\xa9\n\"", 5), 0);
	ck_assert_int_eq(json_get(j, "t")->boolean, 1);
	ck_assert_int_eq(json_get(j, "n")->type, JSON_NULL);
	ck_assert_double_eq(json_get(j, "f")->number, -1500.0);
	ck_assert_int_eq(json_get(j, "f")->is_uint, 0);
	ck_assert_ptr_null(json_get(j, "missing"));
	json_free(j);
}
END_TEST

/* Bad JSON and the words its error must contain. */
static const struct {
	const char	*text;
	const char	*want;
} bad_json[] = {
	{ "", "unexpected end" },
	{ "{\"a\":1", "unexpected end" },
	{ "{\"a\" 1}", "expected ':'" },
	{ "[1,2", "unexpected end" },
	{ "[1 2]", "expected ',' or ']'" },
	{ "\"abc", "unterminated string" },
	{ "{\"a\":1} x", "trailing characters" },
	{ "tru", "unexpected" },
	{ "\"\\q\"", "bad escape" },
	{ "\"a\nb\"", "control character" },
	{ "-", "bad number" },
	{ "{1:2}", "expected a member name" },
};

START_TEST(test_json_bad)
{
	char		*cause = NULL;
	struct json	*j = json_parse(bad_json[_i].text,
			    strlen(bad_json[_i].text), &cause);

	ck_assert_ptr_null(j);
	ck_assert_msg(cause != NULL && strstr(cause, bad_json[_i].want),
	    "'%s': got '%s'", bad_json[_i].text, cause);
	free(cause);
}
END_TEST

START_TEST(test_json_deep)
{
	char	 text[300];
	char	*cause = NULL;

	memset(text, '[', sizeof text);
	ck_assert_ptr_null(json_parse(text, sizeof text, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "nested too deeply"));
	free(cause);
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
	tcase_add_test(enc, test_json_parse);
	tcase_add_loop_test(enc, test_json_bad, 0,
	    (int)(sizeof bad_json / sizeof bad_json[0]));
	tcase_add_test(enc, test_json_deep);
	tcase_add_checked_fixture(rec, check_tmpdir_setup, check_tmpdir_teardown);
	tcase_add_test(rec, test_record_roundtrip);
	tcase_add_test(rec, test_record_corrupt);
	tcase_add_test(rec, test_replay_candidates);
	suite_add_tcase(s, enc);
	suite_add_tcase(s, rec);
	return s;
}
