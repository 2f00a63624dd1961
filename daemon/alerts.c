/*
 * alerts.c - the alert evaluator, backtests, summaries, the daemon's
 * evaluation thread, and the JSON and command-line views of alerts.
 *
 * The evaluator reads counts through struct alerts_source (the store's
 * per-minute rollups in the daemon, synthetic series in the tests) and
 * judges each rule minute by minute:
 *
 *   threshold	at least min_count matched errors in the window (or, per
 *		API, an error ratio of at least `ratio`);
 *   spike	the window's count far above what the trailing `baseline`
 *		period predicts (method below);
 *   new_code	a code in the window that the trailing period never saw, or
 *		that the catalog does not know.
 *
 * Spike method.  The baseline is every window of the rule's length that
 * fits in the trailing period before the current window (overlapping, one
 * per minute: 56 for a 5-minute window and an hour).  Counts are compared
 * on Anscombe's variance-stabilised scale, t(x) = 2 sqrt(x + 3/8), where a
 * Poisson count has a spread of about 1 whatever its mean.  The centre C is
 * the median of the baseline windows on that scale, and the spread S the
 * root mean square of their deviations from C, each clipped to 3 MADs, and
 * at least 1 (the Poisson spread).  A window spikes when its count X is at
 * least min_count, at least factor times the median count E, and
 * t(X) - C >= z * S.  Why: medians and clipping keep an earlier burst or an
 * odd minute in the past from moving the baseline; the stabilised scale
 * makes one z mean the same at 1 error a minute and at 1000, where a raw
 * (X - E) / sqrt(E) pages on chance at small counts; the mean square, not
 * the MAD, because the MAD of the few values small counts take jumps;
 * measured overdispersion (noisy series) widens S beyond 1, so a noisy
 * series must depart further; the factor keeps a large, smooth series
 * (where S is small next to E) from paging on a modest rise such as
 * traffic growing by a fifth; min_count keeps tiny counts quiet.  X is
 * taken with its largest minute replaced by its second largest, so one odd
 * minute cannot carry a window: a burst must raise at least two minutes.
 * A slow ramp or a daily cycle moves the median with it.  The baseline is
 * kept from the minute an alert turns pending, so that a burst does not
 * lift its own baseline, and a lasting outage stays firing until it ends
 * instead of becoming the new normal.  While pending, one false minute is
 * forgiven (a count's own noise inside a burst); two end it.  Windows
 * before the first stored minute are unknown, not zero: a spike needs half
 * of its baseline windows (and three) known.  In ratio mode the same test
 * runs on errors / (errors + 2xx) of the code's API, with the arcsine
 * scale asin(sqrt(p)) and a floor of 1 / (2 sqrt(calls)), so that traffic
 * growth alone does not page; a key whose API saw no 2xx falls back to
 * counts.  tests/test_alerts.c measures the result on generated histories.
 *
 * This module does not store anything itself (alertstate.c does), parse
 * rules (rules.c), or serve HTTP (api.c calls the JSON builders here).
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "alertstate.h"
#include "catalog.h"
#include "hash.h"
#include "log.h"
#include "rules.h"
#include "timefmt.h"

#define MINUTE_MS		INT64_C(60000)
#define HOUR_MIN		60
#define CHUNK_MIN		1440	/* minutes replayed per frame */
#define WINDOWS_MAX		128	/* baseline windows judged */
#define MAD_SCALE		1.4826
#define JSON_ALERTS_MAX		1000
#define JSON_EPISODES_MAX	10000
#define HOURS_CACHE_MS		(10 * MINUTE_MS)
#define HISTORY_MS		(90 * 1440 * MINUTE_MS)	/* resolved kept */
#define PRUNE_EVERY_MS		(60 * MINUTE_MS)

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

