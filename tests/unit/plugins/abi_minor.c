/* SPDX-License-Identifier: MIT */
/* abi_minor.c — built "against a newer minor": fields this core does not
 * know may matter to it, so the loader must refuse it. */
#include "dummy.h"

/* Not TP_PLUGIN_DEFINE: the version is the point of this module. */
TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR + 1,
	.size = sizeof(struct tp_plugin),
	.option_size = sizeof(struct tp_option),
	DUMMY_TRANSFORM("abi_minor"),
};
