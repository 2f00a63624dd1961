/*
 * format.c - the input formats kmswatch reads: their names, their
 * detection from the first bytes of an input, and the dispatch to the
 * parser of each (pb.c, http.c, har.c, jsonl.c, sdklog.c).
 *
 * This module owns only the choice of parser; the parsers own their
 * syntax.  Detection looks at the start line of HTTP, and at the first
 * frame of pb: its length, its first tag and, when the whole frame is at
 * hand, whether it decodes.  The text formats are recognised by their
 * own modules (har_detect, jsonl_detect, sdklog_detect).  The order of
 * the tests matters: JSON can read as a pb frame ('{' as a length, '"' as
 * tag 4), so HAR and JSON lines come before pb, and the log test, the
 * loosest, comes last.
 */
#include <errno.h>
#include <string.h>

#include "format.h"
#include "har.h"
#include "http.h"
#include "jsonl.h"
#include "pb.h"
#include "sdklog.h"

#define METHOD_MAX	20	/* longest request method we recognise */

static const struct {
	enum format fmt;
	const char *name;
} format_names[] = {
	{ FORMAT_PB, "pb" },
	{ FORMAT_HTTP, "http" },
	{ FORMAT_HAR, "har" },
	{ FORMAT_JSONL, "jsonl" },
	{ FORMAT_SDKLOG, "sdklog" },
};

#define FORMAT_COUNT (sizeof(format_names) / sizeof(format_names[0]))

/*
 * The name of fmt: "pb", "http", "har", "jsonl" or "sdklog".  Returns
 * NULL for FORMAT_UNKNOWN and any other value.
 */
const char *
format_name(enum format fmt)
{
	size_t i;

	for (i = 0; i < FORMAT_COUNT; i++)
		if (format_names[i].fmt == fmt)
			return format_names[i].name;
	return NULL;
}

/*
 * The format called name (exactly, case-sensitively), or FORMAT_UNKNOWN,
 * also for NULL.
 */
enum format
format_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return FORMAT_UNKNOWN;
	for (i = 0; i < FORMAT_COUNT; i++)
		if (strcmp(format_names[i].name, name) == 0)
			return format_names[i].fmt;
	return FORMAT_UNKNOWN;
}

/*
 * A status line's "HTTP/1." (or the "HTTP/2" and "HTTP/3" that curl -si
 * prints, which http.c reads alike), or a request's upper-case method and
 * a space.
 */
static int
looks_http(const uint8_t *buf, size_t len)
{
	size_t i;

	if (len >= 7 && memcmp(buf, "HTTP/1.", 7) == 0)
		return 1;
	if (len >= 7 && memcmp(buf, "HTTP/", 5) == 0 &&
	    (buf[5] == '2' || buf[5] == '3') &&
	    (buf[6] == ' ' || buf[6] == '.'))
		return 1;
	for (i = 0; i < len && i <= METHOD_MAX; i++)
		if (buf[i] < 'A' || buf[i] > 'Z')
			break;
	return i > 0 && i <= METHOD_MAX && i < len && buf[i] == ' ';
}

/*
 * When the whole first frame is at hand, it must also decode (an Error
 * without ErrorCode is still an Error): text such as JSON can begin with
 * a byte that reads as a length and a '"' that reads as tag 0x22.
 */
static int
first_frame_decodes(const uint8_t *msg, size_t n)
{
	struct pb_scratch *scratch = NULL;
	struct record rec;
	struct reject rej;
	int rc;

	rc = pb_decode_error(msg, n, &rec, &rej, &scratch);
	pb_scratch_free(scratch);
	return rc == 0 || rej.reason == REJECT_NO_CODE;
}

/*
 * A varint frame length of 0, or of 1..PB_MAX_MESSAGE followed by one of
 * the four tags of api.Error (fields 1-4 with their wire types).
 */
static int
looks_pb(const uint8_t *buf, size_t len)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < len && i < 10; i++) {
		n |= (uint64_t)(buf[i] & 0x7f) << (7 * i);
		if ((buf[i] & 0x80) == 0)
			break;
	}
	if (i == len || i == 10)
		return 0;
	if (n == 0)
		return 1;
	if (n > PB_MAX_MESSAGE || i + 1 >= len)
		return 0;
	if (buf[i + 1] != 0x08 && buf[i + 1] != 0x12 &&
	    buf[i + 1] != 0x1a && buf[i + 1] != 0x22)
		return 0;
	return n > len - i - 1 || first_frame_decodes(buf + i + 1, n);
}

/*
 * Guesses the format of an input from its first bytes (see format.h).
 * Leading whitespace is skipped only by the HAR test.  Returns
 * FORMAT_UNKNOWN when no format fits, or when len is too short to tell.
 */
enum format
format_detect(const uint8_t *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return FORMAT_UNKNOWN;
	if (looks_http(buf, len))
		return FORMAT_HTTP;
	if (har_detect(buf, len))
		return FORMAT_HAR;
	if (jsonl_detect(buf, len))
		return FORMAT_JSONL;
	if (looks_pb(buf, len))
		return FORMAT_PB;
	if (sdklog_detect(buf, len))
		return FORMAT_SDKLOG;
	return FORMAT_UNKNOWN;
}

/*
 * Parses buf[0..len) as fmt with the parser of that format; see
 * format.h for the contract.  For FORMAT_UNKNOWN (or any value that is
 * not a format) calls nothing and returns -1 with errno set to EINVAL.
 */
ssize_t
format_parse(enum format fmt, const uint8_t *buf, size_t len,
    uint64_t base, int final, const struct record_sink *sink)
{
	switch (fmt) {
	case FORMAT_PB:
		return pb_parse(buf, len, base, final, sink);
	case FORMAT_HTTP:
		return http_parse(buf, len, base, final, sink);
	case FORMAT_HAR:
		return har_parse(buf, len, base, final, sink);
	case FORMAT_JSONL:
		return jsonl_parse(buf, len, base, final, sink);
	case FORMAT_SDKLOG:
		return sdklog_parse(buf, len, base, final, sink);
	case FORMAT_UNKNOWN:
		break;
	}
	errno = EINVAL;
	return -1;
}
