/*
 * fuzz_http.c - libFuzzer target for http.c: captured HTTP/1.1 traffic,
 * run through fuzz_parse_run().
 */
#include "fuzz_parse.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	fuzz_parse_run("http", http_parse, buf, len);
	return 0;
}
