/*
 * sdklog.c - Dedicated KMS errors in application logs: the exceptions the
 * official SDKs raise for an api.Error, as applications log them.
 *
 * Reads the three forms the SDKs print (see the protocol notes in
 * shared/reference/protocol.md, "How failed calls show up"):
 * - Go, tea.SDKError.Error(): a line ending in "SDKError:", then
 *   indented "StatusCode:", "Code:", "Message:" and "Data:" lines, Data
 *   being JSON with httpCode and requestId.  The block ends at Data.
 * - Python, TeaException.__str__, on one line: "Error: <code> <message>
 *   Response: {'httpCode': 409, 'requestId': '...', 'hostId': None}".
 * - Java samples: "code: ...", "message: ..." and "requestId: ..." on
 *   consecutive lines.  The stack trace that may follow carries nothing
 *   new and is skipped like any other line.
 * Any line may start with the logger's timestamp and level; the record's
 * time is the timestamp on its first line.  Timestamps read:
 * - ISO 8601 / RFC 3339: "2026-12-03T10:00:00.123Z", with a space for the
 *   'T', ',' or '.' before the fraction, an offset "+08:00" or "+0800",
 *   and '/' between the date's parts (Go's log package);
 * - syslog (RFC 3164): "Dec  3 10:00:00", then the host and tag.
 * Everything else is skipped: it is a log, not our file.
 *
 * This module owns the line loop, the block state, and the timestamp
 * forms above (timefmt.c does the calendar).  It keeps no state between
 * calls: an open block is left unconsumed.
 *
 * Deliberate choices where the forms say nothing:
 * - A timestamp without a zone is UTC; the parser has no clock and no
 *   TZ.
 * - A syslog timestamp has no year: it takes the year of the latest
 *   ISO timestamp earlier in the input given to the same call, and is
 *   unknown when there is none.  No rollover at New Year is guessed.
 * - The status is httpCode when the data holds one, else the Go block's
 *   StatusCode (which the SDK leaves 0); Java samples print neither, so
 *   their status is 0.
 * - A Go block needs its Code and Data lines, a Java block its
 *   requestId line: when another line comes first, the block is rejected
 *   as short_block and that line is read afresh.  A "code:" line not
 *   followed by "message:" is not a block at all.
 * - Code, message and request id must be UTF-8 without NULs, like the
 *   protobuf strings they stand for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdklog.h"
#include "text.h"
#include "timefmt.h"

#define SDKLOG_SNIFF_MAX	1024	/* what sdklog_detect() looks at */
#define SDKLOG_STAMP_MAX	48	/* a timestamp, rewritten */
#define SDKLOG_FRACTION_MAX	9	/* fraction digits kept (ns) */

enum step {
	STEP_OK,
	STEP_STOP,		/* the sink asked to stop */
};

enum block_kind {
	BLOCK_NONE,
	BLOCK_GO,		/* after "SDKError:" */
	BLOCK_JAVA_CODE,	/* after "code:"; a block if "message:" next */
	BLOCK_JAVA,		/* after "code:" and "message:" */
};

/* A stretch of the input. */
struct span {
	size_t off, len;
};

struct line {
	size_t start, end;	/* end before the line ending */
	size_t content;		/* after the timestamp, tag and level */
	int64_t time_ms;	/* the line's timestamp, or unknown */
};

/* An SDK error being read: what its lines said so far. */
struct block {
	enum block_kind kind;
	size_t start;		/* its first line */
	int64_t time_ms;
	struct span code, message, request_id;
	int have_code;
	int status;		/* Go's StatusCode line */
	int http_code;		/* httpCode from the data, or 0 */
};

struct sdklog_parser {
	const uint8_t *buf;
	size_t len;
	uint64_t base;
	const struct record_sink *sink;
	int ref_year;		/* of the latest ISO timestamp, or -1 */
	struct block blk;
	char *text;		/* the record's strings, NUL-terminated */
	size_t text_cap;
};

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static const char *const level_names[] = {
	"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR",
	"ERR", "FATAL", "CRITICAL", "CRIT", "SEVERE", "PANIC",
};

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t
blank_skip(const uint8_t *buf, size_t at, size_t end)
{
	while (at < end && (buf[at] == ' ' || buf[at] == '\t'))
		at++;
	return at;
}

