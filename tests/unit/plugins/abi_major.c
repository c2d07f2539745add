/* SPDX-License-Identifier: MIT */
/* abi_major.c — claims the next plugin ABI major: the loader must refuse it. */
#include "dummy.h"

/* Not TP_PLUGIN_DEFINE: the version is the point of this module. */
TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR + 1,
	.abi_minor = 0,
	.size = sizeof(struct tp_plugin),
	DUMMY_TRANSFORM("abi_major"),
};
