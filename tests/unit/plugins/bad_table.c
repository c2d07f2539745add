/* bad_table.c — an option whose offset lies outside config_size: writing it
 * would corrupt memory, so the loader must refuse the plugin. */
#include <stdint.h>
#include "dummy.h"

struct bad_conf {
	int64_t width;
};

static const struct tp_option bad_options[] = {
	{ TP_OPT_INT, "width", "4", 0, 1, 8, NULL, offsetof(struct bad_conf, width), "fits" },
	{ TP_OPT_INT, "depth", "2", 0, 0, 0, NULL, sizeof(struct bad_conf), "lies past the end" },
	TP_OPTIONS_END,
};

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	DUMMY_TRANSFORM("bad_table"),
	.options = bad_options,
	.config_size = sizeof(struct bad_conf),
};
