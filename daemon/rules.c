/*
 * rules.c - the alert rules kmswatch ships with, and the `[rule NAME]`
 * sections of the configuration file that replace them.
 *
 * This module owns the default rule set (with why each default is what it
 * is), the syntax of rule keys and values, and the checks that a rule is
 * complete and sane.  It reads the configuration file with inih on its own,
 * taking only `[rule ...]` sections: config.c owns the other sections and
 * this module does not judge them.  It does not evaluate rules (alerts.c).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "rules.h"

#define RULES_NAME_MAX		64	/* bytes of a rule name */
#define RULES_CODE_MAX		128	/* bytes of one code */
#define RULES_API_MAX		128
#define RULES_MAX		256	/* rules in one file */
#define RULES_DAY_MIN		1440
#define RULES_BASELINE_MAX	(7 * RULES_DAY_MIN)

/*
 * The default rules.  Every code of the catalog is named by at least one
 * rule other than new-code; tests/test_rules.c checks it.  Windows are five
 * minutes, so that "within two windows" means a page within ten minutes of
 * a burst's start.  Spike rules compare the window with the hour before it:
 * long enough for a median that an earlier burst cannot move, short enough
 * to follow a daily cycle.  Unless said otherwise a spike pends 2 minutes;
 * resolves after 10 minutes (two windows) without its condition, so that
 * a flapping burst makes one episode; and needs z >= 4 and three times
 * the median.  On the generated histories of tests/test_alerts.c (480
 * simulated days) that found 796 of 800 planted bursts (each six times
 * its level or more) within ten minutes, median 3, and raised no false
 * episode, where 1 minute pending raised one every 48 days.
 */
struct rules_default {
	const char *name;
	enum alerts_type type;
	const char *codes;	/* comma-separated */
	enum alerts_severity severity;
	int window_min, baseline_min, for_min, resolve_min;
	int64_t min_count;
	double factor, z;
};

