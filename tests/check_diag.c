/* Unit tests: the sock_diag reply parser (canned netlink messages) and the
 * read-pacing decision. */
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <check.h>
#include <stddef.h>
#include <string.h>

#include "check_suites.h"
#include "diag.h"

/* A canned reply, laid out as the kernel sends it: header, inet_diag_msg,
 * and an INET_DIAG_INFO attribute (4-byte aligned, no struct padding). */
struct canned {
	_Alignas(8) unsigned char b[1024];	/* as a netlink buffer would be */
	size_t		len;
};

#define C_MSG		NLMSG_HDRLEN
#define C_ATTR		(C_MSG + NLMSG_ALIGN(sizeof(struct inet_diag_msg)))

/* Fills a reply for slot, gen with the given state and queue. */
static size_t
canned_reply(struct canned *c, uint32_t slot, uint32_t gen, int state,
    uint32_t rqueue, uint64_t received)
{
	struct nlmsghdr		h = { 0 };
	struct inet_diag_msg	m;
	struct nlattr		a;
	struct tcp_info		ti;

	memset(c, 0, sizeof *c);
	memset(&m, 0, sizeof m);
	memset(&ti, 0, sizeof ti);
	c->len = C_ATTR + NLA_ALIGN(NLA_HDRLEN + sizeof ti);
	h.nlmsg_len = (uint32_t)c->len;
	h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h.nlmsg_seq = slot << 12 | gen;
	m.idiag_state = (unsigned char)state;
	m.idiag_rqueue = rqueue;
	m.id.idiag_cookie[0] = 0x1234;
	m.id.idiag_cookie[1] = 0x5678;
	a.nla_len = (unsigned short)(NLA_HDRLEN + sizeof ti);
	a.nla_type = INET_DIAG_INFO;
	ti.tcpi_bytes_received = received;
	memcpy(c->b, &h, sizeof h);
	memcpy(c->b + C_MSG, &m, sizeof m);
	memcpy(c->b + C_ATTR, &a, sizeof a);
	memcpy(c->b + C_ATTR + NLA_HDRLEN, &ti, sizeof ti);
	return c->len;
}

/* The canned header, to damage it. */
static struct nlmsghdr *
hdr(struct canned *c)
{
	return (struct nlmsghdr *)(void *)c->b;
}

START_TEST(test_parse_established)
{
	struct canned		c;
	struct diag_reply	r;
	size_t			len = canned_reply(&c, 77, 5, 1, 9, 4242);

	ck_assert_int_eq(diag_parse(c.b, len, &r), 1);
	ck_assert_uint_eq(r.slot, 77);
	ck_assert_uint_eq(r.gen, 5);
	ck_assert_int_eq(r.found, 1);
	ck_assert_uint_eq(r.rqueue, 9);
	ck_assert_uint_eq(r.received, 4242);
	ck_assert_uint_eq(r.cookie[0], 0x1234);
	ck_assert_uint_eq(r.cookie[1], 0x5678);
}
END_TEST

START_TEST(test_parse_listener_and_error)
{
	struct canned		c;
	struct diag_reply	r;
	struct {
		struct nlmsghdr	h;
		struct nlmsgerr	e;
	} err;
	struct nlmsghdr		done = { .nlmsg_len = sizeof done,
				    .nlmsg_type = NLMSG_DONE };

	/* The listener fallback: not the connection we asked about. */
	ck_assert_int_eq(diag_parse(c.b, canned_reply(&c, 3, 1, 10, 0, 0), &r),
	    1);
	ck_assert_int_eq(r.found, 0);
	/* ENOENT: gone, or the cookie no longer matches. */
	memset(&err, 0, sizeof err);
	err.h.nlmsg_len = sizeof err;
	err.h.nlmsg_type = NLMSG_ERROR;
	err.h.nlmsg_seq = 9 << 12 | 2;
	err.e.error = -2;
	ck_assert_int_eq(diag_parse(&err, sizeof err, &r), 1);
	ck_assert_int_eq(r.found, 0);
	ck_assert_uint_eq(r.slot, 9);
	ck_assert_uint_eq(r.gen, 2);
	ck_assert_int_eq(diag_parse(&done, sizeof done, &r), 0);
}
END_TEST

START_TEST(test_parse_malformed)
{
	struct canned		c;
	struct diag_reply	r;

	size_t			len = canned_reply(&c, 1, 1, 1, 0, 10);
	struct nlattr		*a = (struct nlattr *)(void *)(c.b + C_ATTR);

	ck_assert_int_eq(diag_parse(c.b, 8, &r), -1);		/* short */
	hdr(&c)->nlmsg_len = (uint32_t)len + 64;
	ck_assert_int_eq(diag_parse(c.b, len, &r), -1);		/* overlong */
	canned_reply(&c, 1, 1, 1, 0, 10);
	a->nla_len = (unsigned short)(len);			/* past the end */
	ck_assert_int_eq(diag_parse(c.b, len, &r), -1);
	canned_reply(&c, 1, 1, 1, 0, 10);
	hdr(&c)->nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_msg)) - 4;
	ck_assert_int_eq(diag_parse(c.b, len, &r), -1);		/* no body */
}
END_TEST

START_TEST(test_all_read)
{
	struct diag_reply	r = { .found = 1 };

	/* Nothing unread and all arrived: go. */
	r.received = 100;
	ck_assert_int_eq(diag_all_read(&r, 100), 1);
	/* Unread bytes wait in the queue: the server has not read yet. */
	r.rqueue = 3;
	ck_assert_int_eq(diag_all_read(&r, 100), 0);
	/* An empty queue, but the last fragment has not even arrived. */
	r.rqueue = 0;
	r.received = 60;
	ck_assert_int_eq(diag_all_read(&r, 100), 0);
	/* Not the connection's socket: never a go. */
	r.found = 0;
	r.received = 100;
	ck_assert_int_eq(diag_all_read(&r, 100), 0);
}
END_TEST

Suite *
diag_suite(void)
{
	Suite	*s = suite_create("diag");
	TCase	*tc = tcase_create("replies");

	tcase_add_test(tc, test_parse_established);
	tcase_add_test(tc, test_parse_listener_and_error);
	tcase_add_test(tc, test_parse_malformed);
	tcase_add_test(tc, test_all_read);
	suite_add_tcase(s, tc);
	return s;
}
