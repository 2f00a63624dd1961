/*
 * ridindex.c - RequestId dedupe and lookup for the store.
 *
 * Every record with a RequestId is indexed in rid_index under a 64-bit
 * hash of the id (the table's rowid), which is what makes ingest fast with
 * random UUIDs: integer keys, inserted at commit in sorted order, many per
 * statement.  An id whose hash another id already holds goes to
 * rid_overflow, keyed by its text; with 64-bit hashes that happens about
 * once in 10^11 pairs, but it must not lose a record when it does.
 *
 * Dedupe asks a Bloom filter first.  It holds every hash in the table and
 * in the current batch, so the common case (a new id) costs no SQLite
 * call at all; a "maybe" is settled against the table.  The filter is
 * built on the first check from the table's keys and rebuilt four times
 * larger when it fills.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "hash.h"
#include "ridindex.h"

/* Entries per INSERT statement when flushing a batch. */
#define FLUSH_ROWS 64

enum ri_stmt {
	RI_PROBE, RI_OVERFLOW_GET, RI_OVERFLOW_ADD, RI_FLUSH,
	RI_FLUSH_ONE, RI_KEYS, RI_SINCE, RI_COUNT
};

struct pending {
	int64_t h;
	int64_t id;			/* 0 when the slot is free */
	size_t text;			/* the id's text, at ridindex.text + text */
};

struct ridindex {
	sqlite3 *db;
	sqlite3_stmt *stmt[RI_COUNT];
	struct bloom *bloom;		/* NULL until the first check */
	struct pending *slots;		/* this batch, open addressing */
	size_t cap, used;
	/*
	 * The batch's RequestIds, NUL-separated: a check inside the batch
	 * compares against these, since the batch's records may not have
	 * reached the table yet.
	 */
	char *text;
	size_t text_len, text_cap;
};

static int
db_fail(struct ridindex *ri, char **cause, const char *what)
{
	if (cause != NULL && asprintf(cause, "%s: %s", what,
	    sqlite3_errmsg(ri->db)) == -1)
		*cause = NULL;
	return -1;
}

int64_t
ridindex_hash(const char *request_id)
{
	return (int64_t)hash_bytes(request_id, strlen(request_id), 0);
}

static char *
flush_sql(void)
{
	static const char head[] = "INSERT INTO rid_index (h, id) VALUES ";
	char *sql = malloc(sizeof head + FLUSH_ROWS * 8);
	size_t off = sizeof head - 1;
	int i;

	if (sql == NULL)
		return NULL;
	memcpy(sql, head, off);
	for (i = 0; i < FLUSH_ROWS; i++)
		off += (size_t)sprintf(sql + off, i ? ",(?,?)" : "(?,?)");
	return sql;
}

static int
prepare_all(struct ridindex *ri, char **cause)
{
	const char *sql[RI_COUNT] = {
		[RI_PROBE] = "SELECT r.request_id FROM rid_index x"
		    " JOIN records r ON r.id = x.id WHERE x.h = ?1",
		[RI_OVERFLOW_GET] = "SELECT 1 FROM rid_overflow"
		    " WHERE request_id = ?1",
		[RI_OVERFLOW_ADD] = "INSERT INTO rid_overflow (request_id, id)"
		    " VALUES (?1, ?2)",
		[RI_FLUSH_ONE] = "INSERT INTO rid_index (h, id) VALUES (?1, ?2)",
		[RI_KEYS] = "SELECT h FROM rid_index",
		[RI_SINCE] = "SELECT request_id FROM records WHERE id >= ?1"
		    " AND request_id != ''",
	};
	char *flush = flush_sql();
	int i, rc = 0;

	sql[RI_FLUSH] = flush;
	for (i = 0; i < RI_COUNT && rc == 0; i++) {
		if (sql[i] == NULL || sqlite3_prepare_v3(ri->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &ri->stmt[i], NULL) != SQLITE_OK)
			rc = db_fail(ri, cause, "preparing request id index");
	}
	free(flush);
	return rc;
}

