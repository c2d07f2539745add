/* SPDX-License-Identifier: MIT */
/*
 * dns.c — a client applies the DNS servers its server pushes.
 *
 * Three ways, tried in this order by `dns = auto`:
 *  - systemd-resolved, when it runs (its varlink socket exists) and
 *    resolvectl is installed: `resolvectl dns DEV …` scopes the servers to
 *    the tunnel link; the link's going away at stop drops them, and
 *    `resolvectl revert DEV` says so explicitly;
 *  - resolvconf, when installed: `resolvconf -a DEV.tunpipe` with the
 *    nameserver lines on its input, `resolvconf -d DEV.tunpipe` at stop;
 *    a state file names the record, so the next start after a crash
 *    removes it too;
 *  - else /etc/resolv.conf itself, rewritten in place (it may be a symlink
 *    or, under `ip netns exec`, a bind mount: renaming over it would break
 *    both).  The original is first saved in a state file; stop puts it
 *    back, and so does the next start after a crash.  What the server
 *    pushed replaces its like in the original, nothing else (resolv.c):
 *    a push of search domains alone keeps the host's resolvers.  A file
 *    that carries our header belongs to another tunpipe (or to one that
 *    crashed and will restore it): taking it as the original would write
 *    that one's servers back at our stop, so DNS is then not applied.
 * Commands run through run.c, off the event loop, except at stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolv.h"
#include "run.h"
#include "tun.h"

#define LOG(t, lvl, ...) (t)->host->log((t)->st, lvl, __VA_ARGS__)
#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLVED_SOCKET "/run/systemd/resolve/io.systemd.Resolve"
#define DNS_TIMEOUT_MS 10000
#define FILE_MAX 65536

static const char *const method_names[] = { "none", "systemd-resolved", "resolvconf", RESOLV_CONF };

static int in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

static int pick_method(const struct tun *t)
{
	switch (t->conf->dns) {
	case TN_DNSOPT_RESOLVED:
		return TN_DNS_RESOLVED;
	case TN_DNSOPT_RESOLVCONF:
		return TN_DNS_RESOLVCONF;
	case TN_DNSOPT_FILE:
		return TN_DNS_FILE;
	}
	if (access(RESOLVED_SOCKET, F_OK) == 0 && in_path("resolvectl"))
		return TN_DNS_RESOLVED;
	if (in_path("resolvconf"))
		return TN_DNS_RESOLVCONF;
	return TN_DNS_FILE;
}

/* STATE_DIR/KIND.DEV: "resolv.conf" (the saved original) or "resolvconf"
 * (the record added).  Named after the configured device, as the one
 * opened (tun%d) is not known yet when a crash is recovered. */
static void state_path(const struct tun *t, const char *kind, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.%s", t->conf->state_dir, kind, t->conf->device ? t->conf->device : "tun");
}

