/* SPDX-License-Identifier: MIT */
/*
 * loader.h — finding plugins and checking their descriptors.
 *
 * A plugin NAME is the file NAME.so in one of the search directories
 * (also DIR/.libs/NAME.so and DIR/NAME/.libs/NAME.so, so a build tree's
 * plugins/ directory works uninstalled).  Search order: directories added
 * with tp_loader_add_path (the config's plugin_path, then — added by
 * main.c only when the binary runs from its build tree — that tree's
 * plugins/), then $TUNPIPE_PLUGIN_PATH (colon-separated), then PKGLIBDIR.
 */
#ifndef TP_CORE_LOADER_H
#define TP_CORE_LOADER_H
#include <tunpipe/plugin.h>
#include "descriptor.h"

struct tp_loader;

struct tp_loader *tp_loader_new(void);
/* dlclose()s every plugin: only after every stage is destroyed. */
void tp_loader_free(struct tp_loader *ld);
/* Append a directory (or a colon-separated list) to the search path. */
void tp_loader_add_path(struct tp_loader *ld, const char *dirs);
/* After the explicit ones: $TUNPIPE_PLUGIN_PATH then PKGLIBDIR. */
void tp_loader_add_default_paths(struct tp_loader *ld);

/* Load (once; later calls return the cached descriptor) and check plugin
 * `name`.  NULL with err filled: not found (lists where it looked), no
 * descriptor symbol, ABI mismatch ("plugin FILE is built for ABI 2.0, this
 * tunpipe speaks 1.1"), bad descriptor fields, option table or framing.
 *
 * The descriptor returned is the core's copy, valid until
 * tp_loader_free(): sizeof(struct tp_plugin) long whatever the plugin's
 * `size` (fields past it are zero), `options` always a table of the
 * core's rows (converted from the plugin's stride: option_size, or the 1.0
 * row), `framing` the core's copy, and for a framer the callbacks are the
 * core's framing glue (framer.h).  `abi_minor` and `size` stay the
 * plugin's.  Parse its options against `options` (tp_options_parse): the
 * framing glue finds its plugin from the config that produces. */
const struct tp_plugin *tp_loader_get(struct tp_loader *ld, const char *name,
				      char *err, size_t errlen);
/* The file a loaded plugin came from (NULL if not loaded). */
const char *tp_loader_file(struct tp_loader *ld, const char *name);

/* Every NAME.so found on the path (first one wins per name), loaded and
 * checked; cb gets the descriptor or NULL plus the error. Returns count. */
typedef void (*tp_loader_each_cb)(void *arg, const char *name, const char *file,
				  const struct tp_plugin *p, const char *err);
int tp_loader_each(struct tp_loader *ld, tp_loader_each_cb cb, void *arg);

#endif
