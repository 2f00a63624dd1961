/*
 * jsonscan.c - reads the common shape of a JSON line, one flat object of
 * strings, numbers and literals, without building a tree.
 *
 * Implements the subset of RFC 8259 that such objects use: the object,
 * string (every escape, \uXXXX with surrogate pairs to UTF-8), number,
 * true, false and null grammars, and the four whitespace bytes.  It
 * mirrors Jansson 2.14's json_loadb() with flags 0 where the two meet:
 * strict UTF-8, no control bytes in strings, no \u0000, no unpaired
 * surrogates, integers as long long and other numbers through strtod(),
 * the last of duplicated keys kept, nothing but whitespace after the
 * object.
 *
 * This module only ever says "this line is what you think" or "ask
 * Jansson".  It owns no rejects and no reasons: a line it declines is
 * parsed again by jsonl.c's Jansson path, which keeps the one
 * authoritative account of what is wrong with it.
 *
 * Deliberate deviations (each a decline, never a different answer):
 * - objects and arrays as values, even under unknown keys;
 * - integers of more than 18 digits, and numbers over 63 bytes;
 * - non-ASCII bytes outside strings, which Jansson rejects anyway.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"
#include "text.h"

#define JSONSCAN_INT_DIGITS	18	/* fits long long whatever they are */
#define JSONSCAN_NUMBER_MAX	63

static int jsonscan_on = 1;

struct cursor {
	const unsigned char *p;
	const unsigned char *end;
	char *w;		/* next free byte of the decoded strings */
};

