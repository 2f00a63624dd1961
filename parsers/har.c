/*
 * har.c - Dedicated KMS calls in an HTTP Archive: the HAR 1.2 files that
 * browsers, Playwright, mitmproxy and Charles write.
 *
 * Implements the parts of the HAR 1.2 specification (W3C Web Performance
 * WG draft, "HTTP Archive (HAR) format") that locate a call and its
 * outcome: log.entries[].startedDateTime, request.headers (for
 * x-kms-apiname), response.status, response.headers, and
 * response.content's mimeType, text and encoding.  A non-2xx response of
 * type application/x-protobuf carries an api.Error, decoded by pb.c; a
 * 2xx to a KMS request is counted through on_response.
 *
 * A HAR file may be hundreds of megabytes, so it is never loaded as one
 * JSON tree.  A small scanner (strings, escapes, bracket depth; no
 * validation) finds "entries" inside "log" and cuts out one entry's bytes
 * at a time; Jansson parses just that entry.  Memory is bounded by the
 * largest entry, and the scanner keeps no state between calls: see
 * har_parse() for where a call may start.
 *
 * This module owns the document walk and the reading of an entry.  It
 * does not own decoding (pb.c), base64 (text.c) or time (timefmt.c).
 *
 * Deliberate deviations from HAR 1.2:
 * - Only startedDateTime, request and response are looked at; a missing
 *   response or response.status rejects the entry, while a missing or
 *   unparseable startedDateTime only leaves the time unknown and a
 *   missing request only the API, as http.c does with Date.
 * - A 2xx is counted only when the request names an API or the response
 *   is application/x-protobuf: archives from proxies and browsers hold
 *   much unrelated traffic, which would swamp the error ratios.  Status 0
 *   (a request that never got an answer) and 1xx are skipped.
 * - An entry over HAR_MAX_ENTRY bytes is rejected unparsed: no KMS body
 *   comes near it, and it bounds the memory Jansson needs.
 * - The scanner tolerates a missing comma between entries and a comma
 *   before the closing ']'.  Anything else between entries that is not a
 *   JSON value ends the parse with one reject, since the next entry
 *   cannot be found reliably.  What follows the entries array is not
 *   read at all.
 * - content.text without encoding "base64" is taken as the body's bytes
 *   (its UTF-8 form); any other encoding value is treated the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "har.h"
#include "pb.h"
#include "text.h"
#include "timefmt.h"

#define HAR_API_MAX	128		/* longest API name passed on */
#define HAR_DETAIL_MAX	256
#define HAR_SNIFF_MAX	4096		/* where har_detect() looks */

static const char protobuf_type[] = "application/x-protobuf";

enum scan {
	SCAN_OK,
	SCAN_MORE,		/* the input ends first */
	SCAN_BAD,		/* not JSON */
	SCAN_NONE,		/* an object without the member sought */
};

/* What may come before the next element of the entries array. */
enum sep {
	SEP_NO,			/* just after '[': no comma */
	SEP_YES,		/* after an entry: a comma (or ']') */
	SEP_MAYBE,		/* a resumed call: either */
};

enum step {
	STEP_OK,
	STEP_STOP,		/* the sink asked to stop */
};

struct har_parser {
	const uint8_t *buf;
	size_t len;
	uint64_t base;
	int final;
	const struct record_sink *sink;
	struct pb_scratch *scratch;	/* pb strings, reused */
	char detail[HAR_DETAIL_MAX];
};

/* What one entry says, once read. */
struct entry {
	size_t at;		/* its '{' */
	int64_t time_ms;
	const char *api;	/* in the entry's JSON tree, or NULL */
	int status;
	int protobuf;		/* application/x-protobuf */
	json_t *content;	/* response.content, or NULL */
};

/* --- the scanner --- */

static size_t
ws_skip(const uint8_t *buf, size_t len, size_t at)
{
	while (at < len && (buf[at] == ' ' || buf[at] == '\t' ||
	    buf[at] == '\r' || buf[at] == '\n'))
		at++;
	return at;
}

/* Steps over a UTF-8 byte order mark, which some tools write. */
static size_t
bom_skip(const uint8_t *buf, size_t len)
{
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		return 3;
	return 0;
}