static char *read_all(const char *path, size_t *len)
{
	char *buf = malloc(FILE_MAX + 1);
	ssize_t n;
	int fd;

	*len = 0;
	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while (*len < FILE_MAX && (n = read(fd, buf + *len, FILE_MAX - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* In place: truncate and write, so a symlink or a bind mount stays one. */
static int write_in_place(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, data, len) == (ssize_t)len;
	ok &= fsync(fd) == 0 || errno == EINVAL;
	ok &= close(fd) == 0;
	return ok ? 0 : -1;
}

/* A state file, whole or not at all (written aside, then renamed). */
static int write_state(struct tun *t, const char *state, const char *data, size_t len)
{
	char tmp[4200];
	int fd, ok;

	if (mkdir(t->conf->state_dir, 0700) < 0 && errno != EEXIST) {
		LOG(t, TP_LOG_ERROR, "DNS: cannot create the state directory %s: %s", t->conf->state_dir,
		    strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", state);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
	if (fd >= 0)
		ok &= close(fd) == 0;
	if (!ok || rename(tmp, state) < 0) {
		LOG(t, TP_LOG_ERROR, "DNS: cannot write %s: %s", state, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The original, saved before anything is changed (once per run). */
static int save_original(struct tun *t, const char *state)
{
	size_t len;
	char *orig;
	int r;

	if (access(state, F_OK) == 0)
		return 0;
	orig = read_all(RESOLV_CONF, &len);
	if (!orig) {
		LOG(t, TP_LOG_ERROR, "DNS: cannot read %s: %s", RESOLV_CONF, strerror(errno));
		return -1;
	}
	if (tn_resolv_ours(orig)) {
		LOG(t, TP_LOG_WARN, "DNS: %s is managed by another tunpipe (its first line: %.*s): "
				    "pushed DNS not applied", RESOLV_CONF, (int)strcspn(orig, "\n"), orig);
		free(orig);
		return -1;
	}
	r = write_state(t, state, orig, len);
	free(orig);
	return r;
}

/* Put the saved original back; 1 when there was one. */
static int restore_file(struct tun *t)
{
	char state[4096];
	size_t len;
	char *orig;

	state_path(t, "resolv.conf", state, sizeof(state));
	orig = read_all(state, &len);
	if (!orig)
		return 0;
	if (write_in_place(RESOLV_CONF, orig, len) < 0) {
		LOG(t, TP_LOG_ERROR, "DNS: cannot restore %s from %s: %s (left there)", RESOLV_CONF, state,
		    strerror(errno));
		free(orig);
		return -1;
	}
	free(orig);
	unlink(state);
	return 1;
}

/* resolvconf: the record's name kept in a state file while it exists. */
static void note_record(struct tun *t, const char *rec)
{
	char state[4096], line[IFNAMSIZ + 17];

	if (!t->conf->state_dir)
		return;
	state_path(t, "resolvconf", state, sizeof(state));
	snprintf(line, sizeof(line), "%s\n", rec);
	if (write_state(t, state, line, strlen(line)) < 0)
		LOG(t, TP_LOG_WARN, "DNS: a crash would leave the resolvconf record %s behind", rec);
}

static int remove_record(struct tun *t, const char *rec)
{
	char state[4096], *argv[] = { "resolvconf", "-d", (char *)rec, NULL };

	if (tn_run_sync(t, "resolvconf", argv, NULL, NULL, DNS_TIMEOUT_MS) != 0)
		return -1;
	if (t->conf->state_dir) {
		state_path(t, "resolvconf", state, sizeof(state));
		unlink(state);
	}
	return 0;
}

void tun_dns_recover(struct tun *t)
{
	char state[4096], *rec;
	size_t len;

	if (!t->conf->state_dir)
		return;
	state_path(t, "resolv.conf", state, sizeof(state));
	if (access(state, F_OK) == 0 && restore_file(t) == 1)
		LOG(t, TP_LOG_WARN, "DNS: restored %s from %s, left by a run that did not stop cleanly",
		    RESOLV_CONF, state);
	state_path(t, "resolvconf", state, sizeof(state));
	rec = read_all(state, &len);
	if (!rec)
		return;
	rec[strcspn(rec, "\n")] = '\0';
	/* Only what note_record wrote: a name, never an option or a path. */
	if (!rec[0] || rec[0] == '-' || strchr(rec, '/')) {
		LOG(t, TP_LOG_WARN, "DNS: %s does not name a resolvconf record: removed", state);
		unlink(state);
	} else if (remove_record(t, rec) == 0) {
		LOG(t, TP_LOG_WARN, "DNS: removed the resolvconf record %s, left by a run that did not stop cleanly",
		    rec);
	} else {
		LOG(t, TP_LOG_WARN, "DNS: cannot remove the resolvconf record %s left by a crash (%s kept for the "
				    "next start)", rec, state);
	}
	free(rec);
}

/* "nameserver A\nnameserver B\n" (and the search line) */
static void format_conf(const struct tun *t, char *out, size_t cap)
{
	char a[TN_PREFIX_STRLEN];
	size_t off = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < t->dns.n && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "nameserver %s\n",
					tn_prefix_str(&t->dns.servers[i], 0, a, sizeof(a)));
	if (t->dns.search[0] && off < cap)
		snprintf(out + off, cap - off, "search %s\n", t->dns.search);
}

void tun_dns_list(const struct tun *t, char *out, size_t cap)
{
	char a[TN_PREFIX_STRLEN];
	size_t off = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < t->dns.n && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? " " : "",
					tn_prefix_str(&t->dns.servers[i], 0, a, sizeof(a)));
	if (t->dns.search[0] && off < cap)
		snprintf(out + off, cap - off, "%ssearch %s", off ? ", " : "", t->dns.search);
}

static void job_done(void *arg, int status, int timed_out);

/* resolved: the search domains are a second command, after the servers. */
static void start_domain(struct tun *t)
{
	char *argv[4 + 64 + 1], copy[TP_SEARCH_LEN], *save = NULL;
	int n = 0;

	memcpy(copy, t->dns.search, sizeof(copy));
	argv[n++] = "resolvectl";
	argv[n++] = "domain";
	argv[n++] = t->ifname;
	argv[n++] = "--"; /* a domain that starts with '-' is not an option */
	for (char *d = strtok_r(copy, " ", &save); d && n < 4 + 64; d = strtok_r(NULL, " ", &save))
		argv[n++] = d;
	argv[n] = NULL;
	t->dns.domain_pending = 0;
	t->dns.job = tn_job_start(t, "resolvectl", argv, NULL, NULL, DNS_TIMEOUT_MS, job_done, t);
}

static void job_done(void *arg, int status, int timed_out)
{
	struct tun *t = arg;
	char list[512];

	t->dns.job = NULL;
	if (status == 0 && t->dns.domain_pending) {
		start_domain(t);
		if (t->dns.job)
			return;
		status = -1;
	}
	tun_dns_list(t, list, sizeof(list));
	if (status == 0)
		LOG(t, TP_LOG_INFO, "DNS %s applied through %s on %s", list, method_names[t->dns.method],
		    t->ifname);
	else
		LOG(t, TP_LOG_ERROR, "DNS %s not applied: %s %s", list, method_names[t->dns.method],
		    timed_out ? "timed out" : "failed (see its output above)");
}

static int apply_file(struct tun *t)
{
	char state[4096], list[512], head[1536], *orig, *conf = NULL;
	size_t len, off;

	state_path(t, "resolv.conf", state, sizeof(state));
	if (save_original(t, state) < 0)
		return -1;
	off = (size_t)snprintf(head, sizeof(head), TN_RESOLV_HEADER " for %s; the original comes back when it "
			       "stops\n", t->ifname);
	format_conf(t, head + off, sizeof(head) - off);
	orig = read_all(state, &len);
	if (orig)
		conf = tn_resolv_merge(head, orig, t->dns.n > 0, t->dns.search[0] != '\0', &len);
	free(orig);
	if (!conf) {
		LOG(t, TP_LOG_ERROR, "DNS: cannot read back %s: %s", state, strerror(errno));
		goto fail;
	}
	if (write_in_place(RESOLV_CONF, conf, len) < 0) {
		LOG(t, TP_LOG_ERROR, "DNS: cannot write %s: %s", RESOLV_CONF, strerror(errno));
		goto fail;
	}
	free(conf);
	tun_dns_list(t, list, sizeof(list));
	LOG(t, TP_LOG_INFO, "DNS %s applied by rewriting %s (original saved in %s)", list, RESOLV_CONF, state);
	return 0;

fail:
	free(conf);
	restore_file(t);
	return -1;
}

static void start_job(struct tun *t)
{
	char rec[IFNAMSIZ + 16], conf[1024], *argv[3 + TP_MAX_DNS + 1], addrs[TP_MAX_DNS][TN_PREFIX_STRLEN];
	int n = 0;

	if (t->dns.method == TN_DNS_RESOLVED) {
		argv[n++] = "resolvectl";
		argv[n++] = "dns";
		argv[n++] = t->ifname;
		for (uint32_t i = 0; i < t->dns.n; i++)
			argv[n++] = (char *)tn_prefix_str(&t->dns.servers[i], 0, addrs[i], sizeof(addrs[i]));
		argv[n] = NULL;
		t->dns.domain_pending = t->dns.search[0] != '\0';
		t->dns.job = tn_job_start(t, "resolvectl", argv, NULL, NULL, DNS_TIMEOUT_MS, job_done, t);
		return;
	}
	snprintf(rec, sizeof(rec), "%s.tunpipe", t->ifname);
	format_conf(t, conf, sizeof(conf));
	note_record(t, rec);
	argv[n++] = "resolvconf";
	argv[n++] = "-a";
	argv[n++] = rec;
	argv[n] = NULL;
	t->dns.job = tn_job_start(t, "resolvconf", argv, NULL, conf, DNS_TIMEOUT_MS, job_done, t);
}

void tun_dns_apply(struct tun *t, const struct tp_session_info *info)
{
	uint32_t n = info->n_dns < TP_MAX_DNS ? info->n_dns : TP_MAX_DNS;
	int same = n == t->dns.n && t->dns.method && !strncmp(info->search, t->dns.search, sizeof(t->dns.search));

	for (uint32_t i = 0; same && i < n; i++)
		same = tn_prefix_equal(&info->dns[i], &t->dns.servers[i]);
	if (same)
		return; /* a reconnect to the same servers */
	if (t->conf->dns == TN_DNSOPT_OFF) {
		if (n || info->search[0])
			LOG(t, TP_LOG_INFO, "%u pushed DNS server(s) not applied (dns = off)", n);
		return;
	}
	if (!n && !info->search[0]) {
		tun_dns_revert(t, 1); /* the server stopped pushing any */
		return;
	}
	/* New servers replace the old through the same method: the saved
	 * original stays, resolvconf and resolved overwrite their record. */
	if (t->dns.job) {
		tn_job_cancel(t->dns.job);
		t->dns.job = NULL;
	}
	memcpy(t->dns.servers, info->dns, n * sizeof(info->dns[0]));
	t->dns.n = n;
	memcpy(t->dns.search, info->search, sizeof(t->dns.search));
	t->dns.search[sizeof(t->dns.search) - 1] = '\0';
	t->dns.method = pick_method(t);
	if (t->dns.method == TN_DNS_FILE) {
		if (apply_file(t) < 0)
			t->dns.method = TN_DNS_NONE;
		return;
	}
	start_job(t);
	if (!t->dns.job)
		t->dns.method = TN_DNS_NONE;
}

void tun_dns_revert(struct tun *t, int at_stop)
{
	char rec[IFNAMSIZ + 16];
	char *argv[4];
	int r = 0;

	if (t->dns.job) {
		tn_job_cancel(t->dns.job);
		t->dns.job = NULL;
	}
	switch (t->dns.method) {
	case TN_DNS_FILE:
		r = restore_file(t) < 0 ? -1 : 0;
		break;
	case TN_DNS_RESOLVED:
		/* The link's going away drops its servers; without a stop
		 * (new servers) they are replaced by the next `dns` call. */
		if (at_stop) {
			argv[0] = "resolvectl", argv[1] = "revert", argv[2] = t->ifname, argv[3] = NULL;
			r = tn_run_sync(t, "resolvectl", argv, NULL, NULL, DNS_TIMEOUT_MS);
		}
		break;
	case TN_DNS_RESOLVCONF:
		snprintf(rec, sizeof(rec), "%s.tunpipe", t->ifname);
		r = remove_record(t, rec);
		break;
	default:
		return;
	}
	if (r == 0)
		LOG(t, TP_LOG_INFO, "DNS of %s removed (%s)", t->ifname, method_names[t->dns.method]);
	else
		LOG(t, TP_LOG_WARN, "DNS of %s: removing it through %s failed", t->ifname,
		    method_names[t->dns.method]);
	t->dns.method = TN_DNS_NONE;
	t->dns.n = 0;
	t->dns.search[0] = '\0';
}
