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
#include <string.h>
#include <sys/types.h>

#include "record.h"
#include "timefmt.h"

#define LOG_MAX 4096

/* Not every test uses every helper here. */
#define LOGSINK_FN static __attribute__((unused))

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
LOGSINK_FN const char *
time_text(int64_t ms, char buf[TIMEFMT_RFC3339_LEN])
{
	if (ms == RECORD_TIME_UNKNOWN)
		return "-";
	timefmt_rfc3339(ms, buf);
	return buf;
}

/* "rec STATUS/BODY_STATUS CODE|MESSAGE|ID api=API t=TIME @OFFSET" */
LOGSINK_FN int
logsink_record(void *ctx, const struct record *r)
{
	char t[TIMEFMT_RFC3339_LEN];

	return log_add(ctx, "rec %d/%d %s|%s|%s api=%s t=%s @%llu\n",
	    r->status, r->body_status, r->code, r->message, r->request_id,
	    r->api != NULL ? r->api : "-", time_text(r->time_ms, t),
	    (unsigned long long)r->offset);
}

/* "rej REASON @OFFSET"; every reject must carry a detail. */
LOGSINK_FN int
logsink_reject(void *ctx, const struct reject *rej)
{
	assert_non_null(rej->detail);
	return log_add(ctx, "rej %s @%llu\n", record_reason_name(rej->reason),
	    (unsigned long long)rej->offset);
}

/* "resp STATUS api=API t=TIME @OFFSET" */
LOGSINK_FN int
logsink_response(void *ctx, int64_t time_ms, const char *api, int status,
    uint64_t offset)
{
	char t[TIMEFMT_RFC3339_LEN];

	return log_add(ctx, "resp %d api=%s t=%s @%llu\n", status,
	    api != NULL ? api : "-", time_text(time_ms, t),
	    (unsigned long long)offset);
}

/* "resp STATUS", for formats whose 2xx carry nothing else to check. */
LOGSINK_FN int
logsink_status(void *ctx, int64_t time_ms, const char *api, int status,
    uint64_t offset)
{
	(void)time_ms;
	(void)api;
	(void)offset;
	return log_add(ctx, "resp %d\n", status);
}

/* One row of a parser's table: an input and what parsing it must log. */
#define ALL		(-2)	/* consumed: the whole input */

struct parse_row {
	const char *name;
	const char *in;
	size_t len;
	int final;
	uint64_t base;
	int stop_after;
	long consumed;		/* ALL, or a count; -1 for a stop */
	const char *want;
};

typedef ssize_t (*logsink_parse_fn)(const char *in, size_t len,
    uint64_t base, int final, struct log *lg);

/* Parses row's input with parse and checks the log and bytes consumed. */
LOGSINK_FN void
logsink_check_row(const struct parse_row *row, logsink_parse_fn parse)
{
	struct log lg;
	ssize_t rc;

	memset(&lg, 0, sizeof(lg));
	lg.stop_after = row->stop_after;
	rc = parse(row->in, row->len, row->base, row->final, &lg);
	assert_string_equal(lg.text, row->want);
	if (row->consumed == ALL)
		assert_int_equal(rc, (ssize_t)row->len);
	else
		assert_int_equal(rc, row->consumed);
}

#endif
