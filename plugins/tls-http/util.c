/* SPDX-License-Identifier: MIT */
/*
 * util.c — small helpers both roles and the handshakes share: host:port
 * and URL parsing, the readable-file check of create().
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int th_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *h = s, *he, *p;
	if (*s == '[') {
		h = s + 1;
		he = strchr(h, ']');
		if (!he || (he[1] != ':' && he[1] != '\0'))
			return -1;
		p = he[1] ? he + 2 : NULL;
	} else {
		he = strrchr(s, ':');
		if (he && strchr(s, ':') != he)
			return -1; /* bare IPv6 needs brackets */
		p = he ? he + 1 : NULL;
		if (!he)
			he = s + strlen(s);
	}
	size_t hl = (size_t)(he - h);
	if (hl == 0 || hl >= hcap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (p) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (!*p || *end || v == 0 || v > 65535 || strlen(p) >= pcap)
			return -1;
		snprintf(port, pcap, "%lu", v);
	}
	return 0;
}

int th_parse_url(const char *url, struct th_url *u, char *err, size_t errlen)
{
	char auth[300];
	if (strncasecmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "url '%s': must start with https://", url);
		return -1;
	}
	const char *a = url + 8;
	const char *slash = strchr(a, '/');
	size_t al = slash ? (size_t)(slash - a) : strlen(a);
	if (al == 0 || al >= sizeof(auth) || memchr(a, '@', al)) {
		snprintf(err, errlen, "url '%s': bad host part", url);
		return -1;
	}
	memcpy(auth, a, al);
	auth[al] = '\0';
	snprintf(u->port, sizeof(u->port), "443");
	if (th_split_hostport(auth, u->host, sizeof(u->host), u->port, sizeof(u->port)) < 0) {
		snprintf(err, errlen, "url '%s': bad host or port", url);
		return -1;
	}
	snprintf(u->host_hdr, sizeof(u->host_hdr), "%s", auth);
	const char *path = slash ? slash : "/";
	if (strlen(path) >= sizeof(u->path) || strpbrk(path, " \t\r\n")) {
		snprintf(err, errlen, "url '%s': bad path", url);
		return -1;
	}
	snprintf(u->path, sizeof(u->path), "%s", path);
	return 0;
}

/* A missing or unreadable file is the usual mistake: say it plainly
 * rather than through OpenSSL's error string. */
int th_readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

int th_read_first_line(const char *what, const char *path, char *out, size_t cap, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	ok = fgets(out, (int)cap, f) != NULL;
	fclose(f);
	out[ok ? strcspn(out, "\r\n") : 0] = '\0';
	if (!out[0]) {
		snprintf(err, errlen, "%s %s: empty first line", what, path);
		return -1;
	}
	return 0;
}
