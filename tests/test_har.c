/*
 * test_har.c - unit tests for parsers/har.c: HTTP Archive documents in,
 * records, rejects and 2xx counts out.
 *
 * Each row of har_rows is an input, how to parse it, the events the sink
 * saw (rendered one per line) and the bytes consumed.  Inputs are built
 * from the entries below; an expected offset is that of an entry's '{'
 * in the row's input, counted from the lengths noted beside each piece:
 * HEAD is 106 bytes and HEAD_MIN 19, so the first entry of a row starts
 * there and each next one after the previous entry and a comma.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "har.h"
#include "record.h"
#include "timefmt.h"

#include "logsink.h"


#define T		"2026-12-03T10:00:00.000Z"

/* 106 bytes; a string holding "}]" checks the scanner's strings. */
#define HEAD	"{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"t\"," \
		"\"version\":\"1\"},\"pages\":[{\"id\":\"p\",\"title\":" \
		"\"}]\"}],\"entries\":["
/* 19 bytes. */
#define HEAD_MIN "{\"log\":{\"entries\":["
#define TAIL	"],\"comment\":\"x\"}}\n"

#define REQ(api) "\"request\":{\"method\":\"POST\",\"url\":\"https://k/\"," \
		"\"headers\":[{\"name\":\"Host\",\"value\":\"k\"}," \
		"{\"name\":\"X-KMS-ApiName\",\"value\":\"" api "\"}]},"
#define STARTED	"\"startedDateTime\":\"2026-12-03T18:00:00.000+08:00\","
#define PB_B64(text) "\"content\":{\"size\":12,\"mimeType\":" \
		"\"application/x-protobuf\",\"encoding\":\"base64\"," \
		"\"text\":\"" text "\"}"

/* 349 bytes: a 404 with a base64 body 404 "A.B" "r1". */
#define E404	"{" STARTED REQ("Encrypt") "\"response\":{\"status\":404," \
		"\"statusText\":\"Not Found\",\"headers\":[]," \
		PB_B64("CJQDEgNBLkIiAnIx") "}}"
/* 278 bytes: a 200 to Decrypt. */
#define E200	"{" STARTED REQ("Decrypt") "\"response\":{\"status\":200," \
		"\"headers\":[],\"content\":{\"size\":3,\"mimeType\":" \
		"\"text/plain\",\"text\":\"abc\"}}}"
/* 183 bytes: a 200 to nothing that looks like KMS. */
#define E200_WEB "{" STARTED "\"request\":{\"method\":\"GET\"," \
		"\"headers\":[]},\"response\":{\"status\":200," \
		"\"headers\":[],\"content\":{\"mimeType\":\"text/html\"," \
		"\"text\":\"<p>{[\\\"}\"}}}"
/* 409 with the body as JSON text: "\x12\x03" "A.B" (code only). */
#define E409_TEXT "{" STARTED REQ("Sign") "\"response\":{\"status\":409," \
		"\"headers\":[],\"content\":{\"mimeType\":" \
		"\"application/x-protobuf\",\"text\":\"\\u0012\\u0003A.B\"}}}"
/* The type only in a response header, with parameters. */
#define E404_HDR "{" STARTED "\"response\":{\"status\":404,\"headers\":[" \
		"{\"name\":\"content-type\",\"value\":" \
		"\"Application/X-Protobuf; charset=binary\"}]," \
		"\"content\":{\"encoding\":\"base64\"," \
		"\"text\":\"CJQDEgNBLkIiAnIx\"}}}"
/* HTTP 404, body StatusCode 400. */
#define E404_400 "{" STARTED "\"response\":{\"status\":404," \
		"\"headers\":[]," PB_B64("CJADEgNBLkI=") "}}"
/* 146 bytes. */
#define E500_HTML "{" STARTED "\"response\":{\"status\":500," \
		"\"headers\":[],\"content\":{\"mimeType\":\"text/html\"," \
		"\"text\":\"<b>oops</b>\"}}}"
