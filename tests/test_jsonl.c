/*
 * test_jsonl.c - unit tests for parsers/jsonl.c: JSON lines in, records
 * and rejects out.
 *
 * Each row of jsonl_rows is an input, how to parse it, the events the
 * sink saw (rendered one per line; a reject shows its detail up to the
 * first colon, which is where the line number is) and the bytes
 * consumed.  Offsets are those of a line's first byte: the lines below
 * note their lengths with the newline.
 *
 * Each row of diff_rows is one tricky line, parsed once with the fast
 * scanner (jsonscan.c) allowed and once with it switched off, so that
 * Jansson reads every line; the two must log the same events, rejects
 * in full.  Random edits of good lines then do the same at volume.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonl.h"
#include "jsonscan.h"
#include "record.h"
#include "timefmt.h"

#include "logsink.h"


#define T		"2026-12-03T10:00:00.000Z"

/* 99 bytes: the protobuf JSON mapping. */
#define L_PB	"{\"StatusCode\":409,\"ErrorCode\":\"Rejected.Disabled\"," \
		"\"ErrorMessage\":\"Key disabled.\",\"RequestId\":\"r1\"}\n"
#define R_PB	"rec 409/0 Rejected.Disabled|Key disabled.|r1 api=- t=-"
/* 28 bytes: base64 of 404 "A.B" "r1". */
#define L_B64	"{\"body\":\"CJQDEgNBLkIiAnIx\"}\n"
#define R_B64	"rec 404/0 A.B||r1 api=- t=-"
/* 20 bytes. */
#define L_BAD	"{\"ErrorCode\": nope}\n"

/* --- the event log sink --- */

/* Rejects show their detail up to the first ':' (the line number). */
static int
log_reject(void *ctx, const struct reject *rej)
{
	assert_non_null(rej->detail);
	return log_add(ctx, "rej %s @%llu %.*s\n",
	    record_reason_name(rej->reason), (unsigned long long)rej->offset,
	    (int)strcspn(rej->detail, ":"), rej->detail);
}

static ssize_t
parse_logged(const char *in, size_t len, uint64_t base, int final,
    struct log *lg)
{
	struct record_sink sink;

	sink.ctx = lg;
	sink.on_record = logsink_record;
	sink.on_reject = log_reject;
	sink.on_response = logsink_status;
	return jsonl_parse((const uint8_t *)in, len, base, final, &sink);
}

/* --- the table --- */

#define IN(s)	(s), sizeof(s) - 1