static int
oom(char **cause)
{
	set_cause(cause, "out of memory");
	return -1;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

const char *
alerts_type_name(enum alerts_type type)
{
	static const char *const names[] = { "threshold", "spike",
	    "new_code" };

	return (unsigned)type < 3 ? names[type] : "unknown";
}

const char *
alerts_severity_name(enum alerts_severity severity)
{
	static const char *const names[] = { "info", "warning", "critical" };

	return (unsigned)severity < 3 ? names[severity] : "unknown";
}

const char *
alerts_state_name(enum alerts_state state)
{
	static const char *const names[] = { "pending", "firing",
	    "resolved" };

	return (unsigned)state < 3 ? names[state] : "unknown";
}

/* --- keyed tables ------------------------------------------------------ */

/*
 * Series and alert tracks are found by (code, num, api): num is the HTTP
 * status of a rollup series and the rule index of a track.  The items
 * live in a growing array; an open-addressing index maps keys to them.
 */
struct key {
	char *code;		/* NULL for 2xx responses */
	int num;
	char *api;		/* NULL when unknown or not judged */
};

struct table {
	char *items;		/* n items of size bytes, a struct key first */
	size_t size, n, cap;
	size_t *slots;		/* item index + 1; 0 is empty */
	size_t nslots;
};

static uint64_t
key_hash(const char *code, int num, const char *api)
{
	uint64_t h;

	h = code != NULL ? hash_bytes(code, strlen(code), 1) : 7;
	h ^= api != NULL ? hash_bytes(api, strlen(api), 2) : 11;
	return hash_mix(h + (uint64_t)(unsigned)num);
}

static struct key *
table_at(const struct table *t, size_t i)
{
	return (struct key *)(t->items + i * t->size);
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t
table_slot(const struct table *t, const char *code, int num, const char *api)
{
	size_t i = key_hash(code, num, api) & (t->nslots - 1);
	const struct key *k;

	for (; t->slots[i] != 0; i = (i + 1) & (t->nslots - 1)) {
		k = table_at(t, t->slots[i] - 1);
		if (k->num == num && streq(k->code, code) &&
		    streq(k->api, api))
			break;
	}
	return i;
}

static int
table_rehash(struct table *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 64, i, j;
	size_t *old = t->slots, oldn = t->nslots;
	const struct key *k;

	if ((t->slots = calloc(nslots, sizeof *t->slots)) == NULL) {
		t->slots = old;
		return -1;
	}
	t->nslots = nslots;
	for (i = 0; i < oldn; i++) {
		if (old[i] == 0)
			continue;
		k = table_at(t, old[i] - 1);
		j = table_slot(t, k->code, k->num, k->api);
		t->slots[j] = old[i];
	}
	free(old);
	return 0;
}

static struct key *
table_find(const struct table *t, const char *code, int num, const char *api)
{
	size_t i;

	if (t->nslots == 0)
		return NULL;
	i = table_slot(t, code, num, api);
	return t->slots[i] != 0 ? table_at(t, t->slots[i] - 1) : NULL;
}

/* The item of the key, added zeroed (with copies of the strings). */
static struct key *
table_get(struct table *t, const char *code, int num, const char *api)
{
	struct key *k;
	char *grown;
	size_t i;

	if ((k = table_find(t, code, num, api)) != NULL)
		return k;
	if ((t->n + 1) * 2 > t->nslots && table_rehash(t) == -1)
		return NULL;
	if (t->n == t->cap) {
		grown = realloc(t->items, (t->cap ? t->cap * 2 : 32) * t->size);
		if (grown == NULL)
			return NULL;
		t->items = grown;
		t->cap = t->cap ? t->cap * 2 : 32;
	}
	k = table_at(t, t->n);
	memset(k, 0, t->size);
	k->num = num;
	if ((code != NULL && (k->code = strdup(code)) == NULL) ||
	    (api != NULL && (k->api = strdup(api)) == NULL)) {
		free(k->code);
		return NULL;
	}
	i = table_slot(t, code, num, api);
	t->slots[i] = ++t->n;
	return k;
}

/* Frees the table; each item's own arrays are freed by the caller. */
static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(table_at(t, i)->code);
		free(table_at(t, i)->api);
	}
	free(t->items);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/* --- frames: the counts of one stretch of minutes ----------------------- */

/* One dense per-minute series. */
struct series {
	struct key k;		/* code, status, api of a rollup series */
	int64_t *v;		/* count per minute, len of them */
	int64_t *p;		/* prefix sums: p[i] counts minutes < i */
};

/* A code's last minute with data in the far part of trailing periods. */
struct farseen {
	struct key k;
	int64_t last;
};

struct frame {
	int64_t from, len;	/* minutes [from, from + len) */
	int64_t data_start;
	struct table errs;	/* struct series per (code, status, api) */
	struct table oks;	/* struct series of 2xx per (api) */
	struct table dens;	/* struct series: errors + 2xx per (api) */
	struct table far;	/* struct farseen per code */
};

static void
frame_init(struct frame *f)
{
	memset(f, 0, sizeof *f);
	f->errs.size = f->oks.size = f->dens.size = sizeof(struct series);
	f->far.size = sizeof(struct farseen);
}

static void
series_table_free(struct table *t)
{
	struct series *s;
	size_t i;

	for (i = 0; i < t->n; i++) {
		s = (struct series *)table_at(t, i);
		free(s->v);
		free(s->p);
	}
	table_free(t);
}

static void
frame_free(struct frame *f)
{
	series_table_free(&f->errs);
	series_table_free(&f->oks);
	series_table_free(&f->dens);
	table_free(&f->far);
}

/* The series of a key in t, with its per-minute array allocated. */
static struct series *
series_get(struct table *t, const char *code, int num, const char *api,
    int64_t len)
{
	struct series *s;

	s = (struct series *)table_get(t, code, num, api);
	if (s != NULL && s->v == NULL &&
	    (s->v = calloc((size_t)len, sizeof *s->v)) == NULL)
		return NULL;
	return s;
}

static int
series_prefix(struct series *s, int64_t len)
{
	int64_t i;

	if (s->p == NULL &&
	    (s->p = malloc(((size_t)len + 1) * sizeof *s->p)) == NULL)
		return -1;
	s->p[0] = 0;
	for (i = 0; i < len; i++)
		s->p[i + 1] = s->p[i] + s->v[i];
	return 0;
}

static int
frame_add_rows(struct frame *f, struct table *t,
    const struct store_minute *rows, size_t n, int responses)
{
	struct series *s;
	int64_t i;
	size_t r;

	for (r = 0; r < n; r++) {
		i = rows[r].minute - f->from;
		if (i < 0 || i >= f->len)
			continue;
		s = series_get(t, responses ? NULL : rows[r].code,
		    responses ? 0 : rows[r].status, rows[r].api, f->len);
		if (s == NULL)
			return -1;
		s->v[i] += rows[r].count;
	}
	return 0;
}

static int
frame_fetch(const struct alerts_source *src, struct frame *f, int64_t to,
    int responses, char **cause)
{
	struct store_minute *rows;
	size_t n;
	int rc;

	if (src->minutes(src->ctx, f->from, to, responses, &rows, &n,
	    cause) == -1)
		return -1;
	rc = frame_add_rows(f, responses ? &f->oks : &f->errs, rows, n,
	    responses);
	store_minutes_free(rows, n);
	return rc == -1 ? oom(cause) : 0;
}

/* Adds series s into the per-API denominator of its API. */
static int
dens_add(struct frame *f, const struct series *s)
{
	struct series *d;
	int64_t i;

	if ((d = series_get(&f->dens, NULL, 0, s->k.api, f->len)) == NULL)
		return -1;
	for (i = 0; i < f->len; i++)
		d->v[i] += s->v[i];
	return 0;
}

/* 2xx and per-API totals, for rules that judge error ratios. */
static int
frame_ratios(const struct alerts_source *src, struct frame *f, int64_t to,
    char **cause)
{
	size_t i;

	if (frame_fetch(src, f, to, 1, cause) == -1)
		return -1;
	for (i = 0; i < f->errs.n; i++) {
		if (dens_add(f, (struct series *)table_at(&f->errs, i)) == -1)
			return oom(cause);
	}
	for (i = 0; i < f->oks.n; i++) {
		if (dens_add(f, (struct series *)table_at(&f->oks, i)) == -1 ||
		    series_prefix((struct series *)table_at(&f->oks, i),
		    f->len) == -1)
			return oom(cause);
	}
	for (i = 0; i < f->dens.n; i++) {
		if (series_prefix((struct series *)table_at(&f->dens, i),
		    f->len) == -1)
			return oom(cause);
	}
	return 0;
}

static int
far_note(struct frame *f, const char *code, int64_t last)
{
	struct farseen *fs;

	if ((fs = (struct farseen *)table_get(&f->far, code, 0, NULL)) == NULL)
		return -1;
	if (last > fs->last)
		fs->last = last;
	return 0;
}

/*
 * Where each code was last seen in [from, f->from): per hour when the
 * source can say so cheaply (an hour counts as seen to its end, erring
 * towards "not new"), else per minute.
 */
static int
frame_far(const struct alerts_source *src, struct frame *f, int64_t from,
    char **cause)
{
	struct store_minute *rows = NULL;
	struct store_point *pts = NULL;
	size_t i, n;
	int rc = 0;

	if (src->hours != NULL) {
		if (src->hours(src->ctx, from, f->from, &pts, &n, cause) == -1)
			return -1;
		for (i = 0; rc == 0 && i < n; i++)
			rc = far_note(f, pts[i].code,
			    pts[i].bucket_ms / MINUTE_MS + HOUR_MIN - 1);
		store_points_free(pts, n);
	} else {
		if (src->minutes(src->ctx, from, f->from, 0, &rows, &n,
		    cause) == -1)
			return -1;
		for (i = 0; rc == 0 && i < n; i++)
			rc = far_note(f, rows[i].code, rows[i].minute);
		store_minutes_free(rows, n);
	}
	return rc == -1 ? oom(cause) : 0;
}

/* --- the replay -------------------------------------------------------- */

enum track_state { TRACK_IDLE, TRACK_PENDING, TRACK_FIRING };

/* What a value is measured against. */
struct base {
	double expected;	/* median of the baseline windows: reported */
	double center;		/* their median on the stabilised scale */
	double spread;		/* 1.4826 * their MAD on that scale */
};

/* The state machine of one rule on one code (and API). */
struct track {
	struct key k;		/* code, rule index, api */
	enum track_state state;
	int64_t since;		/* minute the condition first held */
	int64_t fired;		/* minute it fired */
	int64_t last_true;	/* last minute the condition held */
	double value, peak;
	struct base base;	/* the baseline when it started */
	int ratio;		/* the values are error ratios */
};

struct replay {
	const struct alerts_ruleset *rs;
	const struct alerts_source *src;
	int64_t lookback;	/* dense minutes a frame keeps before a chunk */
	int64_t far_span;	/* trailing minutes of new_code rules, or 0 */
	int need_ok;		/* some rule judges error ratios */
	struct table tracks;	/* struct track */
	struct alerts_episode *eps;
	size_t neps, cap;
	double scratch[2 * WINDOWS_MAX];
	char **cause;
};

/* The judgement of one rule on one key at one minute. */
struct judge {
	int cond;
	int ratio;		/* value and base are error ratios */
	double value;
	struct base base;
};

/* What one rule sees of one key in a frame. */
struct rkey {
	struct key k;		/* code, 0, api (per-API rules only) */
	int64_t *v, *p;		/* matched errors per minute, prefix sums */
	const int64_t *den;	/* ratio: errors + 2xx on the API (prefix) */
	const int64_t *okp;	/* ratio: 2xx on the API (prefix) */
	int known;		/* the catalog knows the code */
	int64_t far_last;	/* new_code: last minute seen before frame */
};

static void
replay_plan(struct replay *rp)
{
	const struct alerts_rule *r;
	int64_t span;
	size_t i;

	for (i = 0; i < rp->rs->n; i++) {
		r = &rp->rs->rules[i];
		span = r->window_min;
		if (r->type == ALERTS_NEW_CODE) {
			span = r->window_min + r->baseline_min;
			if (span > rp->far_span)
				rp->far_span = span;
			span = r->window_min;
		} else
			span += r->baseline_min;
		if (span > rp->lookback)
			rp->lookback = span;
		rp->need_ok |= r->ratio;
	}
}

static int
frame_load(struct replay *rp, int64_t c0, int64_t c1, struct frame *f)
{
	const struct alerts_source *src = rp->src;
	int64_t far_from;
	size_t i;

	frame_init(f);
	/* Whole hours, so that the far part can be read per hour. */
	f->from = floor_div(c0 - rp->lookback, HOUR_MIN) * HOUR_MIN;
	f->len = c1 - f->from;
	f->data_start = src->data_start;
	if (frame_fetch(src, f, c1, 0, rp->cause) == -1)
		return -1;
	if (rp->need_ok && frame_ratios(src, f, c1, rp->cause) == -1)
		return -1;
	far_from = floor_div(c0 - rp->far_span, HOUR_MIN) * HOUR_MIN;
	if (rp->far_span > 0 && far_from < f->from &&
	    frame_far(src, f, far_from, rp->cause) == -1)
		return -1;
	for (i = 0; i < f->errs.n; i++) {
		if (series_prefix((struct series *)table_at(&f->errs, i),
		    f->len) == -1)
			return oom(rp->cause);
	}
	return 0;
}

/* The sum of the w minutes ending at index i. */
static int64_t
wsum(const int64_t *p, int64_t i, int w)
{
	int64_t lo = i + 1 - w;

	return p[i + 1] - p[lo < 0 ? 0 : lo];
}

/* wsum with the window's largest minute replaced by its second largest. */
static int64_t
wsum_trimmed(const int64_t *v, const int64_t *p, int64_t i, int w)
{
	int64_t m1 = 0, m2 = 0, j, lo = i + 1 - w;

	if (w < 2)
		return wsum(p, i, w);
	for (j = lo < 0 ? 0 : lo; j <= i; j++) {
		if (v[j] > m1) {
			m2 = m1;
			m1 = v[j];
		} else if (v[j] > m2)
			m2 = v[j];
	}
	return wsum(p, i, w) - m1 + m2;
}

/*
 * Rearranges v[0..n) so that v[k] holds the k-th smallest value, with no
 * larger one before it and no smaller one after it (Hoare's selection:
 * linear on average, where a sort per judged minute dominated the cost).
 */
static double
select_kth(double *v, int n, int k)
{
	int lo = 0, hi = n - 1, i, j;
	double pivot, tmp;

	while (lo < hi) {
		pivot = v[lo + (hi - lo) / 2];
		for (i = lo, j = hi; i <= j; i++, j--) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i > j)
				break;
			tmp = v[i];
			v[i] = v[j];
			v[j] = tmp;
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* The two middle values of v (equal when n is odd); v is reordered. */
static void
middles(double *v, int n, double *lo, double *hi)
{
	int j;

	*hi = select_kth(v, n, n / 2);
	*lo = *hi;
	if (n % 2 == 0) {
		*lo = v[0];
		for (j = 1; j < n / 2; j++)
			*lo = fmax(*lo, v[j]);
	}
}

static double
median(double *v, int n)
{
	double lo, hi;

	middles(v, n, &lo, &hi);
	return (lo + hi) / 2;
}

/* The variance-stabilised scale: Anscombe for counts, arcsine for ratios. */
static double
stabilise(double x, int ratio)
{
	if (ratio)
		return asin(sqrt(fmin(fmax(x, 0), 1)));
	return 2 * sqrt(fmax(x, 0) + 0.375);
}

/*
 * The spread of the stabilised values of raw[0..n) around c: their root
 * mean square deviation once each is clipped to c +- 3 MAD-scaled units.
 * The clip keeps an earlier burst from widening it (as the MAD would);
 * the mean square, unlike the MAD, does not jump with the few distinct
 * values that small counts take.  dev is scratch space for n values.
 */
static double
spread_of(const double *raw, double *dev, int n, int ratio, double c)
{
	double mad, lim, d, sum = 0;
	int j;

	for (j = 0; j < n; j++)
		dev[j] = fabs(stabilise(raw[j], ratio) - c);
	mad = MAD_SCALE * median(dev, n);
	lim = 3 * fmax(mad, 1.0 / 3);
	for (j = 0; j < n; j++) {
		d = fmin(dev[j], lim);
		sum += d * d;
	}
	return sqrt(sum / n);
}

/*
 * The baseline of index i: the windows that fit in the trailing period
 * (overlapping, one per minute, at most WINDOWS_MAX of them), as counts,
 * or as ratios when den is set.  Returns -1 when fewer than half of them
 * (or three) lie after the start of the data.
 */
static int
baseline_stats(struct replay *rp, const struct frame *f,
    const struct alerts_rule *r, const struct rkey *k, const int64_t *den,
    int64_t i, struct base *b)
{
	int w = r->window_min, span = r->baseline_min - w + 1, j, n = 0;
	int step = span / WINDOWS_MAX + 1, total = 0;
	double *raw = rp->scratch, *dev = rp->scratch + WINDOWS_MAX, lo, hi;
	int64_t end, d;

	for (j = 0; j < span; j += step) {
		end = i - w - j;
		total++;
		if (end - w + 1 < 0 || f->from + end - w + 1 < f->data_start)
			continue;
		if (den != NULL && (d = wsum(den, end, w)) == 0)
			continue;
		raw[n] = (double)wsum(k->p, end, w);
		if (den != NULL)
			raw[n] /= (double)d;
		n++;
	}
	if (n < 3 || n * 2 < total)
		return -1;
	/* The scale is monotonic: the middles stay the middles on it. */
	middles(raw, n, &lo, &hi);
	b->expected = (lo + hi) / 2;
	b->center = (stabilise(lo, den != NULL) +
	    stabilise(hi, den != NULL)) / 2;
	b->spread = spread_of(raw, dev, n, den != NULL, b->center);
	return 0;
}

/* The API's denominator, when the key's API saw 2xx around index i. */
static const int64_t *
ratio_den(const struct alerts_rule *r, const struct rkey *k, int64_t i)
{
	int64_t lo = i + 1 - r->window_min - r->baseline_min;

	if (k->den == NULL || k->okp == NULL)
		return NULL;
	return k->okp[i + 1] - k->okp[lo < 0 ? 0 : lo] > 0 ? k->den : NULL;
}

/*
 * On the stabilised scale a Poisson count (or a binomial ratio over d
 * calls) has a spread of 1 (or 1 / (2 sqrt(d))) whatever its mean: the
 * floor under the MAD, which is 0 for a steady or empty past.
 */
static void
judge_spike(struct replay *rp, const struct frame *f,
    const struct alerts_rule *r, const struct rkey *k,
    const struct track *t, int64_t i, struct judge *j)
{
	const int64_t *den = ratio_den(r, k, i);
	int w = r->window_min;
	double x = (double)wsum_trimmed(k->v, k->p, i, w), d, floor = 1;

	j->value = (double)wsum(k->p, i, w);
	j->cond = 0;
	if (x < (double)r->min_count)
		return;
	if (t->state != TRACK_IDLE)
		j->base = t->base;
	else if (baseline_stats(rp, f, r, k, den, i, &j->base) == -1)
		return;
	if (den != NULL) {
		j->ratio = 1;
		d = (double)wsum(den, i, w);
		j->value /= d;
		x /= d;
		floor = 1 / (2 * sqrt(d));
	}
	if (j->base.spread < floor)
		j->base.spread = floor;
	j->cond = x >= r->factor * j->base.expected &&
	    stabilise(x, j->ratio) - j->base.center >= r->z * j->base.spread;
}

static void
judge_threshold(struct replay *rp, const struct frame *f,
    const struct alerts_rule *r, const struct rkey *k,
    const struct track *t, int64_t i, struct judge *j)
{
	const int64_t *den = ratio_den(r, k, i);
	double x = (double)wsum(k->p, i, r->window_min);

	j->value = x;
	j->cond = x >= (double)r->min_count;
	if (den != NULL) {
		j->ratio = 1;
		j->value = x / (double)wsum(den, i, r->window_min);
		j->cond = j->cond && j->value >= r->max_ratio;
	}
	j->base = t->base;
	/* The baseline is only reported; it costs sorts, so only if new. */
	if (j->cond && t->state == TRACK_IDLE &&
	    baseline_stats(rp, f, r, k, den, i, &j->base) == -1)
		memset(&j->base, 0, sizeof j->base);
}

/* Whether the key had data in the trailing period of index i. */
static int
seen_before(const struct frame *f, const struct alerts_rule *r,
    const struct rkey *k, int64_t i)
{
	int64_t lo = i - r->window_min - r->baseline_min + 1;
	int64_t hi = i - r->window_min;	/* inclusive */
	int64_t start = lo < 0 ? 0 : lo;

	if (hi >= start && k->p[hi + 1] - k->p[start] > 0)
		return 1;
	return lo < 0 && k->far_last >= f->from + lo;
}

static void
judge_new_code(const struct frame *f, const struct alerts_rule *r,
    const struct rkey *k, int64_t i, struct judge *j)
{
	int64_t lo = f->from + i - r->window_min - r->baseline_min + 1;

	j->value = (double)wsum(k->p, i, r->window_min);
	j->cond = j->value >= (double)r->min_count && (!k->known ||
	    (lo >= f->data_start && !seen_before(f, r, k, i)));
}

/* --- tracks and episodes ----------------------------------------------- */

static int
episode_push(struct replay *rp, const struct track *t,
    enum alerts_state state, int64_t resolved)
{
	struct alerts_episode *grown, *e;

	if (rp->neps == rp->cap) {
		grown = realloc(rp->eps, (rp->cap ? rp->cap * 2 : 16) *
		    sizeof *rp->eps);
		if (grown == NULL)
			return oom(rp->cause);
		rp->eps = grown;
		rp->cap = rp->cap ? rp->cap * 2 : 16;
	}
	e = &rp->eps[rp->neps];
	memset(e, 0, sizeof *e);
	e->rule = (size_t)t->k.num;
	if ((e->code = strdup(t->k.code)) == NULL ||
	    (t->k.api != NULL && (e->api = strdup(t->k.api)) == NULL)) {
		free(e->code);
		return oom(rp->cause);
	}
	e->state = state;
	e->started_min = t->since;
	e->fired_min = state == ALERTS_PENDING ? -1 : t->fired;
	e->resolved_min = resolved;
	e->value = t->value;
	e->peak = t->peak;
	e->baseline = t->base.expected;
	e->ratio = t->ratio;
	rp->neps++;
	return 0;
}

/* Advances t by minute m's judgement; a resolution adds an episode. */
static int
track_step(struct replay *rp, struct track *t, const struct alerts_rule *r,
    int64_t m, const struct judge *j)
{
	if (t->state == TRACK_IDLE) {
		if (!j->cond)
			return 0;
		t->state = TRACK_PENDING;
		t->since = m;
		t->peak = j->value;
		t->base = j->base;
		t->ratio = j->ratio;
	}
	/*
	 * One false minute while pending is a count's own noise inside a
	 * burst; a second one in a row ends the pending alert.
	 */
	if (t->state == TRACK_PENDING && !j->cond) {
		if (m - t->last_true >= 2)
			t->state = TRACK_IDLE;
		return 0;
	}
	if (j->cond) {
		t->last_true = m;
		t->value = j->value;
		if (j->value > t->peak)
			t->peak = j->value;
	}
	if (t->state == TRACK_PENDING && m - t->since >= r->for_min) {
		t->state = TRACK_FIRING;
		t->fired = m;
	}
	if (t->state == TRACK_FIRING && !j->cond &&
	    m - t->last_true >= (r->resolve_min > 0 ? r->resolve_min : 1)) {
		t->state = TRACK_IDLE;
		return episode_push(rp, t, ALERTS_RESOLVED, m);
	}
	return 0;
}

static void
judge(struct replay *rp, const struct frame *f, const struct alerts_rule *r,
    const struct rkey *k, const struct track *t, int64_t i,
    struct judge *j)
{
	memset(j, 0, sizeof *j);
	switch (r->type) {
	case ALERTS_THRESHOLD:
		judge_threshold(rp, f, r, k, t, i, j);
		break;
	case ALERTS_SPIKE:
		judge_spike(rp, f, r, k, t, i, j);
		break;
	case ALERTS_NEW_CODE:
		judge_new_code(f, r, k, i, j);
		break;
	}
}

/* Runs one key of rule ri through minutes [c0, c1) of f. */
static int
key_run(struct replay *rp, const struct frame *f, size_t ri,
    const struct rkey *k, int64_t c0, int64_t c1)
{
	const struct alerts_rule *r = &rp->rs->rules[ri];
	int64_t i, i0 = c0 - f->from, i1 = c1 - f->from;
	int64_t lo = i0 + 1 - r->window_min;
	struct track *t;
	struct judge j;

	t = (struct track *)table_get(&rp->tracks, k->k.code, (int)ri,
	    k->k.api);
	if (t == NULL)
		return oom(rp->cause);
	/* Nothing counted: an idle track stays idle (min_count >= 1). */
	if (t->state == TRACK_IDLE && k->p[i1] == k->p[lo < 0 ? 0 : lo])
		return 0;
	for (i = i0; i < i1; i++) {
		if (t->state == TRACK_IDLE &&
		    wsum(k->p, i, r->window_min) < r->min_count)
			continue;
		judge(rp, f, r, k, t, i, &j);
		if (track_step(rp, t, r, f->from + i, &j) == -1)
			return -1;
	}
	return 0;
}

/* Sets *out to the key of rule r that series s counts towards, if any. */
static int
rkey_for(struct table *keys, const struct alerts_rule *r,
    const struct series *s, struct rkey **out)
{
	*out = NULL;
	if (!rules_match_code(r, s->k.code) ||
	    (r->status != 0 && s->k.num != r->status) ||
	    (r->api != NULL && !streq(s->k.api, r->api)))
		return 0;
	*out = (struct rkey *)table_get(keys, s->k.code, 0,
	    r->ratio ? s->k.api : NULL);
	return *out != NULL ? 0 : -1;
}

/* Completes a key: its arrays, catalog knowledge, and API totals. */
static int
rkey_finish(const struct frame *f, const struct alerts_rule *r,
    struct rkey *k)
{
	const struct series *s;
	const struct farseen *fs;

	if (k->v == NULL && (k->v = calloc((size_t)f->len,
	    sizeof *k->v)) == NULL)
		return -1;
	if ((k->p = malloc(((size_t)f->len + 1) * sizeof *k->p)) == NULL)
		return -1;
	k->p[0] = 0;
	for (int64_t i = 0; i < f->len; i++)
		k->p[i + 1] = k->p[i] + k->v[i];
	k->known = catalog_match(k->k.code, "") != NULL;
	fs = (const struct farseen *)table_find(&f->far, k->k.code, 0, NULL);
	k->far_last = fs != NULL ? fs->last : INT64_MIN;
	if (r->ratio) {
		s = (const struct series *)table_find(&f->dens, NULL, 0,
		    k->k.api);
		k->den = s != NULL ? s->p : NULL;
		s = (const struct series *)table_find(&f->oks, NULL, 0,
		    k->k.api);
		k->okp = s != NULL ? s->p : NULL;
	}
	return 0;
}

/*
 * The keys rule ri judges in f: those with matching errors, and those
 * whose alert is active (they must go on to resolve).
 */
static int
keys_build(struct replay *rp, const struct frame *f, size_t ri,
    struct table *keys)
{
	const struct alerts_rule *r = &rp->rs->rules[ri];
	const struct series *s;
	const struct track *t;
	struct rkey *k;
	size_t i;
	int64_t m;

	for (i = 0; i < f->errs.n; i++) {
		s = (const struct series *)table_at(&f->errs, i);
		if (rkey_for(keys, r, s, &k) == -1)
			return -1;
		if (k == NULL)
			continue;
		if (k->v == NULL && (k->v = calloc((size_t)f->len,
		    sizeof *k->v)) == NULL)
			return -1;
		for (m = 0; m < f->len; m++)
			k->v[m] += s->v[m];
	}
	for (i = 0; i < rp->tracks.n; i++) {
		t = (const struct track *)table_at(&rp->tracks, i);
		if (t->k.num == (int)ri && t->state != TRACK_IDLE &&
		    table_get(keys, t->k.code, 0, t->k.api) == NULL)
			return -1;
	}
	for (i = 0; i < keys->n; i++) {
		if (rkey_finish(f, r, (struct rkey *)table_at(keys, i)) == -1)
			return -1;
	}
	return 0;
}

static void
keys_free(struct table *keys)
{
	struct rkey *k;
	size_t i;

	for (i = 0; i < keys->n; i++) {
		k = (struct rkey *)table_at(keys, i);
		free(k->v);
		free(k->p);
	}
	table_free(keys);
}

static int
rule_run(struct replay *rp, const struct frame *f, size_t ri, int64_t c0,
    int64_t c1)
{
	struct table keys = { .size = sizeof(struct rkey) };
	size_t i;
	int rc = -1;

	if (keys_build(rp, f, ri, &keys) == -1) {
		oom(rp->cause);
		goto out;
	}
	for (i = 0; i < keys.n; i++) {
		if (key_run(rp, f, ri, (struct rkey *)table_at(&keys, i), c0,
		    c1) == -1)
			goto out;
	}
	rc = 0;

out:
	keys_free(&keys);
	return rc;
}

static int
cmp_episode(const void *a, const void *b)
{
	const struct alerts_episode *x = a, *y = b;
	int c;

	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->started_min != y->started_min)
		return x->started_min < y->started_min ? -1 : 1;
	if ((c = strcmp(x->code, y->code)) != 0)
		return c;
	return strcmp(x->api != NULL ? x->api : "", y->api != NULL ? y->api :
	    "");
}

/* Adds the episodes still open at the end of the replay. */
static int
replay_close(struct replay *rp)
{
	const struct track *t;
	size_t i;

	for (i = 0; i < rp->tracks.n; i++) {
		t = (const struct track *)table_at(&rp->tracks, i);
		if (t->state == TRACK_IDLE)
			continue;
		if (episode_push(rp, t, t->state == TRACK_FIRING ?
		    ALERTS_FIRING : ALERTS_PENDING, -1) == -1)
			return -1;
	}
	return 0;
}

void
alerts_episodes_free(struct alerts_episode *eps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(eps[i].code);
		free(eps[i].api);
		free(eps[i].summary);
	}
	free(eps);
}

