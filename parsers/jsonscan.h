/*
 * jsonscan.h - a fast, narrow reader for one flat JSON object, used by
 * jsonl.c before it falls back on Jansson.
 */
#ifndef KMSWATCH_JSONSCAN_H
#define KMSWATCH_JSONSCAN_H

#include <stddef.h>

/* What a member held; ABSENT is 0, so a zeroed value is absent. */
enum jsonscan_kind {
	JSONSCAN_ABSENT,
	JSONSCAN_NULL,
	JSONSCAN_BOOL,
	JSONSCAN_STRING,
	JSONSCAN_INTEGER,
	JSONSCAN_REAL,
	JSONSCAN_OTHER,		/* an object or an array */
};

/* One member's value, whichever parser read it. */
struct jsonscan_value {
	enum jsonscan_kind kind;
	const char *s;		/* STRING: decoded UTF-8, NUL-terminated */
	size_t len;		/* STRING: its length in bytes */
	long long i;		/* INTEGER */
	double r;		/* REAL */
};

/* The scanner's memory: decoded strings of the last line scanned. */
struct jsonscan {
	char *out;
	size_t cap;
};

/*
 * Reads line[0..n) as one JSON object whose values are strings, numbers,
 * true, false or null.  vals[k] receives the value of the last member
 * named keys[k] (as Jansson keeps the last of duplicated keys), or
 * ABSENT.  Strings point into js and stay valid until the next call.
 *
 * Returns 0 only when the line is such an object and Jansson (flags 0)
 * would read the same values from it.  Returns -1 for anything else:
 * invalid JSON, nested values, \u0000, integers of over 18 digits, reals
 * strtod() cannot hold, or out of memory.  The caller must then parse
 * the line another way; vals are then meaningless.
 */
int jsonscan_object(struct jsonscan *js, const char *line, size_t n,
    const char *const *keys, size_t nkeys, struct jsonscan_value *vals);

/* Frees js's memory; js may be reused after. */
void jsonscan_free(struct jsonscan *js);

/*
 * For tests: with on 0, jsonscan_object() declines every line, so that
 * callers take their general path and the two can be compared.  Not
 * thread-safe; the daemon never calls it.
 */
void jsonscan_enable(int on);

#endif