static const struct parse_row jsonl_rows[] = {
	/* The three shapes. */
	{ "protobuf_json_mapping", IN(L_PB), 1, 0, 0, ALL, R_PB " @0\n" },
	{ "snake_case", IN("{\"status_code\":409,\"error_code\":\"A.B\","
	    "\"error_message\":\"m\",\"request_id\":\"r2\"}\n"), 1, 0, 0, ALL,
	    "rec 409/0 A.B|m|r2 api=- t=- @0\n" },
	{ "base64_body", IN(L_B64), 1, 0, 0, ALL, R_B64 " @0\n" },
	{ "body_wins_over_fields", IN("{\"ErrorCode\":\"X.Y\","
	    "\"body\":\"CJQDEgNBLkIiAnIx\"}\n"), 1, 0, 0, ALL, R_B64 " @0\n" },
	{ "body_with_context", IN("{\"body\":\"CJADEgNBLkI=\",\"status\":404,"
	    "\"api\":\"Sign\",\"time\":\"2026-12-03T18:00:00+08:00\"}\n"), 1,
	    0, 0, ALL, "rec 404/400 A.B|| api=Sign t=" T " @0\n" },
	/* Optional members. */
	{ "status_code_as_string", IN("{\"StatusCode\":\"409\","
	    "\"ErrorCode\":\"A.B\"}\n"), 1, 0, 0, ALL,
	    "rec 409/0 A.B|| api=- t=- @0\n" },
	{ "status_overrides", IN("{\"status\":503,\"StatusCode\":404,"
	    "\"ErrorCode\":\"A.B\"}\n"), 1, 0, 0, ALL,
	    "rec 503/404 A.B|| api=- t=- @0\n" },
	{ "status_agrees", IN("{\"status\":404,\"StatusCode\":404,"
	    "\"ErrorCode\":\"A.B\"}\n"), 1, 0, 0, ALL,
	    "rec 404/0 A.B|| api=- t=- @0\n" },
	{ "status_only", IN("{\"status\":429,\"ErrorCode\":\"A.B\"}\n"), 1,
	    0, 0, ALL, "rec 429/0 A.B|| api=- t=- @0\n" },
	{ "nulls_and_unknown_keys", IN("{\"ErrorCode\":\"A.B\","
	    "\"ErrorMessage\":null,\"RequestId\":null,\"extra\":[1,{}],"
	    "\"api\":7}\n"), 1, 0, 0, ALL, "rec 0/0 A.B|| api=- t=- @0\n" },
	/* Time forms. */
	{ "time_rfc3339_utc", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":\"2026-12-03T10:00:00Z\"}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=" T " @0\n" },
	{ "time_rfc3339_fraction", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":\"2026-12-03T10:00:00.25-01:00\"}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=2026-12-03T11:00:00.250Z @0\n" },
	{ "time_unix_seconds", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":1796292000}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=" T " @0\n" },
	{ "time_unix_seconds_fraction", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":1796292000.5}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=2026-12-03T10:00:00.500Z @0\n" },
	{ "time_unix_ms", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":1796292000123}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=2026-12-03T10:00:00.123Z @0\n" },
	{ "time_digits_string", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":\"1796292000\"}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=" T " @0\n" },
	{ "time_unparseable_kept", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":\"yesterday\"}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=- @0\n" },
	{ "time_negative_unknown", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":-5}\n"), 1, 0, 0, ALL, "rec 0/0 A.B|| api=- t=- @0\n" },
	{ "time_huge_unknown", IN("{\"ErrorCode\":\"A.B\","
	    "\"time\":1e300}\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=- @0\n" },
	/* Lines. */
	{ "blank_lines_skipped", IN("\n  \t\n" L_PB "\r\n\n" L_B64), 1, 0, 0,
	    ALL, R_PB " @5\n" R_B64 " @107\n" },
	{ "crlf_lines", IN("{\"ErrorCode\":\"A.B\"}\r\n"
	    "{\"ErrorCode\":\"C.D\"}  \r\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|| api=- t=- @0\n" "rec 0/0 C.D|| api=- t=- @21\n" },
	{ "byte_order_mark", IN("\xef\xbb\xbf" L_B64), 1, 0, 0, ALL,
	    R_B64 " @3\n" },
	{ "mixed_with_bad_line", IN(L_PB L_B64 L_BAD L_PB), 1, 0, 0, ALL,
	    R_PB " @0\n" R_B64 " @99\n" "rej bad_json @127 line 3\n"
	    R_PB " @147\n" },
	/* Malformed lines. */
	{ "not_an_object", IN(L_B64 "[1,2]\n"), 1, 0, 0, ALL,
	    R_B64 " @0\n" "rej bad_json @28 line 2\n" },
	{ "two_values_on_a_line", IN("{\"ErrorCode\":\"A.B\"} {}\n"), 1, 0,
	    0, ALL, "rej bad_json @0 line 1\n" },
	{ "no_error_code", IN("{\"ErrorMessage\":\"m\"}\n"), 1, 0, 0, ALL,
	    "rej no_code @0 line 1\n" },
	{ "empty_error_code", IN("{\"ErrorCode\":\"\"}\n"), 1, 0, 0, ALL,
	    "rej no_code @0 line 1\n" },
	{ "error_code_not_string", IN("{\"ErrorCode\":5}\n"), 1, 0, 0, ALL,
	    "rej bad_json @0 line 1\n" },
	{ "message_not_string", IN("{\"ErrorCode\":\"A\","
	    "\"ErrorMessage\":{}}\n"), 1, 0, 0, ALL,
	    "rej bad_json @0 line 1\n" },
	{ "status_code_not_int", IN("{\"ErrorCode\":\"A\","
	    "\"StatusCode\":\"4x\"}\n"), 1, 0, 0, ALL,
	    "rej bad_json @0 line 1\n" },
	{ "status_code_over_int32", IN("{\"ErrorCode\":\"A\","
	    "\"StatusCode\":4294967296}\n"), 1, 0, 0, ALL,
	    "rej bad_json @0 line 1\n" },
	{ "status_out_of_range", IN("{\"ErrorCode\":\"A\","
	    "\"status\":1000}\n"), 1, 0, 0, ALL, "rej bad_json @0 line 1\n" },
	{ "nul_in_string", IN("{\"ErrorCode\":\"A\\u0000B\"}\n"), 1, 0, 0,
	    ALL, "rej bad_json @0 line 1\n" },
	{ "body_not_base64", IN("{\"body\":\"!!\"}\n"), 1, 0, 0, ALL,
	    "rej bad_base64 @0 line 1\n" },
	{ "body_not_string", IN("{\"body\":12}\n"), 1, 0, 0, ALL,
	    "rej bad_json @0 line 1\n" },
	{ "body_cut_protobuf", IN("{\"body\":\"EgNB\"}\n"), 1, 0, 0, ALL,
	    "rej truncated @0 line 1\n" },
	{ "body_without_code", IN("{\"body\":\"CJQD\"}\n"), 1, 0, 0, ALL,
	    "rej no_code @0 line 1\n" },
	{ "resumed_line_numbers", IN(L_B64 L_BAD), 1, 1000, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @1000\n"
	    "rej bad_json @1028 line 2 after offset 1000\n" },
	/* The end of the input. */
	{ "last_line_unended_final", IN(L_B64 "{\"ErrorCode\":\"A.B\"}"), 1, 0,
	    0, ALL, R_B64 " @0\n" "rec 0/0 A.B|| api=- t=- @28\n" },
	{ "last_line_unended_waits", IN(L_B64 "{\"ErrorCode\":\"A.B\"}"), 0,
	    0, 0, 28, R_B64 " @0\n" },
	{ "truncated_final", IN(L_B64 "{\"ErrorCode\":\"A."), 1, 0, 0, ALL,
	    R_B64 " @0\n" "rej truncated @28 line 2\n" },
	{ "truncated_waits", IN(L_B64 "{\"ErrorCode\":\"A."), 0, 0, 0, 28,
	    R_B64 " @0\n" },
	{ "cut_bad_json_final", IN("{\"ErrorCode\" 1"), 1, 0, 0, ALL,
	    "rej bad_json @0 line 1\n" },
	{ "sink_stop_on_record", IN(L_PB L_B64), 1, 0, 1, -1, R_PB " @0\n" },
	{ "sink_stop_on_reject", IN(L_BAD L_B64), 1, 0, 1, -1,
	    "rej bad_json @0 line 1\n" },
	{ "empty_input", IN(""), 1, 0, 0, ALL, "" },
	{ "empty_input_waits", IN(""), 0, 0, 0, 0, "" },
};

#define JSONL_ROWS (sizeof(jsonl_rows) / sizeof(jsonl_rows[0]))

static void
row_run(void **state)
{
	logsink_check_row(*state, parse_logged);
}

/* --- tests outside the table --- */

static void
piece_lengths(void **state)
{
	(void)state;
	assert_int_equal(sizeof(L_PB) - 1, 99);
	assert_int_equal(sizeof(L_B64) - 1, 28);
	assert_int_equal(sizeof(L_BAD) - 1, 20);
}

/* A line over JSONL_MAX_LINE is refused unparsed; the next one is read. */
static void
oversized_line(void **state)
{
	static const char pre[] = "{\"ErrorCode\":\"";
	static const char post[] = "\"}\n" L_B64;
	size_t pl = sizeof(pre) - 1, pad = JSONL_MAX_LINE, n;
	char *in = malloc(pl + pad + sizeof(post));
	char want[128];
	struct log lg;

	(void)state;
	assert_non_null(in);
	memcpy(in, pre, pl);
	memset(in + pl, 'x', pad);
	memcpy(in + pl + pad, post, sizeof(post));
	n = pl + pad + sizeof(post) - 1;
	memset(&lg, 0, sizeof(lg));
	assert_int_equal(parse_logged(in, n, 0, 1, &lg), (ssize_t)n);
	snprintf(want, sizeof(want), "rej oversized @0 line 1\n" R_B64
	    " @%zu\n", pl + pad + 3);
	assert_string_equal(lg.text, want);
	free(in);
}

/*
 * Fed in two calls at every cut: the second starts where the first
 * stopped, and the events are those of one call (line numbers aside).
 */
static void
split_feed(void **state)
{
	static const char in[] = L_PB "\n" L_B64 L_PB;
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
		assert_string_equal(lg.text, R_PB " @0\n" R_B64 " @100\n" R_PB
		    " @128\n");
	}
}

