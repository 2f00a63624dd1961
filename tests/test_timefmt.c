/*
 * test_timefmt.c - unit tests for parsers/timefmt.c: RFC 1123 and RFC 3339
 * in, milliseconds out, and back.
 *
 * Rows give an input and either the RFC 3339 text its time prints as (so
 * every valid row is also a round trip through timefmt_rfc3339) or NULL
 * when the input must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "timefmt.h"

struct time_row {
	const char *name;
	int rfc1123;		/* 1: timefmt_parse_rfc1123, 0: timefmt_parse */
	const char *in;
	const char *want;	/* RFC 3339 of the result; NULL: refused */
};

static const struct time_row time_rows[] = {
	{ "rfc1123_gmt", 1, "Mon, 02 Jan 2006 15:04:05 GMT",
	    "2006-01-02T15:04:05.000Z" },
	{ "rfc1123_utc", 1, "Thu, 03 Dec 2026 10:00:00 UTC",
	    "2026-12-03T10:00:00.000Z" },
	{ "rfc1123_plus0000", 1, "Thu, 03 Dec 2026 10:00:00 +0000",
	    "2026-12-03T10:00:00.000Z" },
	{ "rfc1123_one_digit_day", 1, "Sat, 1 Jan 2000 00:00:00 GMT",
	    "2000-01-01T00:00:00.000Z" },
	{ "rfc1123_leap_day", 1, "Thu, 29 Feb 2024 23:59:59 GMT",
	    "2024-02-29T23:59:59.000Z" },
	{ "rfc1123_epoch", 1, "Thu, 01 Jan 1970 00:00:00 GMT",
	    "1970-01-01T00:00:00.000Z" },
	{ "rfc1123_before_epoch", 1, "Wed, 31 Dec 1969 23:59:59 GMT",
	    "1969-12-31T23:59:59.000Z" },
	{ "rfc1123_bad_weekday", 1, "Xyz, 02 Jan 2006 15:04:05 GMT", NULL },
	{ "rfc1123_bad_month", 1, "Mon, 02 Jam 2006 15:04:05 GMT", NULL },
	{ "rfc1123_feb_30", 1, "Mon, 30 Feb 2026 15:04:05 GMT", NULL },
	{ "rfc1123_feb_29_common", 1, "Sun, 29 Feb 2026 00:00:00 GMT",
	    NULL },
	{ "rfc1123_hour_24", 1, "Mon, 02 Jan 2006 24:00:00 GMT", NULL },
	{ "rfc1123_minute_60", 1, "Mon, 02 Jan 2006 23:60:00 GMT", NULL },
	{ "rfc1123_local_zone", 1, "Mon, 02 Jan 2006 15:04:05 PST", NULL },
	{ "rfc1123_no_zone", 1, "Mon, 02 Jan 2006 15:04:05", NULL },
	{ "rfc1123_trailing", 1, "Mon, 02 Jan 2006 15:04:05 GMT ", NULL },
	{ "rfc1123_two_digit_year", 1, "Mon, 02 Jan 06 15:04:05 GMT", NULL },
	{ "rfc1123_rfc850", 1, "Monday, 02-Jan-06 15:04:05 GMT", NULL },
	{ "rfc1123_asctime", 1, "Mon Jan  2 15:04:05 2006", NULL },
	{ "rfc1123_empty", 1, "", NULL },
	{ "rfc3339_z", 0, "2026-12-03T10:00:00Z",
	    "2026-12-03T10:00:00.000Z" },
	{ "rfc3339_fraction", 0, "2026-12-03T10:00:00.123Z",
	    "2026-12-03T10:00:00.123Z" },
	{ "rfc3339_short_fraction", 0, "2026-12-03T10:00:00.5Z",
	    "2026-12-03T10:00:00.500Z" },
	{ "rfc3339_long_fraction", 0, "2026-12-03T10:00:00.123999999Z",
	    "2026-12-03T10:00:00.123Z" },
	{ "rfc3339_offset_east", 0, "2026-12-03T18:00:00+08:00",
	    "2026-12-03T10:00:00.000Z" },
	{ "rfc3339_offset_west", 0, "2026-12-02T23:30:00-10:30",
	    "2026-12-03T10:00:00.000Z" },
	{ "rfc3339_space", 0, "2026-12-03 10:00:00",
	    "2026-12-03T10:00:00.000Z" },
	{ "rfc3339_lower_case", 0, "2026-12-03t10:00:00z",
	    "2026-12-03T10:00:00.000Z" },
	{ "rfc3339_no_zone", 0, "2026-12-03T10:00:00.250",
	    "2026-12-03T10:00:00.250Z" },
	{ "rfc3339_date_only", 0, "2026-12-03", "2026-12-03T00:00:00.000Z" },
	{ "rfc3339_leap_2000", 0, "2000-02-29", "2000-02-29T00:00:00.000Z" },
	{ "rfc3339_before_epoch", 0, "1900-03-01T00:00:00Z",
	    "1900-03-01T00:00:00.000Z" },
	{ "rfc3339_leap_second", 0, "2016-12-31T23:59:60Z",
	    "2017-01-01T00:00:00.000Z" },
	{ "unix_seconds", 0, "1796292000", "2026-12-03T10:00:00.000Z" },
	{ "unix_zero", 0, "0", "1970-01-01T00:00:00.000Z" },
	{ "rfc3339_month_13", 0, "2026-13-03T10:00:00Z", NULL },
	{ "rfc3339_month_0", 0, "2026-00-03", NULL },
	{ "rfc3339_day_32", 0, "2026-12-32", NULL },
	{ "rfc3339_feb_29_1900", 0, "1900-02-29", NULL },
	{ "rfc3339_hour_25", 0, "2026-12-03T25:00:00Z", NULL },
	{ "rfc3339_no_seconds", 0, "2026-12-03T10:00Z", NULL },
	{ "rfc3339_empty_fraction", 0, "2026-12-03T10:00:00.Z", NULL },
	{ "rfc3339_bad_offset", 0, "2026-12-03T10:00:00+0800", NULL },
	{ "rfc3339_offset_hour_24", 0, "2026-12-03T10:00:00+24:00", NULL },
	{ "rfc3339_trailing", 0, "2026-12-03T10:00:00Zjunk", NULL },
	{ "rfc3339_short_year", 0, "26-12-03", NULL },
	{ "rfc3339_bad_separator", 0, "2026-12-03X10:00:00Z", NULL },
	{ "unix_with_letter", 0, "12a", NULL },
	{ "unix_negative", 0, "-5", NULL },
	{ "unix_overflow", 0, "99999999999999999999", NULL },
	{ "empty", 0, "", NULL },
};

