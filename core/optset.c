/* SPDX-License-Identifier: MIT */
/*
 * optset.c — the values of a stage's options: the plugin's config struct
 * plus copies of every string it points to (so the set stays valid after
 * the tp_conf and libconfig's memory are gone), and the conversion of one
 * libconfig setting or one table default into it.  options.c decides which
 * row a setting goes to.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-priv.h"

const char *tp_opt_type_name(enum tp_opt_type t)
{
	switch (t) {
	case TP_OPT_STRING: return "string";
	case TP_OPT_INT: return "integer";
	case TP_OPT_BOOL: return "boolean";
	case TP_OPT_ENUM: return "enum";
	case TP_OPT_STRLIST: return "string list";
	case TP_OPT_PATH: return "path";
	case TP_OPT_END: break;
	}
	return "unknown";
}

static const char *expect_kind(enum tp_opt_type t)
{
	switch (t) {
	case TP_OPT_INT: return "an integer";
	case TP_OPT_BOOL: return "a boolean (true or false)";
	case TP_OPT_ENUM: return "a string (one of the choices)";
	case TP_OPT_STRLIST: return "a string or a list of strings";
	case TP_OPT_PATH: return "a string (a file name)";
	default: return "a string";
	}
}
/* ------------------------------------------------------------------------
 * Option sets
 * ------------------------------------------------------------------------ */

void *tp_optset_alloc(struct tp_optset *o, size_t n)
{
	struct tp_optblk *b = calloc(1, sizeof(*b) + n);
	if (!b)
		return NULL;
	b->next = o->blocks;
	o->blocks = b;
	return b->data;
}

