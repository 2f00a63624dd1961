/*
 * test_format.c - unit tests for parsers/format.c: format names, detection
 * from the first bytes, and dispatch to the parsers.  Each parser's own
 * detect function is tested here, through format_detect.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"

struct detect_row {
	const char *name;
	const char *in;
	size_t len;
	enum format want;
};

#define IN(s)	(s), sizeof(s) - 1

static const struct detect_row detect_rows[] = {
	{ "http_status_line", IN("HTTP/1.1 404 Not Found\r\n"), FORMAT_HTTP },
	{ "http_status_1_0", IN("HTTP/1.0 200 OK\r\n"), FORMAT_HTTP },
	{ "http_request_post", IN("POST / HTTP/1.1\r\n"), FORMAT_HTTP },
	{ "http_request_get", IN("GET "), FORMAT_HTTP },
	{ "http_status_h2", IN("HTTP/2 404 \r\n"), FORMAT_HTTP },
	{ "http_status_h4", IN("HTTP/4 404 \r\n"), FORMAT_UNKNOWN },
	{ "http_prefix_only", IN("HTTP/1"), FORMAT_UNKNOWN },
	{ "http_lower_case_method", IN("post / HTTP/1.1\r\n"),
	    FORMAT_UNKNOWN },
	{ "http_method_no_space", IN("POST"), FORMAT_UNKNOWN },
	{ "http_leading_blank", IN("\r\nHTTP/1.1 200 OK\r\n"),
	    FORMAT_UNKNOWN },
	{ "pb_status_tag", IN("\x10\x08\x94\x03"), FORMAT_PB },
	{ "pb_code_tag", IN("\x05\x12\x03" "A.B"), FORMAT_PB },
	{ "pb_message_tag", IN("\x03\x1a\x01m"), FORMAT_PB },
	{ "pb_request_id_tag", IN("\x04\x22\x02r1"), FORMAT_PB },
	{ "pb_two_byte_length", IN("\x96\x01\x12"), FORMAT_PB },
	{ "pb_empty_message", IN("\x00"), FORMAT_PB },
	{ "pb_other_tag", IN("\x05\x2a\x03" "abc"), FORMAT_UNKNOWN },
	{ "pb_length_only", IN("\x05"), FORMAT_UNKNOWN },
	{ "pb_cut_varint", IN("\x96"), FORMAT_UNKNOWN },
	{ "pb_oversized_length", IN("\x81\x80\x40\x12"), FORMAT_UNKNOWN },
	{ "pb_max_length", IN("\x80\x80\x40\x12"), FORMAT_PB },
	{ "pb_whole_frame_decodes", IN("\x07\x08\x94\x03\x12\x02" "AB"
	    "\x07"), FORMAT_PB },
	{ "pb_whole_frame_bad", IN("\x03\x08\x94\x83"), FORMAT_UNKNOWN },
	/* JSON reads as a pb frame ('{' a length, '"' tag 4): JSON first. */
	{ "json_short_is_jsonl", IN("{\"StatusCode\":404}"), FORMAT_JSONL },
	{ "json_lines", IN("{\"StatusCode\":404,\"ErrorCode\":"
	    "\"Forbidden.KeyNotFound\",\"ErrorMessage\":\"The key is not "
	    "found.\",\"RequestId\":\"7c2f5b1a-1b2c-4d5e-8f90-1234\"}\n"
	    "{\"StatusCode\":404,\"ErrorCode\":\"Forbidden.KeyNotFound\"}"),
	    FORMAT_JSONL },
	{ "json_lines_body", IN("{\"body\":\"EgNBLkI=\"}\r\n{"),
	    FORMAT_JSONL },
	{ "json_first_line_not_object", IN("{\n  \"a\": 1\n}\n"),
	    FORMAT_UNKNOWN },
	{ "har_pretty", IN("{\n  \"log\": {\n    \"version\": \"1.2\",\n"),
	    FORMAT_HAR },
	{ "har_minified", IN("{\"log\":{\"version\":\"1.2\",\"entries\":[]}}"),
	    FORMAT_HAR },
	{ "har_bom_and_space", IN("\xef\xbb\xbf \n{\"log\" : {"), FORMAT_HAR },
	{ "har_log_not_object", IN("{\"log\":\"x\"}"), FORMAT_JSONL },
	{ "log_line", IN("2026-12-03 10:00:00 ERROR"), FORMAT_SDKLOG },
	{ "log_line_iso", IN("2026-12-03T10:00:00.123Z INFO up\n"),
	    FORMAT_SDKLOG },
	{ "log_line_bracketed", IN("[2026-12-03 10:00:00,123] x\n"),
	    FORMAT_SDKLOG },
	{ "log_syslog", IN("Dec  3 10:00:00 host app[1]: up\n"),
	    FORMAT_SDKLOG },
	{ "log_go_marker", IN("main: call failed: SDKError:\n"
	    "   StatusCode: 0\n"), FORMAT_SDKLOG },
	{ "log_python_marker", IN("Error: A.B m Response: {'httpCode': 404}"),
	    FORMAT_SDKLOG },
	{ "log_java_marker", IN("code: A.B\nmessage: m\nrequestId: r\n"),
	    FORMAT_SDKLOG },
	{ "log_bad_date", IN("2026-13-03 10:00:00 ERROR"), FORMAT_UNKNOWN },
	{ "log_binary_marker", IN("\x01SDKError:\n"), FORMAT_UNKNOWN },
	{ "plain_text", IN("hello world\n"), FORMAT_UNKNOWN },
	{ "empty", IN(""), FORMAT_UNKNOWN },
};

