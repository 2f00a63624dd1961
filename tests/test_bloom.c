/*
 * test_bloom.c - the Bloom filter never forgets a key, and its false
 * positive rate stays near what its size promises.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bloom.h"
#include "hash.h"

#define KEYS 200000

static void
test_no_false_negatives(void **state)
{
	struct bloom *b = bloom_new(KEYS);
	uint64_t i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < KEYS; i++)
		bloom_add(b, hash_mix(i));
	for (i = 0; i < KEYS; i++)
		assert_true(bloom_maybe(b, hash_mix(i)));
	assert_int_equal(bloom_count(b), KEYS);
	assert_true(bloom_capacity(b) >= KEYS);
	bloom_free(b);
}

/* Full to capacity, about 1% of absent keys pass; allow up to 2%. */
static void
test_false_positive_rate(void **state)
{
	struct bloom *b = bloom_new(KEYS);
	uint64_t i, maybe = 0;

	(void)state;
	for (i = 0; i < KEYS; i++)
		bloom_add(b, hash_mix(i));
	for (i = KEYS; i < 11 * KEYS; i++)
		maybe += (uint64_t)bloom_maybe(b, hash_mix(i));
	print_message("false positives: %.3f%%\n",
	    100.0 * (double)maybe / (10.0 * KEYS));
	assert_true(maybe < 10 * KEYS / 50);
	assert_true(maybe > 0);
	bloom_free(b);
}

/* 40-bit keys, as the RequestId index feeds it, spread as well. */
static void
test_narrow_keys(void **state)
{
	struct bloom *b = bloom_new(KEYS);
	uint64_t i, mask = (UINT64_C(1) << 40) - 1, maybe = 0;

	(void)state;
	for (i = 0; i < KEYS; i++)
		bloom_add(b, hash_mix(i) & mask);
	for (i = KEYS; i < 6 * KEYS; i++)
		maybe += (uint64_t)bloom_maybe(b, hash_mix(i) & mask);
	assert_true(maybe < 5 * KEYS / 50);
	bloom_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_false_negatives),
		cmocka_unit_test(test_false_positive_rate),
		cmocka_unit_test(test_narrow_keys),
	};

	return cmocka_run_group_tests_name("bloom", tests, NULL, NULL);
}
