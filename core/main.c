/* SPDX-License-Identifier: MIT */
/*
 * main.c — the tunpipe program: command line, signals, the main loop.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "conf.h"
#include "connect.h"
#include "control.h"
#include "host.h"
#include "inspect.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "metrics.h"
#include "pipeline.h"
#include "privdrop.h"
#include "reconf.h"

struct app {
	struct tp_loop *loop;
	struct tp_pipeline **pipes;
	int npipes;
	const struct tp_conf *conf; /* what runs, for SIGHUP's comparison */
	struct tp_control *control;
	struct tp_metrics *metrics;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tunpipe -c FILE [-t] [-v|-q]\n"
		"       tunpipe inspect [PLUGIN]\n"
		"       tunpipe inspect --man [PLUGIN...]\n"
		"       tunpipe status [-c FILE | -s SOCKET] [--json]\n"
		"       tunpipe disconnect [-c FILE | -s SOCKET] USER|ADDRESS\n"
		"       tunpipe connect https://USER@HOST[:PORT]/PATH [--ca FILE] [--full-tunnel] ...\n"
		"\n"
		"Run the pipelines described in a libconfig file: a VPN made of plugins\n"
		"(tun, tls-http, framer-ip, framer-len, compress-lz4, or your own).\n"
		"\n"
		"  -c, --config FILE   the configuration to run\n"
		"  -t, --test          check the configuration (plugins, options, links) and exit\n"
		"  -v, --verbose       more logging (repeat for debug)\n"
		"  -q, --quiet         only warnings and errors (twice: errors only)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version and the plugin ABI\n"
		"\n"
		"  inspect             list the plugins found on the search path\n"
		"  inspect PLUGIN      a plugin's kind, link types and options\n"
		"  inspect --man       the plugins' options as roff (tunpipe.conf(5) is made of it)\n"
		"  status              sessions (user, addresses, peer, since, traffic) and the\n"
		"                      counters of every stage, from the daemon's control socket\n"
		"                      (the config's `control`, or -s SOCKET); --json for programs\n"
		"  disconnect WHO      close the sessions of user WHO, or the session whose tunnel\n"
		"                      or real peer address is WHO\n"
		"  connect URL         the default client (tun, framer-ip, tls-http) without a\n"
		"                      config file; `tunpipe connect --help` lists its options.\n"
		"                      Exit status 3: the server refused the password; 4: its\n"
		"                      certificate failed verification (unless --retry)\n"
		"\n"
		"Plugins are searched in the config's plugin_path, the build tree (when run\n"
		"from it), $TUNPIPE_PLUGIN_PATH (colon-separated), then %s.\n"
		"Under systemd (Type=notify) it reports READY=1 once every stage has started.\n"
		"Signals: SIGINT/SIGTERM stop, SIGHUP reopens the log, reloads files (the\n"
		"users file, the server's certificate and key) and logs each other option\n"
		"changed in FILE as needing a restart, SIGUSR1 logs every counter.  With\n"
		"`metrics` set, the counters are also served to Prometheus at\n"
		"http://ADDRESS/metrics.\n",
		PKGLIBDIR);
}

static void on_stop(void *arg, int signo)
{
	struct app *a = arg;
	tp_log(TP_LOG_INFO, NULL, "caught signal %d (%s), stopping", signo, strsignal(signo));
	tp_notify("STOPPING=1");
	tp_loop_stop(a->loop);
}

static void on_hup(void *arg, int signo)
{
	struct app *a = arg;
	struct timespec now;
	char msg[64];
	(void)signo;
	/* systemd wants the monotonic time with RELOADING=1 (Type=notify-reload)
	 * and READY=1 again once done. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)now.tv_sec * 1000000ULL + (unsigned long long)now.tv_nsec / 1000);
	tp_notify(msg);
	if (tp_log_reopen() < 0)
		tp_log(TP_LOG_WARN, NULL, "SIGHUP: cannot reopen the log file: %m; still writing to the old one");
	tp_log(TP_LOG_INFO, NULL, "SIGHUP: log reopened, reloading");
	for (int i = 0; i < a->npipes; i++)
		tp_pipeline_reload(a->pipes[i]);
	tp_reconf_check(a->conf, a->pipes, a->npipes); /* the rest needs a restart: say which */
	tp_notify("READY=1");
}

