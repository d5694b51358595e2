/* Unit tests: the summary model, its JSON form read back, and the escaping
 * of every writer over it (XML, workflow commands, Markdown, HTML, URIs). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "gha.h"
#include "json.h"
#include "junit.h"
#include "report.h"
#include "sarif.h"
#include "summary.h"

struct esc_case {
	const char	*in;
	const char	*want;
};

/* Escapes in with fn into a new string. */
static char *
escape(void (*fn)(struct jbuf *, const char *), const char *in)
{
	struct jbuf	b = { 0 };

	fn(&b, in);
	return b.s;
}

START_TEST(test_xml_escape)
{
	static const struct esc_case	cases[] = {
		{ "plain", "plain" },
		{ "a<b>&\"c'", "a&lt;b&gt;&amp;&quot;c&apos;" },
		{ "line\nnext\ttab\rcr", "line&#10;next&#9;tab&#13;cr" },
		{ "nul\x01" "esc\x1b", "nul\\x01esc\\x1b" },
		{ "\xef\xbf\xbe", "\\ufffe" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char	*got = escape(junit_escape, cases[i].in);

		ck_assert_str_eq(got, cases[i].want);
		free(got);
	}
}
END_TEST

START_TEST(test_gha_escape)
{
	static const struct esc_case	data[] = {
		{ "50% a:b,c\r\nd", "50%25 a:b,c%0D%0Ad" },
		{ "%0A", "%250A" },
	};
	static const struct esc_case	prop[] = {
		{ "50% a:b,c\r\nd", "50%25 a%3Ab%2Cc%0D%0Ad" },
		{ "x::y", "x%3A%3Ay" },
	};

	for (size_t i = 0; i < 2; i++) {
		char	*got = escape(gha_escape_data, data[i].in);

		ck_assert_str_eq(got, data[i].want);
		free(got);
		got = escape(gha_escape_property, prop[i].in);
		ck_assert_str_eq(got, prop[i].want);
		free(got);
	}
}
END_TEST

START_TEST(test_markdown_cell)
{
	char	*got = escape(gha_markdown_cell, "a|b\n<i>*x*_`[y]`&");

	ck_assert_str_eq(got, "a\\|b &lt;i&gt;\\*x\\*\\_\\`\\[y\\]\\`&amp;");
	free(got);
}
END_TEST

START_TEST(test_html_escape)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	report_escape(f, "<script>alert('x')</script>&\"\x02\n");
	fclose(f);
	ck_assert_str_eq(buf, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
	    "&amp;&quot;\\x02\n");
	free(buf);
}
END_TEST

START_TEST(test_uri_path)
{
	char	*got = sarif_uri_path("file://", "/corpus dir/a#b?c%d\xc3\xa9~");

	ck_assert_str_eq(got, "file:///corpus%20dir/a%23b%3Fc%25d%C3%A9~");
	free(got);
}
END_TEST

START_TEST(test_text_utf8)
{
	static const struct esc_case	cases[] = {
		{ "ok \xf0\x9f\x98\x80", "ok \xf0\x9f\x98\x80" },
		{ "bad\xff", "bad\\xff" },
		{ "\xc0\xaf", "\\xc0\\xaf" },		/* overlong */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },	/* surrogate */
		{ "cut\xe2\x82", "cut\\xe2\\x82" },	/* truncated */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char	*got = summary_text(cases[i].in);

		ck_assert_str_eq(got, cases[i].want);
		free(got);
	}
}
END_TEST

/* A finding of blob "b" cut as given. */
static struct summary_finding
finding(const uint32_t *cut, uint32_t n, const char *record)
{
	static const unsigned char	data[] = "0123456789";
	struct summary_finding		f = {
		.kind = FINDING_RESET,
		.blob = (char *)"b\xff",
		.blob_size = 10,
		.cut = (uint32_t *)cut,
		.ncut = n,
		.count = 1,
		.record = (char *)record,
		.phase = (char *)"send",
	};

	for (uint32_t i = 0; i < n; i++)
		f.sent_bytes += cut[i];
	f.key = summary_key(f.kind, data, 10, cut, n, f.sent_bytes, 0, NULL);
	return f;
}