/* NULL callbacks accept everything. */
static void
null_callbacks(void **state)
{
	static const char in[] = L_PB L_BAD L_B64;
	struct record_sink sink = { 0 };

	(void)state;
	assert_int_equal(jsonl_parse((const uint8_t *)in, sizeof(in) - 1, 0,
	    1, &sink), (ssize_t)sizeof(in) - 1);
}

/* --- the fast path against Jansson --- */

/* Rejects with their whole detail, since both paths must give the same. */
static int
log_reject_full(void *ctx, const struct reject *rej)
{
	assert_non_null(rej->detail);
	return log_add(ctx, "rej %s @%llu %s\n",
	    record_reason_name(rej->reason), (unsigned long long)rej->offset,
	    rej->detail);
}

static ssize_t
parse_full(const char *in, size_t len, uint64_t base, int fast,
    struct log *lg)
{
	struct record_sink sink;
	ssize_t rc;

	memset(lg, 0, sizeof(*lg));
	sink.ctx = lg;
	sink.on_record = logsink_record;
	sink.on_reject = log_reject_full;
	sink.on_response = logsink_status;
	jsonscan_enable(fast);
	rc = jsonl_parse((const uint8_t *)in, len, base, 1, &sink);
	jsonscan_enable(1);
	return rc;
}

