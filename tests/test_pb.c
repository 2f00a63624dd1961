/*
 * test_pb.c - unit tests for parsers/pb.c: length-delimited api.Error
 * frames in, records and rejects out.
 *
 * Each row of pb_rows builds its input from a short script of encoding
 * steps (a tiny protobuf encoder lives below), parses it, and compares the
 * events the sink saw, rendered one per line, and the bytes consumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pb.h"
#include "record.h"

#define ALL		(-2)	/* consumed: the whole input */
#define OUT_MAX		4096
#define LOG_MAX		4096

/* --- the event log sink --- */

struct log {
	char text[LOG_MAX];
	size_t len;
	int events;
	int stop_after;		/* the nth event returns -1; 0 never */
};

static int
log_add(struct log *lg, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(lg->text + lg->len, sizeof(lg->text) - lg->len, fmt,
	    ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(lg->text) - lg->len)
		lg->len += (size_t)n;
	lg->events++;
	return lg->stop_after != 0 && lg->events >= lg->stop_after ? -1 : 0;
}

static int
log_record(void *ctx, const struct record *r)
{
	assert_true(r->time_ms == RECORD_TIME_UNKNOWN);
	assert_null(r->api);
	return log_add(ctx, "rec %d/%d %s|%s|%s @%llu\n", r->status,
	    r->body_status, r->code, r->message, r->request_id,
	    (unsigned long long)r->offset);
}

static int
log_reject(void *ctx, const struct reject *rej)
{
	assert_non_null(rej->detail);
	return log_add(ctx, "rej %s @%llu\n", record_reason_name(rej->reason),
	    (unsigned long long)rej->offset);
}

static int
log_response(void *ctx, int64_t time_ms, const char *api, int status,
    uint64_t offset)
{
	(void)time_ms;
	(void)api;
	(void)offset;
	return log_add(ctx, "resp %d\n", status);
}

/* --- a tiny protobuf encoder --- */

enum op_kind {
	OP_END = 0,
	OP_BEGIN,		/* start a frame */
	OP_FINISH,		/* end it: prefix its length */
	OP_VARINT,		/* field, varint value */
	OP_STRING,		/* field, bytes */
	OP_FIXED64,		/* field, 8 bytes */
	OP_FIXED32,		/* field, 4 bytes */
	OP_RAW,			/* bytes as they are */
};

struct op {
	enum op_kind kind;
	uint64_t field;
	uint64_t value;
	const char *bytes;
	size_t n;
};

#define BEGIN		{ OP_BEGIN, 0, 0, NULL, 0 }
#define FINISH		{ OP_FINISH, 0, 0, NULL, 0 }
#define VARINT(f, v)	{ OP_VARINT, (f), (uint64_t)(v), NULL, 0 }
#define STRING(f, s)	{ OP_STRING, (f), 0, (s), sizeof(s) - 1 }
#define FIXED64(f)	{ OP_FIXED64, (f), 0, NULL, 0 }
#define FIXED32(f)	{ OP_FIXED32, (f), 0, NULL, 0 }
#define RAW(s)		{ OP_RAW, 0, 0, (s), sizeof(s) - 1 }

/* A 16-byte frame: 404, "A.B", "m", "r1". */
#define GOOD		BEGIN, VARINT(1, 404), STRING(2, "A.B"), \
			STRING(3, "m"), STRING(4, "r1"), FINISH
#define GOOD_AT(n)	"rec 404/0 A.B|m|r1 @" #n "\n"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put_varint(struct buf *b, uint64_t v)
{
	uint8_t c;

	do {
		c = v & 0x7f;
		v >>= 7;
		if (v != 0)
			c |= 0x80;
		buf_put(b, &c, 1);
	} while (v != 0);
}

static void
put_tag(struct buf *b, uint64_t field, unsigned wt)
{
	put_varint(b, field << 3 | wt);
}

