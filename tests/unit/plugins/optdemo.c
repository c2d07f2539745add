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
};

static const struct tp_option optdemo_options[] = {
	{ TP_OPT_STRING, "label", "\"demo\"", 0, 0, 0, NULL, offsetof(struct optdemo_conf, label),
	  "A free-form label shown in logs." },
	{ TP_OPT_INT, "width", "4", 0, 1, 8, NULL, offsetof(struct optdemo_conf, width),
	  "Width of the demo prefix in bytes. This help text is deliberately long so that "
	  "inspect has to wrap it over more than one line of output." },
	{ TP_OPT_BOOL, "verbose", "false", 0, 0, 0, NULL, offsetof(struct optdemo_conf, verbose),
	  "Log every batch." },
	{ TP_OPT_ENUM, "mode", NULL, TP_OPT_REQUIRED, 0, 0, "client|server",
	  offsetof(struct optdemo_conf, mode), "Which end of the tunnel this is." },
	{ TP_OPT_STRLIST, "peers", NULL, 0, 0, 0, NULL, offsetof(struct optdemo_conf, peers),
	  "Peer names." },
	{ TP_OPT_PATH, "keyfile", "demo.key", 0, 0, 0, NULL, offsetof(struct optdemo_conf, keyfile),
	  "Key file, relative to the config file." },
	{ TP_OPT_STRING, "password", "hunter2", TP_OPT_SECRET, 0, 0, NULL,
	  offsetof(struct optdemo_conf, password), "Never shown." },
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

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.size = sizeof(struct tp_plugin),
	.name = "optdemo",
	.kind = TP_KIND_TRANSFORM,
	.description = "Option table demo for the loader tests",
	.top = TP_DATA_IP | TP_DATA_MSG,
	.bottom = TP_DATA_STREAM,
	.headroom = 4,
	.tailroom = 2,
	.options = optdemo_options,
	.config_size = sizeof(struct optdemo_conf),
	.create = optdemo_create,
	.destroy = optdemo_destroy,
};