#define TIME_ROWS (sizeof(time_rows) / sizeof(time_rows[0]))

static void
row_run(void **state)
{
	const struct time_row *row = *state;
	char out[TIMEFMT_RFC3339_LEN];
	int64_t ms = 42, back = 0;
	int rc;

	if (row->rfc1123)
		rc = timefmt_parse_rfc1123(row->in, strlen(row->in), &ms);
	else
		rc = timefmt_parse(row->in, &ms);
	if (row->want == NULL) {
		assert_int_equal(rc, -1);
		assert_int_equal(ms, 42);
		return;
	}
	assert_int_equal(rc, 0);
	timefmt_rfc3339(ms, out);
	assert_string_equal(out, row->want);

	/* What we print, we read back. */
	assert_int_equal(timefmt_parse(out, &back), 0);
	assert_int_equal(back, ms);
}

/* The length bounds the RFC 1123 parser, not a NUL. */
static void
rfc1123_length(void **state)
{
	static const char s[] = "Mon, 02 Jan 2006 15:04:05 GMTxyz";
	int64_t ms = 0;

	(void)state;
	assert_int_equal(timefmt_parse_rfc1123(s, 29, &ms), 0);
	assert_int_equal(ms, 1136214245000LL);
	assert_int_equal(timefmt_parse_rfc1123(s, 28, &ms), -1);
	assert_int_equal(timefmt_parse_rfc1123(s, sizeof(s) - 1, &ms), -1);
	assert_int_equal(timefmt_parse_rfc1123(NULL, 0, &ms), -1);
	assert_int_equal(timefmt_parse(NULL, &ms), -1);
}

static void
days_from_civil(void **state)
{
	(void)state;
	assert_int_equal(timefmt_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(timefmt_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(timefmt_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(timefmt_days_from_civil(2026, 12, 3), 20790);
	assert_int_equal(timefmt_days_from_civil(0, 1, 1), -719528);
}

/* Formatting near the edges, including times before 1970 with ms. */
static void
rfc3339_edges(void **state)
{
	char out[TIMEFMT_RFC3339_LEN];

	(void)state;
	timefmt_rfc3339(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	timefmt_rfc3339(1796292000123LL, out);
	assert_string_equal(out, "2026-12-03T10:00:00.123Z");
	timefmt_rfc3339(INT64_MAX, out);
	assert_true(strlen(out) < TIMEFMT_RFC3339_LEN);
	timefmt_rfc3339(INT64_MIN, out);
	assert_true(strlen(out) < TIMEFMT_RFC3339_LEN);
}

int
main(void)
{
	struct CMUnitTest tests[TIME_ROWS + 3];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < TIME_ROWS; i++, n++) {
		tests[n].name = time_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&time_rows[i];
	}
	tests[n].name = "rfc1123_length";
	tests[n++].test_func = rfc1123_length;
	tests[n].name = "days_from_civil";
	tests[n++].test_func = days_from_civil;
	tests[n].name = "rfc3339_edges";
	tests[n++].test_func = rfc3339_edges;
	return _cmocka_run_group_tests("timefmt", tests, n, NULL, NULL);
}
