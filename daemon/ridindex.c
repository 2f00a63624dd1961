/*
 * ridindex.c - RequestId dedupe and lookup for the store.
 *
 * Every record with a RequestId is indexed in rid_index under a 40-bit
 * hash of the id.  Random UUIDs make any B-tree keyed by them take inserts
 * all over the tree, which is cheap while the tree fits the page cache and
 * ruinous once it does not: each commit would rewrite most of its leaves.
 * So the index is a set of sorted runs (schema/005_rid_runs.sql).  The key
 * is (run << 40) | h; a new run numbers above every other, so writing it
 * appends to the tree, and a lookup probes each run, which is one rowid
 * search per run.  Runs are merged level by level (RI_FANIN runs of one
 * level make one of the next, up to RI_TOP_LEVEL) to keep their number to
 * a few dozen; an entry is rewritten once per level, not once per commit.
 *
 * An id whose 40-bit hash another id already holds, in any run, goes to
 * rid_overflow, keyed by its text.  At 10 million ids there are a few
 * dozen of those; they must not lose a record.
 *
 * Dedupe asks a Bloom filter first.  It holds every hash in the table and
 * in the current batch, so the common case (a new id) costs no SQLite
 * call at all; a "maybe" is settled against the table.  The filter is
 * built on the first check from the table's keys, sized for half as many
 * again, and rebuilt twice as large when it fills.  Its ten bits an id are
 * the writer's one cost that grows with the database: 19 MiB at 10
 * million ids, 160 MiB at 100 million (a filter per run level, dropped
 * for the oldest levels, would bound it; not built).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "hash.h"
#include "ridindex.h"

/* Entries per INSERT statement when flushing a batch. */
#define FLUSH_ROWS 64

/* The bits of a RequestId's hash a key holds, under its run number. */
#define RI_HASH_BITS	40
#define RI_HASH_MASK	((INT64_C(1) << RI_HASH_BITS) - 1)
#define RI_RUN_MAX	((INT64_C(1) << (63 - RI_HASH_BITS)) - 1)

/*
 * The newest run takes later batches too while it is a level-0 run of
 * fewer entries than this: a small run stays in the page cache, so its
 * inserts are cheap wherever they land, and a daemon committing a few
 * records twice a second does not make a run of each commit.
 */
#define RI_OPEN_MAX	65536

/*
 * Runs of one level merged into one of the next, and the last level.  A
 * level-3 run holds about 25 million entries (8^3 batches), so at 100
 * million ids a lookup probes about 20 runs instead of the 44 that level
 * 2 as the last left there; each entry is written four times in all.
 */
#define RI_FANIN	8
#define RI_TOP_LEVEL	3

/* Entries of merge work done per entry a commit writes. */
#define RI_MERGE_RATE	4

/* Entries a merge reads from each run at a time. */
#define RI_MERGE_CHUNK	1024

enum ri_stmt {
	RI_PROBE, RI_OVERFLOW_GET, RI_OVERFLOW_ADD, RI_FLUSH,
	RI_FLUSH_ONE, RI_KEYS, RI_SINCE, RI_TOP, RI_RUN_ADD, RI_RUN_GROW,
	RI_LEVEL, RI_RUN_READ, RI_RUN_CUT, RI_RUN_DROP, RI_SIZE, RI_MERGING,
	RI_SOURCES, RI_MARK_SOURCE, RI_PROGRESS, RI_FINISH, RI_COUNT
};

struct pending {
	int64_t h;
	int64_t id;			/* 0 when the slot is free */
	size_t text;			/* the id's text, at ridindex.text + text */
};

