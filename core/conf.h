/* SPDX-License-Identifier: MIT */
/*
 * conf.h — reading a libconfig file and validating stage options against a
 * plugin's option table.  Errors are collected, not fatal one by one: a run
 * of `tunpipe -t` reports every error it can find, each as
 *     FILE:LINE: pipeline 'NAME' stage N 'PLUGIN': what is wrong
 *
 * File layout:
 *     log_level   = "info";                 # optional: error|warn|info|debug
 *     log_file    = "/var/log/tunpipe.log"; # optional; default stderr
 *     plugin_path = [ "/opt/tp/plugins" ];  # optional, searched first
 *     log_target  = "stderr";               # optional: stderr|syslog
 *     user = "nobody"; group = "nogroup";   # optional: drop root after start
 *     control = "/run/tunpipe/vpn.sock";  # optional control socket (off by default)
 *     control_mode = "0660"; control_group = "tunpipe";  # its mode (default 0600), group
 *     metrics = "127.0.0.1:9810";          # optional Prometheus endpoint (off by default)
 *     metrics_per_user = true;             # series labelled by user (default true)
 *     pipelines = (
 *       { name = "vpn";                     # optional, default "pipeline<N>"
 *         max_buffers = 8192;               # optional bound on the buffer pool
 *         stages = ( { plugin = "tun"; ... }, { plugin = "framer-ip"; }, ... ); }
 *     );
 */
#ifndef TP_CORE_CONF_H
#define TP_CORE_CONF_H
#include <stdio.h>
#include <stdint.h>
#include <libconfig.h>
#include <sys/socket.h>
#include <tunpipe/plugin.h>

/* Error collector. */
struct tp_diag {
	FILE *out;  /* where errors are printed as they come (may be NULL) */
	int errors;
};
void tp_diag_init(struct tp_diag *d, FILE *out);
/* Prints "file:line: where: message" (parts that are NULL/0 are left out)
 * and counts it. */
void tp_diag_error(struct tp_diag *d, const char *file, int line, const char *where,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

struct tp_stage_conf {
	int index;                 /* 0-based position in its pipeline */
	const char *plugin;        /* value of `plugin`, NULL if missing */
	int line;                  /* line of the stage's group */
	config_setting_t *group;   /* the stage's settings */
};

struct tp_pipeline_conf {
	const char *name;
	int line;
	int64_t max_buffers;       /* 0 = default */
	struct tp_stage_conf *stages;
	int nstages;
};

struct tp_conf {
	config_t cfg;              /* owns every string below */
	char *file;
	int log_level;             /* -1 when not set */
	const char *log_file;      /* NULL when not set */
	const char **plugin_path;  /* NULL-terminated, may be empty */
	/* Service settings (systemd helper): */
	int log_syslog;            /* log_target = "syslog" */
	const char *user;          /* NULL: stay who we were started as */
	const char *group;         /* NULL: the user's primary group */
	char control[108];         /* control socket path ("" = none), relative ones resolved */
	int control_mode;          /* permission bits, default 0600 */
	long control_gid;          /* -1: leave the group as created */
	const char *metrics;       /* "IP:PORT" or NULL */
	int metrics_per_user;      /* default 1 */
	struct tp_pipeline_conf *pipes;
	int npipes;
};

/* Parse `file`.  Syntax errors, unknown top-level/pipeline keys and
 * structural problems (no pipelines, a stage without `plugin`) go to `d`.
 * Returns 0 when the file could be parsed (there may still be structural
 * errors counted in d), -1 when it could not be read or parsed at all.
 * Always call tp_conf_free(). */
int tp_conf_load(struct tp_conf *c, const char *file, struct tp_diag *d);
void tp_conf_free(struct tp_conf *c);

/* "IP:PORT" or "[IPv6]:PORT" (numeric only) to a socket address; -1 with
 * err filled. */
int tp_conf_listen_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen);

/* A stage's validated option values: the plugin's config struct. */
struct tp_optset;

/*
 * Check every setting of `group` (except `plugin`) against `table` and
 * fill a zeroed struct of config_size bytes: unknown key, wrong type,
 * missing required, integer out of range, value not among the choices —
 * each reported with the setting's line and `where`.  Defaults fill absent
 * options.  Returns NULL when any error was found (all of them reported).
 * `group` may be NULL (no options given).
 *
 * Rows with a `when` ("role=server") are taken after the others, once the
 * enum they name holds its final value: a row whose `when` does not hold is
 * not applicable (setting it is an error naming the role it belongs to, its
 * default is not written); rows sharing a name pick the one that holds.
 */
struct tp_optset *tp_options_parse(const struct tp_option *table, size_t config_size,
				   const config_setting_t *group, const char *file,
				   const char *where, struct tp_diag *d);
const void *tp_optset_config(const struct tp_optset *o);
/* Whether a `when` condition ("role=server") holds for the stage: 0 when
 * the table has no such enum option or value. */
int tp_optset_holds(const struct tp_optset *o, const char *when);
/* The table a config struct (as tp_optset_config returned it) was parsed
 * against: how core glue installed in a descriptor finds its plugin from
 * the `config` create() receives.  NULL for NULL. */
const struct tp_option *tp_optset_table_of(const void *config);
void tp_optset_free(struct tp_optset *o);

/* Sanity-check a plugin's table (offsets inside config_size, known types,
 * defaults that parse, enums with choices, names unique but for rows whose
 * `when` differ, every `when` naming an earlier enum option without a
 * `when` and one of its choices).  0 or -1 with err filled. */
int tp_options_check_table(const struct tp_option *table, size_t config_size,
			   char *err, size_t errlen);

/* Name of a type for messages and inspect: "string", "integer", … */
const char *tp_opt_type_name(enum tp_opt_type t);

#endif
