/*
 * raw_ceiling.c - the raw SQLite insert ceiling on this machine, the upper
 * peer that `make bench` sets beside kmswatch's ingest rate.
 *
 * It measures how fast this machine's SQLite can append the rows of a pb
 * capture when nothing else is asked of it: the whole file is read and
 * every Error message decoded into an array in memory before the clock
 * starts, then one prepared INSERT writes the rows into a plain table (no
 * secondary index, no RequestId dedupe, no interned strings, no rollups)
 * in transactions of COMMIT_ROWS, WAL and synchronous=NORMAL, as kmswatch
 * uses.  The clock covers opening the database, the schema, the inserts
 * and the close (which checkpoints the WAL).  No ingest that stores the
 * same rows through SQLite with the same durability can be faster, so
 * kmswatch's rate over this one is the share of the ceiling it reaches.
 *
 * Usage: raw_ceiling DB PBFILE
 * DB must not hold a `records` table yet (use a fresh file).  Prints one
 * JSON line to standard output:
 *   {"peer":"raw_ceiling","rows":N,"seconds":S,"rows_per_s":R,
 *    "decode_seconds":D}
 * Exits 1, with a message on standard error, on a malformed frame (giving
 * its byte offset) or on any SQLite error.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -o build/bench/raw_ceiling \
 *            bench/peers/raw_ceiling.c -lsqlite3
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#define COMMIT_ROWS	100000	/* rows to a transaction */
#define VARINT_MAX	10	/* bytes in the longest varint */
#define VARINT32_MAX	5	/* bytes in the longest 32-bit varint */

/* One decoded Error; the strings point into the file's buffer. */
struct row {
	const char *code, *message, *request_id;
	int code_len, message_len, request_id_len;
	int32_t status;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static const char empty[] = "";

static double
mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads all of path into a malloc'd *buf.  Returns 0, or -1 after a message. */
static int
read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f;
	uint8_t *p = NULL, *grown;
	size_t cap = 0, n = 0, got;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "raw_ceiling: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((grown = realloc(p, cap)) == NULL) {
				fprintf(stderr, "raw_ceiling: %s: out of "
				    "memory\n", path);
				goto done;
			}
			p = grown;
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "raw_ceiling: %s: read error\n", path);
		goto done;
	}
	*buf = p;
	*len = n;
	p = NULL;
	rc = 0;

done:
	free(p);
	fclose(f);
	return rc;
}

/*
 * Reads the varint at p[*pos..end) into *v, at most max bytes long.
 * Returns NULL and advances *pos, or a reason for refusing it.
 */
static const char *
varint(const uint8_t *p, size_t *pos, size_t end, size_t max, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; *pos + i < end && i < max; i++) {
		*v |= (uint64_t)(p[*pos + i] & 0x7f) << (7 * i);
		if ((p[*pos + i] & 0x80) == 0) {
			*pos += i + 1;
			return NULL;
		}
	}
	return i == max ? "varint too long" : "varint runs past the end";
}

/*
 * Decodes the Error message at p[pos..end) into *r.  Unknown fields (and
 * known field numbers with an unexpected wire type) are skipped, as
 * protobuf does; groups are refused.  Returns NULL, or a reason with *at
 * set to the offending byte.
 */
static const char *
decode_error(const uint8_t *p, size_t pos, size_t end, struct row *r,
    size_t *at)
{
	const char *why = NULL;
	uint64_t tag, v;
	size_t start;

	r->code = r->message = r->request_id = empty;
	r->code_len = r->message_len = r->request_id_len = 0;
	r->status = 0;
	while (pos < end) {
		*at = pos;
		if ((why = varint(p, &pos, end, VARINT32_MAX, &tag)) != NULL)
			goto done;
		if (tag >> 3 == 0 || tag > UINT32_MAX) {
			why = "bad field tag";
			goto done;
		}
		switch (tag & 7) {
		case 0:
			why = varint(p, &pos, end, VARINT_MAX, &v);
			if (why != NULL)
				goto done;
			if (tag == 0x08)
				r->status = (int32_t)(uint32_t)v;
			break;
		case 1:
		case 5:
			pos += (tag & 7) == 1 ? 8 : 4;
			if (pos > end) {
				why = "fixed field runs past the message end";
				goto done;
			}
			break;
		case 2:
			why = varint(p, &pos, end, VARINT32_MAX, &v);
			if (why != NULL)
				goto done;
			if (v > end - pos) {
				why = "string runs past the message end";
				goto done;
			}
			start = pos;
			pos += (size_t)v;
			if (tag == 0x12) {
				r->code = (const char *)p + start;
				r->code_len = (int)v;
			} else if (tag == 0x1a) {
				r->message = (const char *)p + start;
				r->message_len = (int)v;
			} else if (tag == 0x22) {
				r->request_id = (const char *)p + start;
				r->request_id_len = (int)v;
			}
			break;
		default:
			why = "group or unknown wire type";
			goto done;
		}
	}

done:
	return why;
}

/*
 * Decodes every frame of buf into *out.  Stops at the first bad frame:
 * returns -1 after a message naming its byte offset.
 */
static int
decode_all(const char *path, const uint8_t *buf, size_t len,
    struct rows *out)
{
	const char *why;
	struct row *grown;
	uint64_t flen;
	size_t pos = 0, frame = 0, at = 0;
	int rc = -1;