static int
replay_chunks(struct replay *rp, int64_t from_min, int64_t to_min)
{
	struct frame f;
	int64_t c0, c1;
	size_t ri;
	int rc;

	for (c0 = from_min; c0 < to_min; c0 = c1) {
		c1 = to_min - c0 > CHUNK_MIN ? c0 + CHUNK_MIN : to_min;
		rc = frame_load(rp, c0, c1, &f);
		for (ri = 0; rc == 0 && ri < rp->rs->n; ri++)
			rc = rule_run(rp, &f, ri, c0, c1);
		frame_free(&f);
		if (rc == -1)
			return -1;
	}
	return replay_close(rp);
}

int
alerts_replay(const struct alerts_ruleset *rs,
    const struct alerts_source *src, int64_t from_min, int64_t to_min,
    struct alerts_episode **eps, size_t *n, char **cause)
{
	struct replay rp;
	int rc;

	*eps = NULL;
	*n = 0;
	if (to_min - from_min > ALERTS_BACKTEST_SPAN_MAX_MS / MINUTE_MS +
	    ALERTS_HORIZON_MIN) {
		set_cause(cause, "replay range too long");
		return -1;
	}
	memset(&rp, 0, sizeof rp);
	rp.rs = rs;
	rp.src = src;
	rp.cause = cause;
	rp.tracks.size = sizeof(struct track);
	replay_plan(&rp);
	rc = replay_chunks(&rp, from_min, to_min);
	table_free(&rp.tracks);
	if (rc == -1) {
		alerts_episodes_free(rp.eps, rp.neps);
		return -1;
	}
	if (rp.neps > 0)
		qsort(rp.eps, rp.neps, sizeof *rp.eps, cmp_episode);
	*eps = rp.eps;
	*n = rp.neps;
	return 0;
}