/* A span of buf[at..end) without surrounding blanks. */
static struct span
span_trim(const uint8_t *buf, size_t at, size_t end)
{
	struct span s;

	at = blank_skip(buf, at, end);
	while (end > at && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	s.off = at;
	s.len = end - at;
	return s;
}

/*
 * Copies exactly n digits at buf[*at] into out and steps over them;
 * -1, with out untouched, when they are not there.
 */
static int
digits_copy(const uint8_t *buf, size_t end, size_t *at, size_t n,
    char *out)
{
	size_t i;

	if (end - *at < n)
		return -1;
	for (i = 0; i < n; i++)
		if (!is_digit(buf[*at + i]))
			return -1;
	memcpy(out, buf + *at, n);
	*at += n;
	return 0;
}

/* Whether one of the bytes in set is at buf[*at]; steps over it. */
static int
byte_take(const uint8_t *buf, size_t end, size_t *at, const char *set)
{
	if (*at >= end || buf[*at] == '\0' || strchr(set, buf[*at]) == NULL)
		return 0;
	(*at)++;
	return 1;
}

/* ".123" or ",123" after the seconds, copied as ".123" (ns at most). */
static size_t
fraction_copy(const uint8_t *buf, size_t end, size_t *at, char *out)
{
	size_t o = 0, i = *at;

	if (!byte_take(buf, end, &i, ".,") || i >= end || !is_digit(buf[i]))
		return 0;
	out[o++] = '.';
	for (; i < end && is_digit(buf[i]); i++)
		if (o <= SDKLOG_FRACTION_MAX)
			out[o++] = (char)buf[i];
	*at = i;
	return o;
}

/* "Z", "+08:00" or "+0800" copied as RFC 3339 wants; nothing is UTC. */
static int
zone_copy(const uint8_t *buf, size_t end, size_t *at, char *out,
    size_t *o)
{
	if (byte_take(buf, end, at, "Zz")) {
		out[(*o)++] = 'Z';
		return 0;
	}
	if (*at >= end || (buf[*at] != '+' && buf[*at] != '-'))
		return 0;
	out[(*o)++] = (char)buf[(*at)++];
	if (digits_copy(buf, end, at, 2, out + *o) != 0)
		return -1;
	*o += 2;
	out[(*o)++] = ':';
	byte_take(buf, end, at, ":");
	if (digits_copy(buf, end, at, 2, out + *o) != 0)
		return -1;
	*o += 2;
	return 0;
}

/* A timestamp must end at a blank, a ']' or the line's end. */
static int
stamp_ends(const uint8_t *buf, size_t at, size_t end)
{
	return at == end || buf[at] == ' ' || buf[at] == '\t' ||
	    buf[at] == ']';
}

/*
 * An ISO timestamp at buf[*at] (see the top), rewritten as RFC 3339 for
 * timefmt_parse().  On success moves *at past it, sets *ms and *year.
 */
static int
iso_read(const uint8_t *buf, size_t end, size_t *at, int64_t *ms,
    int *year)
{
	char s[SDKLOG_STAMP_MAX];
	size_t i = *at, o = 19;

	/* "YYYY-MM-DDTHH:MM:SS" takes 19 of s; fraction and zone the rest. */
	if (digits_copy(buf, end, &i, 4, s) != 0 ||
	    !byte_take(buf, end, &i, "-/") ||
	    digits_copy(buf, end, &i, 2, s + 5) != 0 ||
	    !byte_take(buf, end, &i, "-/") ||
	    digits_copy(buf, end, &i, 2, s + 8) != 0 ||
	    !byte_take(buf, end, &i, "Tt ") ||
	    digits_copy(buf, end, &i, 2, s + 11) != 0 ||
	    !byte_take(buf, end, &i, ":") ||
	    digits_copy(buf, end, &i, 2, s + 14) != 0 ||
	    !byte_take(buf, end, &i, ":") ||
	    digits_copy(buf, end, &i, 2, s + 17) != 0)
		return -1;
	s[4] = s[7] = '-';
	s[10] = 'T';
	s[13] = s[16] = ':';
	o += fraction_copy(buf, end, &i, s + o);
	if (zone_copy(buf, end, &i, s, &o) != 0 || !stamp_ends(buf, i, end))
		return -1;
	s[o] = '\0';
	if (timefmt_parse(s, ms) != 0)
		return -1;
	*year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0');
	*at = i;
	return 0;
}

/* The month named at buf[at], 1-12, or 0. */
static unsigned
month_read(const uint8_t *buf, size_t at, size_t end)
{
	unsigned m;

	if (end - at < 3)
		return 0;
	for (m = 0; m < 12; m++)
		if (memcmp(buf + at, month_names[m], 3) == 0)
			return m + 1;
	return 0;
}

/*
 * A syslog timestamp "Mmm dd HH:MM:SS" (day padded with a space or a
 * zero, or not at all) at buf[*at], in the given year.  On success moves
 * *at past it and sets *ms, which is unknown when year is -1 or the day
 * does not exist in that year.
 */
static int
syslog_read(const uint8_t *buf, size_t end, size_t *at, int year,
    int64_t *ms)
{
	char s[SDKLOG_STAMP_MAX], day[2] = { '0', '0' }, hms[6];
	size_t i = *at + 4;
	unsigned month;

	if ((month = month_read(buf, *at, end)) == 0 || i > end ||
	    buf[*at + 3] != ' ')
		return -1;
	if (i < end && buf[i] == ' ')
		i++;
	if (digits_copy(buf, end, &i, 2, day) != 0 &&
	    digits_copy(buf, end, &i, 1, day + 1) != 0)
		return -1;
	if (!byte_take(buf, end, &i, " ") ||
	    digits_copy(buf, end, &i, 2, hms) != 0 ||
	    !byte_take(buf, end, &i, ":") ||
	    digits_copy(buf, end, &i, 2, hms + 2) != 0 ||
	    !byte_take(buf, end, &i, ":") ||
	    digits_copy(buf, end, &i, 2, hms + 4) != 0 ||
	    !stamp_ends(buf, i, end))
		return -1;

	*at = i;
	*ms = RECORD_TIME_UNKNOWN;
	if (year < 0)
		return 0;
	snprintf(s, sizeof(s), "%04d-%02u-%c%cT%c%c:%c%c:%c%cZ", year, month,
	    day[0], day[1], hms[0], hms[1], hms[2], hms[3], hms[4], hms[5]);
	if (timefmt_parse(s, ms) != 0)
		*ms = RECORD_TIME_UNKNOWN;
	return 0;
}

/* A blank-delimited word at at: its end. */
static size_t
word_end(const uint8_t *buf, size_t at, size_t end)
{
	while (at < end && buf[at] != ' ' && buf[at] != '\t')
		at++;
	return at;
}

/* After a syslog timestamp: "host tag:" or "tag:", when present. */
static size_t
syslog_tag_skip(const uint8_t *buf, size_t at, size_t end)
{
	size_t w1, w2;

	at = blank_skip(buf, at, end);
	w1 = word_end(buf, at, end);
	if (w1 > at && buf[w1 - 1] == ':')
		return w1;
	w2 = word_end(buf, blank_skip(buf, w1, end), end);
	if (w2 > w1 && buf[w2 - 1] == ':')
		return w2;
	return at;
}

/* A level word ("ERROR", "[warn]", "INFO:"), when one is at at. */
static size_t
level_skip(const uint8_t *buf, size_t at, size_t end)
{
	size_t i = at, w, n, k;
	int bracket = byte_take(buf, end, &i, "[");

	for (w = i; w < end && is_alpha(buf[w]); w++)
		continue;
	n = w - i;
	for (k = 0; k < sizeof(level_names) / sizeof(level_names[0]); k++) {
		if (strlen(level_names[k]) != n ||
		    strncasecmp((const char *)buf + i, level_names[k], n) != 0)
			continue;
		if (bracket && !byte_take(buf, end, &w, "]"))
			return at;
		byte_take(buf, end, &w, ":");
		return w == end || buf[w] == ' ' || buf[w] == '\t' ? w : at;
	}
	return at;
}

/*
 * Reads the line's prefix: an optional timestamp (maybe in brackets),
 * a syslog host and tag after a syslog timestamp, and a level.  ISO
 * timestamps also set the year syslog timestamps borrow.
 */
static void
line_prefix(struct sdklog_parser *sp, struct line *ln)
{
	const uint8_t *buf = sp->buf;
	size_t at = ln->start;
	int bracket, year;

	ln->time_ms = RECORD_TIME_UNKNOWN;
	bracket = byte_take(buf, ln->end, &at, "[");
	if (iso_read(buf, ln->end, &at, &ln->time_ms, &year) == 0) {
		sp->ref_year = year;
		if (bracket)
			byte_take(buf, ln->end, &at, "]");
	} else if (syslog_read(buf, ln->end, &at, sp->ref_year,
	    &ln->time_ms) == 0) {
		if (bracket)
			byte_take(buf, ln->end, &at, "]");
		at = syslog_tag_skip(buf, at, ln->end);
	} else
		at = ln->start;
	at = blank_skip(buf, at, ln->end);
	ln->content = blank_skip(buf, level_skip(buf, at, ln->end), ln->end);
}

/* Whether the line's content starts with lit; *value is what follows. */
static int
content_key(const struct sdklog_parser *sp, const struct line *ln,
    const char *lit, struct span *value)
{
	size_t n = strlen(lit), at = ln->content;

	if (ln->end - at < n || memcmp(sp->buf + at, lit, n) != 0)
		return 0;
	at += n;
	if (at < ln->end && sp->buf[at] != ' ' && sp->buf[at] != '\t')
		return 0;
	*value = span_trim(sp->buf, at, ln->end);
	return 1;
}

/*
 * A Go block's "Key: value" line: an identifier starting upper-case, a
 * colon, then a blank or the line's end.  Sets *key and *value.
 */
static int
go_key_read(const struct sdklog_parser *sp, const struct line *ln,
    struct span *key, struct span *value)
{
	const uint8_t *buf = sp->buf;
	size_t at = ln->content, i;

	if (at >= ln->end || buf[at] < 'A' || buf[at] > 'Z')
		return 0;
	for (i = at; i < ln->end && (is_alpha(buf[i]) || is_digit(buf[i]));
	    i++)
		continue;
	if (i >= ln->end || buf[i] != ':' ||
	    (i + 1 < ln->end && buf[i + 1] != ' ' && buf[i + 1] != '\t'))
		return 0;
	key->off = at;
	key->len = i - at;
	*value = span_trim(buf, i + 1, ln->end);
	return 1;
}

static int
span_is(const uint8_t *buf, struct span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(buf + s.off, lit, s.len) == 0;
}

/* Leading decimal digits of s as a status; 0 when none or too many. */
static int
status_read(const uint8_t *buf, size_t at, size_t end)
{
	int v = 0;

	for (; at < end && is_digit(buf[at]); at++) {
		if (v > 99999)
			return 0;
		v = v * 10 + (buf[at] - '0');
	}
	return v;
}

/*
 * In a JSON object or Python dict written out in s, the value after the
 * key name in either kind of quotes: *at is its first byte.
 */
static int
dict_value(const uint8_t *buf, struct span s, const char *name,
    size_t *at)
{
	size_t n = strlen(name), end = s.off + s.len, from = s.off, i, c;
	const uint8_t *p;

	while ((p = memmem(buf + from, end - from, name, n)) != NULL) {
		i = (size_t)(p - buf);
		from = i + 1;
		if (i == s.off || i + n >= end || (buf[i - 1] != '"' &&
		    buf[i - 1] != '\'') || buf[i + n] != buf[i - 1])
			continue;
		c = blank_skip(buf, i + n + 1, end);
		if (c < end && buf[c] == ':') {
			*at = blank_skip(buf, c + 1, end);
			return 1;
		}
	}
	return 0;
}

/* An integer value for name in the dict s; 0 when absent or not one. */
static int
dict_int(const uint8_t *buf, struct span s, const char *name)
{
	size_t at;

	if (!dict_value(buf, s, name, &at))
		return 0;
	return status_read(buf, at, s.off + s.len);
}

/*
 * A quoted string value for name in the dict s, without its quotes; an
 * empty span when absent, None, null, or holding an escape.
 */
static struct span
dict_string(const uint8_t *buf, struct span s, const char *name)
{
	struct span v = { 0, 0 };
	size_t at, i, end = s.off + s.len;

	if (!dict_value(buf, s, name, &at) || at >= end ||
	    (buf[at] != '"' && buf[at] != '\''))
		return v;
	for (i = at + 1; i < end && buf[i] != buf[at]; i++)
		if (buf[i] == '\\')
			return v;
	if (i >= end)
		return v;
	v.off = at + 1;
	v.len = i - at - 1;
	return v;
}

/* --- the sink --- */

static int
emit_reject(struct sdklog_parser *sp, size_t at, enum reject_reason why,
    const char *detail)
{
	struct reject rej = { sp->base + at, why, detail };

	if (sp->sink->on_reject == NULL)
		return STEP_OK;
	return sp->sink->on_reject(sp->sink->ctx, &rej) != 0 ? STEP_STOP :
	    STEP_OK;
}

/*
 * Copies the block's three strings, NUL-terminated, into sp->text and
 * points out[] at them.  Returns 0; -1 with *bad the offset of a byte
 * that is not UTF-8 (or a NUL) in one of them; or -2 when out of memory.
 */
static int
strings_copy(struct sdklog_parser *sp, const struct span *s[3],
    const char *out[3], size_t *bad)
{
	size_t need = 3, o = 0, i, n;
	char *p;

	for (i = 0; i < 3; i++) {
		n = text_utf8_check(sp->buf + s[i]->off, s[i]->len);
		if (n != s[i]->len) {
			*bad = s[i]->off + n;
			return -1;
		}
		need += s[i]->len;
	}
	if (need > sp->text_cap) {
		if ((p = realloc(sp->text, need)) == NULL)
			return -2;
		sp->text = p;
		sp->text_cap = need;
	}
	for (i = 0; i < 3; i++) {
		memcpy(sp->text + o, sp->buf + s[i]->off, s[i]->len);
		out[i] = sp->text + o;
		o += s[i]->len;
		sp->text[o++] = '\0';
	}
	return 0;
}

/* Hands on the finished block as a record and forgets it. */
static int
block_emit(struct sdklog_parser *sp)
{
	struct block *b = &sp->blk;
	const struct span *s[3] = { &b->code, &b->message, &b->request_id };
	const char *str[3];
	struct record rec = { 0 };
	size_t bad = 0;
	int rc;

	b->kind = BLOCK_NONE;
	if (b->code.len == 0)
		return emit_reject(sp, b->start, REJECT_NO_CODE,
		    "SDK error without an error code");
	if ((rc = strings_copy(sp, s, str, &bad)) == -2)
		return emit_reject(sp, b->start, REJECT_DECODE,
		    "out of memory");
	if (rc != 0)
		return emit_reject(sp, bad, REJECT_BAD_UTF8,
		    "SDK error text is not UTF-8 or holds a NUL");

	rec.time_ms = b->time_ms;
	rec.status = b->http_code != 0 ? b->http_code : b->status;
	rec.code = str[0];
	rec.message = str[1];
	rec.request_id = str[2];
	rec.offset = sp->base + b->start;
	if (sp->sink->on_record == NULL)
		return STEP_OK;
	return sp->sink->on_record(sp->sink->ctx, &rec) != 0 ? STEP_STOP :
	    STEP_OK;
}

/* Rejects the open block, cut short by a line that does not belong. */
static int
block_cut(struct sdklog_parser *sp)
{
	const char *detail = sp->blk.kind == BLOCK_GO ?
	    "Go SDKError block ends before its Code and Data lines" :
	    "Java SDK error ends before its requestId line";

	sp->blk.kind = BLOCK_NONE;
	return emit_reject(sp, sp->blk.start, REJECT_SHORT_BLOCK, detail);
}

static void
block_open(struct sdklog_parser *sp, const struct line *ln,
    enum block_kind kind)
{
	memset(&sp->blk, 0, sizeof(sp->blk));
	sp->blk.kind = kind;
	sp->blk.start = ln->start;
	sp->blk.time_ms = ln->time_ms;
}

/* --- the three forms --- */

/* A line that ends in "SDKError:", opening a Go block. */
static int
go_start_is(const struct sdklog_parser *sp, const struct line *ln)
{
	const uint8_t *p;
	size_t at;

	p = memmem(sp->buf + ln->start, ln->end - ln->start, "SDKError:", 9);
	if (p == NULL)
		return 0;
	at = blank_skip(sp->buf, (size_t)(p - sp->buf) + 9, ln->end);
	return at == ln->end;
}

/* One "Key: value" line of an open Go block; Data closes it. */
static int
go_line(struct sdklog_parser *sp, const struct line *ln, int *taken)
{
	struct block *b = &sp->blk;
	struct span key, v;

	*taken = go_key_read(sp, ln, &key, &v);
	if (!*taken)
		return STEP_OK;
	if (span_is(sp->buf, key, "StatusCode"))
		b->status = status_read(sp->buf, v.off, v.off + v.len);
	else if (span_is(sp->buf, key, "Code")) {
		b->code = v;
		b->have_code = 1;
	} else if (span_is(sp->buf, key, "Message"))
		b->message = v;
	else if (span_is(sp->buf, key, "Data")) {
		if (!b->have_code)
			return block_cut(sp);
		b->http_code = dict_int(sp->buf, v, "httpCode");
		b->request_id = dict_string(sp->buf, v, "requestId");
		return block_emit(sp);
	}
	return STEP_OK;
}

/*
 * The Python form on one line.  "Error: " must start a word; the code is
 * the next word, the message runs to the last " Response: {".
 */
static int
python_line(struct sdklog_parser *sp, const struct line *ln, int *taken)
{
	const uint8_t *buf = sp->buf, *p;
	size_t at = ln->start, e = 0, r = 0, c;
	struct span data;

	*taken = 0;
	while ((p = memmem(buf + at, ln->end - at, "Error: ", 7)) != NULL) {
		e = (size_t)(p - buf);
		if (e == ln->start || !(is_alpha(buf[e - 1]) ||
		    is_digit(buf[e - 1])))
			break;
		at = e + 1;
	}
	if (p == NULL)
		return STEP_OK;
	at = e + 7;
	while ((p = memmem(buf + at, ln->end - at, " Response: {", 12)) !=
	    NULL) {
		r = (size_t)(p - buf);
		at = r + 1;
	}
	if (r <= e || (c = word_end(buf, e + 7, r)) == e + 7)
		return STEP_OK;

	*taken = 1;
	block_open(sp, ln, BLOCK_NONE);
	sp->blk.code = span_trim(buf, e + 7, c);
	sp->blk.message = span_trim(buf, c, r);
	data.off = r + 11;
	data.len = ln->end - data.off;
	sp->blk.http_code = dict_int(buf, data, "httpCode");
	sp->blk.request_id = dict_string(buf, data, "requestId");
	return block_emit(sp);
}

/* The lines of a Java sample's block, after its "code:" line. */
static int
java_line(struct sdklog_parser *sp, const struct line *ln, int *taken)
{
	struct span v;

	*taken = 0;
	if (sp->blk.kind == BLOCK_JAVA_CODE) {
		if (!content_key(sp, ln, "message:", &v)) {
			sp->blk.kind = BLOCK_NONE;
			return STEP_OK;
		}
		sp->blk.message = v;
		sp->blk.kind = BLOCK_JAVA;
		*taken = 1;
		return STEP_OK;
	}
	if (!content_key(sp, ln, "requestId:", &v))
		return block_cut(sp);
	sp->blk.request_id = v;
	*taken = 1;
	return block_emit(sp);
}

/* A line outside any block: it may be one of the three forms. */
static int
fresh_line(struct sdklog_parser *sp, const struct line *ln)
{
	struct span v;
	int taken, rc;

	if (go_start_is(sp, ln)) {
		block_open(sp, ln, BLOCK_GO);
		return STEP_OK;
	}
	if ((rc = python_line(sp, ln, &taken)) != STEP_OK || taken)
		return rc;
	if (content_key(sp, ln, "code:", &v)) {
		block_open(sp, ln, BLOCK_JAVA_CODE);
		sp->blk.code = v;
		sp->blk.have_code = 1;
	}
	return STEP_OK;
}

/*
 * One line, inside a block or not.  A line an open block cannot take
 * ends it (rejected unless it was only a Java "code:") and is then read
 * afresh.
 */
static int
line_handle(struct sdklog_parser *sp, struct line *ln)
{
	int taken = 0, rc = STEP_OK;

	line_prefix(sp, ln);
	switch (sp->blk.kind) {
	case BLOCK_NONE:
		return fresh_line(sp, ln);
	case BLOCK_GO:
		if (go_start_is(sp, ln))
			rc = block_cut(sp);
		else
			rc = go_line(sp, ln, &taken);
		break;
	case BLOCK_JAVA_CODE:
	case BLOCK_JAVA:
		rc = java_line(sp, ln, &taken);
		break;
	}
	if (rc != STEP_OK || taken)
		return rc;
	if (sp->blk.kind == BLOCK_GO && (rc = block_cut(sp)) != STEP_OK)
		return rc;
	return fresh_line(sp, ln);
}

/* The end of the input with a block open. */
static int
block_at_end(struct sdklog_parser *sp)
{
	if (sp->blk.kind != BLOCK_GO && sp->blk.kind != BLOCK_JAVA)
		return STEP_OK;
	sp->blk.kind = BLOCK_NONE;
	return emit_reject(sp, sp->blk.start, REJECT_TRUNCATED,
	    "input ends inside an SDK error block");
}

/*
 * Parses buf[0..len) as an application log; see format_parse() in
 * format.h for the contract and sdklog.h for what stays unconsumed.
 * Records carry the offset of their first line; a short block's reject
 * that of its first line too.  Returns -1 only when a sink callback
 * returned -1; a NULL callback accepts everything.
 */
ssize_t
sdklog_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink)
{
	struct sdklog_parser sp;
	struct line ln;
	const uint8_t *nl;
	size_t at, next;
	ssize_t rc = -1;

	memset(&sp, 0, sizeof(sp));
	sp.buf = buf;
	sp.len = len;
	sp.base = base;
	sp.sink = sink;
	sp.ref_year = -1;

	for (at = 0; at < len; at = next) {
		nl = memchr(buf + at, '\n', len - at);
		if (nl == NULL && !final)
			break;
		next = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		ln.start = at;
		ln.end = nl != NULL ? next - 1 : len;
		if (ln.end > at && buf[ln.end - 1] == '\r')
			ln.end--;
		if (line_handle(&sp, &ln) != STEP_OK)
			goto out;
	}

	if (!final && sp.blk.kind != BLOCK_NONE)
		at = sp.blk.start;
	else if (final && block_at_end(&sp) != STEP_OK)
		goto out;
	rc = (ssize_t)at;

out:
	free(sp.text);
	return rc;
}

