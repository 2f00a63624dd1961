/*
 * alertstate.c - the alert state table (schema/004_alerts.sql) on a SQLite
 * connection of its own.
 *
 * This module owns the SQL of the `alerts` table: reading, inserting,
 * updating and deleting episode rows, and counting them by state.  It does
 * not decide what an episode is or when it changes state (alerts.c does),
 * and it never migrates: the store applies the migrations when it opens
 * the database for writing.
 *
 * It also says whether the database changed since it last looked
 * (alertstate_data_version, PRAGMA data_version on this connection).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "alertstate.h"

enum {
	AS_INSERT,
	AS_UPDATE,
	AS_DELETE,
	AS_RECENT,
	AS_COUNTS,
	AS_PRUNE,
	AS_COUNT
};

static const char *const as_sql[AS_COUNT] = {
	/* Two evaluators (the daemon and the CLI) may add one episode. */
	[AS_INSERT] = "INSERT INTO alerts (rule, code, api, severity, state,"
	    " started_ms, fired_ms, resolved_ms, value, peak, baseline,"
	    " summary, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9, ?10, ?11, ?12, ?13) ON CONFLICT (rule, code, api,"
	    " started_ms) DO UPDATE SET severity = ?4, state = ?5,"
	    " fired_ms = ?7, resolved_ms = ?8, value = ?9, peak = ?10,"
	    " baseline = ?11, summary = ?12, updated_ms = ?13",
	[AS_UPDATE] = "UPDATE alerts SET rule = ?1, code = ?2, api = ?3,"
	    " severity = ?4, state = ?5, started_ms = ?6, fired_ms = ?7,"
	    " resolved_ms = ?8, value = ?9, peak = ?10, baseline = ?11,"
	    " summary = ?12, updated_ms = ?13 WHERE id = ?14",
	[AS_DELETE] = "DELETE FROM alerts WHERE id = ?1",
	[AS_RECENT] = "SELECT id, rule, code, api, severity, state,"
	    " started_ms, fired_ms, resolved_ms, value, peak, baseline,"
	    " summary, updated_ms FROM alerts"
	    " WHERE resolved_ms IS NULL OR resolved_ms >= ?1",
	[AS_COUNTS] = "SELECT state, count(*) FROM alerts GROUP BY state",
	[AS_PRUNE] = "DELETE FROM alerts WHERE resolved_ms < ?1",
};

#define AS_COLUMNS "id, rule, code, api, severity, state, started_ms," \
	" fired_ms, resolved_ms, value, peak, baseline, summary, updated_ms"

static const char *const state_names[] = { "pending", "firing",
    "resolved" };