#define DETECT_ROWS (sizeof(detect_rows) / sizeof(detect_rows[0]))

static void
detect_run(void **state)
{
	const struct detect_row *row = *state;

	assert_int_equal(format_detect((const uint8_t *)row->in, row->len),
	    row->want);
}

static void
names(void **state)
{
	(void)state;
	assert_string_equal(format_name(FORMAT_PB), "pb");
	assert_string_equal(format_name(FORMAT_HTTP), "http");
	assert_string_equal(format_name(FORMAT_HAR), "har");
	assert_string_equal(format_name(FORMAT_JSONL), "jsonl");
	assert_string_equal(format_name(FORMAT_SDKLOG), "sdklog");
	assert_null(format_name(FORMAT_UNKNOWN));
	assert_int_equal(format_from_name("pb"), FORMAT_PB);
	assert_int_equal(format_from_name("http"), FORMAT_HTTP);
	assert_int_equal(format_from_name("har"), FORMAT_HAR);
	assert_int_equal(format_from_name("jsonl"), FORMAT_JSONL);
	assert_int_equal(format_from_name("sdklog"), FORMAT_SDKLOG);
	assert_int_equal(format_from_name("json"), FORMAT_UNKNOWN);
	assert_int_equal(format_from_name(""), FORMAT_UNKNOWN);
	assert_int_equal(format_from_name(NULL), FORMAT_UNKNOWN);
	assert_int_equal(format_detect(NULL, 0), FORMAT_UNKNOWN);
}

static int
count_record(void *ctx, const struct record *rec)
{
	(void)rec;
	(*(int *)ctx)++;
	return 0;
}

static int
count_reject(void *ctx, const struct reject *rej)
{
	(void)rej;
	(*(int *)ctx) += 100;
	return 0;
}

/* format_parse reaches each parser; an unknown format is refused. */
static void
dispatch(void **state)
{
	static const char pb[] = "\x05\x12\x03" "A.B";
	static const char http[] = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/x-protobuf\r\n"
	    "Content-Length: 5\r\n\r\n" "\x12\x03" "A.B";
	static const char har[] = "{\"log\":{\"entries\":[{\"response\":"
	    "{\"status\":404,\"content\":{\"mimeType\":"
	    "\"application/x-protobuf\",\"encoding\":\"base64\","
	    "\"text\":\"EgNBLkI=\"}}}]}}";
	static const char jsonl[] = "{\"ErrorCode\":\"A.B\"}\n";
	static const char sdklog[] = "Error: A.B m Response: {}\n";
	struct record_sink sink = { 0 };
	int n = 0;

	(void)state;
	sink.ctx = &n;
	sink.on_record = count_record;
	sink.on_reject = count_reject;
	assert_int_equal(format_parse(FORMAT_PB, (const uint8_t *)pb,
	    sizeof(pb) - 1, 0, 1, &sink), sizeof(pb) - 1);
	assert_int_equal(n, 1);
	assert_int_equal(format_parse(FORMAT_HTTP, (const uint8_t *)http,
	    sizeof(http) - 1, 0, 1, &sink), sizeof(http) - 1);
	assert_int_equal(n, 2);
	assert_int_equal(format_parse(FORMAT_HAR, (const uint8_t *)har,
	    sizeof(har) - 1, 0, 1, &sink), sizeof(har) - 1);
	assert_int_equal(n, 3);
	assert_int_equal(format_parse(FORMAT_JSONL, (const uint8_t *)jsonl,
	    sizeof(jsonl) - 1, 0, 1, &sink), sizeof(jsonl) - 1);
	assert_int_equal(n, 4);
	assert_int_equal(format_parse(FORMAT_SDKLOG, (const uint8_t *)sdklog,
	    sizeof(sdklog) - 1, 0, 1, &sink), sizeof(sdklog) - 1);
	assert_int_equal(n, 5);

	errno = 0;
	assert_int_equal(format_parse(FORMAT_UNKNOWN, (const uint8_t *)pb,
	    sizeof(pb) - 1, 0, 1, &sink), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(n, 5);
}

int
main(void)
{
	struct CMUnitTest tests[DETECT_ROWS + 2];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < DETECT_ROWS; i++, n++) {
		tests[n].name = detect_rows[i].name;
		tests[n].test_func = detect_run;
		tests[n].initial_state = (void *)&detect_rows[i];
	}
	tests[n].name = "names";
	tests[n++].test_func = names;
	tests[n].name = "dispatch";
	tests[n++].test_func = dispatch;
	return _cmocka_run_group_tests("format", tests, n, NULL, NULL);
}
