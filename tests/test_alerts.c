/*
 * test_alerts.c - the alert evaluator, fed synthetic per-minute series
 * through struct alerts_source (no database): scenario backtests against
 * their planted truth, and the engine's semantics one at a time.
 *
 * A scenario is two simulated days of error series (steady, noisy, on a
 * daily cycle, or ramping) with events added on top: planted bursts, which
 * the default rules must find within two windows of their start, and
 * single-minute blips, which must not page.  Counts are Poisson draws from
 * a hash of (series, minute), so every run sees the same data.  The last
 * test prints the figures: bursts found / planted, false episodes per
 * simulated day, and the median detection delay.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "alerts.h"
#include "hash.h"
#include "rules.h"

#define T0		29892960LL	/* 2026-11-02T00:00Z in minutes */
#define DAY		1440
#define WINDOW		5		/* the default rules' window */
#define SERIES_MAX	12
#define EVENTS_MAX	12
/* Draws of each scenario; the environment's ALERT_SEEDS overrides. */
#define SEEDS		5

enum shape { STEADY, NOISY, DAILY, RAMP, STEP };

struct t_series {
	const char *code;
	double rate;		/* errors per minute before the shape */
	const char *api;	/* NULL: unknown */
};

struct t_event {
	const char *code;
	int at;			/* minutes after T0 */
	int dur;
	double rate;		/* errors per minute added; -N: exactly N */
	int planted;		/* 1: a burst to find; 0: must not page */
};

struct t_scenario {
	const char *name;
	enum shape shape;
	double param;		/* noise sigma, cycle amplitude, ramp growth,
				 * or step factor */
	int step_at;		/* STEP: minute of the step */
	int days;
	double ok_rate;		/* 2xx per minute per API, 0 for none */
	struct t_series series[SERIES_MAX];
	struct t_event events[EVENTS_MAX];
};

/* The usual background: every code active at its own rate. */
#define MIX \
	{ "SignatureNotMatch", 3, NULL }, \
	{ "Rejected.Disabled", 1, NULL }, \
	{ "Forbidden.KeyNotFound", 2, NULL }, \
	{ "Rejected.Throttling", 20, NULL }, \
	{ "InternalFailure", 0.5, NULL }, \
	{ "InvalidParam", 0.3, NULL }, \
	{ "Forbidden.NoPermission", 1.5, NULL }, \
	{ "RequestTimeTooSkewed", 0.2, NULL }

/* Single odd minutes, on day two. */
#define BLIPS \
	{ "SignatureNotMatch", DAY + 100, 1, 60, 0 }, \
	{ "Rejected.Throttling", DAY + 300, 1, 400, 0 }, \
	{ "Rejected.Disabled", DAY + 500, 1, 200, 0 }, \
	{ "Forbidden.KeyNotFound", DAY + 700, 1, 100, 0 }, \
	{ "InternalFailure", DAY + 900, 1, 100, 0 }, \
	{ "RequestTimeTooSkewed", DAY + 1100, 1, 50, 0 }

/*
 * Bursts of several sizes and codes, on day two, each at least six times
 * its code's level at the time (test_sensitivity measures where detection
 * fades: near five times for a series of one per minute).
 */
#define BURSTS \
	{ "Rejected.Disabled", DAY + 60, 10, 8, 1 }, \
	{ "Rejected.Disabled", DAY + 200, 10, 10, 1 }, \
	{ "Rejected.Disabled", DAY + 400, 10, 50, 1 }, \
	{ "SignatureNotMatch", DAY + 600, 5, 25, 1 }, \
	{ "RequestTimeTooSkewed", DAY + 750, 10, 3, 1 }, \
	{ "InternalFailure", DAY + 850, 15, 20, 1 }, \
	{ "Rejected.Throttling", DAY + 1000, 10, 100, 1 }, \
	{ "Forbidden.KeyNotFound", DAY + 1150, 5, 30, 1 }, \
	{ "InvalidParam", DAY + 1300, 10, 10, 1 }

static const struct t_scenario scenarios[] = {
	{ "steady mix", STEADY, 0, 0, 2, 0, { MIX }, { { NULL } } },
	{ "noisy baseline", NOISY, 0.6, 0, 2, 0, { MIX }, { { NULL } } },
	{ "daily cycle", DAILY, 0.8, 0, 2, 0, { MIX }, { { NULL } } },
	{ "slow ramp (x4 over two days)", RAMP, 3, 0, 2, 0, { MIX },
	  { { NULL } } },
	{ "traffic doubling in an hour", RAMP, 48, 0, 2, 0, { MIX },
	  { { NULL } } },
	{ "single-minute blips", STEADY, 0, 0, 2, 0, { MIX }, { BLIPS } },
	{ "blips on a noisy baseline", NOISY, 0.6, 0, 2, 0, { MIX },
	  { BLIPS } },
	{ "bursts on a steady mix", STEADY, 0, 0, 2, 0, { MIX }, { BURSTS } },
	{ "bursts on a noisy baseline", NOISY, 0.6, 0, 2, 0, { MIX },
	  { BURSTS } },
	{ "bursts on a daily cycle", DAILY, 0.8, 0, 2, 0, { MIX },
	  { BURSTS } },
	{ "bursts on a slow ramp", RAMP, 3, 0, 2, 0, { MIX }, { BURSTS } },
	{ "bursts from nothing", STEADY, 0, 0, 2, 0,
	  { { "Rejected.Disabled", 0, NULL }, { "Rejected.State", 0, NULL },
	    { "Unauthorized", 0, NULL }, { "SignatureNotMatch", 0.5, NULL } },
	  { { "Rejected.Disabled", DAY + 100, 10, 20, 1 },
	    { "Rejected.State", DAY + 400, 10, 5, 1 },
	    { "Unauthorized", DAY + 700, 3, 40, 1 },
	    { "SignatureNotMatch", DAY + 1000, 20, 4, 1 } } },
};
#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* --- the synthetic source ----------------------------------------------- */

