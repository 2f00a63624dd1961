/*
 * timefmt.h - the time formats kmswatch reads and writes.  All times are
 * milliseconds since the Unix epoch, UTC.
 */
#ifndef KMSWATCH_TIMEFMT_H
#define KMSWATCH_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for "2026-12-03T10:00:00.123Z" and a NUL. */
#define TIMEFMT_RFC3339_LEN 32

/*
 * Parses an RFC 1123 date ("Mon, 02 Jan 2006 15:04:05 GMT") of len bytes.
 * Returns 0 and sets *ms, or -1 when s is not such a date.
 */
int timefmt_parse_rfc1123(const char *s, size_t len, int64_t *ms);

/*
 * Parses a time given by a user: RFC 3339 ("2026-12-03T10:00:00Z",
 * fractional seconds and a numeric offset allowed; without a zone it is
 * UTC) or unix seconds (digits only).  Returns 0 and sets *ms, or -1.
 */
int timefmt_parse(const char *s, int64_t *ms);

/* Writes ms as RFC 3339 UTC with milliseconds into buf. */
void timefmt_rfc3339(int64_t ms, char buf[TIMEFMT_RFC3339_LEN]);

/* Days since the epoch of a civil date (proleptic Gregorian). */
int64_t timefmt_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
