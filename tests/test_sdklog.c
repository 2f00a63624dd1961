/*
 * test_sdklog.c - unit tests for parsers/sdklog.c: application logs in,
 * records and rejects out.
 *
 * Each row of sdklog_rows is a log, how to parse it, the events the sink
 * saw (rendered one per line) and the bytes consumed.  The three SDK forms
 * are macros taking the logger's prefix, so that each form is tried with
 * each timestamp form.  Offsets are those of a block's first line; the
 * lengths they were counted from are noted beside the pieces and checked
 * in piece_lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "sdklog.h"
#include "timefmt.h"

#include "logsink.h"


/* Logger prefixes, and the time each stands for. */
#define P_ISO_Z		"2026-12-03T10:00:00.123Z INFO "
#define P_ISO_OFF	"2026-12-03T18:00:00+08:00 ERROR "
#define P_ISO_NOCOLON	"2026-12-03T18:00:00.5+0800 "
#define P_PY		"2026-12-03 10:00:00,123 ERROR "
#define P_DOT		"[2026-12-03 10:00:00.123] [error] "
#define P_GOLOG		"2026/12/03 10:00:00 "
#define P_SYSLOG	"Dec  3 10:00:00 host app[42]: "
#define T_MS		"2026-12-03T10:00:00.123Z"
#define T_S		"2026-12-03T10:00:00.000Z"

/* 24 bytes: a line that sets the year for syslog timestamps. */
#define YEAR_LINE	"2026-01-01T00:00:00Z up\n"

/* The Go SDK's block after the prefix (the rest: 154 bytes). */
#define GO(p)	p "call failed: SDKError:\n" \
		"   StatusCode: 0\n" \
		"   Code: Rejected.Disabled\n" \
		"   Message: Key is Disabled.\n" \
		"   Data: {\"hostId\":null,\"httpCode\":409," \
		"\"requestId\":\"g-1\"}\n"
#define R_GO	"rec 409/0 Rejected.Disabled|Key is Disabled.|g-1 t="

/* The Python SDK's line after the prefix (the rest: 110 bytes). */
#define PY(p)	p "Error: Rejected.Throttling Too many requests. " \
		"Response: {'httpCode': 429, 'requestId': 'p-1', " \
		"'hostId': None}\n"
#define R_PY	"rec 429/0 Rejected.Throttling|Too many requests.|p-1 t="

/* A Java sample's lines after the prefix (the rest: 162 bytes). */
#define JAVA(p)	p "code: Forbidden.KeyNotFound\n" \
		"message: The key is not found.\n" \
		"requestId: j-1\n" \
		"com.aliyun.tea.TeaException: The key is not found.\n" \
		"\tat com.example.App.main(App.java:9)\n"
#define R_JAVA	"rec 0/0 Forbidden.KeyNotFound|The key is not found.|j-1 t="

/* 75 bytes of lines that are not SDK errors. */
#define NOISE	"2026-12-03 09:59:59,000 INFO started\n" \
		"Error: disk full\n" \
		"code: 200\n" \
		"plain text\n"

/* --- the event log sink --- */

/* SDK logs carry no API and no body status: the sink checks it. */
static int
log_record(void *ctx, const struct record *r)
{
	char t[TIMEFMT_RFC3339_LEN];

	assert_null(r->api);
	assert_int_equal(r->body_status, 0);
	return log_add(ctx, "rec %d/%d %s|%s|%s t=%s @%llu\n", r->status,
	    r->body_status, r->code, r->message, r->request_id,
	    time_text(r->time_ms, t), (unsigned long long)r->offset);
}

static ssize_t
parse_logged(const char *in, size_t len, uint64_t base, int final,
    struct log *lg)
{
	struct record_sink sink;

	sink.ctx = lg;
	sink.on_record = log_record;
	sink.on_reject = logsink_reject;
	sink.on_response = logsink_status;
	return sdklog_parse((const uint8_t *)in, len, base, final, &sink);
}

/* --- the table --- */

#define IN(s)	(s), sizeof(s) - 1

