/* abi_major.c — claims the next plugin ABI major: the loader must refuse it. */
#include "dummy.h"

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR + 1,
	.abi_minor = 0,
	DUMMY_TRANSFORM("abi_major"),
};
