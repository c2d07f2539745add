/* SPDX-License-Identifier: MIT */
/*
 * framer.h — framing as a core service (plugin.h, struct tp_framing).
 *
 * The loader installs this glue in its copy of a framer's descriptor: the
 * copy's callbacks become the core's, which run the deframer and call the
 * plugin's own ones (kept in a tp_framer_class) with the plugin's instance.
 * Neither the pipeline nor the harness needs to know a stage is a framer.
 *
 * The glue's create() finds its class from the `config` it receives: that
 * is always tp_optset_config() of an option set parsed against the
 * descriptor's own option table, which the loader allocated as the `rows`
 * of a tp_framer_table.
 */
#ifndef TP_CORE_FRAMER_H
#define TP_CORE_FRAMER_H
#include <tunpipe/plugin.h>

struct tp_framer_class {
	struct tp_plugin orig;     /* the plugin's descriptor (core copy) */
	struct tp_framing framing; /* its format (core copy, zero beyond its size) */
};

#define TP_FRAMER_TABLE_MAGIC 0x74706672u /* "tpfr" */

/* The option table of an imported descriptor, as the loader allocates it. */
struct tp_framer_table {
	uint32_t magic;                    /* TP_FRAMER_TABLE_MAGIC */
	const struct tp_framer_class *fc;  /* NULL unless the plugin is a framer */
	struct tp_option rows[];           /* ends with TP_OPTIONS_END */
};

/* Check a framer's format and descriptor; 0 or -1 with err filled. */
int tp_framer_check(const struct tp_plugin *p, const struct tp_framing *fr, char *err,
		    size_t errlen);
/* Point desc's callbacks at the glue; fc already holds the plugin's own. */
void tp_framer_install(struct tp_plugin *desc, const struct tp_framer_class *fc);

#endif
