/*
 * format.h - the input formats kmswatch reads, their detection from the
 * first bytes, and one entry point that dispatches to the right parser.
 */
#ifndef KMSWATCH_FORMAT_H
#define KMSWATCH_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

enum format {
	FORMAT_UNKNOWN = 0,
	FORMAT_PB,	/* varint length-delimited Error messages */
	FORMAT_HTTP,	/* captured HTTP/1.1 traffic */
	FORMAT_HAR,	/* an HTTP Archive (HAR 1.2) */
	FORMAT_JSONL,	/* one JSON Error object per line */
	FORMAT_SDKLOG,	/* application logs with SDK exceptions */
};

/* "pb", "http", "har", "jsonl", "sdklog"; NULL for FORMAT_UNKNOWN. */
const char *format_name(enum format fmt);

/* The format named name, or FORMAT_UNKNOWN. */
enum format format_from_name(const char *name);

/*
 * Guesses the format from the first bytes of an input, trying in turn:
 * HTTP traffic starts with a request or status line; a HAR with '{' and a
 * "log" object in its first 4 KiB; JSON lines with a first line that
 * parses as a JSON object; pb with a varint length followed by an Error
 * field tag; an application log is text with an SDK exception marker in
 * its first KiB or a timestamp at its start.  Returns FORMAT_UNKNOWN when
 * none fits.
 */
enum format format_detect(const uint8_t *buf, size_t len);

/*
 * Parses buf[0..len) as fmt, calling sink for each event.  base is the
 * input offset of buf[0], so that offsets in records and rejects are
 * offsets in the whole input.  When final is 0, an incomplete message at
 * the end is left for the next call; when final is 1 it becomes a reject.
 * Returns the number of bytes consumed, or -1 when a sink callback asked
 * to stop (or, with errno EINVAL, when fmt is FORMAT_UNKNOWN).
 */
ssize_t format_parse(enum format fmt, const uint8_t *buf, size_t len,
    uint64_t base, int final, const struct record_sink *sink);

#endif
