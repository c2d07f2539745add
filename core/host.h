/* SPDX-License-Identifier: MIT */
/*
 * host.h — the service table the core hands every plugin (struct tp_host).
 */
#ifndef TP_CORE_HOST_H
#define TP_CORE_HOST_H
#include <tunpipe/plugin.h>

extern const struct tp_host tp_core_host;
/* The status a plugin asked to exit with (tp_host.exit), 0 if none. */
int tp_host_exit_status(void);

#endif
