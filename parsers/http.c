/*
 * http.c - Dedicated KMS calls in captured HTTP/1.1 traffic: a proxy dump,
 * or what `curl -si` writes, many messages per input.
 *
 * Implements the message syntax of RFC 9112 (start line, header fields,
 * Content-Length and chunked bodies with extensions and trailers) far
 * enough to find each message and its body.  A request's x-kms-apiname
 * names the API of the response that follows it.  A non-2xx response
 * whose Content-Type is application/x-protobuf carries an api.Error
 * (proto/kms_error.proto), which pb.c decodes; a 2xx response is counted
 * through the sink's on_response.  Everything else is stepped over.
 *
 * This module owns the message framing and the pairing of a request with
 * the next response.  It owns no state between calls: an unfinished
 * message is left unconsumed, and so is an unanswered request carrying an
 * API name, so that the next call sees it again.
 *
 * Deliberate deviations from RFC 9112, for captures rather than sockets:
 * - Blank lines and whitespace between messages are skipped, and lines
 *   may end in LF alone.
 * - A response with neither Content-Length nor chunked encoding is taken
 *   to have no body (a capture does not show where a connection closed).
 *   If a body does follow, it is rejected as garbage and skipped.
 * - A response to HEAD, and any 1xx, 204 or 304, has no body.  1xx
 *   responses are interim: they neither count nor end the pairing.
 * - "HTTP/2" and "HTTP/3" versions are read like HTTP/1.x: `curl -si`
 *   prints them for h2 and h3 connections, with the same layout.
 * - The API belongs to the most recent request (NULL when it had no
 *   x-kms-apiname), not to a queue of pipelined requests: a capture that
 *   misses one response then mislabels only one other.
 * - A Date that does not parse leaves the time unknown instead of losing
 *   the record.
 * - After a malformed message the parser resynchronises at the next line
 *   that looks like a start line; what lies between is one reject.
 * - Of the content codings (RFC 9110 section 8.4.1), only gzip (and its
 *   alias x-gzip) is undone, by gzip.c, when it is the last one listed;
 *   an Error body under any other coding fails to decode and is rejected.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gzip.h"
#include "http.h"
#include "pb.h"
#include "timefmt.h"

#define HTTP_MAX_HEAD		(64 * 1024)	/* start line and headers */
#define HTTP_MAX_CHUNK_LINE	4096		/* chunk size and extensions */
#define HTTP_MAX_METHOD		20
#define HTTP_API_MAX		128		/* longest API name kept */

enum step {
	STEP_OK,
	STEP_MORE,		/* the input ends first */
	STEP_BAD,		/* malformed: see the message's bad_* */
	STEP_STOP,		/* the sink asked to stop */
};

/* One line: [start, end) without the line ending, next after it. */
struct line {
	size_t start, end, next;
};

/* A header value as a span of the input; len 0 and !set when absent. */
struct span {
	size_t off, len;
	int set;
};

struct message {
	size_t start;		/* first byte of the start line */
	size_t body;		/* first byte of the body */
	size_t end;		/* first byte after the message */
	int start_ok;		/* the start line parsed */
	int request;
	int head;		/* a HEAD request */
	int status;		/* a response's status */
	int bodiless;		/* no body whatever the headers say */
	int chunked;
	int gzip;		/* Content-Encoding: gzip */
	int length_set;
	uint64_t length;	/* Content-Length */
	uint64_t body_len;	/* decoded body length */
	struct span ctype, date, api;
	size_t bad_at;		/* where it went wrong */
	enum reject_reason bad_why;
	const char *bad_detail;
};

struct http_parser {
	const uint8_t *buf;
	size_t len;
	uint64_t base;
	int final;
	const struct record_sink *sink;
	struct pb_scratch *scratch;	/* pb strings, reused */
	uint8_t *body;			/* a chunked body, joined */
	size_t body_cap;

	/* The last request, until a response answers it. */
	char api[HTTP_API_MAX];
	int api_set;
	int head;
	int req_pending;	/* its pairing state must survive a call */
	size_t req_at;		/* where that request starts */
	int emitted;		/* events since that request */
};

static int
step_bad(struct message *m, size_t at, enum reject_reason why,
    const char *detail)
{
	m->bad_at = at;
	m->bad_why = why;
	m->bad_detail = detail;
	return STEP_BAD;
}

/*
 * Finds the line starting at from that ends before limit (or the input's
 * end).  Returns 0 when there is no line ending in that range.
 */
