/* SPDX-License-Identifier: MIT */
/*
 * connect.c — `tunpipe connect https://USER@HOST[:PORT]/PATH`: the default
 * client pipeline (tun ── framer-ip ── tls-http client) built from the
 * command line.  The configuration is written to an anonymous memory file
 * (memfd) and run through the normal path, so every option is checked
 * exactly as in a file; the password goes there too and never touches a
 * disk.  It comes from --password-file, a no-echo prompt on a terminal, or
 * the first line of standard input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>
#include "connect.h"

void tp_connect_usage(FILE *out)
{
	fprintf(out,
		"Usage: tunpipe connect https://USER@HOST[:PORT]/PATH [--ca FILE] [--server-name NAME]\n"
		"                       [--full-tunnel] [--password-file FILE] [--retry] [-v|-q]\n"
		"                       [--proxy URL [--proxy-password-file FILE]]\n"
		"\n"
		"  --ca FILE            CA that signed the server's certificate (default: system store)\n"
		"  --server-name NAME   name the certificate must hold (default: HOST)\n"
		"  --full-tunnel        send all traffic through the tunnel (0.0.0.0/1, 128.0.0.0/1,\n"
		"                       ::/1, 8000::/1; the route to the server stays outside)\n"
		"  --password-file FILE the password is its first line (else a prompt on a\n"
		"                       terminal, else the first line of standard input)\n"
		"  --retry              keep retrying after a wrong password or certificate\n"
		"                       (else exit with status 3, 4 or 5)\n"
		"  --proxy URL          through this HTTP proxy: http://[USER@]HOST[:PORT]\n"
		"                       (port 3128 by default); \"none\" ignores https_proxy (which is\n"
		"                       used when --proxy is not given, unless no_proxy matches)\n"
		"  --proxy-password-file FILE\n"
		"                       the proxy's password is its first line (USER in the URL)\n");
}

int tp_connect_parse_url(const char *in, char *user, size_t ulen, char *url, size_t urllen,
			 char *err, size_t errlen)
{
	static const char scheme[] = "https://";
	const char *rest, *at, *slash;

	if (strncmp(in, scheme, sizeof(scheme) - 1) != 0) {
		snprintf(err, errlen, "'%s': the url must start with https://", in);
		return -1;
	}
	rest = in + sizeof(scheme) - 1;
	slash = strchr(rest, '/');
	at = strchr(rest, '@');
	if (!at || (slash && at > slash) || at == rest) {
		snprintf(err, errlen, "'%s': no user name (https://USER@HOST/PATH)", in);
		return -1;
	}
	if (memchr(rest, ':', (size_t)(at - rest))) {
		/* The url is not echoed: it holds a password. */
		snprintf(err, errlen, "no password in the url (it would show in `ps`); give it on "
				      "standard input, at the prompt or with --password-file");
		return -1;
	}
	if ((size_t)(at - rest) >= ulen || strlen(at + 1) + sizeof(scheme) > urllen) {
		snprintf(err, errlen, "'%s': too long", in);
		return -1;
	}
	if (!at[1] || at[1] == '/' || !slash) {
		snprintf(err, errlen, "'%s': expected https://USER@HOST[:PORT]/PATH", in);
		return -1;
	}
	for (const char *p = in; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f) {
			snprintf(err, errlen, "the url has a space, quote, backslash or control character");
			return -1;
		}
	memcpy(user, rest, (size_t)(at - rest));
	user[at - rest] = '\0';
	snprintf(url, urllen, "%s%s", scheme, at + 1);
	return 0;
}

/* A string as a libconfig literal: quotes, backslashes and control bytes
 * as \xNN. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == '"' || ch == '\\' || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

static void restore_tty(void)
{
	if (tty_changed) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
		tty_changed = 0;
	}
}

static void on_prompt_signal(int signo)
{
	restore_tty(); /* tcsetattr is async-signal-safe */
	signal(signo, SIG_DFL);
	raise(signo);
}