int
ridindex_open(sqlite3 *db, struct ridindex **out, char **cause)
{
	struct ridindex *ri;

	*out = NULL;
	if ((ri = calloc(1, sizeof *ri)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory");
		return -1;
	}
	ri->db = db;
	if (prepare_all(ri, cause) == -1) {
		ridindex_close(ri);
		return -1;
	}
	*out = ri;
	return 0;
}

void
ridindex_close(struct ridindex *ri)
{
	int i;

	if (ri == NULL)
		return;
	for (i = 0; i < RI_COUNT; i++)
		sqlite3_finalize(ri->stmt[i]);
	bloom_free(ri->bloom);
	free(ri->slots);
	free(ri->text);
	free(ri);
}

/* Builds a filter for at least want keys from the table and the batch. */
static int
bloom_build(struct ridindex *ri, size_t want, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_KEYS];
	struct bloom *b;
	size_t i;
	int rc;

	if ((b = bloom_new(want < (1 << 20) ? 1 << 20 : want)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory for the bloom filter");
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		bloom_add(b, (uint64_t)sqlite3_column_int64(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		bloom_free(b);
		return db_fail(ri, cause, "reading request id hashes");
	}
	for (i = 0; i < ri->cap; i++) {
		if (ri->slots[i].id != 0)
			bloom_add(b, (uint64_t)ri->slots[i].h);
	}
	bloom_free(ri->bloom);
	ri->bloom = b;
	return 0;
}

/*
 * Looks for h in the batch: 1 when an entry holds request_id, else 0 and
 * *taken set when another id holds h.
 */
static int
check_batch(struct ridindex *ri, int64_t h, const char *request_id,
    int *taken)
{
	size_t j;

	if (ri->cap == 0)
		return 0;
	j = (uint64_t)h & (ri->cap - 1);
	for (; ri->slots[j].id != 0; j = (j + 1) & (ri->cap - 1)) {
		if (ri->slots[j].h != h)
			continue;
		if (strcmp(ri->text + ri->slots[j].text, request_id) == 0)
			return 1;
		*taken = 1;
	}
	return 0;
}

/* Looks for h in the table; same returns as check_batch. */
static int
check_table(struct ridindex *ri, int64_t h, const char *request_id,
    int *taken, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_PROBE];
	int rc, found = 0;

	sqlite3_bind_int64(s, 1, h);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = strcmp((const char *)sqlite3_column_text(s, 0),
		    request_id) == 0;
		*taken = !found;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ri, cause, "probing request id");
	return found;
}

static int
check_overflow(struct ridindex *ri, const char *request_id, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_OVERFLOW_GET];
	int rc;

	sqlite3_bind_text(s, 1, request_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ri, cause, "probing request id overflow");
	return rc == SQLITE_ROW;
}

int
ridindex_check(struct ridindex *ri, const char *request_id, int64_t *h,
    int *overflow, char **cause)
{
	int rc;

	*h = ridindex_hash(request_id);
	*overflow = 0;
	if (ri->bloom == NULL && bloom_build(ri, 0, cause) == -1)
		return -1;
	if (!bloom_maybe(ri->bloom, (uint64_t)*h))
		return 0;

	if ((rc = check_batch(ri, *h, request_id, overflow)) != 0 ||
	    (rc = check_table(ri, *h, request_id, overflow, cause)) != 0)
		return rc;
	/* Only an id whose hash is taken can be in the overflow table. */
	return *overflow ? check_overflow(ri, request_id, cause) : 0;
}

static int
batch_grow(struct ridindex *ri)
{
	size_t cap = ri->cap ? ri->cap * 2 : 4096, i, j;
	struct pending *slots;

	if ((slots = calloc(cap, sizeof *slots)) == NULL)
		return -1;
	for (i = 0; i < ri->cap; i++) {
		if (ri->slots[i].id == 0)
			continue;
		j = (uint64_t)ri->slots[i].h & (cap - 1);
		while (slots[j].id != 0)
			j = (j + 1) & (cap - 1);
		slots[j] = ri->slots[i];
	}
	free(ri->slots);
	ri->slots = slots;
	ri->cap = cap;
	return 0;
}

