/*
 * alerts.h - alert rules, the evaluator that applies them to the per-minute
 * rollups, backtests, the summaries on-call engineers read, and the engine
 * that runs the evaluator in the daemon.
 *
 * Evaluation is a pure function of the stored rollups and an evaluation
 * time.  Rules are judged minute by minute on the data's own time line and
 * a state machine per (rule, code[, api]) turns the judgements into
 * episodes: pending from the first minute the condition holds, firing once
 * it has held for the rule's `for`, resolved once it has stayed false for
 * the resolve delay.  A live evaluation replays the last ALERTS_HORIZON_MIN
 * minutes; a backtest replays any range the same way.  Alert state is kept
 * by alertstate.h so that it survives restarts.
 *
 * Every function that can fail returns -1 (or NULL) and, when cause is not
 * NULL, sets *cause to a malloc'd sentence saying why; the caller frees it.
 */
#ifndef KMSWATCH_ALERTS_H
#define KMSWATCH_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

/*
 * Minutes a live evaluation replays.  It bounds how late a capture may be
 * read and still raise its alert, and must exceed every rule's `for` plus
 * resolve delay (rules.c checks this).
 */
#define ALERTS_HORIZON_MIN	120

/* The longest range one backtest may cover. */
#define ALERTS_BACKTEST_SPAN_MAX_MS	(31LL * 86400 * 1000)

/* How often the daemon's engine evaluates. */
#define ALERTS_INTERVAL_MS	5000

enum alerts_type {
	ALERTS_THRESHOLD,	/* at least min_count in the window */
	ALERTS_SPIKE,		/* far above what the trailing period says */
	ALERTS_NEW_CODE,	/* unseen in the trailing period, or unknown */
};

enum alerts_severity {
	ALERTS_INFO,
	ALERTS_WARNING,
	ALERTS_CRITICAL,	/* pages */
};

enum alerts_state {
	ALERTS_PENDING,
	ALERTS_FIRING,
	ALERTS_RESOLVED,
};

/* One rule; rules.c builds them from the defaults or the config file. */
struct alerts_rule {
	char *name;
	enum alerts_type type;
	char **codes;		/* the codes matched; ncodes 0 means every */
	size_t ncodes;
	int status;		/* HTTP status matched; 0 for any */
	char *api;		/* API matched; NULL for any */
	int ratio;		/* judge errors / (errors + 2xx) per API */
	int window_min;		/* the window counted, minutes */
	int baseline_min;	/* trailing period before the window, minutes */
	int for_min;		/* pending this long before firing */
	int resolve_min;	/* false this long before resolving */
	enum alerts_severity severity;
	int64_t min_count;	/* errors needed in the window */
	double factor;		/* spike: value >= factor * baseline */
	double z;		/* spike: (value - baseline) / spread >= z */
	double max_ratio;	/* threshold in ratio mode: ratio >= this */
};

struct alerts_ruleset {
	struct alerts_rule *rules;
	size_t n;
};

/*
 * Where the evaluator reads counts.  minutes() returns the rollup rows of
 * minutes [from_min, to_min) in any order (rows may repeat a key; they are
 * summed), errors or, with responses set, 2xx responses per API (code
 * NULL); rows are freed with store_minutes_free.  hours() returns counts
 * per code per whole hour of [from_min, to_min), both multiples of 60,
 * freed with store_points_free; when NULL, minutes() serves instead.
 * data_start is the first minute holding any data (INT64_MAX when none):
 * earlier minutes are unknown, not zero, so no baseline is drawn from them.
 */
struct alerts_source {
	void *ctx;
	int (*minutes)(void *ctx, int64_t from_min, int64_t to_min,
	    int responses, struct store_minute **rows, size_t *n,
	    char **cause);
	int (*hours)(void *ctx, int64_t from_min, int64_t to_min,
	    struct store_point **pts, size_t *n, char **cause);
	int64_t data_start;
};

/* A source reading st (a reader handle); hours() uses store_timeseries. */
void alerts_source_store(struct alerts_source *src, struct store *st,
    int64_t data_start);

/* One episode of one rule on one code (and API, for per-API rules). */
struct alerts_episode {
	size_t rule;		/* index into the ruleset */
	char *code;
	char *api;		/* NULL unless the rule judges per API */
	enum alerts_state state;
	int64_t started_min;	/* first minute the condition held */
	int64_t fired_min;	/* minute it fired; -1 while pending */
	int64_t resolved_min;	/* minute it resolved; -1 while active */
	double value;		/* the last minute's value */
	double peak;		/* the largest value of the episode */
	double baseline;	/* expected value when it started */
	int ratio;		/* values are error ratios (0 to 1) */
	char *summary;		/* set by alerts_summarize; may be NULL */
};

/*
 * Replays the rules over minutes [from_min, to_min) (a span of at most
 * ALERTS_BACKTEST_SPAN_MAX_MS plus ALERTS_HORIZON_MIN), starting with no
 * alert active.  Sets *eps to every episode seen, resolved or still firing
 * or pending at to_min, in order of rule, then start.  Free them with
 * alerts_episodes_free.
 */
int alerts_replay(const struct alerts_ruleset *rs,
    const struct alerts_source *src, int64_t from_min, int64_t to_min,
    struct alerts_episode **eps, size_t *n, char **cause);

