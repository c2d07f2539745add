/* conf-priv.h — helpers shared by conf.c and options.c; not an API. */
#ifndef TP_CORE_CONF_PRIV_H
#define TP_CORE_CONF_PRIV_H
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

#endif
