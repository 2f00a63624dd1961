/*
 * pb.h - a stream of varint length-delimited Dedicated KMS Error messages,
 * the framing protobuf's writeDelimitedTo produces.
 */
#ifndef KMSWATCH_PB_H
#define KMSWATCH_PB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

/* A message longer than this is refused as oversized. */
#define PB_MAX_MESSAGE (1024 * 1024)

/*
 * Validates and decodes one Error message body (no length prefix) of len
 * bytes.  On success fills rec's status, code, message and request_id with
 * strings owned by *scratch (free with pb_scratch_free) and returns 0.  On
 * failure returns -1 and fills rej's reason and detail; rej->offset is the
 * offset of the bad byte relative to msg.
 */
struct pb_scratch;
int pb_decode_error(const uint8_t *msg, size_t len, struct record *rec,
    struct reject *rej, struct pb_scratch **scratch);
void pb_scratch_free(struct pb_scratch *scratch);

/* See format_parse() in format.h. */
ssize_t pb_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink);

#endif
