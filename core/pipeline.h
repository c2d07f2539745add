/* SPDX-License-Identifier: MIT */
/*
 * pipeline.h — assembling stages into pipelines and running them.
 *
 * The data model (templates, instances, sessions, the pipeline) is in
 * stage.h; data moves between instances in stage.c; sessions, the router's
 * table and the address pool live in session.c; host.c is the service
 * table plugins call.
 */
#ifndef TP_CORE_PIPELINE_H
#define TP_CORE_PIPELINE_H
#include "buf.h"
#include "conf.h"
#include "loader.h"
#include "loop.h"
#include "stage.h"

/* Build every pipeline of `c`: load plugins, validate options and links,
 * create the endpoints (and a throwaway instance of every transform so its
 * options are checked).  All errors go to `d`.  check_only: destroy
 * everything again (for `tunpipe -t`).  Returns the array (count in
 * *npipes) or NULL if any error was found. */
struct tp_pipeline **tp_pipelines_build(struct tp_conf *c, struct tp_loader *ld, struct tp_loop *loop,
					struct tp_diag *d, int check_only, int *npipes);
int tp_pipeline_start(struct tp_pipeline *pl);
/* Stop endpoints (bottom first), close sessions, destroy everything. */
void tp_pipeline_stop(struct tp_pipeline *pl);
void tp_pipeline_free(struct tp_pipeline *pl);
void tp_pipeline_log_counters(struct tp_pipeline *pl);
void tp_pipeline_reload(struct tp_pipeline *pl);

#endif