static const struct parse_row sdklog_rows[] = {
	/* Each form with each prefix. */
	{ "go_bare", IN(GO("")), 1, 0, 0, ALL, R_GO "- @0\n" },
	{ "go_iso_z", IN(GO(P_ISO_Z)), 1, 0, 0, ALL, R_GO T_MS " @0\n" },
	{ "go_iso_offset", IN(GO(P_ISO_OFF)), 1, 0, 0, ALL,
	    R_GO T_S " @0\n" },
	{ "go_python_logging", IN(GO(P_PY)), 1, 0, 0, ALL,
	    R_GO T_MS " @0\n" },
	{ "go_bracketed_dot", IN(GO(P_DOT)), 1, 0, 0, ALL,
	    R_GO T_MS " @0\n" },
	{ "go_go_log", IN(GO(P_GOLOG)), 1, 0, 0, ALL, R_GO T_S " @0\n" },
	{ "go_syslog", IN(YEAR_LINE GO(P_SYSLOG)), 1, 0, 0, ALL,
	    R_GO T_S " @24\n" },
	{ "python_bare", IN(PY("")), 1, 0, 0, ALL, R_PY "- @0\n" },
	{ "python_iso_z", IN(PY(P_ISO_Z)), 1, 0, 0, ALL,
	    R_PY T_MS " @0\n" },
	{ "python_iso_offset", IN(PY(P_ISO_OFF)), 1, 0, 0, ALL,
	    R_PY T_S " @0\n" },
	{ "python_offset_no_colon", IN(PY(P_ISO_NOCOLON)), 1, 0, 0, ALL,
	    R_PY "2026-12-03T10:00:00.500Z @0\n" },
	{ "python_python_logging", IN(PY(P_PY)), 1, 0, 0, ALL,
	    R_PY T_MS " @0\n" },
	{ "python_bracketed_dot", IN(PY(P_DOT)), 1, 0, 0, ALL,
	    R_PY T_MS " @0\n" },
	{ "python_go_log", IN(PY(P_GOLOG)), 1, 0, 0, ALL,
	    R_PY T_S " @0\n" },
	{ "python_syslog", IN(YEAR_LINE PY(P_SYSLOG)), 1, 0, 0, ALL,
	    R_PY T_S " @24\n" },
	{ "java_bare", IN(JAVA("")), 1, 0, 0, ALL, R_JAVA "- @0\n" },
	{ "java_iso_z", IN(JAVA(P_ISO_Z)), 1, 0, 0, ALL,
	    R_JAVA T_MS " @0\n" },
	{ "java_iso_offset", IN(JAVA(P_ISO_OFF)), 1, 0, 0, ALL,
	    R_JAVA T_S " @0\n" },
	{ "java_python_logging", IN(JAVA(P_PY)), 1, 0, 0, ALL,
	    R_JAVA T_MS " @0\n" },
	{ "java_bracketed_dot", IN(JAVA(P_DOT)), 1, 0, 0, ALL,
	    R_JAVA T_MS " @0\n" },
	{ "java_go_log", IN(JAVA(P_GOLOG)), 1, 0, 0, ALL,
	    R_JAVA T_S " @0\n" },
	{ "java_syslog", IN(YEAR_LINE JAVA(P_SYSLOG)), 1, 0, 0, ALL,
	    R_JAVA T_S " @24\n" },
	/* Timestamps. */
	{ "syslog_without_year", IN(PY(P_SYSLOG)), 1, 0, 0, ALL,
	    R_PY "- @0\n" },
	{ "syslog_zero_padded_day", IN(YEAR_LINE
	    PY("Dec 03 10:00:00 host app: ")), 1, 0, 0, ALL,
	    R_PY T_S " @24\n" },
	{ "syslog_year_has_no_feb_29", IN(YEAR_LINE
	    PY("Feb 29 10:00:00 host app: ")), 1, 0, 0, ALL,
	    R_PY "- @24\n" },
	{ "bad_date_not_a_timestamp", IN(PY("2026-13-03 10:00:00 ")), 1, 0,
	    0, ALL, R_PY "- @0\n" },
	{ "stamp_must_end_at_blank", IN(PY("2026-12-03T10:00:00Zx ")), 1, 0,
	    0, ALL, R_PY "- @0\n" },
	{ "go_prefix_on_every_line", IN(P_ISO_Z "SDKError:\n"
	    P_ISO_OFF "   StatusCode: 0\n" P_ISO_OFF "   Code: A.B\n"
	    P_ISO_OFF "   Message: m\n" P_ISO_OFF
	    "   Data: {\"httpCode\":404,\"requestId\":\"r\"}\n"), 1, 0, 0,
	    ALL, "rec 404/0 A.B|m|r t=" T_MS " @0\n" },
	{ "java_level_on_every_line", IN(P_PY "code: A.B\n" P_PY
	    "message: m\n" P_PY "requestId: r\n"), 1, 0, 0, ALL,
	    "rec 0/0 A.B|m|r t=" T_MS " @0\n" },
	/* Variations of the forms. */
	{ "go_status_without_http_code", IN("SDKError:\n"
	    "   StatusCode: 503\n   Code: A.B\n   Message: m\n"
	    "   Data: {\"requestId\":\"r\"}\n"), 1, 0, 0, ALL,
	    "rec 503/0 A.B|m|r t=- @0\n" },
	{ "go_extra_keys", IN("SDKError:\n   StatusCode: 0\n"
	    "   Code: A.B\n   Message: m\n   Description: d\n"
	    "   Data: {\"httpCode\":400,\"requestId\":null}\n"
	    "   Recommend: r\n"), 1, 0, 0, ALL, "rec 400/0 A.B|m| t=- @0\n" },
	{ "go_crlf", IN("SDKError:\r\n   Code: A.B\r\n   Message: m\r\n"
	    "   Data: {\"httpCode\":400,\"requestId\":\"r\"}\r\n"), 1, 0, 0,
	    ALL, "rec 400/0 A.B|m|r t=- @0\n" },
	{ "python_empty_message", IN("Error: A.B  Response: "
	    "{'httpCode': 500, 'requestId': 'r'}\n"), 1, 0, 0, ALL,
	    "rec 500/0 A.B||r t=- @0\n" },
	{ "python_double_quotes", IN("Error: A.B m m Response: "
	    "{\"httpCode\": 404, \"requestId\": \"r\"}\n"), 1, 0, 0, ALL,
	    "rec 404/0 A.B|m m|r t=- @0\n" },
	{ "python_request_id_none", IN("Error: A.B m Response: "
	    "{'httpCode': 404, 'requestId': None}\n"), 1, 0, 0, ALL,
	    "rec 404/0 A.B|m| t=- @0\n" },
	{ "python_in_traceback", IN("alibabacloud_tea.exceptions."
	    "TeaException: Error: A.B m Response: {'httpCode': 404, "
	    "'requestId': 'r'}\n"), 1, 0, 0, ALL,
	    "rec 404/0 A.B|m|r t=- @0\n" },
	{ "python_message_with_response", IN("Error: A.B a Response: b "
	    "Response: {'httpCode': 404, 'requestId': 'r'}\n"), 1, 0, 0, ALL,
	    "rec 404/0 A.B|a Response: b|r t=- @0\n" },
	{ "python_dict_cut_after_key", IN("Error: A.B m Response: "
	    "{'requestId' \n"), 1, 0, 0, ALL, "rec 0/0 A.B|m| t=- @0\n" },
	{ "python_not_at_word_start", IN("KMSError: A.B m Response: "
	    "{'httpCode': 404}\n"), 1, 0, 0, ALL, "" },
	{ "python_without_response", IN("Error: A.B m\n"), 1, 0, 0, ALL,
	    "" },
	{ "unrelated_lines_skipped", IN(NOISE), 1, 0, 0, ALL, "" },
	{ "mixed_file", IN(NOISE GO(P_ISO_Z) NOISE PY(P_PY) JAVA("")), 1, 0,
	    0, ALL, R_GO T_MS " @75\n" R_PY T_MS " @334\n" R_JAVA "- @474\n" },
	/* Blocks cut short. */
	{ "go_cut_before_code", IN("SDKError:\n   StatusCode: 0\n"
	    "next line\n" PY("")), 1, 0, 0, ALL,
	    "rej short_block @0\n" R_PY "- @37\n" },
	{ "go_cut_by_blank_line", IN("SDKError:\n   Code: A.B\n\n"), 1, 0, 0,
	    ALL, "rej short_block @0\n" },
	{ "go_cut_by_new_block", IN("SDKError:\n   Code: X.Y\n" GO("")), 1,
	    0, 0, ALL, "rej short_block @0\n" R_GO "- @23\n" },
	{ "go_cut_by_python_line", IN("SDKError:\n" PY("")), 1, 0, 0, ALL,
	    "rej short_block @0\n" R_PY "- @10\n" },
	{ "go_data_before_code", IN("SDKError:\n   Data: {}\n"), 1, 0, 0,
	    ALL, "rej short_block @0\n" },
	{ "go_empty_code", IN("SDKError:\n   Code:\n   Data: {}\n"), 1, 0, 0,
	    ALL, "rej no_code @0\n" },
	{ "go_text_after_marker", IN("SDKError: something\n   Code: A\n"),
	    1, 0, 0, ALL, "" },
	{ "java_cut_before_request_id", IN("code: A.B\nmessage: m\n"
	    "done\n"), 1, 0, 0, ALL, "rej short_block @0\n" },
	{ "java_code_alone_skipped", IN("code: A.B\n" JAVA("")), 1, 0, 0,
	    ALL, R_JAVA "- @10\n" },
	{ "bad_utf8_message", IN("Error: A.B m\xc3(x Response: "
	    "{'httpCode': 404}\n"), 1, 0, 0, ALL, "rej bad_utf8 @12\n" },
	/* The end of the input. */
	{ "block_open_final", IN("x\nSDKError:\n   Code: A.B\n"), 1, 0, 0,
	    ALL, "rej truncated @2\n" },
	{ "block_open_waits", IN("x\nSDKError:\n   Code: A.B\n"), 0, 0, 0, 2,
	    "" },
	{ "java_open_waits", IN("x\ncode: A.B\nmessage: m\n"), 0, 0, 0, 2,
	    "" },
	{ "java_code_at_end_final", IN("x\ncode: A.B\n"), 1, 0, 0, ALL, "" },
	{ "java_code_at_end_waits", IN("x\ncode: A.B\n"), 0, 0, 0, 2, "" },
	{ "last_line_unended_final", IN("x\nError: A.B m Response: "
	    "{'httpCode': 404}"), 1, 0, 0, ALL, "rec 404/0 A.B|m| t=- @2\n" },
	{ "last_line_unended_waits", IN("x\nError: A.B m Response: "
	    "{'httpCode': 404}"), 0, 0, 0, 2, "" },
	{ "base_offset", IN(PY("")), 1, 5000, 0, ALL, R_PY "- @5000\n" },
	{ "sink_stop_on_record", IN(PY("") PY("")), 1, 0, 1, -1,
	    R_PY "- @0\n" },
	{ "sink_stop_on_reject", IN("SDKError:\nx\n" PY("")), 1, 0, 1, -1,
	    "rej short_block @0\n" },
	{ "sink_stop_at_end", IN("SDKError:\n"), 1, 0, 1, -1,
	    "rej truncated @0\n" },
	{ "empty_input", IN(""), 1, 0, 0, ALL, "" },
};

