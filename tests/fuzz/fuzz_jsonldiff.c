/*
 * fuzz_jsonldiff.c - libFuzzer target that holds jsonl.c's two paths to
 * one answer: every input is parsed with the flat-object scanner
 * (jsonscan.c) and again with it switched off, so that every line goes
 * through Jansson, and the two runs must report the same records,
 * rejects (offset, reason and detail) and responses, in the same order.
 * The scanner may only ever decline a line, never read it differently.
 * Its seeds are the jsonl target's (tests/fuzz/run.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_parse.h"
#include "jsonl.h"
#include "jsonscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

/* A digest of every event of a run, and how many there were. */
struct trail {
	uint64_t	 digest;
	unsigned	 events;
};

static void
trail_add(struct trail *t, const void *p, size_t len)
{
	t->digest = fuzz_parse_hash(p, len) ^ (t->digest * 0x100000001b3ULL);
}

static void
trail_str(struct trail *t, const char *s)
{
	trail_add(t, s != NULL ? s : "\x01(null)", s != NULL ?
	    strlen(s) + 1 : 8);
}

static int
on_record(void *ctx, const struct record *r)
{
	struct trail	*t = ctx;
	int64_t		 nums[4] = { r->time_ms, r->status, r->body_status,
			    (int64_t)r->offset };

	trail_add(t, "R", 1);
	trail_add(t, nums, sizeof nums);
	trail_str(t, r->code);
	trail_str(t, r->message);
	trail_str(t, r->request_id);
	trail_str(t, r->api);
	t->events++;
	return 0;
}

static int
on_reject(void *ctx, const struct reject *j)
{
	struct trail	*t = ctx;
	int64_t		 nums[2] = { (int64_t)j->offset, j->reason };

	trail_add(t, "J", 1);
	trail_add(t, nums, sizeof nums);
	trail_str(t, j->detail);
	t->events++;
	return 0;
}

static int
on_response(void *ctx, int64_t time_ms, const char *api, int status,
    uint64_t offset)
{
	struct trail	*t = ctx;
	int64_t		 nums[3] = { time_ms, status, (int64_t)offset };

	trail_add(t, "O", 1);
	trail_add(t, nums, sizeof nums);
	trail_str(t, api);
	t->events++;
	return 0;
}

static struct trail
run(const uint8_t *buf, size_t len, int scanner)
{
	struct trail		 t = { 0, 0 };
	struct record_sink	 sink = { &t, on_record, on_reject,
				    on_response };
	int64_t			 used;

	jsonscan_enable(scanner);
	used = jsonl_parse(buf, len, 0, 1, &sink);
	trail_add(&t, &used, sizeof used);
	return t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct trail	fast = run(buf, len, 1);
	struct trail	slow = run(buf, len, 0);

	if (fast.digest != slow.digest || fast.events != slow.events) {
		fprintf(stderr, "fuzz_jsonldiff: the scanner and Jansson "
		    "disagree: %u events against %u\n", fast.events,
		    slow.events);
		abort();
	}
	return 0;
}