struct synth {
	const struct t_scenario *sc;
	const struct t_event *extra;	/* events of a single test */
	size_t nextra;
};

/* The draw: each scenario runs once per seed, 1 to SEEDS. */
static uint64_t seed = 1;

static double
uniform(uint64_t a, uint64_t b, uint64_t c)
{
	/* Chained, not XORed: each input is mixed into all that follow. */
	uint64_t h = hash_mix(hash_mix(hash_mix(hash_mix(seed +
	    0x9e3779b97f4a7c15ULL) + a) + b) + c);

	return ((double)(h >> 11) + 0.5) / 9007199254740992.0;
}

static int64_t
poisson(double lambda, uint64_t a, uint64_t b)
{
	double l, p = 1, z;
	int64_t k = 0;

	if (lambda <= 0)
		return 0;
	if (lambda > 60) {
		z = sqrt(-2 * log(uniform(a, b, 1))) *
		    cos(2 * M_PI * uniform(a, b, 2));
		k = (int64_t)llround(lambda + sqrt(lambda) * z);
		return k < 0 ? 0 : k;
	}
	l = exp(-lambda);
	do {
		p *= uniform(a, b, 10 + (uint64_t)k);
		k++;
	} while (p > l);
	return k - 1;
}

/* How the scenario's shape scales rates at minute m (after T0). */
static double
shape_at(const struct t_scenario *sc, int64_t m, uint64_t series)
{
	double z;

	switch (sc->shape) {
	case NOISY:
		z = sqrt(-2 * log(uniform(series, (uint64_t)m, 3))) *
		    cos(2 * M_PI * uniform(series, (uint64_t)m, 4));
		return exp(sc->param * z - sc->param * sc->param / 2);
	case DAILY:
		return 1 + sc->param * sin(2 * M_PI * (double)(m % DAY) / DAY);
	case RAMP:
		return 1 + sc->param * (double)m / (sc->days * DAY);
	case STEP:
		return m >= sc->step_at ? sc->param : 1;
	default:
		return 1;
	}
}

/* The events' rate at m; exact counts (rate < 0) go to *exact. */
static double
events_rate(const struct t_event *ev, size_t n, const char *code, int64_t m,
    int64_t *exact)
{
	double rate = 0;
	size_t i;

	for (i = 0; i < n && ev[i].code != NULL; i++) {
		if (strcmp(ev[i].code, code) != 0 || m < ev[i].at ||
		    m >= ev[i].at + ev[i].dur)
			continue;
		if (ev[i].rate < 0)
			*exact += (int64_t)-ev[i].rate;
		else
			rate += ev[i].rate;
	}
	return rate;
}

static int64_t
series_count(const struct synth *sy, size_t s, int64_t m)
{
	const struct t_scenario *sc = sy->sc;
	const struct t_series *ser = &sc->series[s];
	int64_t exact = 0;
	double lambda;

	if (m < 0 || m >= (int64_t)sc->days * DAY)
		return 0;
	lambda = ser->rate * shape_at(sc, m, s);
	/* On a ramp, bursts grow with the traffic: their size is relative. */
	lambda += events_rate(sc->events, EVENTS_MAX, ser->code, m, &exact) *
	    (sc->shape == RAMP ? shape_at(sc, m, s) : 1);
	lambda += events_rate(sy->extra, sy->nextra, ser->code, m, &exact);
	return exact + poisson(lambda, s + 1, (uint64_t)m);
}

static int
row_push(struct store_minute **rows, size_t *n, size_t *cap, int64_t minute,
    const char *code, const char *api, int64_t count)
{
	struct store_minute *grown, *r;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		if ((grown = realloc(*rows, *cap * sizeof **rows)) == NULL)
			return -1;
		*rows = grown;
	}
	r = &(*rows)[(*n)++];
	memset(r, 0, sizeof *r);
	r->minute = minute;
	r->code = code != NULL ? strdup(code) : NULL;
	r->api = api != NULL ? strdup(api) : NULL;
	r->status = code != NULL ? 400 : 0;
	r->count = count;
	return 0;
}