START_TEST(test_model_dedup)
{
	struct summary		*s = summary_new();
	static const uint32_t	 a[] = { 3, 7 }, b[] = { 7, 3 };
	struct summary_finding	 f;
	char			*cut;

	s->fail_on = FINDING_BIT(FINDING_RESET);
	f = finding(a, 2, NULL);
	summary_add(s, &f);
	f = finding(a, 2, "dir/rec.json");	/* the same: counted */
	summary_add(s, &f);
	f = finding(b, 2, NULL);		/* another cut */
	summary_add(s, &f);
	f = finding(a, 1, NULL);		/* fewer fragments sent */
	summary_add(s, &f);
	ck_assert_uint_eq(s->nfindings, 3);
	ck_assert_uint_eq(s->findings[0].count, 2);
	ck_assert_str_eq(s->findings[0].record, "dir/rec.json");
	ck_assert_str_eq(s->findings[0].blob, "b\\xff");
	cut = summary_cut_text(&s->findings[0]);
	ck_assert_str_eq(cut, "3+7 (all 10 bytes)");
	free(cut);
	cut = summary_cut_text(&s->findings[2]);
	ck_assert_str_eq(cut, "3 (3 of 10 bytes sent)");
	free(cut);
	{
		struct summary_finding	one = s->findings[0];
		uint32_t		frag1 = 1;

		one.cut = &frag1;	/* a blob of one byte, sent whole */
		one.ncut = 1;
		one.blob_size = one.sent_bytes = 1;
		cut = summary_cut_text(&one);
		ck_assert_str_eq(cut, "1 (1 byte)");
		free(cut);
		one.ncut = 0;
		one.sent_bytes = 0;
		cut = summary_cut_text(&one);
		ck_assert_str_eq(cut, "nothing sent (0 of 1 byte sent)");
		free(cut);
	}
	s->totals.findings[FINDING_RESET] = 4;
	s->totals.findings[FINDING_HANG] = 9;
	ck_assert_uint_eq(summary_failing(s), 4);
	summary_free(s);
	summary_free(NULL);
}
END_TEST

START_TEST(test_model_many)
{
	struct summary	*s = summary_new();
	uint32_t	 cut[1];

	for (uint32_t i = 0; i < 3000; i++) {
		struct summary_finding	f;

		cut[0] = i % 1500 + 1;
		f = finding(cut, 1, NULL);
		summary_add(s, &f);
	}
	ck_assert_uint_eq(s->nfindings, 1500);
	for (size_t i = 0; i < s->nfindings; i++)
		ck_assert_uint_eq(s->findings[i].count, 2);
	summary_free(s);
}
END_TEST

/* summary_read_json callback: counts what it is told. */
static void
note(void *arg, const char *record, uint64_t count, double at_s)
{
	uint64_t	*sum = arg;

	(void)at_s;
	ck_assert_str_eq(record, "dir/rec.json");
	*sum += count;
}

START_TEST(test_json_round_trip)
{
	struct summary		*s = summary_new(), *back = summary_new();
	static const uint32_t	 a[] = { 4, 6 };
	struct summary_finding	 f = finding(a, 2, "dir/rec.json");
	char			*text, *why = NULL;
	uint64_t		 counted = 0;

	f.count = 5;
	summary_add(s, &f);
	s->seed = 77;
	s->seed_set = 1;
	s->seconds = 2.5;
	s->fail_on = FINDING_BIT(FINDING_RESET) | FINDING_BIT(FINDING_HANG);
	s->totals.fragments = 1234;
	s->totals.findings[FINDING_RESET] = 5;
	s->run_id = strdup("00000000000000ab");
	summary_add_blob(s, "b", 10, 9, 4);
	text = summary_json(s);
	ck_assert_ptr_nonnull(strstr(text, "{\"format\":\"stutterfuzz-summary\","));
	ck_assert_int_eq(summary_read_json(back, text, strlen(text), note,
	    &counted, &why), 0);
	ck_assert_uint_eq(counted, 5);
	ck_assert_uint_eq(back->totals.fragments, 1234);
	ck_assert_uint_eq(back->totals.findings[FINDING_RESET], 5);
	ck_assert_uint_eq(back->fail_on, s->fail_on);
	ck_assert(back->seed_set && back->seed == 77);
	ck_assert_str_eq(back->run_id, "00000000000000ab");
	ck_assert_uint_eq(back->nblobs, 1);
	ck_assert_uint_eq(back->blobs[0].cuts_used, 4);
	free(text);
	summary_free(back);
	summary_free(s);
}
END_TEST

START_TEST(test_json_bad)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"format\":\"stutterfuzz-finding\"}",
		"{\"format\":\"stutterfuzz-summary\",\"counters\":{},"
		    "\"findings\":{\"reset\":-1}}",
		"{\"format\":\"stutterfuzz-summary\",\"counters\":{\"bytes\":"
		    "\"5\"},\"findings\":{}}",
		"{\"format\":\"stutterfuzz-summary\",\"counters\":{},"
		    "\"findings\":{},\"fail_on\":[\"bogus\"]}",
		"{\"format\":\"stutterfuzz-summary\",\"format\":\"x\"}",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct summary	*s = summary_new();
		char		*why = NULL;

		ck_assert_msg(summary_read_json(s, bad[i], strlen(bad[i]), NULL,
		    NULL, &why) == -1, "accepted: %s", bad[i]);
		ck_assert_ptr_nonnull(why);
		free(why);
		summary_free(s);
	}
}
END_TEST

