/*
 * store.h - where error records live, and the questions asked of them.
 *
 * The interface speaks of records and queries only; nothing here names the
 * storage engine, so that another backend can stand behind it.  One writer
 * handle adds records inside explicit batches; any number of reader handles
 * answer queries, each used by one thread at a time.
 *
 * Every function that can fail returns -1 and, when cause is not NULL,
 * sets *cause to a malloc'd sentence saying why (the caller frees it).
 */
#ifndef KMSWATCH_STORE_H
#define KMSWATCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct store;

enum store_mode {
	STORE_READ,		/* queries only */
	STORE_WRITE,		/* queries and writes; applies migrations */
};

/* Record flags, stored with each record. */
#define STORE_FLAG_KNOWN		0x1	/* the code is in the catalog */
#define STORE_FLAG_BODY_STATUS		0x2	/* body StatusCode disagreed */
#define STORE_FLAG_CATALOG_STATUS	0x4	/* status differs from catalog */

/* What the writer is given for one record. */
struct store_in {
	const struct record *rec;	/* time_ms must be known */
	const char *source;		/* where it came from: a path, "-" */
	const char *category;		/* catalog category, or "unknown" */
	int flags;			/* STORE_FLAG_* */
};

/* One stored record as a query returns it; strings owned by the row. */
struct store_row {
	int64_t id;
	int64_t time_ms;
	int status;
	int body_status;		/* 0 unless STORE_FLAG_BODY_STATUS */
	int flags;
	char *code;
	char *message;
	char *request_id;
	char *api;			/* NULL when unknown */
	char *source;
	char *category;
	uint64_t offset;		/* byte offset in source */
};

/* Opens (creating when writing) the database at path. */
int store_open(const char *path, enum store_mode mode, struct store **out,
    char **cause);
void store_close(struct store *st);

/* The schema version the database is at after open. */
int store_schema_version(struct store *st);

/*
 * Tests only: makes the writer's RequestId index cut and merge its runs
 * after a few entries (open_max), in groups of fanin, moving merge_budget
 * entries per commit (0: the built-in rate), so that its merges can be
 * exercised without a million records.
 */
void store_tune_index(struct store *st, int64_t open_max, int fanin,
    int64_t merge_budget);

/*
 * Writing.  Records, rejects and response counts added between begin and
 * commit become visible together, with the rollups they update; a crash
 * before commit leaves none of them.
 */
int store_begin(struct store *st, char **cause);
int store_commit(struct store *st, char **cause);
void store_rollback(struct store *st);

/* Returns 0 when stored, 1 when its RequestId was already stored, -1. */
int store_add(struct store *st, const struct store_in *in, char **cause);
int store_add_reject(struct store *st, const char *source,
    const struct reject *rej, char **cause);
/*
 * How far an input has been read.  The head identifies the input: a hash
 * of its first head_len bytes (and device and inode for a file), so that a
 * file replaced under the same name is not mistaken for the old one.
 */
struct store_input {
	uint64_t dev, ino;
	int64_t head_len;
	int64_t head_hash;
	int64_t done;			/* bytes read and stored */
};

/* Returns 0 and fills *in, 1 when source has no position, -1. */
int store_input_get(struct store *st, const char *source,
    struct store_input *in, char **cause);

/* Records source's position, in the current batch's transaction. */
int store_input_put(struct store *st, const char *source,
    const struct store_input *in, char **cause);

/* Counts one successful response to api (NULL when unknown) at time_ms. */
int store_add_response(struct store *st, int64_t time_ms, const char *api,
    char **cause);

/*
 * Reading.  Rows and results are malloc'd; free them with the matching
 * free function.
 */

/* Returns 0 and fills *row, 1 when no record has this RequestId, -1. */
int store_lookup(struct store *st, const char *request_id,
    struct store_row *row, char **cause);
void store_row_clear(struct store_row *row);

/*
 * A filtered, newest-first listing.  NULL / 0 fields do not filter.  With
 * a code, "newest" is by time and a page goes on after (cursor_time,
 * cursor): the time and id of the last row of the page before; without,
 * it is by arrival and cursor alone says where.
 */