/* --- backtests and the live view --------------------------------------- */

int
alerts_backtest(const struct alerts_ruleset *rs,
    const struct alerts_source *src, int64_t from_ms, int64_t to_ms,
    struct alerts_episode **eps, size_t *n, char **cause)
{
	int64_t from = floor_div(from_ms, MINUTE_MS);
	int64_t to = floor_div(to_ms + MINUTE_MS - 1, MINUTE_MS);
	size_t i, kept = 0;
	struct alerts_episode *e;

	if (to <= from || to_ms - from_ms > ALERTS_BACKTEST_SPAN_MAX_MS) {
		set_cause(cause, "a backtest covers more than nothing and at "
		    "most %lld days", ALERTS_BACKTEST_SPAN_MAX_MS / 86400000);
		return -1;
	}
	if (alerts_replay(rs, src, from - ALERTS_HORIZON_MIN, to, eps, n,
	    cause) == -1)
		return -1;
	for (i = 0; i < *n; i++) {
		e = &(*eps)[i];
		if (e->fired_min < 0 || e->fired_min >= to ||
		    (e->resolved_min >= 0 && e->resolved_min <= from)) {
			free(e->code);
			free(e->api);
			continue;
		}
		(*eps)[kept++] = *e;
	}
	*n = kept;
	if (alerts_summarize(rs, *eps, *n) == -1) {
		alerts_episodes_free(*eps, *n);
		*eps = NULL;
		*n = 0;
		return oom(cause);
	}
	return 0;
}

