/*
 * sdklog.h - application logs holding the exceptions the official
 * Dedicated KMS SDKs raise (Go, Python, Java), one record per exception.
 */
#ifndef KMSWATCH_SDKLOG_H
#define KMSWATCH_SDKLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

/*
 * 1 when the first KiB of buf is text that holds an SDK exception
 * marker, or whose first line starts with a timestamp sdklog reads.
 */
int sdklog_detect(const uint8_t *buf, size_t len);

/*
 * See format_parse() in format.h.  With final 0, a last line without
 * '\n' is left for the next call, and so is an SDK error block still
 * open at the end (from its first line); buf must then start at a line.
 * A syslog timestamp takes its year from the latest full timestamp
 * earlier in the same call's buf, so a call that starts inside a file
 * may not know it.
 */
ssize_t sdklog_parse(const uint8_t *buf, size_t len, uint64_t base,
    int final, const struct record_sink *sink);

#endif