	while (pos < len) {
		frame = at = pos;
		if ((why = varint(buf, &pos, len, VARINT32_MAX, &flen)) != NULL)
			goto done;
		if (flen > len - pos) {
			why = "frame runs past the end of the file";
			goto done;
		}
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 65536;
			grown = realloc(out->v, out->cap * sizeof *out->v);
			if (grown == NULL) {
				why = "out of memory";
				goto done;
			}
			out->v = grown;
		}
		why = decode_error(buf, pos, pos + (size_t)flen,
		    &out->v[out->n], &at);
		if (why != NULL)
			goto done;
		out->n++;
		pos += (size_t)flen;
	}
	rc = 0;

done:
	if (rc == -1)
		fprintf(stderr, "raw_ceiling: %s: bad frame %zu at byte offset "
		    "%zu: %s (at byte %zu)\n", path, out->n + 1, frame, why,
		    at);
	return rc;
}

/* Reports SQLite's last error on db for what, naming path.  Returns -1. */
static int
db_fail(sqlite3 *db, const char *path, const char *what)
{
	fprintf(stderr, "raw_ceiling: %s: %s: %s\n", path, what,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory");
	return -1;
}

static int
exec_sql(sqlite3 *db, const char *path, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, path, sql);
	return 0;
}

/* Sets journal_mode=WAL and checks that SQLite agreed to it. */
static int
set_wal(sqlite3 *db, const char *path)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL) != SQLITE_OK) {
		db_fail(db, path, "PRAGMA journal_mode");
		goto done;
	}
	if (sqlite3_step(s) != SQLITE_ROW) {
		db_fail(db, path, "PRAGMA journal_mode");
		goto done;
	}
	mode = sqlite3_column_text(s, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		fprintf(stderr, "raw_ceiling: %s: journal_mode is %s, "
		    "not wal\n", path,
		    mode != NULL ? (const char *)mode : "unknown");
		goto done;
	}
	rc = 0;

done:
	sqlite3_finalize(s);
	return rc;
}

/* The timed part: opens path, creates the table and inserts every row. */
static int
store_rows(const char *path, const struct rows *rows, int64_t time_ms)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	const struct row *r;
	size_t i;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		db_fail(db, path, "opening");
		goto done;
	}
	if (set_wal(db, path) == -1 ||
	    exec_sql(db, path, "PRAGMA synchronous = NORMAL") == -1 ||
	    exec_sql(db, path, "CREATE TABLE records (id INTEGER PRIMARY KEY,"
	    " time_ms INTEGER, status INTEGER, code TEXT, message TEXT,"
	    " request_id TEXT)") == -1)
		goto done;
	if (sqlite3_prepare_v2(db, "INSERT INTO records (time_ms, status,"
	    " code, message, request_id) VALUES (?1, ?2, ?3, ?4, ?5)", -1,
	    &ins, NULL) != SQLITE_OK) {
		db_fail(db, path, "preparing INSERT");
		goto done;
	}
	/* Bindings survive sqlite3_reset; time_ms is the same for all. */
	if (sqlite3_bind_int64(ins, 1, time_ms) != SQLITE_OK) {
		db_fail(db, path, "binding time_ms");
		goto done;
	}
	if (exec_sql(db, path, "BEGIN") == -1)
		goto done;
	for (i = 0; i < rows->n; i++) {
		r = &rows->v[i];
		if (i > 0 && i % COMMIT_ROWS == 0 &&
		    (exec_sql(db, path, "COMMIT") == -1 ||
		    exec_sql(db, path, "BEGIN") == -1))
			goto done;
		if (sqlite3_bind_int(ins, 2, r->status) != SQLITE_OK ||
		    sqlite3_bind_text(ins, 3, r->code, r->code_len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(ins, 4, r->message, r->message_len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(ins, 5, r->request_id, r->request_id_len,
		    SQLITE_STATIC) != SQLITE_OK) {
			db_fail(db, path, "binding a row");
			goto done;
		}
		if (sqlite3_step(ins) != SQLITE_DONE) {
			db_fail(db, path, "inserting a row");
			goto done;
		}
		if (sqlite3_reset(ins) != SQLITE_OK) {
			db_fail(db, path, "resetting INSERT");
			goto done;
		}
	}
	if (exec_sql(db, path, "COMMIT") == -1)
		goto done;
	if (sqlite3_finalize(ins) != SQLITE_OK) {
		ins = NULL;
		db_fail(db, path, "finalizing INSERT");
		goto done;
	}
	ins = NULL;
	if (sqlite3_close(db) != SQLITE_OK) {
		db_fail(db, path, "closing");
		goto done;
	}
	db = NULL;
	rc = 0;

done:
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return rc;
}

int
main(int argc, char **argv)
{
	struct rows rows = { NULL, 0, 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	int64_t time_ms;
	double t0, decode_s, store_s;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: raw_ceiling DB PBFILE\n");
		return 2;
	}
	time_ms = wall_ms();
	t0 = mono_seconds();
	if (read_file(argv[2], &buf, &len) == -1 ||
	    decode_all(argv[2], buf, len, &rows) == -1)
		goto done;
	decode_s = mono_seconds() - t0;

	t0 = mono_seconds();
	if (store_rows(argv[1], &rows, time_ms) == -1)
		goto done;
	store_s = mono_seconds() - t0;

	printf("{\"peer\":\"raw_ceiling\",\"rows\":%zu,\"seconds\":%.3f,"
	    "\"rows_per_s\":%.0f,\"decode_seconds\":%.3f}\n", rows.n, store_s,
	    store_s > 0 ? (double)rows.n / store_s : 0.0, decode_s);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "raw_ceiling: writing results: %s\n",
		    strerror(errno));
		goto done;
	}
	rc = 0;

done:
	free(rows.v);
	free(buf);
	return rc;
}
