/*
 * pb.c - Dedicated KMS Error messages in protobuf, one at a time or as a
 * stream of varint length-delimited frames (what writeDelimitedTo and
 * parseDelimitedFrom use).
 *
 * Implements the wire format of proto/kms_error.proto (api.Error: field 1
 * int32 StatusCode, fields 2-4 string ErrorCode, ErrorMessage, RequestId)
 * as described in the protobuf encoding guide.  Before protobuf-c sees a
 * message, this file walks its tags itself, so that a refusal names the
 * precise reason and byte; protobuf-c's api__error__unpack then does the
 * decoding.  Its allocations go to an arena in struct pb_scratch, reset
 * for every message, so steady-state decoding does not call malloc.
 *
 * This module owns the scratch arena and the frame loop; it does not own
 * what the sink does with a record, and it keeps no state between calls.
 *
 * Deliberate deviations from the protobuf specification:
 * - Groups (wire types 3 and 4) are refused as a bad field: protobuf-c
 *   cannot skip them and Error never had any.
 * - A tag or length varint over 5 bytes is a bad varint: both are 32-bit
 *   quantities, and protobuf-c would refuse them anyway.
 * - A string holding a NUL byte is refused as bad UTF-8, because records
 *   carry C strings and would silently lose the rest of it.
 * - A frame length over PB_MAX_MESSAGE ends the parse, like a bad length
 *   varint: a real Error is a few hundred bytes, so such a length means we
 *   lost the framing, and skipping by it would land on garbage.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/kms_error.pb-c.h"
#include "pb.h"

#define VARINT_MAX	10	/* bytes in the longest varint */
#define VARINT32_MAX	5	/* bytes in the longest 32-bit varint */
#define ARENA_MIN	4096
#define ARENA_ALIGN	alignof(max_align_t)

enum varint_rc {
	VARINT_OK,
	VARINT_SHORT,		/* input ends inside the varint */
	VARINT_BAD,		/* over 10 bytes, or over 64 bits */
};

enum wire_type {
	WIRE_VARINT = 0,
	WIRE_FIXED64 = 1,
	WIRE_LEN = 2,
	WIRE_GROUP_START = 3,
	WIRE_GROUP_END = 4,
	WIRE_FIXED32 = 5,
};

/* Header of an allocation the arena could not hold. */
union spill {
	struct {
		union spill *prev, *next;
	} link;
	max_align_t align;
};

struct pb_scratch {
	ProtobufCAllocator allocator;
	unsigned char *arena;
	size_t cap;
	size_t used;
	union spill *spills;	/* allocations beyond the arena */
	Api__Error *msg;	/* the last message decoded, in the arena */
};

/*
 * Reads a varint at p[0..len).  On VARINT_OK sets *v and *n (bytes used).
 * The tenth byte may only carry the 64th bit.
 */
static enum varint_rc
varint_read(const uint8_t *p, size_t len, uint64_t *v, size_t *n)
{
	uint64_t val = 0;
	size_t i;

	for (i = 0; i < len && i < VARINT_MAX; i++) {
		if (i == VARINT_MAX - 1 && p[i] > 1)
			return VARINT_BAD;
		val |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*v = val;
			*n = i + 1;
			return VARINT_OK;
		}
	}
	return i == VARINT_MAX ? VARINT_BAD : VARINT_SHORT;
}

/* Length of the UTF-8 sequence led by b, and its second byte's range. */
static size_t
utf8_lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef) {
		if (b == 0xe0)
			*lo = 0xa0;	/* overlong */
		else if (b == 0xed)
			*hi = 0x9f;	/* surrogates */
		return 3;
	}
	if (b >= 0xf0 && b <= 0xf4) {
		if (b == 0xf0)
			*lo = 0x90;	/* overlong */
		else if (b == 0xf4)
			*hi = 0x8f;	/* beyond U+10FFFF */
		return 4;
	}
	return 0;
}

/*
 * Checks p[0..len) is UTF-8 (RFC 3629) without NUL bytes.  Returns len, or
 * the offset of the first byte of the first bad sequence.
 */
static size_t
utf8_check(const uint8_t *p, size_t len)
{
	size_t i = 0, n, k;
	uint8_t lo, hi;

	while (i < len) {
		if (p[i] >= 0x01 && p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_lead(p[i], &lo, &hi)) == 0 || len - i < n)
			return i;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return i;
		for (k = 2; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
		i += n;
	}
	return len;
}

static int
reject_set(struct reject *rej, size_t at, enum reject_reason reason,
    const char *detail)
{
	rej->offset = at;
	rej->reason = reason;
	rej->detail = detail;
	return -1;
}

