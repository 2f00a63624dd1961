/*
 * fuzz_parse.c - the body of the parser fuzz targets: one input, parsed
 * in each way the daemon parses, with the parser's contract checked on
 * every event.
 *
 * An input is parsed four times:
 *  1. whole, with final 1, as `kmswatch ingest` does for a small file;
 *  2. in two calls: a prefix with final 0, then from where that call
 *     stopped to the end with final 1, as ingest_chunk() resumes a
 *     followed file that has grown;
 *  3. in windows that double when a call consumes nothing, as
 *     ingest_file() reads a large file (window sizes come from the
 *     input's hash, so every input tries other boundaries);
 *  4. whole, with a sink that asks to stop after a few events, so that
 *     the parser's early returns must free what they hold.
 * Split points and the stop count are derived from the input rather than
 * read from it, so that the seeds stay plain captures of each format.
 *
 * What is checked, from format.h and record.h (a failure prints what and
 * where, then aborts, so that libFuzzer keeps the input):
 * - every string passed to a callback is read to its NUL, so AddressSan
 *   catches one that dangles or is not terminated; code, message and
 *   request_id are never NULL;
 * - a reject's reason is one record_reason_name() knows;
 * - an event's offset lies inside the bytes of the call that made it;
 * - a call returns -1 exactly when the sink asked to stop, and otherwise
 *   at most the length it was given; no callback follows a stop.
 *
 * With FUZZ_PARSE_STRICT=1 in the environment, runs 2 and 3 must also
 * report the same records and responses as run 1: where calls begin must
 * not lose or double evidence.  Times are left out (a syslog line's year
 * depends on what the same call saw earlier, as sdklog.h says), and so
 * are rejects: how much garbage one reject covers, and the line numbers
 * in its detail, depend on where a call starts.  That is a claim the
 * parsers do not make in writing, so it is off by default.
 * FUZZ_PARSE_TRACE=1 prints every event, to compare the runs by eye.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "fuzz_parse.h"

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

/* What the checking sink knows about the run and the call in hand. */
struct check {
	const char	*name;		/* the harness */
	const char	*run;		/* "whole", "split", ... */
	size_t		 total;		/* length of the whole input */
	uint64_t	 base;		/* the call's first byte */
	size_t		 len;		/* the call's length */
	unsigned	 events;
	unsigned	 stop_after;	/* 0: never ask to stop */
	int		 stopped;
	int		 trace;		/* print each event */
	uint64_t	 digest;	/* of records and responses, in order */
};

static void __attribute__((format(printf, 2, 3), noreturn))
fuzz_fail(const struct check *c, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "fuzz_parse: %s, run %s, call at %llu+%zu of %zu: ",
	    c->name, c->run, (unsigned long long)c->base, c->len, c->total);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static uint64_t
hash_bytes(uint64_t h, const void *p, size_t len)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

uint64_t
fuzz_parse_hash(const uint8_t *buf, size_t len)
{
	return hash_bytes(FNV_OFFSET, buf, len);
}

static void
digest_u64(struct check *c, uint64_t v)
{
	c->digest = hash_bytes(c->digest, &v, sizeof v);
}

/*
 * Folds s into the digest, NUL included, which reads every byte of it:
 * the read is the check.  NULL is folded as a marker of its own.
 */
static void
digest_str(struct check *c, const char *what, const char *s, int may_be_null)
{
	if (s == NULL) {
		if (!may_be_null)
			fuzz_fail(c, "%s is NULL", what);
		digest_u64(c, 0x6e756c6cULL);
		return;
	}
	c->digest = hash_bytes(c->digest, s, strlen(s) + 1);
}

/* Reads s to its end like digest_str(), leaving the digest alone. */
static void
touch_str(const char *s)
{
	volatile size_t	n;

	if (s != NULL)
		n = strlen(s);
	(void)n;
}

/*
 * The checks every event shares.  end_ok is 1 when the offset may equal
 * the end of the call (a reject of what is missing there); what names
 * the event in a trace.  Returns what the callback returns: -1 when this
 * event is the one to stop at.
 */
static int
check_event(struct check *c, char kind, uint64_t offset, int end_ok,
    const char *what, int digested)
{
	uint64_t	end = c->base + c->len;

	if (c->trace)
		fprintf(stderr, "fuzz_parse: %s %s: %c @%llu in %llu+%zu %s\n",
		    c->name, c->run, kind, (unsigned long long)offset,
		    (unsigned long long)c->base, c->len, what);

	if (c->stopped)
		fuzz_fail(c, "a callback (%c) after the sink asked to stop",
		    kind);
	if (offset < c->base || offset > end || (offset == end && !end_ok))
		fuzz_fail(c, "event %c at offset %llu, outside the call", kind,
		    (unsigned long long)offset);
	if (digested) {
		digest_u64(c, (uint64_t)kind);
		digest_u64(c, offset);
	}

	c->events++;
	if (c->stop_after != 0 && c->events >= c->stop_after) {
		c->stopped = 1;
		return -1;
	}
	return 0;
}

