/* Unit tests: the proxy's pure parts and the capture of streams. */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "check_suites.h"
#include "plan.h"
#include "proxy.h"
#include "util.h"

/* Fills a sockaddr from "a.b.c.d" or a v6 literal and a port. */
static struct sockaddr_storage
addr(const char *host, unsigned port)
{
	struct sockaddr_storage	ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6	*s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET6, host, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in	*s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET, host, &s4->sin_addr), 1);
	}
	return ss;
}

START_TEST(test_same_endpoint)
{
	static const struct {
		const char	*lh;
		unsigned	 lp;
		const char	*th;
		unsigned	 tp;
		int		 same;
	} cases[] = {
		{ "127.0.0.1", 8080, "127.0.0.1", 8080, 1 },
		{ "127.0.0.1", 8080, "127.0.0.1", 8081, 0 },
		{ "127.0.0.1", 8080, "127.0.0.2", 8080, 0 },
		{ "0.0.0.0", 8080, "127.0.0.2", 8080, 1 },
		{ "::1", 8080, "::1", 8080, 1 },
		{ "::1", 8080, "127.0.0.1", 8080, 0 },
		{ "::", 8080, "127.0.0.1", 8080, 1 },
		{ "::", 8080, "::1", 8080, 1 },
		{ "127.0.0.1", 8080, "::1", 8080, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage	l = addr(cases[i].lh, cases[i].lp);
		struct sockaddr_storage	t = addr(cases[i].th, cases[i].tp);

		ck_assert_msg(proxy_same_endpoint((struct sockaddr *)&l,
		    (struct sockaddr *)&t) == cases[i].same, "case %zu", i);
	}
}
END_TEST

START_TEST(test_plan_chunk)
{
	static const unsigned char data[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct plan_params	pp = { .split = PLAN_SPLIT_MIX,
				    .fastopen_chance = 1, .close_chance = 1 };
	struct plan		a = { 0 }, b = { 0 };
	size_t			len = sizeof data - 1;

	for (uint64_t chunk = 0; chunk < 64; chunk++) {
		uint64_t	sum = 0;

		ck_assert_int_eq(proxy_plan_chunk(&a, 9, 4, chunk, data, len,
		    &pp), 0);
		ck_assert_int_eq(proxy_plan_chunk(&b, 9, 4, chunk, data, len,
		    &pp), 0);
		/* Never fast open or an early close, whatever the params. */
		ck_assert_int_eq(a.fastopen, 0);
		ck_assert_uint_eq(a.close_after, a.nfrags);
		ck_assert_uint_eq(a.nfrags, b.nfrags);
		ck_assert_mem_eq(a.sizes, b.sizes, a.nfrags * sizeof *a.sizes);
		for (uint32_t i = 0; i < a.nfrags; i++)
			sum += a.sizes[i];
		ck_assert_uint_eq(sum, len);
	}
	plan_release(&a);
	plan_release(&b);
}
END_TEST

START_TEST(test_log_append)
{
	struct plan	 log = { 0 }, chunk = { 0 };
	uint32_t	 sizes[] = { 3, 4, 5 };

	chunk.sizes = sizes;
	chunk.nfrags = 3;
	ck_assert_int_eq(proxy_log_append(&log, &chunk, 100), 0);
	ck_assert_uint_eq(log.nfrags, 3);
	ck_assert_uint_eq(log.len, 12);
	/* The limit clips the last piece and drops what is past it. */
	ck_assert_int_eq(proxy_log_append(&log, &chunk, 17), 0);
	ck_assert_uint_eq(log.nfrags, 5);
	ck_assert_uint_eq(log.sizes[3], 3);
	ck_assert_uint_eq(log.sizes[4], 2);
	ck_assert_uint_eq(log.len, 17);
	ck_assert_uint_eq(log.close_after, 5);
	ck_assert_int_eq(proxy_log_append(&log, &chunk, 17), 0);
	ck_assert_uint_eq(log.nfrags, 5);
	plan_release(&log);
}
END_TEST

/* Reads a whole small file into buf; returns its length or -1. */
static long
slurp(const char *path, char *buf, size_t len)
{
	FILE	*f = fopen(path, "rb");
	size_t	 n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, len, f);
	fclose(f);
	return (long)n;
}

START_TEST(test_capture)
{
	char		 name[CAPTURE_NAME_LEN + 1], name2[CAPTURE_NAME_LEN + 1];
	char		*cause = NULL, *path, buf[64];
	struct capture	*c = capture_new(check_dir, 1, &cause);
	struct stat	 st;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(capture_add(c, (const unsigned char *)"abc", 3,
	    (const unsigned char *)"ANS", 3, name, &cause), 1);
	/* The SHA-256 of "abc". */
	ck_assert_str_eq(name, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(capture_add(c, (const unsigned char *)"abc", 3,
	    (const unsigned char *)"OTHER", 5, name2, &cause), 0);
	ck_assert_str_eq(name, name2);
	path = xasprintf("%s/%s", check_dir, name);
	ck_assert_int_eq(slurp(path, buf, sizeof buf), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	free(path);
	/* The first answer stays, in the subdirectory. */
	path = xasprintf("%s/answers/%s.answer", check_dir, name);
	ck_assert_int_eq(slurp(path, buf, sizeof buf), 3);
	ck_assert_mem_eq(buf, "ANS", 3);
	free(path);
	path = xasprintf("%s/answers", check_dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	free(path);
	capture_free(c);
	capture_free(NULL);
}
END_TEST

START_TEST(test_capture_bad_dir)
{
	char		*cause = NULL, *file = xasprintf("%s/file", check_dir);
	FILE		*f = fopen(file, "w");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_ptr_null(capture_new(file, 0, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not a directory"));
	ck_assert_ptr_nonnull(strstr(cause, "--record"));
	free(cause);
	free(file);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc = tcase_create("pure");
	TCase	*tf = tcase_create("capture");

	tcase_add_test(tc, test_same_endpoint);
	tcase_add_test(tc, test_plan_chunk);
	tcase_add_test(tc, test_log_append);
	tcase_add_checked_fixture(tf, check_tmpdir_setup,
	    check_tmpdir_teardown);
	tcase_add_test(tf, test_capture);
	tcase_add_test(tf, test_capture_bad_dir);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tf);
	return s;
}