int
alerts_current(const struct alerts_ruleset *rs,
    const struct alerts_source *src, int64_t now_ms,
    struct alerts_episode **eps, size_t *n, char **cause)
{
	int64_t now = floor_div(now_ms, MINUTE_MS);

	if (alerts_replay(rs, src, now - ALERTS_HORIZON_MIN, now + 1, eps, n,
	    cause) == -1)
		return -1;
	if (alerts_summarize(rs, *eps, *n) == -1) {
		alerts_episodes_free(*eps, *n);
		*eps = NULL;
		*n = 0;
		return oom(cause);
	}
	return 0;
}

/* --- summaries --------------------------------------------------------- */

/* A growing string; a failed append leaves failed set. */
struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *grown;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->failed || len < 0)
		goto fail;
	if (b->len + (size_t)len + 1 > b->cap) {
		grown = realloc(b->s, b->len + (size_t)len + 256);
		if (grown == NULL)
			goto fail;
		b->s = grown;
		b->cap = b->len + (size_t)len + 256;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)len;
	return;

fail:
	b->failed = 1;
}

/* "5 min", "1 h", "1 day": a rule's durations in a sentence. */
static void
fmt_span(int minutes, char buf[32])
{
	if (minutes % 1440 == 0)
		snprintf(buf, 32, "%d day%s", minutes / 1440,
		    minutes == 1440 ? "" : "s");
	else if (minutes % 60 == 0)
		snprintf(buf, 32, "%d h", minutes / 60);
	else
		snprintf(buf, 32, "%d min", minutes);
}

/* Whether another episode of code overlaps e in time. */
static int
overlaps_code(const struct alerts_episode *eps, size_t n,
    const struct alerts_episode *e, const char *code)
{
	int64_t e_end = e->resolved_min >= 0 ? e->resolved_min : INT64_MAX;
	int64_t o_end;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(eps[i].code, code) != 0)
			continue;
		o_end = eps[i].resolved_min >= 0 ? eps[i].resolved_min :
		    INT64_MAX;
		if (eps[i].started_min <= e_end && e->started_min <= o_end)
			return 1;
	}
	return 0;
}

/* What was seen: the first sentence. */
static void
summary_head(struct sbuf *b, const struct alerts_rule *r,
    const struct alerts_episode *e)
{
	char win[32], base[32], on[160] = "";

	fmt_span(r->window_min, win);
	fmt_span(r->baseline_min, base);
	if (e->api != NULL)
		snprintf(on, sizeof on, " on %.128s", e->api);
	if (r->type == ALERTS_NEW_CODE && catalog_match(e->code, "") == NULL)
		sb_printf(b, "%s: a code the catalog does not know (%.0f in "
		    "%s).", e->code, e->peak, win);
	else if (r->type == ALERTS_NEW_CODE)
		sb_printf(b, "%s: not seen in the %s before (%.0f in %s).",
		    e->code, base, e->peak, win);
	else if (e->ratio)
		sb_printf(b, "%s%s: %.1f%% of calls failed in %s, where the "
		    "%s before predicted %.1f%%.", e->code, on, 100 * e->peak,
		    win, base, 100 * e->baseline);
	else if (r->type == ALERTS_SPIKE)
		sb_printf(b, "%s%s: %.0f in %s, where the %s before predicted "
		    "about %.3g.", e->code, on, e->peak, win, base,
		    e->baseline);
	else
		sb_printf(b, "%s%s: %.0f in %s (threshold %lld).", e->code, on,
		    e->peak, win, (long long)r->min_count);
}

/* What the codes alerting together point at. */
static void
summary_correlate(struct sbuf *b, const struct alerts_episode *eps,
    size_t n, const struct alerts_episode *e)
{
	int skew = overlaps_code(eps, n, e, "RequestTimeTooSkewed");
	int sig = overlaps_code(eps, n, e, "SignatureNotMatch");

	if (strcmp(e->code, "SignatureNotMatch") == 0 && skew)
		sb_printf(b, " RequestTimeTooSkewed alerts at the same time: "
		    "together they point at client clocks; fix time sync "
		    "(NTP) on the callers before touching keys.");
	else if (strcmp(e->code, "SignatureNotMatch") == 0)
		sb_printf(b, " With no RequestTimeTooSkewed alongside, this "
		    "points at a wrong or half-rotated AccessKey pair: "
		    "compare the key file and password each client uses with "
		    "the instance's.");
	else if (strcmp(e->code, "RequestTimeTooSkewed") == 0 && sig)
		sb_printf(b, " SignatureNotMatch alerts at the same time: "
		    "both point at client clocks.");
	else if (strcmp(e->code, "Forbidden.KeyNotFound") == 0)
		sb_printf(b, " A burst of it points at a key that was deleted, "
		    "or at calls sent to the wrong instance; a message that "
		    "names a key store means the latter.");
	else if (strcmp(e->code, "Rejected.Disabled") == 0)
		sb_printf(b, " A key that callers still use was disabled.");
}

static char *
summary_build(const struct alerts_ruleset *rs,
    const struct alerts_episode *eps, size_t n,
    const struct alerts_episode *e)
{
	const struct catalog_entry *c = catalog_match(e->code, "");
	struct sbuf b = { NULL, 0, 0, 0 };

	summary_head(&b, &rs->rules[e->rule], e);
	summary_correlate(&b, eps, n, e);
	if (c != NULL)
		sb_printf(&b, " %s What to do: %s", c->meaning, c->action);
	else
		sb_printf(&b, " kmswatch cannot explain it: read the message "
		    "of one of its records (GET /api/v1/errors?code=%s).",
		    e->code);
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

int
alerts_summarize(const struct alerts_ruleset *rs,
    struct alerts_episode *eps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(eps[i].summary);
		if ((eps[i].summary = summary_build(rs, eps, n, &eps[i])) ==
		    NULL)
			return -1;
	}
	return 0;
}

/* --- the store as a source --------------------------------------------- */

static int
store_src_minutes(void *ctx, int64_t from_min, int64_t to_min,
    int responses, struct store_minute **rows, size_t *n, char **cause)
{
	return store_minutes(ctx, from_min * MINUTE_MS, to_min * MINUTE_MS,
	    responses, rows, n, cause);
}

static int
store_src_hours(void *ctx, int64_t from_min, int64_t to_min,
    struct store_point **pts, size_t *n, char **cause)
{
	return store_timeseries(ctx, from_min * MINUTE_MS, to_min * MINUTE_MS,
	    HOUR_MIN * MINUTE_MS, NULL, pts, n, cause);
}

void
alerts_source_store(struct alerts_source *src, struct store *st,
    int64_t data_start)
{
	src->ctx = st;
	src->minutes = store_src_minutes;
	src->hours = store_src_hours;
	src->data_start = data_start;
}

/* --- the engine -------------------------------------------------------- */

/* Hourly counts, kept for HOURS_CACHE_MS: they only feed new_code. */
struct hours_cache {
	int64_t from, to;		/* minutes */
	int64_t at_ms;			/* monotonic time of the read */
	struct store_point *pts;
	size_t n;
};

struct alerts {
	char *db_path;
	struct alerts_ruleset rules;
	pthread_mutex_t lock;		/* m, stopping */
	pthread_mutex_t eval_lock;	/* one evaluation at a time */
	pthread_mutex_t read_lock;	/* as_read */
	pthread_cond_t wake;		/* under lock: stop */
	pthread_t thread;
	int locks_ready, running, stopping;

	/* The evaluator's own, under eval_lock. */
	struct store *st;
	struct alertstate *as;
	struct hours_cache hours;
	int64_t seen_version, seen_minute;
	int seen;
	int log_changes;		/* the daemon's thread logs changes */
	int64_t pruned_ms;		/* monotonic time of the last prune */
	char *last_error;
	int64_t last_error_ms;

	/*
	 * The readers' handle: in WAL mode it reads while the evaluator's
	 * handle waits for the write lock, so the API never waits on ingest.
	 */
	struct alertstate *as_read;

	struct alerts_metrics m;	/* under lock */

	/* deliver: told of state changes; under eval_lock. */
	void (*notify)(void *, const struct alertstate_row *);
	void *notify_ctx;
};

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
points_copy(const struct store_point *from, size_t n,
    struct store_point **to)
{
	size_t i;

	if ((*to = calloc(n ? n : 1, sizeof **to)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		(*to)[i] = from[i];
		if (((*to)[i].code = strdup(from[i].code)) == NULL) {
			store_points_free(*to, i);
			*to = NULL;
			return -1;
		}
	}
	return 0;
}

/*
 * The hours of new_code's far past change only when a capture of that
 * time is read late; re-reading them every few seconds would cost more
 * than the rest of an evaluation, so they are kept ten minutes.
 */
static int
engine_hours(void *ctx, int64_t from_min, int64_t to_min,
    struct store_point **pts, size_t *n, char **cause)
{
	struct alerts *a = ctx;
	struct hours_cache *hc = &a->hours;
	int64_t now = clock_ms(CLOCK_MONOTONIC);

