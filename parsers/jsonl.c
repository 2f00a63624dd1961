/*
 * jsonl.c - Dedicated KMS errors as JSON lines: one JSON object per line,
 * as log shippers and scripts write them.
 *
 * Implements JSON Lines (jsonlines.org: UTF-8, one RFC 8259 value per
 * line) with these objects, keys case-sensitive, unknown keys ignored:
 * - the protobuf JSON mapping of api.Error (proto/kms_error.proto):
 *   {"StatusCode":409,"ErrorCode":"Rejected.Disabled",
 *    "ErrorMessage":"...","RequestId":"..."};
 * - the same with snake_case keys: status_code, error_code,
 *   error_message, request_id;
 * - {"body":"<base64 of a protobuf api.Error>"}, decoded by pb.c.
 * Each may carry "time" (an RFC 3339 string, or a number: unix seconds,
 * or milliseconds when over 1e11), "api" (the x-kms-apiname) and
 * "status" (the HTTP status, which then plays the part the status line
 * plays in http.c: the record's status, with StatusCode as body_status
 * when they disagree).
 *
 * This module owns the line loop and the reading of one object.  Each
 * line is parsed on its own, so memory is bounded by the longest line:
 * first by jsonscan.c, which reads the common flat object without
 * building a tree, and when it declines by Jansson, whose errors give
 * every reject its reason.  Both fill the same struct jsonscan_value per
 * member, and object_read() alone turns those into a record.
 *
 * Deliberate deviations:
 * - Blank lines (whitespace only) are skipped, a line may end in CRLF,
 *   and a UTF-8 byte order mark at the start of the input is ignored.
 * - When "body" is present the record comes from it alone; the other
 *   Error keys on the line are ignored.
 * - StatusCode may be a number or a string of digits, as the protobuf
 *   JSON mapping allows for int32.
 * - A "time" that does not parse leaves the time unknown instead of
 *   losing the record, as http.c does with a bad Date.
 * - A last line without '\n' is a complete line when the input is
 *   final; if it then fails to parse only because it stops short, the
 *   reject is "truncated" rather than "bad_json".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonl.h"
#include "jsonscan.h"
#include "pb.h"
#include "text.h"
#include "timefmt.h"

#define JSONL_API_MAX		128	/* longest API name passed on */
#define JSONL_DETAIL_MAX	320
#define JSONL_MS_FROM		1e11	/* a larger number of time is ms */

enum step {
	STEP_OK,
	STEP_DONE,		/* the line was rejected; go on */
	STEP_STOP,		/* the sink asked to stop */
};

struct jsonl_parser {
	const uint8_t *buf;
	size_t len;
	uint64_t base;
	const struct record_sink *sink;
	struct pb_scratch *scratch;	/* pb strings, reused */
	struct jsonscan scan;		/* the fast path's strings, reused */
	size_t at;			/* the current line's start */
	size_t lineno;			/* its number, from 1 */
	char detail[JSONL_DETAIL_MAX];
};

/*
 * Rejects the current line: "line N: " and the formatted reason.  The
 * line number counts from buf[0]; after a resumed call (base > 0) the
 * detail says so, since earlier lines are unknown here.
 */
static int
line_reject(struct jsonl_parser *jp, enum reject_reason why,
    const char *what, const char *more)
{
	struct reject rej = { jp->base + jp->at, why, jp->detail };

	if (jp->base == 0)
		snprintf(jp->detail, sizeof(jp->detail), "line %zu: %s%s",
		    jp->lineno, what, more);
	else
		snprintf(jp->detail, sizeof(jp->detail),
		    "line %zu after offset %" PRIu64 ": %s%s", jp->lineno,
		    jp->base, what, more);
	if (jp->sink->on_reject == NULL)
		return STEP_DONE;
	return jp->sink->on_reject(jp->sink->ctx, &rej) != 0 ? STEP_STOP :
	    STEP_DONE;
}

/*
 * The members this module reads, by index; key_names spells them.  The
 * snake_case spelling of an Error member follows its camel-case one.
 */
