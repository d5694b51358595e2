/* Unit tests: host:port splitting, localhost without a resolver, Unix
 * socket paths and record target kinds. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "net.h"

/* Record targets and how they split (NULL host: refused). */
static const struct {
	const char	*in;
	const char	*host;
	const char	*port;
} splits[] = {
	{ "127.0.0.1:6789", "127.0.0.1", "6789" },
	{ "[::1]:80", "::1", "80" },
	{ "localhost:http", "localhost", "http" },
	{ "[fe80::1%lo]:7", "fe80::1%lo", "7" },
	{ "::1:80", NULL, NULL },	/* a bare IPv6 address is ambiguous */
	{ "127.0.0.1", NULL, NULL },
	{ "127.0.0.1:", NULL, NULL },
	{ ":80", NULL, NULL },
	{ "[::1]80", NULL, NULL },
	{ "[::1]:", NULL, NULL },
	{ "[]:80", NULL, NULL },
	{ "[::1", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(test_split_hostport)
{
	char	*host = NULL, *port = NULL;
	int	 rc = net_split_hostport(splits[_i].in, &host, &port);

	if (splits[_i].host == NULL) {
		ck_assert_msg(rc == -1, "'%s' accepted", splits[_i].in);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' refused", splits[_i].in);
	ck_assert_str_eq(host, splits[_i].host);
	ck_assert_str_eq(port, splits[_i].port);
	free(host);
	free(port);
}
END_TEST

START_TEST(test_is_localhost)
{
	ck_assert(net_is_localhost("localhost"));
	ck_assert(net_is_localhost("LocalHost."));
	ck_assert(net_is_localhost("a.b.localhost"));
	ck_assert(!net_is_localhost("localhost.example"));
	ck_assert(!net_is_localhost("notlocalhost"));
	ck_assert(!net_is_localhost(".localhost"));
	ck_assert(!net_is_localhost(""));
	ck_assert(!net_is_localhost("127.0.0.1"));
}
END_TEST

/* localhost is ::1 then 127.0.0.1, whatever /etc/hosts says. */
START_TEST(test_localhost_addresses)
{
	const char		*names[] = { "localhost", "svc.localhost",
	    "LOCALHOST." };
	struct net_addrs	 c;
	char			*cause = NULL, text[64];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		ck_assert_int_eq(net_addresses(names[i], "6789", &c, &cause),
		    0);
		ck_assert_uint_eq(c.n, 2);
		net_format((const struct sockaddr *)&c.addr[0], text,
		    sizeof text);
		ck_assert_str_eq(text, "[::1]:6789");
		net_format((const struct sockaddr *)&c.addr[1], text,
		    sizeof text);
		ck_assert_str_eq(text, "127.0.0.1:6789");
	}
	ck_assert_int_eq(net_addresses("localhost", "0x1", &c, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "unknown service"));
	free(cause);
}
END_TEST

START_TEST(test_invalid_names)
{
	struct net_addrs	 c;
	char			*cause = NULL;

	ck_assert_int_eq(net_addresses("no-such-host.invalid", "80", &c,
	    &cause), -1);
	ck_assert_str_eq(cause, "--host no-such-host.invalid: a name under "
	    ".invalid never resolves");
	free(cause);
}
END_TEST

START_TEST(test_fault_advice)
{
	ck_assert_ptr_nonnull(strstr(net_fault_advice(EMFILE), "ulimit -n"));
	ck_assert_ptr_nonnull(strstr(net_fault_advice(EADDRNOTAVAIL),
	    "ephemeral ports"));
	ck_assert_ptr_nonnull(strstr(net_fault_advice(ENOBUFS), "memory"));
	ck_assert_ptr_nonnull(net_fault_advice(12345));
}
END_TEST

/* Expects net_unix_target(path) to fail with a cause containing want. */
static void
unix_refused(const char *path, const char *want)
{
	struct net_target	 t;
	char			*cause = NULL;

	ck_assert_int_eq(net_unix_target(path, &t, &cause), -1);
	ck_assert_msg(strstr(cause, want) != NULL, "%s: '%s'", path, cause);
	free(cause);
}

START_TEST(test_unix_paths)
{
	struct sockaddr_un	 su = { .sun_family = AF_UNIX };
	struct net_target	 t;
	char			 path[300], *cause = NULL;
	int			 fd;
	FILE			*f;

	/* A directory, a regular file: one line each. */
	unix_refused(check_dir, "a directory, not a socket");
	snprintf(path, sizeof path, "%s/file", check_dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	unix_refused(path, "exists but is not a socket");
	unix_refused("", "empty path");
	/* sun_path holds 107 bytes and the NUL: 108 are too many. */
	memset(path, 'a', 108);
	path[108] = '\0';
	unix_refused(path, "108 bytes, longer than the 107");
	path[107] = '\0';
	ck_assert_int_eq(net_unix_target(path, &t, &cause), 0);
	ck_assert_uint_eq(t.addrlen, offsetof(struct sockaddr_un, sun_path) +
	    108);
	/* A missing path is the server's business: accepted. */
	snprintf(path, sizeof path, "%s/later.sock", check_dir);
	ck_assert_int_eq(net_unix_target(path, &t, &cause), 0);
	ck_assert(t.is_unix && t.loopback);
	ck_assert_int_eq(((struct sockaddr *)&t.addr)->sa_family, AF_UNIX);
	ck_assert_str_eq(net_record_target(&t), path);
	ck_assert_str_eq(t.text + 5, path);
	ck_assert_int_eq(strncmp(t.text, "unix:", 5), 0);
	/* A socket there: accepted, and it answers once it listens. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	strcpy(su.sun_path, path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&su, sizeof su), 0);
	ck_assert_int_eq(net_unix_target(path, &t, &cause), 0);
	ck_assert(!net_alive(&t, 100));
	ck_assert_int_eq(net_nothing_listens(&t, 100), ECONNREFUSED);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert(net_alive(&t, 100));
	ck_assert_int_eq(net_nothing_listens(&t, 100), 0);
	close(fd);
	ck_assert(!net_alive(&t, 100));		/* refused: nobody listens */
	ck_assert_int_eq(net_nothing_listens(&t, 100), ECONNREFUSED);
	unlink(path);
	ck_assert(!net_alive(&t, 100));		/* missing */
	ck_assert_int_eq(net_nothing_listens(&t, 100), ENOENT);
	/* Relative paths keep their form. */
	ck_assert_int_eq(net_unix_target("run/x.sock", &t, &cause), 0);
	ck_assert_str_eq(t.text, "unix:run/x.sock");
}
END_TEST

/* A TCP listener on 127.0.0.1: accepted while it listens, refused after. */
START_TEST(test_nothing_listens_tcp)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct net_target	 t = { 0 };
	socklen_t		 len = sizeof sin;
	int			 fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memcpy(&t.addr, &sin, sizeof sin);
	t.addrlen = sizeof sin;
	ck_assert_int_eq(net_nothing_listens(&t, 500), 0);
	close(fd);
	ck_assert_int_eq(net_nothing_listens(&t, 500), ECONNREFUSED);
}
END_TEST

START_TEST(test_target_kinds)
{
	int	is_unix = -1;

	ck_assert_int_eq(net_target_kind(NULL, &is_unix), 0);	/* old records */
	ck_assert_int_eq(is_unix, 0);
	ck_assert_int_eq(net_target_kind("tcp", &is_unix), 0);
	ck_assert_int_eq(is_unix, 0);
	ck_assert_int_eq(net_target_kind("unix", &is_unix), 0);
	ck_assert_int_eq(is_unix, 1);
	ck_assert_int_eq(net_target_kind("sctp", &is_unix), -1);
	ck_assert_int_eq(net_target_kind("", &is_unix), -1);
	ck_assert_ptr_nonnull(strstr(net_unix_fault_advice(EAGAIN),
	    "listen backlog is full"));
	ck_assert_str_eq(net_unix_fault_advice(EMFILE),
	    net_fault_advice(EMFILE));
}
END_TEST

Suite *
net_suite(void)
{
	Suite	*s = suite_create("net");
	TCase	*tc = tcase_create("names");

	tcase_add_loop_test(tc, test_split_hostport, 0,
	    (int)(sizeof splits / sizeof splits[0]));
	tcase_add_test(tc, test_is_localhost);
	tcase_add_test(tc, test_localhost_addresses);
	tcase_add_test(tc, test_invalid_names);
	tcase_add_test(tc, test_fault_advice);
	tcase_add_test(tc, test_nothing_listens_tcp);
	suite_add_tcase(s, tc);
	tc = tcase_create("unix");
	tcase_add_checked_fixture(tc, check_tmpdir_setup, check_tmpdir_teardown);
	tcase_add_test(tc, test_unix_paths);
	tcase_add_test(tc, test_target_kinds);
	suite_add_tcase(s, tc);
	return s;
}
