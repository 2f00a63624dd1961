/*
 * test_ridindex.c - the RequestId index as runs: every id stays findable
 * and deduplicated across cuts and merges, retention removes its entries,
 * ids whose 40-bit hashes collide both survive, and a database indexed
 * the old way (one key per full 64-bit hash) is converted on open.
 *
 * The store is tuned to cut a run every few entries and to merge three
 * runs at a time, so that a few hundred records go through every level.
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

#include "hash.h"
#include "store.h"

#define T0 1764752400000LL	/* 2025-12-03T09:00:00Z */

/* Two ids whose hashes agree in their low 40 bits (found by search). */
#define TWIN_A "COLLIDE-969146"
#define TWIN_B "COLLIDE-985432"

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
	store_tune_index(f->st, 4, 3, 0);
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

static int
add(struct store *st, const char *rid, int64_t t)
{
	struct record rec = { t, 409, 0, "Rejected.Disabled", "msg", rid,
	    NULL, 7 };
	struct store_in in = { &rec, "src.pb", "key-state", 1 };
	char *cause = NULL;
	int rc = store_add(st, &in, &cause);

	if (rc == -1)
		fail_msg("store_add %s: %s", rid, cause);
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

/*
 * Stores batches of per ids each, "R-<n>" from n = first on, each timed
 * n minutes after T0.
 */
static void
add_batches(struct store *st, int first, int batches, int per)
{
	char rid[32];
	int b, i, n = first;

	for (b = 0; b < batches; b++) {
		begin(st);
		for (i = 0; i < per; i++, n++) {
			snprintf(rid, sizeof rid, "R-%d", n);
			assert_int_equal(add(st, rid, T0 + n * 60000LL), 0);
		}
		commit(st);
	}
}

/* 1 when request_id is found by the store's lookup, else 0. */
static int
found(struct store *st, const char *request_id)
{
	struct store_row row;
	char *cause = NULL;
	int rc = store_lookup(st, request_id, &row, &cause);

	if (rc == -1)
		fail_msg("lookup %s: %s", request_id, cause);
	if (rc == 0) {
		assert_string_equal(row.request_id, request_id);
		store_row_clear(&row);
	}
	return rc == 0;
}

/* The single integer a query over the database file returns. */
static int64_t
query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
test_merges_keep_every_id(void **state)
{
	struct fixture *f = *state;
	char rid[32];
	int n;

	/* 60 runs of 5: level 0 merges 20 times, level 1 six, level 2 twice. */
	add_batches(f->st, 0, 60, 5);
	for (n = 0; n < 300; n++) {
		snprintf(rid, sizeof rid, "R-%d", n);
		assert_true(found(f->st, rid));
	}
	assert_false(found(f->st, "R-300"));
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_index"), 300);
	assert_int_equal(query_int(f->path,
	    "SELECT sum(entries) FROM rid_runs"), 300);
	/*
	 * 60 level-0 runs made 20 of level 1; 18 of those made 6 of level
	 * 2, which made 2 of level 3; level 0 was merged away entirely.
	 */
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_runs"), 4);
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_runs WHERE level = 1"), 2);
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_runs WHERE level = 2"), 0);
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_runs WHERE level = 3"), 2);
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_runs WHERE level = 0"), 0);

	/* Every key belongs to a run that is listed. */
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_index x JOIN rid_runs u"
	    " ON x.h >> 40 = u.run"), 300);
}

/*
 * Merges that take many commits: after every commit each id stored so far
 * is found exactly once, whatever slice the merge has reached.
 */
static void
test_merges_span_commits(void **state)
{
	struct fixture *f = *state;
	int64_t merging = 0;
	char rid[32];
	int b, n;

	store_tune_index(f->st, 4, 3, 2);	/* two entries per commit */
	for (b = 0; b < 40; b++) {
		add_batches(f->st, b * 5, 1, 5);
		for (n = 0; n < b * 5 + 5; n++) {
			snprintf(rid, sizeof rid, "R-%d", n);
			assert_true(found(f->st, rid));
		}
		assert_int_equal(query_int(f->path,
		    "SELECT count(*) FROM rid_index"), b * 5 + 5);
		merging += query_int(f->path, "SELECT count(*) FROM rid_runs"
		    " WHERE progress IS NOT NULL");
		/* Each source is listed while its target fills. */
		assert_int_equal(query_int(f->path, "SELECT count(*) FROM"
		    " rid_index x WHERE NOT EXISTS (SELECT 1 FROM rid_runs u"
		    " WHERE u.run = x.h >> 40)"), 0);
	}
	assert_true(merging > 10);

	/* At the built-in rate the next commit finishes what is left. */
	store_tune_index(f->st, 4, 3, 0);
	add_batches(f->st, 200, 1, 5);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM rid_runs"
	    " WHERE progress IS NOT NULL OR into_run != 0"), 0);
	assert_int_equal(query_int(f->path,
	    "SELECT sum(entries) FROM rid_runs"), 205);
}

static void
test_dedupe_after_merges(void **state)
{
	struct fixture *f = *state;
	char rid[32];
	int n;

	add_batches(f->st, 0, 20, 5);
	store_close(f->st);
	/* A new writer builds its filter from the runs. */
	assert_int_equal(store_open(f->path, STORE_WRITE, &f->st, NULL), 0);
	store_tune_index(f->st, 4, 3, 0);

	begin(f->st);
	for (n = 0; n < 100; n += 7) {
		snprintf(rid, sizeof rid, "R-%d", n);
		assert_int_equal(add(f->st, rid, T0), 1);
	}
	assert_int_equal(add(f->st, "NEW-1", T0), 0);
	assert_int_equal(add(f->st, "NEW-1", T0), 1);
	commit(f->st);
	assert_true(found(f->st, "NEW-1"));
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM records"), 101);
}