/* 2xx per API: the APIs of the series, at ok_rate each, shaped. */
static int64_t
ok_count(const struct synth *sy, size_t s, int64_t m)
{
	const struct t_scenario *sc = sy->sc;

	if (m < 0 || m >= (int64_t)sc->days * DAY || sc->ok_rate == 0)
		return 0;
	return poisson(sc->ok_rate * shape_at(sc, m, 100 + s), 100 + s,
	    (uint64_t)m);
}

static int
synth_minutes(void *ctx, int64_t from, int64_t to, int responses,
    struct store_minute **rows, size_t *n, char **cause)
{
	struct synth *sy = ctx;
	const struct t_series *ser;
	size_t cap = 0, s;
	int64_t m, c;

	(void)cause;
	*rows = NULL;
	*n = 0;
	for (m = from; m < to; m++) {
		for (s = 0; s < SERIES_MAX; s++) {
			if ((ser = &sy->sc->series[s])->code == NULL)
				break;
			c = responses ? ok_count(sy, s, m - T0) :
			    series_count(sy, s, m - T0);
			if (c > 0 && row_push(rows, n, &cap, m, responses ?
			    NULL : ser->code, ser->api, c) == -1)
				return -1;
		}
	}
	return 0;
}

static void
synth_source(struct alerts_source *src, struct synth *sy)
{
	src->ctx = sy;
	src->minutes = synth_minutes;
	src->hours = NULL;
	src->data_start = T0;
}

/* --- figures ------------------------------------------------------------ */

static struct {
	int planted, found, false_eps;
	double days;
	int delays[16384];
	int ndelays;
} fig;

/* The planted burst episode e belongs to, or NULL. */
static const struct t_event *
burst_of(const struct t_scenario *sc, const struct alerts_episode *e)
{
	const struct t_event *ev;
	int64_t at;
	size_t i;

	for (i = 0; i < EVENTS_MAX && sc->events[i].code != NULL; i++) {
		ev = &sc->events[i];
		at = T0 + ev->at;
		if (ev->planted && strcmp(ev->code, e->code) == 0 &&
		    e->started_min >= at && e->started_min <= at + ev->dur +
		    WINDOW)
			return ev;
	}
	return NULL;
}

static void
print_episode(const struct alerts_ruleset *rs, const struct alerts_episode *e)
{
	print_message("    episode %s %s started +%lld fired +%lld resolved "
	    "+%lld peak %g baseline %g\n", rs->rules[e->rule].name, e->code,
	    (long long)(e->started_min - T0), (long long)(e->fired_min - T0),
	    (long long)(e->resolved_min - T0), e->peak, e->baseline);
}

/* Delay from a planted burst's start to the first episode that fired. */
static int
burst_delay(const struct alerts_episode *eps, size_t n,
    const struct t_event *ev)
{
	int64_t best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(eps[i].code, ev->code) != 0 ||
		    eps[i].fired_min < T0 + ev->at ||
		    eps[i].started_min > T0 + ev->at + ev->dur + WINDOW)
			continue;
		if (best < 0 || eps[i].fired_min - (T0 + ev->at) < best)
			best = eps[i].fired_min - (T0 + ev->at);
	}
	return (int)best;
}

/* Backtests one draw of sc; returns its false episodes. */
static size_t
scenario_run(const struct t_scenario *sc, const struct alerts_ruleset *rs,
    int quiet)
{
	struct synth sy = { sc, NULL, 0 };
	struct alerts_episode *eps;
	struct alerts_source src;
	char *cause = NULL;
	size_t n, i, falses = 0;
	int d;

	synth_source(&src, &sy);
	if (alerts_backtest(rs, &src, T0 * 60000, (T0 + sc->days * DAY) *
	    60000, &eps, &n, &cause) != 0)
		fail_msg("backtest: %s", cause);
	for (i = 0; i < n; i++) {
		if (burst_of(sc, &eps[i]) != NULL)
			continue;
		print_message("  false episode in \"%s\" seed %d:\n",
		    sc->name, (int)seed);
		print_episode(rs, &eps[i]);
		falses++;
	}
	for (i = 0; i < EVENTS_MAX && sc->events[i].code != NULL; i++) {
		if (!sc->events[i].planted)
			continue;
		fig.planted++;
		d = burst_delay(eps, n, &sc->events[i]);
		if (d >= 0 && d <= 2 * WINDOW) {
			fig.delays[fig.ndelays++] = d;
			fig.found++;
			continue;
		}
		if (!quiet)
			print_message("  burst %s at +%d missed (delay %d) in "
			    "\"%s\" seed %d\n", sc->events[i].code,
			    sc->events[i].at, d, sc->name, (int)seed);
	}
	fig.false_eps += (int)falses;
	fig.days += sc->days;
	alerts_episodes_free(eps, n);
	return falses;
}

