/* SPDX-License-Identifier: MIT */
/* conf-priv.h — helpers shared by conf.c, options.c and optset.c; not an API. */
#ifndef TP_CORE_CONF_PRIV_H
#define TP_CORE_CONF_PRIV_H
#include <stddef.h>
#include <libconfig.h>

/* "a string", "an integer", … for messages like "got a string". */
const char *tp_conf_setting_kind(const config_setting_t *s);
/* The setting's line in its file, 0 for NULL or unknown. */
int tp_conf_setting_line(const config_setting_t *s);
/* The file a setting was read from (an @include'd one, say), else
 * `fallback` (the main file): messages and relative paths must follow the
 * setting.  libconfig records an include as written, relative to the
 * include directory, so the joined name may be built in buf. */
const char *tp_conf_setting_file(const config_setting_t *s, const char *fallback, char *buf,
				 size_t len);
/* The closest of `names` (NULL-terminated) to `key` within edit distance
 * 2, for "did you mean" hints; NULL if none is that close. */
const char *tp_conf_suggest(const char *key, const char *const *names);

/* A top-level control* or metrics* setting (conf-status.c); `dir` is the
 * config file's directory, for a relative socket path. */
struct tp_conf;
struct tp_diag;
void tp_conf_status_key(struct tp_conf *c, const config_setting_t *s, const char *dir, struct tp_diag *d);

/* ---- option sets (optset.c), for options.c ---- */
/* Every string and list an optset hands out is one of these blocks. */
struct tp_optblk {
	struct tp_optblk *next;
	max_align_t data[];
};

struct tp_optset {
	struct tp_optblk *blocks;
	const struct tp_option *table; /* the table it was parsed against */
	size_t config_size;
	unsigned char config[]; /* the plugin's config struct */
};

struct tp_optset *tp_optset_new(size_t config_size);
/* Zeroed memory owned by the set (freed with it). */
void *tp_optset_alloc(struct tp_optset *o, size_t n);
/* Position of `name` in "a|b|c", or -1. */
int tp_opt_choice_index(const char *choices, const char *name);
/* Convert setting `s` for option `opt` into o->config; -1 with msg filled
 * on a user error.  `file` resolves relative paths. */
int tp_opt_set_value(struct tp_optset *o, const struct tp_option *opt, const config_setting_t *s,
		     const char *file, char *msg, size_t len);
/* Apply opt->def, written as in a config file (quotes optional for the
 * string-like types); -1 with msg filled when it does not parse. */
int tp_opt_set_default(struct tp_optset *o, const struct tp_option *opt, const char *file,
		       char *msg, size_t len);

#endif
