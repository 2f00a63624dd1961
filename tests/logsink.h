/*
 * logsink.h - what the parser tests share: a record_sink that writes each
 * event as one line of text, so that a table row can say what a parse
 * must produce as a plain string.  Static functions, included by each
 * parser test; the callbacks that format events stay in each test, since
 * each format shows the fields that matter to it.
 */
#ifndef KMSWATCH_TESTS_LOGSINK_H
#define KMSWATCH_TESTS_LOGSINK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"
#include "timefmt.h"

#define LOG_MAX 4096

struct log {
	char text[LOG_MAX];
	size_t len;
	int events;
	int stop_after;		/* the nth event returns -1; 0 never */
};

/* Appends a line; returns -1 (stop the parse) at the stop_after'th. */
static int __attribute__((format(printf, 2, 3)))
log_add(struct log *lg, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(lg->text + lg->len, sizeof(lg->text) - lg->len, fmt,
	    ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(lg->text) - lg->len)
		lg->len += (size_t)n;
	lg->events++;
	return lg->stop_after != 0 && lg->events >= lg->stop_after ? -1 : 0;
}

/* A time as RFC 3339, or "-" when unknown. */
static const char *
time_text(int64_t ms, char buf[TIMEFMT_RFC3339_LEN])
{
	if (ms == RECORD_TIME_UNKNOWN)
		return "-";
	timefmt_rfc3339(ms, buf);
	return buf;
}

#endif
