/*
 * textbuf.h - a growing text buffer for answers written as text: the
 * Prometheus exposition and large JSON arrays that would cost too much as
 * Jansson trees.
 */
#ifndef KMSWATCH_TEXTBUF_H
#define KMSWATCH_TEXTBUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Starts zeroed ({0}).  When an allocation fails the buffer stops growing
 * and failed is set: writers need not check each call, only failed at the
 * end.  buf is NUL-terminated once anything was written; the caller frees
 * it with free().
 */
struct textbuf {
	char *buf;
	size_t len, cap;
	int failed;
};

void textbuf_printf(struct textbuf *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void textbuf_append(struct textbuf *t, const char *s, size_t n);
/* Writes v in decimal, without printf's cost per call. */
void textbuf_int(struct textbuf *t, int64_t v);

/* The most bytes textbuf_digits() writes: a sign and 19 digits. */
#define TEXTBUF_INT_MAX	20

/* Writes v in decimal at out (no NUL); returns the bytes written. */
size_t textbuf_digits(char *out, int64_t v);

/*
 * Room for n more bytes at the end, for a caller that formats many small
 * pieces itself, or that knows how much it will write: returns where to
 * write (NULL once failed); textbuf_used() then adds the bytes written.
 */
char *textbuf_space(struct textbuf *t, size_t n);
void textbuf_used(struct textbuf *t, size_t n);

#endif
