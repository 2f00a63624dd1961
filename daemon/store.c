/*
 * store.c - error records in SQLite: schema migrations, the batched writer
 * and the queries the API and command line ask.
 *
 * This module owns the database file and every SQL statement.  It knows
 * nothing of HTTP or of input formats: it takes decoded records and answers
 * questions in plain C structures (store.h).
 *
 * Write path: a batch is one transaction.  Each record costs a probe of the
 * integer RequestId-hash index (dedupe) and one insert; rollup counts are
 * summed in memory during the batch and written once per key at commit, so
 * the rollups never lag the records they count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/statvfs.h>

#include <sqlite3.h>

#include "hash.h"
#include "ridindex.h"
#include "store.h"

/* Generated from the schema/ migrations by embed.sh; NULL-terminated. */
extern const char *const schema_migrations[];

/* Kinds of interned strings (strings.kind). */
enum str_kind {
	STR_CODE = 1, STR_API = 2, STR_SOURCE = 3, STR_CATEGORY = 4,
	STR_MESSAGE = 5
};

/*
 * Interned strings cached in the writer.  Codes, APIs and categories are
 * few; messages can be many when their templates carry ids, so past this
 * many entries new strings are still interned, only not cached.
 */
#define INTERN_CACHE_MAX 65536

struct intern_slot {
	char *value;			/* NULL when the slot is free */
	int kind;
	int64_t id;
};

struct rollup_key {
	int64_t minute, code_id, api_id, category_id;
	int64_t status;
};

struct rollup_slot {
	struct rollup_key key;
	int64_t count;			/* 0 when the slot is free */
};

struct slot_table {
	void *slots;
	size_t cap;			/* a power of two, or 0 */
	size_t used;
};

enum stmt_id {
	ST_INSERT, ST_INSERT_MANY, ST_NEXT_ID, ST_STR_GET, ST_STR_ADD,
	ST_ROLLUP, ST_ROLLUP_HOUR, ST_CODE_MINUTE, ST_CODE_HOUR, ST_RESPONSES,
	ST_RESPONSES_HOUR, ST_REJECT,
	ST_INPUT_GET, ST_INPUT_PUT, ST_TOTAL, ST_TOTAL_RESPONSES, ST_COUNTER,
	ST_CM_SELECT, ST_CM_PUT, ST_CM_DELETE, ST_LOOKUP, ST_COUNT
};

/*
 * Records are inserted INSERT_ROWS to a statement: one statement per row
 * spends as much time starting and stopping the statement as inserting.
 */
#define INSERT_ROWS 32
#define INSERT_COLS 12
#define INSERT_HEAD "INSERT INTO records (id, time_ms, status, body_status," \
	" code_id, api_id, source_id, category_id, flags, src_offset," \
	" message_id, request_id) VALUES "
#define INSERT_TUPLE "(?,?,?,?,?,?,?,?,?,?,?,?)"

/* A record waiting for its multi-row insert. */
struct pending_row {
	int64_t v[INSERT_COLS - 1];	/* the integer columns, in order */
	size_t rid;			/* request_id at store.rid_text + rid */
};

/*
 * code_minutes (schema/008): one row per code and hour, the hour's minute
 * counts as CM_MINUTES 32-bit little-endian integers.  Its rows are only
 * ever written from code_minute, by code_minutes_write().
 */
#define CM_MINUTES	60
#define CM_BYTES	(CM_MINUTES * 4)
#define CM_SELECT_SQL	"SELECT minute, count FROM code_minute" \
	" WHERE code_id = ?1 AND minute >= ?2 * 60 AND minute < ?2 * 60 + 60"
#define CM_PUT_SQL	"INSERT OR REPLACE INTO code_minutes" \
	" (code_id, hour, counts) VALUES (?1, ?2, ?3)"
#define CM_DELETE_SQL	"DELETE FROM code_minutes WHERE code_id = ?1" \
	" AND hour = ?2"
/* code_minutes_write() takes the writer's three as &stmt[ST_CM_SELECT]. */
_Static_assert(ST_CM_PUT == ST_CM_SELECT + 1 &&
    ST_CM_DELETE == ST_CM_SELECT + 2, "ST_CM_* must stay in a row");

/* The columns of a store_row, in fill_row()'s order, and their joins. */
#define ROW_SELECT "SELECT r.id, r.time_ms, r.status, r.body_status," \
	" r.flags, c.value, m.value, r.request_id, a.value, s.value," \
	" g.value, r.src_offset"