static void
ws_skip(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* The four hex digits at p as a number, or -1. */
static long
hex4(const unsigned char *p)
{
	long v = 0;
	int k, d;

	for (k = 0; k < 4; k++) {
		if (p[k] >= '0' && p[k] <= '9')
			d = p[k] - '0';
		else if (p[k] >= 'a' && p[k] <= 'f')
			d = p[k] - 'a' + 10;
		else if (p[k] >= 'A' && p[k] <= 'F')
			d = p[k] - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Writes code point u (not a surrogate, not 0) as UTF-8. */
static void
utf8_put(struct cursor *c, long u)
{
	if (u < 0x80) {
		*c->w++ = (char)u;
	} else if (u < 0x800) {
		*c->w++ = (char)(0xc0 | u >> 6);
		*c->w++ = (char)(0x80 | (u & 0x3f));
	} else if (u < 0x10000) {
		*c->w++ = (char)(0xe0 | u >> 12);
		*c->w++ = (char)(0x80 | (u >> 6 & 0x3f));
		*c->w++ = (char)(0x80 | (u & 0x3f));
	} else {
		*c->w++ = (char)(0xf0 | u >> 18);
		*c->w++ = (char)(0x80 | (u >> 12 & 0x3f));
		*c->w++ = (char)(0x80 | (u >> 6 & 0x3f));
		*c->w++ = (char)(0x80 | (u & 0x3f));
	}
}

/*
 * The \uXXXX at c->p (past the backslash and 'u'), and its low half
 * when it is a high surrogate.  Jansson refuses \u0000 without
 * JSON_ALLOW_NUL and any unpaired surrogate; so does this.
 */
static int
unicode_decode(struct cursor *c)
{
	long u, lo;

	if (c->end - c->p < 4 || (u = hex4(c->p)) <= 0)
		return -1;
	c->p += 4;
	if (u >= 0xdc00 && u <= 0xdfff)
		return -1;
	if (u >= 0xd800 && u <= 0xdbff) {
		if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
		    (lo = hex4(c->p + 2)) < 0xdc00 || lo > 0xdfff)
			return -1;
		c->p += 6;
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	}
	utf8_put(c, u);
	return 0;
}

/* The escape at c->p, just past its backslash. */
static int
escape_decode(struct cursor *c)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (c->p >= c->end)
		return -1;
	if (*c->p == 'u') {
		c->p++;
		return unicode_decode(c);
	}
	if ((hit = memchr(from, *c->p, sizeof(from) - 1)) == NULL)
		return -1;
	*c->w++ = to[hit - from];
	c->p++;
	return 0;
}

/*
 * Copies the run of non-ASCII bytes at c->p when it is valid UTF-8;
 * text.c's check is RFC 3629's, which is also the one Jansson applies.
 */
static int
utf8_copy(struct cursor *c)
{
	const unsigned char *q = c->p;
	size_t n;

	while (q < c->end && *q >= 0x80)
		q++;
	n = (size_t)(q - c->p);
	if (text_utf8_check(c->p, n) != n)
		return -1;
	memcpy(c->w, c->p, n);
	c->w += n;
	c->p = q;
	return 0;
}

/* The end of the run of bytes at p that a string holds as they are. */
static const unsigned char *
plain_end(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/*
 * The string whose opening quote is at c->p, decoded to c->w.  The
 * decoded text never outgrows its source, so c->w cannot pass the line
 * length: jsonscan_object() sizes the buffer for that.
 */
static int
string_scan(struct cursor *c, struct jsonscan_value *v)
{
	const unsigned char *q;
	char *start = c->w;
	int rc;

	c->p++;
	for (;;) {
		/* Most bytes need no decision: copy them a run at a time. */
		q = plain_end(c->p, c->end);
		memcpy(c->w, c->p, (size_t)(q - c->p));
		c->w += q - c->p;
		c->p = q;

		if (c->p >= c->end || *c->p < 0x20)
			return -1;
		if (*c->p == '"')
			break;
		if (*c->p == '\\') {
			c->p++;
			rc = escape_decode(c);
		} else
			rc = utf8_copy(c);
		if (rc != 0)
			return -1;
	}

	c->p++;
	*c->w++ = '\0';
	v->kind = JSONSCAN_STRING;
	v->s = start;
	v->len = (size_t)(c->w - 1 - start);
	return 0;
}

static int
is_digit(const struct cursor *c, const unsigned char *p)
{
	return p < c->end && *p >= '0' && *p <= '9';
}

static const unsigned char *
digits_skip(const struct cursor *c, const unsigned char *p)
{
	while (is_digit(c, p))
		p++;
	return p;
}

/*
 * The end of the number at c->p, in Jansson's grammar (no leading
 * zeros, digits after '.' and after the exponent), or NULL.  *real is
 * set when it has a fraction or an exponent.
 */
static const unsigned char *
number_end(const struct cursor *c, int *real)
{
	const unsigned char *p = c->p;

	*real = 0;
	if (*p == '-')
		p++;
	if (!is_digit(c, p))
		return NULL;
	if (*p == '0' && is_digit(c, p + 1))
		return NULL;
	p = digits_skip(c, p);
	if (p < c->end && *p == '.') {
		if (!is_digit(c, ++p))
			return NULL;
		p = digits_skip(c, p);
		*real = 1;
	}
	if (p < c->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < c->end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(c, p))
			return NULL;
		p = digits_skip(c, p);
		*real = 1;
	}
	return p;
}

/*
 * A number.  Short integers are summed here, exactly as strtoll() would;
 * reals go through strtod() as in Jansson, whose only refusal is
 * overflow to infinity.
 */
static int
number_scan(struct cursor *c, struct jsonscan_value *v)
{
	char text[JSONSCAN_NUMBER_MAX + 1], *stop;
	const unsigned char *end, *p;
	size_t n;
	int real, neg = *c->p == '-';

	if ((end = number_end(c, &real)) == NULL)
		return -1;
	n = (size_t)(end - c->p);
	if (!real) {
		if (n - (size_t)neg > JSONSCAN_INT_DIGITS)
			return -1;
		v->i = 0;
		for (p = c->p + neg; p < end; p++)
			v->i = v->i * 10 + (*p - '0');
		v->i = neg ? -v->i : v->i;
		v->kind = JSONSCAN_INTEGER;
		c->p = end;
		return 0;
	}

	if (n > JSONSCAN_NUMBER_MAX)
		return -1;
	memcpy(text, c->p, n);
	text[n] = '\0';
	errno = 0;
	v->r = strtod(text, &stop);
	/* A locale with another decimal point stops strtod() short. */
	if (stop != text + n || (errno == ERANGE && isinf(v->r)))
		return -1;
	v->kind = JSONSCAN_REAL;
	c->p = end;
	return 0;
}

/* true, false or null, as whole words. */
static int
literal_scan(struct cursor *c, struct jsonscan_value *v)
{
	static const struct {
		const char *word;
		size_t len;
		enum jsonscan_kind kind;
	} lit[] = {
		{ "true", 4, JSONSCAN_BOOL },
		{ "false", 5, JSONSCAN_BOOL },
		{ "null", 4, JSONSCAN_NULL },
	};
	size_t k, room = (size_t)(c->end - c->p);

	for (k = 0; k < sizeof(lit) / sizeof(lit[0]); k++) {
		if (room < lit[k].len || memcmp(c->p, lit[k].word,
		    lit[k].len) != 0)
			continue;
		/* "truex" is then declined: no ',' or '}' follows. */
		c->p += lit[k].len;
		v->kind = lit[k].kind;
		return 0;
	}
	return -1;
}

/* Any value but an object or an array. */
static int
value_scan(struct cursor *c, struct jsonscan_value *v)
{
	if (c->p >= c->end)
		return -1;
	if (*c->p == '"')
		return string_scan(c, v);
	if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
		return number_scan(c, v);
	return literal_scan(c, v);
}

/* The index of key in keys, or nkeys. */
static size_t
key_find(const char *key, const char *const *keys, size_t nkeys)
{
	size_t k;

	for (k = 0; k < nkeys; k++)
		if (keys[k][0] == key[0] && strcmp(keys[k], key) == 0)
			break;
	return k;
}

/*
 * One "key": value member.  Keys are decoded (a key may be escaped) and
 * then dropped; an unknown key's value is read to check it, and dropped.
 */
static int
member_scan(struct cursor *c, const char *const *keys, size_t nkeys,
    struct jsonscan_value *vals)
{
	struct jsonscan_value key, v = { 0 };
	char *mark = c->w;
	size_t k;

	if (c->p >= c->end || *c->p != '"' || string_scan(c, &key) != 0)
		return -1;
	k = key_find(key.s, keys, nkeys);
	c->w = mark;

	ws_skip(c);
	if (c->p >= c->end || *c->p != ':')
		return -1;
	c->p++;
	ws_skip(c);
	if (value_scan(c, &v) != 0)
		return -1;
	if (k < nkeys)
		vals[k] = v;
	else
		c->w = mark;
	return 0;
}

/* Room for the decoded strings of n bytes of line, and their NULs. */
static int
out_reserve(struct jsonscan *js, size_t n)
{
	size_t cap = js->cap > 0 ? js->cap : 256;
	char *out;

	if (n < js->cap)
		return 0;
	while (cap <= n)
		cap *= 2;
	if ((out = realloc(js->out, cap)) == NULL)
		return -1;
	js->out = out;
	js->cap = cap;
	return 0;
}

/* The members after '{', up to where the closing '}' should be. */
static int
members_scan(struct cursor *c, const char *const *keys, size_t nkeys,
    struct jsonscan_value *vals)
{
	for (;;) {
		if (member_scan(c, keys, nkeys, vals) != 0)
			return -1;
		ws_skip(c);
		if (c->p >= c->end || *c->p != ',')
			return 0;
		c->p++;
		ws_skip(c);
	}
}

int
jsonscan_object(struct jsonscan *js, const char *line, size_t n,
    const char *const *keys, size_t nkeys, struct jsonscan_value *vals)
{
	struct cursor c;

	if (!jsonscan_on || out_reserve(js, n) != 0)
		return -1;
	memset(vals, 0, nkeys * sizeof(*vals));
	c.p = (const unsigned char *)line;
	c.end = c.p + n;
	c.w = js->out;

	ws_skip(&c);
	if (c.p >= c.end || *c.p++ != '{')
		return -1;
	ws_skip(&c);
	if ((c.p >= c.end || *c.p != '}') &&
	    members_scan(&c, keys, nkeys, vals) != 0)
		return -1;

	if (c.p >= c.end || *c.p++ != '}')
		return -1;
	ws_skip(&c);
	return c.p == c.end ? 0 : -1;
}

void
jsonscan_free(struct jsonscan *js)
{
	free(js->out);
	js->out = NULL;
	js->cap = 0;
}

void
jsonscan_enable(int on)
{
	jsonscan_on = on;
}