/* Copies request_id to the batch's text; returns its offset, or -1. */
static int64_t
text_add(struct ridindex *ri, const char *request_id)
{
	size_t len = strlen(request_id) + 1, cap = ri->text_cap;
	char *grown;
	int64_t off;

	while (ri->text_len + len > cap)
		cap = cap ? cap * 2 : 1 << 20;
	if (cap != ri->text_cap) {
		if ((grown = realloc(ri->text, cap)) == NULL)
			return -1;
		ri->text = grown;
		ri->text_cap = cap;
	}
	memcpy(ri->text + ri->text_len, request_id, len);
	off = (int64_t)ri->text_len;
	ri->text_len += len;
	return off;
}

static int
add_overflow(struct ridindex *ri, const char *request_id, int64_t id,
    char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_OVERFLOW_ADD];
	int rc;

	sqlite3_bind_text(s, 1, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(ri, cause, "adding to request id overflow");
	return 0;
}

int
ridindex_add(struct ridindex *ri, const char *request_id, int64_t h,
    int overflow, int64_t id, char **cause)
{
	int64_t text;
	size_t j;

	if (overflow)
		return add_overflow(ri, request_id, id, cause);
	if (bloom_count(ri->bloom) >= bloom_capacity(ri->bloom) &&
	    bloom_build(ri, bloom_capacity(ri->bloom) * 4, cause) == -1)
		return -1;
	if (ri->used * 2 >= ri->cap && batch_grow(ri) == -1)
		goto nomem;
	if ((text = text_add(ri, request_id)) == -1)
		goto nomem;

	j = (uint64_t)h & (ri->cap - 1);
	while (ri->slots[j].id != 0)
		j = (j + 1) & (ri->cap - 1);
	ri->slots[j].h = h;
	ri->slots[j].id = id;
	ri->slots[j].text = (size_t)text;
	ri->used++;
	bloom_add(ri->bloom, (uint64_t)h);
	return 0;

nomem:
	if (cause != NULL)
		*cause = strdup("out of memory indexing request ids");
	return -1;
}

static int
pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	return (x->h > y->h) - (x->h < y->h);
}

/* Inserts entries [0, n) with statement s of rows (h, id) pairs. */
static int
insert_rows(struct ridindex *ri, sqlite3_stmt *s, const struct pending *p,
    int rows, char **cause)
{
	int i, rc;

	for (i = 0; i < rows; i++) {
		sqlite3_bind_int64(s, 2 * i + 1, p[i].h);
		sqlite3_bind_int64(s, 2 * i + 2, p[i].id);
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(ri, cause, "indexing request ids");
	return 0;
}

int
ridindex_flush(struct ridindex *ri, char **cause)
{
	size_t i, n = 0;
	int rc = 0;

	/* Pack the batch to the front; the table is rebuilt empty after. */
	for (i = 0; i < ri->cap; i++) {
		if (ri->slots[i].id != 0)
			ri->slots[n++] = ri->slots[i];
	}
	/* A batch of rejects or responses only has no slots at all. */
	if (n > 1)
		qsort(ri->slots, n, sizeof *ri->slots, pending_cmp);

	for (i = 0; rc == 0 && i + FLUSH_ROWS <= n; i += FLUSH_ROWS)
		rc = insert_rows(ri, ri->stmt[RI_FLUSH], ri->slots + i,
		    FLUSH_ROWS, cause);
	for (; rc == 0 && i < n; i++)
		rc = insert_rows(ri, ri->stmt[RI_FLUSH_ONE], ri->slots + i,
		    1, cause);
	ridindex_reset(ri);
	return rc;
}

int
ridindex_catch_up(struct ridindex *ri, int64_t from_id, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_SINCE];
	const char *rid;
	int rc;

	/* A filter not built yet will be built from the table anyway. */
	if (ri->bloom == NULL)
		return 0;
	sqlite3_bind_int64(s, 1, from_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rid = (const char *)sqlite3_column_text(s, 0);
		bloom_add(ri->bloom, (uint64_t)ridindex_hash(rid));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(ri, cause, "reading records of another writer");
	return 0;
}

void
ridindex_reset(struct ridindex *ri)
{
	if (ri->slots != NULL)
		memset(ri->slots, 0, ri->cap * sizeof *ri->slots);
	ri->used = 0;
	ri->text_len = 0;
}