enum key {
	KEY_BODY,
	KEY_CODE, KEY_CODE_SNAKE,
	KEY_MESSAGE, KEY_MESSAGE_SNAKE,
	KEY_ID, KEY_ID_SNAKE,
	KEY_STATUS_CODE, KEY_STATUS_CODE_SNAKE,
	KEY_STATUS,
	KEY_TIME,
	KEY_API,
	KEY_COUNT,
	KEY_NONE = KEY_COUNT	/* no alternative spelling */
};

static const char *const key_names[KEY_COUNT] = {
	"body",
	"ErrorCode", "error_code",
	"ErrorMessage", "error_message",
	"RequestId", "request_id",
	"StatusCode", "status_code",
	"status",
	"time",
	"api",
};

/*
 * The member k, or else the one spelt alt.  A null member counts as
 * present, as json_object_get() finds it: {"ErrorCode":null,
 * "error_code":"A"} has no code.
 */
static const struct jsonscan_value *
member_get(const struct jsonscan_value *vals, enum key k, enum key alt)
{
	if (vals[k].kind != JSONSCAN_ABSENT || alt == KEY_NONE)
		return &vals[k];
	return &vals[alt];
}

/*
 * A string member: *s set to its value, or to "" when absent or null.
 * Returns -1 for any other type.
 */
static int
string_read(const struct jsonscan_value *vals, enum key k, enum key alt,
    const char **s)
{
	const struct jsonscan_value *v = member_get(vals, k, alt);

	*s = "";
	if (v->kind == JSONSCAN_ABSENT || v->kind == JSONSCAN_NULL)
		return 0;
	if (v->kind != JSONSCAN_STRING)
		return -1;
	*s = v->s;
	return 0;
}

/*
 * An integer member in [lo, hi]: a JSON integer or, when digits are
 * allowed, a string of them.  *n is 0 when absent or null.
 */
static int
int_read(const struct jsonscan_value *vals, enum key k, enum key alt,
    int digits, long long lo, long long hi, int *n)
{
	const struct jsonscan_value *v = member_get(vals, k, alt);
	long long x = 0;

	*n = 0;
	if (v->kind == JSONSCAN_ABSENT || v->kind == JSONSCAN_NULL)
		return 0;
	if (v->kind == JSONSCAN_INTEGER)
		x = v->i;
	else if (digits && v->kind == JSONSCAN_STRING) {
		if (v->len == 0 || v->len > 10 ||
		    strspn(v->s, "0123456789") != v->len)
			return -1;
		x = strtoll(v->s, NULL, 10);
	} else
		return -1;
	if (x < lo || x > hi)
		return -1;
	*n = (int)x;
	return 0;
}

/* "time": RFC 3339, or unix seconds or ms as a number; else unknown. */
static int64_t
time_read(const struct jsonscan_value *vals)
{
	const struct jsonscan_value *v = &vals[KEY_TIME];
	double x;
	int64_t ms;

	if (v->kind == JSONSCAN_STRING)
		return timefmt_parse(v->s, &ms) == 0 ? ms :
		    RECORD_TIME_UNKNOWN;
	if (v->kind != JSONSCAN_INTEGER && v->kind != JSONSCAN_REAL)
		return RECORD_TIME_UNKNOWN;

	/* Past year 9999 in ms is about 2.5e14; refuse before converting. */
	x = v->kind == JSONSCAN_INTEGER ? (double)v->i : v->r;
	if (!(x >= 0 && x < 1e15))
		return RECORD_TIME_UNKNOWN;
	if (v->kind == JSONSCAN_INTEGER)
		return x > JSONL_MS_FROM ? (int64_t)v->i : (int64_t)v->i * 1000;
	return x > JSONL_MS_FROM ? (int64_t)x : (int64_t)(x * 1000);
}

/* "api", when it is a plausible name. */
static const char *
api_read(const struct jsonscan_value *vals)
{
	const struct jsonscan_value *v = &vals[KEY_API];

	if (v->kind != JSONSCAN_STRING)
		return NULL;
	return v->len > 0 && v->len < JSONL_API_MAX ? v->s : NULL;
}

