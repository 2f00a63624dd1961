/*
 * fuzz_gzip.c - libFuzzer target for gzip.c, and for what the daemon does
 * with a .gz input: inflate it whole, detect the format of what came out
 * and parse that (through fuzz_parse_run()).
 *
 * gzip_inflate()'s contract is checked on every input: a success gives a
 * NUL-terminated buffer of at most max_out bytes, and the same input
 * with max_out one byte short fails; a failure gives NULL, 0 and a
 * reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "fuzz_parse.h"
#include "gzip.h"

/*
 * ingest.c allows 1 GiB; a bomb that size would only meet libFuzzer's
 * memory limit, and the limit is the same code at any size.
 */
#define FUZZ_GZIP_MAX_OUT	((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

/* The format detected in the inflated bytes, for parse_detected(). */
static enum format fuzz_gzip_format;

static ssize_t
parse_detected(const uint8_t *buf, size_t len, uint64_t base, int final,
    const struct record_sink *sink)
{
	return format_parse(fuzz_gzip_format, buf, len, base, final, sink);
}

static void __attribute__((noreturn))
fuzz_gzip_fail(const char *what, size_t max_out)
{
	fprintf(stderr, "fuzz_gzip: gzip_inflate, max_out %zu: %s\n", max_out,
	    what);
	abort();
}

/* gzip_inflate() with its contract checked; returns its result. */
static int
inflate_checked(const uint8_t *buf, size_t len, size_t max_out,
    uint8_t **out, size_t *out_len)
{
	const char	*why = NULL;
	int		 rc;

	rc = gzip_inflate(buf, len, max_out, out, out_len, &why);
	if (rc == 0) {
		if (*out == NULL)
			fuzz_gzip_fail("success with a NULL buffer", max_out);
		if (*out_len > max_out)
			fuzz_gzip_fail("more bytes than max_out", max_out);
		if ((*out)[*out_len] != '\0')
			fuzz_gzip_fail("output not NUL-terminated", max_out);
	} else if (rc == -1) {
		if (*out != NULL || *out_len != 0)
			fuzz_gzip_fail("failure with a buffer", max_out);
		if (why == NULL || strlen(why) == 0)
			fuzz_gzip_fail("failure without a reason", max_out);
	} else
		fuzz_gzip_fail("returned neither 0 nor -1", max_out);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	uint8_t	*out = NULL, *cut = NULL;
	size_t	 out_len = 0, cut_len = 0;

	(void)gzip_is(buf, len);
	if (inflate_checked(buf, len, FUZZ_GZIP_MAX_OUT, &out, &out_len) != 0)
		return 0;

	/* One byte less room must be refused, never silently cut. */
	if (out_len > 0 &&
	    inflate_checked(buf, len, out_len - 1, &cut, &cut_len) == 0)
		fuzz_gzip_fail("output over max_out accepted", out_len - 1);

	fuzz_gzip_format = format_detect(out, out_len);
	if (fuzz_gzip_format != FORMAT_UNKNOWN)
		fuzz_parse_run(format_name(fuzz_gzip_format), parse_detected,
		    out, out_len);
	free(out);
	return 0;
}
