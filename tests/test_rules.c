/*
 * test_rules.c - the default alert rules and the `[rule NAME]` loader:
 * the defaults are valid and cover every code of the catalog; the loader
 * takes only rule sections, fills the type's presets, and refuses each kind
 * of mistake with the file, the line or the rule, and what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog.h"
#include "rules.h"

struct duration_case {
	const char *in;
	int want;			/* minutes; -1 when refused */
};

static const struct duration_case durations[] = {
	{ "5m", 5 }, { "2h", 120 }, { "1d", 1440 }, { "300s", 5 },
	{ "0", 0 }, { "0m", 0 }, { "90s", -1 }, { "5", -1 }, { "m", -1 },
	{ "-1m", -1 }, { "5x", -1 }, { "", -1 }, { "5 m", -1 },
	{ "99999999999d", -1 },
};

static void
test_durations(void **state)
{
	size_t i;
	int m;

	(void)state;
	for (i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		m = -1;
		if (rules_parse_duration(durations[i].in, &m) == -1)
			m = -1;
		if (m != durations[i].want)
			fail_msg("\"%s\": got %d, want %d", durations[i].in, m,
			    durations[i].want);
	}
}

static const struct alerts_rule *
find_rule(const struct alerts_ruleset *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		if (strcmp(rs->rules[i].name, name) == 0)
			return &rs->rules[i];
	}
	return NULL;
}

static void
test_defaults_valid(void **state)
{
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t i, j;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	assert_true(rs.n >= 10);
	for (i = 0; i < rs.n; i++) {
		if (rules_check(&rs.rules[i], &cause) != 0)
			fail_msg("%s: %s", rs.rules[i].name, cause);
		for (j = i + 1; j < rs.n; j++)
			assert_string_not_equal(rs.rules[i].name,
			    rs.rules[j].name);
	}
	rules_free(&rs);
}

/* Every catalog code has a rule of its own, not only new-code's "*". */
static void
test_defaults_cover_catalog(void **state)
{
	const struct catalog_entry *e;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t i, j, n;
	int covered;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	e = catalog_entries(&n);
	for (i = 0; i < n; i++) {
		covered = 0;
		for (j = 0; j < rs.n; j++)
			covered |= rs.rules[j].ncodes > 0 &&
			    rules_match_code(&rs.rules[j], e[i].code);
		if (!covered)
			fail_msg("no default rule names %s", e[i].code);
	}
	rules_free(&rs);
}

/* What the issue asks of particular defaults. */
static void
test_defaults_choices(void **state)
{
	const struct alerts_rule *r;
	struct alerts_ruleset rs;
	char *cause = NULL;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	assert_non_null(r = find_rule(&rs, "pending-deletion"));
	assert_int_equal(r->type, ALERTS_THRESHOLD);
	assert_int_equal(r->min_count, 1);
	assert_int_equal(r->for_min, 0);
	assert_int_equal(r->severity, ALERTS_CRITICAL);
	assert_non_null(r = find_rule(&rs, "signature-mismatch"));
	assert_int_equal(r->type, ALERTS_SPIKE);
	assert_non_null(r = find_rule(&rs, "clock-skew"));
	assert_true(rules_match_code(r, "RequestTimeTooSkewed"));
	assert_non_null(r = find_rule(&rs, "service-errors"));
	assert_true(rules_match_code(r, "InternalFailure"));
	assert_true(rules_match_code(r, "ServiceUnavailableTemporary"));
	assert_true(r->min_count > find_rule(&rs, "key-disabled")->min_count);
	assert_non_null(r = find_rule(&rs, "throttling"));
	assert_true(r->min_count > find_rule(&rs, "key-disabled")->min_count);
	assert_non_null(r = find_rule(&rs, "new-code"));
	assert_int_equal(r->type, ALERTS_NEW_CODE);
	assert_int_equal(r->ncodes, 0);
	assert_true(rules_match_code(r, "Rejected.SomethingNew"));
	rules_free(&rs);
}

