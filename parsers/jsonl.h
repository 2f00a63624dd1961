/*
 * jsonl.h - JSON lines: one Dedicated KMS Error per line, as JSON.
 */
#ifndef KMSWATCH_JSONL_H
#define KMSWATCH_JSONL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

/* A longer line is rejected as oversized, unparsed. */
#define JSONL_MAX_LINE (4 * 1024 * 1024)

/*
 * 1 when buf starts with '{' (after a byte order mark) and its first line
 * (or all of buf, when it holds no newline) parses as a JSON object.
 */
int jsonl_detect(const uint8_t *buf, size_t len);

/*
 * See format_parse() in format.h.  Every complete line is consumed; with
 * final 0 a last line without '\n' is left for the next call, so buf
 * always starts at a line.  Line numbers in rejects count from buf[0].
 */
ssize_t jsonl_parse(const uint8_t *buf, size_t len, uint64_t base,
    int final, const struct record_sink *sink);

#endif