	if (hc->pts == NULL || hc->from != from_min || hc->to != to_min ||
	    now - hc->at_ms > HOURS_CACHE_MS) {
		store_points_free(hc->pts, hc->n);
		hc->pts = NULL;
		if (store_src_hours(a->st, from_min, to_min, &hc->pts, &hc->n,
		    cause) == -1)
			return -1;
		hc->from = from_min;
		hc->to = to_min;
		hc->at_ms = now;
	}
	if (points_copy(hc->pts, hc->n, pts) == -1) {
		*n = 0;
		return oom(cause);
	}
	*n = hc->n;
	return 0;
}

static int
engine_minutes(void *ctx, int64_t from_min, int64_t to_min, int responses,
    struct store_minute **rows, size_t *n, char **cause)
{
	struct alerts *a = ctx;

	return store_src_minutes(a->st, from_min, to_min, responses, rows, n,
	    cause);
}

/* Opens the state handle, migrating a database that predates it. */
static int
engine_open_state(struct alerts *a, char **cause)
{
	struct store *w;
	int rc;

	if (alertstate_open(a->db_path, &a->as, cause) == -1)
		return -1;
	if ((rc = alertstate_ready(a->as, cause)) != 0)
		return rc == 1 ? 0 : -1;
	if (store_open(a->db_path, STORE_WRITE, &w, cause) == -1)
		return -1;
	store_close(w);
	if ((rc = alertstate_ready(a->as, cause)) == 0)
		set_cause(cause, "%s: no alert tables after migrating",
		    a->db_path);
	return rc == 1 ? 0 : -1;
}

static int
engine_open_reader(struct alerts *a, char **cause)
{
	int rc;

	if (alertstate_open(a->db_path, &a->as_read, cause) == -1 ||
	    (rc = alertstate_ready(a->as_read, cause)) == -1)
		return -1;
	if (rc == 0)
		set_cause(cause, "%s: no alert tables", a->db_path);
	return rc == 1 ? 0 : -1;
}

static int
engine_init_locks(struct alerts *a)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&a->lock, NULL) != 0 ||
	    pthread_mutex_init(&a->eval_lock, NULL) != 0 ||
	    pthread_mutex_init(&a->read_lock, NULL) != 0 ||
	    pthread_cond_init(&a->wake, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	a->locks_ready = 1;
	return 0;
}

int
alerts_open(const char *db_path, const char *config_path,
    struct alerts **out, char **cause)
{
	struct alerts *a;

	*out = NULL;
	if ((a = calloc(1, sizeof *a)) == NULL)
		return oom(cause);
	if ((a->db_path = strdup(db_path)) == NULL ||
	    engine_init_locks(a) == -1) {
		alerts_stop(a);
		return oom(cause);
	}
	/* A reader first: it refuses a file that is no kmswatch database. */
	if (rules_for_config(config_path, &a->rules, cause) == -1 ||
	    store_open(db_path, STORE_READ, &a->st, cause) == -1 ||
	    engine_open_state(a, cause) == -1 ||
	    engine_open_reader(a, cause) == -1) {
		alerts_stop(a);
		return -1;
	}
	a->m.rules = a->rules.n;
	*out = a;
	return 0;
}

void
alerts_stop(struct alerts *a)
{
	if (a == NULL)
		return;
	if (a->running) {
		pthread_mutex_lock(&a->lock);
		a->stopping = 1;
		pthread_cond_signal(&a->wake);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	if (a->locks_ready) {
		pthread_mutex_destroy(&a->lock);
		pthread_mutex_destroy(&a->eval_lock);
		pthread_mutex_destroy(&a->read_lock);
		pthread_cond_destroy(&a->wake);
	}
	store_points_free(a->hours.pts, a->hours.n);
	alertstate_close(a->as);
	alertstate_close(a->as_read);
	store_close(a->st);
	rules_free(&a->rules);
	free(a->last_error);
	free(a->db_path);
	free(a);
}

void
alerts_metrics(struct alerts *a, struct alerts_metrics *m)
{
	pthread_mutex_lock(&a->lock);
	*m = a->m;
	pthread_mutex_unlock(&a->lock);
}

/* --- delivery hook (deliver.c) ------------------------------------------ */

void
alerts_set_notify(struct alerts *a,
    void (*fn)(void *, const struct alertstate_row *), void *ctx)
{
	pthread_mutex_lock(&a->eval_lock);
	a->notify = fn;
	a->notify_ctx = ctx;
	pthread_mutex_unlock(&a->eval_lock);
}

/* Under eval_lock, after the row is stored. */
static void
notify(struct alerts *a, const struct alertstate_row *r)
{
	if (a->notify != NULL)
		a->notify(a->notify_ctx, r);
}

/* --- end of the delivery hook -------------------------------------------- */

/* --- bringing the stored state in line ---------------------------------- */

static int
row_key_is(const struct alertstate_row *r, const char *rule,
    const struct alerts_episode *e)
{
	return strcmp(r->rule, rule) == 0 && strcmp(r->code, e->code) == 0 &&
	    streq(r->api, e->api);
}

/*
 * The stored row episode e continues: the one with its start, else one of
 * the same rule and code whose time overlaps e's (the replay starts
 * ALERTS_HORIZON_MIN ago, so it sees an older alert begin at its first
 * minute).
 */
static struct alertstate_row *
sync_match(struct alertstate_row *rows, size_t n, const char *used,
    const char *rule, const struct alerts_episode *e)
{
	int64_t end = e->resolved_min >= 0 ? e->resolved_min * MINUTE_MS :
	    INT64_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!used[i] && row_key_is(&rows[i], rule, e) &&
		    rows[i].started_ms == e->started_min * MINUTE_MS)
			return &rows[i];
	}
	for (i = 0; i < n; i++) {
		if (!used[i] && row_key_is(&rows[i], rule, e) &&
		    rows[i].started_ms <= end && (rows[i].resolved_ms == 0 ||
		    rows[i].resolved_ms >= e->started_min * MINUTE_MS))
			return &rows[i];
	}
	return NULL;
}

/* The row e makes, carrying over what prev knew from before the replay. */
static void
sync_row(struct alertstate_row *r, const struct alerts_rule *rule,
    const struct alerts_episode *e, const struct alertstate_row *prev)
{
	memset(r, 0, sizeof *r);
	/* Borrowed strings: r is only bound to statements, never freed. */
	r->rule = rule->name;
	r->code = e->code;
	r->api = e->api;
	r->severity = (char *)alerts_severity_name(rule->severity);
	r->summary = e->summary != NULL ? e->summary : (char *)"";
	r->state = (enum alertstate_state)e->state;
	r->started_ms = e->started_min * MINUTE_MS;
	r->fired_ms = e->fired_min >= 0 ? e->fired_min * MINUTE_MS : 0;
	r->resolved_ms = e->resolved_min >= 0 ? e->resolved_min * MINUTE_MS :
	    0;
	r->value = e->value;
	r->peak = e->peak;
	r->baseline = e->baseline;
	if (prev == NULL || prev->started_ms >= r->started_ms)
		return;
	r->id = prev->id;
	r->started_ms = prev->started_ms;
	r->baseline = prev->baseline;
	r->peak = fmax(r->peak, prev->peak);
	if (prev->fired_ms != 0) {
		r->fired_ms = prev->fired_ms;
		if (r->state == ALERTSTATE_PENDING)
			r->state = ALERTSTATE_FIRING;
	}
}

static int
row_differs(const struct alertstate_row *a, const struct alertstate_row *b)
{
	return a->state != b->state || a->started_ms != b->started_ms ||
	    a->fired_ms != b->fired_ms || a->resolved_ms != b->resolved_ms ||
	    a->value != b->value || a->peak != b->peak ||
	    a->baseline != b->baseline || strcmp(a->summary, b->summary) ||
	    strcmp(a->severity, b->severity);
}

static void
sync_log(const struct alertstate_row *r, const struct alertstate_row *prev)
{
	if (r->state == (prev != NULL ? prev->state : ALERTSTATE_PENDING))
		return;
	if (r->state == ALERTSTATE_PENDING)
		return;
	log_msg(LOG_INFO, "alerts: %s rule=%s code=%s api=%s severity=%s "
	    "value=%g baseline=%g", alerts_state_name((enum alerts_state)
	    r->state), r->rule, r->code, r->api != NULL ? r->api : "-",
	    r->severity, r->value, r->baseline);
}

/* Writes episode e unless its stored row already says the same. */
static int
sync_episode(struct alerts *a, const struct alerts_episode *e,
    struct alertstate_row *rows, size_t n, char *used, int64_t now_ms,
    char **cause)
{
	const struct alerts_rule *rule = &a->rules.rules[e->rule];
	struct alertstate_row *prev, r;

	prev = sync_match(rows, n, used, rule->name, e);
	sync_row(&r, rule, e, prev);
	if (prev != NULL) {
		used[prev - rows] = 1;
		r.id = prev->id;
		if (!row_differs(&r, prev))
			return 0;
	}
	if (a->log_changes)
		sync_log(&r, prev);
	r.updated_ms = now_ms;
	if (alertstate_put(a->as, &r, cause) == -1)
		return -1;
	if (prev == NULL || prev->state != r.state)	/* deliver */
		notify(a, &r);
	return 0;
}