#define ROW_JOINS " JOIN strings c ON c.id = r.code_id" \
	" JOIN strings m ON m.id = r.message_id" \
	" LEFT JOIN strings a ON a.id = r.api_id" \
	" JOIN strings s ON s.id = r.source_id" \
	" JOIN strings g ON g.id = r.category_id"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_INSERT] = INSERT_HEAD INSERT_TUPLE,
	[ST_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM records",
	[ST_STR_GET] = "SELECT id FROM strings WHERE kind = ?1 AND value = ?2",
	[ST_STR_ADD] = "INSERT INTO strings (kind, value) VALUES (?1, ?2)",
	[ST_ROLLUP] = "INSERT INTO rollup_minute (minute, code_id, status,"
	    " api_id, category_id, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_ROLLUP_HOUR] = "INSERT INTO rollup_hour (hour, code_id, status,"
	    " api_id, category_id, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_CODE_MINUTE] = "INSERT INTO code_minute (code_id, minute, count)"
	    " VALUES (?1, ?2, ?3)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_CODE_HOUR] = "INSERT INTO code_hour (code_id, hour, count)"
	    " VALUES (?1, ?2, ?3)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_RESPONSES] = "INSERT INTO responses_minute (minute, api_id, count)"
	    " VALUES (?1, ?2, ?3)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_RESPONSES_HOUR] = "INSERT INTO responses_hour (hour, api_id,"
	    " count) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_REJECT] = "INSERT OR IGNORE INTO rejects (time_ms, source_id,"
	    " src_offset, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_TOTAL] = "INSERT INTO totals (code_id, status, api_id, count)"
	    " VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_TOTAL_RESPONSES] = "INSERT INTO totals_responses (api_id, count)"
	    " VALUES (?1, ?2)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[ST_COUNTER] = "UPDATE counters SET value = value + ?2"
	    " WHERE name = ?1",
	[ST_INPUT_GET] = "SELECT dev, ino, head_len, head_hash, done"
	    " FROM inputs WHERE source = ?1",
	[ST_INPUT_PUT] = "INSERT OR REPLACE INTO inputs (source, dev, ino,"
	    " head_len, head_hash, done, updated_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_CM_SELECT] = CM_SELECT_SQL,
	[ST_CM_PUT] = CM_PUT_SQL,
	[ST_CM_DELETE] = CM_DELETE_SQL,
	/*
	 * No two runs hold one 40-bit hash (the second id goes to
	 * rid_overflow), so the probe stops at the first run that has it,
	 * trying the largest first: most ids are found in one or two
	 * searches instead of one per run.  The LIMIT on the ordered runs
	 * keeps SQLite from dropping their ORDER BY.
	 */
	[ST_LOOKUP] = ROW_SELECT " FROM records r" ROW_JOINS
	    " WHERE r.id IN (SELECT id FROM (SELECT x.id FROM"
	    " (SELECT run FROM rid_runs ORDER BY entries DESC LIMIT -1 OFFSET 0)"
	    " u CROSS JOIN rid_index x ON x.h = (u.run << 40) | ?1 LIMIT 1)"
	    " UNION ALL SELECT id FROM rid_overflow WHERE request_id = ?2)"
	    " AND r.request_id = ?2",
};

struct store {
	sqlite3 *db;
	enum store_mode mode;
	int version;
	sqlite3_stmt *stmt[ST_COUNT];
	struct slot_table interned;	/* writer: string -> id */
	struct slot_table rollups;	/* writer: this batch's counts */
	struct slot_table responses;	/* writer: this batch's 2xx counts */
	struct slot_table hours;	/* writer: either, summed by hour */
	struct ridindex *rids;		/* writer: RequestId dedupe */
	int64_t next_id;		/* writer: id of the next record */
	int64_t own_next_id;		/* writer: next_id after our commit */
	struct pending_row rows[INSERT_ROWS];
	int nrows;
	char *rid_text;			/* the pending rows' RequestIds */
	size_t rid_len, rid_cap;
	int64_t batch_records;		/* stored in this batch */
	int64_t batch_rejects;
};

/* Sets *cause to a malloc'd copy of a formatted message, if cause. */
static void
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
db_fail(struct store *st, char **cause, const char *what)
{
	set_cause(cause, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs SQL that returns no rows. */
static int
exec_sql(struct store *st, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		set_cause(cause, "%s", err != NULL ? err : "sqlite error");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
read_version(struct store *st, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st, cause, "reading schema version");
	if (sqlite3_step(s) == SQLITE_ROW)
		st->version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

/*
 * Rewrites code_minutes' row of (code_id, hour) from code_minute with the
 * statements cm (CM_SELECT_SQL, CM_PUT_SQL, CM_DELETE_SQL): no row when
 * the hour counts nothing.  A minute's count past 2^32 - 1 is stored as
 * that.  Returns 0, or -1 on an SQLite error (the caller names it).
 */
static int
code_minutes_write(sqlite3_stmt *const cm[3], int64_t code_id,
    int64_t hour)
{
	uint8_t counts[CM_BYTES];
	int64_t k, v;
	int rc, any = 0;

	memset(counts, 0, sizeof counts);
	sqlite3_bind_int64(cm[0], 1, code_id);
	sqlite3_bind_int64(cm[0], 2, hour);
	while ((rc = sqlite3_step(cm[0])) == SQLITE_ROW) {
		k = sqlite3_column_int64(cm[0], 0) - hour * CM_MINUTES;
		v = sqlite3_column_int64(cm[0], 1);
		v = v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : v;
		counts[k * 4] = (uint8_t)v;
		counts[k * 4 + 1] = (uint8_t)(v >> 8);
		counts[k * 4 + 2] = (uint8_t)(v >> 16);
		counts[k * 4 + 3] = (uint8_t)(v >> 24);
		any |= v != 0;
	}
	sqlite3_reset(cm[0]);
	if (rc != SQLITE_DONE)
		return -1;

	sqlite3_bind_int64(cm[any ? 1 : 2], 1, code_id);
	sqlite3_bind_int64(cm[any ? 1 : 2], 2, hour);
	if (any)
		sqlite3_bind_blob(cm[1], 3, counts, sizeof counts,
		    SQLITE_STATIC);
	rc = sqlite3_step(cm[any ? 1 : 2]);
	sqlite3_reset(cm[any ? 1 : 2]);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Fills code_minutes from every (code, hour) that code_minute holds. */
static int
code_minutes_fill(struct store *st, char **cause)
{
	static const char *const sql[4] = {
		"SELECT DISTINCT code_id, (minute - (minute % 60 < 0) * 60)"
		" / 60 FROM code_minute",
		CM_SELECT_SQL, CM_PUT_SQL, CM_DELETE_SQL,
	};
	sqlite3_stmt *s[4] = { NULL, NULL, NULL, NULL };
	int i, rc = SQLITE_OK, ret = -1;

	for (i = 0; i < 4; i++) {
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s[i], NULL) !=
		    SQLITE_OK)
			goto out;
	}
	while ((rc = sqlite3_step(s[0])) == SQLITE_ROW) {
		if (code_minutes_write(s + 1, sqlite3_column_int64(s[0], 0),
		    sqlite3_column_int64(s[0], 1)) == -1)
			goto out;
	}
	if (rc == SQLITE_DONE)
		ret = 0;

out:
	if (ret == -1)
		db_fail(st, cause, "filling code_minutes");
	for (i = 0; i < 4; i++)
		sqlite3_finalize(s[i]);
	return ret;
}

/*
 * Work a migration needs beyond its SQL, by the version it makes; run in
 * the migration's transaction, after its SQL.
 */
static int
migrate_step(struct store *st, int version, char **cause)
{
	switch (version) {
	case 8:
		return code_minutes_fill(st, cause);
	default:
		return 0;
	}
}

/*
 * Applies each migration past the database's version, each in its own
 * transaction with the version bump, so a crash leaves a whole version.
 */
static int
migrate(struct store *st, char **cause)
{
	char bump[64];
	int n;

	for (n = 0; schema_migrations[n] != NULL; n++)
		;
	if (st->version > n) {
		set_cause(cause, "database schema version %d is newer than "
		    "this kmswatch knows (%d)", st->version, n);
		return -1;
	}
	for (; st->version < n; st->version++) {
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d;",
		    st->version + 1);
		if (exec_sql(st, "BEGIN IMMEDIATE", cause) == -1)
			return -1;
		if (exec_sql(st, schema_migrations[st->version], cause) == -1 ||
		    migrate_step(st, st->version + 1, cause) == -1 ||
		    exec_sql(st, bump, cause) == -1) {
			exec_sql(st, "ROLLBACK", NULL);
			return -1;
		}
		if (exec_sql(st, "COMMIT", cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * Connection settings.  WAL lets readers run beside the one writer;
 * synchronous=NORMAL in WAL mode loses no committed transaction on a
 * process crash (only on power loss, the last ones).  The page caches are
 * bounded so that memory stays flat whatever the database size.
 */
static int
configure(struct store *st, char **cause)
{
	const char *writer =
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = NORMAL;"
	    "PRAGMA cache_size = -16384;"
	    "PRAGMA temp_store = MEMORY;"
	    "PRAGMA wal_autocheckpoint = 4000;";
	const char *reader =
	    "PRAGMA cache_size = -8192;"
	    "PRAGMA query_only = 1;";

	/* SQLITE_BUSY is retried for up to 5 s before a call fails. */
	sqlite3_busy_timeout(st->db, 5000);
	return exec_sql(st, st->mode == STORE_WRITE ? writer : reader, cause);
}

static int
prepare_all(struct store *st, char **cause)
{
	int i;

	char many[sizeof INSERT_HEAD + INSERT_ROWS * sizeof INSERT_TUPLE];
	const char *sql;
	size_t off;

	off = (size_t)sprintf(many, "%s%s", INSERT_HEAD, INSERT_TUPLE);
	for (i = 1; i < INSERT_ROWS; i++)
		off += (size_t)sprintf(many + off, ",%s", INSERT_TUPLE);

	for (i = 0; i < ST_COUNT; i++) {
		if (st->mode == STORE_READ && i != ST_LOOKUP)
			continue;
		sql = i == ST_INSERT_MANY ? many : stmt_sql[i];
		if (sqlite3_prepare_v3(st->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK)
			return db_fail(st, cause, "preparing statement");
	}
	return 0;
}

int
store_open(const char *path, enum store_mode mode, struct store **out,
    char **cause)
{
	struct store *st;
	int flags;

	*out = NULL;
	if ((st = calloc(1, sizeof *st)) == NULL) {
		set_cause(cause, "out of memory");
		return -1;
	}
	st->mode = mode;
	flags = SQLITE_OPEN_NOMUTEX | (mode == STORE_WRITE ?
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		set_cause(cause, "%s: %s", path, st->db != NULL ?
		    sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	if (configure(st, cause) == -1 || read_version(st, cause) == -1)
		goto fail;
	if (mode == STORE_WRITE && migrate(st, cause) == -1)
		goto fail;
	if (mode == STORE_READ && st->version == 0) {
		set_cause(cause, "%s: not a kmswatch database (no schema); "
		    "ingest something first", path);
		goto fail;
	}
	if (prepare_all(st, cause) == -1)
		goto fail;
	if (mode == STORE_WRITE && ridindex_open(st->db, &st->rids, cause) == -1)
		goto fail;
	*out = st;
	return 0;

fail:
	store_close(st);
	return -1;
}

static void
intern_clear(struct store *st)
{
	struct intern_slot *slots = st->interned.slots;
	size_t i;

	for (i = 0; i < st->interned.cap; i++)
		free(slots[i].value);
	free(slots);
	memset(&st->interned, 0, sizeof st->interned);
}

void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	intern_clear(st);
	free(st->rollups.slots);
	free(st->hours.slots);
	free(st->responses.slots);
	ridindex_close(st->rids);
	free(st->rid_text);
	sqlite3_close(st->db);
	free(st);
}

void
store_tune_index(struct store *st, int64_t open_max, int fanin,
    int64_t merge_budget)
{
	if (st->rids != NULL)
		ridindex_tune(st->rids, open_max, fanin, merge_budget);
}

int
store_schema_version(struct store *st)
{
	return st->version;
}

/*
 * Interned strings.  The cache maps (kind, value) to the row id in
 * `strings`; a miss looks the table up and inserts when absent.
 */

static int
intern_grow(struct slot_table *t)
{
	struct intern_slot *old = t->slots, *slots;
	size_t cap = t->cap ? t->cap * 2 : 64, i, j;

	if ((slots = calloc(cap, sizeof *slots)) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (old[i].value == NULL)
			continue;
		j = hash_bytes(old[i].value, strlen(old[i].value),
		    old[i].kind) & (cap - 1);
		while (slots[j].value != NULL)
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
	}
	free(old);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

static int
intern_db(struct store *st, int kind, const char *value, int64_t *id,
    char **cause)
{
	sqlite3_stmt *get = st->stmt[ST_STR_GET], *add = st->stmt[ST_STR_ADD];
	int rc;

	sqlite3_bind_int(get, 1, kind);
	sqlite3_bind_text(get, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(get, 0);
	sqlite3_reset(get);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "looking up a string");

	sqlite3_bind_int(add, 1, kind);
	sqlite3_bind_text(add, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(add);
	sqlite3_reset(add);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "adding a string");
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static int
intern(struct store *st, int kind, const char *value, int64_t *id,
    char **cause)
{
	struct slot_table *t = &st->interned;
	struct intern_slot *slots;
	size_t j;

	if (t->used * 2 >= t->cap && t->used < INTERN_CACHE_MAX &&
	    intern_grow(t) == -1)
		goto nomem;
	slots = t->slots;
	j = hash_bytes(value, strlen(value), kind) & (t->cap - 1);
	for (; slots[j].value != NULL; j = (j + 1) & (t->cap - 1)) {
		if (slots[j].kind == kind && strcmp(slots[j].value, value) == 0) {
			*id = slots[j].id;
			return 0;
		}
	}

	if (intern_db(st, kind, value, id, cause) == -1)
		return -1;
	/* A full cache is not grown: the string stays uncached. */
	if (t->used * 2 >= t->cap)
		return 0;
	if ((slots[j].value = strdup(value)) == NULL)
		goto nomem;
	slots[j].kind = kind;
	slots[j].id = *id;
	t->used++;
	return 0;

nomem:
	set_cause(cause, "out of memory interning a string");
	return -1;
}

/*
 * Per-batch counters, keyed by a rollup_key.  Responses use the same
 * table with only minute and api_id set.
 */

static size_t
rollup_slot_of(const struct rollup_key *k, size_t cap)
{
	return hash_bytes((const char *)k, sizeof *k, 0) & (cap - 1);
}

static int
rollup_grow(struct slot_table *t)
{
	struct rollup_slot *old = t->slots, *slots;
	size_t cap = t->cap ? t->cap * 2 : 1024, i, j;

	if ((slots = calloc(cap, sizeof *slots)) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (old[i].count == 0)
			continue;
		j = rollup_slot_of(&old[i].key, cap);
		while (slots[j].count != 0)
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
	}
	free(old);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

static int
rollup_add(struct slot_table *t, const struct rollup_key *k, int64_t n)
{
	struct rollup_slot *slots;
	size_t j;

	if (t->used * 2 >= t->cap && rollup_grow(t) == -1)
		return -1;
	slots = t->slots;
	j = rollup_slot_of(k, t->cap);
	for (; slots[j].count != 0; j = (j + 1) & (t->cap - 1)) {
		if (memcmp(&slots[j].key, k, sizeof *k) == 0) {
			slots[j].count += n;
			return 0;
		}
	}
	slots[j].key = *k;
	slots[j].count = n;
	t->used++;
	return 0;
}

static void
rollup_reset(struct slot_table *t)
{
	if (t->slots != NULL)
		memset(t->slots, 0, t->cap * sizeof(struct rollup_slot));
	t->used = 0;
}

/* Adds a rollup slot's count to the running totals. */
static int
add_total(struct store *st, const struct rollup_slot *r, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_TOTAL];
	int rc;

	sqlite3_bind_int64(s, 1, r->key.code_id);
	sqlite3_bind_int64(s, 2, r->key.status);
	sqlite3_bind_int64(s, 3, r->key.api_id);
	sqlite3_bind_int64(s, 4, r->count);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "updating totals");
	return 0;
}

static int
add_counter(struct store *st, const char *name, int64_t delta,
    char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_COUNTER];
	int rc;

	if (delta == 0)
		return 0;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, delta);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "updating counters");
	return 0;
}

static int64_t
hour_of_minute(int64_t minute)
{
	return minute / 60 - (minute % 60 < 0);
}

/* How rollup_gather sums a batch's minute counts. */
enum gather {
	GATHER_HOUR,		/* by hour, every other key kept */
	GATHER_CODE_MINUTE,	/* by minute and code only */
	GATHER_CODE_HOUR	/* by hour and code only */
};

/* Sums the counts of a minute table into st->hours (a scratch table). */
static int
rollup_gather(struct store *st, const struct slot_table *minutes,
    enum gather how)
{
	const struct rollup_slot *r = minutes->slots;
	struct rollup_key k;
	size_t i;

	rollup_reset(&st->hours);
	for (i = 0; i < minutes->cap; i++) {
		if (r[i].count == 0)
			continue;
		k = r[i].key;
		if (how != GATHER_CODE_MINUTE)
			k.minute = hour_of_minute(k.minute);
		if (how != GATHER_HOUR)
			k.status = k.api_id = k.category_id = 0;
		if (rollup_add(&st->hours, &k, r[i].count) == -1)
			return -1;
	}
	return 0;
}

/* Upserts the per-code counts of st->hours with s. */
static int
put_codes(struct store *st, sqlite3_stmt *s, char **cause)
{
	const struct rollup_slot *r = st->hours.slots;
	size_t i;
	int rc;

	for (i = 0; i < st->hours.cap; i++) {
		if (r[i].count == 0)
			continue;
		sqlite3_bind_int64(s, 1, r[i].key.code_id);
		sqlite3_bind_int64(s, 2, r[i].key.minute);
		sqlite3_bind_int64(s, 3, r[i].count);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return db_fail(st, cause, "updating counts by code");
	}
	return 0;
}

/* Rewrites the code_minutes rows of the (code, hour) keys in st->hours. */
static int
put_code_minutes(struct store *st, char **cause)
{
	const struct rollup_slot *r = st->hours.slots;
	size_t i;

	for (i = 0; i < st->hours.cap; i++) {
		if (r[i].count != 0 && code_minutes_write(&st->stmt[ST_CM_SELECT],
		    r[i].key.code_id, r[i].key.minute) == -1)
			return db_fail(st, cause, "updating code_minutes");
	}
	return 0;
}

/* Upserts one error rollup slot with s, a minute or an hour statement. */
static int
put_rollup(sqlite3_stmt *s, const struct rollup_slot *r)
{
	int rc;

	sqlite3_bind_int64(s, 1, r->key.minute);
	sqlite3_bind_int64(s, 2, r->key.code_id);
	sqlite3_bind_int64(s, 3, r->key.status);
	sqlite3_bind_int64(s, 4, r->key.api_id);
	sqlite3_bind_int64(s, 5, r->key.category_id);
	sqlite3_bind_int64(s, 6, r->count);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Writes the batch's error counts per minute, then per hour (the running
 * totals take the hourly sums, which are fewer), then per code.
 */
static int
flush_rollups(struct store *st, char **cause)
{
	struct rollup_slot *r = st->rollups.slots, *h;
	size_t i;

	for (i = 0; i < st->rollups.cap; i++) {
		if (r[i].count != 0 &&
		    put_rollup(st->stmt[ST_ROLLUP], &r[i]) == -1)
			return db_fail(st, cause, "updating rollups");
	}
	if (rollup_gather(st, &st->rollups, GATHER_HOUR) == -1)
		goto nomem;
	h = st->hours.slots;
	for (i = 0; i < st->hours.cap; i++) {
		if (h[i].count == 0)
			continue;
		if (put_rollup(st->stmt[ST_ROLLUP_HOUR], &h[i]) == -1)
			return db_fail(st, cause, "updating hourly rollups");
		if (add_total(st, &h[i], cause) == -1)
			return -1;
	}
	if (rollup_gather(st, &st->rollups, GATHER_CODE_MINUTE) == -1)
		goto nomem;
	if (put_codes(st, st->stmt[ST_CODE_MINUTE], cause) == -1)
		return -1;
	if (rollup_gather(st, &st->rollups, GATHER_CODE_HOUR) == -1)
		goto nomem;
	if (put_codes(st, st->stmt[ST_CODE_HOUR], cause) == -1)
		return -1;
	return put_code_minutes(st, cause);

nomem:
	set_cause(cause, "out of memory summing rollups");
	return -1;
}

/* Upserts one 2xx count slot with s, a minute or an hour statement. */
static int
put_responses(sqlite3_stmt *s, const struct rollup_slot *r)
{
	int rc;

	sqlite3_bind_int64(s, 1, r->key.minute);
	sqlite3_bind_int64(s, 2, r->key.api_id);
	sqlite3_bind_int64(s, 3, r->count);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
flush_responses(struct store *st, char **cause)
{
	struct rollup_slot *r = st->responses.slots, *h;
	sqlite3_stmt *t = st->stmt[ST_TOTAL_RESPONSES];
	size_t i;
	int rc;

	for (i = 0; i < st->responses.cap; i++) {
		if (r[i].count != 0 &&
		    put_responses(st->stmt[ST_RESPONSES], &r[i]) == -1)
			return db_fail(st, cause, "updating response counts");
	}
	if (rollup_gather(st, &st->responses, GATHER_HOUR) == -1) {
		set_cause(cause, "out of memory summing responses by hour");
		return -1;
	}
	h = st->hours.slots;
	for (i = 0; i < st->hours.cap; i++) {
		if (h[i].count == 0)
			continue;
		if (put_responses(st->stmt[ST_RESPONSES_HOUR], &h[i]) == -1)
			return db_fail(st, cause, "updating hourly responses");
		sqlite3_bind_int64(t, 1, h[i].key.api_id);
		sqlite3_bind_int64(t, 2, h[i].count);
		rc = sqlite3_step(t);
		sqlite3_reset(t);
		if (rc != SQLITE_DONE)
			return db_fail(st, cause, "updating response totals");
	}
	return 0;
}

/* The writer's transaction. */

struct record_ids {
	int64_t code, api, source, category, message;
};

/* Keeps a copy of the row's RequestId until the row is inserted. */
static int
rid_text_add(struct store *st, const char *request_id, size_t *off)
{
	size_t len = strlen(request_id) + 1, cap = st->rid_cap;
	char *grown;

	while (st->rid_len + len > cap)
		cap = cap ? cap * 2 : 4096;
	if (cap != st->rid_cap) {
		if ((grown = realloc(st->rid_text, cap)) == NULL)
			return -1;
		st->rid_text = grown;
		st->rid_cap = cap;
	}
	memcpy(st->rid_text + st->rid_len, request_id, len);
	*off = st->rid_len;
	st->rid_len += len;
	return 0;
}

/* Binds row r at parameter position base + 1 of s. */
static void
bind_row(struct store *st, sqlite3_stmt *s, int base,
    const struct pending_row *r)
{
	int i;

	for (i = 0; i < INSERT_COLS - 1; i++)
		sqlite3_bind_int64(s, base + i + 1, r->v[i]);
	sqlite3_bind_text(s, base + INSERT_COLS, st->rid_text + r->rid, -1,
	    SQLITE_STATIC);
}

static int
step_insert(struct store *st, sqlite3_stmt *s, char **cause)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "inserting records");
	return 0;
}

/* Inserts the pending rows: a full set in one statement, else one by one. */
static int
flush_rows(struct store *st, char **cause)
{
	sqlite3_stmt *s;
	int i, rc = 0;

	if (st->nrows == INSERT_ROWS) {
		s = st->stmt[ST_INSERT_MANY];
		for (i = 0; i < INSERT_ROWS; i++)
			bind_row(st, s, i * INSERT_COLS, &st->rows[i]);
		rc = step_insert(st, s, cause);
	} else {
		s = st->stmt[ST_INSERT];
		for (i = 0; i < st->nrows && rc == 0; i++) {
			bind_row(st, s, 0, &st->rows[i]);
			rc = step_insert(st, s, cause);
		}
	}
	st->nrows = 0;
	st->rid_len = 0;
	return rc;
}

/* Queues a record under id, inserting the queue when it is full. */
static int
queue_row(struct store *st, const struct store_in *in,
    const struct record_ids *ids, int64_t id, char **cause)
{
	const struct record *rec = in->rec;
	struct pending_row *r = &st->rows[st->nrows];

	if (rid_text_add(st, rec->request_id, &r->rid) == -1) {
		set_cause(cause, "out of memory queueing a record");
		return -1;
	}
	r->v[0] = id;
	r->v[1] = rec->time_ms;
	r->v[2] = rec->status;
	r->v[3] = rec->body_status;
	r->v[4] = ids->code;
	r->v[5] = ids->api;
	r->v[6] = ids->source;
	r->v[7] = ids->category;
	r->v[8] = in->flags;
	r->v[9] = (int64_t)rec->offset;
	r->v[10] = ids->message;
	if (++st->nrows == INSERT_ROWS)
		return flush_rows(st, cause);
	return 0;
}

static void
batch_reset(struct store *st)
{
	rollup_reset(&st->rollups);
	rollup_reset(&st->responses);
	ridindex_reset(st->rids);
	st->nrows = 0;
	st->rid_len = 0;
	st->batch_records = st->batch_rejects = 0;
}

/* Ids are given by the writer, so that a queued row's id is known. */
static int
read_next_id(struct store *st, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_NEXT_ID];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		st->next_id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return db_fail(st, cause, "reading the next record id");
	return 0;
}

int
store_begin(struct store *st, char **cause)
{
	batch_reset(st);
	if (exec_sql(st, "BEGIN IMMEDIATE", cause) == -1)
		return -1;
	if (read_next_id(st, cause) == -1)
		goto fail;
	/* More ids than we stored: another process wrote since. */
	if (st->own_next_id != 0 && st->next_id > st->own_next_id &&
	    ridindex_catch_up(st->rids, st->own_next_id, cause) == -1)
		goto fail;
	st->own_next_id = st->next_id;
	return 0;

fail:
	store_rollback(st);
	return -1;
}

int
store_commit(struct store *st, char **cause)
{
	if (flush_rows(st, cause) == -1 ||
	    ridindex_flush(st->rids, cause) == -1 ||
	    flush_rollups(st, cause) == -1 ||
	    flush_responses(st, cause) == -1 ||
	    add_counter(st, "records", st->batch_records, cause) == -1 ||
	    add_counter(st, "rejects", st->batch_rejects, cause) == -1)
		goto fail;
	if (exec_sql(st, "COMMIT", cause) == -1)
		goto fail;
	st->own_next_id = st->next_id;
	batch_reset(st);
	return 0;

fail:
	store_rollback(st);
	return -1;
}

void
store_rollback(struct store *st)
{
	exec_sql(st, "ROLLBACK", NULL);
	batch_reset(st);
	/* Ids interned in the lost transaction no longer exist. */
	intern_clear(st);
}


static int
intern_record(struct store *st, const struct store_in *in,
    struct record_ids *ids, char **cause)
{
	const struct record *rec = in->rec;

	ids->api = 0;
	if (intern(st, STR_CODE, rec->code, &ids->code, cause) == -1 ||
	    intern(st, STR_MESSAGE, rec->message, &ids->message,
	    cause) == -1 ||
	    intern(st, STR_SOURCE, in->source, &ids->source, cause) == -1 ||
	    intern(st, STR_CATEGORY, in->category, &ids->category,
	    cause) == -1)
		return -1;
	if (rec->api != NULL &&
	    intern(st, STR_API, rec->api, &ids->api, cause) == -1)
		return -1;
	return 0;
}

int
store_add(struct store *st, const struct store_in *in, char **cause)
{
	const struct record *rec = in->rec;
	struct record_ids ids;
	struct rollup_key k;
	int64_t h = 0, id;
	int dup, overflow = 0;

	/* A record without a RequestId cannot repeat one: never a dup. */
	if (rec->request_id[0] != '\0' &&
	    (dup = ridindex_check(st->rids, rec->request_id, &h, &overflow,
	    cause)) != 0)
		return dup;

	id = st->next_id++;
	if (intern_record(st, in, &ids, cause) == -1 ||
	    queue_row(st, in, &ids, id, cause) == -1)
		return -1;
	if (rec->request_id[0] != '\0' && ridindex_add(st->rids,
	    rec->request_id, h, overflow, id, cause) == -1)
		return -1;

	st->batch_records++;
	memset(&k, 0, sizeof k);
	k.minute = rec->time_ms / 60000 - (rec->time_ms % 60000 < 0);
	k.code_id = ids.code;
	k.status = rec->status;
	k.api_id = ids.api;
	k.category_id = ids.category;
	if (rollup_add(&st->rollups, &k, 1) == -1) {
		set_cause(cause, "out of memory counting rollups");
		return -1;
	}
	return 0;
}

int
store_add_reject(struct store *st, const char *source,
    const struct reject *rej, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_REJECT];
	int64_t source_id;
	int rc;

	if (intern(st, STR_SOURCE, source, &source_id, cause) == -1)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms());
	sqlite3_bind_int64(s, 2, source_id);
	sqlite3_bind_int64(s, 3, (int64_t)rej->offset);
	sqlite3_bind_text(s, 4, record_reason_name(rej->reason), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 5, rej->detail != NULL ? rej->detail : "", -1,
	    SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "inserting a reject");
	/* Not counted when the same place was rejected before. */
	st->batch_rejects += sqlite3_changes(st->db);
	return 0;
}

int
store_input_get(struct store *st, const char *source,
    struct store_input *in, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_INPUT_GET];
	int rc;

	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		in->dev = (uint64_t)sqlite3_column_int64(s, 0);
		in->ino = (uint64_t)sqlite3_column_int64(s, 1);
		in->head_len = sqlite3_column_int64(s, 2);
		in->head_hash = sqlite3_column_int64(s, 3);
		in->done = sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, cause, "reading an input's position");
	return rc == SQLITE_ROW ? 0 : 1;
}

int
store_input_put(struct store *st, const char *source,
    const struct store_input *in, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_INPUT_PUT];
	int rc;

	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)in->dev);
	sqlite3_bind_int64(s, 3, (int64_t)in->ino);
	sqlite3_bind_int64(s, 4, in->head_len);
	sqlite3_bind_int64(s, 5, in->head_hash);
	sqlite3_bind_int64(s, 6, in->done);
	sqlite3_bind_int64(s, 7, now_ms());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "recording an input's position");
	return 0;
}

