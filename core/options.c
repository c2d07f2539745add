/* SPDX-License-Identifier: MIT */
/*
 * options.c — a stage's options, checked against the plugin's option table
 * (Fluent Bit's config_map idea) and written into the plugin's config
 * struct.
 *
 * The values live in a tp_optset (optset.c): the plugin's config struct
 * plus copies of every string it points to.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-priv.h"

#define MAX_TABLE 1024 /* a table without TP_OPTIONS_END is a plugin bug */

static const struct tp_option *find_opt(const struct tp_option *table, const char *name)
{
	for (; table && table->type != TP_OPT_END; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* The enum row a `when` ("OPT=VALUE") names among the first `upto` rows
 * (an unconditional enum option), with VALUE's index in *choice (-1 when
 * it is not one of the choices); NULL if there is no such row. */
static const struct tp_option *when_enum(const struct tp_option *table, size_t upto,
					 const char *when, int *choice)
{
	const char *eq = strchr(when, '=');
	size_t n = eq ? (size_t)(eq - when) : 0, i;

	*choice = -1;
	for (i = 0; eq && i < upto; i++) {
		const struct tp_option *e = &table[i];
		if (e->type == TP_OPT_ENUM && !e->when && strlen(e->name) == n
		    && strncmp(e->name, when, n) == 0) {
			*choice = tp_opt_choice_index(e->choices, eq + 1);
			return e;
		}
	}
	return NULL;
}

/* "client" for index 1 of "server|client"... into buf. */
static const char *choice_name(const char *choices, int idx, char *buf, size_t len)
{
	const char *p = choices;

	for (; p && idx > 0; idx--)
		if ((p = strchr(p, '|')))
			p++;
	if (!p || idx < 0)
		return "?";
	snprintf(buf, len, "%.*s", (int)strcspn(p, "|"), p);
	return buf;
}

/* Row states while parsing. */
enum { ROW_UNSEEN = 0, ROW_SET, ROW_BAD };

/* Whether conditional row `opt` applies, from the enum values already in
 * o->config: 1 yes, 0 no, -1 unknown (its enum option was given a bad
 * value, already reported: say nothing more about its rows). */
static int applies(const struct tp_optset *o, const struct tp_option *table,
		   const unsigned char *state, const struct tp_option *opt)
{
	const struct tp_option *e;
	int choice, cur;

	if (!opt->when)
		return 1;
	if (!(e = when_enum(table, (size_t)(opt - table), opt->when, &choice)))
		return 0; /* the table check refuses such a table */
	if (state[e - table] == ROW_BAD)
		return -1;
	memcpy(&cur, o->config + e->offset, sizeof(cur));
	return cur == choice;
}

int tp_optset_holds(const struct tp_optset *o, const char *when)
{
	const struct tp_option *e;
	size_t n = 0;
	int choice, cur;

	if (!o || !o->table)
		return 0;
	while (o->table[n].type != TP_OPT_END)
		n++;
	if (!(e = when_enum(o->table, n, when, &choice)) || choice < 0)
		return 0;
	memcpy(&cur, o->config + e->offset, sizeof(cur));
	return cur == choice;
}

/* A conditional option given where its `when` does not hold: name the
 * role(s) it belongs to and the one this stage has. */
static void report_role(const struct tp_optset *o, const struct tp_option *table, size_t n,
			const struct tp_option *first, const config_setting_t *s, const char *file,
			const char *where, struct tp_diag *d)
{
	char roles[256], cur[64];
	const struct tp_option *e;
	size_t off = 0, i;
	int choice, v;

	/* "role=server" reads "role = server", as the config file writes it. */
	roles[0] = '\0';
	for (i = (size_t)(first - table); i < n && off < sizeof(roles); i++)
		if (strcmp(table[i].name, first->name) == 0) {
			const char *w = table[i].when, *eq = strchr(w, '=');
			off += (size_t)snprintf(roles + off, sizeof(roles) - off, "%s%.*s = %s",
						off ? " or " : "", (int)(eq - w), w, eq + 1);
		}
	e = when_enum(table, (size_t)(first - table), first->when, &choice);
	if (!e) /* unreachable with a checked table */
		return;
	memcpy(&v, o->config + e->offset, sizeof(v));
	tp_diag_error(d, file, tp_conf_setting_line(s), where,
		      "option '%s' is only valid with %s; this stage has %s = %s", first->name, roles,
		      e->name, choice_name(e->choices, v, cur, sizeof(cur)));
}

static void report_unknown(const struct tp_option *table, size_t n, const config_setting_t *s,
			   const char *file, const char *where, struct tp_diag *d)
{
	const char *key = config_setting_name(s);
	const char *names[n + 1];
	const char *best;
	size_t i;

	for (i = 0; i < n; i++)
		names[i] = table[i].name;
	names[n] = NULL;
	best = tp_conf_suggest(key, names);
	if (best)
		tp_diag_error(d, file, tp_conf_setting_line(s), where,
			      "unknown option '%s'; did you mean '%s'?", key, best);
	else if (n == 0)
		tp_diag_error(d, file, tp_conf_setting_line(s), where,
			      "unknown option '%s' (this plugin takes no options)", key);
	else
		tp_diag_error(d, file, tp_conf_setting_line(s), where,
			      "unknown option '%s' (see `tunpipe inspect` for the list)", key);
}

/*
 * Pass 0 takes the settings of unconditional rows, pass 1 those of rows
 * with a `when`: by then every enum a `when` looks at holds its final
 * value (given or default).  Unknown keys are reported in pass 0.
 */
static void take_settings(struct tp_optset *o, const struct tp_option *table, size_t n,
			  unsigned char *state, int pass, const config_setting_t *group,
			  const char *file, const char *where, struct tp_diag *d)
{
	char sbuf[4096], msg[512];

	for (int k = 0; group && k < config_setting_length(group); k++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)k);
		const char *key = config_setting_name(s);
		const char *sfile = tp_conf_setting_file(s, file, sbuf, sizeof(sbuf));
		const struct tp_option *first, *opt = NULL;
		size_t i;
		int a = 0;

		if (strcmp(key, "plugin") == 0)
			continue;
		first = find_opt(table, key);
		if (!first) {
			if (pass == 0)
				report_unknown(table, n, s, sfile, where, d);
			continue;
		}
		if ((pass == 0) != !first->when)
			continue;
		/* Rows sharing a name differ in their `when`: take the one that holds. */
		for (i = (size_t)(first - table); i < n && !opt; i++)
			if (strcmp(table[i].name, key) == 0
			    && (a = applies(o, table, state, &table[i])) != 0)
				opt = &table[i];
		if (!opt) {
			report_role(o, table, n, first, s, sfile, where, d);
			continue;
		}
		if (a < 0)
			continue;
		state[opt - table] = ROW_SET;
		if (tp_opt_set_value(o, opt, s, sfile, msg, sizeof(msg)) < 0) {
			state[opt - table] = ROW_BAD;
			tp_diag_error(d, sfile, tp_conf_setting_line(s), where, "%s", msg);
		}
	}
}

