/*
 * hash.h - the one 64-bit hash kmswatch uses for in-memory tables and for
 * RequestIds: FNV-1a over the bytes, then a finaliser that spreads every
 * input bit over the whole word (FNV alone mixes the high bits poorly).
 * Not cryptographic; nothing depends on it resisting chosen inputs beyond
 * falling back to a slower path on collisions.
 */
#ifndef KMSWATCH_HASH_H
#define KMSWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t
hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static inline uint64_t
hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return hash_mix(h);
}

#endif
