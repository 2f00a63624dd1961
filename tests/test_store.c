/*
 * test_store.c - the SQLite store: dedupe, rollups kept with the records,
 * rejects, queries, and migrations on open.  Each test works on a fresh
 * database file in a temporary directory.
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

#include <sqlite3.h>

#include "store.h"

#define T0 1764752400000LL	/* 2025-12-03T09:00:00Z */

struct fixture {
	char dir[64];
	char path[96];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;

	strcpy(f->dir, "/tmp/kmswatch-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
	if (store_open(f->path, STORE_WRITE, &f->st, &cause) != 0)
		fail_msg("store_open: %s", cause);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Adds one record; returns what store_add returned. */
static int
add(struct store *st, const char *rid, const char *code, int status,
    const char *api, int64_t t)
{
	struct record rec = { t, status, 0, code, "msg", rid, api, 7 };
	struct store_in in = { &rec, "src.http", "key-state", 1 };
	char *cause = NULL;
	int rc = store_add(st, &in, &cause);

	if (rc == -1)
		fail_msg("store_add: %s", cause);
	return rc;
}

static void
begin(struct store *st)
{
	char *cause = NULL;

	if (store_begin(st, &cause) != 0)
		fail_msg("begin: %s", cause);
}

static void
commit(struct store *st)
{
	char *cause = NULL;

	if (store_commit(st, &cause) != 0)
		fail_msg("commit: %s", cause);
}

static void
test_dedupe(void **state)
{
	struct fixture *f = *state;
	struct store_totals t;

	begin(f->st);
	assert_int_equal(add(f->st, "A-1", "Rejected.Disabled", 409, NULL,
	    T0), 0);
	assert_int_equal(add(f->st, "A-2", "Rejected.Disabled", 409, NULL,
	    T0), 0);
	/* Within the same batch ... */
	assert_int_equal(add(f->st, "A-1", "Rejected.Disabled", 409, NULL,
	    T0), 1);
	commit(f->st);
	/* ... and in a later one. */
	begin(f->st);
	assert_int_equal(add(f->st, "A-2", "SignatureNotMatch", 401, NULL,
	    T0), 1);
	/* Records without a RequestId are never duplicates. */
	assert_int_equal(add(f->st, "", "InternalFailure", 500, NULL, T0), 0);
	assert_int_equal(add(f->st, "", "InternalFailure", 500, NULL, T0), 0);
	commit(f->st);

	assert_int_equal(store_totals(f->st, &t, NULL), 0);
	assert_int_equal(t.records, 4);
}

static void
test_lookup(void **state)
{
	struct fixture *f = *state;
	struct store_row row;

	begin(f->st);
	add(f->st, "5F3B0E4C-1", "Rejected.Disabled", 409, "Decrypt", T0 + 5);
	commit(f->st);

	assert_int_equal(store_lookup(f->st, "5F3B0E4C-1", &row, NULL), 0);
	assert_string_equal(row.code, "Rejected.Disabled");
	assert_string_equal(row.api, "Decrypt");
	assert_string_equal(row.source, "src.http");
	assert_string_equal(row.category, "key-state");
	assert_int_equal(row.status, 409);
	assert_int_equal(row.time_ms, T0 + 5);
	assert_int_equal(row.offset, 7);
	store_row_clear(&row);
	assert_int_equal(store_lookup(f->st, "nope", &row, NULL), 1);
}

/* Rollups match the records, and a rolled-back batch leaves neither. */
static void
test_rollups_follow_records(void **state)
{
	struct fixture *f = *state;
	struct store_group *g;
	int64_t total;
	size_t n;

	begin(f->st);
	add(f->st, "R1", "SignatureNotMatch", 401, "Sign", T0);
	add(f->st, "R2", "SignatureNotMatch", 401, "Sign", T0 + 61000);
	add(f->st, "R3", "Rejected.Disabled", 409, NULL, T0 + 1000);
	commit(f->st);
	begin(f->st);
	add(f->st, "R4", "Rejected.Disabled", 409, NULL, T0);
	store_rollback(f->st);

	assert_int_equal(store_stats(f->st, T0, T0 + 3600000, STORE_BY_CODE,
	    NULL, &g, &n, &total, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(total, 3);
	assert_string_equal(g[0].key, "SignatureNotMatch");
	assert_int_equal(g[0].count, 2);
	store_groups_free(g, n);

	assert_int_equal(store_stats(f->st, T0, T0 + 3600000, STORE_BY_API,
	    NULL, &g, &n, &total, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(g[1].key, "");	/* unknown api */
	store_groups_free(g, n);

	/* The minute of T0 + 61 s lies outside [T0, T0 + 60 s). */
	assert_int_equal(store_stats(f->st, T0, T0 + 60000, STORE_BY_STATUS,
	    NULL, &g, &n, &total, NULL), 0);
	assert_int_equal(total, 2);
	store_groups_free(g, n);
}

static void
test_timeseries(void **state)
{
	struct fixture *f = *state;
	struct store_point *p;
	size_t n;

	begin(f->st);
	add(f->st, "S1", "SignatureNotMatch", 401, NULL, T0);
	add(f->st, "S2", "SignatureNotMatch", 401, NULL, T0 + 120000);
	add(f->st, "S3", "SignatureNotMatch", 401, NULL, T0 + 299000);
	add(f->st, "S4", "Rejected.Disabled", 409, NULL, T0 + 60000);
	commit(f->st);

	assert_int_equal(store_timeseries(f->st, T0, T0 + 600000, 300000,
	    NULL, &p, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].code, "Rejected.Disabled");
	assert_int_equal(p[1].count, 3);
	assert_int_equal(p[1].bucket_ms, T0);
	store_points_free(p, n);

	assert_int_equal(store_timeseries(f->st, T0, T0 + 600000, 60000,
	    "SignatureNotMatch", &p, &n, NULL), 0);
	assert_int_equal(n, 3);
	store_points_free(p, n);
}

/*
 * Stats over ranges that cross hours read whole hours from the hourly
 * rollups and the ragged minutes from the minute rollups: every range must
 * count what a scan of the records counts.  T0 is on an hour.
 */
static void
test_stats_across_hours(void **state)
{
	struct fixture *f = *state;
	static const int64_t range[][2] = {	/* minutes after T0 */
		{ 0, 60 }, { 0, 600 }, { 17, 43 }, { 17, 403 }, { 59, 61 },
		{ 60, 180 }, { 61, 179 }, { 0, 1 }, { 300, 301 }, { 1, 599 },
	};
	struct store_group *g;
	int64_t total, want, t;
	char rid[32];
	size_t n, i;
	int k;

	/* Record k at minute 7k mod 600, so the minutes fill unevenly. */
	begin(f->st);
	for (k = 0; k < 900; k++) {
		snprintf(rid, sizeof rid, "H-%d", k);
		t = T0 + (int64_t)(k * 7 % 600) * 60000 + k % 60 * 1000;
		add(f->st, rid, k % 3 ? "SignatureNotMatch" :
		    "Rejected.Disabled", 401, NULL, t);
	}
	commit(f->st);

	for (i = 0; i < sizeof range / sizeof range[0]; i++) {
		for (want = 0, k = 0; k < 900; k++) {
			t = k * 7 % 600;
			want += t >= range[i][0] && t < range[i][1];
		}
		/* By code reads the per-code tables, by status the wide. */
		assert_int_equal(store_stats(f->st, T0 + range[i][0] * 60000,
		    T0 + range[i][1] * 60000, STORE_BY_CODE, NULL, &g, &n,
		    &total, NULL), 0);
		assert_int_equal(total, want);
		store_groups_free(g, n);
		assert_int_equal(store_stats(f->st, T0 + range[i][0] * 60000,
		    T0 + range[i][1] * 60000, STORE_BY_STATUS, NULL, &g, &n,
		    &total, NULL), 0);
		assert_int_equal(total, want);
		store_groups_free(g, n);
	}
	/* One code, across hours: a third of the records are that code. */
	assert_int_equal(store_stats(f->st, T0, T0 + 600 * 60000LL,
	    STORE_BY_CODE, "Rejected.Disabled", &g, &n, &total, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 300);
	store_groups_free(g, n);
}

/* Hourly steps read the hourly table and agree with the minutes. */
static void
test_timeseries_hourly(void **state)
{
	struct fixture *f = *state;
	struct store_point *p, *q;
	int64_t total = 0;
	size_t n, m, i;
	char rid[32];
	int k;

	begin(f->st);
	for (k = 0; k < 500; k++) {
		snprintf(rid, sizeof rid, "Q-%d", k);
		add(f->st, rid, "SignatureNotMatch", 401, NULL,
		    T0 + (int64_t)(k * 13 % 300) * 60000);
	}
	commit(f->st);

	/* Hour steps on hour boundaries: the hourly table answers. */
	assert_int_equal(store_timeseries(f->st, T0, T0 + 6 * 3600000LL,
	    3600000LL, NULL, &p, &n, NULL), 0);
	/* The same buckets summed from minutes (an unaligned end). */
	assert_int_equal(store_timeseries(f->st, T0, T0 + 6 * 3600000LL
	    - 60000 + 1, 3600000LL, NULL, &q, &m, NULL), 0);
	assert_int_equal(n, 5);
	assert_int_equal(m, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(p[i].bucket_ms, T0 + (int64_t)i * 3600000);
		assert_int_equal(q[i].bucket_ms, p[i].bucket_ms);
		assert_int_equal(p[i].count, q[i].count);
		total += p[i].count;
	}
	assert_int_equal(total, 500);
	store_points_free(p, n);
	store_points_free(q, m);
}

/* The single integer a query over the fixture's database returns. */
static int64_t
db_int(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/*
 * Rollup retention drops minutes older than the cut, and hours only once
 * every minute of them is older; each call deletes a bounded slice.
 */
static void
test_rollup_retention(void **state)
{
	struct fixture *f = *state;
	struct store_point *pts;
	int64_t deleted, calls = 0, h0 = T0 / 3600000, total;
	char rid[32], sql[160];
	size_t n;
	int k;

	begin(f->st);
	for (k = 0; k < 300; k++) {
		snprintf(rid, sizeof rid, "E-%d", k);
		add(f->st, rid, "SignatureNotMatch", 401, NULL,
		    T0 + (int64_t)k * 60000);
	}
	commit(f->st);

	do {
		assert_int_equal(store_expire_rollups(f->st,
		    T0 + 150 * 60000LL, &deleted, NULL), 0);
		assert_true(++calls < 20);
	} while (deleted > 0);
	assert_true(calls > 2);		/* 150 minutes: slices of 60 */

	assert_int_equal(db_int(f, "SELECT count(*) FROM rollup_minute"),
	    150);
	assert_int_equal(db_int(f, "SELECT count(*) FROM code_minute"), 150);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM rollup_hour WHERE"
	    " hour < %lld", (long long)h0 + 2);
	assert_int_equal(db_int(f, sql), 0);
	/* Hour 2 holds minutes 120 to 179: not all older, so it stays. */
	snprintf(sql, sizeof sql, "SELECT sum(count) FROM rollup_hour WHERE"
	    " hour = %lld", (long long)h0 + 2);
	assert_int_equal(db_int(f, sql), 60);
	snprintf(sql, sizeof sql, "SELECT sum(count) FROM code_hour WHERE"
	    " hour >= %lld", (long long)h0 + 2);
	assert_int_equal(db_int(f, sql), 180);
	assert_int_equal(db_int(f, "SELECT sum(count) FROM code_hour"), 180);

	/*
	 * code_minutes follows code_minute: hours 0 and 1 are gone, and hour
	 * 2, which the cut split, keeps only minutes 150 to 179.
	 */
	assert_int_equal(db_int(f, "SELECT count(*) FROM code_minutes"), 3);
	assert_int_equal(store_timeseries(f->st, T0, T0 + 300 * 60000LL,
	    60000, NULL, &pts, &n, NULL), 0);
	assert_int_equal(n, 150);
	assert_int_equal(pts[0].bucket_ms, T0 + 150 * 60000LL);
	for (k = 0, total = 0; k < (int)n; k++)
		total += pts[k].count;
	assert_int_equal(total, 150);
	store_points_free(pts, n);
}

static void
test_errors_paging(void **state)
{
	struct fixture *f = *state;
	struct store_errors_query q = { 0 };
	struct store_row *rows;
	int64_t next;
	size_t n, seen = 0;
	char rid[32];
	int i;

	begin(f->st);
	for (i = 0; i < 25; i++) {
		snprintf(rid, sizeof rid, "P-%d", i);
		add(f->st, rid, i % 5 ? "SignatureNotMatch" : "InternalFailure",
		    i % 5 ? 401 : 500, "Encrypt", T0 + i);
	}
	commit(f->st);

	q.to_ms = T0 + 1000;
	q.limit = 10;
	q.code = "SignatureNotMatch";
	do {
		assert_int_equal(store_errors(f->st, &q, &rows, &n, &next,
		    NULL), 0);
		for (size_t j = 0; j < n; j++)
			assert_string_equal(rows[j].code, "SignatureNotMatch");
		seen += n;
		/* By code the listing is by time: the cursor carries it. */
		if (n > 0)
			q.cursor_time = rows[n - 1].time_ms;
		store_rows_free(rows, n);
		q.cursor = next;
	} while (next != 0);
	assert_int_equal(seen, 20);

	q.code = NULL;
	q.status = 500;
	q.cursor = 0;
	assert_int_equal(store_errors(f->st, &q, &rows, &n, &next, NULL), 0);
	assert_int_equal(n, 5);
	assert_int_equal(next, 0);
	/* Newest first. */
	assert_string_equal(rows[0].request_id, "P-20");
	store_rows_free(rows, n);
}

static void
test_rejects_and_responses(void **state)
{
	struct fixture *f = *state;
	struct reject rej = { 42, REJECT_TRUNCATED, "frame cut short" };
	struct store_totals t;

	begin(f->st);
	assert_int_equal(store_add_reject(f->st, "bad.pb", &rej, NULL), 0);
	assert_int_equal(store_add_response(f->st, T0, "Encrypt", NULL), 0);
	assert_int_equal(store_add_response(f->st, T0 + 1, "Encrypt", NULL),
	    0);
	commit(f->st);
	assert_int_equal(store_totals(f->st, &t, NULL), 0);
	assert_int_equal(t.rejects, 1);
	assert_int_equal(t.responses, 2);
}

/* Reopening applies nothing twice; a newer schema is refused. */
static void
test_migrations(void **state)
{
	struct fixture *f = *state;
	struct store *again;
	char *cause = NULL;
	sqlite3 *db;
	int v = store_schema_version(f->st);

	assert_true(v >= 1);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, STORE_WRITE, &again, NULL), 0);
	assert_int_equal(store_schema_version(again), v);
	store_close(again);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, STORE_WRITE, &again, &cause), -1);
	assert_non_null(strstr(cause, "newer"));
	free(cause);
	assert_int_equal(store_open(f->path, STORE_READ, &f->st, NULL), 0);
}

/* A second writer's records reach the first writer's dedupe filter. */
static void
test_two_writers_dedupe(void **state)
{
	struct fixture *f = *state;
	struct store *other;
	struct store_totals t;

	begin(f->st);
	assert_int_equal(add(f->st, "W-1", "SignatureNotMatch", 401, NULL,
	    T0), 0);
	commit(f->st);

	assert_int_equal(store_open(f->path, STORE_WRITE, &other, NULL), 0);
	begin(other);
	assert_int_equal(add(other, "W-2", "SignatureNotMatch", 401, NULL,
	    T0), 0);
	assert_int_equal(add(other, "W-1", "SignatureNotMatch", 401, NULL,
	    T0), 1);
	commit(other);
	store_close(other);

	begin(f->st);
	assert_int_equal(add(f->st, "W-2", "SignatureNotMatch", 401, NULL,
	    T0), 1);
	commit(f->st);
	assert_int_equal(store_totals(f->st, &t, NULL), 0);
	assert_int_equal(t.records, 2);
}

static void
test_reader_refuses_empty_file(void **state)
{
	struct fixture *f = *state;
	struct store *r;
	char path[128], *cause = NULL;
	FILE *fp;

	snprintf(path, sizeof path, "%s/empty.db", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(store_open(path, STORE_READ, &r, &cause), -1);
	assert_non_null(strstr(cause, "not a kmswatch database"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollups_follow_records,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeseries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stats_across_hours, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeseries_hourly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rollup_retention, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors_paging, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rejects_and_responses,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_writers_dedupe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reader_refuses_empty_file,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
