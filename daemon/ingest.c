/*
 * ingest.c - from bytes to stored records.
 *
 * This module joins a parser to the store: it picks the format, gives each
 * record its catalog category and flags, groups records into transactions
 * of INGEST_BATCH, and keeps the tally the command line and the API report.
 * It reads files but does not follow them, and it never logs: its callers
 * know whom to tell.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "gzip.h"
#include "hash.h"
#include "mask.h"
#include "ingest.h"

struct ingest_ctx {
	struct store *st;
	const char *source;
	int64_t now_ms;
	struct ingest_tally *tally;
	int64_t in_batch;		/* records since the last commit */
	char *cause;			/* set when a callback failed */
	/*
	 * Position tracking, for inputs read again: responses and rejects
	 * before seen_below were stored by an earlier read.  Records need
	 * no such care; their RequestIds dedupe them.
	 */
	struct store_input *pos;	/* NULL when not tracked */
	uint64_t seen_below;
};


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

/* Category and flags of a record, from the catalog. */
static void
classify(const struct record *rec, struct store_in *in)
{
	const struct catalog_entry *e = catalog_match(rec->code, rec->message);

	in->flags = 0;
	in->category = "unknown";
	if (e != NULL) {
		in->flags |= STORE_FLAG_KNOWN;
		in->category = e->category;
		if (e->status != 0 && rec->status != e->status)
			in->flags |= STORE_FLAG_CATALOG_STATUS;
	}
	if (rec->body_status != 0)
		in->flags |= STORE_FLAG_BODY_STATUS;
}

/* Commits the batch when full, so memory and WAL stay bounded. */
static int
batch_step(struct ingest_ctx *c, uint64_t offset)
{
	if (++c->in_batch < INGEST_BATCH)
		return 0;
	c->in_batch = 0;

	/* Everything before this record's offset is in this batch or older. */
	if (c->pos != NULL && (int64_t)offset > c->pos->done) {
		c->pos->done = (int64_t)offset;
		if (store_input_put(c->st, c->source, c->pos, &c->cause) == -1)
			return -1;
	}
	if (store_commit(c->st, &c->cause) == -1)
		return -1;
	return store_begin(c->st, &c->cause);
}

/*
 * An API name as stored: printable ASCII, anything else '?'.  Names come
 * from request headers, which nothing vouches for, and end up in JSON
 * and Prometheus labels, which must be UTF-8.
 */
static const char *
clean_api(const char *api, char *out, size_t size)
{
	size_t i;

	if (api == NULL)
		return NULL;
	for (i = 0; api[i] != '\0' && i + 1 < size; i++)
		out[i] = api[i] >= 0x20 && api[i] < 0x7f ? api[i] : '?';
	out[i] = '\0';
	return out;
}

static int ingest_mask;

void
ingest_set_mask(int on)
{
	ingest_mask = on;
}

static int
on_record(void *ctx, const struct record *rec)
{
	struct ingest_ctx *c = ctx;
	struct record r = *rec;
	struct store_in in;
	char masked[2048], api[256];
	int rc;

	if (r.time_ms == RECORD_TIME_UNKNOWN)
		r.time_ms = c->now_ms;
	r.api = clean_api(r.api, api, sizeof api);
	if (ingest_mask && mask_access_keys(r.message, masked, sizeof masked))
		r.message = masked;
	in.rec = &r;
	in.source = c->source;
	classify(&r, &in);

	if ((rc = store_add(c->st, &in, &c->cause)) == -1)
		return -1;
	if (rc == 1)
		c->tally->duplicates++;
	else
		c->tally->accepted++;
	return batch_step(c, rec->offset);
}

static void
keep_reject(struct ingest_tally *t, const char *source,
    const struct reject *rej)
{
	struct ingest_reject *k;

	if (t->nkept == INGEST_REJECTS_KEPT)
		return;
	k = &t->kept[t->nkept];
	k->offset = rej->offset;
	k->source = strdup(source);
	if (asprintf(&k->reason, "%s: %s", record_reason_name(rej->reason),
	    rej->detail != NULL ? rej->detail : "") == -1)
		k->reason = NULL;
	if (k->source == NULL || k->reason == NULL) {
		free(k->source);
		free(k->reason);
		return;
	}
	t->nkept++;
}

static int
on_reject(void *ctx, const struct reject *rej)
{
	struct ingest_ctx *c = ctx;

	if (rej->offset >= c->seen_below &&
	    store_add_reject(c->st, c->source, rej, &c->cause) == -1)
		return -1;
	c->tally->rejected++;
	keep_reject(c->tally, c->source, rej);
	return 0;
}

