/*
 * ingest.h - feeding parsed input into the store: classification against
 * the catalog, batching into transactions, and the tally a user sees.
 */
#ifndef KMSWATCH_INGEST_H
#define KMSWATCH_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "store.h"

/* How many rejects a tally keeps in full for the summary. */
#define INGEST_REJECTS_KEPT 20

struct ingest_reject {
	char *source;
	uint64_t offset;
	char *reason;			/* "truncated: frame of 40 bytes..." */
};

struct ingest_tally {
	int64_t accepted;
	int64_t duplicates;
	int64_t rejected;
	int64_t responses;		/* 2xx responses counted */
	struct ingest_reject kept[INGEST_REJECTS_KEPT];
	size_t nkept;
};

/* Records per transaction. */
#define INGEST_BATCH 50000

/* Bytes read from a file at a time, and the largest message waited for. */
#define INGEST_CHUNK (4 << 20)
#define INGEST_CHUNK_MAX (64 << 20)

/* Bytes read to detect a format; the largest .gz file inflated. */
#define INGEST_DETECT_LEN 4096
#define INGEST_GZ_MAX ((size_t)1 << 30)

/*
 * Parses buf[0..len) as fmt (FORMAT_UNKNOWN: detect it) and stores what
 * it holds under the name source, adding to *tally.  Records without a
 * time get now_ms.  Returns 0 when the whole input was read (rejects
 * included), -1 with *cause when the format is unknown or the store fails;
 * batches committed before a failure stay committed.
 */
int ingest_buffer(struct store *st, const char *source, enum format fmt,
    const uint8_t *buf, size_t len, int64_t now_ms,
    struct ingest_tally *tally, char **cause);

/*
 * Same, for a file path ("-" reads standard input).  The records' source
 * is source when not NULL, else the path.  A regular file is read a chunk
 * at a time with its position stored as it goes, so that reading it again
 * stores nothing twice; a gzip file is inflated first.
 */
int ingest_file(struct store *st, const char *path, const char *source,
    enum format fmt, int64_t now_ms, struct ingest_tally *tally,
    char **cause);

/*
 * Ingests buf[0..len), the bytes at offset base of a followed input, in
 * transactions that also record *pos with done = base + consumed, so the
 * records and the position that covers them are stored together.  With
 * final 0 an incomplete message at the end is left for later; *consumed
 * says how many bytes were used.  Returns 0, or -1 with *cause (nothing
 * of the failed transaction is stored).
 */
int ingest_chunk(struct store *st, const char *source, enum format fmt,
    const uint8_t *buf, size_t len, uint64_t base, int final,
    struct store_input *pos, int64_t now_ms, struct ingest_tally *tally,
    size_t *consumed, char **cause);

/*
 * Stores one record (rec not NULL) or one reject (rej not NULL) from
 * source in a transaction of its own, adding to *tally.  A record without
 * a time gets now_ms.  Returns 0, or -1 with *cause.
 */
int ingest_record(struct store *st, const char *source,
    const struct record *rec, const struct reject *rej, int64_t now_ms,
    struct ingest_tally *tally, char **cause);

/* Bytes of an input's head hashed to recognise it. */
#define INGEST_HEAD_LEN 1024

/*
 * Whether stored messages have their AccessKey IDs masked (mask.h).  Set
 * once at start, before any ingest; off unless set.
 */
void ingest_set_mask(int on);

/* Frees the rejects kept in a tally. */
void ingest_tally_clear(struct ingest_tally *tally);

#endif