int
store_add_response(struct store *st, int64_t time_ms, const char *api,
    char **cause)
{
	struct rollup_key k;

	memset(&k, 0, sizeof k);
	if (api != NULL && intern(st, STR_API, api, &k.api_id, cause) == -1)
		return -1;
	k.minute = time_ms / 60000 - (time_ms % 60000 < 0);
	if (rollup_add(&st->responses, &k, 1) == -1) {
		set_cause(cause, "out of memory counting responses");
		return -1;
	}
	return 0;
}

/*
 * Reading.  Queries other than the lookup are prepared per call: their
 * text depends on the filters given, and preparing costs microseconds
 * next to the query itself.  Only fixed SQL fragments are ever joined;
 * every value is a bound parameter.
 */

static char *
column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	return v != NULL ? strdup((const char *)v) : NULL;
}

/* Fills row from a statement whose columns are those of ST_LOOKUP. */
static int
fill_row(sqlite3_stmt *s, struct store_row *row)
{
	memset(row, 0, sizeof *row);
	row->id = sqlite3_column_int64(s, 0);
	row->time_ms = sqlite3_column_int64(s, 1);
	row->status = sqlite3_column_int(s, 2);
	row->body_status = sqlite3_column_int(s, 3);
	row->flags = sqlite3_column_int(s, 4);
	row->code = column_strdup(s, 5);
	row->message = column_strdup(s, 6);
	row->request_id = column_strdup(s, 7);
	row->api = column_strdup(s, 8);
	row->source = column_strdup(s, 9);
	row->category = column_strdup(s, 10);
	row->offset = (uint64_t)sqlite3_column_int64(s, 11);
	if (row->code == NULL || row->message == NULL ||
	    row->request_id == NULL || row->source == NULL ||
	    row->category == NULL) {
		store_row_clear(row);
		return -1;
	}
	return 0;
}

