/* SPDX-License-Identifier: MIT */
/*
 * reconf.c — on SIGHUP, the config file against what runs (reconf.h).
 *
 * Each stage's options are validated again with the plugin's own table and
 * compared value by value with the running stage's set, so a change is
 * named by the option it touches, never guessed from the text (comments,
 * order and spelling of defaults do not count).  Values are never printed:
 * an option may be a secret.
 */
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "reconf.h"

#define CHANGED "; restart to apply"

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int list_eq(const char *const *a, const char *const *b)
{
	for (; a && b && *a && *b; a++, b++)
		if (strcmp(*a, *b))
			return 0;
	return !(a && *a) && !(b && *b);
}

/* Whether the values of row `o` are the same in two config structs. */
static int value_eq(const struct tp_option *o, const void *x, const void *y)
{
	const char *a = (const char *)x + o->offset, *b = (const char *)y + o->offset;

	switch (o->type) {
	case TP_OPT_STRING:
	case TP_OPT_PATH:
		return str_eq(*(const char *const *)(const void *)a, *(const char *const *)(const void *)b);
	case TP_OPT_INT:
		return *(const int64_t *)(const void *)a == *(const int64_t *)(const void *)b;
	case TP_OPT_BOOL:
	case TP_OPT_ENUM:
		return *(const int *)(const void *)a == *(const int *)(const void *)b;
	case TP_OPT_STRLIST:
		return list_eq(*(const char *const *const *)(const void *)a,
			       *(const char *const *const *)(const void *)b);
	case TP_OPT_END:
		break;
	}
	return 1;
}

/* One stage: every option whose value differs, each named once (rows of
 * one option for different roles share an offset). */
static int stage_diff(const struct tp_tmpl *t, const char *where, const void *now, const void *then)
{
	const struct tp_option *tab = t->p->options;
	int n = 0;

	for (int i = 0; tab && tab[i].type != TP_OPT_END; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = tab[j].offset == tab[i].offset;
		if (seen || value_eq(&tab[i], now, then))
			continue;
		tp_log(TP_LOG_WARN, NULL, "%s: option '%s' changed" CHANGED, where, tab[i].name);
		n++;
	}
	return n;
}

static int pipeline_diff(const struct tp_pipeline *pl, const struct tp_pipeline_conf *was,
			 const struct tp_pipeline_conf *pc, const char *file, struct tp_diag *d)
{
	char where[160];
	int n = 0;

	if (pc->nstages != pl->n) {
		tp_log(TP_LOG_WARN, NULL, "pipeline '%s': %d stages now, %d running" CHANGED, pl->name,
		       pc->nstages, pl->n);
		return 1;
	}
	if (pc->max_buffers != was->max_buffers) {
		tp_log(TP_LOG_WARN, NULL, "pipeline '%s': option 'max_buffers' changed" CHANGED, pl->name);
		n++;
	}
	for (int i = 0; i < pl->n; i++) {
		const struct tp_tmpl *t = &pl->t[i];
		const struct tp_stage_conf *sc = &pc->stages[i];
		snprintf(where, sizeof(where), "pipeline '%s' stage %d '%s'", pl->name, i + 1, t->p->name);
		if (!str_eq(sc->plugin, t->p->name)) {
			tp_log(TP_LOG_WARN, NULL, "%s: now plugin '%s'" CHANGED, where,
			       sc->plugin ? sc->plugin : "(none)");
			n++;
			continue;
		}
		struct tp_optset *o = tp_options_parse(t->p->options, t->p->config_size, sc->group, file,
						       where, d);
		if (!o)
			continue; /* counted in d: the caller reports the file as broken */
		n += stage_diff(t, where, tp_optset_config(o), tp_optset_config(t->opts));
		tp_optset_free(o);
	}
	return n;
}

int tp_reconf_check(const struct tp_conf *running, struct tp_pipeline *const *pipes, int npipes)
{
	struct tp_conf nc;
	struct tp_diag d;
	int n = 0;

	tp_diag_init(&d, NULL); /* the log says it; `tunpipe -t` details it */
	if (tp_conf_load(&nc, running->file, &d) < 0 || d.errors)
		goto broken;
	/* The top-level settings are applied once, at start (the log, the
	 * plugins found, the user dropped to, the sockets bound). */
	const struct { const char *name; int same; } top[] = {
		{ "log_level", nc.log_level == running->log_level },
		{ "log_file", str_eq(nc.log_file, running->log_file) },
		{ "plugin_path", list_eq(nc.plugin_path, running->plugin_path) },
		{ "log_target", nc.log_syslog == running->log_syslog },
		{ "user", str_eq(nc.user, running->user) },
		{ "group", str_eq(nc.group, running->group) },
		{ "control", !strcmp(nc.control, running->control) },
		{ "control_mode", nc.control_mode == running->control_mode },
		{ "control_group", nc.control_gid == running->control_gid },
		{ "metrics", str_eq(nc.metrics, running->metrics) },
		{ "metrics_per_user", nc.metrics_per_user == running->metrics_per_user },
	};
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if (!top[i].same) {
			tp_log(TP_LOG_WARN, NULL, "option '%s' changed" CHANGED, top[i].name);
			n++;
		}
	for (int i = 0; i < nc.npipes || i < npipes; i++) {
		const struct tp_pipeline_conf *pc = i < nc.npipes ? &nc.pipes[i] : NULL;
		const struct tp_pipeline *pl = i < npipes ? pipes[i] : NULL;
		if (!pc || !pl || !str_eq(pc->name, pl->name)) {
			tp_log(TP_LOG_WARN, NULL, "pipeline %d: now %s%s%s, running '%s'" CHANGED, i + 1,
			       pc ? "'" : "", pc ? pc->name : "none", pc ? "'" : "", pl ? pl->name : "none");
			n++;
			continue;
		}
		/* running->pipes[i] is what pipes[i] was built from */
		n += pipeline_diff(pl, &running->pipes[i], pc, nc.file, &d);
	}
	if (d.errors)
		goto broken;
	tp_log(TP_LOG_INFO, NULL, "%s: %d option%s changed that need%s a restart", running->file, n,
	       n == 1 ? "" : "s", n == 1 ? "s" : "");
	tp_conf_free(&nc);
	return n;
broken:
	tp_log(TP_LOG_ERROR, NULL, "%s no longer loads (%d error%s; `tunpipe -t -c %s` lists them); "
	       "the running configuration stays", running->file, d.errors, d.errors == 1 ? "" : "s",
	       running->file);
	tp_conf_free(&nc);
	return -1;
}
