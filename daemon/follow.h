/*
 * follow.h - the daemon's writer: it follows files, directories and globs
 * as they grow, takes pushed bodies from the API, and expires old records.
 *
 * One thread owns the only writer handle of the store, so that every write
 * (followed data, pushes, retention) goes through one dedupe filter and one
 * transaction at a time.
 */
#ifndef KMSWATCH_FOLLOW_H
#define KMSWATCH_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "ingest.h"

/* One followed path: a file, a glob pattern or a directory. */
struct follow_source {
	char *name;			/* [source NAME], or the path */
	char *path;
	enum format fmt;		/* FORMAT_UNKNOWN: detect per file */
	int start_end;			/* new files start at their end */
};

struct follow_config {
	const char *db_path;
	const struct follow_source *sources;
	size_t nsources;
	int64_t retention_ms;		/* records older are deleted; 0: keep */
	int64_t rollup_retention_ms;	/* the same for rollups */
};

struct follow;

/* What the writer has done since it started, for health and metrics. */
struct follow_stats {
	int64_t records;		/* accepted */
	int64_t duplicates;
	int64_t rejects;
	int64_t responses;
	int64_t files;			/* files followed now */
	int64_t last_ingest_ms;		/* wall time of the last commit */
	int64_t expired;		/* records deleted by retention */
};

/*
 * Opens the writer and starts the thread.  Returns 0, or -1 with *cause
 * (malloc'd) when the database cannot be opened.  The sources are copied.
 */
int follow_start(const struct follow_config *cfg, struct follow **out,
    char **cause);

/*
 * Replaces the followed sources (SIGHUP).  Files still named keep their
 * position; the others stop being followed.  Returns -1 when out of memory.
 */
int follow_reload(struct follow *fw, const struct follow_source *sources,
    size_t nsources);

/*
 * Ingests a pushed body as source and waits for it to be stored.  Safe to
 * call from any thread.  Returns 0 with *tally filled, or -1 with *cause.
 */
int follow_push(struct follow *fw, const char *source, enum format fmt,
    const uint8_t *buf, size_t len, struct ingest_tally *tally,
    char **cause);

/* The same for one decoded record, or one reject. */
int follow_push_record(struct follow *fw, const char *source,
    const struct record *rec, const struct reject *rej,
    struct ingest_tally *tally, char **cause);

/*
 * 1 while ingestion is paused because the database's disk is full: from
 * a write that failed for want of space until one succeeds.  Any thread.
 */
int follow_full(struct follow *fw);

void follow_get_stats(struct follow *fw, struct follow_stats *stats);

/* Stops the thread after the batch in hand and closes the writer. */
void follow_stop(struct follow *fw);

/* Copies and frees source lists. */
int follow_sources_copy(const struct follow_source *src, size_t n,
    struct follow_source **out);
void follow_sources_free(struct follow_source *src, size_t n);

#endif
