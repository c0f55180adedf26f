/* SPDX-License-Identifier: MIT */
/*
 * A 64-bit multiply-rotate hash, streamed.  Used to group candidate
 * duplicates (always confirmed by a byte compare, so its quality only
 * affects speed) and to derive the volume UUID from the metadata.
 * Its output depends only on the bytes fed, never on how they were split
 * into calls, so reading a file in different chunk sizes gives one value.
 */
#include "config.h"

#include <string.h>

#include "mkxipfs.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xbf58476d1ce4e5b9ull
#define K3 0x94d049bb133111ebull

static inline uint64_t rotl(uint64_t v, unsigned r)
{
	return v << r | v >> (64 - r);
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= rotl(v * K1, 31) * K2;
	return rotl(h, 27) * K3 + K1;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void hash_init(struct hasher *hs, uint64_t seed)
{
	memset(hs, 0, sizeof(*hs));
	hs->h = seed ^ K3;
}

void hash_update(struct hasher *hs, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	hs->len += len;
	while (hs->ntail && len) {
		hs->tail[hs->ntail++] = *p++;
		len--;
		if (hs->ntail == 8) {
			hs->h = mix(hs->h, load64(hs->tail));
			hs->ntail = 0;
		}
	}
	for (; len >= 8; p += 8, len -= 8)
		hs->h = mix(hs->h, load64(p));
	memcpy(hs->tail, p, len);
	hs->ntail = (unsigned)len;
}

uint64_t hash_final(const struct hasher *hs)
{
	uint64_t h = hs->h, t = 0;

	for (unsigned i = 0; i < hs->ntail; i++)
		t |= (uint64_t)hs->tail[i] << (8 * i);
	h = mix(h, t);
	h = mix(h, hs->len);
	h ^= h >> 33;
	h *= K2;
	h ^= h >> 29;
	h *= K3;
	return h ^ h >> 32;
}

uint64_t hash_buf(uint64_t seed, const void *buf, size_t len)
{
	struct hasher hs;

	hash_init(&hs, seed);
	hash_update(&hs, buf, len);
	return hash_final(&hs);
}