static void
op_encode(struct buf *b, const struct op *op)
{
	static const char zeros[8];

	switch (op->kind) {
	case OP_VARINT:
		put_tag(b, op->field, 0);
		put_varint(b, op->value);
		break;
	case OP_STRING:
		put_tag(b, op->field, 2);
		put_varint(b, op->n);
		buf_put(b, op->bytes, op->n);
		break;
	case OP_FIXED64:
		put_tag(b, op->field, 1);
		buf_put(b, zeros, 8);
		break;
	case OP_FIXED32:
		put_tag(b, op->field, 5);
		buf_put(b, zeros, 4);
		break;
	case OP_RAW:
		buf_put(b, op->bytes, op->n);
		break;
	default:
		break;
	}
}

/* Runs a script; frames are built aside, then prefixed and appended. */
static void
script_encode(const struct op *ops, struct buf *out)
{
	struct buf frame = { 0 };
	int in_frame = 0;

	for (; ops->kind != OP_END; ops++) {
		if (ops->kind == OP_BEGIN) {
			frame.len = 0;
			in_frame = 1;
		} else if (ops->kind == OP_FINISH) {
			put_varint(out, frame.len);
			buf_put(out, frame.p, frame.len);
			in_frame = 0;
		} else
			op_encode(in_frame ? &frame : out, ops);
	}
	free(frame.p);
}

/* --- the table --- */

struct pb_row {
	const char *name;
	struct op ops[16];
	int final;
	uint64_t base;
	int stop_after;
	long consumed;		/* ALL, or a count; -1 for a stop */
	const char *want;
};