/* Active rows no episode continues: rules changed, or data went away. */
static int
sync_leftover(struct alerts *a, struct alertstate_row *r, int64_t now_ms,
    char **cause)
{
	if (r->state == ALERTSTATE_RESOLVED)
		return 0;
	if (r->state == ALERTSTATE_PENDING)
		return alertstate_delete(a->as, r->id, cause);
	r->state = ALERTSTATE_RESOLVED;
	r->resolved_ms = floor_div(now_ms, MINUTE_MS) * MINUTE_MS;
	r->updated_ms = now_ms;
	if (a->log_changes)
		log_msg(LOG_INFO, "alerts: resolved rule=%s code=%s api=%s "
		    "(no longer raised)", r->rule, r->code,
		    r->api != NULL ? r->api : "-");
	if (alertstate_put(a->as, r, cause) == -1)
		return -1;
	notify(a, r);					/* deliver */
	return 0;
}

/* Call with a->eval_lock held. */
static int
sync_state(struct alerts *a, const struct alerts_episode *eps, size_t n,
    int64_t now_ms, char **cause)
{
	int64_t since = (floor_div(now_ms, MINUTE_MS) - ALERTS_HORIZON_MIN) *
	    MINUTE_MS;
	struct alertstate_row *rows = NULL;
	size_t nrows = 0, i;
	char *used = NULL;
	int rc = -1;

	if (alertstate_recent(a->as, since, &rows, &nrows, cause) == -1)
		return -1;
	if ((used = calloc(nrows + 1, 1)) == NULL) {
		oom(cause);
		goto out;
	}
	if (alertstate_begin(a->as, cause) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (sync_episode(a, &eps[i], rows, nrows, used, now_ms,
		    cause) == -1)
			goto rollback;
	}
	for (i = 0; i < nrows; i++) {
		if (!used[i] && sync_leftover(a, &rows[i], now_ms, cause) == -1)
			goto rollback;
	}
	rc = alertstate_commit(a->as, cause);
	if (rc == 0)
		goto out;

rollback:
	alertstate_rollback(a->as);
	rc = -1;
out:
	free(used);
	alertstate_rows_free(rows, nrows);
	return rc;
}

/* --- evaluation -------------------------------------------------------- */

/*
 * Under eval_lock: whether anything changed since the last pass, and where
 * the data starts.  The result of a pass depends only on the data and the
 * minute, so an unchanged pair needs no pass.
 */
static int
eval_prepare(struct alerts *a, int64_t now_ms, int *skip,
    int64_t *data_start, char **cause)
{
	int64_t version, minute = floor_div(now_ms, MINUTE_MS);

	*skip = 0;
	if (alertstate_data_version(a->as, &version, cause) == -1)
		return -1;
	if (a->seen && version == a->seen_version &&
	    minute == a->seen_minute) {
		*skip = 1;
		return 0;
	}
	if (store_first_minute(a->st, data_start, cause) == -1)
		return -1;
	a->seen_version = version;
	a->seen_minute = minute;
	return 0;
}

/* Forgets alerts resolved more than HISTORY_MS ago, once an hour. */
static int
eval_prune(struct alerts *a, int64_t now_ms, char **cause)
{
	int64_t now = clock_ms(CLOCK_MONOTONIC);

	if (a->pruned_ms != 0 && now - a->pruned_ms < PRUNE_EVERY_MS)
		return 0;
	a->pruned_ms = now;
	return alertstate_prune(a->as, now_ms - HISTORY_MS, cause);
}

static int
eval_pass(struct alerts *a, int64_t now_ms, int *skip, char **cause)
{
	struct alerts_episode *eps = NULL;
	struct alerts_source src;
	int64_t data_start = INT64_MAX, counts[3];
	size_t n = 0;
	int rc;

	if ((rc = eval_prepare(a, now_ms, skip, &data_start, cause)) == -1 ||
	    *skip)
		return rc;

	src.ctx = a;
	src.minutes = engine_minutes;
	src.hours = engine_hours;
	src.data_start = data_start;
	if (alerts_current(&a->rules, &src, now_ms, &eps, &n, cause) == -1)
		return -1;

	rc = sync_state(a, eps, n, now_ms, cause);
	if (rc == 0)
		rc = eval_prune(a, now_ms, cause);
	if (rc == 0 && (rc = alertstate_counts(a->as, counts, cause)) == 0) {
		pthread_mutex_lock(&a->lock);
		a->m.pending = counts[ALERTSTATE_PENDING];
		a->m.firing = counts[ALERTSTATE_FIRING];
		a->m.resolved = counts[ALERTSTATE_RESOLVED];
		pthread_mutex_unlock(&a->lock);
	}
	alerts_episodes_free(eps, n);
	/* A failed pass must run again, even if nothing changes. */
	a->seen = rc == 0;
	return rc;
}

int
alerts_evaluate(struct alerts *a, int64_t now_ms, char **cause)
{
	double t0;
	int rc, skip = 0;

	pthread_mutex_lock(&a->eval_lock);
	t0 = mono_s();
	rc = eval_pass(a, now_ms, &skip, cause);

	pthread_mutex_lock(&a->lock);
	if (rc == -1)
		a->m.failures++;
	else if (!skip) {
		a->m.evaluations++;
		a->m.last_duration_s = mono_s() - t0;
		a->m.last_ms = clock_ms(CLOCK_REALTIME);
	}
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_unlock(&a->eval_lock);
	return rc;
}

/* Logs a failed pass; the same cause again only every ten minutes. */
static void
engine_complain(struct alerts *a, char *cause)
{
	int64_t now = clock_ms(CLOCK_MONOTONIC);
	const char *why = cause != NULL ? cause : "out of memory";

	if (a->last_error != NULL && strcmp(a->last_error, why) == 0 &&
	    now - a->last_error_ms < 10 * MINUTE_MS) {
		free(cause);
		return;
	}
	log_msg(LOG_WARNING, "alerts: evaluation failed db=%s: %s",
	    a->db_path, why);
	free(a->last_error);
	a->last_error = cause != NULL ? cause : strdup(why);
	a->last_error_ms = now;
}