struct ridindex {
	sqlite3 *db;
	int64_t open_max;		/* RI_OPEN_MAX but in tests */
	int fanin;			/* RI_FANIN but in tests */
	int64_t merge_budget;		/* 0, or fixed merge work in tests */
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
	return (int64_t)hash_bytes(request_id, strlen(request_id), 0) &
	    RI_HASH_MASK;
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
		/* CROSS JOIN: walk the few runs, search the index by key. */
		[RI_PROBE] = "SELECT r.request_id FROM rid_runs u"
		    " CROSS JOIN rid_index x ON x.h = (u.run << 40) | ?1"
		    " JOIN records r ON r.id = x.id",
		[RI_OVERFLOW_GET] = "SELECT 1 FROM rid_overflow"
		    " WHERE request_id = ?1",
		[RI_OVERFLOW_ADD] = "INSERT INTO rid_overflow (request_id, id)"
		    " VALUES (?1, ?2)",
		[RI_FLUSH_ONE] = "INSERT INTO rid_index (h, id) VALUES (?1, ?2)",
		[RI_KEYS] = "SELECT h & 1099511627775 FROM rid_index",
		[RI_SINCE] = "SELECT request_id FROM records WHERE id >= ?1"
		    " AND request_id != ''",
		[RI_TOP] = "SELECT run, level, entries FROM rid_runs"
		    " ORDER BY run DESC LIMIT 1",
		[RI_RUN_ADD] = "INSERT INTO rid_runs (run, level, entries)"
		    " VALUES (?1, ?2, ?3)",
		[RI_RUN_GROW] = "UPDATE rid_runs SET entries = entries + ?2"
		    " WHERE run = ?1",
		[RI_LEVEL] = "SELECT run, entries FROM rid_runs WHERE level = ?1"
		    " AND into_run = 0 AND progress IS NULL"
		    " ORDER BY run LIMIT ?2",
		[RI_RUN_READ] = "SELECT h, id FROM rid_index"
		    " WHERE h > ?1 AND h <= ?2 ORDER BY h LIMIT ?3",
		[RI_RUN_CUT] = "DELETE FROM rid_index"
		    " WHERE h >= ?1 AND h <= ?2",
		[RI_RUN_DROP] = "DELETE FROM rid_runs WHERE run = ?1",
		[RI_MERGING] = "SELECT run, progress FROM rid_runs"
		    " WHERE progress IS NOT NULL LIMIT 1",
		[RI_SOURCES] = "SELECT run, entries FROM rid_runs"
		    " WHERE into_run = ?1 ORDER BY run LIMIT ?2",
		[RI_MARK_SOURCE] = "UPDATE rid_runs SET into_run = ?2"
		    " WHERE run = ?1",
		[RI_PROGRESS] = "UPDATE rid_runs SET progress = ?2,"
		    " entries = entries + ?3 WHERE run = ?1",
		[RI_FINISH] = "UPDATE rid_runs SET progress = NULL,"
		    " entries = entries + ?2 WHERE run = ?1",
		[RI_SIZE] = "SELECT coalesce(sum(entries), 0) FROM rid_runs",
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
	ri->open_max = RI_OPEN_MAX;
	ri->fanin = RI_FANIN;
	if (prepare_all(ri, cause) == -1) {
		ridindex_close(ri);
		return -1;
	}
	*out = ri;
	return 0;
}

void
ridindex_tune(struct ridindex *ri, int64_t open_max, int fanin,
    int64_t merge_budget)
{
	ri->open_max = open_max;
	ri->merge_budget = merge_budget;
	ri->fanin = fanin < 2 ? 2 : fanin > RI_FANIN ? RI_FANIN : fanin;
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

/*
 * Builds a filter for at least want keys, or for what the table holds
 * plus room to grow when want is 0, from the table and the batch.
 */
/* Entries the runs were written with, and half as many again. */
static int
table_size(struct ridindex *ri, size_t *want, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_SIZE];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*want = (size_t)sqlite3_column_int64(s, 0) * 3 / 2;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return db_fail(ri, cause, "counting request ids");
	return 0;
}

static int
bloom_build(struct ridindex *ri, size_t want, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_KEYS];
	struct bloom *b;
	size_t i;
	int rc;

	if (want == 0 && table_size(ri, &want, cause) == -1)
		return -1;
	/* Not needed while the table is read: the peak is the new size. */
	bloom_free(ri->bloom);
	ri->bloom = NULL;
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
	size_t j, grow = 0;
	int64_t text;

	if (overflow)
		return add_overflow(ri, request_id, id, cause);
	/* NULL after a rebuild that failed: build it again. */
	if (ri->bloom != NULL &&
	    bloom_count(ri->bloom) >= bloom_capacity(ri->bloom))
		grow = bloom_capacity(ri->bloom) * 2;
	if ((ri->bloom == NULL || grow != 0) &&
	    bloom_build(ri, grow, cause) == -1)
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

