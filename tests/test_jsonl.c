/*
 * test_jsonl.c - unit tests for parsers/jsonl.c: JSON lines in, records
 * and rejects out.
 *
 * Each row of jsonl_rows is an input, how to parse it, the events the
 * sink saw (rendered one per line; a reject shows its detail up to the
 * first colon, which is where the line number is) and the bytes
 * consumed.  Offsets are those of a line's first byte: the lines below
 * note their lengths with the newline.
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

int
main(void)
{
	struct CMUnitTest tests[JSONL_ROWS + 4];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < JSONL_ROWS; i++, n++) {
		tests[n].name = jsonl_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&jsonl_rows[i];
	}
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
