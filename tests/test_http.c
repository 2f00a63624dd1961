/*
 * test_http.c - unit tests for parsers/http.c: captured HTTP/1.1 traffic
 * in, records, rejects and 2xx counts out.
 *
 * Each row of http_rows is an input, how to parse it, the events the sink
 * saw (rendered one per line) and the bytes consumed.  Offsets in the
 * expectations were counted from the pieces below: REQ_ENC is 73 bytes,
 * REQ_NOAPI 33, RESP_404 133, RESP_404_NODATE 96.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "http.h"
#include "pb.h"
#include "record.h"
#include "timefmt.h"

#include "logsink.h"


/* api.Error bodies: 404 "A.B" "r1" (12 bytes), 400 "A.B" (8), "A.B" (5). */
#define B404		"\x08\x94\x03\x12\x03" "A.B" "\x22\x02" "r1"
#define B400		"\x08\x90\x03\x12\x03" "A.B"
#define B0		"\x12\x03" "A.B"

#define DATE		"Thu, 03 Dec 2026 10:00:00 GMT"
#define T		"2026-12-03T10:00:00.000Z"

/* 73 bytes: a request naming the Encrypt API, with a 2-byte body. */
#define REQ_ENC		"POST / HTTP/1.1\r\n" \
			"x-kms-apiname: Encrypt\r\n" \
			"Content-Length: 2\r\n" \
			"Host: k\r\n" \
			"\r\n" "ab"
/* 33 bytes: a request without an API name. */
#define REQ_NOAPI	"GET /health HTTP/1.1\r\n" \
			"Host: k\r\n" \
			"\r\n"
/* 133 bytes. */
#define RESP_404	"HTTP/1.1 404 Not Found\r\n" \
			"Content-Type: application/x-protobuf\r\n" \
			"Date: " DATE "\r\n" \
			"Content-Length: 12\r\n" \
			"\r\n" B404
/* 96 bytes. */
#define RESP_404_NODATE	"HTTP/1.1 404 Not Found\r\n" \
			"Content-Type: application/x-protobuf\r\n" \
			"Content-Length: 12\r\n" \
			"\r\n" B404

/* 32 bytes: B404 gzipped, and the same with a wrong CRC. */
#define GZ404		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xe3\x98" \
			"\xc2\x2c\xc4\xec\xa8\xe7\xa4\xc4\x54\x64\x08\x00" \
			"\x67\x5d\x18\x4b\x0c\x00\x00\x00"
#define GZ404_BADCRC	"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xe3\x98" \
			"\xc2\x2c\xc4\xec\xa8\xe7\xa4\xc4\x54\x64\x08\x00" \
			"\x68\x5d\x18\x4b\x0c\x00\x00\x00"
/* 86 bytes: the head of a gzip-encoded 404, before Content-Length. */
#define GZ_HEAD		"HTTP/1.1 404 Not Found\r\n" \
			"Content-Type: application/x-protobuf\r\n" \
			"Content-Encoding: gzip\r\n"

/* --- the event log sink --- */

static ssize_t
parse_logged(const char *in, size_t len, uint64_t base, int final,
    struct log *lg)
{
	struct record_sink sink;

	sink.ctx = lg;
	sink.on_record = logsink_record;
	sink.on_reject = logsink_reject;
	sink.on_response = logsink_response;
	return http_parse((const uint8_t *)in, len, base, final, &sink);
}

/* --- the table --- */

#define IN(s)	(s), sizeof(s) - 1

