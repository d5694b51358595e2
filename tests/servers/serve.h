/*
 * What the response test servers (kvserver, httpka, smtpish) share: dying on
 * a setup failure and listening on a loopback address with the port written
 * to --port-file. Define SERVE_NAME before including it.
 */
#ifndef SERVE_H
#define SERVE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Ends the process on a setup failure. */
static void
die(const char *what)
{
	fprintf(stderr, SERVE_NAME ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Binds the listening socket; writes the port to port_file. */
static int
listen_on(const char *addr, unsigned port, const char *port_file)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	int			fd, one = 1;
	unsigned		bound;

	memset(&ss, 0, sizeof ss);
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6	*s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			die("bad --bind");
		sslen = sizeof *s6;
	} else {
		struct sockaddr_in	*s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			die("bad --bind");
		sslen = sizeof *s4;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 4096) < 0)
		die("bind");
	sslen = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	bound = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (port_file != NULL) {
		char	 tmp[4096];
		FILE	*f;

		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		if ((f = fopen(tmp, "w")) == NULL)
			die(tmp);
		fprintf(f, "%u\n", bound);
		fclose(f);
		if (rename(tmp, port_file) < 0)
			die("rename");
	}
	return fd;
}

#endif
