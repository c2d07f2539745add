/* SPDX-License-Identifier: MIT */
/*
 * host.h — the service table the core hands every plugin (struct tp_host).
 */
#ifndef TP_CORE_HOST_H
#define TP_CORE_HOST_H
#include <tunpipe/plugin.h>

extern const struct tp_host tp_core_host;

#endif