static const struct rules_default defaults[] = {
	/*
	 * A key scheduled for deletion is still called.  Once the waiting
	 * period ends the key is gone and so is every ciphertext under it,
	 * so one call is proof enough of a live dependency: page at the
	 * first occurrence, with no pending time.  Callers of such keys are
	 * often batch jobs that call every few minutes, hence the long
	 * resolve delay: one page per incident, not one per run.
	 */
	{ "pending-deletion", ALERTS_THRESHOLD, "Rejected.PendingDeletion",
	  ALERTS_CRITICAL, 5, 60, 0, 30, 1, 0, 0 },

	/*
	 * Someone disabled a key that production still calls: every call
	 * fails until the key is enabled again.  A steady trickle (a
	 * forgotten job calling a key retired long ago) is background, so
	 * this is a spike rule: it pages on the change.  Ten in a window
	 * keeps one retrying client from paging.
	 */
	{ "key-disabled", ALERTS_SPIKE, "Rejected.Disabled", ALERTS_CRITICAL,
	  5, 60, 2, 10, 10, 3, 4 },

	/*
	 * A key in the wrong state for the call: the generic row, and keys
	 * whose external material was never imported.  Both usually show up
	 * while a key is being set up, not on a production path, so they
	 * warn rather than page.
	 */
	{ "key-state", ALERTS_SPIKE, "Rejected.State,Rejected.PendingImport",
	  ALERTS_WARNING, 5, 60, 2, 10, 10, 3, 4 },

	/*
	 * A burst of unknown key IDs or aliases: a key deleted under its
	 * callers, or calls sent to an instance (key store) that does not
	 * hold the key.  A low steady level is typos and probing.
	 */
	{ "key-not-found", ALERTS_SPIKE, "Forbidden.KeyNotFound",
	  ALERTS_CRITICAL, 5, 60, 2, 10, 10, 3, 4 },

	/*
	 * The catalog says to retry a signature mismatch first: single ones
	 * happen, so a threshold would cry wolf.  A burst means an AccessKey
	 * pair rotated on one side only (or, with RequestTimeTooSkewed at
	 * the same time, clocks; the summary says which).
	 */
	{ "signature-mismatch", ALERTS_SPIKE, "SignatureNotMatch",
	  ALERTS_CRITICAL, 5, 60, 2, 10, 10, 3, 4 },

	/*
	 * A host whose clock is 15 minutes off fails every call, and clocks
	 * do not drift that far by chance: there is no retry noise here, so
	 * the floor is lower than for other spikes (on a quiet past the z
	 * test still asks for about ten).
	 */
	{ "clock-skew", ALERTS_SPIKE, "RequestTimeTooSkewed", ALERTS_CRITICAL,
	  5, 60, 2, 10, 5, 3, 4 },

	/*
	 * An AccessKey ID the instance does not know: the key pair was
	 * deleted or replaced while clients still use it.
	 */
	{ "access-key-unknown", ALERTS_SPIKE, "Unauthorized", ALERTS_CRITICAL,
	  5, 60, 2, 10, 10, 3, 4 },

	/*
	 * A permission removed from a caller that still needs it (an
	 * application access point policy edit): its calls all fail.
	 */
	{ "no-permission", ALERTS_SPIKE, "Forbidden.NoPermission",
	  ALERTS_CRITICAL, 5, 60, 2, 10, 10, 3, 4 },

	/*
	 * Malformed requests: a client build that sends bad headers or
	 * parameters, usually right after a deploy.  The client's team must
	 * fix it, and nothing on the KMS side is broken, so it warns.  The
	 * higher floor ignores a developer trying things by hand.
	 */
	{ "client-requests", ALERTS_SPIKE,
	  "InvalidParam,InvalidApiVersion,InvalidApiName,InvalidContentType,"
	  "InvalidParameter,UnsupportedOperation,MissingParameter",
	  ALERTS_WARNING, 5, 60, 2, 10, 20, 3, 4 },

	/*
	 * Errors inside the service.  The SDKs retry them, so a few per
	 * minute never reach applications, and each failed call may be
	 * counted once per retry.  Hence a high floor, a larger factor and a
	 * stricter z: only a large, sustained rise, which retries cannot
	 * hide, warns.
	 */
	{ "service-errors", ALERTS_SPIKE,
	  "InternalFailure,ServiceUnavailableTemporary", ALERTS_WARNING,
	  5, 60, 2, 15, 30, 5, 6 },

	/*
	 * Over the instance's QPS limit.  Every SDK retries with back-off
	 * and short throttling at peaks is normal; a sustained rise means
	 * the instance is too small for its load: capacity, not an outage,
	 * so it pends a minute longer.
	 */
	{ "throttling", ALERTS_SPIKE, "Rejected.Throttling", ALERTS_WARNING,
	  5, 60, 3, 15, 50, 4, 6 },

	/*
	 * A code not seen for a day, or one the catalog does not know:
	 * something changed (a new client, a key in a new state, a service
	 * change), and kmswatch cannot explain an unknown code, so a person
	 * should look.  A day of history keeps codes that follow a daily
	 * cycle from firing every morning.
	 */
	{ "new-code", ALERTS_NEW_CODE, "*", ALERTS_WARNING,
	  5, RULES_DAY_MIN, 0, 30, 1, 0, 0 },
};

static void __attribute__((format(printf, 2, 3)))
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

static void
rule_clear(struct alerts_rule *r)
{
	size_t i;

	for (i = 0; i < r->ncodes; i++)
		free(r->codes[i]);
	free(r->codes);
	free(r->name);
	free(r->api);
	memset(r, 0, sizeof *r);
}

void
rules_free(struct alerts_ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		rule_clear(&rs->rules[i]);
	free(rs->rules);
	rs->rules = NULL;
	rs->n = 0;
}

int
rules_match_code(const struct alerts_rule *r, const char *code)
{
	size_t i;

	if (r->ncodes == 0)
		return 1;
	for (i = 0; i < r->ncodes; i++) {
		if (strcmp(r->codes[i], code) == 0)
			return 1;
	}
	return 0;
}

