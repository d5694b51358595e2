/* Unit tests: the proxy's pure parts and the capture of streams. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A sockaddr_un of path. */
static struct sockaddr_storage
uaddr(const char *path)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*su = (void *)&ss;

	memset(&ss, 0, sizeof ss);
	su->sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof su->sun_path);
	strcpy(su->sun_path, path);
	return ss;
}

START_TEST(test_same_endpoint_unix)
{
	static const struct {
		const char	*l, *t;
		int		 same;
	} cases[] = {
		{ "/tmp/a.sock", "/tmp/a.sock", 1 },
		{ "/tmp/a.sock", "/tmp/b.sock", 0 },
		{ "/tmp//a.sock", "/tmp/./a.sock", 1 },
		{ "a.sock", "./a.sock", 1 },
		{ "a.sock", "/tmp/a.sock", 0 },	/* no cwd: unknown, not same */
		{ "/tmp/x/../a.sock", "/tmp/a.sock", 0 },	/* links: not lexical */
	};
	struct sockaddr_storage	v4 = addr("127.0.0.1", 80), u = uaddr("/x");

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage	l = uaddr(cases[i].l);
		struct sockaddr_storage	t = uaddr(cases[i].t);

		ck_assert_msg(proxy_same_endpoint((struct sockaddr *)&l,
		    (struct sockaddr *)&t) == cases[i].same, "case %zu", i);
	}
	/* A TCP side and a Unix side are never the same. */
	ck_assert_int_eq(proxy_same_endpoint((struct sockaddr *)&v4,
	    (struct sockaddr *)&u), 0);
	ck_assert_int_eq(proxy_same_endpoint((struct sockaddr *)&u,
	    (struct sockaddr *)&v4), 0);
}
END_TEST

START_TEST(test_same_path)
{
	static const struct {
		const char	*a, *b, *cwd;
		int		 same;
	} cases[] = {
		{ "s.sock", "/run/s.sock", "/run", 1 },
		{ "./s.sock", "/run//s.sock", "/run/", 1 },
		{ "s.sock", "/run/s.sock", "/tmp", 0 },
		{ "d/s.sock", "/run/d/./s.sock", "/run", 1 },
		{ "s.sock", "s.sock", NULL, 1 },
		{ "s.sock", "t.sock", "/run", 0 },
		{ "/", "//", NULL, 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(proxy_same_path(cases[i].a, cases[i].b,
		    cases[i].cwd) == cases[i].same, "case %zu", i);
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

/* Makes a socket file at path that nobody listens on. */
static void
stale_socket(const char *path)
{
	struct sockaddr_storage	ss = uaddr(path);
	int			fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss,
	    sizeof(struct sockaddr_un)), 0);
	close(fd);
}

START_TEST(test_listen_unix)
{
	struct proxy_unix_listen ul, ul2;
	char		*cause = NULL, *path = xasprintf("%s/l.sock", check_dir);
	char		*file = xasprintf("%s/file", check_dir), long_path[200];
	struct stat	 st;
	FILE		*f;
	int		 fd, fd2;

	/* A stale socket is replaced; the file is removed at the end. */
	stale_socket(path);
	fd = proxy_listen_unix(path, &ul, &cause);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ul.made, 1);
	/* In use while it listens. */
	fd2 = proxy_listen_unix(path, &ul2, &cause);
	ck_assert_int_eq(fd2, -1);
	ck_assert_ptr_nonnull(strstr(cause, "in use"));
	ck_assert_int_eq(ul2.made, 0);
	free(cause);
	proxy_unlink_unix(&ul2, -1);		/* made none: a no-op */
	ck_assert_int_eq(lstat(path, &st), 0);
	proxy_unlink_unix(&ul, fd);
	close(fd);
	ck_assert_int_eq(lstat(path, &st), -1);

	/* Replaced by another socket meanwhile (its inode number may be
	 * the same): not ours to remove. */
	fd = proxy_listen_unix(path, &ul, &cause);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	stale_socket(path);
	proxy_unlink_unix(&ul, fd);
	close(fd);
	ck_assert_int_eq(lstat(path, &st), 0);

	/* Not a socket, a directory, too long, empty. */
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(proxy_listen_unix(file, &ul, &cause), -1);
	ck_assert_str_eq(cause, "exists but is not a socket");
	free(cause);
	ck_assert_int_eq(proxy_listen_unix(check_dir, &ul, &cause), -1);
	ck_assert_str_eq(cause, "a directory, not a socket");
	free(cause);
	memset(long_path, 'x', sizeof long_path - 1);
	long_path[sizeof long_path - 1] = '\0';
	ck_assert_int_eq(proxy_listen_unix(long_path, &ul, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "longer than the 107"));
	free(cause);
	ck_assert_int_eq(proxy_listen_unix("", &ul, &cause), -1);
	free(cause);
	free(path);
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
	tcase_add_test(tc, test_same_endpoint_unix);
	tcase_add_test(tc, test_same_path);
	tcase_add_test(tc, test_plan_chunk);
	tcase_add_test(tc, test_log_append);
	tcase_add_checked_fixture(tf, check_tmpdir_setup,
	    check_tmpdir_teardown);
	tcase_add_test(tf, test_capture);
	tcase_add_test(tf, test_capture_bad_dir);
	tcase_add_test(tf, test_listen_unix);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tf);
	return s;
}
