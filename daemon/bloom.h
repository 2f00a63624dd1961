/*
 * bloom.h - a Bloom filter over 64-bit hashes: "certainly absent" or
 * "perhaps present", in about 10 bits per key for a 1% false-positive rate.
 */
#ifndef KMSWATCH_BLOOM_H
#define KMSWATCH_BLOOM_H

#include <stddef.h>
#include <stdint.h>

struct bloom;

/* A filter sized for capacity keys; NULL when out of memory. */
struct bloom *bloom_new(size_t capacity);
void bloom_free(struct bloom *b);

void bloom_add(struct bloom *b, uint64_t h);

/* 0 when h was certainly never added, 1 when it may have been. */
int bloom_maybe(const struct bloom *b, uint64_t h);

/* Keys added, and keys the filter was sized for. */
size_t bloom_count(const struct bloom *b);
size_t bloom_capacity(const struct bloom *b);

#endif