/* Checks one length-delimited value at msg[*pos]; string when text. */
static int
len_field_check(const uint8_t *msg, size_t len, size_t *pos, size_t tag_at,
    int text, struct reject *rej)
{
	uint64_t n;
	size_t used, bad;

	switch (varint_read(msg + *pos, len - *pos, &n, &used)) {
	case VARINT_SHORT:
		return reject_set(rej, tag_at, REJECT_TRUNCATED,
		    "length runs past the message end");
	case VARINT_BAD:
		return reject_set(rej, *pos, REJECT_BAD_VARINT,
		    "bad length varint");
	case VARINT_OK:
		break;
	}
	if (used > VARINT32_MAX)
		return reject_set(rej, *pos, REJECT_BAD_VARINT,
		    "length varint over 5 bytes");
	*pos += used;
	if (n > len - *pos)
		return reject_set(rej, tag_at, REJECT_TRUNCATED,
		    "field runs past the message end");

	if (text && (bad = utf8_check(msg + *pos, n)) != n)
		return reject_set(rej, *pos + bad, REJECT_BAD_UTF8,
		    "string field is not UTF-8 or holds a NUL");
	*pos += n;
	return 0;
}

/* Skips the varint value at msg[*pos]. */
static int
varint_field_check(const uint8_t *msg, size_t len, size_t *pos,
    size_t tag_at, struct reject *rej)
{
	uint64_t v;
	size_t used;

	switch (varint_read(msg + *pos, len - *pos, &v, &used)) {
	case VARINT_SHORT:
		return reject_set(rej, tag_at, REJECT_TRUNCATED,
		    "varint runs past the message end");
	case VARINT_BAD:
		return reject_set(rej, *pos, REJECT_BAD_VARINT,
		    "varint over 10 bytes or 64 bits");
	case VARINT_OK:
		break;
	}
	*pos += used;
	return 0;
}

/* Skips a fixed-size value of n bytes at msg[*pos]. */
static int
fixed_field_check(size_t len, size_t *pos, size_t n, size_t tag_at,
    struct reject *rej)
{
	if (len - *pos < n)
		return reject_set(rej, tag_at, REJECT_TRUNCATED,
		    "fixed-size field runs past the message end");
	*pos += n;
	return 0;
}

/* Checks the value of field (wire type wt) that starts at msg[*pos]. */
static int
value_check(const uint8_t *msg, size_t len, size_t *pos, uint64_t field,
    unsigned wt, size_t tag_at, struct reject *rej)
{
	if (wt != WIRE_VARINT && wt != WIRE_FIXED64 && wt != WIRE_LEN &&
	    wt != WIRE_FIXED32)
		return reject_set(rej, tag_at, REJECT_BAD_FIELD,
		    "group or reserved wire type");
	if (field == 1 && wt != WIRE_VARINT)
		return reject_set(rej, tag_at, REJECT_WIRE_TYPE,
		    "StatusCode is not a varint");
	if (field >= 2 && field <= 4 && wt != WIRE_LEN)
		return reject_set(rej, tag_at, REJECT_WIRE_TYPE,
		    "string field is not length-delimited");

	switch (wt) {
	case WIRE_VARINT:
		return varint_field_check(msg, len, pos, tag_at, rej);
	case WIRE_FIXED64:
		return fixed_field_check(len, pos, 8, tag_at, rej);
	case WIRE_FIXED32:
		return fixed_field_check(len, pos, 4, tag_at, rej);
	}
	return len_field_check(msg, len, pos, tag_at, field >= 2 && field <= 4,
	    rej);
}

/* Reads the tag at msg[*pos] into *field and *wt. */
static int
tag_read(const uint8_t *msg, size_t len, size_t *pos, uint64_t *field,
    unsigned *wt, struct reject *rej)
{
	uint64_t tag;
	size_t used;

	switch (varint_read(msg + *pos, len - *pos, &tag, &used)) {
	case VARINT_SHORT:
		return reject_set(rej, *pos, REJECT_TRUNCATED,
		    "tag runs past the message end");
	case VARINT_BAD:
		return reject_set(rej, *pos, REJECT_BAD_VARINT,
		    "bad tag varint");
	case VARINT_OK:
		break;
	}
	if (used > VARINT32_MAX)
		return reject_set(rej, *pos, REJECT_BAD_VARINT,
		    "tag varint over 5 bytes");
	if (tag > UINT32_MAX || tag >> 3 == 0)
		return reject_set(rej, *pos, REJECT_BAD_FIELD,
		    "field number 0 or out of range");
	*pos += used;
	*field = tag >> 3;
	*wt = (unsigned)(tag & 7);
	return 0;
}

/* Walks every field of msg, so that protobuf-c only sees good input. */
static int
message_check(const uint8_t *msg, size_t len, struct reject *rej)
{
	size_t pos = 0, tag_at;
	uint64_t field;
	unsigned wt;

	while (pos < len) {
		tag_at = pos;
		if (tag_read(msg, len, &pos, &field, &wt, rej) != 0)
			return -1;
		if (value_check(msg, len, &pos, field, wt, tag_at, rej) != 0)
			return -1;
	}
	return 0;
}

