/* SPDX-License-Identifier: MIT */
/*
 * control.c — the control socket and the `status` / `disconnect` commands.
 *
 * A unix socket only: who may use it is decided by the file's mode and
 * group (0600 by default: the user the daemon was started as), never by
 * anything a network peer can reach.  It is off unless the config names a
 * path, because it can disconnect users and its place depends on the
 * deployment (systemd's RuntimeDirectory=, say); a daemon must not fail to
 * start over a directory nobody asked it to use.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "control.h"
#include "log.h"
#include "session.h"
#include "status.h"

#define MAX_REQUEST 256
#define MAX_ANSWER (64u << 20)
#define WHO "control"

struct tp_control {
	struct tp_srv *srv;
	struct tp_view view;
	char path[108];
	dev_t dev;
	ino_t ino;
};

/* The binary form of an IPv4 or IPv6 address text; its family or 0. */
static int parse_ip(const char *s, unsigned char *out)
{
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return 0;
}

static int prefix_is(const struct tp_prefix *p, int fam, const unsigned char *a)
{
	return p->family == fam && !memcmp(p->addr, a, fam == AF_INET ? 4 : 16);
}

/* The peer's "1.2.3.4:5678" or "[::1]:5678" holds address a. */
static int peer_is(const char *peer, int fam, const unsigned char *a)
{
	char host[64];
	unsigned char b[16];
	const char *end = peer[0] == '[' ? strchr(peer, ']') : strrchr(peer, ':');
	const char *start = peer[0] == '[' ? peer + 1 : peer;

	if (!end || end < start || (size_t)(end - start) >= sizeof(host))
		return 0;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = 0;
	return parse_ip(host, b) == fam && !memcmp(a, b, fam == AF_INET ? 4 : 16);
}

int tp_control_disconnect(struct tp_pipeline *const *pipes, int n, const char *who)
{
	unsigned char a[16];
	int fam = parse_ip(who, a), count = 0;
	char a4[64], a6[64];

	for (int p = 0; p < n; p++) {
		struct tp_pipeline *pl = pipes[p];
		for (struct tp_session *s = pl->sessions; s; s = s->next) {
			if (!s->is_up || s->closing)
				continue;
			if (fam ? !(prefix_is(&s->info.addr4, fam, a) || prefix_is(&s->info.addr6, fam, a) ||
				    peer_is(s->info.peer, fam, a))
				: strcmp(s->info.user, who))
				continue;
			const char *req = tp_srv_requester();
			tp_log(TP_LOG_INFO, WHO, "disconnecting session %u of pipeline %s (user %s, address %s%s%s, peer %s) on request%s%s",
			       s->id, pl->name, s->info.user[0] ? s->info.user : "-",
			       tp_prefix_str(&s->info.addr4, 0, a4, sizeof(a4)), s->info.addr6.family ? " " : "",
			       tp_prefix_str(&s->info.addr6, 0, a6, sizeof(a6)), s->info.peer[0] ? s->info.peer : "-",
			       req[0] ? " of " : "", req);
			tp_session_abort(pl, s, "disconnected by the administrator");
			count++;
		}
	}
	return count;
}

int tp_control_handle(void *arg, const char *req, size_t len, int full, struct tp_sbuf *out)
{
	const struct tp_view *v = arg;
	char line[MAX_REQUEST + 1];
	const char *nl = memchr(req, '\n', len);

	if (!nl) {
		if (!full)
			return 0;
		tp_sbuf_printf(out, "ERR request longer than %d bytes\n", MAX_REQUEST - 1);
		return 1;
	}
	size_t n = (size_t)(nl - req);
	if (n && req[n - 1] == '\r')
		n--;
	memcpy(line, req, n);
	line[n] = 0;
	if (strlen(line) != n) {
		tp_sbuf_printf(out, "ERR request contains a NUL byte\n");
	} else if (!strcmp(line, "status")) {
		tp_sbuf_printf(out, "OK\n");
		tp_status_text(v->pipes, v->n, out);
	} else if (!strcmp(line, "status json")) {
		tp_sbuf_printf(out, "OK\n");
		tp_status_json(v->pipes, v->n, out);
	} else if (!strncmp(line, "disconnect ", 11) && line[11]) {
		int k = tp_control_disconnect(v->pipes, v->n, line + 11);
		if (k)
			tp_sbuf_printf(out, "OK\ndisconnected %d session%s\n", k, k == 1 ? "" : "s");
		else
			tp_sbuf_printf(out, "ERR no session of a user or with an address '%s'\n", line + 11);
	} else {
		tp_sbuf_printf(out, "ERR unknown request (expected: status, status json, disconnect USER|ADDRESS)\n");
	}
	if (out->failed)
		tp_log(TP_LOG_WARN, WHO, "answer too large or out of memory");
	return 1;
}