void
store_row_clear(struct store_row *row)
{
	free(row->code);
	free(row->message);
	free(row->request_id);
	free(row->api);
	free(row->source);
	free(row->category);
	memset(row, 0, sizeof *row);
}

void
store_rows_free(struct store_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_row_clear(&rows[i]);
	free(rows);
}

int
store_lookup(struct store *st, const char *request_id,
    struct store_row *row, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_LOOKUP];
	int rc, ret = 1;

	sqlite3_bind_int64(s, 1, ridindex_hash(request_id));
	sqlite3_bind_text(s, 2, request_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret = fill_row(s, row);
		if (ret == -1)
			set_cause(cause, "out of memory reading a record");
	} else if (rc != SQLITE_DONE)
		ret = db_fail(st, cause, "looking up a request id");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

/* Appends a row to a growing array. */
static int
rows_push(sqlite3_stmt *s, struct store_row **rows, size_t *n, size_t *cap)
{
	struct store_row *grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((grown = realloc(*rows, *cap * sizeof **rows)) == NULL)
			return -1;
		*rows = grown;
	}
	if (fill_row(s, &(*rows)[*n]) == -1)
		return -1;
	(*n)++;
	return 0;
}

/*
 * Filtered by code, the listing is newest time first, which the
 * (code_id, time_ms) index gives without sorting, and the cursor is a
 * (time, id) pair; unfiltered, it is newest stored first, by id.
 */