static int
on_response(void *ctx, int64_t time_ms, const char *api, int status,
    uint64_t offset)
{
	struct ingest_ctx *c = ctx;
	char clean[256];

	(void)status;
	if (time_ms == RECORD_TIME_UNKNOWN)
		time_ms = c->now_ms;
	api = clean_api(api, clean, sizeof clean);
	if (offset >= c->seen_below &&
	    store_add_response(c->st, time_ms, api, &c->cause) == -1)
		return -1;
	c->tally->responses++;
	return 0;
}

/* Detects the format when not given; -1 with *cause when it cannot. */
static int
pick_format(const char *source, const uint8_t *buf, size_t len,
    enum format *fmt, char **cause)
{
	if (*fmt != FORMAT_UNKNOWN || len == 0)
		return 0;
	if ((*fmt = format_detect(buf, len)) != FORMAT_UNKNOWN)
		return 0;
	set_cause(cause, "%s: cannot tell the format from the first bytes; "
	    "name it with --format", source);
	return -1;
}

/*
 * Parses buf, the bytes at offset base of the input, in batches; the last
 * batch records the position after what was consumed.
 */
static int
run_at(struct ingest_ctx *c, enum format fmt, const uint8_t *buf,
    size_t len, uint64_t base, int final, size_t *consumed, char **cause)
{
	struct record_sink sink = { c, on_record, on_reject, on_response };
	ssize_t n;

	if (store_begin(c->st, cause) == -1)
		return -1;
	if ((n = format_parse(fmt, buf, len, base, final, &sink)) == -1)
		goto fail;
	if (c->pos != NULL) {
		c->pos->done = (int64_t)(base + (uint64_t)n);
		if (store_input_put(c->st, c->source, c->pos, &c->cause) == -1)
			goto fail;
	}
	if (store_commit(c->st, &c->cause) == -1)
		goto fail;
	*consumed = (size_t)n;
	return 0;

fail:
	store_rollback(c->st);
	set_cause(cause, "%s: %s", c->source,
	    c->cause != NULL ? c->cause : "store failed");
	free(c->cause);
	c->cause = NULL;
	return -1;
}

int
ingest_buffer(struct store *st, const char *source, enum format fmt,
    const uint8_t *buf, size_t len, int64_t now_ms,
    struct ingest_tally *tally, char **cause)
{
	struct ingest_ctx c = { st, source, now_ms, tally, 0, NULL, NULL, 0 };
	size_t consumed;

	if (pick_format(source, buf, len, &fmt, cause) == -1)
		return -1;
	if (len == 0)
		return 0;
	return run_at(&c, fmt, buf, len, 0, 1, &consumed, cause);
}

int
ingest_chunk(struct store *st, const char *source, enum format fmt,
    const uint8_t *buf, size_t len, uint64_t base, int final,
    struct store_input *pos, int64_t now_ms, struct ingest_tally *tally,
    size_t *consumed, char **cause)
{
	struct ingest_ctx c = { st, source, now_ms, tally, 0, NULL, pos, 0 };

	return run_at(&c, fmt, buf, len, base, final, consumed, cause);
}

int
ingest_record(struct store *st, const char *source,
    const struct record *rec, const struct reject *rej, int64_t now_ms,
    struct ingest_tally *tally, char **cause)
{
	struct ingest_ctx c = { st, source, now_ms, tally, 0, NULL, NULL, 0 };
	int rc;

	if (store_begin(st, cause) == -1)
		return -1;
	rc = rec != NULL ? on_record(&c, rec) : on_reject(&c, rej);
	if (rc == -1 || store_commit(st, &c.cause) == -1) {
		store_rollback(st);
		set_cause(cause, "%s: %s", source,
		    c.cause != NULL ? c.cause : "store failed");
		free(c.cause);
		return -1;
	}
	return 0;
}

/*
 * Where an earlier read of this input stopped: its recorded position if
 * the head still matches (the same file, perhaps grown), else 0.
 */
static int
resume_point(struct ingest_ctx *c, const uint8_t *buf, size_t len,
    char **cause)
{
	struct store_input old;
	int rc;

	c->pos->head_len = len < INGEST_HEAD_LEN ? (int64_t)len :
	    INGEST_HEAD_LEN;
	c->pos->head_hash = (int64_t)hash_bytes(buf, (size_t)c->pos->head_len,
	    0);
	c->pos->done = 0;
	if ((rc = store_input_get(c->st, c->source, &old, cause)) != 0)
		return rc == 1 ? 0 : -1;
	if (old.head_len > (int64_t)len || old.head_hash !=
	    (int64_t)hash_bytes(buf, (size_t)old.head_len, 0))
		return 0;
	c->seen_below = (uint64_t)old.done;
	c->pos->done = old.done;
	return 0;
}