/* Inserts rows entries of p into run with s, a statement of that many. */
static int
insert_rows(struct ridindex *ri, sqlite3_stmt *s, int64_t run,
    const struct pending *p, int rows, char **cause)
{
	int i, rc;

	for (i = 0; i < rows; i++) {
		sqlite3_bind_int64(s, 2 * i + 1, run << RI_HASH_BITS | p[i].h);
		sqlite3_bind_int64(s, 2 * i + 2, p[i].id);
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(ri, cause, "indexing request ids");
	return 0;
}

/* Inserts n sorted entries into run, FLUSH_ROWS per statement. */
static int
insert_sorted(struct ridindex *ri, int64_t run, const struct pending *p,
    size_t n, char **cause)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i + FLUSH_ROWS <= n; i += FLUSH_ROWS)
		rc = insert_rows(ri, ri->stmt[RI_FLUSH], run, p + i,
		    FLUSH_ROWS, cause);
	for (; rc == 0 && i < n; i++)
		rc = insert_rows(ri, ri->stmt[RI_FLUSH_ONE], run, p + i, 1,
		    cause);
	return rc;
}

/* Steps s, which changes rows, and resets it. */
static int
step_done(struct ridindex *ri, sqlite3_stmt *s, const char *what,
    char **cause)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_fail(ri, cause, what);
}

static int
run_add(struct ridindex *ri, int64_t run, int level, int64_t entries,
    char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_RUN_ADD];

	if (run > RI_RUN_MAX) {
		if (cause != NULL)
			*cause = strdup("the request id index has used every "
			    "run number");
		return -1;
	}
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_int(s, 2, level);
	sqlite3_bind_int64(s, 3, entries);
	return step_done(ri, s, "adding a request id run", cause);
}

/* The newest run: *run 0 when there is none. */
static int
run_top(struct ridindex *ri, int64_t *run, int *level, int64_t *entries,
    char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_TOP];
	int rc;

	*run = 0;
	*level = 0;
	*entries = 0;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*run = sqlite3_column_int64(s, 0);
		*level = sqlite3_column_int(s, 1);
		*entries = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ri, cause, "reading request id runs");
	return 0;
}

/* Writes n sorted entries: to the open run if it has room, else a new one. */
static int
write_batch(struct ridindex *ri, const struct pending *p, size_t n,
    char **cause)
{
	sqlite3_stmt *grow = ri->stmt[RI_RUN_GROW];
	int64_t run, entries;
	int level;

	if (run_top(ri, &run, &level, &entries, cause) == -1)
		return -1;
	if (run == 0 || level != 0 || entries + (int64_t)n > ri->open_max) {
		if (run_add(ri, ++run, 0, (int64_t)n, cause) == -1)
			return -1;
	} else {
		sqlite3_bind_int64(grow, 1, run);
		sqlite3_bind_int64(grow, 2, (int64_t)n);
		if (step_done(ri, grow, "counting request id entries",
		    cause) == -1)
			return -1;
	}
	return insert_sorted(ri, run, p, n, cause);
}

/* One run being read by a merge, RI_MERGE_CHUNK entries at a time. */
struct merge_src {
	int64_t run;
	int64_t entries;		/* as written */
	int64_t last;			/* the last key read */
	int64_t hi;			/* the last key of this slice */
	struct pending buf[RI_MERGE_CHUNK];
	int n, i;
};

/*
 * A merge in progress: the target run takes the sources' entries in hash
 * order, a slice of hashes (done, bound] per commit.  Between commits an
 * entry is in a source or in the target, never both, so lookups that
 * probe every run see each entry once.
 */
struct merge {
	int64_t target;
	int64_t done;			/* hashes up to this moved; -1: none */
	int k;
	struct merge_src src[RI_FANIN];
};

/*
 * Reads src's next entries up to src->hi.  The statement is reset before
 * returning, so that no read is open on the table while the merge writes.
 */
