/* SPDX-License-Identifier: MIT */
/*
 * resolv.h — the pure part of `dns = file`: the resolv.conf written while
 * a session is up, from the original and the pushed lines.  Apart from
 * dns.c so it can be unit-tested without touching /etc.
 */
#ifndef TUN_RESOLV_H
#define TUN_RESOLV_H
#include <stddef.h>

/* The first line of every file we write. */
#define TN_RESOLV_HEADER "# written by tunpipe"

/* `head` (our header and the pushed lines), then the lines of `orig` that
 * nothing pushed replaces: its nameserver lines go when servers were
 * pushed, its search and domain lines when search domains were; the rest
 * (options, sortlist, comments) stays.  Every line ends with a newline.
 * Allocated (free it), its length in *len; NULL without memory. */
char *tn_resolv_merge(const char *head, const char *orig, int servers, int search, size_t *len);

/* Whether `text` is a file we wrote (another client's, or a crashed one's). */
int tn_resolv_ours(const char *text);

#endif