static int
errors_prepare(struct store *st, const struct store_errors_query *q,
    sqlite3_stmt **out, char **cause)
{
	const char *after = "";
	char sql[1024];
	sqlite3_stmt *s;

	if (q->cursor > 0)
		after = q->code != NULL ? " AND r.time_ms <= ?8 AND"
		    " (r.time_ms < ?8 OR r.id < ?6)" : " AND r.id < ?6";
	snprintf(sql, sizeof sql, ROW_SELECT " FROM records r" ROW_JOINS
	    " WHERE r.time_ms >= ?1 AND r.time_ms < ?2%s%s%s%s"
	    " ORDER BY %s LIMIT ?7",
	    q->code != NULL ? " AND r.code_id = (SELECT id FROM strings"
	    " WHERE kind = 1 AND value = ?3)" : "",
	    q->api != NULL ? " AND r.api_id = (SELECT id FROM strings"
	    " WHERE kind = 2 AND value = ?4)" : "",
	    q->status != 0 ? " AND r.status = ?5" : "", after,
	    q->code != NULL ? "r.time_ms DESC, r.id DESC" : "r.id DESC");
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, cause, "preparing errors query");
	sqlite3_bind_int64(s, 1, q->from_ms);
	sqlite3_bind_int64(s, 2, q->to_ms);
	if (q->code != NULL)
		sqlite3_bind_text(s, 3, q->code, -1, SQLITE_STATIC);
	if (q->api != NULL)
		sqlite3_bind_text(s, 4, q->api, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, q->status);
	sqlite3_bind_int64(s, 6, q->cursor);
	/* One more than asked: its presence says there is a next page. */
	sqlite3_bind_int(s, 7, q->limit + 1);
	sqlite3_bind_int64(s, 8, q->cursor_time);
	*out = s;
	return 0;
}

int
store_errors(struct store *st, const struct store_errors_query *q,
    struct store_row **rows, size_t *n, int64_t *next_cursor, char **cause)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	*next_cursor = 0;
	if (errors_prepare(st, q, &s, cause) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == (size_t)q->limit) {
			*next_cursor = (*rows)[*n - 1].id;
			break;
		}
		if (rows_push(s, rows, n, &cap) == -1) {
			set_cause(cause, "out of memory listing errors");
			goto fail;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(st, cause, "listing errors");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;

fail:
	sqlite3_finalize(s);
	store_rows_free(*rows, *n);
	*rows = NULL;
	*n = 0;
	return -1;
}

static int64_t
minute_floor(int64_t ms)
{
	return ms / 60000 - (ms % 60000 < 0);
}

static int64_t
minute_ceil(int64_t ms)
{
	return minute_floor(ms) + (ms % 60000 != 0);
}

/*
 * Stats by code read the per-code tables, in the same three pieces as
 * stats_sql's range.  Each piece walks the codes (strings of kind 1, or
 * the one code bound as ?3) and reads that code's range of the table.
 */