#define SDKLOG_ROWS (sizeof(sdklog_rows) / sizeof(sdklog_rows[0]))

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
	assert_int_equal(sizeof(YEAR_LINE) - 1, 24);
	assert_int_equal(sizeof(NOISE) - 1, 75);
	assert_int_equal(sizeof(GO("")) - 1, 154);
	assert_int_equal(sizeof(PY("")) - 1, 110);
	assert_int_equal(sizeof(JAVA("")) - 1, 162);
	assert_int_equal(sizeof(P_ISO_Z) - 1, 30);
	assert_int_equal(sizeof(P_PY) - 1, 30);
}

/*
 * Fed in two calls at every cut: the second starts where the first
 * stopped, and the events are those of one call.
 */
static void
split_feed(void **state)
{
	static const char in[] = NOISE GO(P_ISO_Z) "SDKError:\nx\n"
	    PY(P_PY) JAVA("");
	size_t len = sizeof(in) - 1, cut;
	struct log lg, whole;
	ssize_t rc;

	(void)state;
	memset(&whole, 0, sizeof(whole));
	assert_int_equal(parse_logged(in, len, 0, 1, &whole), (ssize_t)len);
	assert_int_equal(whole.events, 4);
	for (cut = 0; cut <= len; cut++) {
		memset(&lg, 0, sizeof(lg));
		rc = parse_logged(in, cut, 0, 0, &lg);
		assert_true(rc >= 0 && (size_t)rc <= cut);
		rc += parse_logged(in + rc, len - (size_t)rc, (uint64_t)rc, 1,
		    &lg);
		assert_int_equal(rc, (ssize_t)len);
		assert_string_equal(lg.text, whole.text);
	}
}

/* NULL callbacks accept everything. */
static void
null_callbacks(void **state)
{
	static const char in[] = GO("") "SDKError:\nx\n" PY("");
	struct record_sink sink = { 0 };

	(void)state;
	assert_int_equal(sdklog_parse((const uint8_t *)in, sizeof(in) - 1, 0,
	    1, &sink), (ssize_t)sizeof(in) - 1);
}

int
main(void)
{
	struct CMUnitTest tests[SDKLOG_ROWS + 3];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < SDKLOG_ROWS; i++, n++) {
		tests[n].name = sdklog_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&sdklog_rows[i];
	}
	tests[n].name = "piece_lengths";
	tests[n++].test_func = piece_lengths;
	tests[n].name = "split_feed";
	tests[n++].test_func = split_feed;
	tests[n].name = "null_callbacks";
	tests[n++].test_func = null_callbacks;
	return _cmocka_run_group_tests("sdklog", tests, n, NULL, NULL);
}
