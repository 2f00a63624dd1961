/*
 * test_gzip.c - unit tests for parsers/gzip.c: gzip data in, the inflated
 * bytes (or the reason they could not be had) out.
 *
 * Each row of gzip_rows makes plain data of some length, compresses it
 * here with zlib's deflate and a gzip wrapper, spoils the result in one
 * way or another, and inflates it with a given limit.  The expectation is
 * the plain data back, or a failure whose reason contains a given word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "gzip.h"

#define NO_LIMIT	((size_t)-1)

/* What a row does to the compressed data before inflating it. */
enum spoil {
	SPOIL_NONE,
	SPOIL_TWICE,		/* two members, one after the other */
	SPOIL_CUT,		/* the last 5 bytes missing */
	SPOIL_HEAD_ONLY,	/* only the first 3 bytes */
	SPOIL_FLIP,		/* one byte of the deflate data changed */
	SPOIL_ZEROS,		/* zero padding after the member */
	SPOIL_GARBAGE,		/* other bytes after the member */
	SPOIL_PLAIN,		/* not compressed at all */
	SPOIL_EMPTY,		/* no bytes */
};

struct gzip_row {
	const char *name;
	size_t plain_len;
	int zeros;		/* plain data all zeros (a bomb) */
	enum spoil spoil;
	size_t max_out;
	const char *why;	/* NULL: success; else a word of the reason */
};

static const struct gzip_row gzip_rows[] = {
	{ "round_trip_small", 5, 0, SPOIL_NONE, NO_LIMIT, NULL },
	{ "round_trip_empty", 0, 0, SPOIL_NONE, NO_LIMIT, NULL },
	{ "round_trip_empty_limit_0", 0, 0, SPOIL_NONE, 0, NULL },
	{ "round_trip_1mib", 1 << 20, 0, SPOIL_NONE, NO_LIMIT, NULL },
	{ "round_trip_at_limit", 10000, 0, SPOIL_NONE, 10000, NULL },
	{ "round_trip_at_grow_step", 8192, 0, SPOIL_NONE, 8192, NULL },
	{ "multi_member", 3000, 0, SPOIL_TWICE, NO_LIMIT, NULL },
	{ "zero_padding", 100, 0, SPOIL_ZEROS, NO_LIMIT, NULL },
	{ "over_limit", 10000, 0, SPOIL_NONE, 9999, "limit" },
	{ "over_limit_by_members", 3000, 0, SPOIL_TWICE, 5000, "limit" },
	{ "bomb_stops_at_limit", 64 << 20, 1, SPOIL_NONE, 1 << 20,
	    "limit" },
	{ "truncated", 1000, 0, SPOIL_CUT, NO_LIMIT, "truncated" },
	{ "header_only", 1000, 0, SPOIL_HEAD_ONLY, NO_LIMIT, "truncated" },
	{ "corrupt", 1000, 0, SPOIL_FLIP, NO_LIMIT, "corrupt" },
	{ "trailing_garbage", 100, 0, SPOIL_GARBAGE, NO_LIMIT, "garbage" },
	{ "not_gzip", 100, 0, SPOIL_PLAIN, NO_LIMIT, "not gzip" },
	{ "empty_input", 0, 0, SPOIL_EMPTY, NO_LIMIT, "not gzip" },
};

#define GZIP_ROWS (sizeof(gzip_rows) / sizeof(gzip_rows[0]))

/* Plain data that compresses, but not to nothing. */
static uint8_t *
plain_make(size_t n, int zeros)
{
	uint8_t *p = malloc(n + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = zeros ? 0 : (uint8_t)("kmswatch"[i % 8] + i / 4096);
	return p;
}

/* Compresses in[0..n) into one gzip member; *out_len is its size. */
static uint8_t *
gzip_make(const uint8_t *in, size_t n, size_t *out_len)
{
	z_stream zs;
	size_t cap;
	uint8_t *out;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&zs, n) + 16;
	out = malloc(cap * 2 + 16);
	assert_non_null(out);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* Applies the row's spoil to the member z; *n is its new size. */
static void
spoil_apply(const struct gzip_row *row, uint8_t *z, size_t *n,
    const uint8_t *plain)
{
	switch (row->spoil) {
	case SPOIL_NONE:
		break;
	case SPOIL_TWICE:
		memmove(z + *n, z, *n);
		*n *= 2;
		break;
	case SPOIL_CUT:
		*n -= 5;
		break;
	case SPOIL_HEAD_ONLY:
		*n = 3;
		break;
	case SPOIL_FLIP:
		z[*n / 2] ^= 0x55;
		break;
	case SPOIL_ZEROS:
		memset(z + *n, 0, 8);
		*n += 8;
		break;
	case SPOIL_GARBAGE:
		memcpy(z + *n, "xy", 2);
		*n += 2;
		break;
	case SPOIL_PLAIN:
		memcpy(z, plain, row->plain_len);
		*n = row->plain_len;
		break;
	case SPOIL_EMPTY:
		*n = 0;
		break;
	}
}

static void
row_run(void **state)
{
	const struct gzip_row *row = *state;
	uint8_t *plain, *z, *out = (uint8_t *)"x";
	size_t zn, out_len = 99, want_len;
	const char *why = NULL;
	int rc;

	plain = plain_make(row->plain_len, row->zeros);
	z = gzip_make(plain, row->plain_len, &zn);
	spoil_apply(row, z, &zn, plain);

	rc = gzip_inflate(z, zn, row->max_out, &out, &out_len, &why);
	if (row->why != NULL) {
		assert_int_equal(rc, -1);
		assert_null(out);
		assert_int_equal(out_len, 0);
		assert_non_null(why);
		assert_non_null(strstr(why, row->why));
	} else {
		assert_int_equal(rc, 0);
		want_len = row->plain_len * (row->spoil == SPOIL_TWICE ? 2 : 1);
		assert_int_equal(out_len, want_len);
		assert_non_null(out);
		assert_int_equal(out[out_len], 0);
		assert_memory_equal(out, plain, row->plain_len);
		if (row->spoil == SPOIL_TWICE)
			assert_memory_equal(out + row->plain_len, plain,
			    row->plain_len);
		free(out);
	}
	free(z);
	free(plain);
}

/* --- tests outside the table --- */

static void
magic(void **state)
{
	(void)state;
	assert_true(gzip_is((const uint8_t *)"\x1f\x8b", 2));
	assert_true(gzip_is((const uint8_t *)"\x1f\x8b\x08\x00", 4));
	assert_false(gzip_is((const uint8_t *)"\x1f", 1));
	assert_false(gzip_is((const uint8_t *)"\x1f\x8c", 2));
	assert_false(gzip_is((const uint8_t *)"PK", 2));
	assert_false(gzip_is(NULL, 0));
}

int
main(void)
{
	struct CMUnitTest tests[GZIP_ROWS + 1];
	size_t i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < GZIP_ROWS; i++, n++) {
		tests[n].name = gzip_rows[i].name;
		tests[n].test_func = row_run;
		tests[n].initial_state = (void *)&gzip_rows[i];
	}
	tests[n].name = "magic";
	tests[n++].test_func = magic;
	return _cmocka_run_group_tests("gzip", tests, n, NULL, NULL);
}