static void
stats_code_sql(int one_code, char *sql, size_t size)
{
	const char *code = one_code ? " AND c.value = ?3" : "";

	snprintf(sql, size, "SELECT code, sum(n) AS t, 0 FROM ("
	    "SELECT c.value AS code, m.count AS n FROM strings c JOIN"
	    " code_minute m ON m.code_id = c.id AND m.minute >= ?1 AND"
	    " m.minute < ?4 WHERE c.kind = 1%s UNION ALL "
	    "SELECT c.value, h.count FROM strings c JOIN code_hour h ON"
	    " h.code_id = c.id AND h.hour >= ?5 AND h.hour < ?6"
	    " WHERE c.kind = 1%s UNION ALL "
	    "SELECT c.value, m.count FROM strings c JOIN code_minute m ON"
	    " m.code_id = c.id AND m.minute >= ?7 AND m.minute < ?2"
	    " WHERE c.kind = 1%s) GROUP BY code ORDER BY t DESC, 1",
	    code, code, code);
}

/*
 * The stats query for a grouping; filter is "" or a condition on code_id
 * (bound as ?3) for the inner selects.  By API, each group also gets the
 * 2xx responses seen for that API in the range.
 *
 * The range [?1, ?2) in minutes is read as three pieces: minutes up to
 * ?4, whole hours [?5, ?6) from the hourly tables, and minutes from ?7;
 * stats_bind sets them.
 */
static void
stats_sql(enum store_group_by by, const char *filter, char *sql,
    size_t size)
{
	static const char range[] = " FROM (SELECT code_id, status, api_id,"
	    " category_id, count FROM rollup_minute WHERE minute >= ?1 AND"
	    " minute < ?4 UNION ALL SELECT code_id, status, api_id,"
	    " category_id, count FROM rollup_hour WHERE hour >= ?5 AND"
	    " hour < ?6 UNION ALL SELECT code_id, status, api_id,"
	    " category_id, count FROM rollup_minute WHERE minute >= ?7 AND"
	    " minute < ?2) WHERE 1";

	switch (by) {
	case STORE_BY_STATUS:
		snprintf(sql, size, "SELECT CAST(status AS TEXT), sum(count)"
		    " AS n, 0%s%s GROUP BY status ORDER BY n DESC, status",
		    range, filter);
		break;
	case STORE_BY_API:
		snprintf(sql, size, "SELECT coalesce(s.value, ''), t.n,"
		    " coalesce(o.n, 0) FROM (SELECT api_id, sum(count) AS n%s%s"
		    " GROUP BY api_id) t LEFT JOIN (SELECT api_id, sum(count)"
		    " AS n FROM (SELECT api_id, count FROM responses_minute"
		    " WHERE minute >= ?1 AND minute < ?4 UNION ALL SELECT"
		    " api_id, count FROM responses_hour WHERE hour >= ?5 AND"
		    " hour < ?6 UNION ALL SELECT api_id, count FROM"
		    " responses_minute WHERE minute >= ?7 AND minute < ?2)"
		    " GROUP BY api_id) o ON o.api_id = t.api_id"
		    " LEFT JOIN strings s ON s.id = t.api_id"
		    " ORDER BY t.n DESC, 1", range, filter);
		break;
	case STORE_BY_CATEGORY:
		snprintf(sql, size, "SELECT s.value, sum(t.n) AS m, 0 FROM"
		    " (SELECT category_id, sum(count) AS n%s%s GROUP BY"
		    " category_id) t JOIN strings s ON s.id = t.category_id"
		    " GROUP BY s.value ORDER BY m DESC, 1", range, filter);
		break;
	case STORE_BY_CODE:
	default:
		stats_code_sql(*filter != '\0', sql, size);
		break;
	}
}

/* Binds the pieces of the minute range [m1, m2) stats_sql reads. */
static void
stats_bind(sqlite3_stmt *s, int64_t m1, int64_t m2)
{
	int64_t h1 = m1 / 60 + (m1 % 60 > 0), h2 = m2 / 60;

	/* Times before 1970 are never stored: no negative minutes here. */
	if (h1 >= h2)
		h1 = h2 = 0;
	sqlite3_bind_int64(s, 1, m1);
	sqlite3_bind_int64(s, 2, m2);
	sqlite3_bind_int64(s, 4, h1 < h2 ? h1 * 60 : m2);
	sqlite3_bind_int64(s, 5, h1);
	sqlite3_bind_int64(s, 6, h2);
	sqlite3_bind_int64(s, 7, h1 < h2 ? h2 * 60 : m2);
}

static int
groups_push(sqlite3_stmt *s, struct store_group **groups, size_t *n,
    size_t *cap)
{
	struct store_group *grown;
	const unsigned char *key;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((grown = realloc(*groups, *cap * sizeof **groups)) == NULL)
			return -1;
		*groups = grown;
	}
	key = sqlite3_column_text(s, 0);
	(*groups)[*n].key = strdup(key != NULL ? (const char *)key : "");
	(*groups)[*n].count = sqlite3_column_int64(s, 1);
	(*groups)[*n].responses = sqlite3_column_int64(s, 2);
	if ((*groups)[*n].key == NULL)
		return -1;
	(*n)++;
	return 0;
}

int
store_stats(struct store *st, int64_t from_ms, int64_t to_ms,
    enum store_group_by by, const char *code, struct store_group **groups,
    size_t *n, int64_t *total, char **cause)
{
	char sql[1024];
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	*groups = NULL;
	*n = 0;
	*total = 0;
	stats_sql(by, code != NULL ? " AND code_id = (SELECT id FROM strings"
	    " WHERE kind = 1 AND value = ?3)" : "", sql, sizeof sql);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, cause, "preparing stats query");
	stats_bind(s, minute_floor(from_ms), minute_ceil(to_ms));
	if (code != NULL)
		sqlite3_bind_text(s, 3, code, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (groups_push(s, groups, n, &cap) == -1) {
			set_cause(cause, "out of memory counting groups");
			goto fail;
		}
		*total += (*groups)[*n - 1].count;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, cause, "counting groups");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;

fail:
	sqlite3_finalize(s);
	store_groups_free(*groups, *n);
	*groups = NULL;
	*n = 0;
	return -1;
}

void
store_groups_free(struct store_group *groups, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(groups[i].key);
	free(groups);
}

/*
 * Adds count at minute (of the epoch) to the series: to the last point
 * when it falls in the same bucket of the same code, else as a new point.
 * Counts come ordered by code then time, so a bucket's are consecutive.
 * Points of one code share the first one's string.
 */