static const struct parse_row http_rows[] = {
	{ "content_length_body", IN(REQ_ENC RESP_404), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=Encrypt t=" T " @73\n" },
	{ "base_offset", IN(RESP_404), 1, 5000, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=" T " @5000\n" },
	{ "chunked_body", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5;name=value\r\n" "\x08\x94\x03\x12\x03" "\r\n"
	    "7 ; x\r\n" "A.B\x22\x02r1" "\r\n"
	    "0\r\n" "X-Checksum: y\r\n" "\r\n" RESP_404_NODATE), 1, 0, 0,
	    ALL, "rec 404/0 A.B||r1 api=- t=- @0\n"
	    "rec 404/0 A.B||r1 api=- t=- @149\n" },
	{ "chunked_lf_only", IN("HTTP/1.1 404 Not Found\n"
	    "Content-Type: application/x-protobuf\n"
	    "Transfer-Encoding: gzip, chunked\n\n"
	    "C\n" B404 "\n" "0\n\n"), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "chunked_bad_byte_offset", IN("HTTP/1.1 400 Bad\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "3\r\n\x12\x02\xc0\r\n" "1\r\n\xaf\r\n" "0\r\n\r\n"), 1, 0, 0,
	    ALL, "rej bad_utf8 @91\n" },
	{ "lf_only", IN("POST / HTTP/1.1\n"
	    "X-KMS-ApiName: Decrypt\n\n"
	    "HTTP/1.1 404 Not Found\n"
	    "content-type: application/x-protobuf\n"
	    "date: " DATE "\n"
	    "content-length: 12\n\n" B404), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=Decrypt t=" T " @40\n" },
	{ "api_cleared_after_response", IN(REQ_ENC RESP_404 RESP_404), 1, 0,
	    0, ALL, "rec 404/0 A.B||r1 api=Encrypt t=" T " @73\n"
	    "rec 404/0 A.B||r1 api=- t=" T " @206\n" },
	{ "api_of_latest_request", IN(REQ_ENC REQ_NOAPI RESP_404_NODATE), 1,
	    0, 0, ALL, "rec 404/0 A.B||r1 api=- t=- @106\n" },
	{ "interim_100_keeps_api", IN(REQ_ENC
	    "HTTP/1.1 100 Continue\r\n\r\n" RESP_404_NODATE), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=Encrypt t=- @98\n" },
	{ "date_unparseable_kept", IN("HTTP/1.1 503 Unavailable\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Date: yesterday\r\n"
	    "Content-Length: 12\r\n\r\n" B404), 1, 0, 0, ALL,
	    "rec 503/404 A.B||r1 api=- t=- @0\n" },
	{ "body_status_disagrees", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 8\r\n\r\n" B400), 1, 0, 0, ALL,
	    "rec 404/400 A.B|| api=- t=- @0\n" },
	{ "body_status_absent", IN("HTTP/1.1 409 Conflict\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 5\r\n\r\n" B0), 1, 0, 0, ALL,
	    "rec 409/0 A.B|| api=- t=- @0\n" },
	{ "content_type_parameters", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type:Application/X-Protobuf ; charset=binary\r\n"
	    "Content-Length: 5\r\n\r\n" B0), 1, 0, 0, ALL,
	    "rec 404/0 A.B|| api=- t=- @0\n" },
	{ "response_2xx_counted", IN(REQ_ENC "HTTP/1.1 200 OK\r\n"
	    "Date: " DATE "\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 3\r\n\r\n" "abc" RESP_404_NODATE), 1, 0, 0,
	    ALL, "resp 200 api=Encrypt t=" T " @73\n"
	    "rec 404/0 A.B||r1 api=- t=- @189\n" },
	{ "html_5xx_skipped", IN(REQ_ENC "HTTP/1.1 502 Bad Gateway\r\n"
	    "Content-Type: text/html\r\n"
	    "Content-Length: 20\r\n\r\n" "<html>bad gw</html>\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @166\n" },
	{ "no_length_means_no_body", IN("HTTP/1.1 500 Oops\r\n"
	    "Content-Type: text/plain\r\n\r\n" RESP_404_NODATE), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @47\n" },
	{ "head_response_has_no_body", IN("HEAD / HTTP/1.1\r\n"
	    "x-kms-apiname: Sign\r\n\r\n"
	    "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 12\r\n\r\n" RESP_404_NODATE), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @124\n" },
	{ "http2_status_line", IN("HTTP/2 404 \r\n"
	    "content-type: application/x-protobuf\r\n"
	    "content-length: 12\r\n\r\n" B404), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "blank_lines_between", IN("\r\n\r\n" RESP_404_NODATE "\n\n \t\r\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @4\n"
	    "rec 404/0 A.B||r1 api=- t=- @106\n" },
	{ "garbage_then_resync", IN("hello world\r\nmore junk\r\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_http @0\n" "rec 404/0 A.B||r1 api=- t=- @24\n" },
	{ "garbage_between_messages", IN(RESP_404_NODATE "%%% dump %%%\n"
	    "more: junk\n" REQ_ENC RESP_404_NODATE), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" "rej bad_http @96\n"
	    "rec 404/0 A.B||r1 api=Encrypt t=- @193\n" },
	{ "garbage_at_end", IN(RESP_404_NODATE "junk"), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" "rej bad_http @96\n" },
	{ "bad_status_line", IN("HTTP/1.1 4x4 Nope\r\n\r\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_http @0\n" "rec 404/0 A.B||r1 api=- t=- @21\n" },
	{ "header_without_colon", IN(REQ_ENC "HTTP/1.1 404 Not Found\r\n"
	    "NoColonHere\r\n\r\n" RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_http @97\n" "rec 404/0 A.B||r1 api=- t=- @112\n" },
	{ "header_line_is_next_message", IN("HTTP/1.1 404 Not Found\r\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_http @24\n" "rec 404/0 A.B||r1 api=- t=- @24\n" },
	{ "bad_content_length", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 12x\r\n\r\n" RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_http @24\n" "rec 404/0 A.B||r1 api=- t=- @47\n" },
	{ "conflicting_content_length", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab\r\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_http @43\n" "rec 404/0 A.B||r1 api=- t=- @68\n" },
	{ "bad_chunk_size", IN("HTTP/1.1 404 Not Found\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n" "zz\r\nab\r\n0\r\n\r\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_chunk @54\n" "rec 404/0 A.B||r1 api=- t=- @67\n" },
	{ "chunk_without_line_end", IN("HTTP/1.1 404 Not Found\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n" "2\r\nabc\r\n0\r\n\r\n"
	    RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_chunk @59\n" "rec 404/0 A.B||r1 api=- t=- @67\n" },
	{ "body_bad_utf8", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 4\r\n\r\n" "\x12\x02\xc0\xaf" RESP_404_NODATE),
	    1, 0, 0, ALL, "rej bad_utf8 @85\n"
	    "rec 404/0 A.B||r1 api=- t=- @87\n" },
	{ "body_without_code", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 3\r\n\r\n" "\x08\x94\x03"), 1, 0, 0, ALL,
	    "rej no_code @83\n" },
	{ "truncated_final", IN(RESP_404_NODATE "HTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 12\r\n\r\n" "\x08"), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" "rej truncated @96\n" },
	{ "truncated_waits", IN(RESP_404_NODATE "HTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 12\r\n\r\n" "\x08"), 0, 0, 0, 96,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "truncated_start_line_waits", IN(RESP_404_NODATE "HTTP/1.1 40"),
	    0, 0, 0, 96, "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "truncated_start_line_final", IN(RESP_404_NODATE "HTTP/1.1 404"),
	    1, 0, 0, ALL, "rec 404/0 A.B||r1 api=- t=- @0\n"
	    "rej truncated @96\n" },
	{ "wait_keeps_request", IN(RESP_404_NODATE REQ_ENC
	    "HTTP/1.1 404 Not Found\r\n"), 0, 0, 0, 96,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "wait_after_plain_request", IN(REQ_NOAPI
	    "HTTP/1.1 404 Not Found\r\n"), 0, 0, 0, 33, "" },
	{ "wait_after_reject", IN(REQ_ENC "junk\r\n"
	    "HTTP/1.1 404 Not Found\r\n"), 0, 0, 0, 79, "rej bad_http @73\n" },
	{ "request_chunked_body", IN("POST / HTTP/1.1\r\n"
	    "Transfer-Encoding: chunked\r\nx-kms-apiname: Sign\r\n\r\n"
	    "3\r\nabc\r\n0\r\n\r\n" RESP_404_NODATE), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=Sign t=- @81\n" },
	{ "gzip_body", IN(GZ_HEAD "Content-Length: 32\r\n\r\n" GZ404
	    RESP_404_NODATE), 1, 0, 0, ALL, "rec 404/0 A.B||r1 api=- t=- @0\n"
	    "rec 404/0 A.B||r1 api=- t=- @140\n" },
	{ "gzip_chunked_body", IN(GZ_HEAD "Transfer-Encoding: chunked\r\n"
	    "\r\n" "20\r\n" GZ404 "\r\n" "0\r\n\r\n"), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "gzip_chunked_in_pieces", IN(GZ_HEAD "Transfer-Encoding: chunked"
	    "\r\n\r\n" "5\r\n" "\x1f\x8b\x08\x00\x00" "\r\n"
	    "1b\r\n" "\x00\x00\x00\x02\x03\xe3\x98"
	    "\xc2\x2c\xc4\xec\xa8\xe7\xa4\xc4\x54\x64\x08\x00"
	    "\x67\x5d\x18\x4b\x0c\x00\x00\x00" "\r\n" "0\r\n\r\n"), 1,
	    0, 0, ALL, "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "x_gzip_last_coding", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "content-encoding: identity, X-Gzip\r\n"
	    "Content-Length: 32\r\n\r\n" GZ404), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "gzip_bad_crc", IN(GZ_HEAD "Content-Length: 32\r\n\r\n"
	    GZ404_BADCRC RESP_404_NODATE), 1, 0, 0, ALL,
	    "rej bad_gzip @108\n" "rec 404/0 A.B||r1 api=- t=- @140\n" },
	{ "gzip_cut", IN(GZ_HEAD "Content-Length: 20\r\n\r\n"
	    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xe3\x98"
	    "\xc2\x2c\xc4\xec\xa8\xe7\xa4\xc4"), 1, 0, 0, ALL,
	    "rej bad_gzip @108\n" },
	{ "gzip_header_plain_body", IN(GZ_HEAD "Content-Length: 12\r\n\r\n"
	    B404), 1, 0, 0, ALL, "rej bad_gzip @108\n" },
	{ "gzip_inflates_without_code", IN(GZ_HEAD
	    "Content-Length: 23\r\n\r\n"
	    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xe3\x98\xc2"
	    "\x0c\x00\x0e\x96\x76\x7d\x03\x00\x00\x00"), 1, 0, 0, ALL,
	    "rej no_code @108\n" },
	{ "gzip_not_last_coding", IN("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Encoding: gzip, br\r\n"
	    "Content-Length: 32\r\n\r\n" GZ404), 1, 0, 0, ALL,
	    "rej bad_field @112\n" },
	{ "gzip_2xx_counted", IN("HTTP/1.1 200 OK\r\n"
	    "Content-Encoding: gzip\r\n"
	    "Content-Length: 32\r\n\r\n" GZ404), 1, 0, 0, ALL,
	    "resp 200 api=- t=- @0\n" },
	{ "sink_stop", IN(RESP_404_NODATE RESP_404_NODATE), 1, 0, 1, -1,
	    "rec 404/0 A.B||r1 api=- t=- @0\n" },
	{ "sink_stop_on_response", IN("HTTP/1.1 204 No Content\r\n\r\n"
	    RESP_404_NODATE), 1, 0, 1, -1, "resp 204 api=- t=- @0\n" },
	{ "empty_input", IN(""), 1, 0, 0, ALL, "" },
};

#define HTTP_ROWS (sizeof(http_rows) / sizeof(http_rows[0]))

static void
row_run(void **state)
{
	logsink_check_row(*state, parse_logged);
}

/* --- tests outside the table --- */

/* A protobuf body over PB_MAX_MESSAGE is refused, then skipped. */
static void
oversized_body(void **state)
{
	static const char head[] = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 1048577\r\n\r\n";
	size_t hl = sizeof(head) - 1, n = hl + PB_MAX_MESSAGE + 1;
	char *in = malloc(n + sizeof(RESP_404_NODATE));
	struct log lg;
	char want[128];

	(void)state;
	assert_non_null(in);
	memcpy(in, head, hl);
	memset(in + hl, 'x', PB_MAX_MESSAGE + 1);
	memcpy(in + n, RESP_404_NODATE, sizeof(RESP_404_NODATE) - 1);
	memset(&lg, 0, sizeof(lg));
	assert_int_equal(parse_logged(in, n + sizeof(RESP_404_NODATE) - 1, 0,
	    1, &lg), (ssize_t)(n + sizeof(RESP_404_NODATE) - 1));
	snprintf(want, sizeof(want), "rej oversized @%zu\n"
	    "rec 404/0 A.B||r1 api=- t=- @%zu\n", hl, n);
	assert_string_equal(lg.text, want);
	free(in);
}

/*
 * A header section over 64 KiB is refused, even before its end; the
 * unfinished line at the end is kept, as it might yet be a start line.
 */
static void
header_section_limit(void **state)
{
	static const char start[] = "HTTP/1.1 404 Not Found\r\n";
	size_t n = 70 * 1024, at;
	char *in = malloc(n);
	struct log lg;

	(void)state;
	assert_non_null(in);
	memcpy(in, start, sizeof(start) - 1);
	for (at = sizeof(start) - 1; at + 16 <= n; at += 16)
		memcpy(in + at, "X-Pad: 12345678\n", 16);
	memset(in + at, 'y', n - at);
	memset(&lg, 0, sizeof(lg));
	assert_int_equal(parse_logged(in, n, 0, 0, &lg), (ssize_t)at);
	assert_string_equal(lg.text, "rej bad_http @0\n");
	free(in);
}

/*
 * A gzip body that inflates past PB_MAX_MESSAGE is refused once the limit
 * is passed, however small it was on the wire.
 */
static void
gzip_body_over_limit(void **state)
{
	static const char head[] = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Encoding: gzip\r\n"
	    "Content-Length: %zu\r\n\r\n";
	size_t plain_len = PB_MAX_MESSAGE + 1, cap = 64 * 1024, hl;
	uint8_t *plain = calloc(1, plain_len);
	char *in = malloc(cap + 256), hbuf[256], want[64];
	struct log lg;
	z_stream zs;

	(void)state;
	assert_non_null(plain);
	assert_non_null(in);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = plain;
	zs.avail_in = (uInt)plain_len;
	zs.next_out = (Bytef *)in + 256;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);

	hl = (size_t)snprintf(hbuf, sizeof(hbuf), head, (size_t)zs.total_out);
	memcpy(in + 256 - hl, hbuf, hl);
	memset(&lg, 0, sizeof(lg));
	assert_int_equal(parse_logged(in + 256 - hl, hl + zs.total_out, 0, 1,
	    &lg), (ssize_t)(hl + zs.total_out));
	snprintf(want, sizeof(want), "rej bad_gzip @%zu\n", hl);
	assert_string_equal(lg.text, want);
	deflateEnd(&zs);
	free(in);
	free(plain);
}

/*
 * Fed in two calls, as a reader would: the unconsumed tail of the first
 * is the head of the second, and the request's API survives.
 */
static void
split_feed(void **state)
{
	static const char in[] = REQ_ENC RESP_404;
	size_t len = sizeof(in) - 1, cut;
	struct log lg;
	ssize_t rc;

	(void)state;
	for (cut = 0; cut <= len; cut++) {
		memset(&lg, 0, sizeof(lg));
		rc = parse_logged(in, cut, 0, 0, &lg);
		assert_true(rc >= 0 && (size_t)rc <= cut);
		rc += parse_logged(in + rc, len - (size_t)rc, (uint64_t)rc, 1,
		    &lg);
		assert_int_equal(rc, (ssize_t)len);
		assert_string_equal(lg.text,
		    "rec 404/0 A.B||r1 api=Encrypt t=" T " @73\n");
	}
}

int
main(void)
{
	struct CMUnitTest tests[HTTP_ROWS + 4];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < HTTP_ROWS; i++, n++) {
		tests[n].name = http_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&http_rows[i];
	}
	tests[n].name = "oversized_body";
	tests[n++].test_func = oversized_body;
	tests[n].name = "header_section_limit";
	tests[n++].test_func = header_section_limit;
	tests[n].name = "gzip_body_over_limit";
	tests[n++].test_func = gzip_body_over_limit;
	tests[n].name = "split_feed";
	tests[n++].test_func = split_feed;
	return _cmocka_run_group_tests("http", tests, n, NULL, NULL);
}