/* The values a rule of this type has before its keys are read. */
static void
rule_preset(struct alerts_rule *r, enum alerts_type type)
{
	r->type = type;
	r->window_min = 5;
	r->severity = ALERTS_WARNING;
	r->baseline_min = type == ALERTS_NEW_CODE ? RULES_DAY_MIN : 60;
	r->for_min = type == ALERTS_SPIKE ? 2 : 0;
	r->resolve_min = type == ALERTS_NEW_CODE ? 30 : 10;
	r->min_count = type == ALERTS_SPIKE ? 10 : 1;
	r->factor = type == ALERTS_SPIKE ? 3 : 0;
	r->z = type == ALERTS_SPIKE ? 4 : 0;
}

int
rules_parse_duration(const char *s, int *minutes)
{
	char *end;
	long long v, unit;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0 || v > 100000)
		return -1;
	if (strcmp(end, "") == 0 && v == 0)
		unit = 0;
	else if (strcmp(end, "s") == 0)
		unit = 1;
	else if (strcmp(end, "m") == 0)
		unit = 60;
	else if (strcmp(end, "h") == 0)
		unit = 3600;
	else if (strcmp(end, "d") == 0)
		unit = 86400;
	else
		return -1;
	if ((v * unit) % 60 != 0 || v * unit / 60 > INT_MAX)
		return -1;
	*minutes = (int)(v * unit / 60);
	return 0;
}

/* A code as written in a rule: printable, no spaces or commas. */
static int
code_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > RULES_CODE_MAX)
		return 0;
	for (; *s != '\0'; s++) {
		if (!isgraph((unsigned char)*s) || *s == ',')
			return 0;
	}
	return 1;
}

static int
codes_add(struct alerts_rule *r, const char *code, size_t len)
{
	char **grown;

	grown = realloc(r->codes, (r->ncodes + 1) * sizeof *r->codes);
	if (grown == NULL)
		return -1;
	r->codes = grown;
	if ((r->codes[r->ncodes] = strndup(code, len)) == NULL)
		return -1;
	r->ncodes++;
	return 0;
}

/* Adds the comma-separated codes of list; "*" alone means every code. */
static int
codes_parse(struct alerts_rule *r, int *every, const char *list,
    char **cause)
{
	const char *p = list, *comma;
	size_t len;

	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		/* A trailing comma: a list continued on the next line. */
		if (len == 0 && comma == NULL && p != list)
			break;
		if (len == 1 && *p == '*')
			*every = 1;
		else if (codes_add(r, p, len) == -1) {
			set_cause(cause, "out of memory");
			return -1;
		} else if (!code_valid(r->codes[r->ncodes - 1])) {
			set_cause(cause, "codes: \"%.*s\" is not an error code",
			    (int)(len > 64 ? 64 : len), p);
			return -1;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (*every && r->ncodes > 0) {
		set_cause(cause, "codes: \"*\" stands alone");
		return -1;
	}
	return 0;
}

static int
name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > RULES_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr("-_.", *s) == NULL)
			return 0;
	}
	return 1;
}

static int
check_times(const struct alerts_rule *r, char **cause)
{
	if (r->window_min < 1 || r->window_min > RULES_DAY_MIN) {
		set_cause(cause, "window must be 1m to 1d");
		return -1;
	}
	if (r->baseline_min < r->window_min ||
	    r->baseline_min > RULES_BASELINE_MAX) {
		set_cause(cause, "baseline must be one window to 7d");
		return -1;
	}
	if (r->type == ALERTS_SPIKE && r->baseline_min < 3 * r->window_min) {
		set_cause(cause, "a spike's baseline must span at least three "
		    "windows");
		return -1;
	}
	if (r->for_min + r->resolve_min + r->window_min >=
	    ALERTS_HORIZON_MIN) {
		set_cause(cause, "for + resolve + window must stay under %d "
		    "minutes", ALERTS_HORIZON_MIN);
		return -1;
	}
	return 0;
}