static const struct pb_row pb_rows[] = {
	{ "valid", { GOOD }, 1, 0, 0, ALL, GOOD_AT(0) },
	{ "valid_two_with_base", { GOOD, GOOD }, 1, 1000, 0, ALL,
	    GOOD_AT(1000) GOOD_AT(1016) },
	{ "empty_input", { { OP_END, 0, 0, NULL, 0 } }, 1, 0, 0, ALL, "" },
	{ "negative_status", { BEGIN, VARINT(1, -1), STRING(2, "X"),
	    FINISH }, 1, 0, 0, ALL, "rec -1/0 X|| @0\n" },
	{ "defaults_empty", { BEGIN, STRING(2, "X"), FINISH }, 1, 0, 0, ALL,
	    "rec 0/0 X|| @0\n" },
	{ "utf8_multibyte_ok", { BEGIN, STRING(2, "K"),
	    STRING(3, "\xc3\xa9\xe2\x82\xac\xf0\x90\x8d\x88"), FINISH }, 1,
	    0, 0, ALL, "rec 0/0 K|\xc3\xa9\xe2\x82\xac\xf0\x90\x8d\x88| @0\n" },
	{ "unknown_fields_skipped", { BEGIN, VARINT(5, 7), FIXED64(6),
	    STRING(7, "\xff\xfe"), FIXED32(8), VARINT(100000, 1),
	    STRING(2, "X"), VARINT(1, 500), FINISH }, 1, 0, 0, ALL,
	    "rec 500/0 X|| @0\n" },
	{ "repeated_field_last_wins", { BEGIN, STRING(2, "A"),
	    STRING(2, "B"), VARINT(1, 1), VARINT(1, 2), FINISH }, 1, 0, 0,
	    ALL, "rec 2/0 B|| @0\n" },
	{ "truncated_string", { BEGIN, VARINT(1, 404), RAW("\x12\x05" "ab"),
	    FINISH, GOOD }, 1, 0, 0, ALL, "rej truncated @4\n" GOOD_AT(8) },
	{ "truncated_varint", { BEGIN, RAW("\x08\x80"), FINISH }, 1, 0, 0,
	    ALL, "rej truncated @1\n" },
	{ "truncated_fixed64", { BEGIN, RAW("\x31\x00\x00"), FINISH }, 1, 0,
	    0, ALL, "rej truncated @1\n" },
	{ "truncated_tag", { BEGIN, STRING(2, "X"), RAW("\x80"), FINISH }, 1,
	    0, 0, ALL, "rej truncated @4\n" },
	{ "bad_varint_11_bytes", { BEGIN, RAW("\x08\xff\xff\xff\xff\xff"
	    "\xff\xff\xff\xff\xff\x01"), FINISH }, 1, 0, 0, ALL,
	    "rej bad_varint @2\n" },
	{ "bad_varint_overflow", { BEGIN, RAW("\x08\x80\x80\x80\x80\x80"
	    "\x80\x80\x80\x80\x02"), FINISH }, 1, 0, 0, ALL,
	    "rej bad_varint @2\n" },
	{ "bad_varint_long_tag", { BEGIN, RAW("\x88\x80\x80\x80\x80\x00"),
	    FINISH }, 1, 0, 0, ALL, "rej bad_varint @1\n" },
	{ "bad_varint_long_length", { BEGIN, RAW("\x12\x81\x80\x80\x80\x80"
	    "\x00" "X"), FINISH }, 1, 0, 0, ALL, "rej bad_varint @2\n" },
	{ "wire_type_status_as_string", { BEGIN, STRING(1, "X"), FINISH },
	    1, 0, 0, ALL, "rej wire_type @1\n" },
	{ "wire_type_code_as_varint", { BEGIN, VARINT(2, 5), FINISH }, 1, 0,
	    0, ALL, "rej wire_type @1\n" },
	{ "wire_type_request_id_fixed32", { BEGIN, STRING(2, "X"),
	    FIXED32(4), FINISH }, 1, 0, 0, ALL, "rej wire_type @4\n" },
	{ "utf8_overlong", { BEGIN, STRING(2, "\xc0\xaf"), FINISH }, 1, 0, 0,
	    ALL, "rej bad_utf8 @3\n" },
	{ "utf8_overlong_3byte", { BEGIN, STRING(2, "\xe0\x80\xaf"),
	    FINISH }, 1, 0, 0, ALL, "rej bad_utf8 @3\n" },
	{ "utf8_surrogate", { BEGIN, STRING(2, "a\xed\xa0\x80"), FINISH },
	    1, 0, 0, ALL, "rej bad_utf8 @4\n" },
	{ "utf8_above_max", { BEGIN, STRING(2, "X"),
	    STRING(3, "\xf4\x90\x80\x80"), FINISH }, 1, 0, 0, ALL,
	    "rej bad_utf8 @6\n" },
	{ "utf8_cut_sequence", { BEGIN, STRING(2, "ab\xe2\x82"), FINISH },
	    1, 0, 0, ALL, "rej bad_utf8 @5\n" },
	{ "utf8_stray_continuation", { BEGIN, STRING(4, "\x80"), FINISH },
	    1, 0, 0, ALL, "rej bad_utf8 @3\n" },
	{ "utf8_nul", { BEGIN, STRING(2, "a\0b"), FINISH }, 1, 0, 0, ALL,
	    "rej bad_utf8 @4\n" },
	{ "field_zero", { BEGIN, RAW("\x00\x01"), FINISH }, 1, 0, 0, ALL,
	    "rej bad_field @1\n" },
	{ "field_number_too_big", { BEGIN, RAW("\xf8\xff\xff\xff\x1f\x00"),
	    FINISH }, 1, 0, 0, ALL, "rej bad_field @1\n" },
	{ "wire_type_6", { BEGIN, RAW("\x4e\x00"), FINISH }, 1, 0, 0, ALL,
	    "rej bad_field @1\n" },
	{ "wire_type_7_on_status", { BEGIN, RAW("\x0f\x00"), FINISH }, 1, 0,
	    0, ALL, "rej bad_field @1\n" },
	{ "group_start", { BEGIN, RAW("\x2b\x2c"), STRING(2, "X"), FINISH },
	    1, 0, 0, ALL, "rej bad_field @1\n" },
	{ "no_code", { GOOD, BEGIN, VARINT(1, 404), STRING(3, "m"), FINISH },
	    1, 0, 0, ALL, GOOD_AT(0) "rej no_code @16\n" },
	{ "no_code_empty_string", { BEGIN, STRING(2, ""), FINISH }, 1, 0, 0,
	    ALL, "rej no_code @0\n" },
	{ "empty_frame", { RAW("\x00"), GOOD }, 1, 0, 0, ALL,
	    "rej no_code @0\n" GOOD_AT(1) },
	{ "oversized_frame", { GOOD, RAW("\x81\x80\x40\x12\x01X"), GOOD }, 1,
	    0, 0, ALL, GOOD_AT(0) "rej oversized @16\n" },
	{ "bad_length_prefix", { GOOD, RAW("\xff\xff\xff\xff\xff\xff\xff"
	    "\xff\xff\xff\x01"), GOOD }, 1, 0, 0, ALL,
	    GOOD_AT(0) "rej bad_varint @16\n" },
	{ "resync_after_bad_frame", { GOOD, BEGIN, RAW("\x4e"), FINISH,
	    GOOD }, 1, 0, 0, ALL, GOOD_AT(0) "rej bad_field @17\n"
	    GOOD_AT(18) },
	{ "resync_after_truncated_body", { GOOD, BEGIN, STRING(2, "X"),
	    RAW("\x1a\x7f"), FINISH, GOOD }, 1, 0, 0, ALL,
	    GOOD_AT(0) "rej truncated @20\n" GOOD_AT(22) },
	{ "partial_frame_waits", { GOOD, RAW("\x10\x08\x01") }, 0, 0, 0, 16,
	    GOOD_AT(0) },
	{ "partial_frame_final", { GOOD, RAW("\x10\x08\x01") }, 1, 0, 0, ALL,
	    GOOD_AT(0) "rej truncated @16\n" },
	{ "partial_prefix_waits", { GOOD, RAW("\x80") }, 0, 0, 0, 16,
	    GOOD_AT(0) },
	{ "partial_prefix_final", { GOOD, RAW("\x80") }, 1, 7, 0, ALL,
	    GOOD_AT(7) "rej truncated @23\n" },
	{ "complete_input_not_final", { GOOD, GOOD }, 0, 0, 0, ALL,
	    GOOD_AT(0) GOOD_AT(16) },
	{ "sink_stop_on_record", { GOOD, GOOD }, 1, 0, 1, -1, GOOD_AT(0) },
	{ "sink_stop_on_reject", { RAW("\x01\x00"), GOOD }, 1, 0, 1, -1,
	    "rej bad_field @1\n" },
};