static void on_usr1(void *arg, int signo)
{
	struct app *a = arg;
	(void)signo;
	for (int i = 0; i < a->npipes; i++)
		tp_pipeline_log_counters(a->pipes[i]);
}

/* Run from the build tree (make, no install), find the plugins built next
 * to us: the binary knows where it was built, and only uses that when it
 * is that very file. */
static void add_build_tree(struct tp_loader *ld)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = 0;
	if (!strcmp(exe, TP_BUILDDIR "/core/tunpipe"))
		tp_loader_add_path(ld, TP_BUILDDIR "/plugins");
}

static int inspect(int argc, char **argv)
{
	struct tp_loader *ld = tp_loader_new();
	int rc;

	if (!ld)
		return 1;
	add_build_tree(ld);
	tp_loader_add_default_paths(ld);
	if (argc > 1 && !strcmp(argv[1], "--man"))
		rc = tp_inspect_man(ld, argv + 2, argc - 2, stdout);
	else
		rc = argc > 1 ? tp_inspect_one(ld, argv[1], stdout) : tp_inspect_list(ld, stdout);
	tp_loader_free(ld);
	return rc;
}

/* Everything is open: stop being root, then tell systemd we are ready. */
static int become_service(const struct tp_privdrop *pd)
{
	char err[256];
	int r = tp_privdrop_apply(pd, err, sizeof(err));

	if (r < 0) {
		tp_log(TP_LOG_ERROR, NULL, "%s", err);
		return -1;
	}
	if (r == 1)
		tp_log(TP_LOG_INFO, NULL, "running as user %s (uid %u, gid %u) with CAP_NET_ADMIN only",
		       pd->user, (unsigned)pd->uid, (unsigned)pd->gid);
	else if (r == 2)
		tp_log(TP_LOG_INFO, NULL,
		       "not started as root: staying uid %u%s, capabilities trimmed to CAP_NET_ADMIN",
		       (unsigned)getuid(), pd->user && getuid() != pd->uid ? " ('user' not applied)" : "");
	if (tp_notify("READY=1") < 0)
		tp_log(TP_LOG_WARN, NULL, "cannot notify $NOTIFY_SOCKET: %m");
	return 0;
}

