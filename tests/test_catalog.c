/*
 * test_catalog.c - the compiled-in error-code table and template matching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "catalog.h"

struct match_case {
	const char *name;
	const char *code;
	const char *message;
	const char *want_category;	/* NULL: no entry expected */
	int want_status;
};

static const struct match_case match_cases[] = {
	{ "exact template", "Rejected.Disabled",
	  "The request was rejected because the key state is Disabled.",
	  "key-state", 409 },
	{ "placeholder filled", "Unauthorized",
	  "The AccessKey ID \"LTAI5tExample\" does not exist in our records.",
	  "authentication", 404 },
	{ "InvalidParam: Date row", "InvalidParam",
	  "The Param Date is invalid.", "request", 400 },
	{ "InvalidParam: Authorization row is authentication",
	  "InvalidParam", "The Param Authorization is invalid.",
	  "authentication", 400 },
	{ "InvalidParam: unknown message falls back to the first row",
	  "InvalidParam", "Something else entirely.", "request", 400 },
	{ "KeyNotFound: key store variant", "Forbidden.KeyNotFound",
	  "The key Key ID or Alias does not exist in the key store \"kst-1\".",
	  "key-state", 404 },
	{ "throttling: any message", "Rejected.Throttling", "slow down",
	  "service", 429 },
	{ "unknown code", "Rejected.SomethingNew", "x", NULL, 0 },
	{ "empty code", "", "", NULL, 0 },
	{ "case matters", "rejected.disabled", "", NULL, 0 },
};

static void
test_match_table(void **state)
{
	const struct catalog_entry *e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
		const struct match_case *c = &match_cases[i];

		e = catalog_match(c->code, c->message);
		if (c->want_category == NULL) {
			if (e != NULL)
				fail_msg("%s: expected no entry", c->name);
			continue;
		}
		if (e == NULL)
			fail_msg("%s: expected an entry", c->name);
		if (strcmp(e->category, c->want_category) != 0 ||
		    e->status != c->want_status)
			fail_msg("%s: got %s/%d", c->name, e->category,
			    e->status);
	}
}

static void
test_template_match(void **state)
{
	(void)state;
	assert_true(catalog_template_match("a <x> b", "a  b"));
	assert_true(catalog_template_match("a <x> b", "a anything here b"));
	assert_false(catalog_template_match("a <x> b", "a x c"));
	assert_false(catalog_template_match("abc", "abcd"));
	assert_true(catalog_template_match("", "whatever"));
	assert_true(catalog_template_match("is <state>.", "is PendingX."));
}

/* Every row is complete and every category is one of the five. */
static void
test_rows_complete(void **state)
{
	static const char *const cats[] = { "request", "authentication",
	    "permission", "key-state", "service" };
	const struct catalog_entry *e;
	size_t i, j, n;
	int ok;

	(void)state;
	e = catalog_entries(&n);
	assert_true(n >= 23);
	for (i = 0; i < n; i++) {
		assert_non_null(e[i].code);
		assert_true(e[i].meaning[0] != '\0');
		assert_true(e[i].action[0] != '\0');
		assert_true(e[i].status >= 400 && e[i].status < 600);
		for (ok = 0, j = 0; j < 5; j++)
			ok |= strcmp(e[i].category, cats[j]) == 0;
		assert_true(ok);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_template_match),
		cmocka_unit_test(test_rows_complete),
	};

	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
