/*
 * gzip.c - gzip decompression (RFC 1952, deflate of RFC 1951) through
 * zlib, into a buffer that grows as needed up to a limit.
 *
 * This module owns only the inflate loop.  It does not know what the
 * bytes mean: http.c inflates Content-Encoding: gzip bodies with it, and
 * the ingest layer inflates whole .gz files before choosing a parser.
 * The output grows by doubling, so a large file costs its inflated size
 * plus at most the same again while the last doubling copies; a limit
 * bounds a decompression bomb at max_out.
 *
 * Deliberate deviations from gzip(1):
 * - Bytes after the last member are an error ("trailing garbage"), except
 *   zero bytes, which tape and block devices pad with and gzip(1) also
 *   skips.
 * - Only the gzip wrapper is accepted; zlib-wrapped and raw deflate are
 *   not, since nothing we read produces them under the name gzip.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "gzip.h"

#define GZIP_OUT_MIN	4096		/* first output allocation */
#define GZIP_WINDOW	(15 + 16)	/* 32 KiB window, gzip wrapper only */

struct inflater {
	z_stream zs;
	const uint8_t *in;
	size_t len, used;	/* input fed to zlib so far */
	uint8_t *out;
	size_t cap, max;	/* cap excludes the byte kept for a NUL */
	size_t done;		/* output produced so far */
};

int
gzip_is(const uint8_t *buf, size_t len)
{
	return buf != NULL && len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

/* Hands zlib the next stretch of input; avail_in is only 32 bits. */
static void
input_feed(struct inflater *f)
{
	size_t n = f->len - f->used;

	if (f->zs.avail_in != 0)
		return;
	if (n > UINT_MAX)
		n = UINT_MAX;
	f->zs.next_in = (Bytef *)(uintptr_t)(f->in + f->used);
	f->zs.avail_in = (uInt)n;
	f->used += n;
}

/* Bytes of input zlib has not yet read. */
static size_t
input_left(const struct inflater *f)
{
	return f->len - f->used + f->zs.avail_in;
}

/*
 * Makes room for more output: doubles the buffer, but to no more than one
 * byte past the limit, so that overflowing it is seen.
 */
static int
output_grow(struct inflater *f, const char **why)
{
	size_t want;
	uint8_t *p;

	if (f->cap > f->max) {
		*why = "inflated data over the size limit";
		return -1;
	}
	want = f->cap < GZIP_OUT_MIN ? GZIP_OUT_MIN : f->cap;
	want = want > SIZE_MAX / 2 - 1 ? SIZE_MAX - 1 : want * 2;
	if (want > f->max && f->max < SIZE_MAX - 1)
		want = f->max + 1;
	if ((p = realloc(f->out, want + 1)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	f->out = p;
	f->cap = want;
	return 0;
}

/* Points zlib at the free output space; avail_out is only 32 bits. */
static void
output_window(struct inflater *f)
{
	size_t room = f->cap - f->done;

	f->zs.next_out = f->out + f->done;
	f->zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
}

/*
 * After a member's end: another member follows (1), only zero padding or
 * nothing is left (0), or something else is (-1).
 */
static int
member_next(struct inflater *f)
{
	size_t at = f->len - input_left(f), i;

	if (at + 2 <= f->len && gzip_is(f->in + at, f->len - at))
		return 1;
	for (i = at; i < f->len; i++)
		if (f->in[i] != 0)
			return -1;
	return 0;
}

/*
 * One call of inflate() and what it means: 0 to go on, 1 when the input
 * is done, -1 with *why on failure.
 */
static int
inflate_step(struct inflater *f, const char **why)
{
	int rc, more;

	input_feed(f);
	if (f->done == f->cap && output_grow(f, why) != 0)
		return -1;
	output_window(f);
	rc = inflate(&f->zs, Z_NO_FLUSH);
	f->done = (size_t)(f->zs.next_out - f->out);

	switch (rc) {
	case Z_OK:
		return 0;
	case Z_STREAM_END:
		if ((more = member_next(f)) < 0) {
			*why = "trailing garbage after the gzip data";
			return -1;
		}
		if (more == 0)
			return 1;
		if (inflateReset(&f->zs) != Z_OK)
			break;
		return 0;
	case Z_BUF_ERROR:
		/*
		 * No progress was possible.  A full output only needs to
		 * grow; with room left, zlib wants input we do not have.
		 */
		if (f->zs.avail_out == 0)
			return 0;
		if (input_left(f) == 0) {
			*why = "gzip data is truncated";
			return -1;
		}
		break;
	case Z_MEM_ERROR:
		*why = "out of memory";
		return -1;
	}
	*why = "gzip data is corrupt";
	return -1;
}

/*
 * Inflates one or more gzip members into a new buffer; see gzip.h.  The
 * output limit is checked as the data comes, so a bomb stops at max_out.
 */
int
gzip_inflate(const uint8_t *in, size_t len, size_t max_out,
    uint8_t **out, size_t *out_len, const char **why)
{
	struct inflater f;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (!gzip_is(in, len)) {
		*why = "not gzip data";
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.in = in;
	f.len = len;
	f.max = max_out;
	if (inflateInit2(&f.zs, GZIP_WINDOW) != Z_OK) {
		*why = "out of memory";
		return -1;
	}

	while ((rc = inflate_step(&f, why)) == 0)
		continue;
	inflateEnd(&f.zs);
	if (rc == 1 && f.done > f.max) {
		*why = "inflated data over the size limit";
		rc = -1;
	}
	if (rc < 0) {
		free(f.out);
		return -1;
	}

	/* The first step always allocates, so out is set even when empty. */
	f.out[f.done] = '\0';
	*out = f.out;
	*out_len = f.done;
	return 0;
}
