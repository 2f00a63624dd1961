/*
 * har.h - HTTP Archive 1.2 files (what browsers, Playwright, mitmproxy
 * and Charles save), read one entry at a time.
 */
#ifndef KMSWATCH_HAR_H
#define KMSWATCH_HAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

/* An entry longer than this is rejected as oversized, unparsed. */
#define HAR_MAX_ENTRY (16 * 1024 * 1024)

/*
 * 1 when buf looks like the start of a HAR document: '{' first (after
 * whitespace and a byte order mark) and a "log" member holding an object
 * within the first 4 KiB.
 */
int har_detect(const uint8_t *buf, size_t len);

/*
 * See format_parse() in format.h.  Where a call may start:
 * - base 0: buf starts at the start of the document;
 * - base > 0: buf starts where an earlier call's consumed count left off,
 *   which is always inside log.entries: just after its '[', just after an
 *   entry's closing '}', or at its closing ']'.
 * With final 0 the count returned is the end of the last complete entry,
 * so the next call starts at such a boundary; the closing ']' and what
 * follows it are consumed only when final is 1.
 */
ssize_t har_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink);

#endif