/*
 * Ingests a named input held whole in memory (an inflated .gz file),
 * remembering how far it was read, so that reading it again stores
 * nothing twice.  Records are deduplicated by RequestId anyway; the
 * position keeps 2xx response counts and rejects from being added again.
 */
static int
ingest_tracked(struct store *st, const char *source, enum format fmt,
    const uint8_t *buf, size_t len, int64_t now_ms,
    struct ingest_tally *tally, char **cause)
{
	struct store_input pos = { 0 };
	struct ingest_ctx c = { st, source, now_ms, tally, 0, NULL, &pos, 0 };
	size_t consumed;

	if (pick_format(source, buf, len, &fmt, cause) == -1)
		return -1;
	if (len == 0)
		return 0;
	if (resume_point(&c, buf, len, cause) == -1)
		return -1;
	return run_at(&c, fmt, buf, len, 0, 1, &consumed, cause);
}

static ssize_t
read_at(int fd, uint8_t *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? (ssize_t)got : -1;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Reads a regular file a chunk at a time, so that memory stays bounded by
 * the chunk (and the largest single message) whatever the file's size.
 * Each chunk is stored with the position after it.
 */
static int
ingest_chunks(struct ingest_ctx *c, int fd, off_t size, enum format fmt,
    uint8_t **buf, size_t *cap, char **cause)
{
	size_t want = INGEST_CHUNK, consumed;
	off_t off = 0;
	uint8_t *grown;
	ssize_t n;

	while (off < size) {
		if (*cap < want) {
			if ((grown = realloc(*buf, want)) == NULL)
				goto nomem;
			*buf = grown;
			*cap = want;
		}
		if ((n = read_at(fd, *buf, want, off)) <= 0)
			break;
		if (run_at(c, fmt, *buf, (size_t)n, (uint64_t)off,
		    off + n >= size, &consumed, cause) == -1)
			return -1;
		off += (off_t)consumed;
		/* A message longer than the chunk: read a bigger one. */
		if (consumed == 0 && want < INGEST_CHUNK_MAX)
			want *= 2;
		else if (consumed == 0)
			break;
	}
	return 0;

nomem:
	set_cause(cause, "%s: out of memory reading it", c->source);
	return -1;
}

/* A .gz file: inflated whole (up to INGEST_GZ_MAX), then ingested. */
static int
ingest_gz(struct store *st, const char *source, int fd, off_t size,
    enum format fmt, int64_t now_ms, struct ingest_tally *tally,
    char **cause)
{
	uint8_t *in = NULL, *out = NULL;
	size_t out_len;
	const char *why;
	int rc = -1;

	if ((in = malloc((size_t)size)) == NULL ||
	    read_at(fd, in, (size_t)size, 0) != size) {
		set_cause(cause, "%s: cannot read it whole", source);
		goto out;
	}
	if (gzip_inflate(in, (size_t)size, INGEST_GZ_MAX, &out, &out_len,
	    &why) == -1) {
		set_cause(cause, "%s: gzip: %s", source, why);
		goto out;
	}
	rc = ingest_tracked(st, source, fmt, out, out_len, now_ms, tally,
	    cause);

out:
	free(in);
	free(out);
	return rc;
}

/* A regular file, read in chunks from its start, position tracked. */
static int
ingest_regular(struct store *st, const char *source, int fd, off_t size,
    enum format fmt, int64_t now_ms, struct ingest_tally *tally,
    char **cause)
{
	struct store_input pos = { 0 };
	struct ingest_ctx c = { st, source, now_ms, tally, 0, NULL, &pos, 0 };
	uint8_t *buf = NULL;
	size_t cap = INGEST_DETECT_LEN;
	ssize_t n;
	int rc = -1;

	if ((buf = malloc(cap)) == NULL ||
	    (n = read_at(fd, buf, cap, 0)) < 0) {
		set_cause(cause, "%s: %s", source, buf == NULL ?
		    "out of memory" : strerror(errno));
		goto out;
	}
	if (gzip_is(buf, (size_t)n)) {
		free(buf);
		return ingest_gz(st, source, fd, size, fmt, now_ms, tally,
		    cause);
	}
	if (n == 0 || pick_format(source, buf, (size_t)n, &fmt, cause) == -1 ||
	    resume_point(&c, buf, (size_t)n, cause) == -1) {
		rc = n == 0 ? 0 : -1;
		goto out;
	}
	rc = ingest_chunks(&c, fd, size, fmt, &buf, &cap, cause);

out:
	free(buf);
	return rc;
}

/* Reads all of fd into a malloc'd buffer (for pipes and stdin). */
static int
read_all(int fd, uint8_t **out, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap), *grown;
	ssize_t r;

	if (buf == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			cap *= 2;
			if ((grown = realloc(buf, cap)) == NULL)
				goto fail;
			buf = grown;
		}
		r = read(fd, buf + n, cap - n);
		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;

fail:
	free(buf);
	return -1;
}

