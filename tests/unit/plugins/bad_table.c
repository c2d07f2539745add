/* SPDX-License-Identifier: MIT */
/* bad_table.c — an option whose offset lies outside config_size: writing it
 * would corrupt memory, so the loader must refuse the plugin. */
#include <stdint.h>
#include "dummy.h"

struct bad_conf {
	int64_t width;
};

static const struct tp_option bad_options[] = {
	TP_OPTION_INT(struct bad_conf, width, "4", 1, 8, "fits"),
	/* written out: no field of bad_conf lies there */
	{ .type = TP_OPT_INT, .name = "depth", .def = "2", .offset = sizeof(struct bad_conf),
	  .help = "lies past the end" },
	TP_OPTIONS_END,
};

TP_PLUGIN_DEFINE(DUMMY_TRANSFORM("bad_table"), .options = bad_options,
		 .config_size = sizeof(struct bad_conf));
