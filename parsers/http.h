/*
 * http.h - captured HTTP/1.1 traffic (a proxy dump, or what `curl -si`
 * writes), many messages per input.
 */
#ifndef KMSWATCH_HTTP_H
#define KMSWATCH_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

/* See format_parse() in format.h. */
ssize_t http_parse(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink);

#endif