/* Defaults and required checks for the rows of one pass that no setting
 * named; a row whose `when` does not hold gets nothing. */
static int fill_unseen(struct tp_optset *o, const struct tp_option *table, size_t n,
		       unsigned char *state, int pass, const char *gfile, int line,
		       const char *where, struct tp_diag *d)
{
	char msg[512];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tp_option *t = &table[i];

		if (state[i] != ROW_UNSEEN || (pass == 0) != !t->when
		    || applies(o, table, state, t) != 1)
			continue;
		if (t->flags & TP_OPT_REQUIRED)
			tp_diag_error(d, gfile, line, where, "missing required option '%s' (%s)",
				      t->name, tp_opt_type_name(t->type));
		else if (t->def && tp_opt_set_default(o, t, gfile, msg, sizeof(msg)) < 0)
			tp_diag_error(d, gfile, line, where, "%s", msg);
		else if (!t->def && t->type == TP_OPT_STRLIST) {
			/* An absent list is an empty one, never NULL. */
			const char **empty = tp_optset_alloc(o, sizeof(*empty));
			if (!empty)
				return -1;
			memcpy(o->config + t->offset, &empty, sizeof(empty));
		}
		if (t->flags & TP_OPT_REQUIRED)
			state[i] = ROW_BAD;
	}
	return 0;
}

