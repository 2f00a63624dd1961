/*
 * log.h - one line per event on stderr, with a time, a level and the
 * caller's message:
 *
 *	2026-12-03T10:00:00.123Z level=info api: listening listen=...
 *
 * Callers start the message with their module ("api: ") and follow with
 * key=value fields.  The level names clash with <syslog.h>'s macros, so
 * do not include both in one file.
 */
#ifndef KMSWATCH_LOG_H
#define KMSWATCH_LOG_H

enum log_level {
	LOG_ERROR,		/* work was lost */
	LOG_WARNING,		/* input rejected, or the daemon is degraded */
	LOG_INFO,		/* lifecycle events */
	LOG_DEBUG,		/* trace output, off by default */
};

/*
 * Sets the most verbose level that is written; the default is LOG_INFO.
 * Safe to call from any thread at any time.
 */
void log_set_level(enum log_level level);

/*
 * Parses "error", "warning", "info" or "debug".  Returns 0 and sets
 * *level, or -1 for any other name.
 */
int log_parse_level(const char *name, enum log_level *level);

/*
 * Returns 1 when a message at level would be written.  For callers that
 * must do work (escaping, formatting a peer address) before log_msg.
 */
int log_enabled(enum log_level level);

/*
 * Writes one line when level is enabled; the level is checked before
 * anything is formatted.  The line is written with a single write(2), so
 * lines from different threads never interleave.  Control characters in
 * the message become '?' and a message longer than about 2 KiB is cut
 * and ends in "...".  Never fails visibly: a lost log line is dropped.
 */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
