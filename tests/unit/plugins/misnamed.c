/* misnamed.c — the descriptor's name differs from the file's: a config
 * naming "misnamed" would get a plugin calling itself something else. */
#include "dummy.h"

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	DUMMY_TRANSFORM("not-misnamed"),
};
