/* SPDX-License-Identifier: MIT */
/*
 * reconf.h — SIGHUP: which options in the config file differ from the
 * running ones.  The running pipelines are not rebuilt (sessions would
 * end); files the stages re-read themselves (users, certificate and key)
 * reload through TP_EV_RELOAD.  Everything else takes a restart, and this
 * says so, naming each option that changed.
 */
#ifndef TP_CORE_RECONF_H
#define TP_CORE_RECONF_H
#include "conf.h"
#include "stage.h"

/* Re-read running->file and log (warn) each difference from `running` and
 * the pipelines' option values:
 *   pipeline 'vpn' stage 3 'tls-http': option 'listen' changed; restart to apply
 * Returns how many differences were logged, or -1 when the file no longer
 * loads (logged as an error; the running configuration stays). */
int tp_reconf_check(const struct tp_conf *running, struct tp_pipeline *const *pipes, int npipes);

#endif