struct store_errors_query {
	const char *code;
	const char *api;
	int status;
	int64_t from_ms, to_ms;		/* [from, to) */
	int64_t cursor;			/* 0 to start; else a next_cursor */
	int64_t cursor_time;		/* with code: the last row's time */
	int limit;
};
int store_errors(struct store *st, const struct store_errors_query *q,
    struct store_row **rows, size_t *n, int64_t *next_cursor, char **cause);
void store_rows_free(struct store_row *rows, size_t n);

enum store_group_by {
	STORE_BY_CODE,
	STORE_BY_STATUS,
	STORE_BY_API,
	STORE_BY_CATEGORY,
};

struct store_group {
	char *key;			/* status as decimal; "" for no api */
	int64_t count;
	int64_t responses;		/* by API: 2xx responses seen */
};

/*
 * Counts in [from, to) by key, largest first, read from the per-minute
 * rollups: from is rounded down and to up to whole minutes.  code, when
 * not NULL, counts only that code.
 */
int store_stats(struct store *st, int64_t from_ms, int64_t to_ms,
    enum store_group_by by, const char *code, struct store_group **groups,
    size_t *n, int64_t *total, char **cause);
void store_groups_free(struct store_group *groups, size_t n);

/* One non-empty bucket of a time series. */
struct store_point {
	char *code;
	int64_t bucket_ms;		/* start of the bucket */
	int64_t count;
};

/*
 * Counts per code per bucket of step_ms (a multiple of a minute) in
 * [from, to), ordered by code then bucket; empty buckets are left out.
 * code NULL means every code.  Consecutive points of one code share one
 * code string: free them only with store_points_free().
 */
int store_timeseries(struct store *st, int64_t from_ms, int64_t to_ms,
    int64_t step_ms, const char *code, struct store_point **points,
    size_t *n, char **cause);
void store_points_free(struct store_point *points, size_t n);

/* One row of the per-minute rollup. */
struct store_minute {
	int64_t minute;			/* minutes since the epoch */
	char *code;
	int status;
	char *api;			/* NULL when unknown */
	int64_t count;
};

/*
 * The rollup rows of the minutes in [from, to) (rounded out to whole
 * minutes), ordered by minute.  With api_responses set, the rows are the
 * 2xx responses seen instead: code is NULL and status 0.
 */
int store_minutes(struct store *st, int64_t from_ms, int64_t to_ms,
    int api_responses, struct store_minute **rows, size_t *n,
    char **cause);
void store_minutes_free(struct store_minute *rows, size_t n);

/*
 * Retention, in its own transaction each call, so that ingestion waits for
 * at most one small batch.  store_expire deletes up to max records older
 * than before_ms (with their RequestId index entries) and sets *deleted;
 * store_expire_rollups deletes rollup minutes older than before_ms, at
 * most an hour of them per call.
 */
int store_expire(struct store *st, int64_t before_ms, int max,
    int64_t *deleted, char **cause);
int store_expire_rollups(struct store *st, int64_t before_ms,
    int64_t *deleted, char **cause);

/*
 * The running totals since the database began: errors per code, status
 * and API (responses 0), or 2xx responses per API (responses 1: code is
 * NULL and status 0).  minute is 0 in every row.
 */
int store_counts(struct store *st, int responses, struct store_minute **rows,
    size_t *n, char **cause);

/*
 * The first minute of stored data, errors or responses, or INT64_MAX when
 * there is none: the alert engine treats minutes before it as unknown.
 */
int store_first_minute(struct store *st, int64_t *minute, char **cause);

/* Totals for health and summaries. */
struct store_totals {
	int64_t records;
	int64_t rejects;
	int64_t responses;
	int64_t newest_ms;		/* time of the newest record, or 0 */
};
int store_totals(struct store *st, struct store_totals *t, char **cause);

/*
 * 1 when the last write most likely failed for want of disk space: its
 * result was SQLITE_FULL, or the file system holding the database has
 * less than a MiB free.  Ask right after a failed write; the answer says
 * nothing about other failures.  Writer handle, writer's thread.
 */
int store_disk_full(struct store *st);

/*
 * Calls expired(arg) every few thousand steps of each query on st; when
 * it returns nonzero the query stops and its function fails (-1, cause
 * "interrupted").  expired NULL removes the check.  Reader handles; the
 * thread using st calls it.
 */
void store_watch(struct store *st, int (*expired)(void *), void *arg);

#endif