/* The first line of standard input, with echo off on a terminal. */
static int read_password(const char *who, char *pw, size_t len)
{
	int tty = isatty(STDIN_FILENO);
	struct sigaction sa, old_int, old_term;
	int ok;

	if (tty) {
		struct termios t;
		if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
			return -1;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_prompt_signal;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		t = saved_tty;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		t.c_lflag |= ICANON;
		tty_changed = 1;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fprintf(stderr, "Password for %s: ", who);
		fflush(stderr);
	}
	ok = fgets(pw, (int)len, stdin) != NULL;
	if (tty) {
		restore_tty();
		fputc('\n', stderr);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (!ok)
		return -1;
	pw[strcspn(pw, "\r\n")] = '\0';
	return pw[0] ? 0 : -1;
}

/* Whether a proxy URL carries a password: "scheme://user:pass@host…". */
static int proxy_has_password(const char *url)
{
	const char *a = strstr(url, "://"), *end, *at;

	a = a ? a + 3 : url;
	end = a + strcspn(a, "/?#");
	for (at = end; at > a && at[-1] != '@'; at--)
		;
	return at > a && memchr(a, ':', (size_t)(at - 1 - a)) != NULL;
}

static int abspath(const char *what, const char *in, char *out)
{
	if (!realpath(in, out)) {
		fprintf(stderr, "tunpipe connect: %s %s: %s\n", what, in, strerror(errno));
		return -1;
	}
	return 0;
}

int tp_connect_prepare(int argc, char **argv, char *path, size_t pathlen, int *verbosity)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'a' },
		{ "server-name", required_argument, NULL, 'n' },
		{ "full-tunnel", no_argument, NULL, 'f' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "retry", no_argument, NULL, 'r' },
		{ "proxy", required_argument, NULL, 'x' },
		{ "proxy-password-file", required_argument, NULL, 'X' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char ca[PATH_MAX] = "", pwfile[PATH_MAX] = "", user[128], url[1024], err[300];
	char pw[256] = "", who[1200], pxfile[PATH_MAX] = "";
	const char *server_name = NULL, *proxy = NULL;
	int full = 0, retry = 0, c, fd = -1, rc = 2;
	FILE *f = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': if (abspath("--ca", optarg, ca) < 0) return 2; break;
		case 'p': if (abspath("--password-file", optarg, pwfile) < 0) return 2; break;
		case 'n': server_name = optarg; break;
		case 'x': proxy = optarg; break;
		case 'X': if (abspath("--proxy-password-file", optarg, pxfile) < 0) return 2; break;
		case 'f': full = 1; break;
		case 'r': retry = 1; break;
		case 'v': (*verbosity)++; break;
		case 'q': (*verbosity)--; break;
		case 'h': tp_connect_usage(stdout); exit(0);
		default: tp_connect_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tunpipe connect: %s\n", optind < argc ? "one url only" : "no url given");
		tp_connect_usage(stderr);
		return 2;
	}
	if (tp_connect_parse_url(argv[optind], user, sizeof(user), url, sizeof(url), err,
				 sizeof(err)) < 0) {
		fprintf(stderr, "tunpipe connect: %s\n", err);
		return 2;
	}
	if (proxy && proxy_has_password(proxy)) {
		fprintf(stderr, "tunpipe connect: --proxy: a password in the URL is visible to every "
			"local user (ps, /proc/PID/cmdline); put USER in the URL and the password in "
			"--proxy-password-file FILE\n");
		return 2;
	}
	if (server_name && strpbrk(server_name, "\"\\ ")) {
		fprintf(stderr, "tunpipe connect: --server-name: not a host name\n");
		return 2;
	}
	snprintf(who, sizeof(who), "%s at %s", user, url);
	if (!pwfile[0] && read_password(who, pw, sizeof(pw)) < 0) {
		fprintf(stderr, "tunpipe connect: no password (a prompt on a terminal, the first line "
				"of standard input, or --password-file)\n");
		return 2;
	}
	fd = memfd_create("tunpipe-connect", MFD_CLOEXEC);
	if (fd < 0 || !(f = fdopen(dup(fd), "w"))) {
		fprintf(stderr, "tunpipe connect: memfd: %s\n", strerror(errno));
		goto out;
	}
	fprintf(f, "pipelines = ({\n  name = \"connect\";\n  stages = (\n    { plugin = \"tun\";");
	if (full)
		fprintf(f, " routes = [\"0.0.0.0/1\", \"128.0.0.0/1\", \"::/1\", \"8000::/1\"];");
	fprintf(f, " },\n    { plugin = \"framer-ip\"; },\n    { plugin = \"tls-http\"; role = \"client\";\n      url = ");
	put_str(f, url);
	fprintf(f, "; user = ");
	put_str(f, user);
	if (ca[0]) {
		fprintf(f, "; ca = ");
		put_str(f, ca);
	}
	if (server_name) {
		fprintf(f, "; server_name = ");
		put_str(f, server_name);
	}
	if (proxy) {
		fprintf(f, "; proxy = ");
		put_str(f, proxy);
	}
	if (pxfile[0]) {
		fprintf(f, "; proxy_password_file = ");
		put_str(f, pxfile);
	}
	fprintf(f, "; retry_permanent = %s;\n      ", retry ? "true" : "false");
	if (pwfile[0]) {
		fprintf(f, "password_file = ");
		put_str(f, pwfile);
	} else {
		fprintf(f, "password = ");
		put_str(f, pw); /* in memory only: the memfd, read once by the core */
	}
	fprintf(f, "; }\n  );\n});\n");
	if (fclose(f) != 0) {
		f = NULL;
		fprintf(stderr, "tunpipe connect: memfd: %s\n", strerror(errno));
		goto out;
	}
	f = NULL;
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	fd = -1; /* stays open for the run; gone with the process */
	rc = 0;
out:
	explicit_bzero(pw, sizeof(pw));
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return rc;
}