static int run(const char *file, int check_only, int verbosity)
{
	struct tp_conf conf;
	struct tp_diag d;
	struct tp_loader *ld = NULL;
	struct app a = { 0 };
	struct tp_privdrop pd;
	char err[256];
	int rc = 1, started = 0;

	tp_diag_init(&d, stderr);
	if (tp_conf_load(&conf, file, &d) < 0)
		goto out;
	if (tp_privdrop_resolve(&pd, conf.user, conf.group, err, sizeof(err)) < 0)
		tp_diag_error(&d, conf.file, 0, NULL, "%s", err);
	if (conf.log_syslog && !check_only)
		tp_log_use_syslog("tunpipe");
	if (conf.log_level >= 0 && verbosity == 0)
		tp_log_set_level((enum tp_log_level)conf.log_level);
	if (conf.log_file && !check_only && tp_log_open(conf.log_file) < 0) {
		tp_diag_error(&d, conf.file, 0, NULL, "cannot open log_file '%s': %m", conf.log_file);
		goto out;
	}
	ld = tp_loader_new();
	a.loop = tp_loop_new();
	if (!ld || !a.loop)
		goto out;
	for (int i = 0; conf.plugin_path && conf.plugin_path[i]; i++)
		tp_loader_add_path(ld, conf.plugin_path[i]);
	add_build_tree(ld);
	tp_loader_add_default_paths(ld);
	if (d.errors) {
		/* Still build: report option and link errors in the same run. */
		int n;
		tp_pipelines_build(&conf, ld, a.loop, &d, 1, &n);
		goto out;
	}
	a.pipes = tp_pipelines_build(&conf, ld, a.loop, &d, check_only, &a.npipes);
	if (d.errors || check_only)
		goto out;
	if (!a.pipes)
		goto out;

	a.conf = &conf;
	signal(SIGPIPE, SIG_IGN);
	if (tp_loop_signal(a.loop, SIGINT, on_stop, &a) || tp_loop_signal(a.loop, SIGTERM, on_stop, &a) ||
	    tp_loop_signal(a.loop, SIGHUP, on_hup, &a) || tp_loop_signal(a.loop, SIGUSR1, on_usr1, &a)) {
		tp_log(TP_LOG_ERROR, NULL, "cannot set up signal handling");
		goto out;
	}
	/* Before the pipelines start, so a socket in use fails the start. */
	if (conf.control[0] && !(a.control = tp_control_open(a.loop, &conf, a.pipes, a.npipes)))
		goto out;
	if (conf.metrics && !(a.metrics = tp_metrics_open(a.loop, conf.metrics, conf.metrics_per_user,
							  a.pipes, a.npipes)))
		goto out;
	for (; started < a.npipes; started++)
		if (tp_pipeline_start(a.pipes[started]) < 0)
			goto stop;
	if (become_service(&pd) < 0)
		goto stop;
	rc = tp_loop_run(a.loop) < 0;
stop:
	for (int i = a.npipes - 1; i >= 0; i--)
		tp_pipeline_stop(a.pipes[i]);
	for (int i = 0; i < a.npipes; i++)
		tp_pipeline_log_counters(a.pipes[i]);
	if (started < a.npipes)
		rc = 1;
	if (tp_host_exit_status()) /* a plugin's permanent error */
		rc = tp_host_exit_status();
out:
	tp_control_close(a.control);
	tp_metrics_close(a.metrics);
	if (d.errors)
		fprintf(stderr, "%s%s: %d error%s\n", tp_log_journal() ? "<3>" : "", file, d.errors,
			d.errors == 1 ? "" : "s");
	else if (check_only)
		printf("%s: configuration OK\n", file);
	for (int i = 0; i < a.npipes; i++)
		tp_pipeline_free(a.pipes[i]);
	free(a.pipes);
	if (a.loop)
		tp_loop_free(a.loop);
	if (ld)
		tp_loader_free(ld);
	tp_conf_free(&conf);
	return d.errors ? 1 : check_only ? 0 : rc;
}

/* Both ways in (-c FILE, connect URL): where log lines go, and how many
 * -v/-q asked for, before the config is read. */
static int start(const char *file, int check_only, int verbosity)
{
	int lvl = TP_LOG_INFO + verbosity;

	tp_log_detect_journal();
	tp_log_set_level((enum tp_log_level)(lvl < TP_LOG_ERROR ? TP_LOG_ERROR : lvl > TP_LOG_DEBUG ? TP_LOG_DEBUG : lvl));
	return run(file, check_only, verbosity);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	int check_only = 0, verbosity = 0, c;

	if (argc > 1 && !strcmp(argv[1], "inspect"))
		return inspect(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "connect")) {
		char path[64];
		int v = 0, r = tp_connect_prepare(argc - 1, argv + 1, path, sizeof(path), &v);
		return r ? r : start(path, 0, v);
	}
	if (argc > 1 && (!strcmp(argv[1], "status") || !strcmp(argv[1], "disconnect")))
		return tp_control_command(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "c:tvqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': file = optarg; break;
		case 't': check_only = 1; break;
		case 'v': verbosity++; break;
		case 'q': verbosity--; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("tunpipe %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, TP_ABI_MAJOR, TP_ABI_MINOR);
			return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tunpipe: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!file) {
		fprintf(stderr, "tunpipe: no configuration given (-c FILE)\n");
		usage(stderr);
		return 2;
	}
	return start(file, check_only, verbosity);
}