static int
on_record(void *ctx, const struct record *rec)
{
	struct check	*c = ctx;

	if (rec == NULL)
		fuzz_fail(c, "on_record with NULL");
	digest_str(c, "record code", rec->code, 0);
	digest_str(c, "record message", rec->message, 0);
	digest_str(c, "record request_id", rec->request_id, 0);
	digest_str(c, "record api", rec->api, 1);
	digest_u64(c, (uint64_t)rec->status);
	digest_u64(c, (uint64_t)rec->body_status);
	if (c->trace)
		fprintf(stderr, "fuzz_parse: %s %s: record %d/%d %s %s\n",
		    c->name, c->run, rec->status, rec->body_status, rec->code,
		    rec->api != NULL ? rec->api : "-");
	return check_event(c, 'R', rec->offset, 0, rec->request_id, 1);
}

static int
on_reject(void *ctx, const struct reject *rej)
{
	struct check	*c = ctx;

	if (rej == NULL)
		fuzz_fail(c, "on_reject with NULL");
	if (strcmp(record_reason_name(rej->reason), "unknown") == 0)
		fuzz_fail(c, "reject reason %d is not in record.h",
		    (int)rej->reason);
	/* ingest.c and store.c accept a NULL detail; so do we. */
	touch_str(rej->detail);
	return check_event(c, 'J', rej->offset, 1,
	    record_reason_name(rej->reason), 0);
}

static int
on_response(void *ctx, int64_t time_ms, const char *api, int status,
    uint64_t offset)
{
	struct check	*c = ctx;

	(void)time_ms;
	digest_str(c, "response api", api, 1);
	digest_u64(c, (uint64_t)status);
	return check_event(c, 'O', offset, 0, api != NULL ? api : "-", 1);
}

/* One call of the parser on buf[base..base+len), its result checked. */
static ssize_t
call(struct check *c, fuzz_parse_fn parse, const uint8_t *buf,
    uint64_t base, size_t len, int final)
{
	struct record_sink	sink = { c, on_record, on_reject, on_response };
	ssize_t			n;

	c->base = base;
	c->len = len;
	n = parse(buf + base, len, base, final, &sink);
	if (c->stopped && n != -1)
		fuzz_fail(c, "returned %zd after the sink asked to stop", n);
	if (!c->stopped && (n < 0 || (size_t)n > len))
		fuzz_fail(c, "returned %zd for %zu bytes, final %d", n, len,
		    final);
	return n;
}

static void
check_start(struct check *c, const char *name, const char *run, size_t total)
{
	const char	*trace = getenv("FUZZ_PARSE_TRACE");

	memset(c, 0, sizeof *c);
	c->trace = trace != NULL && strcmp(trace, "1") == 0;
	c->name = name;
	c->run = run;
	c->total = total;
	c->digest = FNV_OFFSET;
}

/* Run 2: buf[0..k) with final 0, then the rest from where it stopped. */
static uint64_t
run_split(const char *name, fuzz_parse_fn parse, const uint8_t *buf,
    size_t len, size_t k)
{
	struct check	c;
	ssize_t		n;

	check_start(&c, name, "split", len);
	n = call(&c, parse, buf, 0, k, 0);
	call(&c, parse, buf, (uint64_t)n, len - (size_t)n, 1);
	return c.digest;
}

/*
 * Run 3: windows of want bytes; a call that consumes nothing doubles the
 * window, and one that consumes nothing of all there is ends the run,
 * as in ingest.c.  The last window is final.
 */
static uint64_t
run_windows(const char *name, fuzz_parse_fn parse, const uint8_t *buf,
    size_t len, size_t want)
{
	struct check	c;
	size_t		off = 0, w;
	ssize_t		n;

	check_start(&c, name, "windows", len);
	while (off < len) {
		w = want < len - off ? want : len - off;
		n = call(&c, parse, buf, off, w, off + w == len);
		off += (size_t)n;
		if (n == 0 && off + w == len)
			break;
		if (n == 0)
			want *= 2;
	}
	return c.digest;
}

static void
run_stopping(const char *name, fuzz_parse_fn parse, const uint8_t *buf,
    size_t len, unsigned stop_after)
{
	struct check	c;

	check_start(&c, name, "stopping", len);
	c.stop_after = stop_after;
	call(&c, parse, buf, 0, len, 1);
}

void
fuzz_parse_run(const char *name, fuzz_parse_fn parse, const uint8_t *buf,
    size_t len)
{
	struct check	whole;
	uint64_t	h, split, windows;
	const char	*strict;

	h = fuzz_parse_hash(buf, len);
	(void)format_detect(buf, len);

	check_start(&whole, name, "whole", len);
	call(&whole, parse, buf, 0, len, 1);

	split = run_split(name, parse, buf, len, (size_t)(h % (len + 1)));
	windows = run_windows(name, parse, buf, len, 1 + (h >> 32) % 64);
	run_stopping(name, parse, buf, len, 1 + (unsigned)(h >> 16) % 8);

	strict = getenv("FUZZ_PARSE_STRICT");
	if (strict == NULL || strcmp(strict, "1") != 0)
		return;
	if (split != whole.digest)
		fuzz_fail(&whole, "two calls split at %zu report other "
		    "records than one", (size_t)(h % (len + 1)));
	if (windows != whole.digest)
		fuzz_fail(&whole, "windows from %zu bytes report other "
		    "records than one call", (size_t)(1 + (h >> 32) % 64));
}
