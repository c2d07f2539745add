/* SPDX-License-Identifier: MIT */
/*
 * metrics.h — Prometheus metrics over HTTP (`GET /metrics`, text
 * exposition format 0.0.4), served on the loop from the same counters
 * `tunpipe status` shows.
 */
#ifndef TP_CORE_METRICS_H
#define TP_CORE_METRICS_H
#include "srv.h"
#include "stage.h"

/* Every metric of `pipes`; per_user adds the series labelled by user. */
void tp_metrics_format(struct tp_pipeline *const *pipes, int n, int per_user, struct tp_sbuf *o);

/* The answer to an HTTP request (srv.h's handler contract; arg is a
 * struct tp_view): 200 with the metrics for GET (and HEAD) /metrics,
 * 404, 405, 400 or 431 otherwise. */
struct tp_metrics;
int tp_metrics_http(void *arg, const char *req, size_t len, int full, struct tp_sbuf *out);

/* Listen on `addr` ("IP:PORT", "[IPv6]:PORT") and serve the metrics of
 * the pipelines (the array must outlive the server).  NULL with the
 * reason logged. */
struct tp_metrics *tp_metrics_open(struct tp_loop *loop, const char *addr, int per_user,
				   struct tp_pipeline *const *pipes, int n);
void tp_metrics_close(struct tp_metrics *m);

#endif
