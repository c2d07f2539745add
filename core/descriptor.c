/* SPDX-License-Identifier: MIT */
/*
 * descriptor.c — refusing descriptors this core cannot use, and the core's
 * own copy of the ones it can.
 *
 * Descriptors are checked before anything else touches them: a plugin
 * built for another ABI major may have a different struct layout, so for
 * that case only the leading version fields are read and messages name the
 * plugin by its file name.
 *
 * The core never reads a plugin's descriptor past the plugin's `size`:
 * what the loader hands out is a copy as long as the core's struct, zero
 * beyond what the plugin wrote, with its option table (read with the
 * plugin's row stride) and its framing copied the same way.  A framer's
 * copy gets the core's framing glue (framer.c) as callbacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "descriptor.h"

/* The descriptor as ABI 1.0 defines it ends with wire_id. */
#define TP_PLUGIN_SIZE_1_0 \
	(offsetof(struct tp_plugin, wire_id) + sizeof(((struct tp_plugin *)0)->wire_id))

/* An option row as ABI 1.0 defines it ends before `when`; 1.1's ends
 * with it. */
#define TP_OPTION_SIZE_1_0 offsetof(struct tp_option, when)
#define TP_OPTION_SIZE_1_1 (offsetof(struct tp_option, when) + sizeof(const char *))
#define MAX_ROWS 1024 /* a table without TP_OPTIONS_END is a plugin bug */

/* "framer-ip" from ".../framer-ip.so". */
static void file_stem(const char *file, char *buf, size_t len)
{
	const char *base = strrchr(file, '/');
	size_t n;

	base = base ? base + 1 : file;
	n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".so") == 0)
		n -= 3;
	snprintf(buf, len, "%.*s", (int)n, base);
}

static int valid_mask(uint32_t m)
{
	return m != 0 && (m & ~(uint32_t)(TP_DATA_IP | TP_DATA_MSG | TP_DATA_STREAM)) == 0;
}

/* The fields every version has: ABI major, minor and the size 1.0 needs. */
static int check_version(const struct tp_plugin *p, const char *file, const char *stem,
			 char *err, size_t errlen)
{
	if (!p) {
		snprintf(err, errlen, "%s: no plugin descriptor", file);
		return -1;
	}
	if (p->abi_major != TP_ABI_MAJOR) {
		snprintf(err, errlen, "%s: plugin '%s' was built for plugin ABI %u.%u; this tunpipe "
			 "supports %d.%d (major versions must match)", file, stem, p->abi_major,
			 p->abi_minor, TP_ABI_MAJOR, TP_ABI_MINOR);
		return -1;
	}
	if (p->abi_minor > TP_ABI_MINOR) {
		snprintf(err, errlen, "%s: plugin '%s' was built for plugin ABI %u.%u; this tunpipe "
			 "supports %d.%d (built against a newer minor version)", file, stem,
			 p->abi_major, p->abi_minor, TP_ABI_MAJOR, TP_ABI_MINOR);
		return -1;
	}
	if (p->size < TP_PLUGIN_SIZE_1_0) {
		snprintf(err, errlen, "%s: plugin '%s': descriptor is %u bytes, ABI %d.0 needs at "
			 "least %zu", file, stem, p->size, TP_ABI_MAJOR, TP_PLUGIN_SIZE_1_0);
		return -1;
	}
	return 0;
}

