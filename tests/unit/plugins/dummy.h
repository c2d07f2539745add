/* SPDX-License-Identifier: MIT */
/*
 * dummy.h — callbacks for the loader's test modules.  They are never
 * called: these plugins exist to be refused (or listed) by the loader.
 */
#ifndef TP_TEST_DUMMY_H
#define TP_TEST_DUMMY_H
#include <tunpipe/plugin.h>

static void *dummy_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			  char *err, size_t errlen)
{
	(void)st; (void)host; (void)config; (void)err; (void)errlen;
	return (void *)1;
}

static void dummy_destroy(void *ctx)
{
	(void)ctx;
}

/* A valid transform descriptor body after the version and size fields. */
#define DUMMY_TRANSFORM(NAME)                                                 \
	.name = NAME,                                                         \
	.kind = TP_KIND_TRANSFORM, .description = "loader test module",       \
	.top = TP_DATA_IP, .bottom = TP_DATA_IP,                              \
	.create = dummy_create, .destroy = dummy_destroy
#endif