static int
points_add(const char *code, int64_t minute, int64_t count,
    int64_t step_min, struct store_point **pts, size_t *n, size_t *cap)
{
	struct store_point *grown, *last = *n > 0 ? &(*pts)[*n - 1] : NULL;
	int64_t bucket = minute / step_min - (minute % step_min < 0);
	int64_t bucket_ms = bucket * step_min * 60000;

	if (last != NULL && last->bucket_ms == bucket_ms &&
	    (last->code == code || strcmp(last->code, code) == 0)) {
		last->count += count;
		return 0;
	}

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((grown = realloc(*pts, *cap * sizeof **pts)) == NULL)
			return -1;
		*pts = grown;
		last = *n > 0 ? &(*pts)[*n - 1] : NULL;
	}
	(*pts)[*n].code = last != NULL && (last->code == code ||
	    strcmp(last->code, code) == 0) ? last->code : strdup(code);
	(*pts)[*n].bucket_ms = bucket_ms;
	(*pts)[*n].count = count;
	if ((*pts)[*n].code == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* A row of code_hour: one count for the hour's first minute. */
static int
points_add_hour(sqlite3_stmt *s, int64_t step_min,
    struct store_point **pts, size_t *n, size_t *cap)
{
	const char *code = (const char *)sqlite3_column_text(s, 0);

	if (code == NULL)
		return -1;
	return points_add(code, sqlite3_column_int64(s, 1) * 60,
	    sqlite3_column_int64(s, 2), step_min, pts, n, cap);
}

/* A row of code_minutes: the hour's minutes that fall in [m1, m2). */
static int
points_add_minutes(sqlite3_stmt *s, int64_t m1, int64_t m2,
    int64_t step_min, struct store_point **pts, size_t *n, size_t *cap)
{
	const char *code = (const char *)sqlite3_column_text(s, 0);
	const uint8_t *c = sqlite3_column_blob(s, 2);
	int64_t first = sqlite3_column_int64(s, 1) * CM_MINUTES, minute;
	uint32_t v;
	int k;

	/* The store writes every row CM_BYTES long; anything else is not
	 * ours to read. */
	if (code == NULL || c == NULL || sqlite3_column_bytes(s, 2) != CM_BYTES)
		return -1;
	for (k = 0; k < CM_MINUTES; k++) {
		minute = first + k;
		v = (uint32_t)c[k * 4] | (uint32_t)c[k * 4 + 1] << 8 |
		    (uint32_t)c[k * 4 + 2] << 16 | (uint32_t)c[k * 4 + 3] << 24;
		if (v == 0 || minute < m1 || minute >= m2)
			continue;
		if (points_add(code, minute, v, step_min, pts, n, cap) == -1)
			return -1;
		/* The point holds the code now: later ones compare pointers. */
		code = (*pts)[*n - 1].code;
	}
	return 0;
}

int
store_timeseries(struct store *st, int64_t from_ms, int64_t to_ms,
    int64_t step_ms, const char *code, struct store_point **points,
    size_t *n, char **cause)
{
	int64_t step_min = step_ms / 60000 > 0 ? step_ms / 60000 : 1;
	int64_t m1 = minute_floor(from_ms), m2 = minute_ceil(to_ms);
	char sql[512];
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc, hours;

	*points = NULL;
	*n = 0;
	/*
	 * Steps of whole hours on hour boundaries read code_hour; any other
	 * reads code_minutes, an hour of minutes to a row, and keeps the
	 * minutes in range.  Either is walked code by code (the strings index
	 * gives the codes in name order), each code's range in time order,
	 * so the rows need no sort: buckets are summed as they pass.
	 */
	hours = step_min % 60 == 0 && m1 % 60 == 0 && m2 % 60 == 0;
	snprintf(sql, sizeof sql, "SELECT c.value, r.hour, %s"
	    " FROM strings c JOIN %s r ON r.code_id = c.id"
	    " AND r.hour >= ?1 AND r.hour < ?2 WHERE c.kind = 1%s"
	    " ORDER BY c.value, r.hour", hours ? "r.count" : "r.counts",
	    hours ? "code_hour" : "code_minutes",
	    code != NULL ? " AND c.value = ?3" : "");
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, cause, "preparing timeseries query");
	sqlite3_bind_int64(s, 1, hour_of_minute(m1));
	sqlite3_bind_int64(s, 2, hour_of_minute(m2 + 59));
	if (code != NULL)
		sqlite3_bind_text(s, 3, code, -1, SQLITE_STATIC);

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((hours ? points_add_hour(s, step_min, points, n, &cap) :
		    points_add_minutes(s, m1, m2, step_min, points, n, &cap)) ==
		    -1) {
			set_cause(cause, "out of memory building a series, or a"
			    " code_minutes row of the wrong size");
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, cause, "building a series");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;

fail:
	sqlite3_finalize(s);
	store_points_free(*points, *n);
	*points = NULL;
	*n = 0;
	return -1;
}

void
store_points_free(struct store_point *points, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (i == 0 || points[i].code != points[i - 1].code)
			free(points[i].code);
	free(points);
}

/* Runs a one-integer query; a NULL result reads as 0. */
static int
query_int(struct store *st, const char *sql, int64_t *v, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, cause, "preparing a count");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, cause, "counting");
	return 0;
}

/*
 * The newest time is the largest of each code's newest, one probe of the
 * (code_id, time_ms) index per code: records are stored in arrival order,
 * not time order, and a scan for max(time_ms) would read them all.
 */
int
store_totals(struct store *st, struct store_totals *t, char **cause)
{
	memset(t, 0, sizeof *t);
	if (query_int(st, "SELECT value FROM counters WHERE name = 'records'",
	    &t->records, cause) == -1 ||
	    query_int(st, "SELECT value FROM counters WHERE name = 'rejects'",
	    &t->rejects, cause) == -1 ||
	    query_int(st, "SELECT sum(count) FROM totals_responses",
	    &t->responses, cause) == -1 ||
	    query_int(st, "SELECT max((SELECT max(time_ms) FROM records"
	    " WHERE code_id = s.id)) FROM strings s WHERE s.kind = 1",
	    &t->newest_ms, cause) == -1)
		return -1;
	return 0;
}

static int
minutes_push(sqlite3_stmt *s, struct store_minute **rows, size_t *n,
    size_t *cap)
{
	struct store_minute *grown, *m;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		if ((grown = realloc(*rows, *cap * sizeof **rows)) == NULL)
			return -1;
		*rows = grown;
	}
	m = &(*rows)[*n];
	m->minute = sqlite3_column_int64(s, 0);
	m->code = column_strdup(s, 1);
	m->status = sqlite3_column_int(s, 2);
	m->api = column_strdup(s, 3);
	m->count = sqlite3_column_int64(s, 4);
	(*n)++;
	if ((sqlite3_column_type(s, 1) != SQLITE_NULL && m->code == NULL) ||
	    (sqlite3_column_type(s, 3) != SQLITE_NULL && m->api == NULL))
		return -1;
	return 0;
}

/*
 * Runs sql, whose columns are those of a store_minute and whose ?1 and ?2
 * (when it has them) are the first and last minute, into *rows.
 */
static int
minutes_query(struct store *st, const char *sql, int64_t from_ms,
    int64_t to_ms, struct store_minute **rows, size_t *n, char **cause)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, cause, "preparing a rollup query");
	if (sqlite3_bind_parameter_count(s) >= 2) {
		sqlite3_bind_int64(s, 1, minute_floor(from_ms));
		sqlite3_bind_int64(s, 2, minute_ceil(to_ms));
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (minutes_push(s, rows, n, &cap) == -1) {
			set_cause(cause, "out of memory reading rollups");
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, cause, "reading rollups");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;

fail:
	sqlite3_finalize(s);
	store_minutes_free(*rows, *n);
	*rows = NULL;
	*n = 0;
	return -1;
}

int
store_minutes(struct store *st, int64_t from_ms, int64_t to_ms,
    int api_responses, struct store_minute **rows, size_t *n,
    char **cause)
{
	static const char errors_sql[] = "SELECT r.minute, c.value, r.status,"
	    " a.value, r.count FROM rollup_minute r"
	    " JOIN strings c ON c.id = r.code_id"
	    " LEFT JOIN strings a ON a.id = r.api_id"
	    " WHERE r.minute >= ?1 AND r.minute < ?2 ORDER BY r.minute";
	static const char responses_sql[] = "SELECT r.minute, NULL, 0,"
	    " a.value, r.count FROM responses_minute r"
	    " LEFT JOIN strings a ON a.id = r.api_id"
	    " WHERE r.minute >= ?1 AND r.minute < ?2 ORDER BY r.minute";

	return minutes_query(st, api_responses ? responses_sql : errors_sql,
	    from_ms, to_ms, rows, n, cause);
}

void
store_minutes_free(struct store_minute *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].code);
		free(rows[i].api);
	}
	free(rows);
}

/* Deletes one record and its RequestId index entry. */
static int
expire_one(struct store *st, sqlite3_stmt *del[3], int64_t id,
    const char *request_id, char **cause)
{
	int i, rc;

	sqlite3_bind_int64(del[0], 1, ridindex_hash(request_id));
	sqlite3_bind_int64(del[0], 2, id);
	sqlite3_bind_text(del[1], 1, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(del[1], 2, id);
	sqlite3_bind_int64(del[2], 1, id);
	for (i = 0; i < 3; i++) {
		rc = sqlite3_step(del[i]);
		sqlite3_reset(del[i]);
		if (rc != SQLITE_DONE)
			return db_fail(st, cause, "deleting an old record");
	}
	return 0;
}

/*
 * Walks each code's oldest records through the (code_id, time_ms) index,
 * so that finding them costs no scan of the table.
 */
static int
expire_batch(struct store *st, int64_t before_ms, int max,
    int64_t *deleted, char **cause)
{
	static const char *const sql[4] = {
		"SELECT r.id, r.request_id FROM strings c"
		" JOIN records r ON r.code_id = c.id"
		" WHERE c.kind = 1 AND r.time_ms < ?1 LIMIT ?2",
		"DELETE FROM rid_index WHERE h IN (SELECT (run << 40) | ?1"
		" FROM rid_runs) AND id = ?2",
		"DELETE FROM rid_overflow WHERE request_id = ?1 AND id = ?2",
		"DELETE FROM records WHERE id = ?1",
	};
	sqlite3_stmt *s[4] = { NULL, NULL, NULL, NULL };
	int i, rc = -1;

	for (i = 0; i < 4; i++) {
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s[i], NULL) !=
		    SQLITE_OK) {
			db_fail(st, cause, "preparing retention");
			goto out;
		}
	}
	sqlite3_bind_int64(s[0], 1, before_ms);
	sqlite3_bind_int(s[0], 2, max);
	while ((rc = sqlite3_step(s[0])) == SQLITE_ROW) {
		if (expire_one(st, s + 1, sqlite3_column_int64(s[0], 0),
		    (const char *)sqlite3_column_text(s[0], 1), cause) == -1)
			goto out;
		(*deleted)++;
	}
	if (rc != SQLITE_DONE) {
		rc = db_fail(st, cause, "finding old records");
		goto out;
	}
	rc = 0;

