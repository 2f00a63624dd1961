/*
 * test_render.c - the JSON shapes of daemon/render.c: every field of a
 * record view with its type, the catalog join (meaning, action, the
 * documented status) and the catalog views.  One named row per case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "catalog.h"
#include "render.h"
#include "store.h"

/* Stands for JSON null among expected integers. */
#define NONE	(-1)

struct row_case {
	const char		*name;
	struct store_row	 row;
	const char		*time;		/* expected "time" */
	const char		*source;	/* expected "source" */
	int			 known;
	const char		*meaning;	/* substring; NULL: null */
	json_int_t		 body_status;	/* NONE: null */
	json_int_t		 catalog_status;	/* NONE: null */
};

/* 2026-12-03T10:00:00.123Z */
#define T0	INT64_C(1796292000123)

static struct row_case row_cases[] = {
	{ "known code, plain",
	  { .id = 1, .time_ms = T0, .status = 401,
	    .flags = STORE_FLAG_KNOWN, .code = "SignatureNotMatch",
	    .message = "Signature is not matched.", .request_id = "r-1",
	    .api = "Encrypt", .source = "/cap/a.pb",
	    .category = "authentication", .offset = 42 },
	  "2026-12-03T10:00:00.123Z", "/cap/a.pb", 1,
	  "signature the client computed", NONE, NONE },
	{ "unknown code: meaning and action null",
	  { .id = 2, .time_ms = 0, .status = 418, .flags = 0,
	    .code = "Teapot", .message = "short and stout",
	    .request_id = "r-2", .api = NULL, .source = "-",
	    .category = "unknown", .offset = 0 },
	  "1970-01-01T00:00:00.000Z", "-", 0, NULL, NONE, NONE },
	{ "body status disagrees",
	  { .id = 3, .time_ms = T0, .status = 500, .body_status = 503,
	    .flags = STORE_FLAG_KNOWN | STORE_FLAG_BODY_STATUS,
	    .code = "InternalFailure", .message = "Internal Failure.",
	    .request_id = "r-3", .source = "s", .category = "service" },
	  "2026-12-03T10:00:00.123Z", "s", 1, "internal error", 503, NONE },
	{ "status differs from the catalog",
	  { .id = 4, .time_ms = T0, .status = 400,
	    .flags = STORE_FLAG_KNOWN | STORE_FLAG_CATALOG_STATUS,
	    .code = "Forbidden.KeyNotFound",
	    .message = "The key Key ID or Alias does not exist in the "
	    "system.", .request_id = "r-4", .source = "s",
	    .category = "key-state" },
	  "2026-12-03T10:00:00.123Z", "s", 1, "does not exist", NONE, 404 },
	{ "template picks the second row of a code",
	  { .id = 5, .time_ms = T0, .status = 404,
	    .flags = STORE_FLAG_KNOWN, .code = "Forbidden.KeyNotFound",
	    .message = "The key Key ID or Alias does not exist in the key "
	    "store \"kst-1\".", .request_id = "r-5", .source = "s",
	    .category = "key-state" },
	  "2026-12-03T10:00:00.123Z", "s", 1, "dedicated instance", NONE,
	  NONE },
	{ "source that is not UTF-8",
	  { .id = 6, .time_ms = T0, .status = 401,
	    .flags = STORE_FLAG_KNOWN, .code = "SignatureNotMatch",
	    .message = "Signature is not matched.", .request_id = "r-6",
	    .source = "/cap/b\xff.pb", .category = "authentication" },
	  "2026-12-03T10:00:00.123Z", "/cap/b?.pb", 1, "signature", NONE,
	  NONE },
};

static const char *const row_keys[] = {
	"request_id", "status", "code", "message", "time", "api", "source",
	"offset", "category", "known", "meaning", "action", "flags", NULL
};

static const char *const entry_keys[] = {
	"status", "code", "message", "meaning", "action", "category",
	"documented", NULL
};

/* o has exactly keys, no more. */
static void
assert_keys(json_t *o, const char *const *keys)
{
	size_t	n;

	assert_true(json_is_object(o));
	for (n = 0; keys[n] != NULL; n++)
		assert_non_null(json_object_get(o, keys[n]));
	assert_int_equal(json_object_size(o), n);
}

static void
assert_int_or_null(json_t *v, json_int_t want)
{
	if (want == NONE)
		assert_true(json_is_null(v));
	else {
		assert_true(json_is_integer(v));
		assert_int_equal(json_integer_value(v), want);
	}
}

static void
assert_string(json_t *v, const char *want)
{
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), want);
}