/* The Error spelt out as members, in either spelling. */
static int
fields_read(struct jsonl_parser *jp, const struct jsonscan_value *vals,
    struct record *rec)
{
	if (string_read(vals, KEY_CODE, KEY_CODE_SNAKE, &rec->code) != 0)
		return line_reject(jp, REJECT_BAD_JSON,
		    "ErrorCode is not a string", "");
	if (string_read(vals, KEY_MESSAGE, KEY_MESSAGE_SNAKE,
	    &rec->message) != 0)
		return line_reject(jp, REJECT_BAD_JSON,
		    "ErrorMessage is not a string", "");
	if (string_read(vals, KEY_ID, KEY_ID_SNAKE, &rec->request_id) != 0)
		return line_reject(jp, REJECT_BAD_JSON,
		    "RequestId is not a string", "");
	if (int_read(vals, KEY_STATUS_CODE, KEY_STATUS_CODE_SNAKE, 1,
	    INT32_MIN, INT32_MAX, &rec->status) != 0)
		return line_reject(jp, REJECT_BAD_JSON,
		    "StatusCode is not an int32", "");
	if (rec->code[0] == '\0')
		return line_reject(jp, REJECT_NO_CODE, "no ErrorCode", "");
	return STEP_OK;
}

/* The Error as base64 protobuf in "body"; strings go to the scratch. */
static int
body_read(struct jsonl_parser *jp, const struct jsonscan_value *body,
    struct record *rec)
{
	struct reject rej = { 0 };
	uint8_t *raw;
	size_t n;
	int rc;

	if (body->kind != JSONSCAN_STRING)
		return line_reject(jp, REJECT_BAD_JSON,
		    "body is not a string", "");
	if ((raw = malloc(TEXT_BASE64_MAX(body->len))) == NULL)
		return line_reject(jp, REJECT_DECODE, "out of memory", "");
	if (text_base64_decode(body->s, body->len, raw, &n) != 0) {
		free(raw);
		return line_reject(jp, REJECT_BAD_BASE64,
		    "body is not base64", "");
	}
	rc = pb_decode_error(raw, n, rec, &rej, &jp->scratch);
	free(raw);
	if (rc != 0)
		return line_reject(jp, rej.reason, "body: ", rej.detail);
	return STEP_OK;
}

/*
 * Reads one line's members, however parsed, and hands on its record.
 * This is the one place the rules for turning members into a record
 * live, so that both paths of line_handle() follow them.
 */
static int
object_read(struct jsonl_parser *jp, const struct jsonscan_value *vals)
{
	struct record rec = { 0 };
	int rc, status;

	rc = vals[KEY_BODY].kind != JSONSCAN_ABSENT ?
	    body_read(jp, &vals[KEY_BODY], &rec) : fields_read(jp, vals, &rec);
	if (rc != STEP_OK)
		return rc;
	if (int_read(vals, KEY_STATUS, KEY_NONE, 0, 0, 999, &status) != 0)
		return line_reject(jp, REJECT_BAD_JSON,
		    "status is not an HTTP status", "");

	if (status != 0) {
		rec.body_status = rec.status != status ? rec.status : 0;
		rec.status = status;
	}
	rec.time_ms = time_read(vals);
	rec.api = api_read(vals);
	rec.offset = jp->base + jp->at;
	if (jp->sink->on_record == NULL)
		return STEP_OK;
	return jp->sink->on_record(jp->sink->ctx, &rec) != 0 ? STEP_STOP :
	    STEP_OK;
}

/* A Jansson value as the scanner would have described it. */
static void
value_from_json(const json_t *j, struct jsonscan_value *v)
{
	memset(v, 0, sizeof(*v));
	if (j == NULL)
		return;
	switch (json_typeof(j)) {
	case JSON_NULL:
		v->kind = JSONSCAN_NULL;
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v->kind = JSONSCAN_BOOL;
		break;
	case JSON_STRING:
		v->kind = JSONSCAN_STRING;
		v->s = json_string_value(j);
		v->len = json_string_length(j);
		break;
	case JSON_INTEGER:
		v->kind = JSONSCAN_INTEGER;
		v->i = json_integer_value(j);
		break;
	case JSON_REAL:
		v->kind = JSONSCAN_REAL;
		v->r = json_real_value(j);
		break;
	default:
		v->kind = JSONSCAN_OTHER;
		break;
	}
}