/* Small batches share the newest run until it holds open_max entries. */
static void
test_small_batches_share_a_run(void **state)
{
	struct fixture *f = *state;

	store_tune_index(f->st, 10, 3, 0);
	add_batches(f->st, 0, 5, 2);
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_runs"), 1);
	add_batches(f->st, 10, 1, 2);
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_runs"), 2);
}

static void
test_retention_removes_entries(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;
	int64_t deleted = 0;

	add_batches(f->st, 0, 30, 5);
	/* R-0 .. R-99 are timed before T0 + 100 minutes. */
	if (store_expire(f->st, T0 + 100 * 60000LL, 1000, &deleted,
	    &cause) != 0)
		fail_msg("expire: %s", cause);
	assert_int_equal(deleted, 100);
	assert_false(found(f->st, "R-0"));
	assert_false(found(f->st, "R-99"));
	assert_true(found(f->st, "R-100"));
	assert_true(found(f->st, "R-149"));
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_index"), 50);

	/* An expired id is new again. */
	begin(f->st);
	assert_int_equal(add(f->st, "R-0", T0 + 500 * 60000LL), 0);
	commit(f->st);
	assert_true(found(f->st, "R-0"));
}

static void
test_hash_twins_both_stored(void **state)
{
	struct fixture *f = *state;
	uint64_t mask = (UINT64_C(1) << 40) - 1;

	/* The fixture is only useful while the pair really collides. */
	assert_true((hash_bytes(TWIN_A, strlen(TWIN_A), 0) & mask) ==
	    (hash_bytes(TWIN_B, strlen(TWIN_B), 0) & mask));

	begin(f->st);
	assert_int_equal(add(f->st, TWIN_A, T0), 0);
	commit(f->st);
	add_batches(f->st, 0, 9, 5);	/* merges TWIN_A's run away */
	begin(f->st);
	assert_int_equal(add(f->st, TWIN_B, T0), 0);
	assert_int_equal(add(f->st, TWIN_B, T0), 1);
	commit(f->st);
	begin(f->st);
	assert_int_equal(add(f->st, TWIN_A, T0), 1);
	assert_int_equal(add(f->st, TWIN_B, T0), 1);
	commit(f->st);

	assert_true(found(f->st, TWIN_A));
	assert_true(found(f->st, TWIN_B));
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_overflow"), 1);
}

/*
 * Rewrites the database the way schema version 4 kept it: an index of one
 * row per id, keyed by the id's full 64-bit hash, no runs, no hourly
 * rollups and no per-code ones.
 */
static void
downgrade_to_v4(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *sel, *ins;
	const char *rid;
	int64_t id;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN; DELETE FROM rid_index;"
	    " DELETE FROM rid_overflow; DROP TABLE rid_runs;"
	    " DROP TABLE rollup_hour; DROP TABLE responses_hour;"
	    " DROP TABLE code_minute; DROP TABLE code_hour;"
	    " DROP TABLE code_minutes;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id, request_id FROM"
	    " records", -1, &sel, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO rid_index"
	    " (h, id) VALUES (?1, ?2)", -1, &ins, NULL), SQLITE_OK);
	while (sqlite3_step(sel) == SQLITE_ROW) {
		id = sqlite3_column_int64(sel, 0);
		rid = (const char *)sqlite3_column_text(sel, 1);
		sqlite3_bind_int64(ins, 1,
		    (int64_t)hash_bytes(rid, strlen(rid), 0));
		sqlite3_bind_int64(ins, 2, id);
		assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	assert_int_equal(sqlite3_exec(db, "COMMIT; PRAGMA user_version = 4",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_old_index_converted(void **state)
{
	struct fixture *f = *state;
	char rid[32];
	int n;

	add_batches(f->st, 40, 4, 10);	/* minutes 40 to 79: two hours */
	begin(f->st);
	assert_int_equal(add(f->st, TWIN_A, T0), 0);
	assert_int_equal(add(f->st, TWIN_B, T0), 0);
	commit(f->st);
	store_close(f->st);
	downgrade_to_v4(f->path);

	assert_int_equal(store_open(f->path, STORE_WRITE, &f->st, NULL), 0);
	assert_true(store_schema_version(f->st) >= 5);
	for (n = 40; n < 80; n++) {
		snprintf(rid, sizeof rid, "R-%d", n);
		assert_true(found(f->st, rid));
	}
	/* The twins were apart in 64 bits; in 40, one overflows. */
	assert_true(found(f->st, TWIN_A));
	assert_true(found(f->st, TWIN_B));
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_overflow"), 1);
	assert_int_equal(query_int(f->path,
	    "SELECT count(*) FROM rid_index"), 41);
	/* Migrations 6 and 7 summed the minute rollups into hours, codes. */
	assert_int_equal(query_int(f->path,
	    "SELECT sum(count) FROM rollup_hour"), 42);
	assert_int_equal(query_int(f->path,
	    "SELECT count(DISTINCT hour) FROM rollup_hour"), 2);
	assert_int_equal(query_int(f->path,
	    "SELECT sum(count) FROM code_hour"), 42);
	assert_int_equal(query_int(f->path,
	    "SELECT sum(count) FROM code_minute"), 42);

	begin(f->st);
	assert_int_equal(add(f->st, "R-43", T0), 1);
	assert_int_equal(add(f->st, TWIN_B, T0), 1);
	commit(f->st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merges_keep_every_id,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_merges_span_commits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedupe_after_merges,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_batches_share_a_run,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_removes_entries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_twins_both_stored,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_index_converted,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("ridindex", tests, NULL, NULL);
}