static int
check_limits(const struct alerts_rule *r, char **cause)
{
	if (r->min_count < 1) {
		set_cause(cause, "min_count must be 1 or more");
		return -1;
	}
	if (r->type == ALERTS_SPIKE && (r->factor < 1 || r->z < 0)) {
		set_cause(cause, "factor must be 1 or more and z 0 or more");
		return -1;
	}
	if (r->ratio && r->type == ALERTS_NEW_CODE) {
		set_cause(cause, "a new_code rule counts; it has no ratio");
		return -1;
	}
	if (r->type == ALERTS_THRESHOLD && r->ratio &&
	    !(r->max_ratio > 0 && r->max_ratio <= 1)) {
		set_cause(cause, "a ratio threshold needs ratio in (0, 1]");
		return -1;
	}
	if (r->type != ALERTS_THRESHOLD && r->max_ratio != 0) {
		set_cause(cause, "ratio is a threshold's key");
		return -1;
	}
	if (r->status != 0 && (r->status < 100 || r->status > 599)) {
		set_cause(cause, "status must be an HTTP status");
		return -1;
	}
	return 0;
}

int
rules_check(const struct alerts_rule *r, char **cause)
{
	size_t i;

	if (r->name == NULL || !name_valid(r->name)) {
		set_cause(cause, "a rule name is 1 to %d letters, digits, "
		    "'-', '_' or '.'", RULES_NAME_MAX);
		return -1;
	}
	for (i = 0; i < r->ncodes; i++) {
		if (!code_valid(r->codes[i])) {
			set_cause(cause, "codes: a code is empty or has "
			    "spaces");
			return -1;
		}
	}
	if (r->api != NULL && (r->api[0] == '\0' ||
	    strlen(r->api) > RULES_API_MAX)) {
		set_cause(cause, "api must be 1 to %d bytes", RULES_API_MAX);
		return -1;
	}
	if (check_times(r, cause) == -1 || check_limits(r, cause) == -1)
		return -1;
	return 0;
}

/* Copies one entry of the table above into r. */
static int
default_build(const struct rules_default *d, struct alerts_rule *r,
    char **cause)
{
	int every = 0;

	memset(r, 0, sizeof *r);
	rule_preset(r, d->type);
	r->severity = d->severity;
	r->window_min = d->window_min;
	r->baseline_min = d->baseline_min;
	r->for_min = d->for_min;
	r->resolve_min = d->resolve_min;
	r->min_count = d->min_count;
	r->factor = d->factor;
	r->z = d->z;
	if ((r->name = strdup(d->name)) == NULL) {
		set_cause(cause, "out of memory");
		return -1;
	}
	if (codes_parse(r, &every, d->codes, cause) == -1)
		return -1;
	return rules_check(r, cause);
}

