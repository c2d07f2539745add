/* SPDX-License-Identifier: MIT */
/*
 * status.h — what `tunpipe status` and the metrics show, read from the
 * counters the stages and the sessions already keep: nothing here counts.
 *
 * Totals never go down while the daemon runs: a stage's counters are the
 * sums of its ended instances (folded by the core when an instance is
 * freed) plus those of every instance still alive, including sessions
 * that closed in this loop round and are not freed yet (the dead list).
 */
#ifndef TP_CORE_STATUS_H
#define TP_CORE_STATUS_H
#include "srv.h"
#include "stage.h"

/* What the control socket and the metrics serve: the handlers' `arg`. */
struct tp_view {
	struct tp_pipeline *const *pipes;
	int n;
	int per_user;  /* metrics: series labelled by user */
};

/* Counters of stage `index` of `pl` across all of its instances. */
void tp_status_stage_counters(struct tp_pipeline *pl, int index, struct tp_counter *out, int *n);
/* Traffic of the whole pipeline since start. */
void tp_status_traffic(struct tp_pipeline *pl, struct tp_traffic *t);
/* Traffic of `user` since start (ended + live sessions); returns the
 * number of the user's live sessions. */
int tp_status_user(struct tp_pipeline *pl, const char *user, struct tp_traffic *t);
/* The same for users[i] of the table (no search by name). */
int tp_status_user_at(struct tp_pipeline *pl, int i, struct tp_traffic *t);
/* The label for stage `index`: its plugin's name, with "#N" (1-based
 * position) when the pipeline has that plugin more than once. */
void tp_status_stage_label(const struct tp_pipeline *pl, int index, char *buf, size_t len);

/* The status of every pipeline, for people or as one JSON document. */
void tp_status_text(struct tp_pipeline *const *pipes, int n, struct tp_sbuf *o);
void tp_status_json(struct tp_pipeline *const *pipes, int n, struct tp_sbuf *o);
/* A JSON string literal of s (quotes, backslashes and controls escaped;
 * bytes >= 0x80 are passed through, as the user wrote them). */
void tp_json_str(struct tp_sbuf *o, const char *s);

#endif