/* Bytes that do not occur in a text log: NUL and most C0 controls. */
static int
text_is(const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] < 0x20 && buf[i] != '\t' && buf[i] != '\n' &&
		    buf[i] != '\r' && buf[i] != 0x1b)
			return 0;
	return 1;
}

/* Whether the first line starts with a timestamp sdklog reads. */
static int
stamp_first(const uint8_t *buf, size_t n)
{
	const uint8_t *nl = memchr(buf, '\n', n);
	size_t end = nl != NULL ? (size_t)(nl - buf) : n, at = 0;
	int64_t ms;
	int year;

	if (end > 0 && buf[end - 1] == '\r')
		end--;
	byte_take(buf, end, &at, "[");
	return iso_read(buf, end, &at, &ms, &year) == 0 ||
	    syslog_read(buf, end, &at, -1, &ms) == 0;
}

/*
 * 1 when buf looks like a log sdklog reads (see sdklog.h): text, and
 * either an SDK marker in the first KiB or a timestamp at the start.
 */
int
sdklog_detect(const uint8_t *buf, size_t len)
{
	size_t n = len < SDKLOG_SNIFF_MAX ? len : SDKLOG_SNIFF_MAX;

	if (n == 0 || !text_is(buf, n))
		return 0;
	if (memmem(buf, n, "SDKError:", 9) != NULL)
		return 1;
	if (memmem(buf, n, "Error: ", 7) != NULL &&
	    memmem(buf, n, " Response: {", 12) != NULL)
		return 1;
	if (memmem(buf, n, "code: ", 6) != NULL &&
	    memmem(buf, n, "requestId: ", 11) != NULL)
		return 1;
	return stamp_first(buf, n);
}
