/*
 * fuzz_har.c - libFuzzer target for har.c: HTTP Archive 1.2 documents,
 * run through fuzz_parse_run().  Resumed calls start where the previous
 * one stopped, which is where har.h says a call may start.
 */
#include "fuzz_parse.h"
#include "har.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	fuzz_parse_run("har", har_parse, buf, len);
	return 0;
}
