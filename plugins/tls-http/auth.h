/*
 * auth.h — htpasswd-style user database verified with libcrypt.
 *
 * The file holds `user:hash` lines; `#` comments and blank lines are
 * ignored.  Hashes are whatever libcrypt's crypt_r() understands and
 * crypt_checksalt() calls current: $6$ (openssl passwd -6), $y$
 * (yescrypt), $2b$/$2y$ (htpasswd -B), $5$, ...  Legacy DES and the
 * Apache-only $apr1$ format are refused when the file is loaded, with the
 * line number, instead of failing every login later.
 */
#ifndef TLS_HTTP_AUTH_H
#define TLS_HTTP_AUTH_H
#include <stddef.h>

struct auth_db;

/* Parse the file.  NULL on error with a message naming file:line in err
 * (never echoing a hash). */
struct auth_db *auth_load(const char *path, char *err, size_t errlen);
void auth_free(struct auth_db *db);
size_t auth_count(const struct auth_db *db);

/* 1 if user/pass match, 0 otherwise.  An unknown user still costs one
 * crypt() so the answer's timing does not reveal which users exist. */
int auth_check(const struct auth_db *db, const char *user, const char *pass);

#endif