/* in[0..len) logs the same with and without the scanner. */
static void
paths_compare(const char *in, size_t len, uint64_t base)
{
	struct log fast, slow;
	ssize_t rc;

	rc = parse_full(in, len, base, 1, &fast);
	assert_int_equal(parse_full(in, len, base, 0, &slow), rc);
	if (strcmp(fast.text, slow.text) != 0)
		print_error("input %.*s\n", (int)len, in);
	assert_string_equal(fast.text, slow.text);
}

/* 1 when the scanner itself takes line[0..len). */
static int
scanner_takes(const char *line, size_t len)
{
	static const char *const keys[] = { "ErrorCode", "time" };
	struct jsonscan_value vals[2];
	struct jsonscan js = { 0 };
	int rc;

	rc = jsonscan_object(&js, line, len, keys, 2, vals) == 0;
	jsonscan_free(&js);
	return rc;
}

struct diff_row {
	const char *name;
	const char *in;
	size_t len;
	int fast;		/* the scanner must take (1) or decline (0) */
};

#define EC	"\"ErrorCode\":\"A.B\""

static const struct diff_row diff_rows[] = {
	/* Escapes and Unicode. */
	{ "escapes_all", IN("{" EC ",\"ErrorMessage\":"
	    "\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t.\"}"), 1 },
	{ "escape_unicode_bmp", IN("{" EC ",\"ErrorMessage\":"
	    "\"\\u00e9\\u4E2D\\u0041\\u007f\\u0080\\u07ff\\u0800\\uffff\"}"),
	    1 },
	{ "escape_surrogate_pair", IN("{" EC ",\"ErrorMessage\":"
	    "\"\\ud83d\\ude00 \\uD800\\uDC00 \\udbff\\udfff\"}"), 1 },
	{ "escape_lone_high", IN("{" EC ",\"ErrorMessage\":\"\\ud83dx\"}"),
	    0 },
	{ "escape_lone_high_at_end", IN("{" EC ",\"ErrorMessage\":"
	    "\"\\ud83d\"}"), 0 },
	{ "escape_lone_low", IN("{" EC ",\"ErrorMessage\":\"\\ude00\"}"), 0 },
	{ "escape_high_then_bmp", IN("{" EC ",\"ErrorMessage\":"
	    "\"\\ud83d\\u0041\"}"), 0 },
	{ "escape_high_then_high", IN("{" EC ",\"ErrorMessage\":"
	    "\"\\ud83d\\ud83d\"}"), 0 },
	{ "escape_nul", IN("{" EC ",\"ErrorMessage\":\"a\\u0000\"}"), 0 },
	{ "escape_unknown", IN("{" EC ",\"ErrorMessage\":\"\\x41\"}"), 0 },
	{ "escape_short_hex", IN("{" EC ",\"ErrorMessage\":\"\\u12\"}"), 0 },
	{ "escape_bad_hex", IN("{" EC ",\"ErrorMessage\":\"\\u12g4\"}"), 0 },
	{ "escaped_key", IN("{\"Error\\u0043ode\":\"A.B\","
	    "\"\\u0074ime\":1796292000}"), 1 },
	{ "escaped_value_time", IN("{" EC ",\"time\":"
	    "\"2026\\u002d12-03T10:00:00Z\"}"), 1 },
	{ "utf8_raw", IN("{" EC ",\"ErrorMessage\":"
	    "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}"), 1 },
	{ "utf8_bad_byte", IN("{" EC ",\"ErrorMessage\":\"\xff\"}"), 0 },
	{ "utf8_overlong", IN("{" EC ",\"ErrorMessage\":\"\xc0\xaf\"}"), 0 },
	{ "utf8_surrogate", IN("{" EC ",\"ErrorMessage\":\"\xed\xa0\x80\"}"),
	    0 },
	{ "utf8_over_max", IN("{" EC ",\"ErrorMessage\":"
	    "\"\xf4\x90\x80\x80\"}"), 0 },
	{ "utf8_cut_sequence", IN("{" EC ",\"ErrorMessage\":\"\xe4\xb8\"}"),
	    0 },
	{ "utf8_outside_string", IN("{" EC ",\xc3\xa9}"), 0 },
	{ "control_in_string", IN("{" EC ",\"ErrorMessage\":\"a\tb\"}"), 0 },
	{ "raw_nul_in_string", IN("{" EC ",\"ErrorMessage\":\"a\0b\"}"), 0 },
	/* Layout. */
	{ "whitespace_everywhere", IN(" \t{ \"ErrorCode\" :\t\"A.B\" ,\r"
	    "\"StatusCode\"\t:\r409\t, \"api\" : \"Sign\"\t}"), 1 },
	{ "keys_any_order", IN("{\"api\":\"Sign\",\"time\":1796292000,"
	    "\"RequestId\":\"r\",\"status\":503,\"ErrorMessage\":\"m\","
	    "\"StatusCode\":404," EC "}"), 1 },
	{ "empty_object", IN("{}"), 1 },
	{ "empty_object_spaced", IN("{ \t }"), 1 },
	{ "empty_key", IN("{\"\":1," EC "}"), 1 },
	{ "crlf", IN("{" EC "}\r\n{\"ErrorCode\":\"C\"}\r\n"), 0 },
	{ "cr_inside", IN("{" EC ",\r\"api\":\"Sign\"}\r"), 1 },
	{ "bom_at_start", IN("\xef\xbb\xbf{" EC "}"), 0 },
	{ "bom_on_second_line", IN("{" EC "}\n\xef\xbb\xbf{" EC "}"), 0 },
	/* Other members. */
	{ "unknown_scalars", IN("{\"x\":true,\"y\":false,\"z\":null,"
	    "\"w\":-1.5e3,\"v\":\"s\"," EC "}"), 1 },
	{ "unknown_nested", IN("{\"extra\":{\"a\":[1,{\"b\":null}]}," EC
	    "}"), 0 },
	{ "unknown_array", IN("{" EC ",\"tags\":[]}"), 0 },
	{ "known_nested", IN("{" EC ",\"ErrorMessage\":[\"m\"]}"), 0 },
	{ "api_number", IN("{" EC ",\"api\":7}"), 1 },
	{ "api_empty", IN("{" EC ",\"api\":\"\"}"), 1 },
	{ "api_too_long", IN("{" EC ",\"api\":\"" "0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef\"}"), 1 },
	{ "body_and_fields", IN("{\"ErrorCode\":5,"
	    "\"body\":\"CJQDEgNBLkIiAnIx\"}"), 1 },
	{ "body_escaped_slash", IN("{\"body\":\"CJQDEgNBLkIiAnIx\\/\\/\"}"),
	    1 },
	{ "body_null", IN("{\"body\":null," EC "}"), 1 },
	{ "status_as_string", IN("{" EC ",\"status\":\"503\"}"), 1 },
	{ "status_true", IN("{" EC ",\"status\":true}"), 1 },
	{ "status_code_digits", IN("{" EC ",\"StatusCode\":\"0409\"}"), 1 },
	{ "status_code_long_digits", IN("{" EC ",\"StatusCode\":"
	    "\"12345678901\"}"), 1 },
	{ "status_code_empty", IN("{" EC ",\"StatusCode\":\"\"}"), 1 },
	{ "status_code_negative", IN("{" EC ",\"StatusCode\":-2147483648}"),
	    1 },
	/* Numbers. */
	{ "number_real_status_code", IN("{" EC ",\"StatusCode\":409.0}"), 1 },
	{ "number_exponent_status_code", IN("{" EC ",\"StatusCode\":4.09e2}"),
	    1 },
	{ "number_minus_zero", IN("{" EC ",\"StatusCode\":-0,\"time\":-0}"),
	    1 },
	{ "number_real_minus_zero", IN("{" EC ",\"time\":-0.0}"), 1 },
	{ "number_time_exponent", IN("{" EC ",\"time\":1.7962920005E+9}"),
	    1 },
	{ "number_time_ms_exponent", IN("{" EC ",\"time\":1796292000123e0}"),
	    1 },
	{ "number_time_at_ms_from", IN("{" EC ",\"time\":100000000000}"),
	    1 },
	{ "number_time_18_digits", IN("{" EC ",\"time\":123456789012345678}"),
	    1 },
	{ "number_time_19_digits", IN("{" EC ",\"time\":"
	    "1234567890123456789}"), 0 },
	{ "number_too_big_integer", IN("{" EC ",\"StatusCode\":"
	    "99999999999999999999}"), 0 },
	{ "number_too_big_negative", IN("{" EC ",\"n\":"
	    "-99999999999999999999}"), 0 },
	{ "number_real_overflow", IN("{" EC ",\"time\":1e400}"), 0 },
	{ "number_real_underflow", IN("{" EC ",\"time\":1e-400}"), 1 },
	{ "number_long_real", IN("{" EC ",\"time\":1796292000.0000000000"
	    "000000000000000000000000000000000000000000000000000001}"), 0 },
	{ "number_leading_zero", IN("{" EC ",\"StatusCode\":0409}"), 0 },
	{ "number_lone_minus", IN("{" EC ",\"StatusCode\":-}"), 0 },
	{ "number_no_fraction", IN("{" EC ",\"time\":1.}"), 0 },
	{ "number_no_integer", IN("{" EC ",\"time\":.5}"), 0 },
	{ "number_plus", IN("{" EC ",\"time\":+1}"), 0 },
	{ "number_no_exponent", IN("{" EC ",\"time\":1e}"), 0 },
	{ "number_hex", IN("{" EC ",\"time\":0x10}"), 0 },
	/* Duplicated keys: Jansson keeps the last. */
	{ "dup_code", IN("{\"ErrorCode\":\"X.Y\"," EC "}"), 1 },
	{ "dup_code_type", IN("{" EC ",\"ErrorCode\":5}"), 1 },
	{ "dup_status_code", IN("{" EC ",\"StatusCode\":\"409\","
	    "\"StatusCode\":404}"), 1 },
	{ "null_hides_snake", IN("{\"ErrorCode\":null,"
	    "\"error_code\":\"A.B\"}"), 1 },
	{ "snake_then_camel", IN("{\"error_code\":\"C.D\"," EC
	    ",\"status_code\":1,\"StatusCode\":null}"), 1 },
	{ "dup_body", IN("{\"body\":12,\"body\":\"CJQDEgNBLkIiAnIx\"}"), 1 },
	{ "dup_nested_then_flat", IN("{\"ErrorMessage\":{}," EC
	    ",\"ErrorMessage\":\"m\"}"), 0 },
	/* Truncated and invalid. */
	{ "cut_in_string", IN("{\"ErrorCode\":\"A."), 0 },
	{ "cut_after_value", IN("{" EC), 0 },
	{ "cut_after_comma", IN("{" EC ","), 0 },
	{ "cut_after_key", IN("{\"ErrorCode\""), 0 },
	{ "cut_in_escape", IN("{\"ErrorCode\":\"A\\"), 0 },
	{ "cut_in_unicode", IN("{\"ErrorCode\":\"A\\u00"), 0 },
	{ "cut_in_literal", IN("{" EC ",\"x\":tr"), 0 },
	{ "cut_in_number", IN("{" EC ",\"time\":1.5e"), 0 },
	{ "open_brace_only", IN("{"), 0 },
	{ "trailing_comma", IN("{" EC ",}"), 0 },
	{ "leading_comma", IN("{," EC "}"), 0 },
	{ "missing_comma", IN("{" EC " \"api\":\"x\"}"), 0 },
	{ "missing_colon", IN("{\"ErrorCode\" \"A.B\"}"), 0 },
	{ "single_quotes", IN("{'ErrorCode':'A.B'}"), 0 },
	{ "bare_key", IN("{ErrorCode:\"A.B\"}"), 0 },
	{ "number_key", IN("{1:\"A.B\"}"), 0 },
	{ "literal_runs_on", IN("{" EC ",\"x\":truex}"), 0 },
	{ "literal_caps", IN("{" EC ",\"x\":True}"), 0 },
	{ "literal_then_digit", IN("{" EC ",\"x\":null1}"), 0 },
	{ "two_objects", IN("{" EC "}{}"), 0 },
	{ "extra_close", IN("{" EC "}}"), 0 },
	{ "trailing_garbage", IN("{" EC "} x"), 0 },
	{ "array_line", IN("[1,2]"), 0 },
	{ "string_line", IN("\"ErrorCode\""), 0 },
	{ "number_line", IN("42"), 0 },
	{ "comment", IN("{" EC "} // note"), 0 },
};

