/* SPDX-License-Identifier: MIT */
/*
 * resolv.c — the resolv.conf of `dns = file` (see resolv.h).
 */
#include <stdlib.h>
#include <string.h>

#include "resolv.h"

/* As the resolver reads it: the keyword at the start, then a blank. */
static int is_keyword(const char *line, const char *kw)
{
	size_t n = strlen(kw);

	return !strncmp(line, kw, n) && (line[n] == ' ' || line[n] == '\t');
}

char *tn_resolv_merge(const char *head, const char *orig, int servers, int search, size_t *len)
{
	size_t off = strlen(head);
	char *out = malloc(off + strlen(orig) + 2);

	if (!out)
		return NULL;
	memcpy(out, head, off);
	for (const char *l = orig; *l;) {
		size_t n = strcspn(l, "\n");

		if (!(servers && is_keyword(l, "nameserver")) &&
		    !(search && (is_keyword(l, "search") || is_keyword(l, "domain")))) {
			memcpy(out + off, l, n);
			off += n;
			out[off++] = '\n';
		}
		l += n + (l[n] == '\n');
	}
	out[off] = '\0';
	*len = off;
	return out;
}

int tn_resolv_ours(const char *text)
{
	return !strncmp(text, TN_RESOLV_HEADER, strlen(TN_RESOLV_HEADER));
}