static int
line_find(const struct http_parser *hp, size_t from, size_t limit,
    struct line *ln)
{
	const uint8_t *nl;

	if (limit > hp->len || limit < from)
		limit = hp->len;
	nl = memchr(hp->buf + from, '\n', limit - from);
	if (nl == NULL)
		return 0;
	ln->start = from;
	ln->next = (size_t)(nl - hp->buf) + 1;
	ln->end = ln->next - 1;
	if (ln->end > from && hp->buf[ln->end - 1] == '\r')
		ln->end--;
	return 1;
}

/* "HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/2.0", ... */
static int
version_ok(const uint8_t *p, size_t n)
{
	if (n < 6 || memcmp(p, "HTTP/", 5) != 0)
		return 0;
	if (p[5] < '1' || p[5] > '3')
		return 0;
	if (n == 6)
		return 1;
	return n == 8 && p[6] == '.' && p[7] >= '0' && p[7] <= '9';
}

/* "HTTP/1.1 404 Not Found"; sets *status. */
static int
status_line_ok(const uint8_t *p, size_t n, int *status)
{
	const uint8_t *sp;
	size_t v;

	if ((sp = memchr(p, ' ', n)) == NULL)
		return 0;
	v = (size_t)(sp - p);
	if (!version_ok(p, v) || n - v < 4)
		return 0;
	p += v + 1;
	n -= v + 1;
	if (p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9')
		return 0;
	if (n > 3 && p[3] != ' ')
		return 0;
	*status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	return 1;
}

/* "POST / HTTP/1.1"; sets *head for HEAD. */
static int
request_line_ok(const uint8_t *p, size_t n, int *head)
{
	const uint8_t *last;
	size_t i, t;

	for (i = 0; i < n && i <= HTTP_MAX_METHOD; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			break;
	if (i == 0 || i > HTTP_MAX_METHOD || i == n || p[i] != ' ')
		return 0;
	*head = i == 4 && memcmp(p, "HEAD", 4) == 0;

	/* The target runs to the last space; it holds none, nor controls. */
	last = memrchr(p, ' ', n);
	if ((size_t)(last - p) <= i + 1)
		return 0;
	for (t = i + 1; p + t < last; t++)
		if (p[t] <= ' ' || p[t] == 0x7f)
			return 0;
	return version_ok(last + 1, n - (size_t)(last - p) - 1);
}

/* Whether p[0..n) is a start line; fills m's request, head, status. */
static int
start_line_ok(const uint8_t *p, size_t n, struct message *m)
{
	int head = 0, status = 0;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		if (!status_line_ok(p, n, &status))
			return 0;
		m->request = 0;
		m->status = status;
		return 1;
	}
	if (!request_line_ok(p, n, &head))
		return 0;
	m->request = 1;
	m->head = head;
	return 1;
}

static int
is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The value of a header, without surrounding spaces and tabs. */
static struct span
value_trim(const uint8_t *buf, size_t off, size_t end)
{
	struct span v;

	while (off < end && (buf[off] == ' ' || buf[off] == '\t'))
		off++;
	while (end > off && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	v.off = off;
	v.len = end - off;
	v.set = 1;
	return v;
}

/* Case-insensitive comparison of a span with a lower-case literal. */
static int
span_is(const uint8_t *buf, const struct span *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n &&
	    strncasecmp((const char *)buf + s->off, lit, n) == 0;
}

/* Content-Length: digits only; a repeat must agree. */
static int
content_length_set(const uint8_t *buf, struct span v, struct message *m)
{
	uint64_t n = 0;
	size_t i;

	if (v.len == 0 || v.len > 19)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (buf[v.off + i] < '0' || buf[v.off + i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(buf[v.off + i] - '0');
	}
	if (m->length_set && m->length != n)
		return -1;
	m->length = n;
	m->length_set = 1;
	return 0;
}

/* Transfer-Encoding: chunked when it is the last coding listed. */
static void
transfer_encoding_set(const uint8_t *buf, struct span v, struct message *m)
{
	const uint8_t *comma;
	struct span last = v;

	comma = v.len > 0 ? memrchr(buf + v.off, ',', v.len) : NULL;
	if (comma != NULL)
		last = value_trim(buf, (size_t)(comma - buf) + 1,
		    v.off + v.len);
	m->chunked = span_is(buf, &last, "chunked");
}

/* Content-Encoding: gzip (or x-gzip) when it is the last coding listed. */
static void
content_encoding_set(const uint8_t *buf, struct span v, struct message *m)
{
	const uint8_t *comma;
	struct span last = v;

	comma = v.len > 0 ? memrchr(buf + v.off, ',', v.len) : NULL;
	if (comma != NULL)
		last = value_trim(buf, (size_t)(comma - buf) + 1,
		    v.off + v.len);
	m->gzip = span_is(buf, &last, "gzip") || span_is(buf, &last, "x-gzip");
}

/* Applies one header line to m; -1 when it is malformed. */
static int
header_apply(const uint8_t *buf, const struct line *ln, struct message *m)
{
	struct span name, v;
	size_t i;

	for (i = ln->start; i < ln->end && is_tchar(buf[i]); i++)
		continue;
	if (i == ln->start || i == ln->end || buf[i] != ':')
		return -1;
	name.off = ln->start;
	name.len = i - ln->start;
	v = value_trim(buf, i + 1, ln->end);

	if (span_is(buf, &name, "content-length"))
		return content_length_set(buf, v, m);
	if (span_is(buf, &name, "transfer-encoding"))
		transfer_encoding_set(buf, v, m);
	else if (span_is(buf, &name, "content-encoding"))
		content_encoding_set(buf, v, m);
	else if (span_is(buf, &name, "content-type"))
		m->ctype = v;
	else if (span_is(buf, &name, "date"))
		m->date = v;
	else if (span_is(buf, &name, "x-kms-apiname"))
		m->api = v;
	return 0;
}

/*
 * A start line cut off by the end of the input.  At the very end it is a
 * truncated message when it would parse, and garbage otherwise.
 */
static int
start_line_cut(const struct http_parser *hp, struct message *m)
{
	size_t n = hp->len - m->start;

	if (n >= HTTP_MAX_HEAD)
		return step_bad(m, m->start, REJECT_BAD_HTTP,
		    "start line over 64 KiB");
	if (!hp->final)
		return STEP_MORE;
	if (start_line_ok(hp->buf + m->start, n, m))
		return STEP_MORE;
	return step_bad(m, m->start, REJECT_BAD_HTTP, "bad start line");
}

/* Reads the start line and headers of the message at m->start. */
static int
head_parse(const struct http_parser *hp, struct message *m)
{
	size_t limit = m->start + HTTP_MAX_HEAD;
	struct line ln;

	if (!line_find(hp, m->start, limit, &ln))
		return start_line_cut(hp, m);
	if (!start_line_ok(hp->buf + ln.start, ln.end - ln.start, m))
		return step_bad(m, m->start, REJECT_BAD_HTTP,
		    "bad start line");
	m->start_ok = 1;

	for (;;) {
		if (!line_find(hp, ln.next, limit, &ln)) {
			if (hp->len >= limit)
				return step_bad(m, m->start, REJECT_BAD_HTTP,
				    "header section over 64 KiB");
			return STEP_MORE;
		}
		if (ln.end == ln.start)
			break;
		/* Obsolete line folding continues a value we ignore. */
		if (hp->buf[ln.start] == ' ' || hp->buf[ln.start] == '\t')
			continue;
		if (header_apply(hp->buf, &ln, m) != 0)
			return step_bad(m, ln.start, REJECT_BAD_HTTP,
			    "bad header line");
	}
	m->body = ln.next;
	return STEP_OK;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reads the chunk-size line at at: a hex size, then optional extensions,
 * which are ignored.  Sets *size and *data (the first data byte).
 */
static int
chunk_line(const struct http_parser *hp, size_t at, uint64_t *size,
    size_t *data)
{
	struct line ln;
	size_t i, n = 0;
	uint64_t v = 0;
	int d;

	if (!line_find(hp, at, at + HTTP_MAX_CHUNK_LINE, &ln))
		return hp->len - at >= HTTP_MAX_CHUNK_LINE ? STEP_BAD :
		    STEP_MORE;
	for (i = ln.start; i < ln.end && n < 16; i++, n++) {
		if ((d = hexval(hp->buf[i])) < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	while (i < ln.end && (hp->buf[i] == ' ' || hp->buf[i] == '\t'))
		i++;
	if (n == 0 || (i < ln.end && hp->buf[i] != ';') || v > SIZE_MAX / 2)
		return STEP_BAD;
	*size = v;
	*data = ln.next;
	return STEP_OK;
}

/* The line end that must follow a chunk's data at at; sets *next. */
static int
chunk_end(const struct http_parser *hp, size_t at, size_t *next)
{
	if (at >= hp->len)
		return STEP_MORE;
	if (hp->buf[at] == '\n') {
		*next = at + 1;
		return STEP_OK;
	}
	if (hp->buf[at] != '\r')
		return STEP_BAD;
	if (at + 1 >= hp->len)
		return STEP_MORE;
	if (hp->buf[at + 1] != '\n')
		return STEP_BAD;
	*next = at + 2;
	return STEP_OK;
}

/* The trailer section after the last chunk, up to its blank line. */
static int
trailer_skip(const struct http_parser *hp, size_t at, struct message *m)
{
	size_t limit = at + HTTP_MAX_HEAD;
	struct line ln;

	for (;;) {
		if (!line_find(hp, at, limit, &ln)) {
			if (hp->len >= limit)
				return step_bad(m, at, REJECT_BAD_CHUNK,
				    "trailer section over 64 KiB");
			return STEP_MORE;
		}
		if (ln.end == ln.start)
			break;
		if (memchr(hp->buf + ln.start, ':', ln.end - ln.start) == NULL)
			return step_bad(m, ln.start, REJECT_BAD_CHUNK,
			    "bad trailer line");
		at = ln.next;
	}
	m->end = ln.next;
	return STEP_OK;
}

/* Finds the end of a chunked body, checking its syntax on the way. */
static int
chunks_walk(const struct http_parser *hp, struct message *m)
{
	size_t at = m->body, data;
	uint64_t size;
	int rc;

	m->body_len = 0;
	for (;;) {
		if ((rc = chunk_line(hp, at, &size, &data)) == STEP_BAD)
			return step_bad(m, at, REJECT_BAD_CHUNK,
			    "bad chunk size line");
		if (rc != STEP_OK)
			return rc;
		if (size == 0)
			return trailer_skip(hp, data, m);
		if (size > hp->len - data)
			return STEP_MORE;
		if ((rc = chunk_end(hp, data + size, &at)) == STEP_BAD)
			return step_bad(m, data + size, REJECT_BAD_CHUNK,
			    "chunk data not followed by a line end");
		if (rc != STEP_OK)
			return rc;
		m->body_len += size;
	}
}

/*
 * Where byte k of a chunked body that chunks_walk() accepted lies in the
 * input.
 */
static size_t
chunks_offset(const struct http_parser *hp, const struct message *m,
    size_t k)
{
	size_t at = m->body, data;
	uint64_t size;

	while (chunk_line(hp, at, &size, &data) == STEP_OK && size > 0) {
		if (k < size)
			return data + k;
		k -= size;
		if (chunk_end(hp, data + size, &at) != STEP_OK)
			break;
	}
	return m->body;
}

/* Joins a chunked body that chunks_walk() accepted into hp->body. */
static int
chunks_join(struct http_parser *hp, const struct message *m)
{
	size_t at = m->body, data, off = 0;
	uint64_t size;
	uint8_t *p;

	if (hp->body_cap < m->body_len || hp->body == NULL) {
		if ((p = realloc(hp->body, m->body_len + 1)) == NULL)
			return -1;
		hp->body = p;
		hp->body_cap = m->body_len + 1;
	}
	while (chunk_line(hp, at, &size, &data) == STEP_OK && size > 0) {
		memcpy(hp->body + off, hp->buf + data, size);
		off += size;
		if (chunk_end(hp, data + size, &at) != STEP_OK)
			break;
	}
	return 0;
}

/* Sets m->end: where the body, if any, ends. */
static int
body_find(const struct http_parser *hp, struct message *m)
{
	m->bodiless = !m->request && (m->status < 200 || m->status == 204 ||
	    m->status == 304 || hp->head);
	m->end = m->body;
	m->body_len = 0;
	if (m->bodiless)
		return STEP_OK;

	if (m->chunked)
		return chunks_walk(hp, m);
	if (m->length_set) {
		if (m->length > hp->len - m->body)
			return STEP_MORE;
		m->end = m->body + m->length;
		m->body_len = m->length;
	}
	return STEP_OK;
}

static int
emit_reject(struct http_parser *hp, size_t at, enum reject_reason why,
    const char *detail)
{
	struct reject rej = { hp->base + at, why, detail };

	hp->emitted = 1;
	if (hp->sink->on_reject == NULL)
		return STEP_OK;
	return hp->sink->on_reject(hp->sink->ctx, &rej) != 0 ? STEP_STOP :
	    STEP_OK;
}

/* The response's Date, or RECORD_TIME_UNKNOWN when absent or bad. */
static int64_t
message_time(const struct http_parser *hp, const struct message *m)
{
	int64_t ms;

	if (m->date.set && timefmt_parse_rfc1123((const char *)hp->buf +
	    m->date.off, m->date.len, &ms) == 0)
		return ms;
	return RECORD_TIME_UNKNOWN;
}

/* Content-Type application/x-protobuf, whatever its parameters. */
static int
is_protobuf(const struct http_parser *hp, const struct message *m)
{
	struct span t = m->ctype;
	const uint8_t *semi;

	if (!t.set)
		return 0;
	semi = memchr(hp->buf + t.off, ';', t.len);
	if (semi != NULL)
		t = value_trim(hp->buf, t.off, (size_t)(semi - hp->buf));
	return span_is(hp->buf, &t, "application/x-protobuf");
}

/* Remembers what the next response needs to know of this request. */
static void
request_note(struct http_parser *hp, const struct message *m)
{
	hp->api_set = 0;
	if (m->api.set && m->api.len > 0 && m->api.len < HTTP_API_MAX) {
		memcpy(hp->api, hp->buf + m->api.off, m->api.len);
		hp->api[m->api.len] = '\0';
		hp->api_set = 1;
	}
	hp->head = m->head;
	hp->req_pending = hp->api_set || hp->head;
	hp->req_at = m->start;
	hp->emitted = 0;
}

/* A response (or a broken message) ends the pairing with a request. */
static void
pairing_end(struct http_parser *hp)
{
	hp->api_set = 0;
	hp->head = 0;
	hp->req_pending = 0;
}

/*
 * Decodes the Error in m's body, first joining its chunks and inflating
 * it when gzip-encoded.  Sets *ok when rec is filled; otherwise the
 * reject has been emitted, at the bad byte, or at the body's start for a
 * gzip body, whose decoded bytes are not the input's.
 */
static int
body_decode(struct http_parser *hp, const struct message *m,
    struct record *rec, int *ok)
{
	struct reject rej = { 0 };
	const uint8_t *body = hp->buf + m->body;
	size_t len = m->body_len, at;
	uint8_t *plain = NULL;
	const char *why;
	int rc;

	*ok = 0;
	if (m->chunked && chunks_join(hp, m) != 0)
		return emit_reject(hp, m->body, REJECT_DECODE,
		    "out of memory");
	if (m->chunked)
		body = hp->body;
	if (m->gzip && gzip_inflate(body, len, PB_MAX_MESSAGE, &plain, &len,
	    &why) != 0)
		return emit_reject(hp, m->body, REJECT_BAD_GZIP, why);
	if (m->gzip)
		body = plain;

	/* rec's strings live in the scratch, so plain can go at once. */
	rc = pb_decode_error(body, len, rec, &rej, &hp->scratch);
	free(plain);
	if (rc == 0) {
		*ok = 1;
		return STEP_OK;
	}
	if (m->gzip)
		at = m->body;
	else if (m->chunked)
		at = chunks_offset(hp, m, rej.offset);
	else
		at = m->body + rej.offset;
	return emit_reject(hp, at, rej.reason, rej.detail);
}

/* Decodes the Error in a non-2xx protobuf response. */
static int
error_emit(struct http_parser *hp, const struct message *m)
{
	struct record rec = { 0 };
	int ok, rc;

	if (m->body_len > PB_MAX_MESSAGE)
		return emit_reject(hp, m->body, REJECT_OVERSIZED,
		    "protobuf body over the size limit");
	if ((rc = body_decode(hp, m, &rec, &ok)) != STEP_OK || !ok)
		return rc;

	rec.body_status = rec.status != 0 && rec.status != m->status ?
	    rec.status : 0;
	rec.status = m->status;
	rec.time_ms = message_time(hp, m);
	rec.api = hp->api_set ? hp->api : NULL;
	rec.offset = hp->base + m->start;
	hp->emitted = 1;
	if (hp->sink->on_record == NULL)
		return STEP_OK;
	return hp->sink->on_record(hp->sink->ctx, &rec) != 0 ? STEP_STOP :
	    STEP_OK;
}

/* Counts a 2xx, decodes a non-2xx Error, steps over the rest. */
static int
response_handle(struct http_parser *hp, const struct message *m)
{
	const char *api = hp->api_set ? hp->api : NULL;
	int rc = STEP_OK;

	if (m->status < 200)
		return STEP_OK;
	if (m->status < 300) {
		hp->emitted = 1;
		if (hp->sink->on_response != NULL &&
		    hp->sink->on_response(hp->sink->ctx, message_time(hp, m),
		    api, m->status, hp->base + m->start) != 0)
			rc = STEP_STOP;
	} else if (!m->bodiless && is_protobuf(hp, m))
		rc = error_emit(hp, m);
	pairing_end(hp);
	return rc;
}

/* The first byte after the line holding at, or the input's end. */
static size_t
line_after(const struct http_parser *hp, size_t at)
{
	const uint8_t *nl = memchr(hp->buf + at, '\n', hp->len - at);

	return nl == NULL ? hp->len : (size_t)(nl - hp->buf) + 1;
}

/*
 * The next line at or after from that is a start line.  A last line with
 * no ending may still become one when more input comes, so it is kept
 * unless the input is final.
 */
static size_t
resync(const struct http_parser *hp, size_t from)
{
	struct message probe;
	struct line ln;

	while (from < hp->len) {
		memset(&probe, 0, sizeof(probe));
		if (!line_find(hp, from, hp->len, &ln)) {
			if (!hp->final || start_line_ok(hp->buf + from,
			    hp->len - from, &probe))
				return from;
			return hp->len;
		}
		if (start_line_ok(hp->buf + ln.start, ln.end - ln.start,
		    &probe))
			return from;
		from = ln.next;
	}
	return hp->len;
}

/* Rejects a malformed message and finds where to go on from. */
static int
message_bad(struct http_parser *hp, const struct message *m, size_t *next)
{
	size_t from = m->bad_at;

	/* Whatever that message was, the next response does not answer it. */
	if (m->start_ok)
		pairing_end(hp);
	if (from <= m->start)
		from = line_after(hp, m->start);
	*next = resync(hp, from);
	return emit_reject(hp, m->bad_at, m->bad_why, m->bad_detail);
}

/*
 * Parses and handles the message at at.  Sets *next past what it used
 * (always beyond at) unless it returns STEP_MORE or STEP_STOP.
 */
static int
message_step(struct http_parser *hp, size_t at, size_t *next)
{
	struct message m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.start = at;
	if ((rc = head_parse(hp, &m)) == STEP_OK)
		rc = body_find(hp, &m);
	if (rc == STEP_MORE) {
		if (!hp->final)
			return STEP_MORE;
		*next = hp->len;
		return emit_reject(hp, at, REJECT_TRUNCATED,
		    "input ends inside a message");
	}
	if (rc == STEP_BAD)
		return message_bad(hp, &m, next);

	*next = m.end;
	if (!m.request)
		return response_handle(hp, &m);
	request_note(hp, &m);
	return STEP_OK;
}

static size_t
space_skip(const struct http_parser *hp, size_t at)
{
	while (at < hp->len && (hp->buf[at] == '\r' || hp->buf[at] == '\n' ||
	    hp->buf[at] == ' ' || hp->buf[at] == '\t'))
		at++;
	return at;
}

/*
 * Parses buf[0..len) as captured HTTP traffic; see format_parse() in
 * format.h for the contract.  When final is 0 and the input ends inside a
 * message, returns that message's start.  When final is 0 and the last
 * request (one with an API name, or a HEAD) is still unanswered and
 * nothing was reported since, returns that request's start instead, so
 * that the pairing survives into the next call.  Returns -1 only when a
 * sink callback returned -1.  A NULL callback in sink accepts everything.
 */
ssize_t
http_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink)
{
	struct http_parser hp;
	size_t at = 0, next = 0;
	ssize_t rc;
	int step;

	memset(&hp, 0, sizeof(hp));
	hp.buf = buf;
	hp.len = len;
	hp.base = base;
	hp.final = final;
	hp.sink = sink;

	while ((at = space_skip(&hp, at)) < len) {
		step = message_step(&hp, at, &next);
		if (step == STEP_STOP) {
			rc = -1;
			goto out;
		}
		if (step == STEP_MORE)
			break;
		at = next;
	}

	/* Unless final, an unanswered request stays for the next call. */
	if (!final && hp.req_pending && !hp.emitted)
		at = hp.req_at;
	rc = (ssize_t)at;

out:
	pb_scratch_free(hp.scratch);
	free(hp.body);
	return rc;
}
