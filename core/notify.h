/* SPDX-License-Identifier: MIT */
/* notify.h — tell the service manager (systemd, Type=notify) our state. */
#ifndef TP_CORE_NOTIFY_H
#define TP_CORE_NOTIFY_H

/*
 * Send `state` ("READY=1", "STOPPING=1", "RELOADING=1\nMONOTONIC_USEC=…",
 * newline-separated assignments) as one datagram to $NOTIFY_SOCKET.
 * Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset (nothing to do),
 * -1 with errno set when the address is unusable or sending failed.
 */
int tp_notify(const char *state);

#endif
