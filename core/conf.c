/* SPDX-License-Identifier: MIT */
/*
 * conf.c — reading the config file (libconfig) and collecting errors.
 *
 * Errors are collected in a tp_diag rather than returned one at a time so
 * that `tunpipe -t` shows everything wrong with a file in one run; every
 * message carries the file and the line of the offending setting.  Stage
 * options are checked in options.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-priv.h"
#include "log.h"

void tp_diag_init(struct tp_diag *d, FILE *out)
{
	d->out = out;
	d->errors = 0;
}

void tp_diag_error(struct tp_diag *d, const char *file, int line, const char *where,
		   const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	if (!d->out)
		return;
	/* Under systemd, `journalctl -p err` must find configuration errors. */
	if (d->out == stderr && tp_log_journal())
		fputs("<3>", d->out);
	if (file && line > 0)
		fprintf(d->out, "%s:%d: ", file, line);
	else if (file)
		fprintf(d->out, "%s: ", file);
	if (where)
		fprintf(d->out, "%s: ", where);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
	fflush(d->out);
}

/* What a libconfig value is, with its article, for "got a string". */
const char *tp_conf_setting_kind(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "nothing";
}

const char *tp_conf_setting_file(const config_setting_t *s, const char *fallback, char *buf,
				 size_t len)
{
	const char *f = s ? config_setting_source_file(s) : NULL, *dir;

	if (!f || (fallback && strcmp(f, fallback) == 0))
		return fallback;
	dir = s->config ? config_get_include_dir(s->config) : NULL;
	if (f[0] == '/' || !dir || !*dir
	    || (size_t)snprintf(buf, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", f)
		       >= len)
		return f;
	return buf;
}

/* file, line of setting s for tp_diag_error(). */
#define AT(s, fallback) src_file((s), (fallback)), tp_conf_setting_line(s)

/* For messages only: the result is used at once, so one buffer will do. */
static const char *src_file(const config_setting_t *s, const char *fallback)
{
	static char buf[4096];
	return tp_conf_setting_file(s, fallback, buf, sizeof(buf));
}

int tp_conf_setting_line(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

/* Levenshtein distance, capped: we only care whether it is <= 2. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int row[64], prev, tmp;

	if (lb >= 64 || la >= 64)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best) best = row[j] + 1;
			if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest of `names` (NULL-terminated) within distance 2, or NULL. */
const char *tp_conf_suggest(const char *key, const char *const *names)
{
	const char *best = NULL;
	int bestd = 3;

	for (; *names; names++) {
		int dist = edit_distance(key, *names);
		if (dist < bestd) {
			bestd = dist;
			best = *names;
		}
	}
	return best;
}

/* ------------------------------------------------------------------------
 * The file
 * ------------------------------------------------------------------------ */

#define NAME_SLOT 24 /* "pipeline<N>" */

static const char *const top_keys[] = { "log_level", "log_file", "plugin_path", "pipelines",
					"log_target", "user", "group", "control", "control_mode",
					"control_group", "metrics", "metrics_per_user", NULL };
static const char *const pipe_keys[] = { "name", "max_buffers", "stages", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };

static int in_list(const char *const *names, const char *key)
{
	for (; *names; names++)
		if (strcmp(*names, key) == 0)
			return 1;
	return 0;
}

static void report_key(struct tp_diag *d, const char *file, const config_setting_t *s,
		       const char *where, const char *what, const char *const *names)
{
	const char *key = config_setting_name(s), *best = tp_conf_suggest(key, names);

	if (best)
		tp_diag_error(d, AT(s, file), where, "unknown %s '%s'; did you mean '%s'?",
			      what, key, best);
	else
		tp_diag_error(d, AT(s, file), where, "unknown %s '%s'", what, key);
}

/* plugin_path: a string or a list/array of strings, pointing into c->cfg. */
static void load_plugin_path(struct tp_conf *c, const config_setting_t *s, struct tp_diag *d)
{
	int t = config_setting_type(s), n = 1, i;

	if (t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY)
		n = config_setting_length(s);
	else if (t != CONFIG_TYPE_STRING) {
		tp_diag_error(d, AT(s, c->file), NULL,
			      "'plugin_path' expects a string or a list of strings, got %s",
			      tp_conf_setting_kind(s));
		return;
	}
	free(c->plugin_path);
	if (!(c->plugin_path = calloc((size_t)n + 1, sizeof(*c->plugin_path)))) {
		tp_diag_error(d, AT(s, c->file), NULL, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = t == CONFIG_TYPE_STRING
			? s : config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			tp_diag_error(d, AT(e, c->file), NULL,
				      "'plugin_path' element %d is %s, expected a string", i + 1,
				      tp_conf_setting_kind(e));
			c->plugin_path[0] = NULL;
			return;
		}
		c->plugin_path[i] = config_setting_get_string(e);
	}
}

static void load_stages(struct tp_conf *c, struct tp_pipeline_conf *p, const config_setting_t *s,
			const char *where, struct tp_diag *d)
{
	int i, n;
	char swhere[300];

	if (!config_setting_is_list(s) && !config_setting_is_group(s)) {
		tp_diag_error(d, AT(s, c->file), where,
			      "'stages' expects a list of groups ( { plugin = \"...\"; }, ... ), got %s",
			      tp_conf_setting_kind(s));
		return;
	}
	/* A single group is not a list of stages: tell the user. */
	if (config_setting_is_group(s)) {
		tp_diag_error(d, AT(s, c->file), where,
			      "'stages' must be a list: wrap the group in ( )");
		return;
	}
	n = config_setting_length(s);
	if (n == 0) {
		tp_diag_error(d, AT(s, c->file), where, "'stages' is empty");
		return;
	}
	if (!(p->stages = calloc((size_t)n, sizeof(*p->stages)))) {
		tp_diag_error(d, AT(s, c->file), where, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		struct tp_stage_conf *sc = &p->stages[p->nstages++];
		const config_setting_t *pl;

		sc->index = i;
		sc->line = tp_conf_setting_line(g);
		snprintf(swhere, sizeof(swhere), "%s stage %d", where, i + 1);
		if (!config_setting_is_group(g)) {
			tp_diag_error(d, src_file(g, c->file), sc->line, swhere,
				      "a stage must be a group { plugin = \"...\"; }, got %s",
				      tp_conf_setting_kind(g));
			continue;
		}
		sc->group = g;
		pl = config_setting_get_member(g, "plugin");
		if (!pl)
			tp_diag_error(d, src_file(g, c->file), sc->line, swhere, "stage has no 'plugin' setting");
		else if (config_setting_type(pl) != CONFIG_TYPE_STRING)
			tp_diag_error(d, AT(pl, c->file), swhere,
				      "'plugin' expects a string, got %s", tp_conf_setting_kind(pl));
		else
			sc->plugin = config_setting_get_string(pl);
	}
}

static void load_pipeline(struct tp_conf *c, int idx, const config_setting_t *g, struct tp_diag *d)
{
	struct tp_pipeline_conf *p = &c->pipes[idx];
	const config_setting_t *s, *stages = NULL;
	char where[256], defname[NAME_SLOT];
	const char *name = NULL;
	int i;

	p->line = tp_conf_setting_line(g);
	snprintf(defname, sizeof(defname), "pipeline%d", idx + 1);
	if (!config_setting_is_group(g)) {
		tp_diag_error(d, src_file(g, c->file), p->line, NULL,
			      "pipeline %d must be a group { ... }, got %s", idx + 1, tp_conf_setting_kind(g));
		goto name;
	}
	if ((s = config_setting_get_member(g, "name"))) {
		if (config_setting_type(s) == CONFIG_TYPE_STRING)
			name = config_setting_get_string(s);
		else
			tp_diag_error(d, AT(s, c->file), NULL,
				      "pipeline %d: 'name' expects a string, got %s", idx + 1,
				      tp_conf_setting_kind(s));
	}
	snprintf(where, sizeof(where), "pipeline '%s'", name ? name : defname);
	for (i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		if (strcmp(key, "max_buffers") == 0) {
			int t = config_setting_type(s);
			if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
				tp_diag_error(d, AT(s, c->file), where,
					      "'max_buffers' expects an integer, got %s", tp_conf_setting_kind(s));
			else if ((p->max_buffers = config_setting_get_int64(s)) <= 0)
				tp_diag_error(d, AT(s, c->file), where,
					      "'max_buffers' must be positive, got %lld",
					      (long long)p->max_buffers);
		} else if (strcmp(key, "stages") == 0) {
			stages = s;
		} else if (!in_list(pipe_keys, key)) {
			report_key(d, c->file, s, where, "pipeline key", pipe_keys);
		}
	}
	if (stages)
		load_stages(c, p, stages, where, d);
	else
		tp_diag_error(d, src_file(g, c->file), p->line, where, "pipeline has no 'stages'");
name:
	/* A default name lives in the slot tp_conf_load reserved after the
	 * pipes array, so it is freed with it. */
	if (!name) {
		name = (char *)(c->pipes + c->npipes) + (size_t)idx * NAME_SLOT;
		memcpy((char *)name, defname, strlen(defname) + 1);
	}
	p->name = name;
}

static void load_pipelines(struct tp_conf *c, const config_setting_t *s, struct tp_diag *d)
{
	int n, i;

	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		tp_diag_error(d, AT(s, c->file), NULL,
			      "'pipelines' expects a list of groups ( { ... }, ... ), got %s",
			      tp_conf_setting_kind(s));
		return;
	}
	n = config_setting_length(s);
	if (n == 0) {
		tp_diag_error(d, AT(s, c->file), NULL, "'pipelines' is empty");
		return;
	}
	c->pipes = calloc(1, (size_t)n * (sizeof(*c->pipes) + NAME_SLOT));
	if (!c->pipes) {
		tp_diag_error(d, AT(s, c->file), NULL, "out of memory");
		return;
	}
	c->npipes = n;
	for (i = 0; i < n; i++)
		load_pipeline(c, i, config_setting_get_elem(s, (unsigned)i), d);
}

/* libconfig names an @include'd file as written, relative to the include
 * directory; join them so the user can open the file named. */
static void syntax_error(struct tp_conf *c, struct tp_diag *d)
{
	const char *f = config_error_file(&c->cfg), *dir = config_get_include_dir(&c->cfg);
	char buf[4096];

	if (!f)
		f = c->file;
	else if (strcmp(f, c->file) != 0 && f[0] != '/' && dir
		 && (size_t)snprintf(buf, sizeof(buf), "%s/%s", dir, f) < sizeof(buf))
		f = buf;
	tp_diag_error(d, f, config_error_line(&c->cfg), NULL, "syntax error: %s",
		      config_error_text(&c->cfg));
}

/* Running as a service: log_target, user, group.  1 when `s` is one of
 * them (handled, errors reported), 0 otherwise. */
static int load_service_key(struct tp_conf *c, const config_setting_t *s, struct tp_diag *d)
{
	const char *key = config_setting_name(s), *str;

	if (strcmp(key, "log_target") && strcmp(key, "user") && strcmp(key, "group"))
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		tp_diag_error(d, AT(s, c->file), NULL, "'%s' expects a string, got %s", key,
			      tp_conf_setting_kind(s));
		return 1;
	}
	str = config_setting_get_string(s);
	if (strcmp(key, "log_target") == 0) {
		if (strcmp(str, "syslog") == 0)
			c->log_syslog = 1;
		else if (strcmp(str, "stderr") != 0)
			tp_diag_error(d, AT(s, c->file), NULL,
				      "'log_target' is '%s'; expected one of: stderr, syslog", str);
	} else if (!*str) {
		tp_diag_error(d, AT(s, c->file), NULL, "'%s' is empty", key);
	} else if (strcmp(key, "user") == 0) {
		c->user = str;
	} else {
		c->group = str;
	}
	return 1;
}

int tp_conf_load(struct tp_conf *c, const char *file, struct tp_diag *d)
{
	const config_setting_t *root, *s, *pipelines = NULL;
	char *dir = NULL, *slash;
	int i, t;

	memset(c, 0, sizeof(*c));
	config_init(&c->cfg);
	c->log_level = -1;
	c->control_mode = 0600;
	c->control_gid = -1;
	c->metrics_per_user = 1;
	if (!(c->file = strdup(file)) || !(dir = strdup(file)))
		goto nomem;
	/* @include "x" is relative to the including file, not to the cwd. */
	if ((slash = strrchr(dir, '/'))) {
		slash[slash == dir] = '\0'; /* "/x.conf" includes from "/" */
		config_set_include_dir(&c->cfg, dir);
	}
	if (config_read_file(&c->cfg, file) != CONFIG_TRUE) {
		if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO)
			tp_diag_error(d, file, 0, NULL, "cannot read: %s", strerror(errno));
		else
			syntax_error(c, d);
		goto fail;
	}
	root = config_root_setting(&c->cfg);
	for (i = 0; i < config_setting_length(root); i++) {
		const char *key, *str;

		s = config_setting_get_elem(root, (unsigned)i);
		key = config_setting_name(s);
		t = config_setting_type(s);
		if (strcmp(key, "pipelines") == 0) {
			pipelines = s;
		} else if (strcmp(key, "plugin_path") == 0) {
			load_plugin_path(c, s, d);
		} else if (load_service_key(c, s, d)) {
			continue;
		} else if (strcmp(key, "log_file") == 0 || strcmp(key, "log_level") == 0) {
			if (t != CONFIG_TYPE_STRING) {
				tp_diag_error(d, AT(s, file), NULL, "'%s' expects a string, got %s",
					      key, tp_conf_setting_kind(s));
				continue;
			}
			str = config_setting_get_string(s);
			if (strcmp(key, "log_file") == 0) {
				c->log_file = str;
				continue;
			}
			/* log_levels[] is in enum tp_log_level order. */
			for (c->log_level = 0; log_levels[c->log_level]; c->log_level++)
				if (strcmp(log_levels[c->log_level], str) == 0)
					break;
			if (!log_levels[c->log_level]) {
				tp_diag_error(d, AT(s, file), NULL,
					      "'log_level' is '%s'; expected one of: error, warn, info, debug",
					      str);
				c->log_level = -1;
			}
		} else if (in_list(top_keys, key) && (!strncmp(key, "control", 7) || !strncmp(key, "metrics", 7))) {
			tp_conf_status_key(c, s, dir, d);
		} else {
			report_key(d, file, s, NULL, "top-level key", top_keys);
		}
	}
	if (c->log_syslog && c->log_file)
		tp_diag_error(d, file, 0, NULL,
			      "'log_file' and log_target = \"syslog\" exclude each other: pick one");
	if (!c->plugin_path && !(c->plugin_path = calloc(1, sizeof(*c->plugin_path))))
		goto nomem;
	if (pipelines)
		load_pipelines(c, pipelines, d);
	else
		tp_diag_error(d, file, 0, NULL, "no 'pipelines' defined");
	free(dir);
	return 0;
nomem:
	tp_diag_error(d, file, 0, NULL, "out of memory");
fail:
	free(dir);
	return -1;
}

void tp_conf_free(struct tp_conf *c)
{
	int i;

	for (i = 0; i < c->npipes; i++)
		free(c->pipes[i].stages);
	free(c->pipes);
	free((void *)c->plugin_path);
	free(c->file);
	config_destroy(&c->cfg);
	memset(c, 0, sizeof(*c));
	c->log_level = -1;
}