struct tp_optset *tp_options_parse(const struct tp_option *table, size_t config_size,
				   const config_setting_t *group, const char *file,
				   const char *where, struct tp_diag *d)
{
	struct tp_optset *o = tp_optset_new(config_size);
	int errors = d->errors, line = tp_conf_setting_line(group), pass;
	char gbuf[4096];
	const char *gfile = tp_conf_setting_file(group, file, gbuf, sizeof(gbuf));
	size_t n = 0;
	unsigned char *state = NULL;

	if (!o)
		goto nomem;
	o->table = table;
	while (table && table[n].type != TP_OPT_END)
		n++;
	if (!(state = calloc(n + 1, 1)))
		goto nomem;
	if (group && !config_setting_is_group(group)) {
		tp_diag_error(d, gfile, line, where, "options must be a group { key = value; ... }");
		goto fail;
	}
	for (pass = 0; pass < 2; pass++) {
		take_settings(o, table, n, state, pass, group, file, where, d);
		if (fill_unseen(o, table, n, state, pass, gfile, line, where, d) < 0)
			goto nomem;
	}
	if (d->errors != errors)
		goto fail;
	free(state);
	return o;
nomem:
	tp_diag_error(d, gfile, line, where, "out of memory parsing options");
fail:
	free(state);
	tp_optset_free(o);
	return NULL;
}

static size_t opt_size(enum tp_opt_type t)
{
	switch (t) {
	case TP_OPT_STRING:
	case TP_OPT_PATH: return sizeof(const char *);
	case TP_OPT_INT: return sizeof(int64_t);
	case TP_OPT_BOOL:
	case TP_OPT_ENUM: return sizeof(int);
	case TP_OPT_STRLIST: return sizeof(const char *const *);
	case TP_OPT_END: break;
	}
	return 0;
}

int tp_options_check_table(const struct tp_option *table, size_t config_size,
			   char *err, size_t errlen)
{
	struct tp_optset *scratch = NULL;
	const struct tp_option *o;
	char msg[512];
	int i, j, choice;

	if (!table)
		return 0;
	if (!(scratch = tp_optset_new(config_size))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; table[i].type != TP_OPT_END; i++) {
		o = &table[i];
		if (i >= MAX_TABLE) {
			snprintf(err, errlen, "no TP_OPTIONS_END within %d entries", MAX_TABLE);
			goto fail;
		}
		if (!o->name || !*o->name) {
			snprintf(err, errlen, "option #%d has no name", i + 1);
			goto fail;
		}
		/* `plugin` selects the plugin in a stage group; it cannot be an option. */
		if (strcmp(o->name, "plugin") == 0) {
			snprintf(err, errlen, "option name 'plugin' is reserved");
			goto fail;
		}
		/* One name, several rows: one per role, so each needs a `when`
		 * of its own. */
		for (j = 0; j < i; j++)
			if (strcmp(table[j].name, o->name) == 0
			    && (!o->when || !table[j].when || strcmp(o->when, table[j].when) == 0)) {
				snprintf(err, errlen, "option '%s' is declared twice%s", o->name,
					 o->when && table[j].when ? " for the same role" : "");
				goto fail;
			}
		if (o->when && !when_enum(table, (size_t)i, o->when, &choice)) {
			snprintf(err, errlen, "option '%s': when \"%s\" names no earlier enum option "
				 "(OPT=VALUE, OPT an enum option without a `when`)", o->name, o->when);
			goto fail;
		}
		if (o->when && choice < 0) {
			snprintf(err, errlen, "option '%s': when \"%s\" names no choice of that option",
				 o->name, o->when);
			goto fail;
		}
		if (opt_size(o->type) == 0) {
			snprintf(err, errlen, "option '%s' has unknown type %d", o->name, (int)o->type);
			goto fail;
		}
		if (o->offset > config_size || opt_size(o->type) > config_size - o->offset) {
			snprintf(err, errlen,
				 "option '%s' (%s) at offset %zu does not fit in config_size %zu",
				 o->name, tp_opt_type_name(o->type), o->offset, config_size);
			goto fail;
		}
		if (o->type == TP_OPT_ENUM && (!o->choices || !*o->choices
					       || strstr(o->choices, "||") || *o->choices == '|'
					       || o->choices[strlen(o->choices) - 1] == '|')) {
			snprintf(err, errlen, "enum option '%s' needs choices like \"a|b\"", o->name);
			goto fail;
		}
		if (o->type == TP_OPT_INT && (o->min || o->max) && o->min > o->max) {
			snprintf(err, errlen, "option '%s' has an empty range %lld..%lld", o->name,
				 (long long)o->min, (long long)o->max);
			goto fail;
		}
		if (o->def && tp_opt_set_default(scratch, o, NULL, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "bad default: %s", msg);
			goto fail;
		}
	}
	tp_optset_free(scratch);
	return 0;
fail:
	tp_optset_free(scratch);
	return -1;
}