int
rules_defaults(struct alerts_ruleset *rs, char **cause)
{
	size_t i, n = sizeof defaults / sizeof defaults[0];

	rs->n = 0;
	if ((rs->rules = calloc(n, sizeof *rs->rules)) == NULL) {
		set_cause(cause, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		rs->n++;
		if (default_build(&defaults[i], &rs->rules[i], cause) == -1) {
			rules_free(rs);
			return -1;
		}
	}
	return 0;
}

/* --- the configuration file ------------------------------------------- */

/* What is known of one `[rule NAME]` section while its keys are read. */
struct rules_pending {
	struct alerts_rule rule;
	int typed;			/* type = given */
	int every;			/* codes = * */
	unsigned seen;			/* bit per key of rule_keys[] */
};

struct rules_load_ctx {
	struct rules_pending *v;
	size_t n;
	char *error;			/* first problem found, malloc'd */
};

/* The keys of a rule section, in the order of the bits of `seen`. */
static const char *const rule_keys[] = {
	"type", "codes", "status", "api", "measure", "window", "baseline",
	"for", "resolve", "severity", "min_count", "factor", "z", "ratio",
};
#define RULES_NKEYS (sizeof rule_keys / sizeof rule_keys[0])

static int
key_index(const char *key)
{
	size_t i;

	for (i = 0; i < RULES_NKEYS; i++) {
		if (strcmp(rule_keys[i], key) == 0)
			return (int)i;
	}
	return -1;
}

static int
parse_int64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_type(const char *s, enum alerts_type *t)
{
	int i;

	for (i = ALERTS_THRESHOLD; i <= ALERTS_NEW_CODE; i++) {
		if (strcmp(s, alerts_type_name((enum alerts_type)i)) == 0) {
			*t = (enum alerts_type)i;
			return 0;
		}
	}
	return -1;
}

static int
parse_severity(const char *s, enum alerts_severity *sev)
{
	int i;

	for (i = ALERTS_INFO; i <= ALERTS_CRITICAL; i++) {
		if (strcmp(s, alerts_severity_name(
		    (enum alerts_severity)i)) == 0) {
			*sev = (enum alerts_severity)i;
			return 0;
		}
	}
	return -1;
}

/* The section being read, added when first seen. */
static struct rules_pending *
pending_for(struct rules_load_ctx *c, const char *name)
{
	struct rules_pending *grown;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].rule.name, name) == 0)
			return &c->v[i];
	}
	if (c->n == RULES_MAX)
		return NULL;
	grown = realloc(c->v, (c->n + 1) * sizeof *c->v);
	if (grown == NULL)
		return NULL;
	c->v = grown;
	memset(&c->v[c->n], 0, sizeof c->v[c->n]);
	if ((c->v[c->n].rule.name = strdup(name)) == NULL)
		return NULL;
	return &c->v[c->n++];
}

/* Durations and numbers; returns 0, or -1 with the value refused. */
static int
set_number(struct alerts_rule *r, int k, const char *value)
{
	int64_t v;

	switch (k) {
	case 2:
		if (parse_int64(value, 100, 599, &v) == -1)
			return -1;
		r->status = (int)v;
		return 0;
	case 5: return rules_parse_duration(value, &r->window_min);
	case 6: return rules_parse_duration(value, &r->baseline_min);
	case 7: return rules_parse_duration(value, &r->for_min);
	case 8: return rules_parse_duration(value, &r->resolve_min);
	case 10: return parse_int64(value, 1, INT64_MAX / 4, &r->min_count);
	case 11: return parse_double(value, 1, 1e6, &r->factor);
	case 12: return parse_double(value, 0, 1e6, &r->z);
	case 13: return parse_double(value, 0, 1, &r->max_ratio);
	}
	return -1;
}

/* Sets key k of p to value; -1 with *cause when the value is refused. */
static int
set_key(struct rules_pending *p, int k, const char *value, char **cause)
{
	struct alerts_rule *r = &p->rule;

	switch (k) {
	case 0:
		if (parse_type(value, &r->type) == -1)
			break;
		p->typed = 1;
		return 0;
	case 1:
		return codes_parse(r, &p->every, value, cause);
	case 3:
		if ((r->api = strdup(value)) == NULL) {
			set_cause(cause, "out of memory");
			return -1;
		}
		return 0;
	case 4:
		if (strcmp(value, "count") != 0 && strcmp(value, "ratio") != 0)
			break;
		r->ratio = strcmp(value, "ratio") == 0;
		return 0;
	case 9:
		if (parse_severity(value, &r->severity) == -1)
			break;
		return 0;
	default:
		if (set_number(r, k, value) == 0)
			return 0;
	}
	set_cause(cause, "%s: \"%.64s\" is not a valid value", rule_keys[k],
	    value);
	return -1;
}

