/*
 * fuzz_jsonl.c - libFuzzer target for jsonl.c: JSON lines, one api.Error
 * per line, run through fuzz_parse_run().
 */
#include "fuzz_parse.h"
#include "jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	fuzz_parse_run("jsonl", jsonl_parse, buf, len);
	return 0;
}