/* --- the loader ---------------------------------------------------------- */

struct load_case {
	const char *name;
	const char *ini;
	int nrules;			/* -1: refused */
	const char *want;		/* in the cause when refused */
};

static const struct load_case load_cases[] = {
	{ "other sections are not ours",
	  "[server]\nlisten = 127.0.0.1:1\n[webhook]\nurl = http://x/\n"
	  "[ruleset]\nanything = 1\n[alertmanager]\nurl = http://a/\n", 0,
	  NULL },
	{ "two rules among other sections",
	  "[server]\nlisten = x\n[rule a]\ntype = threshold\n"
	  "[storage]\ndb = y\n[rule b]\ntype = new_code\n", 2, NULL },
	{ "codes continue on the next line",
	  "[rule a]\ntype = spike\ncodes = SignatureNotMatch,\n"
	  "  RequestTimeTooSkewed\n", 1, NULL },
	{ "unknown key, with its line",
	  "[rule a]\ntype = spike\nfrequency = 5m\n", -1,
	  ":3: unknown key \"frequency\" in [rule a]" },
	{ "bad duration", "[rule a]\ntype = spike\nwindow = 5x\n", -1,
	  "window: \"5x\" is not a valid value" },
	{ "bad type", "[rule a]\ntype = burst\n", -1,
	  "type: \"burst\" is not a valid value" },
	{ "bad severity", "[rule a]\ntype = spike\nseverity = page\n", -1,
	  "severity: \"page\" is not a valid value" },
	{ "bad measure", "[rule a]\ntype = spike\nmeasure = rate\n", -1,
	  "measure" },
	{ "bad status", "[rule a]\ntype = spike\nstatus = 99\n", -1,
	  "status" },
	{ "min_count 0", "[rule a]\ntype = spike\nmin_count = 0\n", -1,
	  "min_count" },
	{ "factor below 1", "[rule a]\ntype = spike\nfactor = 0.5\n", -1,
	  "factor" },
	{ "type missing", "[rule a]\ncodes = X\n", -1,
	  "[rule a]: type is missing" },
	{ "no name", "[rule]\ntype = spike\n", -1, "[rule NAME]" },
	{ "bad name", "[rule a b]\ntype = spike\n", -1, "[rule NAME]" },
	{ "star among codes", "[rule a]\ntype = spike\ncodes = *, X\n", -1,
	  "stands alone" },
	{ "empty code", "[rule a]\ntype = spike\ncodes = X,,Y\n", -1,
	  "is not an error code" },
	{ "key set twice", "[rule a]\ntype = spike\nz = 3\nz = 4\n", -1,
	  "z is set twice" },
	{ "short spike baseline",
	  "[rule a]\ntype = spike\nwindow = 30m\nbaseline = 1h\n", -1,
	  "three windows" },
	{ "for and resolve too long",
	  "[rule a]\ntype = spike\nfor = 1h\nresolve = 1h\n", -1,
	  "must stay under 120 minutes" },
	{ "ratio on new_code",
	  "[rule a]\ntype = new_code\nmeasure = ratio\n", -1, "no ratio" },
	{ "ratio threshold without its ratio",
	  "[rule a]\ntype = threshold\nmeasure = ratio\n", -1,
	  "needs ratio in (0, 1]" },
	{ "ratio key on a spike", "[rule a]\ntype = spike\nratio = 0.1\n", -1,
	  "ratio is a threshold's key" },
};