/* A place for protobuf-c's allocation: the arena when it fits. */
static void *
scratch_alloc(void *data, size_t size)
{
	struct pb_scratch *s = data;
	union spill *sp;
	size_t need;

	need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (need >= size && need <= s->cap - s->used) {
		s->used += need;
		return s->arena + s->used - need;
	}

	if (size > SIZE_MAX - sizeof(*sp) || !(sp = malloc(sizeof(*sp) + size)))
		return NULL;
	sp->link.prev = NULL;
	sp->link.next = s->spills;
	if (s->spills != NULL)
		s->spills->link.prev = sp;
	s->spills = sp;
	return sp + 1;
}

/*
 * protobuf-c frees the memory it used while scanning and the strings it
 * replaces.  Arena memory goes back at the next reset; only spilled blocks
 * are freed here.  A pointer we never handed out (protobuf-c's own empty
 * string, say) is ignored rather than trusted.
 */
static void
scratch_release(void *data, void *ptr)
{
	struct pb_scratch *s = data;
	union spill *sp;

	for (sp = s->spills; sp != NULL; sp = sp->link.next) {
		if ((void *)(sp + 1) != ptr)
			continue;
		if (sp->link.prev != NULL)
			sp->link.prev->link.next = sp->link.next;
		else
			s->spills = sp->link.next;
		if (sp->link.next != NULL)
			sp->link.next->link.prev = sp->link.prev;
		free(sp);
		return;
	}
}

/* Forgets the last message and sizes the arena for one of len bytes. */
static int
scratch_reset(struct pb_scratch *s, size_t len)
{
	union spill *sp;
	size_t need;

	while ((sp = s->spills) != NULL) {
		s->spills = sp->link.next;
		free(sp);
	}
	s->used = 0;
	s->msg = NULL;

	/* The struct, each string with its NUL, and rounding: no spill. */
	need = sizeof(Api__Error) + len + 8 * ARENA_ALIGN;
	if (need <= s->cap)
		return 0;
	if (need < ARENA_MIN)
		need = ARENA_MIN;
	free(s->arena);
	s->cap = 0;
	if ((s->arena = malloc(need)) == NULL)
		return -1;
	s->cap = need;
	return 0;
}

static struct pb_scratch *
scratch_new(void)
{
	struct pb_scratch *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->allocator.alloc = scratch_alloc;
	s->allocator.free = scratch_release;
	s->allocator.allocator_data = s;
	return s;
}

/*
 * Frees a scratch and every string it holds; scratch may be NULL.
 */
void
pb_scratch_free(struct pb_scratch *scratch)
{
	if (scratch == NULL)
		return;
	scratch_reset(scratch, 0);
	free(scratch->arena);
	free(scratch);
}

/* Runs protobuf-c over a message message_check() accepted. */
static int
message_unpack(const uint8_t *msg, size_t len, struct pb_scratch *s,
    struct reject *rej)
{
	if (scratch_reset(s, len) != 0)
		return reject_set(rej, 0, REJECT_DECODE, "out of memory");

	/*
	 * The message and its strings live in the arena: never call
	 * api__error__free_unpacked on it, the next reset reclaims it.
	 */
	s->msg = api__error__unpack(&s->allocator, len, msg);
	if (s->msg == NULL)
		return reject_set(rej, 0, REJECT_DECODE,
		    "protobuf-c refused the message");
	if (s->msg->errorcode == NULL || s->msg->errorcode[0] == '\0')
		return reject_set(rej, 0, REJECT_NO_CODE,
		    "message has no ErrorCode");
	return 0;
}

/*
 * Validates and decodes one Error message body of len bytes.  On success
 * returns 0 and sets rec's status (the body's StatusCode), code, message
 * and request_id, leaving its other fields alone; the strings belong to
 * *scratch and stay valid until the next call with the same scratch or
 * pb_scratch_free().  *scratch may be NULL: one is allocated and left
 * there for reuse.  On failure returns -1 and fills rej, whose offset is
 * that of the bad byte relative to msg (0 for a message without an
 * ErrorCode, and when out of memory, reported as REJECT_DECODE).
 */
int
pb_decode_error(const uint8_t *msg, size_t len, struct record *rec,
    struct reject *rej, struct pb_scratch **scratch)
{
	Api__Error *e;

	if (len > PB_MAX_MESSAGE)
		return reject_set(rej, 0, REJECT_OVERSIZED,
		    "message over the size limit");
	if (message_check(msg, len, rej) != 0)
		return -1;

