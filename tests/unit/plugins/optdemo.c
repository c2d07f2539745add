/* SPDX-License-Identifier: MIT */
/*
 * optdemo.c — a well-formed plugin with one option of every type, for the
 * loader and inspect tests.  Its callbacks are never run.
 */
#include <stdint.h>
#include <tunpipe/plugin.h>

struct optdemo_conf {
	const char *label;
	int64_t width;
	int verbose;
	int mode;
	const char *const *peers;
	const char *keyfile;
	const char *password;
	const char *listen;
};

static const struct tp_option optdemo_options[] = {
	TP_OPTION_STRING(struct optdemo_conf, label, "\"demo\"", "A free-form label shown in logs."),
	TP_OPTION_INT(struct optdemo_conf, width, "4", 1, 8,
		      "Width of the demo prefix in bytes. This help text is deliberately long so "
		      "that inspect has to wrap it over more than one line of output."),
	TP_OPTION_BOOL(struct optdemo_conf, verbose, "false", "Log every batch."),
	TP_OPTION_ENUM(struct optdemo_conf, mode, NULL, "client|server",
		       "Which end of the tunnel this is.", .flags = TP_OPT_REQUIRED),
	TP_OPTION_LIST(struct optdemo_conf, peers, "Peer names."),
	TP_OPTION_PATH(struct optdemo_conf, keyfile, "demo.key",
		       "Key file, relative to the config file."),
	TP_OPTION_STRING(struct optdemo_conf, password, "hunter2", "Never shown.",
			 .flags = TP_OPT_SECRET),
	TP_OPTION_STRING(struct optdemo_conf, listen, ":443", "Where a server listens.",
			 .when = "mode=server"),
	TP_OPTIONS_END,
};

static void *optdemo_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			    char *err, size_t errlen)
{
	(void)st; (void)host; (void)err; (void)errlen;
	return (void *)config;
}

static void optdemo_destroy(void *ctx)
{
	(void)ctx;
}

TP_PLUGIN_DEFINE(.name = "optdemo", .kind = TP_KIND_TRANSFORM,
		 .description = "Option table demo for the loader tests",
		 .top = TP_DATA_IP | TP_DATA_MSG, .bottom = TP_DATA_STREAM,
		 .headroom = 4, .tailroom = 2,
		 .options = optdemo_options, .config_size = sizeof(struct optdemo_conf),
		 .create = optdemo_create, .destroy = optdemo_destroy);