/* Writes ini to a temporary file; returns its path (static buffer). */
static const char *
write_ini(const char *ini)
{
	static char path[64];
	FILE *f;
	int fd;

	strcpy(path, "/tmp/kmswatch-test-rules-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(ini, f);
	fclose(f);
	return path;
}

static void
test_load_cases(void **state)
{
	const struct load_case *c;
	struct alerts_ruleset rs;
	const char *path;
	char *cause;
	int rc;

	(void)state;
	for (c = load_cases; c < load_cases + sizeof load_cases /
	    sizeof load_cases[0]; c++) {
		cause = NULL;
		path = write_ini(c->ini);
		rc = rules_load(path, &rs, &cause);
		unlink(path);
		if (c->nrules >= 0 && (rc != 0 || (int)rs.n != c->nrules))
			fail_msg("%s: rc %d n %zu: %s", c->name, rc, rs.n,
			    cause != NULL ? cause : "");
		if (c->nrules < 0 && (rc != -1 || cause == NULL ||
		    strstr(cause, c->want) == NULL ||
		    strstr(cause, path) == NULL))
			fail_msg("%s: rc %d, cause \"%s\", want \"%s\"",
			    c->name, rc, cause != NULL ? cause : "", c->want);
		if (rc == 0)
			rules_free(&rs);
		free(cause);
	}
}

/* Every key read, and the type's presets under the keys not given. */
static void
test_load_values(void **state)
{
	static const char ini[] =
		"; a comment\n"
		"[rule decrypt-disabled]\n"
		"type = spike\ncodes = Rejected.Disabled, Rejected.State\n"
		"status = 409\napi = Decrypt\nmeasure = ratio\nwindow = 10m\n"
		"baseline = 2h\nfor = 3m\nresolve = 15m\nseverity = critical\n"
		"min_count = 25\nfactor = 4.5\nz = 3.5\n"
		"[rule quiet]\ntype = new_code\n";
	const struct alerts_rule *r;
	struct alerts_ruleset rs;
	char *cause = NULL;
	const char *path = write_ini(ini);

	(void)state;
	if (rules_load(path, &rs, &cause) != 0)
		fail_msg("%s", cause);
	unlink(path);
	assert_int_equal(rs.n, 2);
	r = &rs.rules[0];
	assert_string_equal(r->name, "decrypt-disabled");
	assert_int_equal(r->ncodes, 2);
	assert_string_equal(r->codes[1], "Rejected.State");
	assert_int_equal(r->status, 409);
	assert_string_equal(r->api, "Decrypt");
	assert_true(r->ratio);
	assert_int_equal(r->window_min, 10);
	assert_int_equal(r->baseline_min, 120);
	assert_int_equal(r->for_min, 3);
	assert_int_equal(r->resolve_min, 15);
	assert_int_equal(r->severity, ALERTS_CRITICAL);
	assert_int_equal(r->min_count, 25);
	assert_true(r->factor == 4.5 && r->z == 3.5);
	r = &rs.rules[1];
	assert_int_equal(r->type, ALERTS_NEW_CODE);
	assert_int_equal(r->ncodes, 0);
	assert_int_equal(r->baseline_min, 1440);
	assert_int_equal(r->severity, ALERTS_WARNING);
	rules_free(&rs);
}

/* A file naming no rules, or none at all, means the defaults. */
static void
test_for_config(void **state)
{
	struct alerts_ruleset rs, defs;
	char *cause = NULL;
	const char *path = write_ini("[server]\nlisten = 127.0.0.1:9\n");

	(void)state;
	assert_int_equal(rules_defaults(&defs, &cause), 0);
	assert_int_equal(rules_for_config(path, &rs, &cause), 0);
	assert_int_equal(rs.n, defs.n);
	rules_free(&rs);
	unlink(path);
	assert_int_equal(rules_for_config(NULL, &rs, &cause), 0);
	assert_int_equal(rs.n, defs.n);
	rules_free(&rs);
	rules_free(&defs);
	assert_int_equal(rules_for_config("/nonexistent/k.ini", &rs, &cause),
	    -1);
	assert_non_null(strstr(cause, "cannot open"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_defaults_valid),
		cmocka_unit_test(test_defaults_cover_catalog),
		cmocka_unit_test(test_defaults_choices),
		cmocka_unit_test(test_load_cases),
		cmocka_unit_test(test_load_values),
		cmocka_unit_test(test_for_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