static void *
engine_main(void *arg)
{
	struct alerts *a = arg;
	struct timespec until;
	char *cause;

	pthread_mutex_lock(&a->lock);
	while (!a->stopping) {
		pthread_mutex_unlock(&a->lock);
		cause = NULL;
		if (alerts_evaluate(a, clock_ms(CLOCK_REALTIME), &cause) == -1)
			engine_complain(a, cause);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += ALERTS_INTERVAL_MS / 1000;
		until.tv_nsec += (ALERTS_INTERVAL_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&a->lock);
		while (!a->stopping && pthread_cond_timedwait(&a->wake,
		    &a->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int
alerts_start(const char *db_path, const char *config_path,
    struct alerts **out, char **cause)
{
	struct alerts *a;
	int rc;

	if (alerts_open(db_path, config_path, &a, cause) == -1)
		return -1;
	a->log_changes = 1;
	if ((rc = pthread_create(&a->thread, NULL, engine_main, a)) != 0) {
		set_cause(cause, "cannot start the alert thread: %s",
		    strerror(rc));
		alerts_stop(a);
		return -1;
	}
	a->running = 1;
	log_msg(LOG_INFO, "alerts: evaluating rules=%zu every=%ds db=%s",
	    a->rules.n, ALERTS_INTERVAL_MS / 1000, db_path);
	*out = a;
	return 0;
}

/* --- JSON -------------------------------------------------------------- */

int
alerts_parse_filter(const char *s, enum alerts_filter *f)
{
	static const char *const names[] = { "active", "all", "pending",
	    "firing", "resolved" };
	int i;

	for (i = 0; i < 5; i++) {
		if (strcmp(s, names[i]) == 0) {
			*f = (enum alerts_filter)i;
			return 0;
		}
	}
	return -1;
}

/* An RFC 3339 time, or null for 0 (not yet). */
static json_t *
json_time(int64_t ms)
{
	char buf[TIMEFMT_RFC3339_LEN];

	if (ms == 0)
		return json_null();
	timefmt_rfc3339(ms, buf);
	return json_string(buf);
}

/* Counts print as integers, ratios and medians as reals. */
static json_t *
json_num(double v)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static json_t *
row_json(const struct alertstate_row *r)
{
	/* "o" steals each reference; "s?" writes null for NULL. */
	return json_pack("{s:s,s:s,s:s?,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,"
	    "s:s}", "rule", r->rule, "code", r->code, "api", r->api,
	    "severity", r->severity, "state",
	    alerts_state_name((enum alerts_state)r->state),
	    "started_at", json_time(r->started_ms),
	    "fired_at", json_time(r->fired_ms),
	    "resolved_at", json_time(r->resolved_ms),
	    "value", json_num(r->value), "peak", json_num(r->peak),
	    "baseline", json_num(r->baseline), "summary", r->summary);
}

static json_t *
rows_json(const struct alertstate_row *rows, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, row_json(&rows[i])) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *
alerts_json_active(struct alerts *a, enum alerts_filter f,
    int64_t from_ms, int64_t to_ms, char **cause)
{
	struct alertstate_query q = { f == ALERTS_ACTIVE, -1, from_ms, to_ms,
	    JSON_ALERTS_MAX };
	struct alertstate_row *rows;
	json_t *arr;
	size_t n;
	int rc;

	if (f >= ALERTS_ONLY_PENDING)
		q.state = (int)f - ALERTS_ONLY_PENDING;
	pthread_mutex_lock(&a->read_lock);
	rc = alertstate_list(a->as_read, &q, &rows, &n, cause);
	pthread_mutex_unlock(&a->read_lock);
	if (rc == -1)
		return NULL;
	arr = rows_json(rows, n);
	alertstate_rows_free(rows, n);
	if (arr == NULL) {
		oom(cause);
		return NULL;
	}
	return json_pack("{s:o}", "alerts", arr);
}

static json_t *
episode_json(const struct alerts_ruleset *rs, const struct alerts_episode *e)
{
	const struct alerts_rule *r = &rs->rules[e->rule];

	return json_pack("{s:s,s:s,s:s?,s:s,s:o,s:o,s:o,s:o,s:o,s:s?}",
	    "rule", r->name, "code", e->code, "api", e->api,
	    "severity", alerts_severity_name(r->severity),
	    "started_at", json_time(e->started_min * MINUTE_MS),
	    "fired_at", json_time(e->fired_min * MINUTE_MS),
	    "resolved_at", json_time(e->resolved_min >= 0 ?
	    e->resolved_min * MINUTE_MS : 0),
	    "peak", json_num(e->peak), "baseline", json_num(e->baseline),
	    "summary", e->summary);
}

static json_t *
episodes_json(const struct alerts_ruleset *rs,
    const struct alerts_episode *eps, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n && i < JSON_EPISODES_MAX; i++) {
		if (json_array_append_new(arr, episode_json(rs, &eps[i])) ==
		    -1) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *
alerts_json_backtest(struct alerts *a, struct store *st, int64_t from_ms,
    int64_t to_ms, char **cause)
{
	struct alerts_episode *eps;
	struct alerts_source src;
	int64_t data_start;
	json_t *arr;
	size_t n;

	if (store_first_minute(st, &data_start, cause) == -1)
		return NULL;
	alerts_source_store(&src, st, data_start);
	if (alerts_backtest(&a->rules, &src, from_ms, to_ms, &eps, &n,
	    cause) == -1)
		return NULL;
	arr = episodes_json(&a->rules, eps, n);
	alerts_episodes_free(eps, n);
	if (arr == NULL) {
		oom(cause);
		return NULL;
	}
	return json_pack("{s:o,s:o,s:I,s:b,s:o}", "from", json_time(from_ms),
	    "to", json_time(to_ms), "rules", (json_int_t)a->rules.n,
	    "truncated", n > JSON_EPISODES_MAX, "episodes", arr);
}

/* --- kmswatch alerts ----------------------------------------------------- */

enum { CLI_USAGE = 2, CLI_FAIL = 3 };

static const char cli_help[] =
"Usage: kmswatch alerts [OPTIONS]\n"
"Show the alerts the rules raise, or replay the rules over history.\n"
"\n"
"  --db FILE        database (default kmswatch.db)\n"
"  --config FILE    INI file whose [rule NAME] sections replace the\n"
"                   default rules\n"
"  --state STATE    active (default), all, pending, firing or resolved\n"
"  --from T         with --state: alerts active at or after T;\n"
"                   with --backtest: start of the replay (required)\n"
"  --to T           end, exclusive (required with --backtest)\n"
"  --backtest       print the episodes the rules would have produced\n"
"                   over --from..--to; stored alert state is left alone\n"
"  --json           print JSON, as GET /api/v1/alerts and\n"
"                   /api/v1/alerts/backtest do\n"
"  -h, --help       show this help\n"
"\n"
"Without --backtest the rules are evaluated once, at the current time, as\n"
"the daemon does every few seconds, and the stored alert state is brought\n"
"up to date before it is printed.  Times are RFC 3339 (no zone means UTC)\n"
"or unix seconds.  Exit status: 0, 2 on a usage error, 3 when the\n"
"database or the config fails.\n";

struct cli_opts {
	const char *db, *config;
	enum alerts_filter filter;
	int64_t from, to;
	int have_from, have_to, backtest, json;
};

static int
cli_usage(const char *msg)
{
	fprintf(stderr, "kmswatch alerts: %s\nTry 'kmswatch alerts --help'.\n",
	    msg);
	return CLI_USAGE;
}

static int
cli_fail(const char *what, char *cause)
{
	fprintf(stderr, "kmswatch: %s: %s\n", what,
	    cause != NULL ? cause : "out of memory");
	free(cause);
	return CLI_FAIL;
}

static int
cli_option(struct cli_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'd': o->db = arg; return 0;
	case 'c': o->config = arg; return 0;
	case 'b': o->backtest = 1; return 0;
	case 'j': o->json = 1; return 0;
	case 's':
		if (alerts_parse_filter(arg, &o->filter) == -1)
			return cli_usage("--state must be active, all, "
			    "pending, firing or resolved");
		return 0;
	case 'f':
		o->have_from = 1;
		if (timefmt_parse(arg, &o->from) == -1)
			return cli_usage("--from is not a time");
		return 0;
	case 't':
		o->have_to = 1;
		if (timefmt_parse(arg, &o->to) == -1)
			return cli_usage("--to is not a time");
		return 0;
	}
	return cli_usage("unknown option");
}

static int
cli_check(const struct cli_opts *o)
{
	if (!o->backtest)
		return o->have_from && o->have_to && o->from >= o->to ?
		    cli_usage("--from must come before --to") : 0;
	if (!o->have_from || !o->have_to)
		return cli_usage("--backtest needs --from and --to");
	if (o->from >= o->to)
		return cli_usage("--from must come before --to");
	if (o->to - o->from > ALERTS_BACKTEST_SPAN_MAX_MS)
		return cli_usage("a backtest covers at most 31 days");
	return 0;
}

static int
cli_parse(int argc, char **argv, struct cli_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "backtest", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(cli_help, stdout);
			return -1;
		}
		if ((rc = cli_option(o, ch, optarg)) != 0)
			return rc;
	}
	if (optind != argc)
		return cli_usage("unexpected argument");
	return cli_check(o);
}

static const char *
jstr(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

static void
cli_print_alerts(const json_t *doc)
{
	const json_t *arr = json_object_get(doc, "alerts"), *a;
	size_t i;

	if (json_array_size(arr) == 0) {
		printf("no alerts\n");
		return;
	}
	printf("%-9s %-9s %-20s %-28s %-25s %10s %10s\n", "state",
	    "severity", "rule", "code", "started", "value", "baseline");
	json_array_foreach(arr, i, a) {
		printf("%-9s %-9s %-20s %-28s %-25s %10.4g %10.4g\n",
		    jstr(a, "state"), jstr(a, "severity"), jstr(a, "rule"),
		    jstr(a, "code"), jstr(a, "started_at"),
		    json_number_value(json_object_get(a, "value")),
		    json_number_value(json_object_get(a, "baseline")));
		printf("  %s\n", jstr(a, "summary"));
	}
}

static void
cli_print_episodes(const json_t *doc)
{
	const json_t *arr = json_object_get(doc, "episodes"), *e;
	size_t i;

	printf("%-20s %-28s %-9s %-25s %-25s %-25s %8s %8s\n", "rule", "code",
	    "severity", "started", "fired", "resolved", "peak", "baseline");
	json_array_foreach(arr, i, e) {
		printf("%-20s %-28s %-9s %-25s %-25s %-25s %8.4g %8.4g\n",
		    jstr(e, "rule"), jstr(e, "code"), jstr(e, "severity"),
		    jstr(e, "started_at"), jstr(e, "fired_at"),
		    jstr(e, "resolved_at"),
		    json_number_value(json_object_get(e, "peak")),
		    json_number_value(json_object_get(e, "baseline")));
	}
	printf("episodes: %zu\n", json_array_size(arr));
}

/* Builds what the options ask for, evaluating first unless a backtest. */
static json_t *
cli_build(struct alerts *a, const struct cli_opts *o, char **cause)
{
	if (o->backtest)
		return alerts_json_backtest(a, a->st, o->from, o->to, cause);
	if (alerts_evaluate(a, clock_ms(CLOCK_REALTIME), cause) == -1)
		return NULL;
	return alerts_json_active(a, o->filter, o->have_from ? o->from : 0,
	    o->have_to ? o->to : INT64_MAX, cause);
}

int
alerts_cli(int argc, char **argv)
{
	struct cli_opts o = { "kmswatch.db", NULL, ALERTS_ACTIVE, 0, 0, 0, 0,
	    0, 0 };
	struct alerts *a;
	char *cause = NULL;
	json_t *doc;
	int rc;

	if ((rc = cli_parse(argc, argv, &o)) != 0)
		return rc == -1 ? 0 : rc;
	if (alerts_open(o.db, o.config, &a, &cause) == -1)
		return cli_fail("alerts", cause);
	doc = cli_build(a, &o, &cause);
	alerts_stop(a);
	if (doc == NULL)
		return cli_fail("alerts", cause);

	if (o.json) {
		rc = json_dumpf(doc, stdout, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) == 0 ? 0 : CLI_FAIL;
		fputc('\n', stdout);
	} else if (o.backtest)
		cli_print_episodes(doc);
	else
		cli_print_alerts(doc);
	json_decref(doc);
	return rc;
}
