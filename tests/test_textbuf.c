/*
 * test_textbuf.c - the growing text buffer: decimal integers at every
 * digit count and both ends of int64_t, printf and appends across the
 * buffer's growth, and room asked for ahead of writing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "textbuf.h"

static const struct {
	const char *name;
	int64_t v;
	const char *want;
} ints[] = {
	{ "zero", 0, "0" },
	{ "one digit", 7, "7" },
	{ "two digits", 10, "10" },
	{ "largest of two", 99, "99" },
	{ "three digits", 100, "100" },
	{ "odd count", 12345, "12345" },
	{ "even count", 123456, "123456" },
	{ "a unix time", 1796082157, "1796082157" },
	{ "minus one", -1, "-1" },
	{ "negative, odd count", -905, "-905" },
	{ "largest", INT64_MAX, "9223372036854775807" },
	{ "smallest", INT64_MIN, "-9223372036854775808" },
};

static void
test_ints(void **state)
{
	char out[TEXTBUF_INT_MAX + 1];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		n = textbuf_digits(out, ints[i].v);
		assert_true(n <= TEXTBUF_INT_MAX);
		out[n] = '\0';
		if (strcmp(out, ints[i].want) != 0)
			fail_msg("%s: got %s, want %s", ints[i].name, out,
			    ints[i].want);
	}
}

/* Every integer from -1,000 to 100,000 reads as printf writes it. */
static void
test_ints_match_printf(void **state)
{
	char got[TEXTBUF_INT_MAX + 1], want[32];
	int64_t v;
	size_t n;

	(void)state;
	for (v = -1000; v <= 100000; v++) {
		n = textbuf_digits(got, v);
		got[n] = '\0';
		snprintf(want, sizeof want, "%lld", (long long)v);
		assert_string_equal(got, want);
	}
}

/* Many small writes past the first allocation keep every byte. */
static void
test_growth(void **state)
{
	struct textbuf t = { NULL, 0, 0, 0 };
	char want[32];
	size_t off = 0;
	int i, n;

	(void)state;
	for (i = 0; i < 5000; i++) {
		textbuf_printf(&t, "%d:", i);
		textbuf_int(&t, -i);
		textbuf_append(&t, ";", 1);
	}
	assert_false(t.failed);
	assert_int_equal(strlen(t.buf), t.len);
	for (i = 0; i < 5000; i++) {
		n = snprintf(want, sizeof want, "%d:%d;", i, -i);
		assert_memory_equal(t.buf + off, want, (size_t)n);
		off += (size_t)n;
	}
	assert_int_equal(off, t.len);
	free(t.buf);
}

/* Room asked for first is written into; only what is used counts. */
static void
test_space(void **state)
{
	struct textbuf t = { NULL, 0, 0, 0 };
	char *p;

	(void)state;
	textbuf_append(&t, "[", 1);
	assert_non_null(p = textbuf_space(&t, 100000));
	assert_true(t.cap >= t.len + 100000 + 1);
	memcpy(p, "1,2", 3);
	textbuf_used(&t, 3);
	textbuf_append(&t, "]", 1);
	assert_string_equal(t.buf, "[1,2]");
	assert_int_equal(t.len, 5);
	free(t.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_ints_match_printf),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