	if (*scratch == NULL && (*scratch = scratch_new()) == NULL)
		return reject_set(rej, 0, REJECT_DECODE, "out of memory");
	if (message_unpack(msg, len, *scratch, rej) != 0)
		return -1;

	e = (*scratch)->msg;
	rec->status = e->statuscode;
	rec->code = e->errorcode;
	rec->message = e->errormessage != NULL ? e->errormessage : "";
	rec->request_id = e->requestid != NULL ? e->requestid : "";
	return 0;
}

/* What one frame did to the parse. */
enum frame_rc {
	FRAME_NEXT,		/* go on after the frame */
	FRAME_WAIT,		/* incomplete: leave it for the next call */
	FRAME_END,		/* lost the framing: consume everything */
	FRAME_STOP,		/* the sink asked to stop */
};

struct pb_stream {
	const uint8_t *buf;
	size_t len;
	uint64_t base;
	int final;
	const struct record_sink *sink;
	struct pb_scratch *scratch;
};

static enum frame_rc
frame_reject(struct pb_stream *ps, uint64_t at, enum reject_reason reason,
    const char *detail, enum frame_rc rc)
{
	struct reject rej = { at, reason, detail };

	if (ps->sink->on_reject != NULL &&
	    ps->sink->on_reject(ps->sink->ctx, &rej) != 0)
		return FRAME_STOP;
	return rc;
}

/* Decodes the body of the frame at at, body at body, and hands it on. */
static enum frame_rc
frame_emit(struct pb_stream *ps, size_t at, size_t body, size_t n)
{
	struct record rec = { 0 };
	struct reject rej = { 0 };
	uint64_t bad;

	if (pb_decode_error(ps->buf + body, n, &rec, &rej,
	    &ps->scratch) != 0) {
		/* A fault of the whole message is reported at its frame. */
		if (rej.reason == REJECT_NO_CODE || rej.reason == REJECT_DECODE)
			bad = ps->base + at;
		else
			bad = ps->base + body + rej.offset;
		return frame_reject(ps, bad, rej.reason, rej.detail,
		    FRAME_NEXT);
	}

	rec.time_ms = RECORD_TIME_UNKNOWN;
	rec.body_status = 0;
	rec.api = NULL;
	rec.offset = ps->base + at;
	if (ps->sink->on_record != NULL &&
	    ps->sink->on_record(ps->sink->ctx, &rec) != 0)
		return FRAME_STOP;
	return FRAME_NEXT;
}

/* Parses the frame whose length prefix starts at at. */
static enum frame_rc
frame_parse(struct pb_stream *ps, size_t at, size_t *next)
{
	uint64_t n;
	size_t used;

	switch (varint_read(ps->buf + at, ps->len - at, &n, &used)) {
	case VARINT_SHORT:
		if (!ps->final)
			return FRAME_WAIT;
		return frame_reject(ps, ps->base + at, REJECT_TRUNCATED,
		    "input ends inside a length prefix", FRAME_END);
	case VARINT_BAD:
		return frame_reject(ps, ps->base + at, REJECT_BAD_VARINT,
		    "bad frame length varint", FRAME_END);
	case VARINT_OK:
		break;
	}
	if (n > PB_MAX_MESSAGE)
		return frame_reject(ps, ps->base + at, REJECT_OVERSIZED,
		    "frame length over the size limit", FRAME_END);
	if (n > ps->len - at - used) {
		if (!ps->final)
			return FRAME_WAIT;
		return frame_reject(ps, ps->base + at, REJECT_TRUNCATED,
		    "input ends inside a frame", FRAME_END);
	}

	*next = at + used + n;
	return frame_emit(ps, at, at + used, n);
}

/*
 * Parses buf[0..len) as length-delimited Error frames; see format_parse()
 * in format.h for the contract.  Records carry the frame's offset, the
 * body's StatusCode as status, no time and no API.  A bad message inside
 * a well-framed frame is rejected at its bad byte (a message without an
 * ErrorCode at its frame) and skipped.  A bad, oversized or (when final)
 * cut-short length prefix is rejected and ends the parse with everything
 * consumed, since the next frame cannot be found.  Returns -1 only when a
 * sink callback returned -1; a NULL callback accepts everything.
 */
ssize_t
pb_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink)
{
	struct pb_stream ps = { buf, len, base, final, sink, NULL };
	size_t at = 0, next = 0;
	ssize_t rc = (ssize_t)len;

	while (at < len) {
		switch (frame_parse(&ps, at, &next)) {
		case FRAME_NEXT:
			at = next;
			continue;
		case FRAME_WAIT:
			rc = (ssize_t)at;
			goto out;
		case FRAME_END:
			goto out;
		case FRAME_STOP:
			rc = -1;
			goto out;
		}
	}

out:
	pb_scratch_free(ps.scratch);
	return rc;
}
