/* SPDX-License-Identifier: MIT */
/*
 * descriptor.h — checking a plugin's descriptor and making the core's copy
 * of it (the loader's half that reads what a plugin wrote).
 */
#ifndef TP_CORE_DESCRIPTOR_H
#define TP_CORE_DESCRIPTOR_H
#include <tunpipe/plugin.h>
#include "framer.h"

/* Check a descriptor found in `file`: ABI major equal, minor not newer,
 * size big enough, name/kind/link masks coherent, option table sane.  It
 * reads `p` as a struct of the core's size: give it the core's copy. */
int tp_plugin_check(const struct tp_plugin *p, const char *file, char *err, size_t errlen);

/* The core's copy of a descriptor (see tp_loader_get in loader.h). */
struct tp_import {
	struct tp_plugin desc;       /* padded to the core's struct */
	struct tp_framer_class fc;   /* a framer's own callbacks and format */
	struct tp_framer_table *tbl; /* the converted option table */
};

/* Fill `im` from `raw` as found in `file`: the version and 1.0 size are
 * checked before anything else is read, then only raw->size bytes of the
 * descriptor and option_size bytes (the 1.0 row if 0 in a 1.0 plugin) of
 * each option row are; a framer gets the core's glue; then the copy is
 * checked in full.  0, or -1 with err filled; tp_import_release() either
 * way. */
int tp_import(struct tp_import *im, const struct tp_plugin *raw, const char *file, char *err,
	      size_t errlen);
void tp_import_release(struct tp_import *im);

#endif