/*
 * The general path: Jansson parses the line, which gives every reject
 * its reason.  Strings point into the tree, freed after object_read().
 */
static int
line_parse_jansson(struct jsonl_parser *jp, const char *line, size_t n,
    int cut)
{
	struct jsonscan_value vals[KEY_COUNT];
	json_error_t err;
	json_t *o;
	size_t k;
	int rc;

	if ((o = json_loadb(line, n, 0, &err)) == NULL) {
		if (cut && json_error_code(&err) ==
		    json_error_premature_end_of_input)
			return line_reject(jp, REJECT_TRUNCATED,
			    "input ends inside the line: ", err.text);
		return line_reject(jp, REJECT_BAD_JSON, "not JSON: ",
		    err.text);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		return line_reject(jp, REJECT_BAD_JSON, "not a JSON object",
		    "");
	}
	for (k = 0; k < KEY_COUNT; k++)
		value_from_json(json_object_get(o, key_names[k]), &vals[k]);
	rc = object_read(jp, vals);
	json_decref(o);
	return rc;
}

/*
 * Parses the line buf[at..end), which is the input's cut-off end when
 * cut is set.  Returns STEP_STOP when the sink asked to stop.
 */
static int
line_handle(struct jsonl_parser *jp, size_t end, int cut)
{
	const char *line = (const char *)jp->buf + jp->at;
	size_t n = end - jp->at;
	struct jsonscan_value vals[KEY_COUNT];

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
	    line[n - 1] == '\t'))
		n--;
	if (n == 0)
		return STEP_OK;
	if (n > JSONL_MAX_LINE)
		return line_reject(jp, REJECT_OVERSIZED, "line over 4 MiB",
		    "");

	/* Most lines are flat objects: read them without building a tree. */
	if (jsonscan_object(&jp->scan, line, n, key_names, KEY_COUNT,
	    vals) == 0)
		return object_read(jp, vals);
	return line_parse_jansson(jp, line, n, cut);
}

static size_t
bom_skip(const uint8_t *buf, size_t len)
{
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		return 3;
	return 0;
}

/*
 * Parses buf[0..len) as JSON lines; see format_parse() in format.h for
 * the contract and jsonl.h for lines and their numbers.  Records and
 * rejects carry the offset of their line's first byte.  Returns -1 only
 * when a sink callback returned -1; a NULL callback accepts everything.
 */
ssize_t
jsonl_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink)
{
	struct jsonl_parser jp;
	const uint8_t *nl;
	ssize_t rc;
	size_t end;

	memset(&jp, 0, sizeof(jp));
	jp.buf = buf;
	jp.len = len;
	jp.base = base;
	jp.sink = sink;
	jp.at = base == 0 ? bom_skip(buf, len) : 0;

	for (; jp.at < len; jp.at = end + 1) {
		nl = memchr(buf + jp.at, '\n', len - jp.at);
		if (nl == NULL && !final)
			break;
		end = nl != NULL ? (size_t)(nl - buf) : len;
		jp.lineno++;
		if (line_handle(&jp, end, nl == NULL) == STEP_STOP) {
			rc = -1;
			goto out;
		}
	}
	rc = (ssize_t)(jp.at < len ? jp.at : len);

out:
	pb_scratch_free(jp.scratch);
	jsonscan_free(&jp.scan);
	return rc;
}

/* 1 when buf starts like JSON lines (see jsonl.h). */
int
jsonl_detect(const uint8_t *buf, size_t len)
{
	size_t at = bom_skip(buf, len), n;
	const uint8_t *nl;
	json_t *o;
	int rc;

	if (at >= len || buf[at] != '{')
		return 0;
	nl = memchr(buf + at, '\n', len - at);
	n = (nl != NULL ? (size_t)(nl - buf) : len) - at;
	if (n > JSONL_MAX_LINE)
		return 0;
	o = json_loadb((const char *)buf + at, n, 0, NULL);
	rc = json_is_object(o);
	json_decref(o);
	return rc;
}