#define E0	"{" STARTED "\"response\":{\"status\":0,\"headers\":[]," \
		"\"content\":{},\"_error\":\"net::ERR_FAILED\"}}"
/* 27 bytes. */
#define E_BADJSON "{\"response\":{\"status\":4x4}}"
#define E_NORESP "{" STARTED REQ("Sign") "\"cache\":{}}"
#define E_NOSTATUS "{\"response\":{\"headers\":[]}}"
#define E_STATUS_STR "{\"response\":{\"status\":\"404\"}}"
#define E_NOTEXT "{\"response\":{\"status\":404,\"content\":" \
		"{\"mimeType\":\"application/x-protobuf\",\"size\":12}}}"
#define E_BADB64 "{\"response\":{\"status\":404," PB_B64("!!notb64") "}}"
#define E_NOCODE "{\"response\":{\"status\":404," PB_B64("CJQD") "}}"
#define E_BADTIME "{\"startedDateTime\":\"yesterday\"," \
		"\"response\":{\"status\":404," PB_B64("CJQDEgNBLkIiAnIx") "}}"
/*
 * 153 bytes.  No startedDateTime, no request; escaped quotes and braces
 * in strings.
 */
#define E_BARE	"{\"comment\":\"a \\\"}\\\" {\",\"response\":{\"status\":404," \
		PB_B64("CJQDEgNBLkIiAnIx") "}}"

/* An entry cut short. */
#define CUT	"{\"response\":{\"status\":20"

#define REC404	"rec 404/0 A.B||r1 api=Encrypt t=" T
#define BARE404	"rec 404/0 A.B||r1 api=- t=-"

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
	return har_parse((const uint8_t *)in, len, base, final, &sink);
}

/* --- the table --- */

#define IN(s)	(s), sizeof(s) - 1

