/*
 * log.c - the daemon's logger.  It owns the level threshold and the shape
 * of a log line: an RFC 3339 UTC time with milliseconds, "level=<name>",
 * then the caller's message, on one line of stderr.  It does not decide
 * what is worth logging, escape fields for callers (beyond turning
 * control characters into '?', so that no message can forge a line) or
 * rate-limit; callers do that.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Longest line written, newline included; longer messages are cut. */
#define LOG_LINE_MAX 2048

static atomic_int log_threshold = LOG_INFO;

static const char *const log_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARNING] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* Takes effect for lines started after it returns. */
void
log_set_level(enum log_level level)
{
	atomic_store_explicit(&log_threshold, (int)level,
	    memory_order_relaxed);
}

/* Returns 0 and sets *level, or -1 for an unknown name. */
int
log_parse_level(const char *name, enum log_level *level)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

/* Returns 1 when level is at or above the threshold. */
int
log_enabled(enum log_level level)
{
	return ((int)level <= atomic_load_explicit(&log_threshold,
	    memory_order_relaxed));
}

/* Writes the time and level prefix into buf; returns its length. */
static size_t
log_prefix(char *buf, size_t size, enum log_level level)
{
	struct timespec	ts;
	struct tm	tm;
	size_t		len;
	int		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf + len, size - len, ".%03ldZ level=%s ",
	    ts.tv_nsec / 1000000L, log_names[level]);
	if (n < 0 || (size_t)n >= size - len)
		return (len);
	return (len + (size_t)n);
}

/* Replaces control characters in s[0..len) so a message stays one line. */
static void
log_flatten(char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	}
}

/* Writes one line, or nothing when level is off; never fails. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	char	line[LOG_LINE_MAX];
	va_list	ap;
	size_t	len, room;
	int	n;

	if (!log_enabled(level))
		return;

	len = log_prefix(line, sizeof line, level);

	/* Keep room for "...\n" so a cut message still ends the line. */
	room = sizeof line - len - 4;
	va_start(ap, fmt);
	n = vsnprintf(line + len, room + 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > room) {
		log_flatten(line + len, room);
		len += room;
		memcpy(line + len, "...", 3);
		len += 3;
	} else {
		log_flatten(line + len, (size_t)n);
		len += (size_t)n;
	}
	line[len++] = '\n';

	/* One write per line: lines of concurrent threads do not mix. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}