#define PB_ROWS (sizeof(pb_rows) / sizeof(pb_rows[0]))

static void
row_run(void **state)
{
	const struct pb_row *row = *state;
	struct record_sink sink;
	struct log lg;
	struct buf in = { 0 };
	ssize_t rc;

	memset(&lg, 0, sizeof(lg));
	lg.stop_after = row->stop_after;
	sink.ctx = &lg;
	sink.on_record = log_record;
	sink.on_reject = log_reject;
	sink.on_response = log_response;
	script_encode(row->ops, &in);

	rc = pb_parse(in.p, in.len, row->base, row->final, &sink);
	assert_string_equal(lg.text, row->want);
	if (row->consumed == ALL)
		assert_int_equal(rc, (ssize_t)in.len);
	else
		assert_int_equal(rc, row->consumed);
	free(in.p);
}

/* --- tests outside the table --- */

/* Offsets from pb_decode_error are relative; a scratch is reused. */
static void
decode_direct(void **state)
{
	static const uint8_t bad[] = { 0x12, 0x02, 'a', 0xff };
	static const uint8_t good[] = { 0x08, 0x2d, 0x12, 0x01, 'Z' };
	struct pb_scratch *scratch = NULL;
	struct record rec = { 0 };
	struct reject rej = { 0 };

	(void)state;
	assert_int_equal(pb_decode_error(bad, sizeof(bad), &rec, &rej,
	    &scratch), -1);
	assert_int_equal(rej.reason, REJECT_BAD_UTF8);
	assert_int_equal(rej.offset, 3);

	assert_int_equal(pb_decode_error(good, sizeof(good), &rec, &rej,
	    &scratch), 0);
	assert_non_null(scratch);
	assert_int_equal(rec.status, 45);
	assert_string_equal(rec.code, "Z");
	assert_string_equal(rec.message, "");
	assert_int_equal(pb_decode_error(good, 2, &rec, &rej, &scratch), -1);
	assert_int_equal(rej.reason, REJECT_NO_CODE);
	pb_scratch_free(scratch);
	pb_scratch_free(NULL);
}