static char *os_strdup(struct tp_optset *o, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = tp_optset_alloc(o, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* A relative PATH is relative to the directory of the config file that
 * names it, so configs can ship next to their certificates. */
static char *os_path(struct tp_optset *o, const char *v, const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	size_t dl, vl;
	char *p;

	if (!slash || v[0] == '/' || v[0] == '\0')
		return os_strdup(o, v);
	dl = (size_t)(slash - file) + 1;
	vl = strlen(v) + 1;
	p = tp_optset_alloc(o, dl + vl);
	if (p) {
		memcpy(p, file, dl);
		memcpy(p + dl, v, vl);
	}
	return p;
}

const void *tp_optset_config(const struct tp_optset *o)
{
	return o->config;
}

const struct tp_option *tp_optset_table_of(const void *config)
{
	const unsigned char *c = config;

	return c ? ((const struct tp_optset *)(c - offsetof(struct tp_optset, config)))->table
		 : NULL;
}

void tp_optset_free(struct tp_optset *o)
{
	struct tp_optblk *b, *next;

	if (!o)
		return;
	for (b = o->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(o);
}

struct tp_optset *tp_optset_new(size_t config_size)
{
	struct tp_optset *o = calloc(1, sizeof(*o) + config_size);
	if (o)
		o->config_size = config_size;
	return o;
}

/* Position of `name` in "a|b|c", or -1. */
int tp_opt_choice_index(const char *choices, const char *name)
{
	size_t n = strlen(name);
	const char *p = choices;
	int i = 0;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return i;
		i++;
		p = bar ? bar + 1 : NULL;
	}
	return -1;
}

/*
 * Convert setting `s` for option `opt` and store it in o->config.  On a
 * user error return -1 with the message in msg.  `file` is used only to
 * resolve relative paths.
 */
int tp_opt_set_value(struct tp_optset *o, const struct tp_option *opt, const config_setting_t *s,
		     const char *file, char *msg, size_t len)
{
	unsigned char *dst = o->config + opt->offset;
	int t = config_setting_type(s);
	const char *str;
	int64_t v;
	int iv, n, i;

	switch (opt->type) {
	case TP_OPT_STRING:
	case TP_OPT_PATH:
		if (t != CONFIG_TYPE_STRING)
			goto wrong_type;
		str = config_setting_get_string(s);
		str = opt->type == TP_OPT_PATH ? os_path(o, str, file) : os_strdup(o, str);
		if (!str)
			goto nomem;
		memcpy(dst, &str, sizeof(str));
		return 0;
	case TP_OPT_INT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			goto wrong_type;
		v = config_setting_get_int64(s);
		if ((opt->min || opt->max) && (v < opt->min || v > opt->max)) {
			snprintf(msg, len, "option '%s' is %lld, out of range %lld..%lld", opt->name,
				 (long long)v, (long long)opt->min, (long long)opt->max);
			return -1;
		}
		memcpy(dst, &v, sizeof(v));
		return 0;
	case TP_OPT_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			goto wrong_type;
		iv = config_setting_get_bool(s) ? 1 : 0;
		memcpy(dst, &iv, sizeof(iv));
		return 0;
	case TP_OPT_ENUM:
		if (t != CONFIG_TYPE_STRING)
			goto wrong_type;
		str = config_setting_get_string(s);
		iv = tp_opt_choice_index(opt->choices, str);
		if (iv < 0) {
			snprintf(msg, len, "option '%s' is '%s'; expected one of: %s", opt->name, str,
				 opt->choices);
			return -1;
		}
		memcpy(dst, &iv, sizeof(iv));
		return 0;
	case TP_OPT_STRLIST: {
		const char **list;
		/* A single string is a one-element list: `dns = "1.1.1.1";`. */
		if (t == CONFIG_TYPE_STRING) {
			n = 1;
		} else if (t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY) {
			n = config_setting_length(s);
			for (i = 0; i < n; i++) {
				config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
				if (config_setting_type(e) != CONFIG_TYPE_STRING) {
					snprintf(msg, len,
						 "option '%s' expects a list of strings; element %d is %s",
						 opt->name, i + 1, tp_conf_setting_kind(e));
					return -1;
				}
			}
		} else {
			goto wrong_type;
		}
		list = tp_optset_alloc(o, sizeof(*list) * (size_t)(n + 1));
		if (!list)
			goto nomem;
		for (i = 0; i < n; i++) {
			const config_setting_t *e = t == CONFIG_TYPE_STRING
				? s : config_setting_get_elem(s, (unsigned)i);
			if (!(list[i] = os_strdup(o, config_setting_get_string(e))))
				goto nomem;
		}
		memcpy(dst, &list, sizeof(list));
		return 0;
	}
	case TP_OPT_END:
		break;
	}
	snprintf(msg, len, "option '%s' has unknown type %d", opt->name, (int)opt->type);
	return -1;
wrong_type:
	snprintf(msg, len, "option '%s' expects %s, got %s", opt->name, expect_kind(opt->type),
		 tp_conf_setting_kind(s));
	return -1;
nomem:
	snprintf(msg, len, "option '%s': out of memory", opt->name);
	return -1;
}

/*
 * Apply the default of `opt`.  `def` is written as in a config file
 * ("4", "true", "[\"a\", \"b\"]", "\"x\""); for the string-like types the
 * quotes may be left out ("client"), as Fluent Bit tables do.
 */
int tp_opt_set_default(struct tp_optset *o, const struct tp_option *opt, const char *file,
		       char *msg, size_t len)
{
	config_t tmp;
	config_setting_t *s = NULL;
	char *text = NULL;
	int ok = 0, rc = -1, t;

	config_init(&tmp);
	if (asprintf(&text, "v = %s;", opt->def) < 0) {
		text = NULL;
		snprintf(msg, len, "option '%s': out of memory", opt->name);
		goto out;
	}
	if (config_read_string(&tmp, text) == CONFIG_TRUE)
		s = config_lookup(&tmp, "v");
	if (s) {
		t = config_setting_type(s);
		ok = opt->type == TP_OPT_INT || opt->type == TP_OPT_BOOL || t == CONFIG_TYPE_STRING
		     || (opt->type == TP_OPT_STRLIST && config_setting_is_aggregate(s));
	}
	if (!ok && opt->type != TP_OPT_INT && opt->type != TP_OPT_BOOL) {
		/* Unquoted text for a string-like option: take it literally. */
		config_destroy(&tmp);
		config_init(&tmp);
		s = config_setting_add(config_root_setting(&tmp), "v", CONFIG_TYPE_STRING);
		if (s)
			config_setting_set_string(s, opt->def);
	}
	if (!s) {
		snprintf(msg, len, "default '%s' of option '%s' is not %s", opt->def, opt->name,
			 expect_kind(opt->type));
		goto out;
	}
	rc = tp_opt_set_value(o, opt, s, file, msg, len);
out:
	free(text);
	config_destroy(&tmp);
	return rc;
}

