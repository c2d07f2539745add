/* SPDX-License-Identifier: MIT */
/* misnamed.c — the descriptor's name differs from the file's: a config
 * naming "misnamed" would get a plugin calling itself something else. */
#include "dummy.h"

TP_PLUGIN_DEFINE(DUMMY_TRANSFORM("not-misnamed"));
