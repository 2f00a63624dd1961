/*
 * alertstate.h - alert state kept in the database, so that it survives
 * restarts: one row per episode (pending, firing or resolved) with its
 * times, value, baseline and summary.
 *
 * A handle is one connection of its own on the database file, used by one
 * thread at a time.  The alert tables come with the schema migrations the
 * store applies when it opens the database for writing.  Every function
 * that can fail returns -1 and, when cause is not NULL, sets *cause to a
 * malloc'd sentence saying why (the caller frees it).
 */
#ifndef KMSWATCH_ALERTSTATE_H
#define KMSWATCH_ALERTSTATE_H

#include <stddef.h>
#include <stdint.h>

struct alertstate;

enum alertstate_state {
	ALERTSTATE_PENDING,
	ALERTSTATE_FIRING,
	ALERTSTATE_RESOLVED,
};

/* One stored episode; strings are owned by the row. */
struct alertstate_row {
	int64_t id;			/* 0 for a row not stored yet */
	char *rule;
	char *code;
	char *api;			/* NULL when the rule is not per API */
	char *severity;
	char *summary;
	enum alertstate_state state;
	int64_t started_ms;
	int64_t fired_ms;		/* 0 while pending */
	int64_t resolved_ms;		/* 0 while active */
	int64_t updated_ms;
	double value, peak, baseline;
};

/*
 * Opens a connection on the database at path, which must exist.  The
 * handle is freed with alertstate_close (NULL is fine).
 */
int alertstate_open(const char *path, struct alertstate **out,
    char **cause);
void alertstate_close(struct alertstate *as);

/* 1 when the database holds the alert tables, 0 when not, -1. */
int alertstate_ready(struct alertstate *as, char **cause);

/*
 * One transaction around several puts and deletes.  begin takes the write
 * lock at once, waiting up to 5 s for another writer (the ingester).
 */
int alertstate_begin(struct alertstate *as, char **cause);
int alertstate_commit(struct alertstate *as, char **cause);
void alertstate_rollback(struct alertstate *as);

/*
 * Which rows alertstate_list returns: the active ones (pending or firing),
 * or those of one state, or all; of those, the ones active at some time in
 * [from_ms, to_ms), newest start first, at most limit.
 */
struct alertstate_query {
	int active;			/* pending and firing only */
	int state;			/* an alertstate_state, or -1 for any */
	int64_t from_ms, to_ms;
	size_t limit;
};
int alertstate_list(struct alertstate *as, const struct alertstate_query *q,
    struct alertstate_row **rows, size_t *n, char **cause);

/*
 * The rows active at some time from since_ms on: every pending or firing
 * row, and those resolved at or after since_ms.  What a live evaluation
 * replaying from since_ms may continue.
 */
int alertstate_recent(struct alertstate *as, int64_t since_ms,
    struct alertstate_row **rows, size_t *n, char **cause);

/*
 * Inserts row (id 0; sets row->id, unless a row of the same rule, code,
 * API and start was there: that one is updated) or updates the row with
 * its id.
 */
int alertstate_put(struct alertstate *as, struct alertstate_row *row,
    char **cause);

int alertstate_delete(struct alertstate *as, int64_t id, char **cause);

/* Deletes the rows resolved before before_ms. */
int alertstate_prune(struct alertstate *as, int64_t before_ms,
    char **cause);

/* Rows now in each state, indexed by alertstate_state. */
int alertstate_counts(struct alertstate *as, int64_t counts[3],
    char **cause);

/*
 * A number that changes whenever another connection commits to the
 * database, so that an evaluator can tell that nothing new was stored.
 */
int alertstate_data_version(struct alertstate *as, int64_t *version,
    char **cause);

/* Frees a row's strings (and zeroes it), or rows and their strings. */
void alertstate_row_clear(struct alertstate_row *row);
void alertstate_rows_free(struct alertstate_row *rows, size_t n);

#endif
