/* SPDX-License-Identifier: MIT */
/* log.h — one line per event on stderr (or a file), with the stage's name. */
#ifndef TP_CORE_LOG_H
#define TP_CORE_LOG_H
#include <stdarg.h>
#include <tunpipe/plugin.h>

/* Global threshold: lines above it are skipped.  Default TP_LOG_INFO. */
void tp_log_set_level(enum tp_log_level lvl);
enum tp_log_level tp_log_get_level(void);
/* Parse "error|warn|info|debug"; -1 if unknown. */
int tp_log_level_parse(const char *s);
/* Send logs to `path` (NULL: stderr).  Returns 0 or -1 (errno set). */
int tp_log_open(const char *path);
/* SIGHUP: reopen the file given to tp_log_open (log rotation). */
int tp_log_reopen(void);
/* When stderr is a journald stream ($JOURNAL_STREAM matches fd 2's device
 * and inode), lines written to stderr carry the "<N>" syslog priority
 * prefix and no timestamp.  Returns 1 when detected, else 0 (and plain
 * lines).  A file given to tp_log_open always gets plain lines. */
int tp_log_detect_journal(void);
/* What the last tp_log_detect_journal() found: 1 when stderr is the journal
 * (so other writers to stderr — config errors — can add "<3>" too). */
int tp_log_journal(void);
/* log_target = "syslog": every line goes to syslog(3) as `ident`, facility
 * daemon, with its priority (NULL: back to stderr or the file). */
void tp_log_use_syslog(const char *ident);
/* `who` is the stage's display name ("vpn/tls-http") or NULL for the core. */
void tp_log(enum tp_log_level lvl, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tp_vlog(enum tp_log_level lvl, const char *who, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
