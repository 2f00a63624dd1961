/*
 * fuzz_sdklog.c - libFuzzer target for sdklog.c: application logs that
 * hold the SDKs' exceptions, run through fuzz_parse_run().
 */
#include "fuzz_parse.h"
#include "sdklog.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	fuzz_parse_run("sdklog", sdklog_parse, buf, len);
	return 0;
}
