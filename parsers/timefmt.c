/*
 * timefmt.c - reading and writing times as milliseconds since the epoch.
 *
 * This module owns the calendar arithmetic (proleptic Gregorian, UTC, no
 * leap-second table) and three text forms: the RFC 1123 date of HTTP's
 * Date header (RFC 7231 section 7.1.1.1, IMF-fixdate), the RFC 3339
 * timestamps users type and the API prints, and unix seconds.  It does not
 * read the clock and never consults TZ or the C library's time functions.
 *
 * Deliberate deviations:
 * - RFC 1123 dates also accept the zones "UTC" and "+0000" and a one-digit
 *   day; the weekday must be a valid name but is not checked against the
 *   date, since the date itself is what we keep.
 * - RFC 3339 input may separate date and time with a space, may omit the
 *   zone (meaning UTC) and may be a date alone (midnight UTC).  Fractions
 *   beyond milliseconds are truncated.
 * - A second of 60 is accepted and counted as the first second of the
 *   next minute.
 */
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

#define MS_PER_DAY	86400000LL

/* The four-digit years both formats allow. */
#define YEAR_MIN	0
#define YEAR_MAX	9999

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static const char *const day_names[7] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
};

/* A broken-down UTC time, before conversion. */
struct civil {
	int64_t year;
	unsigned month, day, hour, min, sec, ms;
	int offset_min;		/* east of UTC */
};

/*
 * Days since the epoch of a civil date.  Shifts the year to start in March
 * so the leap day is the last day of the year, then counts whole 400-year
 * eras, years and days.  Valid for |y| well below 2^40.
 */
int64_t
timefmt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of timefmt_days_from_civil(). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(int64_t y, unsigned m)
{
	static const unsigned days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	if (m == 2 && is_leap(y))
		return 29;
	return days[m - 1];
}

/* 0 when every field of c is in range. */
static int
civil_check(const struct civil *c)
{
	if (c->year < YEAR_MIN || c->year > YEAR_MAX)
		return -1;
	if (c->month < 1 || c->month > 12)
		return -1;
	if (c->day < 1 || c->day > month_days(c->year, c->month))
		return -1;
	if (c->hour > 23 || c->min > 59 || c->sec > 60 || c->ms > 999)
		return -1;
	return 0;
}

static int64_t
civil_to_ms(const struct civil *c)
{
	int64_t days, secs;

	days = timefmt_days_from_civil(c->year, c->month, c->day);
	secs = days * 86400 + c->hour * 3600 + c->min * 60 + c->sec;
	secs -= (int64_t)c->offset_min * 60;
	return secs * 1000 + c->ms;
}

/*
 * Reads exactly n decimal digits at s[*pos] (within len) into *out and
 * advances *pos.  Returns -1 when fewer digits are there.
 */
static int
digits_read(const char *s, size_t len, size_t *pos, size_t n,
    unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (len - *pos < n)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[*pos + i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (unsigned)(c - '0');
	}
	*pos += n;
	*out = v;
	return 0;
}

/* Matches the literal lit at s[*pos] and advances past it. */
static int
literal_read(const char *s, size_t len, size_t *pos, const char *lit)
{
	size_t n = strlen(lit);

	if (len - *pos < n || memcmp(s + *pos, lit, n) != 0)
		return -1;
	*pos += n;
	return 0;
}

/* Index of the three-letter name at s[*pos] in names, or -1. */
static int
name_read(const char *s, size_t len, size_t *pos,
    const char *const *names, int n)
{
	int i;

	if (len - *pos < 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (memcmp(s + *pos, names[i], 3) == 0) {
			*pos += 3;
			return i;
		}
	}
	return -1;
}

/* "HH:MM:SS" */
static int
clock_read(const char *s, size_t len, size_t *pos, struct civil *c)
{
	if (digits_read(s, len, pos, 2, &c->hour) != 0 ||
	    literal_read(s, len, pos, ":") != 0 ||
	    digits_read(s, len, pos, 2, &c->min) != 0 ||
	    literal_read(s, len, pos, ":") != 0 ||
	    digits_read(s, len, pos, 2, &c->sec) != 0)
		return -1;
	return 0;
}

/* "DD Mon YYYY" of RFC 1123, the day possibly one digit. */
static int
rfc1123_date_read(const char *s, size_t len, size_t *pos, struct civil *c)
{
	unsigned year;
	int month;

	if (digits_read(s, len, pos, 2, &c->day) != 0 &&
	    digits_read(s, len, pos, 1, &c->day) != 0)
		return -1;
	if (literal_read(s, len, pos, " ") != 0)
		return -1;
	if ((month = name_read(s, len, pos, month_names, 12)) < 0)
		return -1;
	if (literal_read(s, len, pos, " ") != 0 ||
	    digits_read(s, len, pos, 4, &year) != 0)
		return -1;
	c->month = (unsigned)month + 1;
	c->year = year;
	return 0;
}

/*
 * Parses an RFC 1123 date ("Mon, 02 Jan 2006 15:04:05 GMT") of len bytes;
 * s need not be NUL-terminated.  The zone may be "GMT", "UTC" or "+0000".
 * Returns 0 and sets *ms, or -1 (leaving *ms alone) when s is not such a
 * date or names a day that does not exist.
 */
