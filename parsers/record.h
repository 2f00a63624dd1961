/*
 * record.h - what every parser produces, and how it hands it over.
 *
 * A parser turns bytes into three kinds of events: an error record (one
 * decoded Dedicated KMS Error with its context), a reject (a span of input
 * that could not be decoded, with the reason), and a response count (a
 * successful call seen in a capture, used for error ratios).  Parsers call
 * the sink's functions as they go; the strings they pass live only for the
 * duration of the call, so a sink that keeps them must copy them.
 *
 * Parsers know nothing of storage or HTTP: the sink is the only way out.
 */
#ifndef KMSWATCH_RECORD_H
#define KMSWATCH_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* Time not known to the parser: the ingester substitutes ingest time. */
#define RECORD_TIME_UNKNOWN INT64_MIN

/* One decoded Error, as found in the input. */
struct record {
	int64_t time_ms;	/* ms since the epoch, UTC, or RECORD_TIME_UNKNOWN */
	int status;		/* HTTP status, or the body's StatusCode, or 0 */
	int body_status;	/* StatusCode from the body when it disagrees, else 0 */
	const char *code;	/* ErrorCode; never NULL, may be "" */
	const char *message;	/* ErrorMessage; never NULL, may be "" */
	const char *request_id;	/* RequestId; never NULL, may be "" */
	const char *api;	/* x-kms-apiname of the request, or NULL */
	uint64_t offset;	/* byte offset of the record in its input */
};

/* Why a span of input was refused. */
enum reject_reason {
	REJECT_TRUNCATED = 1,	/* input ends inside a message */
	REJECT_BAD_VARINT,	/* a varint longer than 10 bytes or overflowing */
	REJECT_WIRE_TYPE,	/* a known field with the wrong wire type */
	REJECT_BAD_UTF8,	/* a string field that is not valid UTF-8 */
	REJECT_OVERSIZED,	/* a length over the configured maximum */
	REJECT_BAD_FIELD,	/* field number 0 or a reserved wire type */
	REJECT_NO_CODE,		/* decodes, but carries no ErrorCode */
	REJECT_BAD_HTTP,	/* an HTTP message that does not parse */
	REJECT_BAD_CHUNK,	/* chunked transfer-encoding that does not parse */
	REJECT_BAD_DATE,	/* a Date header that is not RFC 1123 */
	REJECT_DECODE,		/* the protobuf library refused the message */
	REJECT_BAD_GZIP,	/* gzip data: corrupt, cut short or too big */
	REJECT_BAD_JSON,	/* not JSON, or JSON of the wrong shape */
	REJECT_BAD_BASE64,	/* a body that should be base64 and is not */
	REJECT_MISSING_FIELD,	/* a JSON record lacks a member it needs */
	REJECT_SHORT_BLOCK,	/* a logged SDK error stops short */
};

struct reject {
	uint64_t offset;	/* byte offset where the bad span starts */
	enum reject_reason reason;
	const char *detail;	/* one line saying what was wrong */
};

/*
 * The way out of a parser.  Each callback returns 0 to continue or -1 to
 * stop the parse (the store failed, say); the parser then returns at once.
 */
struct record_sink {
	void *ctx;
	int (*on_record)(void *ctx, const struct record *rec);
	int (*on_reject)(void *ctx, const struct reject *rej);
	/*
	 * A 2xx response to api (NULL when unknown) at time_ms, whose
	 * status line starts at offset.
	 */
	int (*on_response)(void *ctx, int64_t time_ms, const char *api,
	    int status, uint64_t offset);
};

/* Short stable name of a reject reason, e.g. "truncated". */
const char *record_reason_name(enum reject_reason reason);

#endif
