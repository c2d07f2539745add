/* abi_minor.c — built "against a newer minor": fields this core does not
 * know may matter to it, so the loader must refuse it. */
#include "dummy.h"

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR + 1,
	DUMMY_TRANSFORM("abi_minor"),
};
