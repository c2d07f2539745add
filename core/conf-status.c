/* SPDX-License-Identifier: MIT */
/*
 * conf-status.c — the top-level settings of the control socket and the
 * metrics endpoint (control.c, metrics.c), checked when the file is read
 * so that `tunpipe -t` reports them with their line.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-priv.h"

#define AT(s, fallback) tp_conf_setting_file((s), (fallback), fbuf, sizeof(fbuf)), tp_conf_setting_line(s)

/* The status and metrics settings (control.c, metrics.c use them). */
void tp_conf_status_key(struct tp_conf *c, const config_setting_t *s, const char *dir, struct tp_diag *d)
{
	const char *key = config_setting_name(s), *v;
	char *end, err[160], fbuf[4096];
	struct sockaddr_storage ss;
	socklen_t sl;

	if (!strcmp(key, "metrics_per_user")) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			tp_diag_error(d, AT(s, c->file), NULL, "'metrics_per_user' expects true or false, got %s",
				      tp_conf_setting_kind(s));
		else
			c->metrics_per_user = config_setting_get_bool(s);
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		tp_diag_error(d, AT(s, c->file), NULL, "'%s' expects a string, got %s%s", key,
			      tp_conf_setting_kind(s), !strcmp(key, "control_mode") ? " (write the mode in quotes: \"0660\")" : "");
		return;
	}
	v = config_setting_get_string(s);
	if (!strcmp(key, "control")) {
		/* Relative to the config's directory, like every other path. */
		int rel = v[0] != '/' && dir && strchr(c->file, '/');
		if (!v[0] || (size_t)snprintf(c->control, sizeof(c->control), "%s%s%s", rel ? dir : "",
					      rel ? "/" : "", v) >= sizeof(c->control)) {
			tp_diag_error(d, AT(s, c->file), NULL, "'control' must be a socket path of 1..%zu characters",
				      sizeof(c->control) - 1);
			c->control[0] = 0;
		}
	} else if (!strcmp(key, "control_mode")) {
		errno = 0;
		long m = strtol(v, &end, 8);
		if (!v[0] || *end || errno || m < 0 || m > 0777)
			tp_diag_error(d, AT(s, c->file), NULL,
				      "'control_mode' is '%s'; expected octal permission bits such as \"0660\"", v);
		else
			c->control_mode = (int)m;
	} else if (!strcmp(key, "control_group")) {
		struct group *g = getgrnam(v);
		long id = strtol(v, &end, 10);
		if (g)
			c->control_gid = (long)g->gr_gid;
		else if (v[0] && !*end && id >= 0)
			c->control_gid = id;
		else
			tp_diag_error(d, AT(s, c->file), NULL, "'control_group': no group '%s' on this system", v);
	} else if (tp_conf_listen_addr(v, &ss, &sl, err, sizeof(err)) < 0) {
		tp_diag_error(d, AT(s, c->file), NULL, "'metrics' is '%s': %s", v, err);
	} else {
		c->metrics = v;
	}
}

int tp_conf_listen_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *ai;

	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 ||
	    atoi(colon + 1) > 65535) {
		snprintf(err, errlen, "expected IP:PORT or [IPv6]:PORT with a port of 1..65535");
		return -1;
	}
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "expected a numeric IP address before the port");
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = 0;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "'%s' is not a numeric IP address (%s)", host, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