struct alertstate {
	sqlite3 *db;
	sqlite3_stmt *stmt[AS_COUNT];	/* prepared when the tables exist */
	int prepared;
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

static int
db_fail(struct alertstate *as, char **cause, const char *what)
{
	set_cause(cause, "alert state: %s: %s", what, sqlite3_errmsg(as->db));
	return -1;
}

static int
exec_sql(struct alertstate *as, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(as->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		set_cause(cause, "alert state: %s: %s", sql,
		    err != NULL ? err : sqlite3_errmsg(as->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
alertstate_open(const char *path, struct alertstate **out, char **cause)
{
	struct alertstate *as;

	*out = NULL;
	if ((as = calloc(1, sizeof *as)) == NULL) {
		set_cause(cause, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &as->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		set_cause(cause, "%s: cannot open: %s", path, as->db != NULL ?
		    sqlite3_errmsg(as->db) : "out of memory");
		alertstate_close(as);
		return -1;
	}
	/*
	 * The ingest writer shares the file: a write waits up to 5 s for
	 * its transaction (SQLITE_BUSY) before this handle gives up.
	 */
	sqlite3_busy_timeout(as->db, 5000);
	*out = as;
	return 0;
}

void
alertstate_close(struct alertstate *as)
{
	int i;

	if (as == NULL)
		return;
	for (i = 0; i < AS_COUNT; i++)
		sqlite3_finalize(as->stmt[i]);
	sqlite3_close(as->db);
	free(as);
}

int
alertstate_ready(struct alertstate *as, char **cause)
{
	sqlite3_stmt *s;
	int rc, i;

	if (as->prepared)
		return 1;
	if (sqlite3_prepare_v2(as->db, "SELECT 1 FROM sqlite_master WHERE"
	    " type = 'table' AND name = 'alerts'", -1, &s, NULL) != SQLITE_OK)
		return db_fail(as, cause, "reading the schema");
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_fail(as, cause, "reading the schema");
	for (i = 0; i < AS_COUNT; i++) {
		if (sqlite3_prepare_v2(as->db, as_sql[i], -1, &as->stmt[i],
		    NULL) != SQLITE_OK)
			return db_fail(as, cause, "preparing a statement");
	}
	as->prepared = 1;
	return 1;
}

/* Fails unless the tables are there; every statement needs them. */
static int
need_ready(struct alertstate *as, char **cause)
{
	int rc = alertstate_ready(as, cause);

	if (rc == 0)
		set_cause(cause, "the database has no alert tables; open it "
		    "for writing once (kmswatch ingest or serve) to migrate");
	return rc == 1 ? 0 : -1;
}

int
alertstate_begin(struct alertstate *as, char **cause)
{
	/* IMMEDIATE: take the write lock now, not halfway through. */
	return exec_sql(as, "BEGIN IMMEDIATE", cause);
}

int
alertstate_commit(struct alertstate *as, char **cause)
{
	return exec_sql(as, "COMMIT", cause);
}

void
alertstate_rollback(struct alertstate *as)
{
	exec_sql(as, "ROLLBACK", NULL);
}

static char *
column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t != NULL ? strdup((const char *)t) : NULL;
}

static enum alertstate_state
state_from_name(const char *name)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (name != NULL && strcmp(name, state_names[i]) == 0)
			return (enum alertstate_state)i;
	}
	return ALERTSTATE_RESOLVED;
}

/* Reads the AS_COLUMNS of the current row into r. */
static int
row_read(sqlite3_stmt *s, struct alertstate_row *r)
{
	const char *state = (const char *)sqlite3_column_text(s, 5);

	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(s, 0);
	r->rule = column_strdup(s, 1);
	r->code = column_strdup(s, 2);
	r->api = column_strdup(s, 3);
	r->severity = column_strdup(s, 4);
	r->state = state_from_name(state);
	r->started_ms = sqlite3_column_int64(s, 6);
	r->fired_ms = sqlite3_column_int64(s, 7);
	r->resolved_ms = sqlite3_column_int64(s, 8);
	r->value = sqlite3_column_double(s, 9);
	r->peak = sqlite3_column_double(s, 10);
	r->baseline = sqlite3_column_double(s, 11);
	r->summary = column_strdup(s, 12);
	r->updated_ms = sqlite3_column_int64(s, 13);
	if (r->api != NULL && r->api[0] == '\0') {
		free(r->api);
		r->api = NULL;
	}
	if (r->rule == NULL || r->code == NULL || r->severity == NULL ||
	    r->summary == NULL) {
		alertstate_row_clear(r);
		return -1;
	}
	return 0;
}

/* Steps s to its end, collecting rows; finalizes s when owned. */
static int
rows_collect(struct alertstate *as, sqlite3_stmt *s,
    struct alertstate_row **rows, size_t *n, char **cause)
{
	struct alertstate_row *grown;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(*rows, cap * sizeof **rows);
			if (grown == NULL)
				goto oom;
			*rows = grown;
		}
		if (row_read(s, &(*rows)[*n]) == -1)
			goto oom;
		(*n)++;
	}
	if (rc == SQLITE_DONE)
		return 0;
	db_fail(as, cause, "reading alerts");
	goto fail;

oom:
	set_cause(cause, "out of memory reading alerts");
fail:
	alertstate_rows_free(*rows, *n);
	*rows = NULL;
	*n = 0;
	return -1;
}

int
alertstate_list(struct alertstate *as, const struct alertstate_query *q,
    struct alertstate_row **rows, size_t *n, char **cause)
{
	static const char sql[] = "SELECT " AS_COLUMNS " FROM alerts"
	    " WHERE (?1 = 0 OR state != 'resolved')"
	    " AND (?2 IS NULL OR state = ?2)"
	    " AND started_ms < ?4 AND (resolved_ms IS NULL"
	    " OR resolved_ms >= ?3)"
	    " ORDER BY started_ms DESC, id DESC LIMIT ?5";
	sqlite3_stmt *s;
	int rc;