START_TEST(test_stats_lines)
{
	static const char	 good[] = "{\"seconds\":1.0,\"conns/s\":10,"
	    "\"frags/s\":20,\"fidelity\":null,\"coverage\":0.5}\n"
	    "{\"seconds\":0.5,\"conns/s\":4,\"frags/s\":8,\"fidelity\":0.9,"
	    "\"coverage\":0.75}\n{\"seconds\":0.5,\"con";	/* cut by a kill */
	static const char	 bad[] = "{\"seconds\":1}\nnot json\n";
	struct report_series	 rs = { 0 };
	char			*why = NULL;

	ck_assert_int_eq(report_parse_stats(&rs, good, strlen(good), &why), 0);
	ck_assert_uint_eq(rs.n, 2);
	ck_assert_double_eq(rs.t[1], 1.5);
	ck_assert_double_eq(rs.fidelity[0], -1);
	ck_assert_double_eq(rs.fidelity[1], 0.9);
	free(rs.t);
	free(rs.conns);
	free(rs.frags);
	free(rs.fidelity);
	free(rs.coverage);
	memset(&rs, 0, sizeof rs);
	ck_assert_int_eq(report_parse_stats(&rs, bad, strlen(bad), &why), -1);
	ck_assert_str_eq(why, "line 2 is not a statistics line: not JSON: "
	    "'[' or '{' expected near 'not'");
	free(why);
	report_series_clear(&rs);
	ck_assert_int_eq(report_parse_stats(&rs, "{\"seconds\":1}\n[1]\n",
	    18,
	    &why), -1);
	ck_assert_str_eq(why, "line 2 is not a statistics line: not a JSON "
	    "object");
	free(why);
	report_series_clear(&rs);
	ck_assert_int_eq(report_parse_stats(&rs, "{\"seconds\":-1}\n", 15,
	    &why), -1);
	ck_assert_str_eq(why, "line 1 is not a statistics line: \"seconds\" "
	    "is missing or not a duration");
	free(why);
	report_series_clear(&rs);
	ck_assert_int_eq(report_parse_stats(&rs, "{\"seconds\":1,\"frags/s\":"
	    "\"x\"}\n", 28, &why), -1);
	ck_assert_str_eq(why, "line 1 is not a statistics line: \"frags/s\" "
	    "is not a number >= 0");
	free(why);
	free(rs.t);
	free(rs.conns);
	free(rs.frags);
	free(rs.fidelity);
	free(rs.coverage);
}
END_TEST

START_TEST(test_writers)
{
	struct summary		*s = summary_new();
	static const uint32_t	 a[] = { 4, 6 };
	struct summary_finding	 f = finding(a, 2, "d/r<1>.json");
	char			*x, *j, *n;

	f.reproduce = (char *)"stutterfuzz replay 'd/r<1>.json'";
	summary_add(s, &f);
	s->fail_on = FINDING_BIT(FINDING_RESET);
	s->totals.findings[FINDING_RESET] = 1;
	x = junit_xml(s);
	ck_assert_ptr_nonnull(strstr(x, "failures=\"1\""));
	ck_assert_ptr_nonnull(strstr(x, "record: d/r&lt;1&gt;.json"));
	ck_assert_ptr_null(strstr(x, "r<1>"));
	j = sarif_json(s);
	ck_assert_ptr_nonnull(strstr(j, "\"ruleId\": \"reset\""));
	ck_assert_ptr_nonnull(strstr(j, "\"uri\": \"b%5Cxff\""));
	ck_assert_ptr_nonnull(strstr(j, "\"level\": \"error\""));
	n = gha_annotations(s);
	ck_assert_str_eq(n, "::error title=stutterfuzz reset%3A blob b\\xff::"
	    "reset x1: blob b\\xff, cut 4+6 (all 10 bytes)%0Arecord: "
	    "d/r<1>.json%0Areproduce: stutterfuzz replay 'd/r<1>.json'\n");
	free(x);
	free(j);
	free(n);
	summary_free(s);
}
END_TEST

Suite *
summary_suite(void)
{
	Suite	*s = suite_create("summary");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_xml_escape);
	tcase_add_test(tc, test_gha_escape);
	tcase_add_test(tc, test_markdown_cell);
	tcase_add_test(tc, test_html_escape);
	tcase_add_test(tc, test_uri_path);
	tcase_add_test(tc, test_text_utf8);
	tcase_add_test(tc, test_model_dedup);
	tcase_add_test(tc, test_model_many);
	tcase_add_test(tc, test_json_round_trip);
	tcase_add_test(tc, test_json_bad);
	tcase_add_test(tc, test_stats_lines);
	tcase_add_test(tc, test_writers);
	suite_add_tcase(s, tc);
	return s;
}