/* Thousands of unknown fields make protobuf-c allocate past the arena. */
static void
many_unknown_fields(void **state)
{
	struct buf in = { 0 }, msg = { 0 };
	struct record_sink sink = { 0 };
	struct log lg;
	int i;

	(void)state;
	memset(&lg, 0, sizeof(lg));
	for (i = 0; i < 5000; i++) {
		put_tag(&msg, 9, 0);
		put_varint(&msg, (uint64_t)i);
	}
	put_tag(&msg, 2, 2);
	put_varint(&msg, 1);
	buf_put(&msg, "Q", 1);
	put_varint(&in, msg.len);
	buf_put(&in, msg.p, msg.len);
	buf_put(&in, in.p, in.len);	/* twice, to reuse the scratch */

	sink.ctx = &lg;
	sink.on_record = log_record;
	sink.on_reject = log_reject;
	assert_int_equal(pb_parse(in.p, in.len, 0, 1, &sink),
	    (ssize_t)in.len);
	assert_int_equal(lg.events, 2);
	assert_non_null(strstr(lg.text, "rec 0/0 Q||"));
	free(in.p);
	free(msg.p);
}

/* A message of exactly PB_MAX_MESSAGE bytes passes; one more does not. */
static void
size_limit(void **state)
{
	struct buf in = { 0 };
	struct record_sink sink = { 0 };
	struct log lg;
	size_t text = PB_MAX_MESSAGE - 3 - 4;	/* tags, code, length */
	char *fill = malloc(text + 1);

	(void)state;
	assert_non_null(fill);
	memset(fill, 'x', text + 1);
	memset(&lg, 0, sizeof(lg));
	sink.ctx = &lg;
	sink.on_record = log_record;
	sink.on_reject = log_reject;

	put_varint(&in, PB_MAX_MESSAGE);
	buf_put(&in, "\x12\x01" "C" "\x1a", 4);
	put_varint(&in, text);		/* 3 bytes for this size */
	buf_put(&in, fill, text);
	assert_int_equal(pb_parse(in.p, in.len, 0, 1, &sink),
	    (ssize_t)in.len);
	assert_int_equal(lg.events, 1);
	assert_memory_equal(lg.text, "rec 0/0 C|xxx", 13);

	in.len = 0;
	lg.len = 0;
	lg.text[0] = '\0';
	put_varint(&in, PB_MAX_MESSAGE + 1);
	buf_put(&in, fill, text + 1);
	assert_int_equal(pb_parse(in.p, in.len, 0, 0, &sink),
	    (ssize_t)in.len);
	assert_string_equal(lg.text, "rej oversized @0\n");
	free(fill);
	free(in.p);
}

int
main(void)
{
	struct CMUnitTest tests[PB_ROWS + 3];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < PB_ROWS; i++, n++) {
		tests[n].name = pb_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&pb_rows[i];
	}
	tests[n].name = "decode_direct";
	tests[n++].test_func = decode_direct;
	tests[n].name = "many_unknown_fields";
	tests[n++].test_func = many_unknown_fields;
	tests[n].name = "size_limit";
	tests[n++].test_func = size_limit;
	return _cmocka_run_group_tests("pb", tests, n, NULL, NULL);
}
