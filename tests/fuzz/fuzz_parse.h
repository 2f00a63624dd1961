/*
 * fuzz_parse.h - the driver the parser fuzz targets share: it runs one
 * parser over an input in each way the daemon calls it and checks the
 * contract of format.h and record.h on every event.
 */
#ifndef KMSWATCH_FUZZ_PARSE_H
#define KMSWATCH_FUZZ_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

/* A parser with the signature of format_parse() less the format. */
typedef ssize_t (*fuzz_parse_fn)(const uint8_t *buf, size_t len,
    uint64_t base, int final, const struct record_sink *sink);

/*
 * Runs parse over buf[0..len) whole, in two calls (final 0 then final 1),
 * in growing windows as ingest_file() reads, and with a sink that stops
 * early; also runs format_detect() on buf.  name labels the messages.
 * Returns normally when every check held; otherwise prints what failed
 * and aborts, so that libFuzzer keeps the input.
 */
void fuzz_parse_run(const char *name, fuzz_parse_fn parse,
    const uint8_t *buf, size_t len);

/* A 64-bit FNV-1a hash of buf, to derive split points from the input. */
uint64_t fuzz_parse_hash(const uint8_t *buf, size_t len);

#endif
