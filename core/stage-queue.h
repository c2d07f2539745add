/* SPDX-License-Identifier: MIT */
/*
 * stage-queue.h — between stage.c (who gets a batch or event) and
 * stage-queue.c (when: now, or queued until the instance is free).
 * The public half (tp_stage_event, enter/leave, flush_all,
 * forget_session) is in stage.h.
 */
#ifndef TP_CORE_STAGE_QUEUE_H
#define TP_CORE_STAGE_QUEUE_H
#include "stage.h"

enum { TP_PD_DOWN, TP_PD_UP, TP_PD_EVENT };

/* Call the instance's down (TP_PD_DOWN) or up (TP_PD_UP) with q, or queue
 * q on it while it is busy or still holds earlier deliveries. */
void tp_stage_hand(struct tp_stage *st, int kind, struct tp_session *s, struct tp_batch *q);
/* Deliver what a free instance holds, in order. */
void tp_stage_flush(struct tp_stage *st);
/* Drop (and count) everything queued on the instance. */
void tp_stage_drop_queue(struct tp_stage *st);
/* Data for a session that is closing (or for no session) has nowhere to
 * go: count it and give the buffers back. */
void tp_stage_drop(struct tp_pipeline *pl, struct tp_batch *q);

#endif
