/*
 * textbuf.c - a growing text buffer (see textbuf.h).  It owns only its
 * memory; what is written and how it is escaped is the caller's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

#define TEXTBUF_FIRST	4096

/* Makes room for need more bytes and a NUL; 0, or -1 once failed. */
static int
textbuf_reserve(struct textbuf *t, size_t need)
{
	size_t cap = t->cap ? t->cap : TEXTBUF_FIRST;
	char *grown;

	if (t->failed)
		return -1;
	if (t->buf != NULL && t->len + need + 1 <= t->cap)
		return 0;
	while (cap < t->len + need + 1)
		cap *= 2;
	if ((grown = realloc(t->buf, cap)) == NULL) {
		t->failed = 1;
		return -1;
	}
	t->buf = grown;
	t->cap = cap;
	return 0;
}

void
textbuf_printf(struct textbuf *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* vsnprintf needs a real buffer, even to measure. */
	if (textbuf_reserve(t, 0) == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
		return;
	}
	if (t->len + (size_t)n + 1 > t->cap) {
		if (textbuf_reserve(t, (size_t)n) == -1)
			return;
		va_start(ap, fmt);
		vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

void
textbuf_append(struct textbuf *t, const char *s, size_t n)
{
	if (textbuf_reserve(t, n) == -1)
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

size_t
textbuf_digits(char *out, int64_t v)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	/* Negated as unsigned, so INT64_MIN has a magnitude too. */
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v, x;
	size_t n = 1, sign = v < 0, i;

	for (x = u; x >= 10; x /= 10)
		n++;
	if (sign)
		out[0] = '-';
	/* Written in place from the last digit back, two at a time. */
	for (i = sign + n; u >= 10; u /= 100) {
		out[--i] = pairs[u % 100 * 2 + 1];
		out[--i] = pairs[u % 100 * 2];
	}
	if (i > sign)
		out[--i] = (char)('0' + u);
	return sign + n;
}

void
textbuf_int(struct textbuf *t, int64_t v)
{
	char digits[TEXTBUF_INT_MAX];

	textbuf_append(t, digits, textbuf_digits(digits, v));
}

char *
textbuf_space(struct textbuf *t, size_t n)
{
	if (textbuf_reserve(t, n) == -1)
		return NULL;
	return t->buf + t->len;
}

void
textbuf_used(struct textbuf *t, size_t n)
{
	t->len += n;
	t->buf[t->len] = '\0';
}