/* A socket file already at `path`: a stale one (nobody answers) is
 * removed; a live one or anything else is left alone, and we refuse. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(sb.st_mode)) {
		tp_log(TP_LOG_ERROR, WHO, "%s exists and is not a socket: refusing to replace it", path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		tp_log(TP_LOG_ERROR, WHO, "%s is in use by another process (another tunpipe with this config?)", path);
		return -1;
	}
	if (unlink(path) < 0) {
		tp_log(TP_LOG_ERROR, WHO, "cannot remove the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct tp_control *tp_control_open(struct tp_loop *loop, const struct tp_conf *c,
				   struct tp_pipeline *const *pipes, int n)
{
	static const struct tp_srv_limits lim = {
		.max_request = MAX_REQUEST, .max_answer = MAX_ANSWER, .max_clients = 16, .timeout_ms = 10000,
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd = -1;
	struct tp_control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		goto fail;
	ctl->view.pipes = pipes;
	ctl->view.n = n;
	snprintf(ctl->path, sizeof(ctl->path), "%s", c->control);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->control);
	if (clear_stale(ctl->path, &sa) < 0)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto syserr;
	/* Born with its final mode: no moment where others may connect. */
	mode_t old = umask(0777 & ~(mode_t)c->control_mode);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0)
		goto syserr;
	if (chmod(ctl->path, (mode_t)c->control_mode) < 0 ||
	    (c->control_gid >= 0 && chown(ctl->path, (uid_t)-1, (gid_t)c->control_gid) < 0) ||
	    lstat(ctl->path, &sb) < 0 || listen(fd, 16) < 0) {
		int e = errno;
		unlink(ctl->path);
		errno = e;
		goto syserr;
	}
	ctl->dev = sb.st_dev;
	ctl->ino = sb.st_ino;
	ctl->srv = tp_srv_new(loop, fd, WHO, &lim, tp_control_handle, &ctl->view);
	fd = -1;
	if (!ctl->srv) {
		unlink(ctl->path);
		goto fail;
	}
	tp_log(TP_LOG_INFO, WHO, "control socket %s (mode %04o)", ctl->path, (unsigned)c->control_mode);
	return ctl;
syserr:
	tp_log(TP_LOG_ERROR, WHO, "cannot open the control socket %s: %s%s", c->control, strerror(errno),
	       errno == ENOENT ? " (its directory must exist, e.g. systemd's RuntimeDirectory=tunpipe)" : "");
fail:
	if (fd >= 0)
		close(fd);
	free(ctl);
	return NULL;
}

void tp_control_close(struct tp_control *ctl)
{
	struct stat sb;

	if (!ctl)
		return;
	tp_srv_free(ctl->srv);
	/* Only our own file: a successor may have replaced it meanwhile. */
	if (lstat(ctl->path, &sb) == 0 && sb.st_dev == ctl->dev && sb.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl);
}

/* ---- the client side: tunpipe status / disconnect --------------------------- */

static int cmd_usage(FILE *f, int rc)
{
	fprintf(f, "Usage: tunpipe status [-c FILE | -s SOCKET] [--json]\n"
		   "       tunpipe disconnect [-c FILE | -s SOCKET] USER|ADDRESS\n"
		   "The daemon's control socket is the config's `control` setting (or -s).\n");
	return rc;
}

/* Send one request, print the answer's body; the exit status. */
static int ask(const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tp_sbuf in;
	char buf[65536];
	int rc = 1, fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	tp_sbuf_init(&in, MAX_ANSWER);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "tunpipe: socket path too long: %s\n", path);
		goto out;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tunpipe: cannot connect to %s: %s (is the daemon running with this control socket?)\n",
			path, strerror(errno));
		goto out;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		fprintf(stderr, "tunpipe: cannot send to %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, 15000);
		if (pr == 0) {
			fprintf(stderr, "tunpipe: no answer from %s within 15 s\n", path);
			goto out;
		}
		ssize_t n = pr < 0 ? -1 : recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tunpipe: reading from %s: %s\n", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		tp_sbuf_put(&in, buf, (size_t)n);
	}
	if (in.failed || !in.len) {
		fprintf(stderr, "tunpipe: %s from %s\n", in.failed ? "answer too large" : "empty answer", path);
	} else if (!strncmp(in.p, "OK\n", 3)) {
		fwrite(in.p + 3, 1, in.len - 3, stdout);
		rc = fflush(stdout) != 0;
	} else {
		fprintf(stderr, "tunpipe: %s", !strncmp(in.p, "ERR ", 4) ? in.p + 4 : in.p);
	}
out:
	if (fd >= 0)
		close(fd);
	tp_sbuf_free(&in);
	return rc;
}

int tp_control_command(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *sock = NULL;
	int json = 0, status = !strcmp(argv[0], "status"), o, rc;
	char req[MAX_REQUEST];

	optind = 1;
	while ((o = getopt_long(argc, argv, status ? "c:s:jh" : "c:s:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'c': file = optarg; break;
		case 's': sock = optarg; break;
		case 'j': json = 1; break;
		case 'h': return cmd_usage(stdout, 0);
		default: return cmd_usage(stderr, 2);
		}
	}
	if (status && optind != argc) {
		fprintf(stderr, "tunpipe: unexpected argument '%s'\n", argv[optind]);
		return cmd_usage(stderr, 2);
	}
	if (!status && (json || optind + 1 != argc || !argv[optind][0] || strchr(argv[optind], '\n') ||
			strlen(argv[optind]) > 200)) {
		fprintf(stderr, "tunpipe: disconnect takes one USER or ADDRESS\n");
		return cmd_usage(stderr, 2);
	}
	if (!file == !sock) {
		fprintf(stderr, "tunpipe: give the daemon's config (-c FILE) or its control socket (-s SOCKET)\n");
		return cmd_usage(stderr, 2);
	}
	if (status)
		snprintf(req, sizeof(req), "%s\n", json ? "status json" : "status");
	else
		snprintf(req, sizeof(req), "disconnect %s\n", argv[optind]);
	if (sock)
		return ask(sock, req);

	struct tp_conf conf;
	struct tp_diag d;
	tp_diag_init(&d, NULL);
	if (tp_conf_load(&conf, file, &d) < 0) {
		fprintf(stderr, "tunpipe: cannot read %s (tunpipe -t -c %s says why)\n", file, file);
		rc = 1;
	} else if (!conf.control[0]) {
		fprintf(stderr, "tunpipe: %s has no 'control' setting: the daemon has no control socket "
				"(add e.g. control = \"/run/tunpipe/vpn.sock\";)\n", file);
		rc = 1;
	} else {
		rc = ask(conf.control, req);
	}
	tp_conf_free(&conf);
	return rc;
}
