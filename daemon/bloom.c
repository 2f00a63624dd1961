/*
 * bloom.c - a Bloom filter over 64-bit hashes.
 *
 * The k bit positions come from one 64-bit hash by double hashing
 * (Kirsch and Mitzenmacher): position i is h1 + i * h2 modulo the number
 * of bits.  Ten bits per key and seven probes give about 1% false
 * positives while the filter holds no more than its capacity.
 */
#include <stdlib.h>

#include "bloom.h"
#include "hash.h"

#define BLOOM_BITS_PER_KEY 10
#define BLOOM_PROBES 7

struct bloom {
	uint64_t *words;
	uint64_t nbits;
	size_t count, capacity;
};

struct bloom *
bloom_new(size_t capacity)
{
	struct bloom *b;

	if (capacity < 1024)
		capacity = 1024;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return NULL;
	b->capacity = capacity;
	b->nbits = (uint64_t)capacity * BLOOM_BITS_PER_KEY;
	b->words = calloc((size_t)(b->nbits / 64 + 1), sizeof *b->words);
	if (b->words == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

void
bloom_free(struct bloom *b)
{
	if (b == NULL)
		return;
	free(b->words);
	free(b);
}

void
bloom_add(struct bloom *b, uint64_t h)
{
	uint64_t h2 = hash_mix(h) | 1, pos;
	int i;

	for (i = 0; i < BLOOM_PROBES; i++) {
		pos = (h + (uint64_t)i * h2) % b->nbits;
		b->words[pos / 64] |= 1ULL << (pos % 64);
	}
	b->count++;
}

int
bloom_maybe(const struct bloom *b, uint64_t h)
{
	uint64_t h2 = hash_mix(h) | 1, pos;
	int i;

	for (i = 0; i < BLOOM_PROBES; i++) {
		pos = (h + (uint64_t)i * h2) % b->nbits;
		if ((b->words[pos / 64] & (1ULL << (pos % 64))) == 0)
			return 0;
	}
	return 1;
}

size_t
bloom_count(const struct bloom *b)
{
	return b->count;
}

size_t
bloom_capacity(const struct bloom *b)
{
	return b->capacity;
}