int
timefmt_parse_rfc1123(const char *s, size_t len, int64_t *ms)
{
	struct civil c = { 0 };
	size_t pos = 0;

	if (s == NULL || name_read(s, len, &pos, day_names, 7) < 0)
		return -1;
	if (literal_read(s, len, &pos, ", ") != 0 ||
	    rfc1123_date_read(s, len, &pos, &c) != 0 ||
	    literal_read(s, len, &pos, " ") != 0 ||
	    clock_read(s, len, &pos, &c) != 0 ||
	    literal_read(s, len, &pos, " ") != 0)
		return -1;

	if (literal_read(s, len, &pos, "GMT") != 0 &&
	    literal_read(s, len, &pos, "UTC") != 0 &&
	    literal_read(s, len, &pos, "+0000") != 0)
		return -1;
	if (pos != len || civil_check(&c) != 0)
		return -1;
	*ms = civil_to_ms(&c);
	return 0;
}

/* Unix seconds given as digits only; 0 and *ms set, or -1. */
static int
unix_read(const char *s, int64_t *ms)
{
	int64_t secs = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (secs > (INT64_MAX / 1000 - 9) / 10)
			return -1;
		secs = secs * 10 + (*s - '0');
	}
	*ms = secs * 1000;
	return 0;
}

/* ".fff..." after the seconds; keeps milliseconds, checks the rest. */
static int
fraction_read(const char *s, size_t len, size_t *pos, struct civil *c)
{
	size_t n = 0;

	if (literal_read(s, len, pos, ".") != 0)
		return 0;
	for (; *pos < len && s[*pos] >= '0' && s[*pos] <= '9'; (*pos)++) {
		if (n < 3)
			c->ms = c->ms * 10 + (unsigned)(s[*pos] - '0');
		n++;
	}
	if (n == 0)
		return -1;
	for (; n < 3; n++)
		c->ms *= 10;
	return 0;
}

/* "Z", "+hh:mm", "-hh:mm" or nothing at all (UTC). */
static int
zone_read(const char *s, size_t len, size_t *pos, struct civil *c)
{
	unsigned hh, mm;
	int sign;

	if (*pos == len)
		return 0;
	if (s[*pos] == 'Z' || s[*pos] == 'z') {
		(*pos)++;
		return 0;
	}
	if (s[*pos] != '+' && s[*pos] != '-')
		return -1;
	sign = s[*pos] == '-' ? -1 : 1;
	(*pos)++;
	if (digits_read(s, len, pos, 2, &hh) != 0 ||
	    literal_read(s, len, pos, ":") != 0 ||
	    digits_read(s, len, pos, 2, &mm) != 0)
		return -1;
	if (hh > 23 || mm > 59)
		return -1;
	c->offset_min = sign * (int)(hh * 60 + mm);
	return 0;
}

/* "YYYY-MM-DD", then optionally a time of day and a zone. */
static int
rfc3339_read(const char *s, size_t len, struct civil *c)
{
	size_t pos = 0;
	unsigned year;

	if (digits_read(s, len, &pos, 4, &year) != 0 ||
	    literal_read(s, len, &pos, "-") != 0 ||
	    digits_read(s, len, &pos, 2, &c->month) != 0 ||
	    literal_read(s, len, &pos, "-") != 0 ||
	    digits_read(s, len, &pos, 2, &c->day) != 0)
		return -1;
	c->year = year;
	if (pos == len)
		return 0;

	if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')
		return -1;
	pos++;
	if (clock_read(s, len, &pos, c) != 0 ||
	    fraction_read(s, len, &pos, c) != 0 ||
	    zone_read(s, len, &pos, c) != 0)
		return -1;
	return pos == len ? 0 : -1;
}

/*
 * Parses a time given by a user: RFC 3339 with 'T' or a space between
 * date and time, an optional fraction (milliseconds kept), and "Z", an
 * offset or no zone (UTC); a date alone (midnight UTC); or unix seconds as
 * digits only.  Returns 0 and sets *ms, or -1 (leaving *ms alone).
 */
int
timefmt_parse(const char *s, int64_t *ms)
{
	struct civil c = { 0 };
	size_t len;

	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len > 0 && strspn(s, "0123456789") == len)
		return unix_read(s, ms);

	if (rfc3339_read(s, len, &c) != 0 || civil_check(&c) != 0)
		return -1;
	*ms = civil_to_ms(&c);
	return 0;
}

/*
 * Writes ms as RFC 3339 UTC with milliseconds ("2026-12-03T10:00:00.123Z")
 * into buf, NUL-terminated.  Times before year 0 or after 9999 come out
 * with a sign or more digits, still within TIMEFMT_RFC3339_LEN.
 */
void
timefmt_rfc3339(int64_t ms, char buf[TIMEFMT_RFC3339_LEN])
{
	int64_t days, rem, year;
	unsigned month, day, sod;

	/* Floor division, so times before 1970 land on the right day. */
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	sod = (unsigned)(rem / 1000);

	snprintf(buf, TIMEFMT_RFC3339_LEN,
	    "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)year, month,
	    day, sod / 3600, sod / 60 % 60, sod % 60, (unsigned)(rem % 1000));
}
