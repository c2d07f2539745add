/* SPDX-License-Identifier: MIT */
/*
 * session.h — sessions (one per connection of the bottom endpoint, each
 * with its own transform instances), the router's table and the address
 * pool at work.
 */
#ifndef TP_CORE_SESSION_H
#define TP_CORE_SESSION_H
#include "stage.h"

struct tp_session *tp_session_open(struct tp_pipeline *pl, void *tag);
int tp_session_up(struct tp_pipeline *pl, struct tp_session *s, const struct tp_session_info *info);
void tp_session_close(struct tp_pipeline *pl, struct tp_session *s, const char *reason);
void tp_session_abort(struct tp_pipeline *pl, struct tp_session *s, const char *reason);
int tp_session_lease(struct tp_pipeline *pl, struct tp_session *s, const char *user,
		     struct tp_session_info *info);
/* Close every session now (shutdown). */
void tp_sessions_close_all(struct tp_pipeline *pl);
/* The top endpoint's network: (re)build the address pool from it. */
/* The totals of `user` ("" for none), added when first seen; NULL only
 * when out of memory. */
struct tp_user_total *tp_session_user_total(struct tp_pipeline *pl, const char *user);
int tp_net_announce(struct tp_pipeline *pl, const char *who, const struct tp_net_info *net);

#endif
