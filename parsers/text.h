/*
 * text.h - small text codecs the JSON and log parsers share: base64 and
 * UTF-8 validation.
 */
#ifndef KMSWATCH_TEXT_H
#define KMSWATCH_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes text_base64_decode() may write for len bytes of input. */
#define TEXT_BASE64_MAX(len)	((len) / 4 * 3 + 3)

/*
 * Decodes len bytes of base64 at in (RFC 4648 section 4, or the URL-safe
 * alphabet of section 5) into out, which must hold
 * TEXT_BASE64_MAX(len) bytes.  Padding is optional and whitespace is
 * skipped.  Returns 0 and sets *out_len, or -1 on any other byte, on
 * data after the padding, or on a lone trailing character.
 */
int text_base64_decode(const char *in, size_t len, uint8_t *out,
    size_t *out_len);

/*
 * Checks that p[0..len) is UTF-8 (RFC 3629) without NUL bytes.  Returns
 * len when it is, else the offset of the first bad sequence.
 */
size_t text_utf8_check(const uint8_t *p, size_t len);

#endif