/*
 * The episodes that fired within [from_ms, to_ms) or were firing at
 * from_ms, replayed with ALERTS_HORIZON_MIN minutes of lead so that they
 * match what the live engine would have said.  Pending episodes are left
 * out.  Summaries are set.
 */
int alerts_backtest(const struct alerts_ruleset *rs,
    const struct alerts_source *src, int64_t from_ms, int64_t to_ms,
    struct alerts_episode **eps, size_t *n, char **cause);

/*
 * The live view at now_ms: the episodes of the last ALERTS_HORIZON_MIN
 * minutes, the current minute (partial) included.  Summaries are set.
 */
int alerts_current(const struct alerts_ruleset *rs,
    const struct alerts_source *src, int64_t now_ms,
    struct alerts_episode **eps, size_t *n, char **cause);

/*
 * Writes each episode's summary sentence: the catalog's meaning and what to
 * do, and what the codes active at the same time point at together.
 * Returns -1 when out of memory (summaries already set stay).
 */
int alerts_summarize(const struct alerts_ruleset *rs,
    struct alerts_episode *eps, size_t n);

/* Frees episodes with their strings; NULL is fine. */
void alerts_episodes_free(struct alerts_episode *eps, size_t n);

/* Names as the config and the JSON spell them; static strings. */
const char *alerts_type_name(enum alerts_type type);
const char *alerts_severity_name(enum alerts_severity severity);
const char *alerts_state_name(enum alerts_state state);

/*
 * The engine: rules, a store reader and an alertstate handle on one
 * database.  alerts_start runs alerts_evaluate every ALERTS_INTERVAL_MS in
 * a thread of its own; the other functions may be called from any thread.
 */
struct alerts;

/*
 * Loads the rules of config_path (NULL, or a file naming none: the
 * defaults) and opens db_path, migrating it if its alert tables are
 * missing.  No thread is started.  Free with alerts_stop.
 */
int alerts_open(const char *db_path, const char *config_path,
    struct alerts **out, char **cause);

/* alerts_open, then the evaluation thread. */
int alerts_start(const char *db_path, const char *config_path,
    struct alerts **out, char **cause);

/*
 * Stops the thread if one runs, waits for its pass to end, and frees
 * everything.  No other call on a may be running or follow.  NULL is fine.
 */
void alerts_stop(struct alerts *a);

/*
 * One evaluation at now_ms: replays, then brings the stored alert state in
 * line (new alerts, state changes, resolutions).  Skipped, returning 0,
 * when neither the data nor the current minute changed since the last.
 */
int alerts_evaluate(struct alerts *a, int64_t now_ms, char **cause);

/* --- delivery hook (deliver.c) --- */
struct alertstate_row;

/*
 * Sets fn to be called with ctx and the row each time a stored alert
 * changes state (new, pending to firing, resolved), from the evaluating
 * thread, inside its write transaction: fn must only copy the row and
 * return.  A pass that fails after a call repeats the change and the call.
 * NULL removes it; once this returns, no earlier fn is running.
 */
void alerts_set_notify(struct alerts *a,
    void (*fn)(void *ctx, const struct alertstate_row *row), void *ctx);
/* --- end of the delivery hook --- */

/* What /metrics reports, as of the last evaluation; never fails. */
struct alerts_metrics {
	int64_t pending;		/* alerts pending now */
	int64_t firing;			/* alerts firing now */
	int64_t resolved;		/* resolved alerts in the history */
	int64_t evaluations;		/* passes run (skipped ones excluded) */
	int64_t failures;		/* passes that failed */
	double last_duration_s;		/* length of the last pass */
	int64_t last_ms;		/* when it ended; 0 before the first */
	size_t rules;
};
void alerts_metrics(struct alerts *a, struct alerts_metrics *m);

/* Which stored alerts GET /api/v1/alerts lists. */
enum alerts_filter {
	ALERTS_ACTIVE,			/* pending and firing (the default) */
	ALERTS_ALL,			/* history too */
	ALERTS_ONLY_PENDING,
	ALERTS_ONLY_FIRING,
	ALERTS_ONLY_RESOLVED,
};

/* Parses "active", "all", "pending", "firing" or "resolved"; -1 else. */
int alerts_parse_filter(const char *s, enum alerts_filter *f);

/*
 * {"alerts":[...]} for GET /api/v1/alerts: the stored alerts the filter
 * picks that were active at some time in [from_ms, to_ms) (0 and
 * INT64_MAX for all), newest first, at most 1000.  Times are RFC 3339 UTC.
 * Returns a new reference, or NULL with *cause.
 */
json_t *alerts_json_active(struct alerts *a, enum alerts_filter f,
    int64_t from_ms, int64_t to_ms, char **cause);

/*
 * {"episodes":[...]} for GET /api/v1/alerts/backtest: the engine's rules
 * replayed on st (a reader handle the caller holds) over [from_ms, to_ms).
 * The caller checks from_ms < to_ms and the span against
 * ALERTS_BACKTEST_SPAN_MAX_MS.  Returns a new reference, or NULL.
 */
json_t *alerts_json_backtest(struct alerts *a, struct store *st,
    int64_t from_ms, int64_t to_ms, char **cause);

/*
 * `kmswatch alerts`, argv[0] being "alerts".  Returns the exit status: 0,
 * 2 on a usage error, 3 when the database or config fails.
 */
int alerts_cli(int argc, char **argv);

#endif
