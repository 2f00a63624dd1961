/*
 * test_mask.c - masking AccessKey IDs in error messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mask.h"

static const struct {
	const char *name, *in, *want;
	int masked;
} rows[] = {
	{ "unauthorized template",
	  "The AccessKey ID \"LTAI5tExample1234\" does not exist in our records.",
	  "The AccessKey ID \"L***************4\" does not exist in our records.",
	  1 },
	{ "quoted non-LTAI id", "The AccessKey ID \"KAAP.ab12\" does not exist",
	  "The AccessKey ID \"K*******2\" does not exist", 1 },
	{ "bare LTAI word", "key LTAI5tAbCdEfGhIjK used",
	  "key L***************K used", 1 },
	{ "short LTAI word kept", "LTAI12 is too short", "LTAI12 is too short",
	  0 },
	{ "LTAI inside a word kept", "xLTAI5tAbCdEfGhIjK",
	  "xLTAI5tAbCdEfGhIjK", 0 },
	{ "no key", "Signature is not matched.", "Signature is not matched.",
	  0 },
	{ "unclosed quote", "AccessKey ID \"LTAI", "AccessKey ID \"LTAI", 0 },
	{ "two-character id", "AccessKey ID \"ab\"", "AccessKey ID \"**\"", 1 },
	{ "empty", "", "", 0 },
};

static void
test_rows(void **state)
{
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int m = mask_access_keys(rows[i].in, out, sizeof out);

		if (strcmp(out, rows[i].want) != 0 || m != rows[i].masked)
			fail_msg("%s: got \"%s\" (%d)", rows[i].name, out, m);
	}
}

/* A small buffer cuts the copy but always ends it. */
static void
test_cut(void **state)
{
	char out[8];

	(void)state;
	mask_access_keys("The AccessKey ID \"LTAI5tExample\"", out, sizeof out);
	assert_int_equal(strlen(out), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests_name("mask", tests, NULL, NULL);
}