static const struct parse_row har_rows[] = {
	{ "base64_error_body", IN(HEAD E404 TAIL), 1, 0, 0, ALL,
	    REC404 " @106\n" },
	{ "plain_text_2xx", IN(HEAD E200 TAIL), 1, 0, 0, ALL,
	    "resp 200 api=Decrypt t=" T " @106\n" },
	{ "web_2xx_not_counted", IN(HEAD E200_WEB "," E200 TAIL), 1, 0, 0,
	    ALL, "resp 200 api=Decrypt t=" T " @290\n" },
	{ "text_body", IN(HEAD_MIN E409_TEXT TAIL), 1, 0, 0, ALL,
	    "rec 409/0 A.B|| api=Sign t=" T " @19\n" },
	{ "type_from_header", IN(HEAD_MIN E404_HDR TAIL), 1, 0, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=" T " @19\n" },
	{ "body_status_disagrees", IN(HEAD_MIN E404_400 TAIL), 1, 0, 0, ALL,
	    "rec 404/400 A.B|| api=- t=" T " @19\n" },
	{ "html_error_skipped", IN(HEAD_MIN E500_HTML "," E404 TAIL), 1, 0,
	    0, ALL, REC404 " @166\n" },
	{ "status_0_skipped", IN(HEAD_MIN E0 TAIL), 1, 0, 0, ALL, "" },
	{ "missing_response", IN(HEAD_MIN E_NORESP TAIL), 1, 0, 0, ALL,
	    "rej missing_field @19\n" },
	{ "missing_status", IN(HEAD_MIN E_NOSTATUS TAIL), 1, 0, 0, ALL,
	    "rej missing_field @19\n" },
	{ "status_not_number", IN(HEAD_MIN E_STATUS_STR TAIL), 1, 0, 0, ALL,
	    "rej bad_json @19\n" },
	{ "missing_text", IN(HEAD_MIN E_NOTEXT TAIL), 1, 0, 0, ALL,
	    "rej missing_field @19\n" },
	{ "bad_base64", IN(HEAD_MIN E_BADB64 TAIL), 1, 0, 0, ALL,
	    "rej bad_base64 @19\n" },
	{ "body_without_code", IN(HEAD_MIN E_NOCODE TAIL), 1, 0, 0, ALL,
	    "rej no_code @19\n" },
	{ "time_unparseable", IN(HEAD_MIN E_BADTIME TAIL), 1, 0, 0, ALL,
	    BARE404 " @19\n" },
	{ "no_time_no_request", IN(HEAD_MIN E_BARE TAIL), 1, 0, 0, ALL,
	    BARE404 " @19\n" },
	{ "malformed_between_valid", IN(HEAD E404 "," E_BADJSON "," E200
	    TAIL), 1, 0, 0, ALL, REC404 " @106\n" "rej bad_json @456\n"
	    "resp 200 api=Decrypt t=" T " @484\n" },
	{ "entry_not_object", IN(HEAD_MIN "42, \"x\" ,[{}]," E_BARE TAIL), 1,
	    0, 0, ALL, "rej bad_json @19\n" "rej bad_json @23\n"
	    "rej bad_json @28\n" BARE404 " @33\n" },
	{ "missing_comma_tolerated", IN(HEAD_MIN E_BARE " " E_BARE ",]}}"),
	    1, 0, 0, ALL, BARE404 " @19\n" BARE404 " @173\n" },
	{ "garbage_ends_parse", IN(HEAD_MIN E_BARE ", @@, " E_BARE TAIL), 1,
	    0, 0, ALL, BARE404 " @19\n" "rej bad_json @174\n" },
	{ "pretty_printed", IN("\xef\xbb\xbf{\n  \"log\" : {\n    \"entries\""
	    " : [\n      " E_BARE "\n    ]\n  }\n}\n"), 1, 0, 0, ALL,
	    BARE404 " @41\n" },
	{ "log_after_other_members", IN("{\"x\":[1,{\"y\":\"{\"}],"
	    "\"log\":{\"pages\":[],\"entries\":[" E_BARE "]}}"), 1, 0, 0, ALL,
	    BARE404 " @48\n" },
	{ "no_entries", IN("{\"log\":{\"entries\":[]}}"), 1, 0, 0, ALL, "" },
	{ "not_har", IN("{\"foo\":1}"), 1, 0, 0, ALL,
	    "rej missing_field @0\n" },
	{ "log_without_entries", IN("{\"log\":{\"pages\":[]}}"), 1, 0, 0,
	    ALL, "rej missing_field @0\n" },
	{ "log_not_object", IN("{\"log\":[]}"), 1, 0, 0, ALL,
	    "rej bad_json @7\n" },
	{ "top_not_object", IN("[1,2]"), 1, 0, 0, ALL, "rej bad_json @0\n" },
	{ "bad_json_before_log", IN("{\"x\" 1, \"log\":{}}"), 1, 0, 0, ALL,
	    "rej bad_json @5\n" },
	{ "truncated_final", IN(HEAD E404 "," CUT), 1, 0, 0, ALL,
	    REC404 " @106\n" "rej truncated @456\n" },
	{ "truncated_waits", IN(HEAD E404 "," CUT), 0, 0, 0, 455,
	    REC404 " @106\n" },
	{ "before_entries_waits", IN("{\"log\":{\"version\":\"1.2\",\"ent"),
	    0, 0, 0, 0, "" },
	{ "before_entries_final", IN("{\"log\":{\"version\":\"1.2\",\"ent"),
	    1, 0, 0, ALL, "rej truncated @0\n" },
	{ "head_consumed", IN(HEAD_MIN "\n  "), 0, 0, 0, 19, "" },
	{ "array_end_waits", IN(HEAD_MIN E_BARE "\n]}"), 0, 0, 0, 173,
	    BARE404 " @19\n" },
	{ "array_unclosed_final", IN(HEAD_MIN E_BARE ",\n"), 1, 0, 0, ALL,
	    BARE404 " @19\n" "rej truncated @174\n" },
	{ "resume_after_entry", IN(",\n" E_BARE "]}}"), 1, 1000, 0, ALL,
	    "rec 404/0 A.B||r1 api=- t=- @1002\n" },
	{ "resume_after_bracket", IN(E_BARE "," E_BARE "]}}"), 1, 1000, 0,
	    ALL, "rec 404/0 A.B||r1 api=- t=- @1000\n"
	    "rec 404/0 A.B||r1 api=- t=- @1154\n" },
	{ "resume_at_close_waits", IN("]}\n}"), 0, 1000, 0, 0, "" },
	{ "resume_at_close_final", IN("]}\n}"), 1, 1000, 0, ALL, "" },
	{ "resume_scalar_waits", IN(",42"), 0, 1000, 0, 0, "" },
	{ "sink_stop_on_record", IN(HEAD E404 "," E404 TAIL), 1, 0, 1, -1,
	    REC404 " @106\n" },
	{ "sink_stop_on_response", IN(HEAD E200 "," E404 TAIL), 1, 0, 1, -1,
	    "resp 200 api=Decrypt t=" T " @106\n" },
	{ "sink_stop_on_reject", IN(HEAD_MIN E_BADJSON "," E404 TAIL), 1, 0,
	    1, -1, "rej bad_json @19\n" },
	{ "empty_input", IN(""), 1, 0, 0, ALL, "" },
};

#define HAR_ROWS (sizeof(har_rows) / sizeof(har_rows[0]))

static void
row_run(void **state)
{
	logsink_check_row(*state, parse_logged);
}

/* --- tests outside the table --- */

/* The pieces' lengths the offsets above were counted from. */
static void
piece_lengths(void **state)
{
	(void)state;
	assert_int_equal(sizeof(HEAD) - 1, 106);
	assert_int_equal(sizeof(HEAD_MIN) - 1, 19);
	assert_int_equal(sizeof(E404) - 1, 349);
	assert_int_equal(sizeof(E200) - 1, 278);
	assert_int_equal(sizeof(E200_WEB) - 1, 183);
	assert_int_equal(sizeof(E500_HTML) - 1, 146);
	assert_int_equal(sizeof(E_BADJSON) - 1, 27);
	assert_int_equal(sizeof(E_BARE) - 1, 153);
}

/*
 * An entry over HAR_MAX_ENTRY is refused unparsed, and the next one is
 * still found.
 */
static void
oversized_entry(void **state)
{
	static const char pre[] = HEAD_MIN "{\"pad\":\"";
	static const char post[] = "\"}," E_BARE TAIL;
	size_t pl = sizeof(pre) - 1, pad = HAR_MAX_ENTRY, n;
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
	snprintf(want, sizeof(want), "rej oversized @19\n" BARE404 " @%zu\n",
	    pl + pad + 3);
	assert_string_equal(lg.text, want);
	free(in);
}

/*
 * Fed in two calls at every cut, as a reader would: the second call
 * starts where the first stopped (at the start, just inside the array,
 * or after an entry), and the events are those of one call.
 */
static void
split_feed(void **state)
{
	static const char in[] = HEAD E404 "," E_BADJSON ",\n" E200 TAIL;
	size_t len = sizeof(in) - 1, cut;
	struct log lg, whole;
	ssize_t rc;

	(void)state;
	memset(&whole, 0, sizeof(whole));
	assert_int_equal(parse_logged(in, len, 0, 1, &whole), (ssize_t)len);
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
	static const char in[] = HEAD E404 "," E_BADJSON "," E200 TAIL;
	struct record_sink sink = { 0 };

	(void)state;
	assert_int_equal(har_parse((const uint8_t *)in, sizeof(in) - 1, 0, 1,
	    &sink), (ssize_t)sizeof(in) - 1);
}

int
main(void)
{
	struct CMUnitTest tests[HAR_ROWS + 4];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < HAR_ROWS; i++, n++) {
		tests[n].name = har_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&har_rows[i];
	}
	tests[n].name = "piece_lengths";
	tests[n++].test_func = piece_lengths;
	tests[n].name = "oversized_entry";
	tests[n++].test_func = oversized_entry;
	tests[n].name = "split_feed";
	tests[n++].test_func = split_feed;
	tests[n].name = "null_callbacks";
	tests[n++].test_func = null_callbacks;
	return _cmocka_run_group_tests("har", tests, n, NULL, NULL);
}