/* The string whose '"' is at at; *end is just past its closing '"'. */
static enum scan
string_end(const uint8_t *buf, size_t len, size_t at, size_t *end)
{
	size_t i;

	for (i = at + 1; i < len; i++) {
		if (buf[i] == '\\')
			i++;
		else if (buf[i] == '"') {
			*end = i + 1;
			return SCAN_OK;
		}
	}
	return SCAN_MORE;
}

/* An object or array at at, by bracket depth; strings are stepped over. */
static enum scan
container_end(const uint8_t *buf, size_t len, size_t at, size_t *end)
{
	size_t depth = 0, i = at;

	while (i < len) {
		switch (buf[i]) {
		case '"':
			if (string_end(buf, len, i, &i) != SCAN_OK)
				return SCAN_MORE;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0) {
				*end = i + 1;
				return SCAN_OK;
			}
			break;
		}
		i++;
	}
	return SCAN_MORE;
}

/* A number, true, false or null: a run of the bytes they are made of. */
static int
is_scalar_byte(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

/*
 * Finds the end of the JSON value at at without checking its syntax
 * beyond the brackets and strings.  A scalar that runs to the end of a
 * non-final input might go on, so it needs more.
 */
static enum scan
value_end(const struct har_parser *hp, size_t at, size_t *end)
{
	size_t i;

	if (hp->buf[at] == '"')
		return string_end(hp->buf, hp->len, at, end);
	if (hp->buf[at] == '{' || hp->buf[at] == '[')
		return container_end(hp->buf, hp->len, at, end);
	for (i = at; i < hp->len && is_scalar_byte(hp->buf[i]); i++)
		continue;
	if (i == at)
		return SCAN_BAD;
	if (i == hp->len && !hp->final)
		return SCAN_MORE;
	*end = i;
	return SCAN_OK;
}

/* ws ':' ws after a member's key; *at moves to the value. */
static enum scan
colon_skip(const struct har_parser *hp, size_t *at)
{
	*at = ws_skip(hp->buf, hp->len, *at);
	if (*at >= hp->len)
		return SCAN_MORE;
	if (hp->buf[*at] != ':')
		return SCAN_BAD;
	*at = ws_skip(hp->buf, hp->len, *at + 1);
	return *at < hp->len ? SCAN_OK : SCAN_MORE;
}

/* After a member's value: ',' goes on, '}' ends the object. */
static enum scan
member_next(const struct har_parser *hp, size_t *at)
{
	*at = ws_skip(hp->buf, hp->len, *at);
	if (*at >= hp->len)
		return SCAN_MORE;
	if (hp->buf[*at] == '}')
		return SCAN_NONE;
	if (hp->buf[*at] != ',')
		return SCAN_BAD;
	(*at)++;
	return SCAN_OK;
}

/*
 * Walks the members of the object whose '{' is just before *at, stepping
 * over values, until one is named key.  On SCAN_OK *at is that member's
 * value; on SCAN_BAD it is the offending byte.  Keys are compared as
 * written, escapes and all.
 */
static enum scan
member_find(const struct har_parser *hp, size_t *at, const char *key)
{
	size_t klen = strlen(key), kend;
	enum scan rc;
	int match;

	for (;;) {
		*at = ws_skip(hp->buf, hp->len, *at);
		if (*at >= hp->len)
			return SCAN_MORE;
		if (hp->buf[*at] == '}')
			return SCAN_NONE;
		if (hp->buf[*at] != '"')
			return SCAN_BAD;
		if ((rc = string_end(hp->buf, hp->len, *at, &kend)) != SCAN_OK)
			return rc;

		/* The key is buf[*at + 1 .. kend - 1). */
		match = kend - *at - 2 == klen &&
		    memcmp(hp->buf + *at + 1, key, klen) == 0;
		*at = kend;
		if ((rc = colon_skip(hp, at)) != SCAN_OK || match)
			return rc;
		if ((rc = value_end(hp, *at, at)) != SCAN_OK)
			return rc;
		if ((rc = member_next(hp, at)) != SCAN_OK)
			return rc;
	}
}

/*
 * From the start of the document to just inside log.entries.  On
 * SCAN_OK *at is the byte after '['; otherwise *why says what was wrong
 * and *at where.
 */
static enum scan
entries_find(const struct har_parser *hp, size_t *at, const char **why)
{
	enum scan rc;

	*why = "not a HAR document: no top-level object";
	*at = ws_skip(hp->buf, hp->len, bom_skip(hp->buf, hp->len));
	if (*at >= hp->len)
		return SCAN_MORE;
	if (hp->buf[*at] != '{')
		return SCAN_BAD;
	(*at)++;

	*why = "not a HAR document: bad JSON before log";
	if ((rc = member_find(hp, at, "log")) != SCAN_OK)
		return rc;
	*why = "not a HAR document: log is not an object";
	if (hp->buf[*at] != '{')
		return SCAN_BAD;
	(*at)++;

	*why = "not a HAR document: bad JSON before log.entries";
	if ((rc = member_find(hp, at, "entries")) != SCAN_OK)
		return rc;
	*why = "not a HAR document: log.entries is not an array";
	if (hp->buf[*at] != '[')
		return SCAN_BAD;
	(*at)++;
	return SCAN_OK;
}

/* --- the sink --- */

static int
emit_reject(struct har_parser *hp, size_t at, enum reject_reason why,
    const char *detail)
{
	struct reject rej = { hp->base + at, why, detail };

	if (hp->sink->on_reject == NULL)
		return STEP_OK;
	return hp->sink->on_reject(hp->sink->ctx, &rej) != 0 ? STEP_STOP :
	    STEP_OK;
}

static int
emit_response(struct har_parser *hp, const struct entry *en)
{
	if (hp->sink->on_response == NULL)
		return STEP_OK;
	return hp->sink->on_response(hp->sink->ctx, en->time_ms, en->api,
	    en->status, hp->base + en->at) != 0 ? STEP_STOP : STEP_OK;
}

/* --- reading one entry --- */

/* A JSON string as a C string, or NULL when absent or holding a NUL. */
static const char *
string_get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

/* The value of the first header called name in a HAR headers array. */
static const char *
header_get(const json_t *msg, const char *name)
{
	const json_t *headers = json_object_get(msg, "headers"), *h;
	const char *n;
	size_t i;

	json_array_foreach(headers, i, h) {
		if ((n = string_get(h, "name")) != NULL &&
		    strcasecmp(n, name) == 0)
			return string_get(h, "value");
	}
	return NULL;
}

/* A media type of application/x-protobuf, whatever its parameters. */
static int
media_is_protobuf(const char *v)
{
	size_t n = sizeof(protobuf_type) - 1;

	if (v == NULL)
		return 0;
	v += strspn(v, " \t");
	if (strncasecmp(v, protobuf_type, n) != 0)
		return 0;
	v += n;
	v += strspn(v, " \t");
	return *v == '\0' || *v == ';';
}

static int64_t
entry_time(const json_t *e)
{
	const char *s = string_get(e, "startedDateTime");
	int64_t ms;

	if (s != NULL && timefmt_parse(s, &ms) == 0)
		return ms;
	return RECORD_TIME_UNKNOWN;
}

/* The request's x-kms-apiname, when it is a plausible name. */
static const char *
entry_api(const json_t *e)
{
	const char *api;

	api = header_get(json_object_get(e, "request"), "x-kms-apiname");
	if (api == NULL || api[0] == '\0' || strlen(api) >= HAR_API_MAX)
		return NULL;
	return api;
}

/*
 * The body's bytes: content.text, base64-decoded into a new buffer *owned
 * when content.encoding says so.  Rejects (returning its step, with *body
 * NULL) when there is no text or it is not base64.
 */
static int
body_get(struct har_parser *hp, const struct entry *en,
    const uint8_t **body, size_t *len, uint8_t **owned)
{
	const json_t *text = json_object_get(en->content, "text");
	const char *enc = string_get(en->content, "encoding");
	const char *s;
	size_t n;

	*body = NULL;
	*owned = NULL;
	if (!json_is_string(text))
		return emit_reject(hp, en->at, REJECT_MISSING_FIELD,
		    "protobuf error response without content.text");
	s = json_string_value(text);
	n = json_string_length(text);
	if (enc == NULL || strcmp(enc, "base64") != 0) {
		*body = (const uint8_t *)s;
		*len = n;
		return STEP_OK;
	}

	if ((*owned = malloc(TEXT_BASE64_MAX(n))) == NULL)
		return emit_reject(hp, en->at, REJECT_DECODE, "out of memory");
	if (text_base64_decode(s, n, *owned, len) != 0) {
		free(*owned);
		*owned = NULL;
		return emit_reject(hp, en->at, REJECT_BAD_BASE64,
		    "content.text is not base64");
	}
	*body = *owned;
	return STEP_OK;
}

/*
 * Decodes the Error in a non-2xx protobuf response.  Since the body was
 * text in the archive, a bad byte is reported at the entry, not inside.
 */
static int
error_emit(struct har_parser *hp, const struct entry *en)
{
	struct record rec = { 0 };
	struct reject rej = { 0 };
	const uint8_t *body;
	uint8_t *owned;
	size_t len = 0;
	int rc;

	if ((rc = body_get(hp, en, &body, &len, &owned)) != STEP_OK ||
	    body == NULL)
		return rc;
	rc = pb_decode_error(body, len, &rec, &rej, &hp->scratch);
	free(owned);
	if (rc != 0)
		return emit_reject(hp, en->at, rej.reason, rej.detail);

	rec.body_status = rec.status != 0 && rec.status != en->status ?
	    rec.status : 0;
	rec.status = en->status;
	rec.time_ms = en->time_ms;
	rec.api = en->api;
	rec.offset = hp->base + en->at;
	if (hp->sink->on_record == NULL)
		return STEP_OK;
	return hp->sink->on_record(hp->sink->ctx, &rec) != 0 ? STEP_STOP :
	    STEP_OK;
}

/* Reads the parsed entry e and hands on what it holds. */
static int
entry_read(struct har_parser *hp, const json_t *e, size_t at)
{
	const json_t *resp = json_object_get(e, "response"), *status;
	struct entry en = { 0 };
	json_int_t s;

	status = json_object_get(resp, "status");
	if (!json_is_object(resp) || status == NULL)
		return emit_reject(hp, at, REJECT_MISSING_FIELD,
		    "entry has no response.status");
	s = json_integer_value(status);
	if (!json_is_integer(status) || s < 0 || s > 999)
		return emit_reject(hp, at, REJECT_BAD_JSON,
		    "response.status is not an HTTP status");

	en.at = at;
	en.status = (int)s;
	en.time_ms = entry_time(e);
	en.api = entry_api(e);
	en.content = json_object_get(resp, "content");
	en.protobuf = media_is_protobuf(string_get(en.content, "mimeType")) ||
	    media_is_protobuf(header_get(resp, "content-type"));

	if (en.status >= 200 && en.status < 300)
		return en.api != NULL || en.protobuf ? emit_response(hp, &en) :
		    STEP_OK;
	if (en.status < 300 || !en.protobuf)
		return STEP_OK;
	return error_emit(hp, &en);
}

/* Parses the entry buf[at..end) with Jansson and reads it. */
static int
entry_handle(struct har_parser *hp, size_t at, size_t end)
{
	json_error_t err;
	json_t *e;
	int rc;

	if (end - at > HAR_MAX_ENTRY)
		return emit_reject(hp, at, REJECT_OVERSIZED,
		    "HAR entry over 16 MiB, skipped");

	/*
	 * JSON_ALLOW_NUL keeps a text body with \u0000 whole; every other
	 * string is checked for NULs where it is read (string_get).
	 */
	e = json_loadb((const char *)hp->buf + at, end - at, JSON_ALLOW_NUL,
	    &err);
	if (e == NULL) {
		snprintf(hp->detail, sizeof(hp->detail),
		    "entry is not valid JSON: %s", err.text);
		return emit_reject(hp, at, REJECT_BAD_JSON, hp->detail);
	}
	rc = entry_read(hp, e, at);
	json_decref(e);
	return rc;
}

/* --- the entries array --- */

/*
 * Takes the separator before the element at *at.  Returns 1 when the
 * array ends there (at *at), 0 with *at on the element, or -1 when the
 * input ends first.  A missing comma is tolerated (see the top).
 */
static int
separator_take(const struct har_parser *hp, size_t *at, enum sep sep)
{
	*at = ws_skip(hp->buf, hp->len, *at);
	if (*at >= hp->len)
		return -1;
	if (hp->buf[*at] == ']')
		return 1;
	if (hp->buf[*at] != ',' || sep == SEP_NO)
		return 0;
	*at = ws_skip(hp->buf, hp->len, *at + 1);
	if (*at >= hp->len)
		return -1;
	return hp->buf[*at] == ']';
}

/*
 * Handles one element of the entries array at at, ending at *end.
 * Returns SCAN_MORE, SCAN_BAD (not a JSON value: the parse must end), or
 * SCAN_OK with *step saying whether the sink asked to stop.
 */
static enum scan
element_handle(struct har_parser *hp, size_t at, size_t *end, int *step)
{
	enum scan rc;

	*step = STEP_OK;
	if ((rc = value_end(hp, at, end)) != SCAN_OK)
		return rc;
	if (hp->buf[at] == '{')
		*step = entry_handle(hp, at, *end);
	else
		*step = emit_reject(hp, at, REJECT_BAD_JSON,
		    "HAR entry is not an object");
	return SCAN_OK;
}

/*
 * Walks the entries array from at (after '[', or a resume point).
 * Returns the count consumed (see har_parse()) or -1 on a stop.
 */
static ssize_t
entries_walk(struct har_parser *hp, size_t at, enum sep sep, size_t done)
{
	size_t end;
	enum scan rc;
	int step, last;

	for (;;) {
		if ((last = separator_take(hp, &at, sep)) < 0)
			break;
		if (last)
			return (ssize_t)(hp->final ? hp->len : at);
		if ((rc = element_handle(hp, at, &end, &step)) == SCAN_MORE)
			break;
		if (rc == SCAN_BAD) {
			step = emit_reject(hp, at, REJECT_BAD_JSON, "HAR "
			    "entries array holds something that is not JSON");
			return step == STEP_OK ? (ssize_t)hp->len : -1;
		}
		if (step != STEP_OK)
			return -1;
		done = at = end;
		sep = SEP_YES;
	}

	/* The input ends inside the array, maybe inside an entry. */
	if (!hp->final)
		return (ssize_t)done;
	if (emit_reject(hp, at, REJECT_TRUNCATED,
	    "input ends inside the HAR entries array") != STEP_OK)
		return -1;
	return (ssize_t)hp->len;
}

/* From the start of the document: finds the entries, then walks them. */
static ssize_t
document_parse(struct har_parser *hp)
{
	const char *why;
	size_t at = 0;
	int step;

	switch (entries_find(hp, &at, &why)) {
	case SCAN_OK:
		return entries_walk(hp, at, SEP_NO, at);
	case SCAN_MORE:
		if (!hp->final)
			return 0;
		step = emit_reject(hp, 0, REJECT_TRUNCATED,
		    "input ends before the HAR entries array");
		break;
	case SCAN_NONE:
		step = emit_reject(hp, 0, REJECT_MISSING_FIELD,
		    "not a HAR document: no log.entries");
		break;
	default:
		step = emit_reject(hp, at, REJECT_BAD_JSON, why);
		break;
	}
	return step == STEP_OK ? (ssize_t)hp->len : -1;
}

/*
 * Parses buf[0..len) as a HAR document, or the rest of its entries array
 * when base > 0 (see har.h for where a call may start, and format.h for
 * the contract).  Records and counted responses carry the offset of their
 * entry's '{'; so do rejects of an entry.  A document that is not a HAR
 * is one reject, with everything consumed.  Returns -1 only when a sink
 * callback returned -1; a NULL callback accepts everything.
 */
ssize_t
har_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink)
{
	struct har_parser hp;
	ssize_t rc;

	memset(&hp, 0, sizeof(hp));
	hp.buf = buf;
	hp.len = len;
	hp.base = base;
	hp.final = final;
	hp.sink = sink;

	if (len == 0)
		return 0;
	if (base == 0)
		rc = document_parse(&hp);
	else
		rc = entries_walk(&hp, 0, SEP_MAYBE, 0);
	pb_scratch_free(hp.scratch);
	return rc;
}

/*
 * 1 when buf starts like a HAR document (see har.h).  The "log" may be
 * inside a string; the parser refuses such a document cleanly.
 */
int
har_detect(const uint8_t *buf, size_t len)
{
	size_t at, n = len < HAR_SNIFF_MAX ? len : HAR_SNIFF_MAX;
	const uint8_t *p;

	at = ws_skip(buf, n, bom_skip(buf, n));
	if (at >= n || buf[at] != '{')
		return 0;
	while ((p = memmem(buf + at, n - at, "\"log\"", 5)) != NULL) {
		at = ws_skip(buf, n, (size_t)(p - buf) + 5);
		if (at < n && buf[at] == ':') {
			at = ws_skip(buf, n, at + 1);
			if (at < n && buf[at] == '{')
				return 1;
		}
	}
	return 0;
}
