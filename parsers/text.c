/*
 * text.c - base64 decoding (RFC 4648) and UTF-8 validation (RFC 3629) for
 * the parsers that read text formats: HAR bodies, JSON lines and log
 * files.
 *
 * This module owns no state and allocates nothing; the caller provides
 * the output buffer.  pb.c keeps its own UTF-8 check, which reports the
 * same offsets.
 *
 * Deliberate deviations from RFC 4648:
 * - Both the standard and the URL-safe alphabet are accepted, even mixed:
 *   capture tools differ, and no input is ambiguous.
 * - Padding is optional, and whitespace anywhere is skipped (MIME-style
 *   line breaks).  Non-zero bits left over in the last character are
 *   ignored rather than refused.
 */
#include "text.h"

/* The 6-bit value of base64 character c, or -1. */
static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Decodes base64 into out (see text.h).  Returns -1, with *out_len
 * untouched, when in is not base64.
 */
int
text_base64_decode(const char *in, size_t len, uint8_t *out,
    size_t *out_len)
{
	uint32_t acc = 0;
	size_t i, n = 0, o = 0;
	int v, padded = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_space(c))
			continue;
		if (c == '=') {
			padded = 1;
			continue;
		}
		if (padded || (v = base64_value(c)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (++n % 4 == 0) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}

	/* Two characters make one byte, three make two; one makes none. */
	switch (n % 4) {
	case 1:
		return -1;
	case 2:
		out[o++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
		break;
	}
	*out_len = o;
	return 0;
}

/*
 * Length of the UTF-8 sequence led by b (0 when b cannot lead one), and
 * the range its second byte must fall in to be neither overlong, a
 * surrogate, nor beyond U+10FFFF.
 */
static size_t
utf8_lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef) {
		if (b == 0xe0)
			*lo = 0xa0;
		else if (b == 0xed)
			*hi = 0x9f;
		return 3;
	}
	if (b >= 0xf0 && b <= 0xf4) {
		if (b == 0xf0)
			*lo = 0x90;
		else if (b == 0xf4)
			*hi = 0x8f;
		return 4;
	}
	return 0;
}

/* Offset of the first bad UTF-8 sequence or NUL in p, or len. */
size_t
text_utf8_check(const uint8_t *p, size_t len)
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
