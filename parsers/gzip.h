/*
 * gzip.h - gzip (RFC 1952) decompression with an output limit, for
 * gzip-encoded HTTP bodies and for whole .gz input files.
 */
#ifndef KMSWATCH_GZIP_H
#define KMSWATCH_GZIP_H

#include <stddef.h>
#include <stdint.h>

/* 1 when buf starts with the gzip magic bytes 1f 8b, else 0. */
int gzip_is(const uint8_t *buf, size_t len);

/*
 * Inflates the gzip data in[0..len), which may hold several members one
 * after another (as `cat a.gz b.gz` makes), into a new buffer of at most
 * max_out bytes.
 *
 * On success returns 0, sets *out to a malloc'd buffer the caller frees
 * (one byte longer than *out_len and NUL-terminated, so text can be used
 * in place; never NULL, even for empty output) and *out_len to the
 * inflated size.
 *
 * On failure returns -1, sets *out to NULL, *out_len to 0 and *why to a
 * static one-line reason: not gzip, corrupt, truncated, trailing garbage,
 * over max_out, or out of memory.
 */
int gzip_inflate(const uint8_t *in, size_t len, size_t max_out,
    uint8_t **out, size_t *out_len, const char **why);

#endif
