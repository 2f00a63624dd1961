/*
 * test_assets.c - the dashboard's files built into the binary
 * (daemon/assets.c over the table dashboards/embed.sh generates).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "assets.h"

struct find_case {
	const char *name;
	const char *path;
	const char *want_path;		/* NULL: no asset expected */
	const char *want_type_prefix;
};

static const struct find_case find_cases[] = {
	{ "root is the page", "/", "/index.html", "text/html" },
	{ "the page by name", "/index.html", "/index.html", "text/html" },
	{ "the script", "/static/app.js", "/static/app.js",
	  "text/javascript" },
	{ "the style sheet", "/static/app.css", "/static/app.css", "text/css" },
	{ "vendored Dygraph", "/static/vendor/dygraph.min.js",
	  "/static/vendor/dygraph.min.js", "text/javascript" },
	{ "vendored Dygraph css", "/static/vendor/dygraph.min.css",
	  "/static/vendor/dygraph.min.css", "text/css" },
	{ "unknown file", "/static/nope.js", NULL, NULL },
	{ "no prefix match", "/static/app", NULL, NULL },
	{ "no traversal", "/static/../index.html", NULL, NULL },
	{ "API paths are not assets", "/api/v1/stats", NULL, NULL },
	{ "empty path", "", NULL, NULL },
	{ "case matters", "/INDEX.HTML", NULL, NULL },
};

static void
test_find_table(void **state)
{
	const struct asset	*a;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof find_cases / sizeof find_cases[0]; i++) {
		const struct find_case *c = &find_cases[i];

		a = assets_find(c->path);
		if (c->want_path == NULL) {
			if (a != NULL)
				fail_msg("%s: expected no asset, got %s",
				    c->name, a->path);
			continue;
		}
		if (a == NULL)
			fail_msg("%s: no asset for %s", c->name, c->path);
		assert_string_equal(a->path, c->want_path);
		if (strncmp(a->type, c->want_type_prefix,
		    strlen(c->want_type_prefix)) != 0)
			fail_msg("%s: type %s", c->name, a->type);
	}
}

static void
test_find_null(void **state)
{
	(void)state;
	assert_null(assets_find(NULL));
}

/* Every entry: an absolute path, a type, bytes ended by a spare NUL. */
static void
test_table_well_formed(void **state)
{
	const struct asset	*a, *b;
	size_t			 n = 0;

	(void)state;
	for (a = assets; a->path != NULL; a++, n++) {
		assert_int_equal(a->path[0], '/');
		assert_non_null(a->type);
		assert_non_null(a->data);
		assert_true(a->len > 0);
		assert_int_equal(a->data[a->len], 0);
		for (b = assets; b != a; b++)
			assert_string_not_equal(a->path, b->path);
	}
	assert_true(n >= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_find_null),
		cmocka_unit_test(test_table_well_formed),
	};

	return cmocka_run_group_tests_name("assets", tests, NULL, NULL);
}