/* inih calls this per key; returning 0 stops with that line's number. */
static int
on_key(void *user, const char *section, const char *key, const char *value)
{
	struct rules_load_ctx *c = user;
	struct rules_pending *p;
	int k;

	if (strncmp(section, "rule", 4) != 0 ||
	    (section[4] != '\0' && section[4] != ' '))
		return 1;
	if (section[4] == '\0' || !name_valid(section + 5)) {
		set_cause(&c->error, "[%s]: a rule section is [rule NAME], the "
		    "name made of letters, digits, '-', '_' or '.'", section);
		return 0;
	}
	if ((p = pending_for(c, section + 5)) == NULL) {
		set_cause(&c->error, "too many rules (at most %d)", RULES_MAX);
		return 0;
	}
	if ((k = key_index(key)) == -1) {
		set_cause(&c->error, "unknown key \"%s\" in [%s]", key,
		    section);
		return 0;
	}
	/* inih repeats a key for each continuation line; codes may span. */
	if ((p->seen & (1u << k)) && k != 1) {
		set_cause(&c->error, "[%s] %s is set twice", section, key);
		return 0;
	}
	p->seen |= 1u << k;
	if (set_key(p, k, value, &c->error) == -1)
		return 0;
	return 1;
}

/* Applies the type's presets under the keys given, then checks. */
static int
pending_finish(struct rules_pending *p, struct alerts_rule *out,
    char **cause)
{
	struct alerts_rule preset;
	struct alerts_rule *r = &p->rule;

	if (!p->typed) {
		set_cause(cause, "type is missing (threshold, spike or "
		    "new_code)");
		return -1;
	}
	memset(&preset, 0, sizeof preset);
	rule_preset(&preset, r->type);
	if (!(p->seen & (1u << 5)))
		r->window_min = preset.window_min;
	if (!(p->seen & (1u << 6)))
		r->baseline_min = preset.baseline_min;
	if (!(p->seen & (1u << 7)))
		r->for_min = preset.for_min;
	if (!(p->seen & (1u << 8)))
		r->resolve_min = preset.resolve_min;
	if (!(p->seen & (1u << 9)))
		r->severity = preset.severity;
	if (!(p->seen & (1u << 10)))
		r->min_count = preset.min_count;
	if (!(p->seen & (1u << 11)))
		r->factor = preset.factor;
	if (!(p->seen & (1u << 12)))
		r->z = preset.z;
	*out = *r;
	memset(r, 0, sizeof *r);
	return 0;
}

/* Moves the sections read into rs, checking each. */
static int
load_collect(struct rules_load_ctx *c, const char *path,
    struct alerts_ruleset *rs, char **cause)
{
	const char *name = NULL;
	char *why = NULL;
	size_t i;

	if (c->n == 0)
		return 0;
	if ((rs->rules = calloc(c->n, sizeof *rs->rules)) == NULL) {
		set_cause(cause, "out of memory");
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		/* The name moves into rs with the rule, to live till freed. */
		name = c->v[i].rule.name;
		if (pending_finish(&c->v[i], &rs->rules[rs->n], &why) == -1)
			break;
		if (rules_check(&rs->rules[rs->n++], &why) == -1)
			break;
	}
	if (i == c->n)
		return 0;
	set_cause(cause, "%s: [rule %s]: %s", path, name,
	    why != NULL ? why : "out of memory");
	free(why);
	rules_free(rs);
	return -1;
}

static void
load_ctx_clear(struct rules_load_ctx *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		rule_clear(&c->v[i].rule);
	free(c->v);
	free(c->error);
}

int
rules_load(const char *path, struct alerts_ruleset *rs, char **cause)
{
	struct rules_load_ctx c = { NULL, 0, NULL };
	int line, rc = -1;

	rs->rules = NULL;
	rs->n = 0;
	line = ini_parse(path, on_key, &c);
	if (line == -1)
		set_cause(cause, "%s: cannot open: %s", path, strerror(errno));
	else if (line == -2)
		set_cause(cause, "%s: out of memory", path);
	else if (line > 0)
		set_cause(cause, "%s:%d: %s", path, line,
		    c.error != NULL ? c.error : "syntax error");
	else
		rc = load_collect(&c, path, rs, cause);
	load_ctx_clear(&c);
	return rc;
}

int
rules_for_config(const char *path, struct alerts_ruleset *rs, char **cause)
{
	if (path != NULL && rules_load(path, rs, cause) == -1)
		return -1;
	if (path != NULL && rs->n > 0)
		return 0;
	return rules_defaults(rs, cause);
}