static int
merge_refill(struct ridindex *ri, struct merge_src *src, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_RUN_READ];
	int rc;

	src->n = src->i = 0;
	sqlite3_bind_int64(s, 1, src->last);
	sqlite3_bind_int64(s, 2, src->hi);
	sqlite3_bind_int(s, 3, RI_MERGE_CHUNK);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		src->last = sqlite3_column_int64(s, 0);
		src->buf[src->n].h = src->last & RI_HASH_MASK;
		src->buf[src->n].id = sqlite3_column_int64(s, 1);
		src->n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(ri, cause, "reading a request id run");
	return 0;
}

/* The source holding the smallest next entry, or -1 when all are done. */
static int
merge_pick(struct merge_src *src, int k)
{
	int j, best = -1;

	for (j = 0; j < k; j++) {
		if (src[j].i == src[j].n)
			continue;
		if (best == -1 || src[j].buf[src[j].i].h <
		    src[best].buf[src[best].i].h)
			best = j;
	}
	return best;
}

/* Writes the k sources, merged in hash order, into run; counts them. */
static int
merge_write(struct ridindex *ri, struct merge_src *src, int k, int64_t run,
    int64_t *written, char **cause)
{
	struct pending out[FLUSH_ROWS];
	size_t n = 0;
	int j;

	while ((j = merge_pick(src, k)) != -1) {
		out[n++] = src[j].buf[src[j].i++];
		if (n == FLUSH_ROWS) {
			if (insert_sorted(ri, run, out, n, cause) == -1)
				return -1;
			*written += (int64_t)n;
			n = 0;
		}
		if (src[j].i == src[j].n && src[j].n == RI_MERGE_CHUNK &&
		    merge_refill(ri, &src[j], cause) == -1)
			return -1;
	}
	*written += (int64_t)n;
	return insert_sorted(ri, run, out, n, cause);
}

/* Deletes run's entries with hashes in [lo, hi]. */
static int
run_cut(struct ridindex *ri, int64_t run, int64_t lo, int64_t hi,
    char **cause)
{
	sqlite3_stmt *cut = ri->stmt[RI_RUN_CUT];

	sqlite3_bind_int64(cut, 1, run << RI_HASH_BITS | lo);
	sqlite3_bind_int64(cut, 2, run << RI_HASH_BITS | hi);
	return step_done(ri, cut, "deleting merged entries", cause);
}

/* Binds a, b, c to as many parameters as s has; steps and resets it. */
static int
run_update(struct ridindex *ri, enum ri_stmt which, int64_t a, int64_t b,
    int64_t c, char **cause)
{
	sqlite3_stmt *s = ri->stmt[which];
	int64_t v[3] = { a, b, c };
	int i;

	for (i = 0; i < sqlite3_bind_parameter_count(s) && i < 3; i++)
		sqlite3_bind_int64(s, i + 1, v[i]);
	return step_done(ri, s, "updating request id runs", cause);
}

/*
 * Lists into m->src the runs a query returns (run, entries), at most
 * RI_FANIN; param binds its ?1 and limit its ?2.
 */
static int
list_runs(struct ridindex *ri, enum ri_stmt which, int64_t param,
    int limit, struct merge *m, char **cause)
{
	sqlite3_stmt *s = ri->stmt[which];
	int rc;

	m->k = 0;
	sqlite3_bind_int64(s, 1, param);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && m->k < RI_FANIN) {
		m->src[m->k].run = sqlite3_column_int64(s, 0);
		m->src[m->k].entries = sqlite3_column_int64(s, 1);
		m->k++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(ri, cause, "reading request id runs");
	return 0;
}

/*
 * Finds the merge in progress, if any (m->target 0 when none), with its
 * sources.
 */
static int
merge_find(struct ridindex *ri, struct merge *m, char **cause)
{
	sqlite3_stmt *s = ri->stmt[RI_MERGING];
	int rc;

	m->target = 0;
	m->k = 0;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		m->target = sqlite3_column_int64(s, 0);
		m->done = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ri, cause, "reading request id runs");
	if (m->target == 0)
		return 0;
	return list_runs(ri, RI_SOURCES, m->target, RI_FANIN, m, cause);
}

/*
 * Starts a merge of the oldest runs of the lowest level that has
 * ri->fanin of them; m->target stays 0 when no level has.
 */