static void
test_row(void **state)
{
	const struct row_case	*c = *state;
	json_t			*o, *flags;

	assert_non_null(o = render_row(&c->row));
	assert_keys(o, row_keys);
	assert_string(json_object_get(o, "request_id"), c->row.request_id);
	assert_int_equal(json_integer_value(json_object_get(o, "status")),
	    c->row.status);
	assert_string(json_object_get(o, "code"), c->row.code);
	assert_string(json_object_get(o, "message"), c->row.message);
	assert_string(json_object_get(o, "time"), c->time);
	if (c->row.api == NULL)
		assert_true(json_is_null(json_object_get(o, "api")));
	else
		assert_string(json_object_get(o, "api"), c->row.api);
	assert_string(json_object_get(o, "source"), c->source);
	assert_int_or_null(json_object_get(o, "offset"),
	    (json_int_t)c->row.offset);
	assert_string(json_object_get(o, "category"), c->row.category);
	assert_true(json_is_boolean(json_object_get(o, "known")));
	assert_int_equal(json_is_true(json_object_get(o, "known")), c->known);

	if (c->meaning == NULL) {
		assert_true(json_is_null(json_object_get(o, "meaning")));
		assert_true(json_is_null(json_object_get(o, "action")));
	} else {
		assert_non_null(strstr(json_string_value(
		    json_object_get(o, "meaning")), c->meaning));
		assert_true(json_is_string(json_object_get(o, "action")));
	}

	flags = json_object_get(o, "flags");
	assert_true(json_is_object(flags));
	assert_int_equal(json_object_size(flags), 2);
	assert_int_or_null(json_object_get(flags, "body_status"),
	    c->body_status);
	assert_int_or_null(json_object_get(flags, "catalog_status"),
	    c->catalog_status);
	json_decref(o);
}

struct entry_case {
	const char		*name;
	struct catalog_entry	 e;
	json_int_t		 status;	/* NONE: null */
};

static struct entry_case entry_cases[] = {
	{ "documented row",
	  { 401, "SignatureNotMatch", "Signature is not matched.",
	    "m", "a", "authentication", 1 }, 401 },
	{ "row beyond the page, message varies",
	  { 429, "Rejected.Throttling", "", "m", "a", "service", 0 }, 429 },
	{ "no documented status",
	  { 0, "", "", "Request body over 3 MB.", "a", "request", 0 },
	  NONE },
};

static void
test_entry(void **state)
{
	const struct entry_case	*c = *state;
	json_t			*o;

	assert_non_null(o = render_catalog_entry(&c->e));
	assert_keys(o, entry_keys);
	assert_int_or_null(json_object_get(o, "status"), c->status);
	assert_string(json_object_get(o, "code"), c->e.code);
	assert_string(json_object_get(o, "message"), c->e.message);
	assert_string(json_object_get(o, "meaning"), c->e.meaning);
	assert_string(json_object_get(o, "action"), c->e.action);
	assert_string(json_object_get(o, "category"), c->e.category);
	assert_true(json_is_boolean(json_object_get(o, "documented")));
	assert_int_equal(json_is_true(json_object_get(o, "documented")),
	    c->e.documented);
	json_decref(o);
}

/* {"codes":[...]} holds every catalog row, in order, each well formed. */
static void
test_catalog(void **state)
{
	const struct catalog_entry	*entries;
	json_t				*o, *codes, *row;
	size_t				 i, n;

	(void)state;
	entries = catalog_entries(&n);
	assert_non_null(o = render_catalog());
	assert_int_equal(json_object_size(o), 1);
	codes = json_object_get(o, "codes");
	assert_true(json_is_array(codes));
	assert_int_equal(json_array_size(codes), n);
	json_array_foreach(codes, i, row) {
		assert_keys(row, entry_keys);
		assert_string(json_object_get(row, "code"), entries[i].code);
	}
	json_decref(o);
}

#define NROWS		(sizeof row_cases / sizeof row_cases[0])
#define NENTRIES	(sizeof entry_cases / sizeof entry_cases[0])

int
main(void)
{
	struct CMUnitTest	tests[NROWS + NENTRIES + 1];
	size_t			i, n = 0;

	memset(tests, 0, sizeof tests);
	for (i = 0; i < NROWS; i++) {
		tests[n].name = row_cases[i].name;
		tests[n].test_func = test_row;
		tests[n++].initial_state = &row_cases[i];
	}
	for (i = 0; i < NENTRIES; i++) {
		tests[n].name = entry_cases[i].name;
		tests[n].test_func = test_entry;
		tests[n++].initial_state = &entry_cases[i];
	}
	tests[n].name = "whole catalog";
	tests[n++].test_func = test_catalog;
	return (cmocka_run_group_tests_name("render", tests, NULL, NULL));
}