int tp_plugin_check(const struct tp_plugin *p, const char *file, char *err, size_t errlen)
{
	char stem[256], table_err[512];
	const char *kind = "?";
	int top_ok, bottom_ok;

	file_stem(file, stem, sizeof(stem));
	if (check_version(p, file, stem, err, errlen) < 0)
		return -1;
	if (!p->name || strcmp(p->name, stem) != 0) {
		snprintf(err, errlen, "%s: descriptor name '%s' does not match the file name '%s'",
			 file, p->name ? p->name : "(null)", stem);
		return -1;
	}
	switch (p->kind) {
	case TP_KIND_SOURCE:
		kind = "source";
		top_ok = p->top == 0;
		bottom_ok = valid_mask(p->bottom);
		break;
	case TP_KIND_SINK:
		kind = "sink";
		top_ok = valid_mask(p->top);
		bottom_ok = p->bottom == 0;
		break;
	case TP_KIND_TRANSFORM:
		kind = "transform";
		top_ok = valid_mask(p->top);
		bottom_ok = valid_mask(p->bottom);
		break;
	default:
		snprintf(err, errlen, "%s: plugin '%s' has unknown kind %d", file, stem, (int)p->kind);
		return -1;
	}
	if (!top_ok || !bottom_ok) {
		snprintf(err, errlen, "%s: plugin '%s' is a %s but declares top=0x%x bottom=0x%x "
			 "(a source has no top side, a sink no bottom side, every other side needs "
			 "known TP_DATA_* bits)", file, stem, kind, p->top, p->bottom);
		return -1;
	}
	if (!p->description) {
		snprintf(err, errlen, "%s: plugin '%s' has no description", file, stem);
		return -1;
	}
	if (!p->create || !p->destroy) {
		snprintf(err, errlen, "%s: plugin '%s' has no %s callback", file, stem,
			 p->create ? "destroy" : "create");
		return -1;
	}
	if (p->flags & ~(uint32_t)(TP_PLUGIN_LOCAL_ONLY | TP_PLUGIN_SUPER)) {
		snprintf(err, errlen, "%s: plugin '%s' sets unknown flags 0x%x", file, stem,
			 p->flags & ~(uint32_t)(TP_PLUGIN_LOCAL_ONLY | TP_PLUGIN_SUPER));
		return -1;
	}
	if ((p->flags & TP_PLUGIN_LOCAL_ONLY) && (p->kind != TP_KIND_TRANSFORM || p->framing)) {
		snprintf(err, errlen, "%s: plugin '%s' is %s but declares TP_PLUGIN_LOCAL_ONLY "
			 "(only a transform that leaves the wire bytes alone may)", file, stem,
			 p->framing ? "a framer" : "an endpoint");
		return -1;
	}
	if (tp_options_check_table(p->options, p->config_size, table_err, sizeof(table_err)) < 0) {
		snprintf(err, errlen, "%s: plugin '%s' has a bad option table: %s", file, stem,
			 table_err);
		return -1;
	}
	return 0;
}

/* Copy the option table `raw` with rows `stride` bytes apart into a table
 * of the core's rows (zero beyond `stride`); im->tbl, always allocated. */
static int import_options(struct tp_import *im, const struct tp_option *raw, size_t stride,
			  const char *file, char *err, size_t errlen)
{
	const unsigned char *row = (const unsigned char *)raw;
	size_t n = 0, i, take = stride < sizeof(struct tp_option) ? stride : sizeof(struct tp_option);

	/* `type` leads every row of every version: TP_OPT_END ends the table. */
	while (raw && ((const struct tp_option *)(row + n * stride))->type != TP_OPT_END)
		if (++n > MAX_ROWS) {
			snprintf(err, errlen, "%s: plugin '%s' has a bad option table: no "
				 "TP_OPTIONS_END within %d entries", file, im->desc.name, MAX_ROWS);
			return -1;
		}
	im->tbl = calloc(1, sizeof(*im->tbl) + (n + 1) * sizeof(struct tp_option));
	if (!im->tbl) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	im->tbl->magic = TP_FRAMER_TABLE_MAGIC;
	for (i = 0; i < n; i++)
		memcpy(&im->tbl->rows[i], row + i * stride, take);
	im->desc.options = im->tbl->rows;
	return 0;
}

int tp_import(struct tp_import *im, const struct tp_plugin *raw, const char *file, char *err,
	      size_t errlen)
{
	char stem[256], why[256];
	size_t stride;
	const struct tp_framing *fr;

	file_stem(file, stem, sizeof(stem));
	if (check_version(raw, file, stem, err, errlen) < 0)
		return -1;
	memcpy(&im->desc, raw, raw->size < sizeof(im->desc) ? raw->size : sizeof(im->desc));
	/* 1.0 has no option_size: its rows end before `when`.  A 1.1 plugin
	 * that wrote its descriptor without TP_PLUGIN_DEFINE may have left it
	 * 0 too: its rows are 1.1's. */
	stride = im->desc.option_size ? im->desc.option_size
		 : im->desc.abi_minor >= 1 ? TP_OPTION_SIZE_1_1 : TP_OPTION_SIZE_1_0;
	if (stride < TP_OPTION_SIZE_1_0) {
		snprintf(err, errlen, "%s: plugin '%s': option rows of %zu bytes, ABI %d.0 needs "
			 "at least %zu", file, stem, stride, TP_ABI_MAJOR, TP_OPTION_SIZE_1_0);
		return -1;
	}
	if (import_options(im, raw->options, stride, file, err, errlen) < 0)
		return -1;
	im->desc.option_size = sizeof(struct tp_option);
	if ((fr = im->desc.framing)) {
		im->fc.orig = im->desc;
		memcpy(&im->fc.framing, fr,
		       fr->size < sizeof(im->fc.framing) ? fr->size : sizeof(im->fc.framing));
		if (tp_framer_check(&im->desc, &im->fc.framing, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: plugin '%s': %s", file, stem, why);
			return -1;
		}
		im->desc.framing = &im->fc.framing;
		im->tbl->fc = &im->fc;
		tp_framer_install(&im->desc, &im->fc);
	}
	return tp_plugin_check(&im->desc, file, err, errlen);
}

void tp_import_release(struct tp_import *im)
{
	free(im->tbl);
	im->tbl = NULL;
}