out:
	for (i = 0; i < 4; i++)
		sqlite3_finalize(s[i]);
	return rc;
}

int
store_expire(struct store *st, int64_t before_ms, int max,
    int64_t *deleted, char **cause)
{
	*deleted = 0;
	if (exec_sql(st, "BEGIN IMMEDIATE", cause) == -1)
		return -1;
	if (expire_batch(st, before_ms, max, deleted, cause) == -1 ||
	    add_counter(st, "records", -*deleted, cause) == -1) {
		exec_sql(st, "ROLLBACK", NULL);
		*deleted = 0;
		return -1;
	}
	return exec_sql(st, "COMMIT", cause);
}

/*
 * After retention cut code_minute: drops each code's code_minutes rows
 * older than its oldest minute left, and rewrites the hour that minute
 * is in, which the cut may have split.
 */
static int
trim_code_minutes(struct store *st, char **cause)
{
	static const char *const sql[2] = {
		"SELECT c.id, (SELECT min(minute) FROM code_minute m"
		" WHERE m.code_id = c.id) FROM strings c WHERE c.kind = 1",
		"DELETE FROM code_minutes WHERE code_id = ?1 AND hour < ?2",
	};
	sqlite3_stmt *s[2] = { NULL, NULL };
	int64_t code, hour;
	int i, rc = SQLITE_OK, ret = -1;

	for (i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s[i], NULL) !=
		    SQLITE_OK)
			goto out;
	}
	while ((rc = sqlite3_step(s[0])) == SQLITE_ROW) {
		code = sqlite3_column_int64(s[0], 0);
		/* No minute left: every row of the code goes. */
		hour = sqlite3_column_type(s[0], 1) == SQLITE_NULL ? INT64_MAX :
		    hour_of_minute(sqlite3_column_int64(s[0], 1));
		sqlite3_bind_int64(s[1], 1, code);
		sqlite3_bind_int64(s[1], 2, hour);
		rc = sqlite3_step(s[1]);
		sqlite3_reset(s[1]);
		if (rc != SQLITE_DONE || (hour != INT64_MAX &&
		    code_minutes_write(&st->stmt[ST_CM_SELECT], code, hour) ==
		    -1))
			goto out;
	}
	if (rc == SQLITE_DONE)
		ret = 0;

out:
	if (ret == -1)
		db_fail(st, cause, "trimming code_minutes");
	for (i = 0; i < 2; i++)
		sqlite3_finalize(s[i]);
	return ret;
}

static int
expire_rollups(struct store *st, int64_t before_ms, int64_t *deleted,
    char **cause)
{
	/*
	 * An hour goes once all its minutes are older than the cut.  The
	 * per-code tables go first, bounded by what the wide ones still
	 * hold, and are walked code by code.
	 */
	static const char *const sql[6] = {
		"DELETE FROM code_minute WHERE code_id IN (SELECT id FROM"
		" strings WHERE kind = 1) AND minute < min(?1,"
		" (SELECT min(minute) FROM rollup_minute) + 60)",
		"DELETE FROM code_hour WHERE code_id IN (SELECT id FROM"
		" strings WHERE kind = 1) AND hour < min(?1 / 60,"
		" (SELECT min(hour) FROM rollup_hour) + 1)",
		"DELETE FROM rollup_minute WHERE minute < min(?1,"
		" (SELECT min(minute) FROM rollup_minute) + 60)",
		"DELETE FROM responses_minute WHERE minute < min(?1,"
		" (SELECT min(minute) FROM responses_minute) + 60)",
		"DELETE FROM rollup_hour WHERE hour < min(?1 / 60,"
		" (SELECT min(hour) FROM rollup_hour) + 1)",
		"DELETE FROM responses_hour WHERE hour < min(?1 / 60,"
		" (SELECT min(hour) FROM responses_hour) + 1)",
	};
	sqlite3_stmt *s;
	int i, rc;

	*deleted = 0;
	for (i = 0; i < 6; i++) {
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) !=
		    SQLITE_OK)
			return db_fail(st, cause, "preparing rollup retention");
		sqlite3_bind_int64(s, 1, minute_floor(before_ms));
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return db_fail(st, cause, "deleting old rollups");
		*deleted += sqlite3_changes(st->db);
	}
	return trim_code_minutes(st, cause);
}

/*
 * One transaction, taken up front: the trim reads before it writes, and
 * a read snapshot that another writer has moved past cannot become a
 * write (SQLITE_BUSY at once, whatever the busy timeout).
 */
int
store_expire_rollups(struct store *st, int64_t before_ms, int64_t *deleted,
    char **cause)
{
	*deleted = 0;
	if (exec_sql(st, "BEGIN IMMEDIATE", cause) == -1)
		return -1;
	if (expire_rollups(st, before_ms, deleted, cause) == -1) {
		exec_sql(st, "ROLLBACK", NULL);
		*deleted = 0;
		return -1;
	}
	return exec_sql(st, "COMMIT", cause);
}

int
store_counts(struct store *st, int responses, struct store_minute **rows,
    size_t *n, char **cause)
{
	static const char errors_sql[] = "SELECT 0, c.value, t.status,"
	    " a.value, t.count FROM totals t"
	    " JOIN strings c ON c.id = t.code_id"
	    " LEFT JOIN strings a ON a.id = t.api_id"
	    " ORDER BY c.value, t.status, a.value";
	static const char responses_sql[] = "SELECT 0, NULL, 0, a.value,"
	    " t.count FROM totals_responses t"
	    " LEFT JOIN strings a ON a.id = t.api_id ORDER BY a.value";

	return minutes_query(st, responses ? responses_sql : errors_sql, 0, 0,
	    rows, n, cause);
}

/* Both rollup tables lead their primary key with minute: two probes. */
int
store_first_minute(struct store *st, int64_t *minute, char **cause)
{
	int64_t errors, responses;

	if (query_int(st, "SELECT coalesce(min(minute), 9223372036854775807)"
	    " FROM rollup_minute", &errors, cause) == -1 ||
	    query_int(st, "SELECT coalesce(min(minute), 9223372036854775807)"
	    " FROM responses_minute", &responses, cause) == -1)
		return -1;
	*minute = errors < responses ? errors : responses;
	return 0;
}

/*
 * Fault handling, kept together at the end of the file.  Neither function
 * changes what the store does; they let the writer tell a full disk from
 * other failures, and let a reader's owner bound how long a query runs.
 */

/* Free bytes below which the database's file system counts as full. */
#define STORE_FULL_MARGIN	(1 << 20)
/* Virtual machine steps between two calls of a query's deadline check. */
#define STORE_WATCH_STEPS	10000

int
store_disk_full(struct store *st)
{
	const char *path = sqlite3_db_filename(st->db, "main");
	struct statvfs sv;

	/*
	 * The failed statement's SQLITE_FULL is gone by now when the batch
	 * was rolled back (ROLLBACK resets the error code), so the free
	 * space is asked as well: a write that ran out of room leaves the
	 * WAL grown into whatever was left.
	 */
	if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_FULL)
		return 1;
	if (path == NULL || path[0] == '\0' || statvfs(path, &sv) == -1)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize < STORE_FULL_MARGIN;
}

void
store_watch(struct store *st, int (*expired)(void *), void *arg)
{
	sqlite3_progress_handler(st->db, expired != NULL ?
	    STORE_WATCH_STEPS : 0, expired, arg);
}
