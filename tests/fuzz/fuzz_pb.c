/*
 * fuzz_pb.c - libFuzzer target for pb.c: a stream of varint
 * length-delimited api.Error messages (proto/kms_error.proto), run
 * through fuzz_parse_run().  The input is also decoded as one bare
 * message with pb_decode_error(), the entry point http.c, har.c and
 * jsonl.c use for bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_parse.h"
#include "pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

static void __attribute__((noreturn))
fuzz_pb_fail(const char *what)
{
	fprintf(stderr, "fuzz_pb: pb_decode_error: %s\n", what);
	abort();
}

/* pb_decode_error() on buf as one message body, its result checked. */
static void
fuzz_pb_decode(const uint8_t *buf, size_t len)
{
	struct pb_scratch	*scratch = NULL;
	struct record		 rec;
	struct reject		 rej;

	memset(&rec, 0, sizeof rec);
	memset(&rej, 0, sizeof rej);
	if (pb_decode_error(buf, len, &rec, &rej, &scratch) == 0) {
		/* Reading the strings to their ends is the check. */
		if (rec.code == NULL || rec.message == NULL ||
		    rec.request_id == NULL)
			fuzz_pb_fail("a decoded string is NULL");
		if (strlen(rec.code) == 0)
			fuzz_pb_fail("decoded without an ErrorCode");
		(void)(strlen(rec.message) + strlen(rec.request_id));
	} else {
		if (strcmp(record_reason_name(rej.reason), "unknown") == 0)
			fuzz_pb_fail("a reject without a known reason");
		if (rej.offset > len)
			fuzz_pb_fail("a reject offset past the message");
	}
	pb_scratch_free(scratch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	fuzz_parse_run("pb", pb_parse, buf, len);
	fuzz_pb_decode(buf, len);
	return 0;
}
