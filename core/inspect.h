/* SPDX-License-Identifier: MIT */
/* inspect.h — `tunpipe inspect [NAME]`, generated from descriptors. */
#ifndef TP_CORE_INSPECT_H
#define TP_CORE_INSPECT_H
#include <stdio.h>
#include "loader.h"

/* One line per plugin found: name, kind, description (and the errors of
 * those that failed to load).  Returns 0, or 1 if none was found. */
int tp_inspect_list(struct tp_loader *ld, FILE *out);
/* Kind, file, takes/gives per side, headroom, and every option with type,
 * default, range/choices, required, help.  0, or 1 if it cannot load. */
int tp_inspect_one(struct tp_loader *ld, const char *name, FILE *out);
/* The plugin sections of tunpipe.conf(5), in roff: one .SS per plugin
 * (kind, link types, then every option as a .TP entry with type,
 * attributes and help), for the `names` given or, with n == 0, every
 * plugin found.  The build generates the man page with it, so the page
 * cannot drift from the option tables.  0, or 1 (message on stderr) if a
 * plugin cannot load: a page missing a plugin must not be installed. */
int tp_inspect_man(struct tp_loader *ld, char *const *names, int n, FILE *out);
/* "IP packets|messages" for a TP_DATA_* mask. */
const char *tp_data_name(uint32_t mask, char *buf, size_t len);

#endif