static int
merge_start(struct ridindex *ri, struct merge *m, char **cause)
{
	int64_t run, entries;
	int level, top_level, j;

	m->target = 0;
	for (level = 0; level < RI_TOP_LEVEL; level++) {
		if (list_runs(ri, RI_LEVEL, level, ri->fanin, m, cause) == -1)
			return -1;
		if (m->k == ri->fanin)
			break;
	}
	if (level == RI_TOP_LEVEL)
		return 0;

	if (run_top(ri, &run, &top_level, &entries, cause) == -1 ||
	    run_add(ri, ++run, level + 1, 0, cause) == -1 ||
	    run_update(ri, RI_PROGRESS, run, -1, 0, cause) == -1)
		return -1;
	for (j = 0; j < m->k; j++) {
		if (run_update(ri, RI_MARK_SOURCE, m->src[j].run, run, 0,
		    cause) == -1)
			return -1;
	}
	m->target = run;
	m->done = -1;
	return 0;
}

/*
 * Moves the hashes after m->done, about budget entries' worth, from the
 * sources to the target; *moved counts them.  The slice is a range of
 * hashes sized from the sources' entry counts: hashes are uniform.
 */
static int
merge_slice(struct ridindex *ri, struct merge *m, int64_t budget,
    int64_t *moved, char **cause)
{
	int64_t total = 0, span, bound;
	int j;

	for (j = 0; j < m->k; j++)
		total += m->src[j].entries;
	span = total > budget ? (budget << RI_HASH_BITS) / total : RI_HASH_MASK;
	bound = RI_HASH_MASK - m->done <= span ? RI_HASH_MASK :
	    m->done + (span > 0 ? span : 1);

	for (j = 0; j < m->k; j++) {
		/* done is -1 before the first slice: the key before the run. */
		m->src[j].last = (m->src[j].run << RI_HASH_BITS) + m->done;
		m->src[j].hi = m->src[j].run << RI_HASH_BITS | bound;
		if (merge_refill(ri, &m->src[j], cause) == -1)
			return -1;
	}
	*moved = 0;
	if (merge_write(ri, m->src, m->k, m->target, moved, cause) == -1)
		return -1;
	for (j = 0; j < m->k; j++) {
		if (run_cut(ri, m->src[j].run, m->done + 1, bound, cause) == -1)
			return -1;
	}
	m->done = bound;
	return 0;
}

/* Records the slice's progress; a finished merge drops its sources. */
static int
merge_note(struct ridindex *ri, struct merge *m, int64_t moved,
    char **cause)
{
	int j;

	if (m->done < RI_HASH_MASK)
		return run_update(ri, RI_PROGRESS, m->target, m->done, moved,
		    cause);
	for (j = 0; j < m->k; j++) {
		if (run_update(ri, RI_RUN_DROP, m->src[j].run, 0, 0,
		    cause) == -1)
			return -1;
	}
	if (run_update(ri, RI_FINISH, m->target, moved, 0, cause) == -1)
		return -1;
	m->target = 0;
	return 0;
}

/*
 * Does up to budget entries of merge work: continues the merge in
 * progress, and starts the next one when a level has enough runs.  A
 * merge thus never holds a commit for long; run at several times the
 * rate of ingest, it ends well before its level fills up again.
 */
static int
merge_work(struct ridindex *ri, int64_t budget, char **cause)
{
	struct merge *m;
	int64_t moved;
	int rc = 0, steps;

	if ((m = malloc(sizeof *m)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory merging request ids");
		return -1;
	}
	rc = merge_find(ri, m, cause);
	for (steps = 0; rc == 0 && budget > 0 && steps < 64; steps++) {
		if (m->target == 0 && (rc = merge_start(ri, m, cause)) == -1)
			break;
		if (m->target == 0)
			break;
		rc = merge_slice(ri, m, budget, &moved, cause);
		if (rc == 0)
			rc = merge_note(ri, m, moved, cause);
		budget -= moved > 0 ? moved : 1;
	}
	free(m);
	return rc;
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
	if (n > 0) {
		qsort(ri->slots, n, sizeof *ri->slots, pending_cmp);
		rc = write_batch(ri, ri->slots, n, cause);
		if (rc == 0)
			rc = merge_work(ri, ri->merge_budget > 0 ?
			    ri->merge_budget : (int64_t)n * RI_MERGE_RATE +
			    RI_MERGE_CHUNK, cause);
	}
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
