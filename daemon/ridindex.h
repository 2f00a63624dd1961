/*
 * ridindex.h - the RequestId index behind the store: dedupe on write and
 * the id -> record map.  Internal to the store (it takes the store's
 * SQLite handle); nothing outside daemon/store.c should include it.
 */
#ifndef KMSWATCH_RIDINDEX_H
#define KMSWATCH_RIDINDEX_H

#include <stdint.h>

#include <sqlite3.h>

struct ridindex;

/* The hash a RequestId is indexed under. */
int64_t ridindex_hash(const char *request_id);

/*
 * Prepares the index's statements on db, which must hold the schema.
 * Returns 0, or -1 with *cause set (malloc'd).
 */
int ridindex_open(sqlite3 *db, struct ridindex **out, char **cause);
void ridindex_close(struct ridindex *ri);

/*
 * Sets the size below which the newest run takes more entries, the number
 * of runs merged at once (2 to the built-in fan-in) and, when not 0, the
 * entries of merge work each commit does, so that tests can make merges
 * happen, and span commits, with a few records.
 */
void ridindex_tune(struct ridindex *ri, int64_t open_max, int fanin,
    int64_t merge_budget);

/*
 * Whether request_id is stored, committed or earlier in this batch.
 * Returns 1 if so, 0 if not, -1 with *cause.  On 0, *h is its hash and
 * *overflow says that another id holds that hash, so ridindex_add must
 * put it aside.
 */
int ridindex_check(struct ridindex *ri, const char *request_id, int64_t *h,
    int *overflow, char **cause);

/* Indexes record id under request_id, after a check that returned 0. */
int ridindex_add(struct ridindex *ri, const char *request_id, int64_t h,
    int overflow, int64_t id, char **cause);

/* Writes this batch's entries; call inside the batch's transaction. */
int ridindex_flush(struct ridindex *ri, char **cause);

/*
 * Another process stored records from id from_id on (the writer found
 * more ids than its own commits made): adds their RequestIds to the
 * filter, so that dedupe does not trust a filter that misses them.
 */
int ridindex_catch_up(struct ridindex *ri, int64_t from_id, char **cause);

/* Forgets this batch's entries (after a rollback). */
void ridindex_reset(struct ridindex *ri);

#endif
