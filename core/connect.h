/* SPDX-License-Identifier: MIT */
/*
 * connect.h — `tunpipe connect URL`: the default client pipeline from the
 * command line, without a config file.
 */
#ifndef TP_CORE_CONNECT_H
#define TP_CORE_CONNECT_H
#include <stddef.h>
#include <stdio.h>

/* Split https://USER@HOST[:PORT]/PATH into the user and the url without
 * it.  0, or -1 with a reason in err. */
int tp_connect_parse_url(const char *in, char *user, size_t ulen, char *url, size_t urllen,
			 char *err, size_t errlen);

/* Parse `tunpipe connect …` (argv[0] is "connect"), get the password, and
 * write the configuration into an anonymous in-memory file whose path
 * (/proc/self/fd/N) goes to `path`.  Returns 0, or the exit status for a
 * usage error (already reported).  *verbosity gets -v/-q. */
int tp_connect_prepare(int argc, char **argv, char *path, size_t pathlen, int *verbosity);
void tp_connect_usage(FILE *out);

#endif