static void
test_scenario(void **state)
{
	const struct t_scenario *sc = *state;
	const char *env = getenv("ALERT_SEEDS");
	uint64_t seeds = env != NULL ? strtoull(env, NULL, 10) : SEEDS;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t falses = 0;

	assert_int_equal(rules_defaults(&rs, &cause), 0);
	for (seed = 1; seed <= seeds; seed++)
		falses += scenario_run(sc, &rs, 0);
	seed = 1;
	rules_free(&rs);
	assert_int_equal(falses, 0);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Runs last: the scenario set's figures, and every burst found. */
static void
test_figures(void **state)
{
	(void)state;
	qsort(fig.delays, (size_t)fig.ndelays, sizeof fig.delays[0], cmp_int);
	print_message("alerts: bursts found %d / %d planted, false episodes "
	    "%d over %.0f simulated days (%.2f per day), detection delay "
	    "median %d min, 95th percentile %d min\n", fig.found, fig.planted,
	    fig.false_eps, fig.days, fig.false_eps / fig.days,
	    fig.ndelays ? fig.delays[fig.ndelays / 2] : -1,
	    fig.ndelays ? fig.delays[fig.ndelays * 95 / 100] : -1);
	assert_int_equal(fig.found, fig.planted);
	assert_int_equal(fig.false_eps, 0);
}

/*
 * Where detection fades: 10-minute bursts of Rejected.Disabled of several
 * sizes over a steady series of 1 and of 10 per minute, 20 draws each.
 * Prints the share found within two windows; eight times the level and
 * more must always be found.
 */
static void
test_sensitivity(void **state)
{
	static const double bases[] = { 1, 10 };
	static const double mult[] = { 2, 3, 4, 5, 6, 8, 10, 20 };
	struct t_scenario sc = { "sensitivity", STEADY, 0, 0, 2, 0,
	    { { "Rejected.Disabled", 0, NULL } }, { { NULL } } };
	struct alerts_ruleset rs;
	char *cause = NULL, line[256];
	size_t b, k, len;
	int found, saved = fig.planted;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	for (b = 0; b < 2; b++) {
		sc.series[0].rate = bases[b];
		len = (size_t)snprintf(line, sizeof line, "  %g/min:",
		    bases[b]);
		for (k = 0; k < sizeof mult / sizeof mult[0]; k++) {
			sc.events[0] = (struct t_event){ "Rejected.Disabled",
			    DAY + 300, 10, bases[b] * (mult[k] - 1), 1 };
			found = fig.found;
			for (seed = 1; seed <= 20; seed++)
				scenario_run(&sc, &rs, 1);
			found = fig.found - found;
			len += (size_t)snprintf(line + len, sizeof line - len,
			    " %gx %d%%", mult[k], found * 5);
			if (mult[k] >= 8)
				assert_int_equal(found, 20);
		}
		print_message("%s\n", line);
	}
	seed = 1;
	/* Not part of the scenario figures. */
	fig.found -= fig.planted - saved;
	fig.planted = saved;
	rules_free(&rs);
}

/* --- one behaviour at a time --------------------------------------------- */

static const struct t_scenario quiet_mix = {
	"quiet mix", STEADY, 0, 0, 2, 0,
	{ MIX, { "Rejected.State", 0, NULL }, { "Rejected.PendingImport", 0,
	    NULL } }, { { NULL } }
};

/* Backtests quiet_mix (or sc) with extra events over both days. */
static void
run_extra(const struct t_scenario *sc, const struct t_event *ev, size_t n,
    const struct alerts_ruleset *rs, struct alerts_episode **eps,
    size_t *neps)
{
	struct synth sy = { sc != NULL ? sc : &quiet_mix, ev, n };
	struct alerts_source src;
	char *cause = NULL;

	synth_source(&src, &sy);
	if (alerts_backtest(rs, &src, T0 * 60000, (T0 + 2 * DAY) * 60000,
	    eps, neps, &cause) != 0)
		fail_msg("backtest: %s", cause);
}

/* Episodes of rule `rule` (by name) on code. */
static size_t
count_of(const struct alerts_ruleset *rs, const struct alerts_episode *eps,
    size_t n, const char *rule, const char *code, size_t *first)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(rs->rules[eps[i].rule].name, rule) == 0 &&
		    strcmp(eps[i].code, code) == 0 && k++ == 0 && first != NULL)
			*first = i;
	}
	return k;
}

/*
 * A burst stored all at once, minutes after it began, fires at the first
 * evaluation that sees it: `for` is counted on the data's time line.
 */
