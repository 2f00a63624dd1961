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

#endif