	*rows = NULL;
	*n = 0;
	if (need_ready(as, cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(as->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(as, cause, "preparing the alert listing");
	sqlite3_bind_int(s, 1, q->active);
	if (q->state >= 0 && q->state <= ALERTSTATE_RESOLVED)
		sqlite3_bind_text(s, 2, state_names[q->state], -1,
		    SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, q->from_ms);
	sqlite3_bind_int64(s, 4, q->to_ms);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)q->limit);
	rc = rows_collect(as, s, rows, n, cause);
	sqlite3_finalize(s);
	return rc;
}

int
alertstate_recent(struct alertstate *as, int64_t since_ms,
    struct alertstate_row **rows, size_t *n, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	*rows = NULL;
	*n = 0;
	if (need_ready(as, cause) == -1)
		return -1;
	s = as->stmt[AS_RECENT];
	sqlite3_bind_int64(s, 1, since_ms);
	rc = rows_collect(as, s, rows, n, cause);
	sqlite3_reset(s);
	return rc;
}

static void
bind_time(sqlite3_stmt *s, int col, int64_t ms)
{
	if (ms != 0)
		sqlite3_bind_int64(s, col, ms);
	else
		sqlite3_bind_null(s, col);
}

static void
bind_row(sqlite3_stmt *s, const struct alertstate_row *r)
{
	/* SQLITE_STATIC: the row outlives the step that reads them. */
	sqlite3_bind_text(s, 1, r->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->api != NULL ? r->api : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, state_names[r->state], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->started_ms);
	bind_time(s, 7, r->fired_ms);
	bind_time(s, 8, r->resolved_ms);
	sqlite3_bind_double(s, 9, r->value);
	sqlite3_bind_double(s, 10, r->peak);
	sqlite3_bind_double(s, 11, r->baseline);
	sqlite3_bind_text(s, 12, r->summary != NULL ? r->summary : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 13, r->updated_ms);
}

int
alertstate_put(struct alertstate *as, struct alertstate_row *row,
    char **cause)
{
	sqlite3_stmt *s;
	int rc;

	if (need_ready(as, cause) == -1)
		return -1;
	s = as->stmt[row->id == 0 ? AS_INSERT : AS_UPDATE];
	bind_row(s, row);
	if (row->id != 0)
		sqlite3_bind_int64(s, 14, row->id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return db_fail(as, cause, "writing an alert");
	if (row->id == 0)
		row->id = sqlite3_last_insert_rowid(as->db);
	return 0;
}

int
alertstate_delete(struct alertstate *as, int64_t id, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	if (need_ready(as, cause) == -1)
		return -1;
	s = as->stmt[AS_DELETE];
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(as, cause, "deleting an alert");
	return 0;
}

int
alertstate_prune(struct alertstate *as, int64_t before_ms, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	if (need_ready(as, cause) == -1)
		return -1;
	s = as->stmt[AS_PRUNE];
	sqlite3_bind_int64(s, 1, before_ms);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(as, cause, "pruning alerts");
	return 0;
}

int
alertstate_counts(struct alertstate *as, int64_t counts[3], char **cause)
{
	sqlite3_stmt *s;
	int rc;

	counts[0] = counts[1] = counts[2] = 0;
	if (need_ready(as, cause) == -1)
		return -1;
	s = as->stmt[AS_COUNTS];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		counts[state_from_name((const char *)
		    sqlite3_column_text(s, 0))] = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(as, cause, "counting alerts");
	return 0;
}

static int
query_int(struct alertstate *as, const char *sql, int64_t *out,
    int *null, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(as->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(as, cause, sql);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*null = sqlite3_column_type(s, 0) == SQLITE_NULL;
		*out = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_fail(as, cause, sql);
	return 0;
}

int
alertstate_data_version(struct alertstate *as, int64_t *version,
    char **cause)
{
	int null;

	return query_int(as, "PRAGMA data_version", version, &null, cause);
}

void
alertstate_row_clear(struct alertstate_row *row)
{
	free(row->rule);
	free(row->code);
	free(row->api);
	free(row->severity);
	free(row->summary);
	memset(row, 0, sizeof *row);
}

void
alertstate_rows_free(struct alertstate_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		alertstate_row_clear(&rows[i]);
	free(rows);
}