static void
test_late_burst_fires_at_once(void **state)
{
	static const struct t_event ev[] = {
		{ "Rejected.Disabled", DAY + 100, 30, 50, 1 },
	};
	struct synth sy = { &quiet_mix, ev, 1 };
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	struct alerts_source src;
	char *cause = NULL;
	size_t n, i = 0;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	synth_source(&src, &sy);
	assert_int_equal(alerts_current(&rs, &src, (T0 + DAY + 108) * 60000 +
	    1234, &eps, &n, &cause), 0);
	assert_int_equal(count_of(&rs, eps, n, "key-disabled",
	    "Rejected.Disabled", &i), 1);
	assert_int_equal(eps[i].state, ALERTS_FIRING);
	assert_true(eps[i].fired_min < T0 + DAY + 108);
	assert_true(eps[i].fired_min >= eps[i].started_min + 1);
	assert_non_null(strstr(eps[i].summary, "Rejected.Disabled"));
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* On for three minutes, off for two, for half an hour: one episode. */
static void
test_flapping_is_one_episode(void **state)
{
	struct t_event ev[6];
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t n, i;

	(void)state;
	for (i = 0; i < 6; i++)
		ev[i] = (struct t_event){ "Rejected.Disabled",
		    DAY + 200 + 5 * (int)i, 3, 30, 1 };
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	run_extra(NULL, ev, 6, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "key-disabled",
	    "Rejected.Disabled", NULL), 1);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* A three-hour outage keeps its start's baseline: one episode to the end. */
static void
test_long_outage_stays_firing(void **state)
{
	static const struct t_event ev[] = {
		{ "Rejected.Disabled", DAY + 100, 180, 30, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t n, i = 0;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	run_extra(NULL, ev, 1, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "key-disabled",
	    "Rejected.Disabled", &i), 1);
	assert_true(eps[i].resolved_min >= T0 + DAY + 280);
	assert_true(eps[i].resolved_min <= T0 + DAY + 280 + 2 * WINDOW + 10);
	assert_true(eps[i].baseline < 10);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* One rule over two codes tracks each code on its own. */
static void
test_codes_tracked_separately(void **state)
{
	static const struct t_event ev[] = {
		{ "Rejected.State", DAY + 300, 10, 20, 1 },
		{ "Rejected.PendingImport", DAY + 302, 10, 20, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t n;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	run_extra(NULL, ev, 2, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "key-state", "Rejected.State",
	    NULL), 1);
	assert_int_equal(count_of(&rs, eps, n, "key-state",
	    "Rejected.PendingImport", NULL), 1);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* One call to a key pending deletion pages in the minute it is stored. */
static void
test_pending_deletion_pages_at_one(void **state)
{
	static const struct t_scenario sc = { "one call", STEADY, 0, 0, 2, 0,
	    { MIX, { "Rejected.PendingDeletion", 0, NULL } }, { { NULL } } };
	static const struct t_event ev[] = {
		{ "Rejected.PendingDeletion", DAY + 50, 1, -1, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t n, i = 0;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	run_extra(&sc, ev, 1, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "pending-deletion",
	    "Rejected.PendingDeletion", &i), 1);
	assert_int_equal(eps[i].fired_min, T0 + DAY + 50);
	assert_int_equal(eps[i].resolved_min, T0 + DAY + 50 + WINDOW - 1 +
	    30);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/*
 * new_code: a code unseen for a day fires, one seen twelve hours before
 * does not, and a code the catalog does not know fires whenever it shows.
 */
static void
test_new_code(void **state)
{
	static const struct t_scenario sc = { "new codes", STEADY, 0, 0, 2, 0,
	    { MIX, { "InvalidContentType", 0, NULL },
	      { "Forbidden.NoPermission", 0, NULL },
	      { "Rejected.SomethingNew", 0, NULL } }, { { NULL } } };
	static const struct t_event ev[] = {
		{ "InvalidContentType", DAY + 500, 2, 2, 1 },
		{ "Rejected.SomethingNew", DAY + 900, 1, -1, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t n, i = 0;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	run_extra(&sc, ev, 2, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "new-code",
	    "InvalidContentType", &i), 1);
	assert_int_equal(eps[i].fired_min, T0 + DAY + 500);
	assert_int_equal(count_of(&rs, eps, n, "new-code",
	    "Rejected.SomethingNew", &i), 1);
	assert_non_null(strstr(eps[i].summary, "catalog does not know"));
	/* Forbidden.NoPermission runs steadily in MIX: never new. */
	assert_int_equal(count_of(&rs, eps, n, "new-code",
	    "Forbidden.NoPermission", NULL), 0);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* A burst across the boundary of two replay frames is one episode. */
static void
test_burst_across_frames(void **state)
{
	/* The backtest replays from T0 - 120; frames are 1440 minutes. */
	static const struct t_event ev[] = {
		{ "Rejected.Disabled", 1440 - 120 - 8, 20, 30, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t n, i = 0;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	run_extra(NULL, ev, 1, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "key-disabled",
	    "Rejected.Disabled", &i), 1);
	assert_true(eps[i].fired_min - (T0 + ev[0].at) <= 2 * WINDOW);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* Writes ini to a temporary file and loads its rules. */
static void
load_rules(const char *ini, struct alerts_ruleset *rs)
{
	char path[] = "/tmp/kmswatch-test-rules-XXXXXX";
	char *cause = NULL;
	FILE *f;
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(ini, f);
	fclose(f);
	if (rules_load(path, rs, &cause) != 0)
		fail_msg("rules_load: %s", cause);
	unlink(path);
}

static const char ratio_rules[] =
	"[rule by-count]\n"
	"type = spike\ncodes = Rejected.Disabled\n"
	"[rule by-ratio]\n"
	"type = spike\ncodes = Rejected.Disabled\nmeasure = ratio\n";

/* Traffic four times higher: counts page, the error ratio does not. */
static void
test_ratio_ignores_traffic_growth(void **state)
{
	static const struct t_scenario sc = { "traffic step", STEP, 4,
	    DAY + 300, 2, 40,
	    { { "Rejected.Disabled", 2, "Decrypt" },
	      { "SignatureNotMatch", 1, "Encrypt" } }, { { NULL } } };
	static const struct t_event ev[] = {
		{ "Rejected.Disabled", DAY + 800, 10, 60, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	size_t n, i = 0;

	(void)state;
	load_rules(ratio_rules, &rs);
	run_extra(&sc, ev, 1, &rs, &eps, &n);
	/*
	 * by-count fires at the step (and, keeping the step's baseline,
	 * stays firing); by-ratio fires for the burst only.
	 */
	assert_true(count_of(&rs, eps, n, "by-count", "Rejected.Disabled",
	    &i) >= 1);
	assert_true(eps[i].started_min >= T0 + DAY + 300 &&
	    eps[i].started_min <= T0 + DAY + 300 + WINDOW);
	assert_int_equal(count_of(&rs, eps, n, "by-ratio",
	    "Rejected.Disabled", &i), 1);
	assert_true(eps[i].fired_min >= T0 + DAY + 800);
	assert_true(eps[i].fired_min <= T0 + DAY + 800 + 2 * WINDOW);
	assert_true(eps[i].ratio);
	assert_string_equal(eps[i].api, "Decrypt");
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* With no 2xx seen (pb captures), a ratio rule judges counts. */
static void
test_ratio_without_responses_counts(void **state)
{
	static const struct t_event ev[] = {
		{ "Rejected.Disabled", DAY + 800, 10, 60, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	size_t n, i = 0;

	(void)state;
	load_rules(ratio_rules, &rs);
	run_extra(NULL, ev, 1, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "by-ratio",
	    "Rejected.Disabled", &i), 1);
	assert_false(eps[i].ratio);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* A ratio threshold: at least 20% of Decrypt calls failing. */
static void
test_ratio_threshold(void **state)
{
	static const char ini[] =
		"[rule decrypt-failing]\ntype = threshold\ncodes = *\n"
		"api = Decrypt\nmeasure = ratio\nratio = 0.2\nmin_count = 5\n";
	static const struct t_scenario sc = { "decrypt", STEADY, 0, 0, 2, 40,
	    { { "Rejected.Disabled", 2, "Decrypt" },
	      { "Rejected.Disabled", 20, "Encrypt" } }, { { NULL } } };
	static const struct t_event ev[] = {
		{ "Rejected.Disabled", DAY + 600, 20, 20, 1 },
	};
	struct alerts_episode *eps;
	struct alerts_ruleset rs;
	size_t n, i = 0;

	(void)state;
	load_rules(ini, &rs);
	run_extra(&sc, ev, 1, &rs, &eps, &n);
	assert_int_equal(count_of(&rs, eps, n, "decrypt-failing",
	    "Rejected.Disabled", &i), 1);
	assert_string_equal(eps[i].api, "Decrypt");
	assert_true(eps[i].peak >= 0.2 && eps[i].peak <= 1);
	alerts_episodes_free(eps, n);
	rules_free(&rs);
}

/* --- summaries ------------------------------------------------------------ */

static struct alerts_episode
episode(size_t rule, const char *code, int64_t start, int64_t end)
{
	struct alerts_episode e;

	memset(&e, 0, sizeof e);
	e.rule = rule;
	e.code = strdup(code);
	e.state = end < 0 ? ALERTS_FIRING : ALERTS_RESOLVED;
	e.started_min = start;
	e.fired_min = start;
	e.resolved_min = end;
	e.peak = e.value = 40;
	e.baseline = 2;
	return e;
}

static size_t
rule_index(const struct alerts_ruleset *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		if (strcmp(rs->rules[i].name, name) == 0)
			return i;
	}
	fail_msg("no rule %s", name);
	return 0;
}

struct summary_case {
	const char *name;
	const char *codes[3];		/* episodes, overlapping in time */
	int apart;			/* 1: the second far from the first */
	const char *want;		/* in the first one's summary */
};

static const struct summary_case summary_cases[] = {
	{ "signature and clocks", { "SignatureNotMatch",
	  "RequestTimeTooSkewed" }, 0, "client clocks" },
	{ "clocks and signature", { "RequestTimeTooSkewed",
	  "SignatureNotMatch" }, 0, "client clocks" },
	{ "signature alone", { "SignatureNotMatch" }, 0,
	  "half-rotated AccessKey pair" },
	{ "signature, clocks another day", { "SignatureNotMatch",
	  "RequestTimeTooSkewed" }, 1, "half-rotated AccessKey pair" },
	{ "key not found", { "Forbidden.KeyNotFound" }, 0,
	  "deleted, or at calls sent to the wrong instance" },
	{ "catalog meaning and action", { "Rejected.PendingDeletion" }, 0,
	  "What to do: Cancel the deletion" },
	{ "unknown code", { "Rejected.SomethingNew" }, 0,
	  "cannot explain it" },
};

static const char *
rule_for_code(const char *code)
{
	if (strcmp(code, "SignatureNotMatch") == 0)
		return "signature-mismatch";
	if (strcmp(code, "RequestTimeTooSkewed") == 0)
		return "clock-skew";
	if (strcmp(code, "Forbidden.KeyNotFound") == 0)
		return "key-not-found";
	if (strcmp(code, "Rejected.PendingDeletion") == 0)
		return "pending-deletion";
	return "new-code";
}

static void
test_summaries(void **state)
{
	const struct summary_case *c;
	struct alerts_episode eps[3];
	struct alerts_ruleset rs;
	char *cause = NULL;
	size_t i, n;

	(void)state;
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	for (c = summary_cases; c < summary_cases + sizeof summary_cases /
	    sizeof summary_cases[0]; c++) {
		for (n = 0; n < 3 && c->codes[n] != NULL; n++)
			eps[n] = episode(rule_index(&rs, rule_for_code(
			    c->codes[n])), c->codes[n], T0 + (n && c->apart ?
			    DAY : 0), n && c->apart ? T0 + DAY + 30 : T0 + 30);
		assert_int_equal(alerts_summarize(&rs, eps, n), 0);
		if (strstr(eps[0].summary, c->want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", c->name,
			    eps[0].summary, c->want);
		for (i = 0; i < n; i++) {
			free(eps[i].code);
			free(eps[i].summary);
		}
	}
	rules_free(&rs);
}

/* --- the engine on a real database ---------------------------------------- */

struct dbfix {
	char dir[64];
	char path[96];
};

static int
db_setup(void **state)
{
	struct dbfix *f = calloc(1, sizeof *f);
	struct store *st;
	char *cause = NULL;

	strcpy(f->dir, "/tmp/kmswatch-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
	if (store_open(f->path, STORE_WRITE, &st, &cause) != 0)
		fail_msg("store_open: %s", cause);
	store_close(st);
	*state = f;
	return 0;
}

static int
db_teardown(void **state)
{
	struct dbfix *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Stores per minute from T0: a steady Disabled trickle, then a burst. */
static void
db_fill(const char *path, int minutes, int burst_at, int burst_len)
{
	struct record rec = { .status = 409, .code = "Rejected.Disabled",
	    .message = "The request was rejected because the key state is "
	    "Disabled.", .api = "Decrypt" };
	struct store_in in = { &rec, "test", "key-state", 1 };
	struct store *st;
	char *cause = NULL, rid[64];
	int m, k, n, seq = 0;

	if (store_open(path, STORE_WRITE, &st, &cause) != 0 ||
	    store_begin(st, &cause) != 0)
		fail_msg("store: %s", cause);
	for (m = 0; m < minutes; m++) {
		n = m >= burst_at && m < burst_at + burst_len ? 60 : 1;
		for (k = 0; k < n; k++) {
			snprintf(rid, sizeof rid, "RID-%08d", seq++);
			rec.request_id = rid;
			rec.time_ms = (T0 + m) * 60000 + k * 100;
			if (store_add(st, &in, &cause) == -1)
				fail_msg("store_add: %s", cause);
		}
	}
	if (store_commit(st, &cause) != 0)
		fail_msg("commit: %s", cause);
	store_close(st);
}

/* The alerts of a JSON document, by state, as "rule/code" strings. */
static json_t *
active_json(struct alerts *a, enum alerts_filter f)
{
	char *cause = NULL;
	json_t *doc = alerts_json_active(a, f, 0, INT64_MAX, &cause);

	if (doc == NULL)
		fail_msg("alerts_json_active: %s", cause);
	return doc;
}

static const char *
alert_field(json_t *doc, size_t i, const char *key)
{
	json_t *v = json_object_get(json_array_get(json_object_get(doc,
	    "alerts"), i), key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
evaluate(struct alerts *a, int64_t minute)
{
	char *cause = NULL;

	if (alerts_evaluate(a, minute * 60000 + 500, &cause) != 0)
		fail_msg("alerts_evaluate: %s", cause);
}

/* Fires, survives a restart with its start, then resolves. */
static void
test_engine_state_survives_restart(void **state)
{
	struct dbfix *f = *state;
	struct alerts_metrics m;
	struct alerts *a;
	char *cause = NULL, started[64];
	json_t *doc;

	db_fill(f->path, 200, 120, 10);
	assert_int_equal(alerts_open(f->path, NULL, &a, &cause), 0);
	evaluate(a, T0 + 128);
	doc = active_json(a, ALERTS_ACTIVE);
	assert_int_equal(json_array_size(json_object_get(doc, "alerts")), 1);
	assert_string_equal(alert_field(doc, 0, "rule"), "key-disabled");
	assert_string_equal(alert_field(doc, 0, "state"), "firing");
	snprintf(started, sizeof started, "%s",
	    alert_field(doc, 0, "started_at"));
	assert_non_null(strstr(alert_field(doc, 0, "summary"),
	    "Re-enable the key"));
	json_decref(doc);
	alerts_metrics(a, &m);
	assert_int_equal(m.firing, 1);
	assert_int_equal(m.evaluations, 1);
	alerts_stop(a);

	/* A restart: the same alert, the same start, before any pass. */
	assert_int_equal(alerts_open(f->path, NULL, &a, &cause), 0);
	doc = active_json(a, ALERTS_ACTIVE);
	assert_string_equal(alert_field(doc, 0, "started_at"), started);
	json_decref(doc);

	/* The burst long over: resolved, kept in the history. */
	evaluate(a, T0 + 190);
	doc = active_json(a, ALERTS_ACTIVE);
	assert_int_equal(json_array_size(json_object_get(doc, "alerts")), 0);
	json_decref(doc);
	doc = active_json(a, ALERTS_ALL);
	assert_int_equal(json_array_size(json_object_get(doc, "alerts")), 1);
	assert_string_equal(alert_field(doc, 0, "state"), "resolved");
	assert_string_equal(alert_field(doc, 0, "started_at"), started);
	assert_non_null(alert_field(doc, 0, "resolved_at"));
	json_decref(doc);
	alerts_stop(a);
}

/* Evaluating at every minute, as the daemon would, makes one episode. */
static void
test_engine_minute_by_minute(void **state)
{
	struct dbfix *f = *state;
	struct alerts *a;
	char *cause = NULL;
	json_t *doc;
	int64_t m;

	db_fill(f->path, 300, 150, 10);
	assert_int_equal(alerts_open(f->path, NULL, &a, &cause), 0);
	for (m = T0 + 100; m < T0 + 300; m++)
		evaluate(a, m);
	doc = active_json(a, ALERTS_ALL);
	assert_int_equal(json_array_size(json_object_get(doc, "alerts")), 1);
	assert_string_equal(alert_field(doc, 0, "state"), "resolved");
	json_decref(doc);
	alerts_stop(a);
}

/* The backtest JSON of the engine's rules over the stored data. */
static void
test_engine_backtest_json(void **state)
{
	struct dbfix *f = *state;
	struct alerts *a;
	struct store *st;
	char *cause = NULL;
	json_t *doc, *ep;

	db_fill(f->path, 200, 120, 10);
	assert_int_equal(alerts_open(f->path, NULL, &a, &cause), 0);
	assert_int_equal(store_open(f->path, STORE_READ, &st, &cause), 0);
	doc = alerts_json_backtest(a, st, T0 * 60000, (T0 + 200) * 60000,
	    &cause);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "episodes")), 1);
	ep = json_array_get(json_object_get(doc, "episodes"), 0);
	assert_string_equal(json_string_value(json_object_get(ep, "code")),
	    "Rejected.Disabled");
	assert_true(json_is_string(json_object_get(ep, "resolved_at")));
	assert_true(json_number_value(json_object_get(ep, "peak")) >= 300);
	json_decref(doc);
	store_close(st);
	alerts_stop(a);
}

/* The daemon's thread evaluates at once, and stops without delay. */
static void
test_engine_thread(void **state)
{
	struct dbfix *f = *state;
	struct alerts_metrics m;
	struct alerts_ruleset rs;
	struct timespec t0, t1;
	struct alerts *a;
	char *cause = NULL;
	int i;

	db_fill(f->path, 60, 30, 5);
	assert_int_equal(alerts_start(f->path, NULL, &a, &cause), 0);
	for (i = 0; i < 500; i++) {
		alerts_metrics(a, &m);
		if (m.evaluations > 0)
			break;
		usleep(10000);
	}
	assert_int_equal(m.evaluations, 1);
	assert_int_equal(m.failures, 0);
	assert_true(m.last_ms > 0 && m.last_duration_s >= 0);
	assert_int_equal(rules_defaults(&rs, &cause), 0);
	assert_int_equal(m.rules, rs.n);
	rules_free(&rs);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alerts_stop(a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
}

/* A file that is no kmswatch database is refused, not migrated. */
static void
test_engine_refuses_foreign_file(void **state)
{
	struct dbfix *f = *state;
	struct alerts *a;
	char *cause = NULL, path[128];
	FILE *fp;

	snprintf(path, sizeof path, "%s/other.db", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(alerts_open(path, NULL, &a, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

int
main(void)
{
	struct CMUnitTest tests[NSCENARIOS + 32];
	size_t i, n = 0;

	for (i = 0; i < NSCENARIOS; i++)
		tests[n++] = (struct CMUnitTest){ scenarios[i].name,
		    test_scenario, NULL, NULL, (void *)&scenarios[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_figures);
#define ADD(t) tests[n++] = (struct CMUnitTest)cmocka_unit_test(t)
#define ADD_DB(t) tests[n++] = (struct CMUnitTest) \
	cmocka_unit_test_setup_teardown(t, db_setup, db_teardown)
	ADD(test_sensitivity);
	ADD(test_late_burst_fires_at_once);
	ADD(test_flapping_is_one_episode);
	ADD(test_long_outage_stays_firing);
	ADD(test_codes_tracked_separately);
	ADD(test_pending_deletion_pages_at_one);
	ADD(test_new_code);
	ADD(test_burst_across_frames);
	ADD(test_ratio_ignores_traffic_growth);
	ADD(test_ratio_without_responses_counts);
	ADD(test_ratio_threshold);
	ADD(test_summaries);
	ADD_DB(test_engine_state_survives_restart);
	ADD_DB(test_engine_minute_by_minute);
	ADD_DB(test_engine_backtest_json);
	ADD_DB(test_engine_thread);
	ADD_DB(test_engine_refuses_foreign_file);
	return _cmocka_run_group_tests("alerts", tests, n, NULL, NULL);
}