/* Reads from fd until buf holds len bytes or the input ends. */
static ssize_t
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? (ssize_t)got : -1;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reads the rest of a gzip stream whose first len bytes are in buf. */
static int
ingest_stream_gz(struct store *st, const char *source, int fd,
    enum format fmt, uint8_t *buf, size_t len, int64_t now_ms,
    struct ingest_tally *tally, char **cause)
{
	uint8_t *rest = NULL, *all = NULL, *out = NULL;
	size_t rest_len = 0, out_len;
	const char *why;
	int rc = -1;

	if (read_all(fd, &rest, &rest_len) == -1 ||
	    (all = malloc(len + rest_len + 1)) == NULL) {
		set_cause(cause, "%s: cannot read it whole", source);
		goto out;
	}
	memcpy(all, buf, len);
	memcpy(all + len, rest, rest_len);
	if (gzip_inflate(all, len + rest_len, INGEST_GZ_MAX, &out, &out_len,
	    &why) == -1) {
		set_cause(cause, "%s: gzip: %s", source, why);
		goto out;
	}
	rc = ingest_buffer(st, source, fmt, out, out_len, now_ms, tally,
	    cause);

out:
	free(rest);
	free(all);
	free(out);
	return rc;
}

/*
 * A pipe or standard input, read a chunk at a time like a regular file:
 * what a chunk leaves unconsumed (a message cut at its end) starts the
 * next one.  No position is kept, since a pipe cannot be recognised when
 * read again.  A gzip stream is read whole and inflated.
 */
static int
ingest_stream(struct store *st, const char *source, int fd,
    enum format fmt, int64_t now_ms, struct ingest_tally *tally,
    char **cause)
{
	struct ingest_ctx c = { st, source, now_ms, tally, 0, NULL, NULL, 0 };
	size_t cap = INGEST_CHUNK, len = 0, consumed;
	uint8_t *buf = malloc(cap), *grown;
	uint64_t base = 0;
	int eof = 0, rc = -1;
	ssize_t n;

	if (buf == NULL || (n = read_full(fd, buf, cap)) == -1) {
		set_cause(cause, "%s: %s", source, buf == NULL ?
		    "out of memory" : strerror(errno));
		goto out;
	}
	len = (size_t)n;
	eof = len < cap;
	if (gzip_is(buf, len)) {
		rc = ingest_stream_gz(st, source, fd, fmt, buf, len, now_ms,
		    tally, cause);
		goto out;
	}
	if (len == 0 || pick_format(source, buf, len, &fmt, cause) == -1) {
		rc = len == 0 ? 0 : -1;
		goto out;
	}

	while (len > 0) {
		if (run_at(&c, fmt, buf, len, base, eof, &consumed,
		    cause) == -1)
			goto out;
		memmove(buf, buf + consumed, len - consumed);
		len -= consumed;
		base += consumed;
		/* A message longer than the buffer: make room for it. */
		if (len == cap && cap < INGEST_CHUNK_MAX) {
			if ((grown = realloc(buf, cap * 2)) == NULL) {
				set_cause(cause, "%s: out of memory", source);
				goto out;
			}
			buf = grown;
			cap *= 2;
		}
		if (eof || (len == cap && consumed == 0))
			break;
		if ((n = read_full(fd, buf + len, cap - len)) == -1) {
			set_cause(cause, "%s: %s", source, strerror(errno));
			goto out;
		}
		eof = (size_t)n < cap - len;
		len += (size_t)n;
	}
	rc = 0;

out:
	free(buf);
	return rc;
}

int
ingest_file(struct store *st, const char *path, const char *source,
    enum format fmt, int64_t now_ms, struct ingest_tally *tally,
    char **cause)
{
	struct stat sb;
	int fd, rc;

	if (strcmp(path, "-") == 0)
		return ingest_stream(st, source != NULL ? source : "-",
		    STDIN_FILENO, fmt, now_ms, tally, cause);

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (S_ISREG(sb.st_mode))
		rc = ingest_regular(st, source != NULL ? source : path, fd,
		    sb.st_size, fmt, now_ms, tally, cause);
	else
		rc = ingest_stream(st, source != NULL ? source : path, fd,
		    fmt, now_ms, tally, cause);
	close(fd);
	return rc;
}

void
ingest_tally_clear(struct ingest_tally *tally)
{
	size_t i;

	for (i = 0; i < tally->nkept; i++) {
		free(tally->kept[i].source);
		free(tally->kept[i].reason);
	}
	tally->nkept = 0;
}
