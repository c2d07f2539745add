/* SPDX-License-Identifier: MIT */
/*
 * fuzz_users.c — libFuzzer target for the users-file parser (auth.c):
 * the input is a whole users file, parsed from memory (fmemopen) as a
 * SIGHUP reload would parse it from disk.  Beyond "no crash", it checks
 * and abort()s when one breaks:
 *   - an error names the file and a line that exists (1..lines+1);
 *   - a file that loads has at most one entry per line, every entry is
 *     found again by name (auth_entry_of), and the decoy is either an
 *     entry's hash or the built-in setting;
 *   - unknown and locked users are never "known" to auth_lookup, and get
 *     the decoy to hash against.
 * No crypt() runs: only the parsing and the lookups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz_users: %s (input of %zu bytes)\n", what, size);
	abort();
}

/* The line count as the parser sees it (getline: '\n' ends a line). */
static unsigned fz_lines(const char *s, size_t n)
{
	unsigned lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += s[i] == '\n';
	return lines + (n && s[n - 1] != '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	FILE *f = fmemopen(copy, size ? size : 1, "r");
	if (!f) {
		free(copy);
		return 0;
	}
	err[0] = '\0';
	struct auth_db *db = auth_parse(f, "fuzz", err, sizeof(err));
	fclose(f);
	unsigned lines = fz_lines(copy, size);
	if (!db) {
		unsigned ln = 0;
		if (strncmp(err, "users file fuzz", 15) != 0 && strcmp(err, "out of memory") != 0)
			fz_fail("an error that does not name the file", size);
		if (sscanf(err, "users file fuzz:%u", &ln) == 1 && (ln < 1 || ln > lines + 1))
			fz_fail("an error naming a line that does not exist", size);
		free(copy);
		return 0;
	}
	if (auth_count(db) > lines)
		fz_fail("more entries than lines", size);
	const char *decoy = auth_decoy(db);
	if (!decoy || (decoy[0] == '!' || decoy[0] == '*'))
		fz_fail("a locked entry as the decoy", size);
	/* Every user name of the input, looked up again. */
	char hash[AUTH_HASH_MAX];
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line + strspn(line, " \t"), *colon = strchr(p, ':');
		if (!*p || *p == '#' || !colon)
			continue;
		*colon = '\0';
		const char *e = auth_entry_of(db, p);
		if (!e)
			fz_fail("an entry of the file is not found by name", size);
		int known = auth_lookup(db, p, hash, sizeof(hash));
		if (known && (e[0] == '!' || e[0] == '*'))
			fz_fail("a locked user is known to auth_lookup", size);
		if (!known && strcmp(hash, decoy) != 0)
			fz_fail("a locked user is not hashed against the decoy", size);
	}
	if (auth_lookup(db, "\x01no such user", hash, sizeof(hash)) != 0 || strcmp(hash, decoy) != 0)
		fz_fail("an unknown user is not hashed against the decoy", size);
	auth_free(db);
	free(copy);
	return 0;
}