#define DIFF_ROWS (sizeof(diff_rows) / sizeof(diff_rows[0]))

/*
 * A row alone as the last line, then with a newline and after other
 * input (so cut lines turn from truncated to bad_json, and offsets and
 * line numbers move).
 */
static void
diff_row_run(void **state)
{
	const struct diff_row *row = *state;
	char in[1024];
	size_t n;

	assert_int_equal(scanner_takes(row->in, row->len), row->fast);
	paths_compare(row->in, row->len, 0);

	n = (size_t)snprintf(in, sizeof(in), "%s", L_B64);
	assert_true(n + row->len + 2 < sizeof(in));
	memcpy(in + n, row->in, row->len);
	n += row->len;
	memcpy(in + n, "\n" L_PB, sizeof("\n" L_PB) - 1);
	n += sizeof("\n" L_PB) - 1;
	paths_compare(in, n, 0);
	paths_compare(in, n, 777);
}

/* A small deterministic generator: runs repeat whatever the libc. */
static uint32_t
rand_next(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* Applies one random edit to line[0..*n), which has room for 4 more. */
static void
line_mutate(char *line, size_t *n, uint32_t *seed)
{
	static const char bytes[] = "{}[]\":,\\/u0123456789aAbBeEfF.+-tnrl"
	    " \t\r\x80\xbf\xc3\xa9\xed\xa0\xf0\x9f\xff\0";
	size_t at = *n > 0 ? rand_next(seed) % *n : 0;
	char b = bytes[rand_next(seed) % (sizeof(bytes) - 1)];

	switch (rand_next(seed) % 3) {
	case 0:
		if (*n > 0)
			line[at] = b;
		break;
	case 1:
		memmove(line + at + 1, line + at, *n - at);
		line[at] = b;
		(*n)++;
		break;
	default:
		if (*n > 0) {
			memmove(line + at, line + at + 1, *n - at - 1);
			(*n)--;
		}
		break;
	}
}

/*
 * Good lines with one to four random edits: both paths must agree on
 * each, and the scanner must have taken some and declined some.
 */
static void
diff_random(void **state)
{
	static const char *const seeds[] = {
		"{\"StatusCode\":409,\"ErrorCode\":\"Rejected.Disabled\","
		    "\"ErrorMessage\":\"Key \\\"k\\\" \\u00e9\\ud83d\\ude00\","
		    "\"RequestId\":\"r1\",\"time\":1796292000.5,"
		    "\"api\":\"Sign\"}",
		"{\"status_code\":\"404\",\"error_code\":\"A.B\","
		    "\"status\":503,\"time\":\"2026-12-03T10:00:00Z\","
		    "\"x\":[true,false,null],\"y\":-1e-3}",
		"{\"body\":\"CJQDEgNBLkIiAnIx\",\"time\":1796292000123}",
	};
	char line[512];
	uint32_t seed = 101;
	size_t n, k, edits;
	int i, took = 0;

	(void)state;
	for (i = 0; i < 30000; i++) {
		n = strlen(seeds[i % 3]);
		memcpy(line, seeds[i % 3], n);
		edits = 1 + rand_next(&seed) % 4;
		for (k = 0; k < edits; k++)
			line_mutate(line, &n, &seed);
		took += scanner_takes(line, n);
		paths_compare(line, n, 0);
	}
	assert_true(took > 1000 && took < 29000);
}

int
main(void)
{
	struct CMUnitTest tests[JSONL_ROWS + DIFF_ROWS + 5];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < JSONL_ROWS; i++, n++) {
		tests[n].name = jsonl_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&jsonl_rows[i];
	}
	for (i = 0; i < DIFF_ROWS; i++, n++) {
		tests[n].name = diff_rows[i].name;
		tests[n].test_func = diff_row_run;
		tests[n].initial_state = (void *)&diff_rows[i];
	}
	tests[n].name = "diff_random";
	tests[n++].test_func = diff_random;
	tests[n].name = "piece_lengths";
	tests[n++].test_func = piece_lengths;
	tests[n].name = "oversized_line";
	tests[n++].test_func = oversized_line;
	tests[n].name = "split_feed";
	tests[n++].test_func = split_feed;
	tests[n].name = "null_callbacks";
	tests[n++].test_func = null_callbacks;
	return _cmocka_run_group_tests("jsonl", tests, n, NULL, NULL);
}
